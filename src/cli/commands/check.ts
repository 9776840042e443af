import { ScheduleErrors, ScheduleFileError, type ScheduleProblem } from "../../errors.js";
import { CronDescriber } from "../../schedule/cron-words.js";
import { formatDuration } from "../../schedule/duration.js";
import type { JobSpec, Schedule } from "../../schedule/types.js";
import { formatInZone } from "../../schedule/zone.js";
import { describeTrigger } from "../../scheduler/describe-trigger.js";
import { firstFires } from "../../scheduler/preview.js";
import type { CheckOptions } from "../command-line.js";
import { type CliIO, columns, displayTime, endQuietlyOnClosedPipe, relativeTime } from "../io.js";
import { scheduleSource } from "../schedule-source.js";
import { describeState, type StateSelection, scheduleName, selectState } from "../state.js";
import { checkRunnable } from "../trust.js";

/** `tdefer check`: validates the file and summarises each job; exit 78 when it is invalid. */
export async function checkCommand(
  file: string | undefined,
  options: CheckOptions,
  io: CliIO,
): Promise<number> {
  endQuietlyOnClosedPipe(io.stdout);
  let path: string | undefined;
  try {
    const nowMs = io.nowMs();
    const { schedulePath, loadSchedule } = await scheduleSource(options);
    path = schedulePath(file, options, io.cwd);
    // The same file trust and pre-flight as `run`: what `run` refuses is an error here too.
    let positionOf: ((path: (string | number)[]) => { line: number; col: number }) | undefined;
    const loaded = loadSchedule(path, options, {
      nowMs,
      trusted: true,
      withPositions: (found) => {
        positionOf = (at) => found(at);
      },
    });
    const preflightWarnings = checkRunnable(loaded, { env: io.env, ...(positionOf ? { positionOf } : {}) });
    const schedule = { ...loaded, warnings: [...loaded.warnings, ...preflightWarnings] };
    const state = selectState(schedule, {
      ...(options.state !== undefined ? { flag: options.state } : {}),
      env: io.env,
      cwd: io.cwd,
    });
    const summary = { ...summarise(schedule, nowMs, state), ...(await ledgerAnswer(state)) };
    io.stdout.write(options.json ? `${JSON.stringify(summary, null, 2)}\n` : render(summary, nowMs));
    return 0;
  } catch (error) {
    const problems = options.json ? problemsOf(error, path) : undefined;
    if (problems) {
      const invalid = { valid: false, file: path ?? null, problems, warnings: [] };
      io.stdout.write(`${JSON.stringify(invalid, null, 2)}\n`);
    }
    throw error;
  }
}

/** A problem or warning as data: where (line and column null when the whole file is meant), what, how to fix. */
interface ProblemJson {
  file: string | null;
  line: number | null;
  column: number | null;
  path: string;
  message: string;
  hint: string | null;
}

const problemJson = (problem: ScheduleProblem): ProblemJson => ({
  file: problem.file,
  line: problem.line,
  column: problem.col,
  path: problem.path,
  message: problem.message,
  hint: problem.hint ?? null,
});

/** The problems of an invalid or unreadable file, as data; undefined for anything else (a bug). */
function problemsOf(error: unknown, path: string | undefined): ProblemJson[] | undefined {
  if (error instanceof ScheduleErrors) return error.problems.map(problemJson);
  if (!(error instanceof ScheduleFileError)) return undefined;
  if (error.problem) return [problemJson(error.problem)];
  const [text = "", hint] = error.message.split("\n  hint: ");
  const message = path && text.startsWith(`${path}: `) ? text.slice(path.length + 2) : text;
  return [{ file: path ?? null, line: null, column: null, path: "", message, hint: hint ?? null }];
}

interface JobSummary {
  name: string;
  trigger: string;
  /** A cron expression in words, in the job's zone, with the DST note where the policy moves fires. */
  cron_in_words?: string;
  next: string | null;
  next_ms: number | null;
  enabled: boolean;
  description?: string;
  command: string | string[];
  options: JobOptions;
}

/** The options that differ from the defaults, as data: durations in ms, env as the variables' names. */
interface JobOptions {
  timeout_ms?: number;
  overlap?: string;
  jitter_ms?: number;
  retry?: { attempts: number; delay_ms: number; backoff: number; max_delay_ms: number };
  kill_signal?: string;
  kill_grace_ms?: number;
  user?: string;
  group?: string;
  env?: string[];
  catch_up?: { within_ms: number; runs: "latest" | "all" };
  on_lost?: "rerun";
}

function summarise(schedule: Schedule, nowMs: number, state: StateSelection) {
  const describer = new CronDescriber(nowMs);
  const firsts = firstFires(schedule, nowMs);
  const jobs = schedule.jobs.map((job): JobSummary => {
    const next = firsts.get(job.name);
    return {
      name: job.name,
      trigger: describeTrigger(job),
      ...(job.trigger.kind === "cron"
        ? {
            cron_in_words: describer.describe(job.trigger.recurrence),
          }
        : {}),
      next: next ? formatInZone(next.timeMs, next.zone) : null,
      next_ms: next ? next.timeMs : null,
      enabled: job.enabled,
      ...(job.description ? { description: job.description } : {}),
      command: job.command.kind === "shell" ? job.command.script : [...job.command.argv],
      options: optionsOf(job),
    };
  });
  return {
    file: schedule.file,
    valid: true,
    name: scheduleName(schedule),
    ledger: describeState(state),
    zone: schedule.zone,
    ...(schedule.maxParallel ? { max_parallel: schedule.maxParallel } : {}),
    jobs,
    warnings: schedule.warnings.map((w) => problemJson(w)),
  };
}

