import type { Clock, DelayedCall } from "../clock/clock.js";
import type { LogEvent } from "../log/events.js";
import type { RunSpec } from "./run-job.js";
import type { ChildExit, ChildHandle, Spawner } from "./spawner.js";

/** An event about a run's life (started, timed_out, killed, finished, retrying…), before it is stamped. */
export type LifecycleEvent = DistributiveOmit<Extract<LogEvent, { run: string }>, "timeMs" | "job" | "run">;
/** Emits a lifecycle event of one run, stamped with the wall clock, the job and the run id. */
export type EmitLifecycle = (event: LifecycleEvent) => void;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export function lifecycleEmitter(
  spec: Pick<RunSpec, "job" | "runId">,
  deps: { emit(event: LogEvent): void; wallNow(): number },
): EmitLifecycle {
  return (event) =>
    deps.emit({ timeMs: deps.wallNow(), job: spec.job, run: spec.runId, ...event } as LogEvent);
}

/** What an attempt needs from the outside world. */
export interface AttemptDeps {
  /** The timeout and the kill grace wait on it. */
  readonly clock: Clock;
  readonly spawner: Spawner;
  /** Wall-clock ms since the epoch, for lateness. */
  wallNow(): number;
}

/**
 * One attempt of a run: starts the child at construction, kills its process group on timeout or when told
 * (the kill signal, then SIGKILL if it outlives the grace), and reports its exit. Its output is another's job.
 */
export class Attempt {
  readonly child: ChildHandle;
  /** Clock time when it was started. */
  readonly startMs: number;
  /** How the child ended; undefined while it runs. */
  exit: ChildExit | undefined;
  /** Clock time of the exit. */
  exitMs = 0;
  /** It hit its timeout. */
  timedOut = false;
  /** It outlived its kill grace (or was killed at once) and needed SIGKILL. */
  killedHard = false;
  private killSignalSent = false;
  private timeoutCall: DelayedCall | undefined;
  private graceCall: DelayedCall | undefined;

  constructor(
    private readonly spec: RunSpec,
    /** From 1. */
    readonly number: number,
    /** When this attempt was due, wall-clock ms: the run's scheduled time, or when its retry delay ended. */
    dueWallMs: number,
    private readonly deps: AttemptDeps,
    private readonly emit: EmitLifecycle,
  ) {
    this.child = deps.spawner.spawn({
      file: spec.file,
      args: spec.args,
      cwd: spec.cwd,
      env: {
        ...spec.env,
        TDEFER_JOB: spec.job,
        TDEFER_RUN_ID: spec.runId,
        TDEFER_SCHEDULED_AT: new Date(spec.scheduledMs).toISOString(),
        TDEFER_ATTEMPT: String(number),
      },
      uid: spec.uid,
      gid: spec.gid,
      ...(spec.stdin !== undefined ? { stdin: spec.stdin } : {}),
    });
    this.startMs = deps.clock.now();
    const pid = this.child.pid;
    if (pid === undefined) return; // could not start: onExit reports why
    const lateMs = Math.max(0, Math.round(deps.wallNow() - dueWallMs));
    emit({ level: "info", event: "started", pid, scheduledMs: spec.scheduledMs, lateMs, attempt: number });
    if (spec.timeoutMs !== undefined) {
      this.timeoutCall = deps.clock.callLater(spec.timeoutMs, () => this.onTimeout());
    }
  }

  /** The child's pid while it runs; undefined once it exited, or when it could not start. */
  get pid(): number | undefined {
    return this.exit ? undefined : this.child.pid;
  }

  /**
   * Calls `listener` once, when the child has exited or failed to start (its pipes may still be open). Register
   * after the output is being read, before the event loop turns.
   */
  onExit(listener: (exit: ChildExit) => void): void {
    this.child.onExit((exit) => {
      this.exited(exit);
      listener(exit);
    });
  }

  /** Ends the child as a timeout would, saying `reason`; a kill already under way keeps its schedule. */
  terminate(reason: string): void {
    if (this.exit) return;
    this.timeoutCall?.cancel();
    this.timeoutCall = undefined; // cancelled once only: exited() cancels whatever is still set
    // A child that never started has nothing to kill; its exit is on the way.
    if (this.child.pid === undefined) return;
    // During a timeout's grace the kill is already under way; its SIGKILL stays on schedule.
    if (this.killSignalSent) return;
    this.emit({ level: "warn", event: "killed", signal: this.spec.killSignal, reason });
    this.beginKill();
  }

  /** SIGKILL to the group at once, skipping the grace. */
  killNow(reason: string): void {
    if (this.exit || this.child.pid === undefined) return;
    this.timeoutCall?.cancel();
    this.timeoutCall = undefined;
    this.graceCall?.cancel();
    this.graceCall = undefined;
    this.killSignalSent = true;
    this.killedHard = true;
    this.emit({ level: "error", event: "killed", signal: "SIGKILL", reason });
    this.child.kill("SIGKILL");
  }

  private onTimeout(): void {
    this.timeoutCall = undefined;
    this.timedOut = true;
    this.emit({
      level: "error",
      event: "timed_out",
      timeoutMs: this.spec.timeoutMs!,
      signal: this.spec.killSignal,
    });
    this.beginKill();
  }

  /** Sends the kill signal to the group and arms the SIGKILL that follows if the child outlives the grace. */
  private beginKill(): void {
    const { killSignal, killGraceMs } = this.spec;
    this.killSignalSent = true;
    // Armed before the signal is sent: a child may exit (and exited() run) before kill() returns.
    this.graceCall = this.deps.clock.callLater(killGraceMs, () => {
      this.graceCall = undefined;
      this.killedHard = true;
      this.emit({
        level: "error",
        event: "killed",
        signal: "SIGKILL",
        reason: `still running ${killGraceMs} ms after ${killSignal}`,
      });
      this.child.kill("SIGKILL");
    });
    this.child.kill(killSignal);
  }

  private exited(exit: ChildExit): void {
    this.exit = exit;
    this.exitMs = this.deps.clock.now();
    this.timeoutCall?.cancel();
    this.timeoutCall = undefined;
    if (this.graceCall) {
      this.graceCall.cancel();
      this.graceCall = undefined;
      // The leader obeyed; group members that ignored the signal must not outlive the run we were told to end.
      this.child.kill("SIGKILL");
    }
  }
}
