// The D series of the spec (twisted-semantics.md §5.1), in integer ms: Twisted's seconds ×1000.
// D20 uses Twisted's deferLater, which our API does not have (nor the T series, T01–T04, which tests it);
// a promise resolved by callLater stands in for it.
import { afterEach, describe, expect, it } from "vitest";
import type { DelayedCall } from "../../src/clock/clock.js";
import { AlreadyCalled, AlreadyCancelled } from "../../src/clock/errors.js";
import { VirtualClock } from "../../src/clock/virtual-clock.js";
import { settle, track } from "../helpers/settle.js";

let clock: VirtualClock;

function errorName(fn: () => void): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as Error).name;
  }
  return undefined;
}

/** Records the clock's time at each call, under a label. */
function recorder() {
  const log: [string, number][] = [];
  const record = (label: string) => () => {
    log.push([label, clock.now()]);
  };
  return { log, record };
}

/** A promise that resolves `ms` from now on the clock (Twisted's deferLater with no callable). */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => clock.callLater(ms, resolve));
}

afterEach(() => {
  // Twisted's tests end by asserting that nothing is left scheduled; so do ours.
  expect(clock.pending()).toEqual([]);
});

describe("a delayed call on the virtual clock", () => {
  it("D01: is pending at its due time, and time does not move by itself", () => {
    clock = new VirtualClock();
    const h = clock.callLater(1000, () => {});
    expect(clock.now()).toBe(0);
    expect(h.time).toBe(1000);
    expect(h.active()).toBe(true);
    expect(clock.pending()).toHaveLength(1);
    h.cancel();
  });

  it("D02: runs once, when time reaches its due time, and is then inactive", () => {
    clock = new VirtualClock();
    const { log, record } = recorder();
    const h = clock.callLater(2000, record("f"));
    clock.advance(1000);
    expect(log).toEqual([]);
    clock.advance(1000);
    expect(log).toEqual([["f", 2000]]);
    expect(h.active()).toBe(false);
  });

  it("D03: once cancelled never runs, and cancel/reset/delay then throw AlreadyCancelled", () => {
    clock = new VirtualClock();
    let ran = false;
    const h = clock.callLater(1000, () => {
      ran = true;
    });
    h.cancel();
    expect(h.active()).toBe(false);
    expect(() => h.cancel()).toThrow(AlreadyCancelled);
    expect(() => h.reset(1000)).toThrow(AlreadyCancelled);
    expect(() => h.delay(1000)).toThrow(AlreadyCancelled);
    expect(clock.pending()).toHaveLength(0);
    clock.advance(5000);
    expect(ran).toBe(false);
  });

  it("D04: is inactive inside its own function, where cancel/reset/delay throw AlreadyCalled", () => {
    clock = new VirtualClock();
    let inside: [boolean, string?, string?, string?] | undefined;
    const h: DelayedCall = clock.callLater(1000, () => {
      inside = [
        h.active(),
        errorName(() => h.cancel()),
        errorName(() => h.reset(1000)),
        errorName(() => h.delay(1000)),
      ];
    });
    clock.advance(1000);
    expect(inside).toEqual([false, "AlreadyCalled", "AlreadyCalled", "AlreadyCalled"]);
    expect(() => h.cancel()).toThrow(AlreadyCalled);
    expect(h.active()).toBe(false);
  });
});

