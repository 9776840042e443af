import type { Clock, DelayedCall } from "../clock/clock.js";
import type { LogEvent } from "../log/events.js";
import { LineSplitter } from "./line-splitter.js";
import type { ChildExit, ChildHandle, ChildOutput, Spawner } from "./spawner.js";

/** How a failed attempt is tried again. The delay before attempt n+1 is min(delayMs·backoff^(n−1), maxDelayMs). */
export interface RetryPolicy {
  /** Total attempts, the first included. */
  readonly attempts: number;
  readonly delayMs: number;
  readonly backoff: number;
  readonly maxDelayMs: number;
}

/** One run of a job, self-contained: the runner knows nothing of schedules. */
export interface RunSpec {
  readonly job: string;
  readonly runId: string;
  /** When the run was due, wall-clock ms since the epoch; lateness is measured from it. */
  readonly scheduledMs: number;
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd: string;
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
  readonly retry?: RetryPolicy;
  readonly uid?: number;
  readonly gid?: number;
  /** Written to each attempt's standard input, which is then closed; without it stdin is /dev/null. */
  readonly stdin?: string;
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
  /** See {@link POST_EXIT_QUIET_MS}. */
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

/**
 * After the child exits, its pipes are read on until they close, or until no byte arrived for this long.
 * Why: a grandchild that inherited the pipes (a daemon, a `sleep &`) may hold them open indefinitely, and
 * Node's 'exit' can come before the last output is read. Quiet, not total, time is counted so a busy event
 * loop loses nothing, and time spent paused for the log's backpressure does not count.
 */
export const POST_EXIT_QUIET_MS = 100;
/** A grandchild printing without pause still cannot keep a finished run open longer than this. */
export const POST_EXIT_MAX_MS = 5_000;

/** Starts a run of `spec` now and returns its handle. */
export function runJob(spec: RunSpec, deps: RunDeps): RunHandle {
  return new Run(spec, deps);
}

/** The delay before attempt `failed + 1`, after `failed` attempts failed. */
export function retryDelayMs(retry: RetryPolicy, failed: number): number {
  return Math.round(Math.min(retry.delayMs * retry.backoff ** (failed - 1), retry.maxDelayMs));
}

/** The state of one attempt: a child, its two outputs, and the calls waiting on its behalf. */
interface Attempt {
  readonly number: number;
  readonly child: ChildHandle;
  readonly startMs: number;
  openOutputs: number;
  exit: ChildExit | undefined;
  exitMs: number;
  /** Bytes read so far, to tell whether the pipes were quiet since the drain check was armed. */
  bytesRead: number;
  killSignalSent: boolean;
  timedOut: boolean;
  killedHard: boolean;
  timeoutCall: DelayedCall | undefined;
  graceCall: DelayedCall | undefined;
  drainCall: DelayedCall | undefined;
}

class Run implements RunHandle {
  readonly done: Promise<RunResult>;
  private resolveDone!: (result: RunResult) => void;
  private readonly startMs: number;
  private current!: Attempt;
  private phase: "running" | "draining" | "waiting" | "done" = "running";
  private retryCall: DelayedCall | undefined;
  private retryDueWallMs = 0;
  private stopReason: string | undefined;
  private stopped = false;
  private pausedForDrain = false;
  /** Counts pauses and resumes: a post-exit drain check that saw one must wait another quiet period. */
  private pauseFlips = 0;
  /** Clock time spent paused for the log, and since when the current pause lasts. */
  private pausedTotalMs = 0;
  private pausedSinceMs: number | undefined;
  private pausedMsAtExit = 0;
  /** Lines of one chunk share its arrival time, read once per chunk rather than per line. */
  private chunkWallMs = 0;

  constructor(
    private readonly spec: RunSpec,
    private readonly deps: RunDeps,
  ) {
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
    this.startMs = deps.clock.now();
    this.startAttempt(1, spec.scheduledMs);
  }

