import type { Clock, DelayedCall } from "./clock.js";
import { StateError } from "./errors.js";

export interface StartOptions {
  /** Run once at start, inside start() itself. Default true, as in Twisted. */
  now?: boolean;
}

type Body = (target: unknown) => unknown;

const noop = (): void => {};

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === "function";
}

/**
 * Calls a function repeatedly on the grid start + k·interval (Twisted's task.LoopingCall), in integer ms.
 * Missed grid points are skipped, never run in a burst. A returned promise blocks the loop until it settles,
 * so iterations never overlap. A failure stops the loop and rejects the promise from start().
 */
export class LoopingCall {
  /** The grid spacing in ms; a change takes effect at the next scheduling, on the same anchor. */
  intervalMs = 0;
  /** The grid anchor: the time of start(), or of the last reset(). */
  startTimeMs = 0;
  private isRunning = false;
  private call: DelayedCall | undefined;
  // The settle functions of the promise from start(), kept as two fields: 100k loops must stay small.
  private resolveDone: ((lc: LoopingCall) => void) | undefined;
  private rejectDone: ((error: unknown) => void) | undefined;

  constructor(
    readonly clock: Clock,
    private readonly body: () => unknown,
  ) {}

  /** The target of a loop made by {@link LoopingCall.calling}. */
  private target: unknown;
  /** Started by run(): no promise reports a failure, so it is thrown. */
  private failuresThrown = false;

  /** A LoopingCall that calls `body(target)`: one function for many loops, without a closure per loop. */
  static calling<T>(clock: Clock, body: (target: T) => unknown, target: T): LoopingCall {
    const loop = new LoopingCall(clock, body as Body as () => unknown);
    loop.target = target;
    return loop;
  }

  /**
   * A LoopingCall whose function receives the number of grid intervals since its previous call (1 when on
   * time; more when ticks were missed). A tick that crosses no new grid point does not call it.
   */
  static withCount(clock: Clock, fn: (count: number) => unknown): LoopingCall {
    let lastCallMs: number | undefined;
    const loop: LoopingCall = new LoopingCall(clock, () => {
      const nowMs = clock.now();
      const { intervalMs, startTimeMs } = loop;
      if (intervalMs === 0) {
        lastCallMs = nowMs;
        return fn(1);
      }
      const last = lastCallMs ?? (loop.ranAtStart ? startTimeMs - intervalMs : startTimeMs);
      const count =
        Math.trunc((nowMs - startTimeMs) / intervalMs) - Math.trunc((last - startTimeMs) / intervalMs);
      if (count <= 0) return undefined;
      lastCallMs = nowMs;
      return fn(count);
    });
    loop.onStart = () => {
      lastCallMs = undefined; // Twisted keeps the previous run's value (its quirk L27); a restart counts afresh
    };
    return loop;
  }

  private ranAtStart = false;
  private onStart: () => void = noop;

  /** True from start() until stop() or a failure; true inside the function. */
  get running(): boolean {
    return this.isRunning;
  }

  /**
   * Starts the loop. The promise resolves with this LoopingCall once stop() has taken effect, or rejects
   * with the first failure of the function. It can already be settled when start() returns.
   */
  start(intervalMs: number, options: StartOptions = {}): Promise<LoopingCall> {
    this.checkStart(intervalMs);
    const done = new Promise<LoopingCall>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.begin(intervalMs, options);
    return done;
  }

  /**
   * Starts the loop without the promise of start(), for loops nothing waits on (a job's trigger: 100k of them
   * must stay small). A failure of the function stops the loop and is thrown as an uncaught error.
   */
  run(intervalMs: number, options: StartOptions = {}): void {
    this.checkStart(intervalMs);
    this.failuresThrown = true;
    this.begin(intervalMs, options);
  }

  private checkStart(intervalMs: number): void {
    if (this.isRunning) throw new StateError("this LoopingCall is already running");
    if (!Number.isSafeInteger(intervalMs) || intervalMs < 0) {
      throw new RangeError(`the interval must be a whole number of ms >= 0, got ${intervalMs}`);
    }
  }

  private begin(intervalMs: number, options: StartOptions): void {
    this.isRunning = true;
    this.intervalMs = intervalMs;
    this.startTimeMs = this.clock.now();
    this.ranAtStart = options.now ?? true;
    this.onStart();
    if (this.ranAtStart) this.iterate();
    else this.scheduleFrom(this.startTimeMs);
  }

  /**
   * No further iterations. If one is in progress, the promise from start() settles when it does;
   * otherwise it resolves now.
   */
  stop(): void {
    if (!this.isRunning) throw new StateError("this LoopingCall is not running");
    this.isRunning = false;
    if (this.call) {
      this.call.cancel();
      this.call = undefined;
      this.finish();
    }
  }

  /**
   * Re-anchors the grid at now: the next call comes one interval from now. Twisted ignores a reset during a
   * running iteration; here it re-anchors all the same, and the next call follows the new grid.
   */
  reset(): void {
    if (!this.isRunning) throw new StateError("this LoopingCall is not running");
    this.startTimeMs = this.clock.now();
    if (this.call) {
      this.call.cancel();
      this.call = undefined;
      this.scheduleFrom(this.startTimeMs);
    }
  }

  /** The one callback of every loop's pending call (no closure per loop: 100k loops must stay small). */
  private static runIteration(this: void, loop: LoopingCall): void {
    loop.iterate();
  }

  private iterate(): void {
    this.call = undefined;
    let result: unknown;
    try {
      result = (this.body as Body)(this.target);
    } catch (error) {
      this.fail(error);
      return;
    }
    if (isThenable(result)) {
      result.then(
        () => this.completed(),
        (error: unknown) => this.fail(error),
      );
    } else {
      this.completed();
    }
  }

  private completed(): void {
    if (!this.isRunning) {
      this.finish();
      return;
    }
    try {
      this.scheduleFrom(this.clock.now());
    } catch (error) {
      this.fail(error);
    }
  }

  private fail(error: unknown): void {
    this.isRunning = false;
    const reject = this.rejectDone;
    this.resolveDone = this.rejectDone = undefined;
    reject?.(error);
    if (this.failuresThrown)
      queueMicrotask(() => {
        throw error;
      });
  }

  private finish(): void {
    const resolve = this.resolveDone;
    this.resolveDone = this.rejectDone = undefined;
    resolve?.(this);
  }

  /** Schedules the next call at the first grid point strictly after `whenMs`. */
  private scheduleFrom(whenMs: number): void {
    const { intervalMs, startTimeMs } = this;
    if (intervalMs === 0) {
      this.call = this.clock.callLater(0, LoopingCall.runIteration, this);
      return;
    }
    const k = Math.floor((whenMs - startTimeMs) / intervalMs) + 1;
    this.call = this.clock.callLater(startTimeMs + k * intervalMs - whenMs, LoopingCall.runIteration, this);
  }
}
