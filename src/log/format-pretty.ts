import { createRequire } from "node:module";
import type * as ChalkPackage from "chalk";
import type { ColorLevel } from "./color-policy.js";
import type { Level, LogEvent } from "./events.js";
import { formatLines, type LogFormatter, linesLayoutCache, pieceText, writableAsIs } from "./output-lines.js";
import { humanDuration, rfc3339 } from "./time.js";

/** How the human formats look. */
export interface PrettyOptions {
  /** Colour depth (see colorLevel()); 0 is the plain format. */
  readonly colorLevel: ColorLevel;
  /**
   * For systemd's journal: no timestamps of our own (the journal adds them) and an sd-daemon priority prefix
   * on every line: `<3>` for failures, errors and stderr lines, `<4>` for warnings, `<6>` otherwise (`<7>` debug),
   * so `journalctl -p err` shows what went wrong.
   */
  readonly journal?: boolean;
  /** A line's time (default: RFC 3339 in UTC); the CLI passes the system zone's. */
  readonly lineTime?: (timeMs: number) => string;
  /** An instant in a job's zone, with the offset, for cron and at jobs' times (default: as lineTime). */
  readonly timeInZone?: (timeMs: number, zone: string) => string;
}

/** The colours the human formats use. */
type Palette = Record<"red" | "yellow" | "gray" | "cyan", (text: string) => string>;

const unchanged = (text: string): string => text;

/** What chalk at level 0 does to a string: nothing, so the plain format never loads chalk. */
const NO_COLOUR: Palette = { red: unchanged, yellow: unchanged, gray: unchanged, cyan: unchanged };

/** chalk at `level`, loaded on first use: a log without colour (json, plain, a pipe) never pays for it. */
function chalkPalette(level: ColorLevel): Palette {
  const { Chalk } = createRequire(import.meta.url)("chalk") as typeof ChalkPackage;
  return new Chalk({ level });
}

const PRIORITY: Record<Level, string> = { error: "<3>", warn: "<4>", info: "<6>", debug: "<7>" };

/**
 * The pretty and plain formats: one line per event, no newline. Job output reads
 * `2026-11-27T04:20:00.123Z backup[r3f2] | text` ("|" for stdout, "!" for stderr); lifecycle events are
 * sentences such as `backup[r3f2] started (pid 123, 2 ms late)` or `backup[r3f2] finished: exit 0 in 1.2s`.
 */
export function createPrettyFormatter(options: PrettyOptions): LogFormatter {
  const colored = options.colorLevel > 0;
  const chalk = colored ? chalkPalette(options.colorLevel) : NO_COLOUR;
  const journal = options.journal ?? false;
  const paint: Record<Level, (text: string) => string> = {
    error: chalk.red,
    warn: chalk.yellow,
    info: (text) => text,
    debug: chalk.gray,
  };

  const lineTime = options.lineTime ?? rfc3339;
  const timeInZone = options.timeInZone ?? ((timeMs: number) => lineTime(timeMs));
  const head = (event: LogEvent): string =>
    journal ? priorityOf(event) : `${colored ? chalk.gray(lineTime(event.timeMs)) : lineTime(event.timeMs)} `;
  const outputHeads = new OutputHeadCache(chalk, head);

  const layouts = linesLayoutCache("", "", "");
  const format = (event: LogEvent): string => {
    if (event.event === "output") return outputHeads.get(event) + escapeControls(event.line);
    if (event.event === "output_lines") {
      if (event.continues) return format({ ...event, event: "output", line: pieceText(event.bytes) });
      return formatLines(event.bytes, {
        prefix: outputHeads.get(event),
        suffix: "",
        escapeAll,
        escapeLine: escapeControls,
      });
    }
    const who =
      "run" in event && event.run !== undefined
        ? `${chalk.cyan(escapeControls(event.job))}[${escapeControls(event.run)}] `
        : "job" in event && event.job
          ? `${chalk.cyan(escapeControls(event.job))} `
          : "";
    return head(event) + who + paint[event.level](escapeControls(describe(event, lineTime, timeInZone)));
  };
  return Object.assign(format, {
    linesLayout: (event: Extract<LogEvent, { event: "output_lines" }>) =>
      writableAsIs(event.bytes, false) ? layouts(outputHeads.get(event)) : undefined,
  });
}

/**
 * The control characters a terminal or the journal would act on: C0 but tab, DEL, and C1 (U+0080–U+009F, which
 * some terminals read as ESC sequences). A NUL ends a journal record (the rest would be a forged line of its own,
 * priority prefix included); ESC starts colours and cursor moves; a lone CR overwrites what is on screen.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROLS = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;

/**
 * Text from outside (job output, names, messages) made safe for a terminal and the journal: each control character
 * becomes `\xNN` (C0, DEL), as invalid UTF-8 bytes already are, or `\u00NN` (C1). Colours come only from tdefer.
 */
