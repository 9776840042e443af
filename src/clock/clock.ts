/**
 * The only time seam of tdefer. Everything that waits (every/after/at/cron fires, timeouts, retries,
 * kill grace, shutdown grace) goes through a Clock, so a VirtualClock can drive it in tests and previews
 * and the Reactor in production. Times are integer milliseconds since the Unix epoch.
 */
export interface Clock {
  /** The current time of this clock, in ms. */
  now(): number;
  /**
   * Call `fn` once, `delayMs` from now. Returns a handle to inspect, cancel or move the call.
   * A call scheduled for a time already past runs on the clock's next pass, never synchronously.
   */
  callLater(delayMs: number, fn: () => void): DelayedCall;
  /** The same, calling `fn(arg)`: as Twisted's callLater(delay, f, *args), it spares a closure per call. */
  callLater<T>(delayMs: number, fn: (arg: T) => void, arg: T): DelayedCall;
  /**
   * Calls `fn` once the I/O already waiting has been read. A busy event loop runs a due timer before it polls
   * for I/O, so a timer's "nothing came" is only true after this. Absent: nothing is ever waiting.
   */
  afterPendingIo?(fn: () => void): void;
}

/** A pending call returned by {@link Clock.callLater} (Twisted's IDelayedCall). */
export interface DelayedCall {
  /** The absolute time (ms) at which the call will run. */
  readonly time: number;
  /** False once the call has run (it is false inside the call itself) or was cancelled. */
  active(): boolean;
  /** Never run the call. Throws AlreadyCancelled or AlreadyCalled (checked in that order). */
  cancel(): void;
  /** Run the call `delayMs` from now instead. Same errors as cancel(). */
  reset(delayMs: number): void;
  /** Run the call `ms` later than currently planned (negative: earlier). Same errors as cancel(). */
  delay(ms: number): void;
}

/** A step of the wall clock against elapsed time: an NTP step, suspend/resume or a manual change. */
export interface ClockJump {
  /** Wall-clock progress minus elapsed (monotonic) progress, in ms: positive when the wall clock leapt ahead. */
  readonly deltaMs: number;
  readonly direction: "forward" | "backward";
  /** The wall-clock time (ms since the epoch) when the jump was noticed. */
  readonly wallMs: number;
}

/**
 * A Clock whose `now()` counts elapsed time, with the wall clock beside it. `every` grids, timeouts and
 * retries live in elapsed time; cron and at fires are computed on the wall clock and re-planned when it jumps.
 */
export interface WallClock extends Clock {
  /** The wall-clock time, in ms since the epoch. Equal to now() until the first jump. */
  wallNow(): number;
  /** Be told of every wall-clock jump. Returns a function that stops the listening. */
  onClockJump(listener: (jump: ClockJump) => void): () => void;
}