function optionsOf(job: JobSpec): JobOptions {
  const options: JobOptions = {};
  if (job.timeoutMs !== undefined) options.timeout_ms = job.timeoutMs;
  if (job.overlap !== "skip") options.overlap = job.overlap;
  if (job.jitterMs > 0) options.jitter_ms = job.jitterMs;
  if (job.retry) {
    const { attempts, delayMs, backoff, maxDelayMs } = job.retry;
    options.retry = { attempts, delay_ms: delayMs, backoff, max_delay_ms: maxDelayMs };
  }
  if (job.killSignal !== "SIGTERM") options.kill_signal = job.killSignal;
  if (job.killGraceMs !== 10_000) options.kill_grace_ms = job.killGraceMs;
  if (job.user) options.user = job.user;
  if (job.group) options.group = job.group;
  const names = Object.keys(job.env);
  if (names.length > 0) options.env = names;
  if (job.catchUp) options.catch_up = { within_ms: job.catchUp.withinMs, runs: job.catchUp.runs };
  if (job.onLost === "rerun") options.on_lost = "rerun";
  return options;
}

/** The options as the user would write them: `timeout 1m`, `retry 3 attempts, 30s ×2 up to 10m`. */
function optionWords(options: JobOptions): string[] {
  const words: string[] = [];
  if (options.timeout_ms !== undefined) words.push(`timeout ${formatDuration(options.timeout_ms)}`);
  if (options.overlap) words.push(`overlap ${options.overlap}`);
  if (options.jitter_ms !== undefined) words.push(`jitter ${formatDuration(options.jitter_ms)}`);
  if (options.retry) {
    const { attempts, delay_ms, backoff, max_delay_ms } = options.retry;
    words.push(
      `retry ${attempts} attempts, ${formatDuration(delay_ms)} ×${backoff} up to ${formatDuration(max_delay_ms)}`,
    );
  }
  if (options.kill_signal) words.push(`kill_signal ${options.kill_signal}`);
  if (options.kill_grace_ms !== undefined) words.push(`kill_grace ${formatDuration(options.kill_grace_ms)}`);
  if (options.user) words.push(`user ${options.user}`);
  if (options.group) words.push(`group ${options.group}`);
  if (options.env) words.push(`env ${options.env.length} variable${options.env.length === 1 ? "" : "s"}`);
  if (options.catch_up) {
    words.push(`catch_up ${options.catch_up.runs} within ${formatDuration(options.catch_up.within_ms)}`);
  }
  if (options.on_lost) words.push(`on_lost ${options.on_lost}`);
  return words;
}

/** For a PostgreSQL ledger: whether the database answers now (read only; nothing is created). */
async function ledgerAnswer(state: StateSelection): Promise<{ ledger_answers?: string }> {
  if (state.kind !== "postgres") return {};
  // Loaded only here: check on a file without a PostgreSQL ledger never loads pg.
  const { PostgresLedger } = await import("../../ledger/postgres.js");
  const probe = await PostgresLedger.probe(state.url);
  if (!probe.answers) return { ledger_answers: `no: ${probe.error}` };
  const schema =
    probe.schemaVersion === 0 ? "no ledger yet (run creates it)" : `ledger schema ${probe.schemaVersion}`;
  return { ledger_answers: `yes: PostgreSQL ${probe.server}, ${schema}` };
}

function render(summary: ReturnType<typeof summarise> & { ledger_answers?: string }, nowMs: number): string {
  const count = summary.jobs.length;
  const lines = [
    `${summary.file}: valid, ${count} job${count === 1 ? "" : "s"} (zone ${summary.zone})`,
    `ledger: ${summary.ledger}, schedule "${summary.name}"; missed fires are recorded, and run only for jobs with catch_up`,
    ...(summary.ledger_answers !== undefined ? [`ledger answers: ${summary.ledger_answers}`] : []),
    "",
  ];
  const rows = summary.jobs.map((job) => [
    job.name,
    job.trigger,
    !job.enabled
      ? "disabled"
      : job.next
        ? `next ${displayTime(job.next)} (${relativeTime(job.next_ms! - nowMs)})`
        : "no fire left",
  ]);
  lines.push(columns(rows));
  for (const job of summary.jobs) {
    const details = optionWords(job.options);
    if (job.cron_in_words) details.unshift(job.cron_in_words);
    if (job.description) details.unshift(job.description);
    if (details.length > 0) lines.push(`  ${job.name}: ${details.join(" · ")}`);
  }
  if (summary.warnings.length > 0) {
    lines.push("", `${summary.warnings.length} warning${summary.warnings.length === 1 ? "" : "s"}:`);
    for (const w of summary.warnings)
      lines.push(`  ${w.file}:${w.line}:${w.column}: ${w.path}: ${w.message}`);
  }
  return `${lines.join("\n")}\n`;
}
