import type { ClockJump, DelayedCall, WallClock } from "./clock.js";
import { checkDelay, TimerHeap } from "./timer-heap.js";

/** More calls than this in one advance() is a zero-delay loop that would never return (Twisted #5962). */
const MAX_CALLS_PER_ADVANCE = 1_000_000;

/**
 * A deterministic clock for tests and previews (Twisted's task.Clock): time moves only when told to.
 * Calls due at the same time run first-in first-out; calls made due during advance() run in the same advance.
 */
export class VirtualClock implements WallClock {
  private currentMs: number;
  private wallOffsetMs = 0;
  private readonly heap = new TimerHeap(() => this.currentMs);
  private readonly jumpListeners = new Set<(jump: ClockJump) => void>();

  constructor(startMs = 0) {
    this.currentMs = startMs;
  }

  now(): number {
    return this.currentMs;
  }

  wallNow(): number {
    return this.currentMs + this.wallOffsetMs;
  }

  /**
   * While set, afterPendingIo() waits for readPendingIo(): as a busy event loop that runs a due timer before it
   * reads its pipes. Otherwise it calls at once.
   */
  holdIo = false;
  private readonly ioWaiters: (() => void)[] = [];

  afterPendingIo(fn: () => void): void {
    if (this.holdIo) this.ioWaiters.push(fn);
    else fn();
  }

  /** The event loop polls for I/O: what waited for the pending reads runs. */
  readPendingIo(): void {
    for (const fn of this.ioWaiters.splice(0)) fn();
  }

  callLater(delayMs: number, fn: () => void): DelayedCall;
  callLater<T>(delayMs: number, fn: (arg: T) => void, arg: T): DelayedCall;
  callLater(delayMs: number, fn: (arg: unknown) => void, arg?: unknown): DelayedCall {
    const call = this.heap.create(this.currentMs + checkDelay(delayMs), fn, arg);
    this.heap.insert(call);
    return call;
  }

  /**
   * Moves time forward by `ms` (backward when negative) and runs every call now due, in time order. All of
   * them see the final time, as in Twisted. An exception from a call propagates; the calls after it stay due.
   */
  advance(ms: number): void {
    this.currentMs += checkDelay(ms);
    let ran = 0;
    for (let top = this.heap.peek(); top && top.time <= this.currentMs; top = this.heap.peek()) {
      if (++ran > MAX_CALLS_PER_ADVANCE) {
        throw new Error(
          `advance() ran ${MAX_CALLS_PER_ADVANCE} calls without time passing: a zero-delay loop?`,
        );
      }
      this.heap.pop();
      top.run();
    }
  }

  /** advance() by each amount in turn. */
  pump(amounts: readonly number[]): void {
    for (const ms of amounts) this.advance(ms);
  }

  /**
   * Moves time to `timeMs` stopping at each due call, so that every call sees its own due time as now().
   * This is how `tdefer next` replays a schedule.
   */
  runUntil(timeMs: number): void {
    for (let top = this.heap.peek(); top && top.time <= timeMs; top = this.heap.peek()) {
      this.advance(Math.max(0, top.time - this.currentMs));
    }
    this.advance(Math.max(0, timeMs - this.currentMs));
  }

  /** When the earliest pending call is due, if there is one. */
  nextCallTime(): number | undefined {
    return this.heap.peek()?.time;
  }

  /** The pending calls, sorted by due time. */
  pending(): DelayedCall[] {
    return this.heap.sorted();
  }

  onClockJump(listener: (jump: ClockJump) => void): () => void {
    this.jumpListeners.add(listener);
    return () => this.jumpListeners.delete(listener);
  }

  /** Steps the wall clock by `deltaMs` while elapsed time stands still, and tells the listeners (for tests). */
  jumpWall(deltaMs: number): void {
    this.wallOffsetMs += deltaMs;
    const jump: ClockJump = {
      deltaMs,
      direction: deltaMs > 0 ? "forward" : "backward",
      wallMs: this.wallNow(),
    };
    for (const listener of [...this.jumpListeners]) listener(jump);
  }
}