export function escapeControls(text: string): string {
  return CONTROL.test(text) ? text.replace(CONTROLS, escapeControl) : text;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_BUT_NEWLINE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

/** Lines joined by "\n" escaped as escapeControls would escape each, when none holds a control character. */
function escapeAll(text: string, controlFree: boolean): string | undefined {
  // Known free of C0 and DEL, an ASCII text has no C1 either.
  return controlFree || !CONTROL_BUT_NEWLINE.test(text) ? text : undefined;
}

function escapeControl(char: string): string {
  const code = char.charCodeAt(0);
  return code < 0x80
    ? `\\x${code.toString(16).padStart(2, "0")}`
    : `\\u${code.toString(16).padStart(4, "0")}`;
}

function priorityOf(event: LogEvent): string {
  const output = event.event === "output" || event.event === "output_lines";
  return output && event.stream === "stderr" ? PRIORITY.error : PRIORITY[event.level];
}

/**
 * Everything of an output line before its text ("<time> job[run] | "), rebuilt only when the time (to the
 * ms), job, run or stream changes: the lines of one chunk share all four, so most lines cost one concatenation.
 */
class OutputHeadCache {
  private timeMs = Number.NaN;
  private job = "";
  private run = "";
  private stream = "";
  private text = "";

  constructor(
    private readonly chalk: Palette,
    private readonly head: (event: LogEvent) => string,
  ) {}

  get(event: Extract<LogEvent, { event: "output" | "output_lines" }>): string {
    const { timeMs, job, run, stream } = event;
    // Field by field: building a key string per line would cost more than the whole format.
    if (timeMs !== this.timeMs || job !== this.job || run !== this.run || stream !== this.stream) {
      this.timeMs = timeMs;
      this.job = job;
      this.run = run;
      this.stream = stream;
      const mark = stream === "stderr" ? this.chalk.red("!") : this.chalk.gray("|");
      this.text = `${this.head(event)}${this.chalk.cyan(escapeControls(job))}[${escapeControls(run)}] ${mark} `;
    }
    return this.text;
  }
}

/** The sentence for a lifecycle event, without who it is about. */
function describe(
  event: Exclude<LogEvent, { event: "output" | "output_lines" }>,
  lineTime: (timeMs: number) => string,
  timeInZone: (timeMs: number, zone: string) => string,
): string {
  switch (event.event) {
    case "loaded":
      return `loaded ${event.file} (${event.jobs} ${event.jobs === 1 ? "job" : "jobs"})${event.state !== undefined ? `, ledger ${event.state}` : ""}`;
    case "scheduled":
      if (event.nextMs === undefined) return `scheduled: ${event.trigger}, no fire ahead`;
      return `scheduled: ${event.trigger}, next ${event.zone ? timeInZone(event.nextMs, event.zone) : lineTime(event.nextMs)}`;
    case "started":
      return `started (pid ${event.pid}, ${humanDuration(event.lateMs)} late${event.attempt > 1 ? `, attempt ${event.attempt}` : ""})`;
    case "finished":
      if (event.error !== undefined)
        return `could not start: ${event.error}${attemptSuffix(event.attempt)}${gaveUp(event)}`;
      return `finished: ${event.signal ? `killed by ${event.signal}` : `exit ${event.exitCode}`} in ${humanDuration(event.durationMs)}${attemptSuffix(event.attempt)}${gaveUp(event)}`;
    case "skipped":
      return `skipped: ${event.reason}`;
    case "missed":
      return `missed ${event.count} ${event.count === 1 ? "fire" : "fires"}`;
    case "queued":
      return `queued: ${event.reason}`;
    case "timed_out":
      return `timed out after ${humanDuration(event.timeoutMs)}; sending ${event.signal}`;
    case "killed":
      return `sent ${event.signal}: ${event.reason}`;
    case "retrying":
      return `retrying in ${humanDuration(event.delayMs)} (attempt ${event.attempt})`;
    case "retry_cancelled":
      return `retry cancelled (attempt ${event.attempt} will not start): ${event.reason}`;
    case "clock_jump":
      return `the wall clock jumped ${event.direction} by ${humanDuration(Math.abs(event.deltaMs))}`;
    case "reload_applied":
      return `reload applied: ${listChanges(event.added, event.removed, event.changed)}`;
    case "reload_refused":
      return `reload refused, keeping the running schedule: ${event.errors.join("; ")}`;
    case "stopping":
      return `stopping on ${event.signal}: ${event.running} running, grace ${humanDuration(event.graceMs)}`;
    case "stopped":
      if (event.reason !== undefined) return `stopped: ${event.reason}`;
      return event.killed === 0 ? "stopped" : `stopped (${event.killed} killed)`;
    case "http_listening":
      return `serving the status page, the API and /metrics at ${event.url}`;
    case "paused":
      return "paused: no fires until resumed";
    case "resumed":
      return "resumed";
    case "lease_lost":
      return `lease lost (fence ${event.fence}): ${event.reason}; ending the run`;
    case "run_lost":
      return `the run of ${lineTime(event.scheduledMs)} was going when tdefer (${event.owner}) stopped; recorded as lost (fence ${event.fence})`;
    case "claimed":
      return `claimed in the ledger (fence ${event.fence}, ${event.trigger})`;
    case "ledger_down":
      return `the ledger (${event.location}) does not answer: ${event.error}; fires are skipped until it does`;
    case "ledger_up":
      return `the ledger (${event.location}) answers again`;
    case "clock_skew":
      return `this machine's clock is ${humanDuration(Math.abs(event.skewMs))} ${event.skewMs > 0 ? "ahead of" : "behind"} the ledger database's: fix its time sync (leases use the database's clock, and no fire is claimed early)`;
    case "warning":
      return `warning: ${event.message}`;
    case "error":
      return `error: ${event.message}`;
  }
}

/** After the last of several failed attempts. */
function gaveUp(event: { attempt: number; final?: boolean }): string {
  return event.final === true && event.attempt > 1 ? `; giving up after ${event.attempt} attempts` : "";
}

function attemptSuffix(attempt: number): string {
  return attempt > 1 ? ` (attempt ${attempt})` : "";
}

function listChanges(
  added: readonly string[],
  removed: readonly string[],
  changed: readonly string[],
): string {
  const parts = [
    added.length > 0 ? `added ${added.join(", ")}` : "",
    removed.length > 0 ? `removed ${removed.join(", ")}` : "",
    changed.length > 0 ? `changed ${changed.join(", ")}` : "",
  ].filter((part) => part !== "");
  return parts.length > 0 ? parts.join("; ") : "no changes";
}
