// A crontab's data written out as a schedule file: the same data `--crontab` uses in memory, so the file
// `tdefer import crontab` prints means what the crontab means.
import type { CrontabReading } from "./crontab.js";

/** The order a person reads a job's keys in: what it is, when, as whom and where, what it runs. */
const JOB_KEY_ORDER = [
  "description",
  "cron",
  "every",
  "after",
  "timezone",
  "jitter",
  "user",
  "cwd",
  "env",
  "run",
  "stdin",
];

/** The schedule file for a crontab that was read without problems; `source` names it in the comments. */
export function crontabAsYaml(reading: CrontabReading, source: string, system: boolean): string {
  const value = reading.data?.value as Record<string, unknown>;
  const lines = [
    `# Converted by \`tdefer import crontab\` from ${comment(source)}${system ? " (system format: a user per entry)" : ""}.`,
    "# Each job keeps its crontab line above it; the settings of the crontab are in env.",
  ];
  if (value.timezone !== undefined) lines.push(`timezone: ${quote(String(value.timezone))}`);
  lines.push(`shell: ${quote(String(value.shell))}`);
  lines.push(...mapLines("env", value.env as Record<string, string>, ""));
  lines.push(
    "# cron starts a run even while the previous one still runs; tdefer's own default is overlap: skip.",
    "defaults:",
    `  overlap: ${quote(String((value.defaults as { overlap: string }).overlap))}`,
  );
  lines.push("jobs:");
  const jobs = value.jobs as Record<string, Record<string, unknown>>;
  for (const entry of reading.entries) {
    const job = jobs[entry.name]!;
    lines.push(`  # ${comment(`${source}:${entry.line}: ${entry.text}`)}`);
    lines.push(`  ${key(entry.name)}:`);
    const keys = Object.keys(job).sort((a, b) => JOB_KEY_ORDER.indexOf(a) - JOB_KEY_ORDER.indexOf(b));
    for (const name of keys) {
      const item = job[name];
      if (name === "env") lines.push(...mapLines("env", item as Record<string, string>, "    "));
      else if (Array.isArray(item))
        lines.push(`    ${name}: [${item.map((part) => quote(String(part))).join(", ")}]`);
      else lines.push(`    ${name}: ${quote(String(item))}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

function mapLines(name: string, map: Record<string, string>, indent: string): string[] {
  const entries = Object.entries(map);
  if (entries.length === 0) return [`${indent}${name}: {}`];
  return [`${indent}${name}:`, ...entries.map(([k, v]) => `${indent}  ${key(k)}: ${quote(v)}`)];
}

/** A key (job or variable name) written plain when YAML cannot read it as anything but that text. */
function key(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(name) && !/^(true|false|null|yes|no|on|off|y|n)$/i.test(name)
    ? name
    : quote(name);
}

/** A YAML double-quoted scalar: `\` and `"` escaped, and every character YAML may not hold raw as \u. */
export function quote(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === "\\") out += "\\\\";
    else if (ch === '"') out += '\\"';
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (!isPrintable(code)) out += code > 0xffff ? `\\U${hex(code, 8)}` : `\\u${hex(code, 4)}`;
    else out += ch;
  }
  return `${out}"`;
}

/** A comment's text: one line of printable characters (others shown as \xNN or \uNNNN). */
function comment(text: string): string {
  let out = "";
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    out += isPrintable(code) || ch === "\t" ? ch : code < 0x100 ? `\\x${hex(code, 2)}` : `\\u${hex(code, 4)}`;
  }
  return out;
}

/** YAML 1.2's printable set, without the byte-order mark. */
function isPrintable(code: number): boolean {
  return (
    (code >= 0x20 && code <= 0x7e) ||
    code === 0x85 ||
    (code >= 0xa0 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd && code !== 0xfeff) ||
    (code >= 0x10000 && code <= 0x10ffff)
  );
}

function hex(code: number, width: number): string {
  return code.toString(16).toUpperCase().padStart(width, "0");
}