  get pid(): number | undefined {
    return this.phase === "running" ? this.current.child.pid : undefined;
  }

  get attempt(): number {
    return this.current.number;
  }

  stop(reason: string): void {
    if (this.phase === "done") return;
    this.stopReason ??= reason;
    if (this.phase === "waiting") {
      this.retryCall?.cancel();
      this.retryCall = undefined;
      this.stopped = true;
      this.emit({ level: "warn", event: "retry_cancelled", attempt: this.current.number + 1, reason });
      this.complete();
    } else if (this.phase === "running") {
      this.stopped = true;
      const attempt = this.current;
      attempt.timeoutCall?.cancel();
      attempt.timeoutCall = undefined; // cancelled once only: onExit cancels whatever is still set
      // A child that never started has nothing to kill; its onExit is on the way.
      if (attempt.child.pid === undefined) return;
      // During a timeout's grace the kill is already under way; its SIGKILL stays on schedule.
      if (attempt.killSignalSent) return;
      this.emit({ level: "warn", event: "killed", signal: this.spec.killSignal, reason });
      this.beginKill(attempt);
    }
    // "draining": the child has exited; finishAttempt() sees stopReason and retries no more.
  }

  kill(reason: string): void {
    if (this.phase !== "running" || this.current.child.pid === undefined) {
      this.stop(reason);
      return;
    }
    this.stopReason ??= reason;
    this.stopped = true;
    const attempt = this.current;
    attempt.timeoutCall?.cancel();
    attempt.timeoutCall = undefined;
    attempt.graceCall?.cancel();
    attempt.graceCall = undefined;
    attempt.killSignalSent = true;
    attempt.killedHard = true;
    this.emit({ level: "error", event: "killed", signal: "SIGKILL", reason });
    attempt.child.kill("SIGKILL");
  }

  private startAttempt(number: number, dueWallMs: number): void {
    const { spec, deps } = this;
    const env = {
      ...spec.env,
      TDEFER_JOB: spec.job,
      TDEFER_RUN_ID: spec.runId,
      TDEFER_SCHEDULED_AT: new Date(spec.scheduledMs).toISOString(),
      TDEFER_ATTEMPT: String(number),
    };
    const child = deps.spawner.spawn({
      file: spec.file,
      args: spec.args,
      cwd: spec.cwd,
      env,
      uid: spec.uid,
      gid: spec.gid,
      ...(spec.stdin !== undefined ? { stdin: spec.stdin } : {}),
    });
    const attempt: Attempt = {
      number,
      child,
      startMs: deps.clock.now(),
      openOutputs: 2,
      exit: undefined,
      exitMs: 0,
      bytesRead: 0,
      killSignalSent: false,
      timedOut: false,
      killedHard: false,
      timeoutCall: undefined,
      graceCall: undefined,
      drainCall: undefined,
    };
    this.current = attempt;
    this.phase = "running";
    if (child.pid !== undefined) {
      const lateMs = Math.max(0, Math.round(deps.wallNow() - dueWallMs));
      this.emit({
        level: "info",
        event: "started",
        pid: child.pid,
        scheduledMs: spec.scheduledMs,
        lateMs,
        attempt: number,
      });
      if (spec.timeoutMs !== undefined) {
        attempt.timeoutCall = deps.clock.callLater(spec.timeoutMs, () => this.onTimeout(attempt));
      }
    }
    this.readOutput(attempt, child.stdout, "stdout");
    this.readOutput(attempt, child.stderr, "stderr");
    if (this.pausedForDrain) this.pauseOutputs(attempt);
    child.onExit((exit) => this.onExit(attempt, exit));
  }

