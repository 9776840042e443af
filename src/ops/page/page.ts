// The status page: HTML rendered here, a little plain JavaScript that refreshes it over the event stream.
// No build step, no framework, nothing loaded from elsewhere; every job name and output line is escaped.
import { randomBytes } from "node:crypto";
import type { JobJson, PageData, RunJson } from "../api.js";
import { CLIENT_SCRIPT } from "./client.js";
import { escapeHtml as h } from "./escape.js";
import { STYLE } from "./style.js";
import { wallTimeIn } from "./time.js";
import { renderTimeline } from "./timeline.js";

/** The whole page, with the nonce its inline style and script carry (for the Content-Security-Policy). */
export function renderPage(data: PageData): { html: string; nonce: string } {
  const nonce = randomBytes(16).toString("base64");
  const { info } = data;
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tdefer · ${h(baseName(info.file))}</title>
<link rel="icon" href="data:,">
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<header>
  <h1>tdefer <span class="file">${h(info.file)}</span></h1>
  <p class="meta">zone ${h(info.zone)} · up since ${h(wallTimeIn(info.startedMs, info.zone))} · version ${h(info.version)} · ledger ${h(info.ledger)} · <span id="live" class="live">connecting…</span></p>
  <p id="notice" class="notice" role="status" aria-live="polite"></p>
</header>
<main id="content">${renderPageContent(data)}</main>
<section class="log">
  <h2>Live log <select id="log-job" aria-label="job"><option value="">all jobs</option>${data.jobs
    .map((job) => `<option value="${h(job.name)}">${h(job.name)}</option>`)
    .join("")}</select></h2>
  <pre id="log" aria-live="off"></pre>
</section>
<script nonce="${nonce}">${CLIENT_SCRIPT}</script>
</body>
</html>
`;
  return { html, nonce };
}

/** The parts that change: the jobs table, the timeline, the recent runs (fetched again on events). */
export function renderPageContent(data: PageData): string {
  const failures = data.runs.filter((run) => run.result !== "succeeded");
  return `<section>
<h2>Jobs <span class="count">${data.jobs.length}</span></h2>
<div class="scroll"><table class="jobs">
<thead><tr><th>job</th><th>trigger</th><th>next fire</th><th>last result</th><th class="wide">24 h</th><th>now</th><th></th></tr></thead>
<tbody>${data.jobs.map((job) => jobRow(job, data.nowMs)).join("")}</tbody>
</table></div>
</section>
<section>
<h2>Next 24 hours</h2>
<div class="scroll">${renderTimeline(data.views, data.info.zone, data.nowMs)}</div>
</section>
${failures.length > 0 ? `<section><h2 class="bad">Recent failures</h2>${runsTable(failures.slice(0, 10))}</section>` : ""}
<section>
<h2>Recent runs</h2>
${data.runs.length > 0 ? runsTable(data.runs) : `<p class="empty">no run has ended yet</p>`}
</section>`;
}

function jobRow(job: JobJson, nowMs: number): string {
  const name = h(job.name);
  const next = job.paused
    ? `<span class="badge paused">paused</span>`
    : job.next_fire === null
      ? `<span class="dim">none</span>`
      : `<time datetime="${job.next_fire}">${h(wallTimeIn(Date.parse(job.next_fire), job.zone))}</time> <span class="dim">${h(relative(Date.parse(job.next_fire) - nowMs))}</span>`;
  const last = job.last_result;
  const lastCell = last
    ? `${resultBadge(last)} <span class="dim">${h(durationText(last.duration_ms ?? 0))}</span>`
    : `<span class="dim">not run yet</span>`;
  const running =
    job.running.length > 0 ? `<span class="badge running">running ${job.running.length}</span>` : "";
  const actions = [
    `<button type="button" data-action="run" data-job="${name}">run now</button>`,
    job.paused
      ? `<button type="button" data-action="resume" data-job="${name}">resume</button>`
      : `<button type="button" data-action="pause" data-job="${name}">pause</button>`,
  ].join(" ");
  return `<tr data-job="${name}"${job.enabled ? "" : ' class="disabled"'}>
<td class="name"><span class="job-name">${name}</span>${job.description ? `<div class="dim">${h(job.description)}</div>` : ""}${job.enabled ? "" : ' <span class="badge">disabled</span>'}</td>
<td><code>${h(job.trigger)}</code></td>
<td>${next}</td>
<td class="last">${lastCell}</td>
<td class="wide"><span class="ok">${job.last_24h.succeeded}✓</span> <span class="${job.last_24h.failed > 0 ? "bad" : "dim"}">${job.last_24h.failed}✗</span></td>
<td>${running}</td>
<td class="actions">${actions}</td>
</tr>`;
}

function runsTable(runs: readonly RunJson[]): string {
  // Runs read from the ledger name the tdefer that ran them (host:pid): with replicas, which one.
  const withOwner = runs.some((run) => run.owner !== undefined);
  return `<div class="scroll"><table class="runs">
<thead><tr><th>finished</th><th>job</th><th>run</th>${withOwner ? `<th class="wide">owner</th>` : ""}<th>result</th><th>duration</th><th class="wide">late</th><th class="wide">trigger</th></tr></thead>
<tbody>${runs
    .map(
      (run) => `<tr class="${run.result === "succeeded" ? "" : "failed"}">
<td>${run.finished_at ? `<time datetime="${run.finished_at}">${h(run.finished_at.replace("T", " ").slice(0, 19))}Z</time>` : ""}</td>
<td>${h(run.job)}</td><td><code>${h(run.run)}</code></td>${withOwner ? `<td class="wide"><code>${h(run.owner ?? "")}</code></td>` : ""}
<td>${resultBadge(run)}</td>
<td>${run.duration_ms === null ? "" : h(durationText(run.duration_ms))}</td>
<td class="wide">${run.late_ms === null ? "" : h(durationText(run.late_ms))}</td>
<td class="wide">${h(run.trigger)}</td>
</tr>`,
    )
    .join("")}</tbody></table></div>`;
}

function resultBadge(run: Pick<RunJson, "result" | "exit_code" | "signal">): string {
  const detail =
    run.signal !== null
      ? ` ${run.signal}`
      : run.exit_code !== null && run.result !== "succeeded"
        ? ` exit ${run.exit_code}`
        : "";
  const kind = run.result === "succeeded" ? "ok" : "bad";
  return `<span class="badge ${kind}">${h(run.result.replace("_", " "))}${h(detail)}</span>`;
}

/** "in 3h", "in 12m", "in 40s", "now". */
function relative(deltaMs: number): string {
  if (deltaMs < 1000) return "now";
  const s = Math.round(deltaMs / 1000);
  if (s < 60) return `in ${s}s`;
  const m = Math.round(s / 60);
  if (m < 60) return `in ${m}m`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `in ${hours}h${m % 60 ? `${String(m % 60).padStart(2, "0")}m` : ""}`;
  return `in ${Math.round(hours / 24)} days`;
}

function durationText(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, "0")}m`;
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}
