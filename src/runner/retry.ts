import type { Clock, DelayedCall } from "../clock/clock.js";
import type { RetrySpec } from "../schedule/types.js";
import type { Attempt, EmitLifecycle } from "./attempt.js";
import type { RunHandle, RunResult } from "./run-job.js";

/** The delay before attempt `failed + 1`, after `failed` attempts failed: min(delayMs·backoff^(failed−1), maxDelayMs). */
export function retryDelayMs(retry: RetrySpec, failed: number): number {
  return Math.round(Math.min(retry.delayMs * retry.backoff ** (failed - 1), retry.maxDelayMs));
}

/**
 * Starts attempt `number` (from 1), due at `dueWallMs` (wall-clock ms), and calls `ended` once, when its child
 * has exited and its output is all read. Never calls `ended` before it returns.
 */
export type StartAttempt = (number: number, dueWallMs: number, ended: () => void) => Attempt;

/**
 * A run as a loop of attempts: the next one starts after the policy's delay while they fail, until one
 * succeeds, the attempts run out, or the run is stopped. It logs each attempt's end and the retries.
 */
export class RetryLoop implements RunHandle {
  readonly done: Promise<RunResult>;
  private resolveDone!: (result: RunResult) => void;
  private readonly startMs: number;
  private current: Attempt;
  private phase: "attempt" | "waiting" | "done" = "attempt";
  private retryCall: DelayedCall | undefined;
  private retryDueWallMs = 0;
  private stopReason: string | undefined;
  private stopped = false;

  constructor(
    private readonly retry: RetrySpec | undefined,
    /** When the run was due, wall-clock ms: the first attempt's lateness counts from it. */
    scheduledMs: number,
    private readonly deps: { readonly clock: Clock; wallNow(): number },
    private readonly emit: EmitLifecycle,
    private readonly start: StartAttempt,
  ) {
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
    this.startMs = deps.clock.now();
    this.current = this.startAttempt(1, scheduledMs);
  }

  get pid(): number | undefined {
    return this.phase === "attempt" ? this.current.pid : undefined;
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
    } else if (this.current.exit === undefined) {
      this.stopped = true;
      this.current.terminate(reason);
    }
    // Exited, its output still being read: attemptEnded() sees stopReason and retries no more.
  }

  kill(reason: string): void {
    if (this.pid === undefined) {
      this.stop(reason);
      return;
    }
    this.stopReason ??= reason;
    this.stopped = true;
    this.current.killNow(reason);
  }

  private startAttempt(number: number, dueWallMs: number): Attempt {
    this.phase = "attempt";
    const attempt = this.start(number, dueWallMs, () => this.attemptEnded(attempt));
    return attempt;
  }

  private attemptEnded(attempt: Attempt): void {
    const exit = attempt.exit!;
    const failed = exit.exitCode !== 0 || exit.error !== undefined || attempt.timedOut;
    const retry = this.retry;
    const attemptsLeft = failed && retry !== undefined && attempt.number < retry.attempts;
    const willRetry = attemptsLeft && this.stopReason === undefined;
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
    if (willRetry) {
      const delayMs = retryDelayMs(retry!, attempt.number);
      this.emit({ level: "warn", event: "retrying", attempt: attempt.number + 1, delayMs });
      this.phase = "waiting";
      this.retryDueWallMs = this.deps.wallNow() + delayMs;
      this.retryCall = this.deps.clock.callLater(delayMs, () => {
        this.retryCall = undefined;
        this.current = this.startAttempt(attempt.number + 1, this.retryDueWallMs);
      });
      return;
    }
    // A stop cut short a run that had attempts left.
    if (attemptsLeft) this.stopped = true;
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
}
