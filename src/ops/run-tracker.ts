import type { LogEvent } from "../log/events.js";
import { lastOutputLines } from "../log/output-lines.js";

/** How a run ended; the ledger's states for a finished run. */
export type RunResultName = "succeeded" | "failed" | "timed_out" | "killed";

/** One attempt of a run that ended, or the whole run when `final`. */
export interface RunEnd {
  readonly job: string;
  readonly runId: string;
  readonly result: RunResultName;
  /** No retry follows: this is how the run ended. */
  readonly final: boolean;
  readonly attempt: number;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly error: string | undefined;
  readonly durationMs: number;
  readonly scheduledMs: number;
  readonly startedMs: number;
  readonly finishedMs: number;
  readonly lateMs: number;
  /** Started by an operator (`POST /api/v1/jobs/NAME/run`), not by its trigger. */
  readonly manual: boolean;
  /** The last lines of its output (both streams), at most {@link TAIL_LINES} lines and {@link TAIL_CHARS} characters. */
  readonly outputTail: readonly string[];
}

/** What the page and the API show about a job beside what the scheduler holds. */
export interface JobRecord {
  readonly lastEnd: RunEnd | undefined;
  readonly lastSuccessMs: number | undefined;
  readonly last24h: { readonly succeeded: number; readonly failed: number };
}

export const TAIL_LINES = 50;
export const TAIL_CHARS = 8 * 1024;
const RECENT_RUNS = 200;
const HOUR_MS = 3_600_000;

interface LiveRun {
  readonly job: string;
  scheduledMs: number;
  startedMs: number;
  lateMs: number;
  timedOut: boolean;
  killed: boolean;
  /** The attempt after which the runner said it would retry. */
  retriedAfter: number;
  tail: string[];
  tailChars: number;
}

interface JobCounts {
  lastEnd: RunEnd | undefined;
  lastSuccessMs: number | undefined;
  /** Runs per hour, keyed by hour since the epoch; the last 24 are kept. */
  readonly hours: Map<number, { succeeded: number; failed: number }>;
}

/**
 * Follows the log events of a running tdefer and keeps what operators ask about: how each run ended (its
 * attempts and retries folded together), each job's last result and last success, counts over 24 hours, the
 * recent runs, and the output tail of every run going on. Memory is bounded whatever the jobs print.
 */
export class RunTracker {
  private readonly live = new Map<string, LiveRun>();
  private readonly jobs = new Map<string, JobCounts>();
  private readonly recent: RunEnd[] = [];
  private readonly listeners = new Set<(end: RunEnd) => void>();
  private readonly manualRuns = new Set<string>();

  /** Notes that a run was started by an operator. */
  markManual(runId: string): void {
    this.manualRuns.add(runId);
  }

