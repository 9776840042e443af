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
  /**
   * The share of elapsed time (0 to 1) the reactor may spend turning the event loop, I/O polled and never
   * blocked, to run calls closer to their due time than Node's whole-millisecond timers allow: it wakes a
   * millisecond early and turns the loop for the rest, and waits so for calls due in under a millisecond.
   * Default 0.05, which brings the median lateness from ~0.8 ms to a few hundredths; 0 turns it off. A timer
   * that wakes early by itself always finishes its last fraction so, whatever the share.
   */
  turnLoopShare?: number;
}

/** Node never honours a timer above 2^31-1 ms (it fires after 1 ms instead), so sleeps stay far below it. */
const DEFAULT_MAX_SLEEP_MS = 30_000;

/**
 * Node timers count whole milliseconds, so a call due in less than this is waited for by turning the event
 * loop (each turn polls I/O without blocking, then checks the time) instead of by a timer that would wait a
 * whole millisecond or more.
 */
const TURN_LOOP_WITHIN_MS = 1;
/**
 * libuv times timers by a loop time sampled at the start of each turn, so a timer can wake up to about a
 * millisecond before its due time by performance.now(); such a wake finishes the remainder by turning the loop.
 */
const EARLY_WAKE_TURN_LOOP_WITHIN_MS = 2;
/** While the budget allows, the timer is set this much early, so that its wake lands before the due time. */
const WAKE_AHEAD_MS = 1;
/** The share of time spent turning the loop unless told otherwise (see ReactorOptions.turnLoopShare). */
const DEFAULT_TURN_LOOP_SHARE = 0.05;
/** The loop-turning time saved up at most (see ReactorOptions.turnLoopShare). */
const TURN_LOOP_BUDGET_CAP_MS = 10;

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
  /** The loop is being turned until this due time (set when it started, so its budget is charged once). */
  private turningUntilMs: number | undefined;
  private turningSinceMs = 0;
  private readonly turnLoopShare: number;
  private turnBudgetMs: number;
  private turnBudgetAtMs: number;
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
    this.turnLoopShare = options.turnLoopShare ?? DEFAULT_TURN_LOOP_SHARE;
    this.turnBudgetMs = this.turnLoopShare > 0 ? TURN_LOOP_BUDGET_CAP_MS : 0;
    this.turnBudgetAtMs = this.originMonoMs;
  }

  now(): number {
    return this.originMs + (this.time.monotonicMs() - this.originMonoMs);
  }

  wallNow(): number {
    return this.time.wallMs();
  }

  /** setImmediate runs after the event loop's poll for I/O, which reads what is waiting. */
  afterPendingIo(fn: () => void): void {
    setImmediate(fn);
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
    this.turningUntilMs = undefined;
  }

  /** One pass: every call due at the sampled now, in (time, scheduling) order. */
  private runPass(fromTimer = false): void {
    // A postponed due call can leave both a timer and an immediate armed; whichever fires, drop the other.
    clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    this.armedForMs = Number.POSITIVE_INFINITY;
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
      if (ran) this.stopTurning();
      this.arm(fromTimer && !ran);
    }
  }

  /** Arms the one Node timer for the earliest call, never for longer than maxSleepMs. */
  private arm(earlyWake = false): void {
    if (this.incoming) return; // the pass arms when it ends
    const top = this.heap.peek();
    if (!top) {
      this.close();
      return;
    }
    const delayMs = top.time - this.now();
    if (delayMs <= 0 || this.turnLoopFor(top.time, delayMs, earlyWake)) {
      // Due already: run on the next turn of the event loop, after I/O, as Twisted's timeout() of 0 does.
      // Due within a fraction of a millisecond: turn the loop until it is (see TURN_LOOP_WITHIN_MS).
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
    // Whole milliseconds, rounded up, lose up to one: with budget for it, wake a millisecond early and turn
    // the loop for the rest. Node timers can also fire up to about 1 ms early; that is finished the same way.
    const aheadMs =
      this.turnLoopShare > 0 && wakeMs === top.time && this.turnBudget() >= 2 * WAKE_AHEAD_MS
        ? WAKE_AHEAD_MS
        : 0;
    this.timer = setTimeout(() => this.runPass(true), Math.max(1, Math.ceil(wakeMs - this.now()) - aheadMs));
  }

  /** Whether to wait for a call due in `delayMs` by turning the loop rather than by a timer. */
  private turnLoopFor(dueMs: number, delayMs: number, earlyWake: boolean): boolean {
    if (this.turningUntilMs !== undefined && dueMs <= this.turningUntilMs) return true;
    this.stopTurning();
    if (delayMs >= (earlyWake ? EARLY_WAKE_TURN_LOOP_WITHIN_MS : TURN_LOOP_WITHIN_MS)) return false;
    // A timer that woke early (planned or not) is finished by turning the loop whatever the budget: another
    // timer would make the call a millisecond or two late, and the wait is bounded by the timer's own error.
    if (!earlyWake && (this.turnLoopShare <= 0 || this.turnBudget() < delayMs)) return false;
    this.turningUntilMs = dueMs;
    this.turningSinceMs = this.time.monotonicMs();
    return true;
  }

  /** Ends a wait by turning the loop, charging the budget with the time it really took. */
  private stopTurning(): void {
    if (this.turningUntilMs === undefined) return;
    this.turnBudget();
    this.turnBudgetMs -= this.time.monotonicMs() - this.turningSinceMs;
    this.turningUntilMs = undefined;
  }

  /** The loop-turning time left now: the share of the time since the last look is added, up to the cap. */
  private turnBudget(): number {
    const monoMs = this.time.monotonicMs();
    this.turnBudgetMs = Math.min(
      TURN_LOOP_BUDGET_CAP_MS,
      this.turnBudgetMs + (monoMs - this.turnBudgetAtMs) * this.turnLoopShare,
    );
    this.turnBudgetAtMs = monoMs;
    return this.turnBudgetMs;
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