  private readOutput(attempt: Attempt, output: ChildOutput, stream: "stdout" | "stderr"): void {
    const { job, runId: run } = this.spec;
    const emit = this.deps.emit;
    const splitter = new LineSplitter(
      (line, continues) => {
        const timeMs = this.chunkWallMs;
        emit(
          continues
            ? { timeMs, level: "info", event: "output", job, run, stream, line, continues }
            : { timeMs, level: "info", event: "output", job, run, stream, line },
        );
      },
      this.deps.maxLineBytes,
      this.deps.outputLines
        ? (bytes, continues) => {
            const timeMs = this.chunkWallMs;
            emit(
              continues
                ? { timeMs, level: "info", event: "output_lines", job, run, stream, bytes, continues }
                : { timeMs, level: "info", event: "output_lines", job, run, stream, bytes },
            );
          }
        : undefined,
    );
    output.onData((chunk) => {
      attempt.bytesRead += chunk.length;
      this.chunkWallMs = this.deps.wallNow();
      splitter.push(chunk);
      this.applyBackpressure();
    });
    output.onEnd(() => {
      this.chunkWallMs = this.deps.wallNow();
      splitter.end();
      attempt.openOutputs--;
      if (attempt.openOutputs === 0 && attempt.exit) this.finishAttempt(attempt);
    });
  }

  private applyBackpressure(): void {
    const writable = this.deps.writable;
    if (!writable || this.pausedForDrain || !writable.needDrain()) return;
    this.pausedForDrain = true;
    this.pauseFlips++;
    this.pausedSinceMs = this.deps.clock.now();
    this.pauseOutputs(this.current);
    writable.onceDrained(() => {
      this.pausedForDrain = false;
      this.pauseFlips++;
      this.pausedTotalMs += this.deps.clock.now() - (this.pausedSinceMs ?? this.deps.clock.now());
      this.pausedSinceMs = undefined;
      this.current.child.stdout.resume();
      this.current.child.stderr.resume();
    });
  }

  private pauseOutputs(attempt: Attempt): void {
    attempt.child.stdout.pause();
    attempt.child.stderr.pause();
  }

  private onTimeout(attempt: Attempt): void {
    attempt.timeoutCall = undefined;
    attempt.timedOut = true;
    this.emit({
      level: "error",
      event: "timed_out",
      timeoutMs: this.spec.timeoutMs!,
      signal: this.spec.killSignal,
    });
    this.beginKill(attempt);
  }

  /** Sends the kill signal to the group and arms the SIGKILL that follows if the child outlives the grace. */
  private beginKill(attempt: Attempt): void {
    const { killSignal, killGraceMs } = this.spec;
    attempt.killSignalSent = true;
    // Armed before the signal is sent: a child may exit (and onExit run) before kill() returns.
    attempt.graceCall = this.deps.clock.callLater(killGraceMs, () => {
      attempt.graceCall = undefined;
      attempt.killedHard = true;
      this.emit({
        level: "error",
        event: "killed",
        signal: "SIGKILL",
        reason: `still running ${killGraceMs} ms after ${killSignal}`,
      });
      attempt.child.kill("SIGKILL");
    });
    attempt.child.kill(killSignal);
  }

  private onExit(attempt: Attempt, exit: ChildExit): void {
    attempt.exit = exit;
    attempt.exitMs = this.deps.clock.now();
    this.pausedMsAtExit = this.pausedMs();
    this.phase = "draining";
    attempt.timeoutCall?.cancel();
    attempt.timeoutCall = undefined;
    if (attempt.graceCall) {
      attempt.graceCall.cancel();
      attempt.graceCall = undefined;
      // The leader obeyed; group members that ignored the signal must not outlive the run we were told to end.
      attempt.child.kill("SIGKILL");
    }
    if (exit.error) this.closeOutputs(attempt);
    if (attempt.openOutputs === 0) this.finishAttempt(attempt);
    else this.armDrainCheck(attempt);
  }

  private pausedMs(): number {
    const current = this.pausedSinceMs === undefined ? 0 : this.deps.clock.now() - this.pausedSinceMs;
    return this.pausedTotalMs + current;
  }