  /** Be told of every attempt's end (`final` on the run's last). Returns a function that stops it. */
  onRunEnd(listener: (end: RunEnd) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  observe(event: LogEvent): void {
    switch (event.event) {
      case "output": {
        const run = this.live.get(event.run);
        if (run) keepInTail(run, event.stream, event.line);
        return;
      }
      case "output_lines": {
        const run = this.live.get(event.run);
        // Only the lines that can stay in the tail are decoded.
        if (run) for (const line of lastOutputLines(event, TAIL_LINES)) keepInTail(run, event.stream, line);
        return;
      }
      case "started": {
        const run = this.live.get(event.run);
        if (run) {
          run.startedMs = event.timeMs;
          run.timedOut = false;
          run.killed = false;
        } else {
          this.live.set(event.run, {
            job: event.job,
            scheduledMs: event.scheduledMs,
            startedMs: event.timeMs,
            lateMs: event.lateMs,
            timedOut: false,
            killed: false,
            retriedAfter: 0,
            tail: [],
            tailChars: 0,
          });
        }
        return;
      }
      case "timed_out": {
        const run = this.live.get(event.run);
        if (run) run.timedOut = true;
        return;
      }
      case "killed": {
        const run = this.live.get(event.run);
        if (run) run.killed = true;
        return;
      }
      case "retrying": {
        const run = this.live.get(event.run);
        if (run) run.retriedAfter = event.attempt - 1;
        return;
      }
      case "finished":
        this.finished(event);
        return;
      default:
        return;
    }
  }

  /** A job's last result, last success and 24-hour counts, as of `nowMs`. */
  jobRecord(job: string, nowMs: number): JobRecord {
    const counts = this.jobs.get(job);
    let succeeded = 0;
    let failed = 0;
    const firstHour = Math.floor(nowMs / HOUR_MS) - 23;
    for (const [hour, bucket] of counts?.hours ?? []) {
      if (hour < firstHour) continue;
      succeeded += bucket.succeeded;
      failed += bucket.failed;
    }
    return {
      lastEnd: counts?.lastEnd,
      lastSuccessMs: counts?.lastSuccessMs,
      last24h: { succeeded, failed },
    };
  }

  /** The runs that ended lately, newest first (at most 200 are kept). */
  recentRuns(): readonly RunEnd[] {
    return [...this.recent].reverse();
  }

  /** Names of the jobs this tracker has seen a run of. */
  knownJobs(): string[] {
    return [...this.jobs.keys()];
  }

  private finished(event: Extract<LogEvent, { event: "finished" }>): void {
    const run = this.live.get(event.run);
    const startedMs = run?.startedMs ?? event.timeMs - event.durationMs;
    const result: RunResultName = run?.timedOut
      ? "timed_out"
      : event.exitCode === 0 && event.error === undefined
        ? "succeeded"
        : run?.killed || (event.exitCode === null && event.signal === "SIGKILL")
          ? "killed"
          : "failed";
    const partial = {
      job: event.job,
      runId: event.run,
      result,
      attempt: event.attempt,
      exitCode: event.exitCode,
      signal: event.signal,
      error: event.error,
      durationMs: event.durationMs,
      scheduledMs: run?.scheduledMs ?? startedMs,
      startedMs,
      finishedMs: event.timeMs,
      lateMs: run?.lateMs ?? 0,
      manual: this.manualRuns.has(event.run),
      outputTail: [...(run?.tail ?? [])],
    };
    // The runner logs `retrying` right after `finished`, in the same turn: decide whether this was the last
    // attempt once that turn is over.
    queueMicrotask(() => {
      const final = run?.retriedAfter !== event.attempt;
      const end: RunEnd = { ...partial, final };
      if (final) {
        this.live.delete(event.run);
        this.manualRuns.delete(event.run);
        this.record(end);
      }
      for (const listener of this.listeners) listener(end);
    });
  }

  private record(end: RunEnd): void {
    let counts = this.jobs.get(end.job);
    if (!counts) {
      counts = { lastEnd: undefined, lastSuccessMs: undefined, hours: new Map() };
      this.jobs.set(end.job, counts);
    }
    counts.lastEnd = end;
    if (end.result === "succeeded") counts.lastSuccessMs = end.finishedMs;
    const hour = Math.floor(end.finishedMs / HOUR_MS);
    let bucket = counts.hours.get(hour);
    if (!bucket) {
      bucket = { succeeded: 0, failed: 0 };
      counts.hours.set(hour, bucket);
      for (const old of counts.hours.keys()) if (old < hour - 23) counts.hours.delete(old);
    }
    if (end.result === "succeeded") bucket.succeeded++;
    else bucket.failed++;
    this.recent.push(end);
    if (this.recent.length > RECENT_RUNS) this.recent.shift();
  }
}

function keepInTail(run: LiveRun, stream: "stdout" | "stderr", text: string): void {
  const line = stream === "stderr" ? `! ${text}` : text;
  run.tail.push(line);
  run.tailChars += line.length;
  while (run.tail.length > TAIL_LINES || (run.tailChars > TAIL_CHARS && run.tail.length > 1)) {
    run.tailChars -= run.tail.shift()!.length;
  }
}
