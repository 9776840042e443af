import type { DelayedCall } from "./clock.js";
import { AlreadyCalled, AlreadyCancelled } from "./errors.js";

/** A DelayedCall stored in a TimerHeap; ordered by (time, seq), so equal times run first-in first-out. */
export class ScheduledCall implements DelayedCall {
  /** Position in the heap's array, -1 when not in the heap. */
  index = -1;
  private state: "pending" | "called" | "cancelled" = "pending";

  constructor(
    private readonly heap: TimerHeap,
    public time: number,
    readonly seq: number,
    private fn: ((arg: unknown) => void) | undefined,
    private arg: unknown,
  ) {}

  active(): boolean {
    return this.state === "pending";
  }

  cancel(): void {
    this.checkPending();
    this.state = "cancelled";
    this.fn = this.arg = undefined;
    this.heap.cancel(this);
  }

  reset(delayMs: number): void {
    this.checkPending();
    this.heap.move(this, this.heap.now() + checkDelay(delayMs));
  }

  delay(ms: number): void {
    this.checkPending();
    this.heap.move(this, this.time + checkDelay(ms));
  }

  /** Marks the call as run before running it, so that inside `fn` it is no longer active (Twisted's order). */
  run(): void {
    const fn = this.fn!;
    const arg = this.arg;
    this.state = "called";
    this.fn = this.arg = undefined;
    fn(arg);
  }

  private checkPending(): void {
    if (this.state === "cancelled") throw new AlreadyCancelled();
    if (this.state === "called") throw new AlreadyCalled();
  }
}

export function checkDelay(delayMs: number): number {
  if (!Number.isFinite(delayMs))
    throw new RangeError(`a delay must be a finite number of ms, got ${delayMs}`);
  return delayMs;
}

function before(a: ScheduledCall, b: ScheduledCall): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

/**
 * A binary min-heap of pending calls keyed on (time, seq), with each call's index kept so that cancel and
 * reset are O(log n). Shared by the VirtualClock and the Reactor: they differ only in how time passes.
 */
export class TimerHeap {
  private readonly calls: ScheduledCall[] = [];
  private nextSeq = 0;

  /** `changed` is told when a call moved or was cancelled, so an owner with an armed timer can re-arm it. */
  constructor(
    readonly now: () => number,
    private readonly changed?: () => void,
  ) {}

  get size(): number {
    return this.calls.length;
  }

  /** The earliest pending call, if any. */
  peek(): ScheduledCall | undefined {
    return this.calls[0];
  }

  /** Creates a call due at `time`; `insert` decides whether it enters the heap now or later. */
  create(time: number, fn: (arg: unknown) => void, arg: unknown): ScheduledCall {
    return new ScheduledCall(this, time, this.nextSeq++, fn, arg);
  }

  insert(call: ScheduledCall): void {
    call.index = this.calls.length;
    this.calls.push(call);
    this.siftUp(call.index);
  }

  /** Removes and returns the earliest call. */
  pop(): ScheduledCall | undefined {
    const top = this.calls[0];
    if (top) this.remove(top);
    return top;
  }

  /** Removes a cancelled call and tells the owner, which may have nothing left to wait for. */
  cancel(call: ScheduledCall): void {
    this.remove(call);
    this.changed?.();
  }

  remove(call: ScheduledCall): void {
    const i = call.index;
    if (i < 0) return; // not inserted yet (created during a reactor pass)
    const last = this.calls.pop()!;
    call.index = -1;
    if (i === this.calls.length) return;
    this.calls[i] = last;
    last.index = i;
    this.siftUp(i);
    this.siftDown(last.index);
  }

  move(call: ScheduledCall, time: number): void {
    call.time = time;
    if (call.index < 0) return;
    this.siftUp(call.index);
    this.siftDown(call.index);
    this.changed?.();
  }

  /** The pending calls sorted by due time (a copy). */
  sorted(): ScheduledCall[] {
    return [...this.calls].sort((a, b) => (before(a, b) ? -1 : 1));
  }

  private siftUp(i: number): void {
    const { calls } = this;
    const item = calls[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = calls[parent]!;
      if (!before(item, p)) break;
      calls[i] = p;
      p.index = i;
      i = parent;
    }
    calls[i] = item;
    item.index = i;
  }

  private siftDown(i: number): void {
    const { calls } = this;
    const n = calls.length;
    const item = calls[i]!;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && before(calls[right]!, calls[child]!)) child = right;
      const c = calls[child]!;
      if (!before(c, item)) break;
      calls[i] = c;
      c.index = i;
      i = child;
    }
    calls[i] = item;
    item.index = i;
  }
}
