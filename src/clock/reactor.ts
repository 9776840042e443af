import type { ClockJump, DelayedCall, WallClock } from "./clock.js";
import { checkDelay, type ScheduledCall, TimerHeap } from "./timer-heap.js";

/** Where the Reactor reads time; injectable so tests can step the wall clock. */
export interface TimeSource {
  /** Elapsed time in ms from an arbitrary origin; never goes backwards. */
  monotonicMs(): number;
  /** The system's wall clock, ms since the epoch. */
  wallMs(): number;
}

export const systemTime: TimeSource = {
  monotonicMs: () => performance.now(),
  wallMs: () => Date.now(),
};

export interface ReactorOptions {
  time?: TimeSource;
  /** The longest single sleep; on each wake the reactor re-checks the clocks. Default 30 s. */
  maxSleepMs?: number;
  /** Wall-vs-elapsed disagreement above which a wake reports a clock jump. Default 1 s. */
  jumpThresholdMs?: number;
  /** Told of an exception thrown by a call; the other calls still run. Default: printed to stderr. */
  onError?: (error: unknown) => void;
}

/** Node never honours a timer above 2^31-1 ms (it fires after 1 ms instead), so sleeps stay far below it. */
const DEFAULT_MAX_SLEEP_MS = 30_000;

/**
 * How early a Node timer can wake: libuv counts timers in whole milliseconds of a loop time sampled at the
 * start of each loop turn, so a timer can fire up to about a millisecond before its due time by
 * performance.now(). Such a wake finishes the remainder by turning the event loop (below), not by another
 * timer, which would wait at least one more whole millisecond.
 */
const EARLY_WAKE_FINISH_MS = 2;

/**
 * The production Clock: one binary heap of pending calls and one armed Node timer for the earliest.
 * now() counts elapsed (monotonic) time, starting at the wall-clock time of construction, so timeouts and
 * `every` grids are immune to clock steps; wallNow() is the system clock, and a step of it is reported to
 * onClockJump listeners. Calls run in passes, as in Twisted's reactor: now is sampled once per pass, a call
 * scheduled during a pass runs in a later pass, and an exception in one call does not stop the others.
 */
export class Reactor implements WallClock {
  private readonly time: TimeSource;
  private readonly maxSleepMs: number;
  private readonly jumpThresholdMs: number;
  private readonly onError: (error: unknown) => void;
  private readonly originMs: number;
  private readonly originMonoMs: number;
  private readonly heap = new TimerHeap(
    () => this.now(),
    () => this.arm(),
  );
  /** Calls created during a pass wait here until the pass ends (Twisted's _newTimedCalls). */
  private incoming: ScheduledCall[] | undefined;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private armedForMs = Number.POSITIVE_INFINITY;
  /** A Node timer woke us before the earliest call was due: turn the event loop until it is. */
  private finishingEarlyWake = false;
  private lastCheck: { wallMs: number; monoMs: number };
  private readonly jumpListeners = new Set<(jump: ClockJump) => void>();

  constructor(options: ReactorOptions = {}) {
    this.time = options.time ?? systemTime;
    this.maxSleepMs = options.maxSleepMs ?? DEFAULT_MAX_SLEEP_MS;
    this.jumpThresholdMs = options.jumpThresholdMs ?? 1000;
    this.onError =
      options.onError ??
      ((error) => process.stderr.write(`tdefer: error in a timed call: ${String(error)}\n`));
    this.originMs = this.time.wallMs();
    this.originMonoMs = this.time.monotonicMs();
    this.lastCheck = { wallMs: this.originMs, monoMs: this.originMonoMs };
  }

  now(): number {
    return this.originMs + (this.time.monotonicMs() - this.originMonoMs);
  }

  wallNow(): number {
    return this.time.wallMs();
  }