  private armDrainCheck(attempt: Attempt): void {
    const quietMs = this.deps.postExitQuietMs ?? POST_EXIT_QUIET_MS;
    const bytesAtArm = attempt.bytesRead;
    const flipsAtArm = this.pauseFlips;
    const decide = (): void => {
      if (attempt !== this.current || this.phase !== "draining" || attempt.openOutputs === 0) return;
      // Time paused for the log does not count: a slow stdout must not cut off the job's own last output.
      const overdue =
        this.deps.clock.now() - attempt.exitMs - (this.pausedMs() - this.pausedMsAtExit) >= POST_EXIT_MAX_MS;
      // Paused (or resumed) for the log at any time in the period: the pipes were not quiet, only unread.
      const stillFlowing =
        attempt.bytesRead !== bytesAtArm || this.pausedForDrain || this.pauseFlips !== flipsAtArm;
      if (stillFlowing && !overdue) this.armDrainCheck(attempt);
      else this.closeOutputs(attempt);
    };
    attempt.drainCall = this.deps.clock.callLater(quietMs, () => {
      attempt.drainCall = undefined;
      // Output that came while the loop was busy is read before the period counts as quiet.
      const { clock } = this.deps;
      if (clock.afterPendingIo) clock.afterPendingIo(decide);
      else decide();
    });
  }

  private closeOutputs(attempt: Attempt): void {
    attempt.child.stdout.close();
    attempt.child.stderr.close();
  }

  private finishAttempt(attempt: Attempt): void {
    if (attempt !== this.current || this.phase !== "draining") return;
    attempt.drainCall?.cancel();
    attempt.drainCall = undefined;
    const exit = attempt.exit!;
    const failed = exit.exitCode !== 0 || exit.error !== undefined || attempt.timedOut;
    const retry = this.spec.retry;
    const willRetry =
      failed && retry !== undefined && attempt.number < retry.attempts && this.stopReason === undefined;
    // A failure that a retry may still mend is a warning; only the last one is an error (journalctl -p err).
    this.emit({
      level: !failed ? "info" : willRetry ? "warn" : "error",
      event: "finished",
      exitCode: exit.exitCode,
      signal: exit.signal,
      durationMs: Math.round(attempt.exitMs - attempt.startMs),
      attempt: attempt.number,
      ...(exit.error !== undefined && { error: exit.error }),
      ...(failed && { final: !willRetry }),
    });
    if (failed && retry && attempt.number < retry.attempts) {
      if (this.stopReason !== undefined) {
        this.stopped = true;
      } else {
        const delayMs = retryDelayMs(retry, attempt.number);
        this.emit({ level: "warn", event: "retrying", attempt: attempt.number + 1, delayMs });
        this.phase = "waiting";
        this.retryDueWallMs = this.deps.wallNow() + delayMs;
        this.retryCall = this.deps.clock.callLater(delayMs, () => {
          this.retryCall = undefined;
          this.startAttempt(attempt.number + 1, this.retryDueWallMs);
        });
        return;
      }
    }
    this.complete();
  }

  private complete(): void {
    this.phase = "done";
    const attempt = this.current;
    const exit = attempt.exit!;
    const failed = exit.exitCode !== 0 || exit.error !== undefined;
    this.resolveDone({
      ok: !failed && !attempt.timedOut && !this.stopped,
      exitCode: exit.exitCode,
      signal: exit.signal,
      attempts: attempt.number,
      durationMs: Math.round(this.deps.clock.now() - this.startMs),
      timedOut: attempt.timedOut,
      stopped: this.stopped,
      killedHard: attempt.killedHard,
      ...(exit.error !== undefined && { error: exit.error }),
    });
  }

  /** Emits a lifecycle event of this run, stamped with the wall clock. */
  private emit(event: DistributiveOmit<RunEvent, "timeMs" | "job" | "run">): void {
    this.deps.emit({
      timeMs: this.deps.wallNow(),
      job: this.spec.job,
      run: this.spec.runId,
      ...event,
    } as LogEvent);
  }
}

type RunEvent = Extract<LogEvent, { run: string }>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