describe("moving a delayed call", () => {
  it("D05: delay() postpones a call by the given amount", () => {
    clock = new VirtualClock();
    const { log, record } = recorder();
    const h = clock.callLater(1000, record("f"));
    h.delay(1000);
    expect(h.time).toBe(2000);
    clock.advance(1500);
    expect(log).toEqual([]);
    clock.advance(1000);
    expect(log).toEqual([["f", 2500]]);
  });

  it("D06: reset() later moves the due time to now + the new delay", () => {
    clock = new VirtualClock();
    const { log, record } = recorder();
    const h = clock.callLater(2000, record("f"));
    clock.advance(1000);
    h.reset(3000);
    expect(h.time).toBe(4000);
    clock.advance(2000);
    expect(log).toEqual([]);
    clock.advance(1000);
    expect(log).toEqual([["f", 4000]]);
  });

  it("D07: reset() sooner moves the due time earlier", () => {
    clock = new VirtualClock();
    const { log, record } = recorder();
    const h = clock.callLater(4000, record("f"));
    h.reset(3000);
    expect(h.time).toBe(3000);
    clock.advance(3000);
    expect(log).toEqual([["f", 3000]]);
  });

  it("D11a: a call reset before another is scheduled runs at its new time, after the other", () => {
    clock = new VirtualClock();
    const { log, record } = recorder();
    const a = clock.callLater(1000, record("a"));
    a.reset(3000);
    clock.callLater(2000, record("b"));
    clock.pump([1000, 1000, 1000]);
    expect(log).toEqual([
      ["b", 2000],
      ["a", 3000],
    ]);
  });

  it("D11b: a call reset after another is scheduled runs at its new time, after the other", () => {
    clock = new VirtualClock();
    const { log, record } = recorder();
    const a = clock.callLater(1000, record("a"));
    clock.callLater(2000, record("b"));
    a.reset(3000);
    clock.pump([1000, 1000, 1000]);
    expect(log).toEqual([
      ["b", 2000],
      ["a", 3000],
    ]);
  });

  it("D11c: a call reset from inside another call is re-timed from that moment", () => {
    clock = new VirtualClock();
    const { log, record } = recorder();
    const b = clock.callLater(2000, record("b"));
    clock.callLater(1000, () => b.reset(3000));
    clock.callLater(3000, record("c"));
    clock.pump(Array.from({ length: 10 }, () => 500));
    expect(log).toEqual([
      ["c", 3000],
      ["b", 4000],
    ]);
  });

  it("D14: delay() with a negative amount moves the call earlier", () => {
    clock = new VirtualClock();
    const { log, record } = recorder();
    const h = clock.callLater(10_000, record("f"));
    h.delay(-7000);
    expect(h.time).toBe(3000);
    clock.advance(3000);
    expect(log).toEqual([["f", 3000]]);
  });

  it("D15: reset(0) makes a call due now; it runs on the next advance, not synchronously", () => {
    clock = new VirtualClock();
    const { log, record } = recorder();
    clock.advance(5000);
    const h = clock.callLater(3000, record("f"));
    h.reset(0);
    expect(h.time).toBe(5000);
    expect(log).toEqual([]);
    clock.advance(0);
    expect(log).toEqual([["f", 5000]]);
  });

  it("D18: a call reset to now from inside an earlier call runs in the same advance", () => {
    clock = new VirtualClock();
    const { log, record } = recorder();
    const b = clock.callLater(2000, record("b"));
    clock.callLater(1000, () => {
      record("a")();
      b.reset(0);
    });
    clock.advance(1000);
    expect(log).toEqual([
      ["a", 1000],
      ["b", 1000],
    ]);
    expect(b.active()).toBe(false);
  });

  it("D21: a call reset onto another's time keeps its original place among equal times", () => {
    clock = new VirtualClock();
    const order: string[] = [];
    const a = clock.callLater(1000, () => order.push("A"));
    clock.callLater(2000, () => order.push("B"));
    a.reset(2000);
    clock.advance(2000);
    expect(order).toEqual(["A", "B"]);

    const fresh = new VirtualClock();
    const freshOrder: string[] = [];
    fresh.callLater(2000, () => freshOrder.push("B"));
    fresh.callLater(2000, () => freshOrder.push("A"));
    fresh.advance(2000);
    expect(freshOrder).toEqual(["B", "A"]);
  });

  it("rejects a delay that is not a finite number", () => {
    clock = new VirtualClock();
    const h = clock.callLater(1000, () => {});
    expect(() => h.reset(Number.NaN)).toThrow(RangeError);
    expect(() => h.delay(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => clock.callLater(Number.NaN, () => {})).toThrow(RangeError);
    expect(h.time).toBe(1000);
    h.cancel();
  });
});

describe("advancing the virtual clock", () => {
  it("D08: calls due at the same time run first-in first-out, after earlier calls", () => {
    clock = new VirtualClock();
    let order = "";
    for (const letter of "abcdefgh") clock.callLater(1000, () => (order += letter));
    clock.callLater(500, () => (order += "[early]"));
    clock.advance(1000);
    expect(order).toBe("[early]abcdefgh");
  });

  it("D09: a call scheduled during advance() that is already due runs in the same advance", () => {
    clock = new VirtualClock();
    const { log, record } = recorder();
    clock.callLater(1000, () => {
      record("a")();
      clock.callLater(0, record("c"));
    });
    clock.callLater(1000, record("b"));
    clock.advance(1000);
    expect(log).toEqual([
      ["a", 1000],
      ["b", 1000],
      ["c", 1000],
    ]);
  });

  it("D10: every call run by advance() sees the final time, not its own due time", () => {
    clock = new VirtualClock();
    const { log, record } = recorder();
    let c: DelayedCall | undefined;
    clock.callLater(1000, () => {
      record("a")();
      c = clock.callLater(500, record("c"));
    });
    clock.advance(2000);
    expect(log).toEqual([["a", 2000]]);
    expect(clock.now()).toBe(2000);
    // C was scheduled from the final time, 2000, so it is due at 2500 and has not run.
    expect(c?.time).toBe(2500);
    c?.cancel();
  });

  it("D12: a negative delay is accepted; the call is due in the past and runs on the next advance", () => {
    clock = new VirtualClock();
    const { log, record } = recorder();
    const h = clock.callLater(-1000, record("f"));
    expect(h.time).toBe(-1000);
    clock.advance(0);
    expect(log).toEqual([["f", 0]]);
  });

  it("D13: an exception from a call propagates out of advance(); the calls after it wait for the next advance", () => {
    clock = new VirtualClock();
    const ran: string[] = [];
    const boom = clock.callLater(1000, () => {
      ran.push("boom");
      throw new TypeError("boom");
    });
    clock.callLater(1000, () => ran.push("second"));
    expect(() => clock.advance(1000)).toThrow(TypeError);
    expect(ran).toEqual(["boom"]);
    expect(boom.active()).toBe(false);
    clock.advance(0);
    expect(ran).toEqual(["boom", "second"]);
  });

  it("D16: pump() advances by each amount; a negative advance moves time back and runs nothing", () => {
    clock = new VirtualClock();
    const fired: number[] = [];
    clock.pump([1000, 2500, 500]);
    expect(clock.now()).toBe(4000);
    clock.callLater(1000, () => fired.push(1));
    clock.advance(-10_000);
    expect(clock.now()).toBe(-6000);
    expect(fired).toEqual([]);
    clock.advance(11_000);
    expect(fired).toEqual([1]);
    expect(clock.now()).toBe(5000);
  });

  it("D17: pending() lists the calls sorted by due time; a cancelled call leaves the list at once", () => {
    clock = new VirtualClock();
    const fired: number[] = [];
    clock.callLater(3000, () => fired.push(3));
    const one = clock.callLater(1000, () => fired.push(1));
    clock.callLater(2000, () => fired.push(2));
    expect(clock.pending().map((c) => c.time)).toEqual([1000, 2000, 3000]);
    one.cancel();
    expect(clock.pending().map((c) => c.time)).toEqual([2000, 3000]);
    clock.advance(10_000);
    expect(fired).toEqual([2, 3]);
    expect(clock.pending()).toHaveLength(0);
  });

  it("D19: a call scheduled from inside a late call is timed from the final time of the advance", () => {
    clock = new VirtualClock();
    const { log, record } = recorder();
    let g: DelayedCall | undefined;
    clock.callLater(1000, () => {
      record("f")();
      g = clock.callLater(1000, record("g"));
    });
    clock.advance(5000);
    expect(log).toEqual([["f", 5000]]);
    expect(g?.time).toBe(6000);
    clock.advance(1000);
    expect(log).toEqual([
      ["f", 5000],
      ["g", 6000],
    ]);
  });

  it("D20: a chain of two 1 s sleeps needs 3 s after one late advance of 2 s (Twisted #9819) (µ)", async () => {
    // Twisted uses deferLater; our API has none, so a promise resolved by callLater plays its part.
    clock = new VirtualClock();
    const done = track(sleep(1000).then(() => sleep(1000)));
    clock.advance(2000);
    await settle();
    expect(done.status).toBe("pending");
    expect(clock.pending().map((c) => c.time)).toEqual([3000]);
    clock.advance(1000);
    await settle();
    expect(done.status).toBe("resolved");
    expect(clock.now()).toBe(3000);
  });

  it("a self-rescheduling zero-delay call makes advance() throw instead of hanging (Twisted #5962)", () => {
    clock = new VirtualClock();
    let handle: DelayedCall | undefined;
    const again = () => {
      handle = clock.callLater(0, again);
    };
    clock.callLater(0, again);
    expect(() => clock.advance(0)).toThrow(/zero-delay loop/);
    handle?.cancel();
  });

  it("starts at the given time", () => {
    clock = new VirtualClock(1_700_000_000_000);
    expect(clock.now()).toBe(1_700_000_000_000);
    expect(clock.wallNow()).toBe(1_700_000_000_000);
  });
});

describe("runUntil(): stepping through each due time", () => {
  it("lets every call see its own due time, unlike advance()", () => {
    clock = new VirtualClock();
    const { log, record } = recorder();
    clock.callLater(1000, () => {
      record("f")();
      clock.callLater(1000, record("g"));
    });
    clock.callLater(2500, record("h"));
    clock.runUntil(5000);
    expect(log).toEqual([
      ["f", 1000],
      ["g", 2000],
      ["h", 2500],
    ]);
    expect(clock.now()).toBe(5000);
  });

  it("leaves later calls pending and runs calls due exactly at the target time", () => {
    clock = new VirtualClock();
    const { log, record } = recorder();
    clock.callLater(3000, record("at"));
    const later = clock.callLater(3001, record("later"));
    clock.runUntil(3000);
    expect(log).toEqual([["at", 3000]]);
    expect(clock.now()).toBe(3000);
    later.cancel();
  });
});

describe("the wall clock of the virtual clock", () => {
  it("jumpWall() steps wallNow() only, and tells every listener once", () => {
    clock = new VirtualClock();
    const jumps: unknown[] = [];
    const stop = clock.onClockJump((jump) => jumps.push(jump));
    clock.advance(1000);
    clock.jumpWall(3_600_000);
    expect(clock.now()).toBe(1000);
    expect(clock.wallNow()).toBe(3_601_000);
    expect(jumps).toEqual([{ deltaMs: 3_600_000, direction: "forward", wallMs: 3_601_000 }]);
    clock.jumpWall(-60_000);
    expect(jumps[1]).toEqual({ deltaMs: -60_000, direction: "backward", wallMs: 3_541_000 });
    stop();
    clock.jumpWall(1000);
    expect(jumps).toHaveLength(2);
  });

  it("does not move elapsed-time calls when the wall clock jumps", () => {
    clock = new VirtualClock();
    const { log, record } = recorder();
    clock.callLater(1000, record("f"));
    clock.jumpWall(3_600_000);
    clock.advance(999);
    expect(log).toEqual([]);
    clock.advance(1);
    expect(log).toEqual([["f", 1000]]);
  });
});