  callLater(delayMs: number, fn: () => void): DelayedCall;
  callLater<T>(delayMs: number, fn: (arg: T) => void, arg: T): DelayedCall;
  callLater(delayMs: number, fn: (arg: unknown) => void, arg?: unknown): DelayedCall {
    if (checkDelay(delayMs) < 0) throw new RangeError(`callLater needs a delay >= 0 ms, got ${delayMs}`);
    const call = this.heap.create(this.now() + delayMs, fn, arg);
    if (this.incoming) {
      this.incoming.push(call);
    } else {
      this.heap.insert(call);
      this.arm();
    }
    return call;
  }

  /** The pending calls, sorted by due time. */
  pending(): DelayedCall[] {
    return [...this.heap.sorted(), ...(this.incoming?.filter((c) => c.active()) ?? [])];
  }

  onClockJump(listener: (jump: ClockJump) => void): () => void {
    this.jumpListeners.add(listener);
    return () => this.jumpListeners.delete(listener);
  }

  /** Cancels the armed timer, so the process can exit; pending calls stay pending. */
  close(): void {
    clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    this.armedForMs = Number.POSITIVE_INFINITY;
    this.finishingEarlyWake = false;
  }

  /** One pass: every call due at the sampled now, in (time, scheduling) order. */
  private runPass(fromTimer = false): void {
    const finishing = fromTimer || this.finishingEarlyWake;
    // A postponed due call can leave both a timer and an immediate armed; whichever fires, drop the other.
    clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    this.armedForMs = Number.POSITIVE_INFINITY;
    this.finishingEarlyWake = false;
    this.checkForJump();
    const nowMs = this.now();
    this.incoming = [];
    let ran = false;
    try {
      for (let top = this.heap.peek(); top && top.time <= nowMs; top = this.heap.peek()) {
        this.heap.pop();
        ran = true;
        try {
          top.run();
        } catch (error) {
          this.onError(error);
        }
      }
    } finally {
      const incoming = this.incoming;
      this.incoming = undefined;
      for (const call of incoming) if (call.active()) this.heap.insert(call);
      // Only a wake that ran nothing was early; a pass that ran calls sleeps on a timer again.
      this.finishingEarlyWake = finishing && !ran;
      this.arm();
    }
  }

  /** Arms the one Node timer for the earliest call, never for longer than maxSleepMs. */
  private arm(): void {
    if (this.incoming) return; // the pass arms when it ends
    const top = this.heap.peek();
    if (!top) {
      this.close();
      return;
    }
    const delayMs = top.time - this.now();
    if (delayMs <= 0 || (this.finishingEarlyWake && delayMs < EARLY_WAKE_FINISH_MS)) {
      // Due already: run on the next turn of the event loop, after I/O, as Twisted's timeout() of 0 does.
      // Due within the fraction a timer woke early: each turn polls I/O without blocking, then checks again.
      if (this.immediate) return;
      clearTimeout(this.timer);
      this.timer = undefined;
      this.armedForMs = Number.NEGATIVE_INFINITY;
      this.immediate = setImmediate(() => this.runPass());
      return;
    }
    const wakeMs = Math.min(top.time, this.now() + this.maxSleepMs);
    if (this.timer && this.armedForMs <= wakeMs) return;
    clearTimeout(this.timer);
    this.armedForMs = wakeMs;
    this.finishingEarlyWake = false;
    // Node timers can fire up to about 1 ms early: ceil, and a wake before due finishes by turning the loop.
    this.timer = setTimeout(() => this.runPass(true), Math.max(1, Math.ceil(wakeMs - this.now())));
  }

  private checkForJump(): void {
    const wallMs = this.time.wallMs();
    const monoMs = this.time.monotonicMs();
    const deltaMs = Math.round(wallMs - this.lastCheck.wallMs - (monoMs - this.lastCheck.monoMs));
    this.lastCheck = { wallMs, monoMs };
    if (Math.abs(deltaMs) < this.jumpThresholdMs) return;
    const jump: ClockJump = { deltaMs, direction: deltaMs > 0 ? "forward" : "backward", wallMs };
    for (const listener of [...this.jumpListeners]) {
      try {
        listener(jump);
      } catch (error) {
        this.onError(error);
      }
    }
  }
}
