import type { LogEvent } from "./events.js";
import {
  formatLines,
  type LineLayout,
  type LinesLayout,
  type LogFormatter,
  linesLayoutCache,
  pieceText,
  writableAsIs,
} from "./output-lines.js";
import { rfc3339 } from "./time.js";

/** Event fields that are instants: rendered as RFC 3339 under the name without "Ms" (scheduledMs → scheduled). */
const INSTANT_KEYS = new Set(["scheduledMs", "nextMs"]);
/** Fields that every line has up front, in this order. */
const LEADING_KEYS = new Set(["timeMs", "level", "event", "job", "run"]);

/**
 * One event as one line of JSON (no newline), the stable machine format. Keys, in order: `time` (RFC 3339,
 * UTC, ms), `level`, `event`, `job` and `run` where they apply, then the event's own fields in snake_case:
 * durations keep their unit (`late_ms`, `duration_ms`, `delay_ms`, `timeout_ms`, `grace_ms`, `delta_ms`),
 * instants become RFC 3339 (`scheduled`, `next`, null when unknown). So `output` has `stream`, `line` (and
 * `continues: true` on each piece of a split line but the last); `started` has `pid`, `scheduled`, `late_ms`,
 * `attempt`; `finished` has `exit_code`, `signal`, `duration_ms`, `attempt` and `error` when it could not
 * start; `skipped` has `reason`. Absent optional fields are left out.
 */
export const formatJson: LogFormatter = Object.assign(formatJsonText, {
  linesLayout: (event: Extract<LogEvent, { event: "output_lines" }>): LinesLayout | undefined =>
    writableAsIs(event.bytes, true) ? jsonLinesLayout(outputHead(event)) : undefined,
});
const jsonLinesLayout = linesLayoutCache('"', '"}', '","continues":true}');

function formatJsonText(event: LogEvent): string {
  // The hot path: one line of job output, built without an intermediate object.
  if (event.event === "output") {
    const line = event.line;
    const text = outputHead(event) + (NEEDS_ESCAPE.test(line) ? JSON.stringify(line) : `"${line}"`);
    return event.continues ? `${text},"continues":true}` : `${text}}`;
  }
  // Several lines: written as the `output` events they stand for, one JSON line each.
  if (event.event === "output_lines") {
    if (event.continues) return formatJsonText({ ...event, event: "output", line: pieceText(event.bytes) });
    return formatLines(event.bytes, jsonLayout(outputHead(event)));
  }
  let text = `{"time":"${rfc3339(event.timeMs)}","level":"${event.level}","event":"${event.event}"`;
  if ("job" in event && event.job !== undefined) text += `,"job":${jsonString(event.job)}`;
  if ("run" in event && event.run !== undefined) text += `,"run":${jsonString(event.run)}`;
  for (const [key, value] of Object.entries(event)) {
    if (LEADING_KEYS.has(key)) continue;
    if (INSTANT_KEYS.has(key)) {
      const name = key.slice(0, -2);
      text += `,"${name}":${value === undefined ? "null" : `"${rfc3339(value as number)}"`}`;
    } else if (value !== undefined) {
      text += `,"${snakeCase(key)}":${JSON.stringify(value)}`;
    }
  }
  return `${text}}`;
}

function jsonLayout(head: string): LineLayout {
  return {
    prefix: `${head}"`,
    suffix: '"}',
    escapeAll: escapeJsonText,
    escapeLine: (line) => JSON.stringify(line).slice(1, -1),
  };
}

/**
 * Lines joined by "\n" escaped as JSON.stringify escapes each (without its quotes), when no line holds a control
 * character other than tab: then only quote, backslash and tab need it.
 */
function escapeJsonText(text: string, controlFree: boolean): string | undefined {
  if (!controlFree && CONTROL_BUT_TAB_AND_NEWLINE.test(text)) return undefined;
  // includes() of one character is a memchr; a regular expression test would scan several times slower.
  let escaped =
    text.includes('"') || text.includes("\\") ? text.replace(QUOTES_AND_BACKSLASHES, "\\$&") : text;
  if (escaped.includes("\t")) escaped = escaped.replaceAll("\t", "\\t");
  return escaped;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_BUT_TAB_AND_NEWLINE = /[\u0000-\u0008\u000b-\u001f]/;
const QUOTES_AND_BACKSLASHES = /["\\]/g;

/** The last output event's keys up to `"line":`, reused while time (to the ms), level, job, run and stream stay. */
const head = { timeMs: Number.NaN, level: "", job: "", run: "", stream: "", text: "" };

function outputHead(event: Extract<LogEvent, { event: "output" | "output_lines" }>): string {
  const { timeMs, level, job, run, stream } = event;
  if (
    timeMs !== head.timeMs ||
    level !== head.level ||
    job !== head.job ||
    run !== head.run ||
    stream !== head.stream
  ) {
    head.timeMs = timeMs;
    head.level = level;
    head.job = job;
    head.run = run;
    head.stream = stream;
    head.text = `{"time":"${rfc3339(timeMs)}","level":"${level}","event":"output","job":${jsonString(job)},"run":${jsonString(run)},"stream":"${stream}","line":`;
  }
  return head.text;
}

/**
 * A character that JSON.stringify might escape: anything but printable ASCII other than quote and backslash,
 * and the non-ASCII characters outside the surrogates. Written as what may pass, which V8 scans faster than
 * the list of what must not; a false alarm (DEL…) only costs a JSON.stringify that changes nothing.
 */
const NEEDS_ESCAPE = /[^ !#-[\]-\u007f\u0080-\ud7ff\ue000-\uffff]/;

/** JSON.stringify(text), without its cost (about 8 ns a character on Node 20) for the usual text that needs no escape. */
function jsonString(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/** exitCode → exit_code, lateMs → late_ms. */
function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}
