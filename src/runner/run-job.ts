// One run of a job: the public entry of the runner. The work is split by concern: attempt.ts starts a child and
// ends it (timeout, kill signal, SIGKILL), run-output.ts turns its pipes into line events (backpressure, reading
// on after exit), retry.ts runs attempts one after another until one succeeds or they run out.

import type { Clock } from "../clock/clock.js";
import type { LogEvent } from "../log/events.js";
import type { RetrySpec } from "../schedule/types.js";
import { Attempt, lifecycleEmitter } from "./attempt.js";
import { RetryLoop } from "./retry.js";
import { RunOutput } from "./run-output.js";
import type { Spawner, SpawnRequest } from "./spawner.js";

export { retryDelayMs } from "./retry.js";
export { POST_EXIT_MAX_MS, POST_EXIT_QUIET_MS } from "./run-output.js";

/**
 * One run of a job, self-contained: what each attempt spawns, and how the run is timed, ended and retried. Of
 * the schedule the runner knows only the retry policy's type.
 */
export interface RunSpec extends SpawnRequest {
  readonly job: string;
  readonly runId: string;
  /** When the run was due, wall-clock ms since the epoch; lateness is measured from it. */
  readonly scheduledMs: number;
  /**
   * The child's whole environment (the caller merges process.env in if it wants it inherited). tdefer adds
   * TDEFER_JOB, TDEFER_RUN_ID, TDEFER_SCHEDULED_AT (RFC 3339, UTC) and TDEFER_ATTEMPT (1, 2, …).
   */
  readonly env: Readonly<Record<string, string>>;
  /** Kill the attempt this long after it started; none when undefined. */
  readonly timeoutMs?: number;
  /** Sent to the process group on timeout or stop; SIGKILL follows after killGraceMs. */
  readonly killSignal: string;
  readonly killGraceMs: number;
  readonly retry?: RetrySpec;
}

/** A consumer of events that can ask the producer to wait (LogSink implements it). */
export interface Backpressure {
  /** True while the consumer has more than it wants buffered. */
  needDrain(): boolean;
  /** Call `callback` once, when needDrain() has become false. */
  onceDrained(callback: () => void): void;
}

/** What a run needs from the outside world. */
export interface RunDeps {
  /** All waiting (timeout, kill grace, retry delay, post-exit drain) goes through it. */
  readonly clock: Clock;
  readonly spawner: Spawner;
  emit(event: LogEvent): void;
  /** Wall-clock ms since the epoch, for event times and lateness. */
  wallNow(): number;
  /** When given, the child's pipes are paused while it needs draining: a slow log slows the job, never memory. */
  readonly writable?: Backpressure;
  /**
   * Whether `emit` takes `output_lines` events: the whole lines of a chunk as one event holding their bytes, in
   * place of one `output` event per line (the log's fast path); each piece of an over-long line comes as one too,
   * with `continues`. A line begun in an earlier chunk still comes as an `output` event.
   */
  readonly outputLines?: boolean;
  /** Output lines longer than this many bytes are split; default 64 KiB. */
  readonly maxLineBytes?: number;
  /** See POST_EXIT_QUIET_MS in run-output.ts. */
  readonly postExitQuietMs?: number;
}

/** How a run ended. A failure is data here; runJob never rejects for a job's sake. */
export interface RunResult {
  /** The last attempt exited 0, and was neither timed out nor stopped. */
  readonly ok: boolean;
  /** The last attempt's exit code, or null when it was ended by a signal or never started. */
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** How many attempts were started (or tried to start). */
  readonly attempts: number;
  /** From the first attempt's start to the end of the run, retry delays included. */
  readonly durationMs: number;
  /** The last attempt hit its timeout. */
  readonly timedOut: boolean;
  /** stop() cut the run short: it killed the running attempt or cancelled a pending retry. */
  readonly stopped: boolean;
  /** The last attempt outlived its kill grace and needed SIGKILL. */
  readonly killedHard: boolean;
  /** Why the last attempt could not start. */
  readonly error?: string;
}

/** A run in progress. */
export interface RunHandle {
  /** Resolves when the run is over (all attempts, output flushed); never rejects. */
  readonly done: Promise<RunResult>;
  /**
   * End the run as a timeout would (kill signal to the group, SIGKILL after the grace) and cancel any
   * pending retry. Idempotent; a no-op once the run is over.
   */
  stop(reason: string): void;
  /**
   * Like stop(), but SIGKILL to the group at once, skipping the grace (a second Ctrl-C). Counts as a hard
   * kill in the result. A no-op once the run is over.
   */
  kill(reason: string): void;
  /** The running attempt's pid; undefined between attempts or when it could not start. */
  readonly pid: number | undefined;
  /** The current attempt, from 1. */
  readonly attempt: number;
}

/** Starts a run of `spec` now and returns its handle. */
export function runJob(spec: RunSpec, deps: RunDeps): RunHandle {
  const emit = lifecycleEmitter(spec, deps);
  const output = new RunOutput(spec.job, spec.runId, deps);
  return new RetryLoop(spec.retry, spec.scheduledMs, deps, emit, (number, dueWallMs, ended) => {
    const attempt = new Attempt(spec, number, dueWallMs, deps, emit);
    const pipes = output.follow(attempt.child);
    attempt.onExit((exit) => pipes.afterExit(exit.error !== undefined, ended));
    return attempt;
  });
}
