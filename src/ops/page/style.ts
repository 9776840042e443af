// The page's stylesheet, inline (no outside assets). Light and dark follow the system; narrow screens drop
// the less useful columns and scroll tables sideways rather than squeeze them.
export const STYLE = `
:root { color-scheme: light dark; --fg: #1d2125; --dim: #6a737d; --bg: #fff; --line: #e1e4e8; --ok: #1a7f37;
  --bad: #cf222e; --warn: #9a6700; --accent: #0969da; --band: #d0d7de; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --dim: #8b949e; --bg: #0d1117; --line: #30363d;
  --ok: #3fb950; --bad: #f85149; --warn: #d29922; --accent: #58a6ff; --band: #30363d; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1200px; padding: 12px; font: 14px/1.4 system-ui, sans-serif; color: var(--fg);
  background: var(--bg); }
h1 { font-size: 20px; margin: 0 0 4px; overflow-wrap: anywhere; }
h1 .file { font-weight: normal; font-size: 14px; color: var(--dim); }
h2 { font-size: 16px; margin: 18px 0 6px; }
.meta, .dim, .empty { color: var(--dim); }
.meta { margin: 0; }
.notice { min-height: 1.4em; margin: 4px 0; color: var(--accent); }
.live.on { color: var(--ok); } .live.off { color: var(--bad); }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--dim); font-size: 12px; text-transform: uppercase; }
td.name { font-weight: 600; overflow-wrap: anywhere; }
tr.disabled td { opacity: .6; }
tr.failed td { background: color-mix(in srgb, var(--bad) 8%, transparent); }
code { font-size: 12px; }
.badge { display: inline-block; padding: 0 6px; border-radius: 9px; font-size: 12px; border: 1px solid var(--line); white-space: nowrap; }
.badge.ok { color: var(--ok); border-color: var(--ok); }
.badge.bad, .bad { color: var(--bad); border-color: var(--bad); }
.badge.running { color: var(--accent); border-color: var(--accent); }
.badge.paused { color: var(--warn); border-color: var(--warn); }
.ok { color: var(--ok); }
.count { color: var(--dim); font-weight: normal; }
button { font: inherit; font-size: 12px; padding: 3px 8px; border: 1px solid var(--line); border-radius: 6px;
  background: transparent; color: var(--fg); cursor: pointer; margin: 1px 0; }
button:hover { border-color: var(--accent); }
td.actions { white-space: nowrap; }
svg.timeline { width: 100%; min-width: 560px; height: auto; display: block; }
svg .tick { stroke: var(--line); stroke-width: 1; } svg .tick.major { stroke: var(--band); }
svg .track { stroke: var(--line); stroke-width: 1; }
svg .fire { fill: var(--accent); } svg .fire.moved { fill: var(--warn); }
svg .band { fill: var(--band); }
svg text { fill: var(--fg); font-size: 12px; } svg .hour { fill: var(--dim); font-size: 11px; }
svg .paused { fill: var(--warn); }
.log pre { max-height: 320px; overflow: auto; padding: 8px; background: color-mix(in srgb, var(--fg) 5%, transparent);
  border-radius: 6px; font-size: 12px; white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; }
select { font: inherit; font-size: 13px; }
@media (max-width: 700px) {
  .wide { display: none; }
  th, td { padding: 4px 5px; }
  body { padding: 8px; }
}
`;
