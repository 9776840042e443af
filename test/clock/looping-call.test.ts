// The L series of the spec (twisted-semantics.md §5.2), in integer ms: Twisted's seconds ×1000.
// Twisted's Deferreds fire synchronously; our promises do not, so vectors marked (µ) await settle()
// after a promise settles and before asserting or advancing.
//
// Not ported:
// - L36 (the deprecated `.deferred` property): there is no analogue; the promise returned by start() is the
//   only handle on the loop's end.
// - T01–T04 (deferLater): our API has no deferLater; a promise resolved by callLater does its job (see D20 in
//   virtual-clock.test.ts).
import { afterEach, describe, expect, it, vi } from "vitest";
import { StateError } from "../../src/clock/errors.js";
import { LoopingCall } from "../../src/clock/looping-call.js";
import { VirtualClock } from "../../src/clock/virtual-clock.js";
import { deferred, settle, track } from "../helpers/settle.js";

let clock: VirtualClock;

/** The due times of the pending calls: for a running loop, where its next call is. */
function nextAt(): number[] {
  return clock.pending().map((c) => c.time);
}

afterEach(() => {
  expect(clock.pending()).toEqual([]);
});

describe("a LoopingCall on the interval grid", () => {
  it("L01: runs at start and then on the grid, and start()'s promise resolves with the loop at stop()", async () => {
    clock = new VirtualClock();
    // Twisted passes arguments through start(); here the function closes over what it needs.
    const calls: number[] = [];
    const lc = new LoopingCall(clock, () => calls.push(clock.now()));
    const done = track(lc.start(100));
    expect(calls).toHaveLength(1);
    clock.pump([50, 100, 100]);
    lc.stop();
    await settle();
    expect(calls).toEqual([0, 150, 250]);
    expect(done).toEqual({ status: "resolved", value: lc });
    expect(lc.running).toBe(false);
  });

  it("L02: with now: false, the first call is one interval after start", async () => {
    clock = new VirtualClock();
    const calls: number[] = [];
    const lc = new LoopingCall(clock, () => calls.push(clock.now()));
    const done = track(lc.start(100, { now: false }));
    expect(calls).toEqual([]);
    expect(nextAt()).toEqual([100]);
    clock.pump([50, 100, 100]);
    expect(calls).toEqual([150, 250]);
    lc.stop();
    await settle();
    expect(done).toEqual({ status: "resolved", value: lc });
  });

  it("L06: reset() re-anchors the grid at now", () => {
    clock = new VirtualClock();
    const calls: number[] = [];
    const lc = new LoopingCall(clock, () => calls.push(clock.now()));
    void lc.start(2000, { now: false });
    clock.advance(1000);
    lc.reset();
    expect(lc.startTimeMs).toBe(1000);
    expect(nextAt()).toEqual([3000]);
    clock.advance(1000);
    expect(calls).toEqual([]);
    clock.advance(1000);
    expect(calls).toEqual([3000]);
    clock.advance(2000);
    expect(calls).toEqual([3000, 5000]);
    lc.stop();
  });

  it("L07: a slow call skips the grid points it overran; the next call is the next grid point", () => {
    clock = new VirtualClock();
    const calls: number[] = [];
    const durations = [2000, 1000, 0];
    const lc = new LoopingCall(clock, () => {
      calls.push(clock.now());
      clock.advance(durations[calls.length - 1] ?? 0);
    });
    void lc.start(500);
    expect(calls).toEqual([0]);
    expect(clock.now()).toBe(2000);
    expect(nextAt()).toEqual([2500]);
    clock.advance(0);
    expect(calls).toEqual([0]);
    clock.advance(500);
    expect(calls).toEqual([0, 2500]);
    expect(clock.now()).toBe(3500);
    expect(nextAt()).toEqual([4000]);
    clock.advance(0);
    expect(calls).toEqual([0, 2500]);
    clock.advance(500);
    expect(calls).toEqual([0, 2500, 4000]);
    expect(clock.now()).toBe(4000);
    lc.stop();
  });

  it("L08: a late clock gives one call, not a burst for the missed grid points", () => {
    clock = new VirtualClock();
    const calls: number[] = [];
    const lc = new LoopingCall(clock, () => calls.push(clock.now()));
    void lc.start(500);
    clock.advance(2000);
    expect(calls).toEqual([0, 2000]);
    expect(nextAt()).toEqual([2500]);
    clock.advance(1000);
    expect(calls).toEqual([0, 2000, 3000]);
    clock.advance(0);
    expect(calls).toEqual([0, 2000, 3000]);
    lc.stop();
  });

  it("L24: the next call after a promise settles is the first grid point strictly after the settling time (µ)", async () => {
    for (const [settleAtMs, expectedNext] of [
      [2000, 3000],
      [2500, 3000],
      [300, 1000],
    ] as const) {
      clock = new VirtualClock();
      let first = true;
      const lc = new LoopingCall(clock, () => {
        if (!first) return undefined;
        first = false;
        return new Promise<void>((resolve) => clock.callLater(settleAtMs, resolve));
      });
      void lc.start(1000);
      clock.advance(settleAtMs);
      await settle();
      expect(nextAt(), `settled at ${settleAtMs}`).toEqual([expectedNext]);
      lc.stop();
    }
  });

  it("L29: the grid is anchored at the start time, not at zero", () => {
    clock = new VirtualClock();
    const calls: number[] = [];
    const lc = new LoopingCall(clock, () => calls.push(clock.now()));
    clock.advance(100_000);
    void lc.start(3000, { now: false });
    clock.advance(3000);
    clock.advance(7500);
    expect(calls).toEqual([103_000, 110_500]);
    expect(nextAt()).toEqual([112_000]);
    lc.stop();
  });

  it("L30: ten 100 ms advances give eleven calls, exactly on the grid (integer ms: no float drift)", () => {
    clock = new VirtualClock();
    const calls: number[] = [];
    const lc = new LoopingCall(clock, () => calls.push(clock.now()));
    void lc.start(100);
    for (let i = 0; i < 10; i++) clock.advance(100);
    expect(calls).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
    expect(nextAt()).toEqual([1100]);
    lc.stop();
  });

  it("L31: at a huge start time the next call is still a full interval away (integer ms; Twisted's float sum absorbs it)", () => {
    clock = new VirtualClock(2 ** 53);
    const lc = new LoopingCall(clock, () => {});
    void lc.start(500);
    expect(nextAt().map((t) => t - clock.now())).toEqual([500]);
    lc.stop();
  });

  it("L33: a changed interval applies from the next scheduling, on the original anchor", () => {
    clock = new VirtualClock();
    const calls: number[] = [];
    const lc = new LoopingCall(clock, () => calls.push(clock.now()));
    void lc.start(2000);
    clock.advance(2000);
    lc.intervalMs = 3000;
    clock.advance(2000);
    clock.advance(2000);
    expect(calls).toEqual([0, 2000, 4000, 6000]);
    expect(nextAt()).toEqual([9000]);
    lc.stop();
  });

  it("L34: an already-resolved promise behaves like a plain return (µ)", async () => {
    clock = new VirtualClock();
    const calls: number[] = [];
    const lc = new LoopingCall(clock, () => {
      calls.push(clock.now());
      return Promise.resolve("ignored");
    });
    void lc.start(1000);
    await settle();
    clock.advance(1000);
    await settle();
    expect(calls).toEqual([0, 1000]);
    expect(nextAt()).toEqual([2000]);
    lc.stop();
  });

  it("L39: a call exactly on a grid point schedules the next one a full interval later, never at once", () => {
    clock = new VirtualClock();
    const calls: number[] = [];
    const lc = new LoopingCall(clock, () => calls.push(clock.now()));
    void lc.start(100);
    clock.advance(500);
    expect(calls).toEqual([0, 500]);
    expect(nextAt()).toEqual([600]);
    lc.stop();
  });

  it("L38: no near-double fire: a tiny advance after a grid call runs nothing (integer ms)", () => {
    // Twisted's float grid fires at 0.9999999999999999 and again at 1.0; with integer ms the grid is exact.
    clock = new VirtualClock();
    const calls: number[] = [];
    const lc = new LoopingCall(clock, () => calls.push(clock.now()));
    void lc.start(100);
    for (let i = 0; i < 10; i++) clock.advance(100);
    expect(calls).toHaveLength(11);
    expect(calls.at(-1)).toBe(1000);
    clock.advance(1);
    expect(calls).toHaveLength(11);
    expect(nextAt()).toEqual([1100]);
    lc.stop();
  });
});

describe("starting, stopping and resetting a LoopingCall", () => {
  it("L03: a negative interval is a RangeError; stop() and reset() on a stopped loop are StateErrors", () => {
    clock = new VirtualClock();
    const lc = new LoopingCall(clock, () => {});
    expect(() => lc.start(-1000)).toThrow(RangeError);
    expect(lc.running).toBe(false);
    expect(() => lc.stop()).toThrow(StateError);
    expect(() => lc.reset()).toThrow(StateError);
  });

  it("rejects an interval that is not a whole number of ms", () => {
    clock = new VirtualClock();
    const lc = new LoopingCall(clock, () => {});
    expect(() => lc.start(0.5)).toThrow(RangeError);
    expect(() => lc.start(Number.NaN)).toThrow(RangeError);
    expect(lc.running).toBe(false);
  });

  it.each([0, 10_000])(
    "L04: stop() before the first call (interval %i ms) cancels it and resolves at once",
    async (intervalMs) => {
      clock = new VirtualClock();
      const calls: number[] = [];
      const lc = new LoopingCall(clock, () => calls.push(clock.now()));
      const done = track(lc.start(intervalMs, { now: false }));
      lc.stop();
      await Promise.resolve();
      expect(done).toEqual({ status: "resolved", value: lc });
      clock.advance(20_000);
      expect(calls).toEqual([]);
      expect(lc.running).toBe(false);
    },
  );

  it("L05: starting a running loop is a StateError", () => {
    clock = new VirtualClock();
    const lc = new LoopingCall(clock, () => {});
    void lc.start(1000);
    expect(() => lc.start(1000)).toThrow(StateError);
    lc.stop();
  });

  it("L25: stop() from inside the function resolves start()'s promise right after that call", async () => {
    clock = new VirtualClock();
    const calls: number[] = [];
    const lc = new LoopingCall(clock, () => {
      calls.push(clock.now());
      if (calls.length === 3) lc.stop();
    });
    const done = track(lc.start(1000));
    clock.advance(1000);
    clock.advance(1000);
    await Promise.resolve();
    expect(done).toEqual({ status: "resolved", value: lc });
    clock.advance(5000);
    expect(calls).toEqual([0, 1000, 2000]);
    expect(lc.running).toBe(false);
  });

  it("L26: a restarted loop anchors its grid at the restart time", () => {
    clock = new VirtualClock();
    const calls: number[] = [];
    const lc = new LoopingCall(clock, () => calls.push(clock.now()));
    void lc.start(1000);
    clock.advance(2500);
    lc.stop();
    clock.advance(250);
    void lc.start(1000, { now: false });
    clock.advance(1000);
    clock.advance(1000);
    expect(calls).toEqual([0, 2500, 3750, 4750]);
    expect(lc.startTimeMs).toBe(2750);
    expect(lc.running).toBe(true);
    lc.stop();
  });

  it("L32: running is false before start, true inside the function and after start, false after stop", async () => {
    clock = new VirtualClock();
    const inside: boolean[] = [];
    const lc = new LoopingCall(clock, () => inside.push(lc.running));
    expect(lc.running).toBe(false);
    const done = track(lc.start(1000));
    expect(inside).toEqual([true]);
    expect(lc.running).toBe(true);
    lc.stop();
    expect(lc.running).toBe(false);
    await settle();
    expect(done).toEqual({ status: "resolved", value: lc });
  });

  it("L23 (deliberate deviation): reset() during an in-flight iteration re-anchors the grid at the reset time (µ)", async () => {
    // Twisted ignores this reset (starttime stays 0, next call at 3.0). We apply it: the grid moves to 500,
    // so when the promise settles at 2500 the next call is at 3500.
    clock = new VirtualClock();
    const calls: number[] = [];
    const first = deferred();
    const lc = new LoopingCall(clock, () => {
      calls.push(clock.now());
      return calls.length === 1 ? first.promise : undefined;
    });
    void lc.start(1000);
    clock.advance(500);
    lc.reset();
    expect(lc.startTimeMs).toBe(500);
    expect(nextAt()).toEqual([]);
    clock.advance(2000);
    first.resolve();
    await settle();
    expect(nextAt()).toEqual([3500]);
    clock.advance(500);
    expect(calls).toEqual([0]);
    clock.advance(500);
    expect(calls).toEqual([0, 3500]);
    lc.stop();
  });
});

describe("a LoopingCall whose function returns a promise", () => {
  it("L15: waits for the promise, so iterations never overlap (µ)", async () => {
    clock = new VirtualClock();
    const calls: number[] = [];
    const lc = new LoopingCall(clock, () => {
      calls.push(clock.now());
      const p = new Promise<void>((resolve) => clock.callLater(1000, resolve));
      return p.then(() => lc.stop());
    });
    const done = track(lc.start(200));
    clock.pump([200, 800]);
    await settle();
    expect(calls).toEqual([0]);
    expect(done).toEqual({ status: "resolved", value: lc });
    expect(lc.running).toBe(false);
  });

  it("L16: a rejected promise ends the loop and rejects start()'s promise (µ)", async () => {
    clock = new VirtualClock();
    const error = new TypeError("E");
    const lc = new LoopingCall(
      clock,
      () => new Promise<void>((_, reject) => clock.callLater(300, () => reject(error))),
    );
    const done = track(lc.start(1000));
    expect(lc.running).toBe(true);
    clock.pump([300]);
    await settle();
    expect(done).toEqual({ status: "rejected", error });
    expect(lc.running).toBe(false);
  });

  it("L20: the count after a slow promise includes the grid points it overran (µ)", async () => {
    clock = new VirtualClock();
    const counts: [number, number][] = [];
    const first = deferred();
    const lc = LoopingCall.withCount(clock, (count) => {
      counts.push([count, clock.now()]);
      return counts.length === 1 ? first.promise : undefined;
    });
    void lc.start(200, { now: false });
    clock.pump([200, 400]);
    expect(counts).toEqual([[1, 200]]);
    first.resolve();
    await settle();
    expect(nextAt()).toEqual([800]);
    clock.pump([200]);
    expect(counts).toEqual([
      [1, 200],
      [3, 800],
    ]);
    lc.stop();
  });

  it("L21: stop() during an in-flight promise resolves start()'s promise only when it settles (µ)", async () => {
    clock = new VirtualClock();
    const calls: number[] = [];
    const first = deferred();
    const lc = new LoopingCall(clock, () => {
      calls.push(clock.now());
      return first.promise;
    });
    const done = track(lc.start(1000));
    lc.stop();
    await settle();
    expect(done.status).toBe("pending");
    expect(lc.running).toBe(false);
    clock.advance(5000);
    first.resolve();
    await settle();
    expect(done).toEqual({ status: "resolved", value: lc });
    clock.advance(5000);
    expect(calls).toEqual([0]);
  });

  it("L22: a promise rejected after stop() still rejects start()'s promise (µ)", async () => {
    clock = new VirtualClock();
    const first = deferred();
    const error = new TypeError("E");
    const lc = new LoopingCall(clock, () => first.promise);
    const done = track(lc.start(1000));
    lc.stop();
    first.reject(error);
    await settle();
    expect(done).toEqual({ status: "rejected", error });
    expect(lc.running).toBe(false);
  });

  it("L35: an already-rejected promise ends the loop (µ)", async () => {
    clock = new VirtualClock();
    const error = new RangeError("KeyError");
    const lc = new LoopingCall(clock, () => Promise.reject(error));
    const done = track(lc.start(1000, { now: false }));
    clock.advance(1000);
    await settle();
    expect(done).toEqual({ status: "rejected", error });
    expect(lc.running).toBe(false);
  });
});

describe("a LoopingCall whose function throws", () => {
  it("L17: a throw inside start() rejects the promise start() returns, before anything else runs", async () => {
    clock = new VirtualClock();
    const error = new TypeError("E");
    const calls: string[] = [];
    const lc = new LoopingCall(clock, () => {
      calls.push("bar");
      throw error;
    });
    const done = track(lc.start(100));
    expect(calls).toEqual(["bar"]);
    expect(lc.running).toBe(false);
    await Promise.resolve();
    expect(done).toEqual({ status: "rejected", error });
  });

  it("L18: stop() then throw inside the function rejects the promise (the failure wins)", async () => {
    clock = new VirtualClock();
    const error = new TypeError("E");
    const calls: number[] = [];
    const lc = new LoopingCall(clock, () => {
      calls.push(clock.now());
      lc.stop();
      throw error;
    });
    const done = track(lc.start(100, { now: false }));
    clock.advance(100);
    await settle();
    expect(calls).toEqual([100]);
    expect(done).toEqual({ status: "rejected", error });
    expect(lc.running).toBe(false);
  });
});

describe("a LoopingCall with interval 0", () => {
  it("L19: runs back to back inside one advance(0) until stopped", async () => {
    clock = new VirtualClock();
    const calls: number[] = [];
    const lc = new LoopingCall(clock, () => {
      calls.push(clock.now());
      if (calls.length === 6) lc.stop();
    });
    const done = track(lc.start(0));
    expect(calls).toEqual([0]);
    clock.advance(0);
    expect(calls).toEqual([0, 0, 0, 0, 0, 0]);
    await settle();
    expect(done).toEqual({ status: "resolved", value: lc });
  });

  it("L12: withCount gives count 1 to every back-to-back call", async () => {
    clock = new VirtualClock();
    const counts: [number, number][] = [];
    const lc = LoopingCall.withCount(clock, (count) => {
      counts.push([count, clock.now()]);
      if (counts.length === 5) lc.stop();
    });
    const done = track(lc.start(0, { now: false }));
    expect(nextAt()).toEqual([0]);
    clock.advance(0);
    expect(counts).toEqual([
      [1, 0],
      [1, 0],
      [1, 0],
      [1, 0],
      [1, 0],
    ]);
    await settle();
    expect(done).toEqual({ status: "resolved", value: lc });
  });

  it("L13: a pending promise blocks the loop however much time passes (µ)", async () => {
    clock = new VirtualClock();
    const counts: number[] = [];
    const second = deferred();
    const lc = LoopingCall.withCount(clock, (count) => {
      counts.push(count);
      if (counts.length === 5) lc.stop();
      return counts.length === 2 ? second.promise : undefined;
    });
    const done = track(lc.start(0, { now: false }));
    clock.pump([0, 0]);
    expect(counts).toEqual([1, 1]);
    clock.pump([1000, 1000]);
    expect(counts).toEqual([1, 1]);
    second.resolve();
    expect(counts).toEqual([1, 1]);
    await settle();
    clock.pump([0, 0, 0, 0]);
    expect(counts).toEqual([1, 1, 1, 1, 1]);
    await settle();
    expect(done).toEqual({ status: "resolved", value: lc });
  });

  it("L14: switching from interval 0 to a real interval puts the next call on the new grid (µ)", async () => {
    clock = new VirtualClock();
    const counts: [number, number][] = [];
    const second = deferred();
    const lc = LoopingCall.withCount(clock, (count) => {
      counts.push([count, clock.now()]);
      return counts.length === 2 ? second.promise : undefined;
    });
    void lc.start(0, { now: false });
    clock.pump(Array.from({ length: 7 }, () => 1000));
    expect(counts).toEqual([
      [1, 1000],
      [1, 1000],
    ]);
    lc.intervalMs = 2000;
    second.resolve();
    await settle();
    expect(nextAt()).toEqual([8000]);
    clock.advance(9000);
    expect(counts.at(-1)).toEqual([8, 16_000]);
    clock.advance(2000);
    clock.advance(4000);
    expect(counts).toEqual([
      [1, 1000],
      [1, 1000],
      [8, 16_000],
      [1, 18_000],
      [2, 22_000],
    ]);
    lc.stop();
  });
});

describe("LoopingCall.withCount: the number of grid intervals since the previous call", () => {
  it("L09: counts the grid points missed by a late clock", () => {
    clock = new VirtualClock();
    const calls: [number, number][] = [];
    const lc = LoopingCall.withCount(clock, (count) => calls.push([clock.now(), count]));
    void lc.start(500);
    clock.advance(510);
    clock.advance(1510);
    clock.advance(0);
    expect(calls).toEqual([
      [0, 1],
      [510, 1],
      [2020, 3],
    ]);
    lc.stop();
  });

  it("L10: a late call that crosses no extra grid point still gets count 1", () => {
    clock = new VirtualClock();
    const calls: [number, number][] = [];
    const lc = LoopingCall.withCount(clock, (count) => calls.push([clock.now(), count]));
    void lc.start(500);
    clock.advance(510);
    clock.advance(875);
    clock.advance(125);
    expect(calls).toEqual([
      [0, 1],
      [510, 1],
      [1385, 1],
      [1510, 1],
    ]);
    lc.stop();
  });

  it("L11: every tick of a 100 ms grid gets count 1, including the one at 600 (integer ms: no 0-count tick)", () => {
    // Twisted's float grid skips 0.6 (count 0) and delivers the missing unit at 1.0; integer ms has no such tick.
    clock = new VirtualClock();
    const calls: [number, number][] = [];
    const lc = LoopingCall.withCount(clock, (count) => calls.push([clock.now(), count]));
    void lc.start(100, { now: false });
    for (let i = 0; i < 10; i++) clock.advance(100);
    expect(calls).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900, 1000].map((t) => [t, 1]));
    clock.advance(1);
    expect(calls).toHaveLength(10);
    expect(nextAt()).toEqual([1100]);
    lc.stop();
  });

  it("L27 (fixed quirk): after a restart the first count is 1, not the intervals since the previous run", () => {
    // Twisted keeps the previous run's last call time and reports (10.0, 7) here.
    clock = new VirtualClock();
    const calls: [number, number][] = [];
    const lc = LoopingCall.withCount(clock, (count) => calls.push([clock.now(), count]));
    void lc.start(1000);
    clock.pump([1000, 1000, 1000]);
    lc.stop();
    clock.advance(7000);
    void lc.start(1000);
    clock.advance(1000);
    expect(calls).toEqual([
      [0, 1],
      [1000, 1],
      [2000, 1],
      [3000, 1],
      [10_000, 1],
      [11_000, 1],
    ]);
    lc.stop();
  });

  it("L28: the first count after reset() is 1", () => {
    clock = new VirtualClock();
    const calls: [number, number][] = [];
    const lc = LoopingCall.withCount(clock, (count) => calls.push([clock.now(), count]));
    void lc.start(5000);
    clock.advance(2000);
    lc.reset();
    expect(lc.startTimeMs).toBe(2000);
    expect(nextAt()).toEqual([7000]);
    clock.advance(5000);
    clock.advance(12_000);
    expect(calls).toEqual([
      [0, 1],
      [7000, 1],
      [19_000, 2],
    ]);
    lc.stop();
  });

  it("L37: time spent inside the function is counted at the next call", () => {
    clock = new VirtualClock();
    const calls: [number, number][] = [];
    const lc = LoopingCall.withCount(clock, (count) => {
      calls.push([clock.now(), count]);
      if (calls.length === 1) clock.advance(2500);
    });
    void lc.start(1000);
    clock.advance(500);
    clock.advance(1000);
    expect(calls).toEqual([
      [0, 1],
      [3000, 3],
      [4000, 1],
    ]);
    lc.stop();
  });
});

describe("a LoopingCall for a target, started without a promise (one function for many loops)", () => {
  it("calls the function with its target on the grid", () => {
    clock = new VirtualClock();
    const calls: string[] = [];
    const record = (name: string) => calls.push(`${name}@${clock.now()}`);
    const a = LoopingCall.calling(clock, record, "a");
    const b = LoopingCall.calling(clock, record, "b");
    expect(a.run(100)).toBeUndefined();
    b.run(150, { now: false });
    clock.pump([100, 50, 150]);
    a.stop();
    b.stop();
    // a missed 200 (the clock leapt from 150 to 300): it runs once at 300, never in a burst.
    expect(calls).toEqual(["a@0", "a@100", "b@150", "a@300", "b@300"]);
  });

  it("stops at the first failure and throws it where nothing can miss it, as no promise reports it", () => {
    clock = new VirtualClock();
    const thrown: (() => void)[] = [];
    const spy = vi.spyOn(globalThis, "queueMicrotask").mockImplementation((fn) => thrown.push(fn));
    try {
      const failure = new Error("broken job table");
      const lc = LoopingCall.calling(
        clock,
        (n: number) => {
          if (clock.now() >= n) throw failure;
        },
        200,
      );
      lc.run(100);
      clock.pump([100, 100, 100]);
      expect(lc.running).toBe(false);
      expect(thrown).toHaveLength(1);
      expect(thrown[0]).toThrow(failure);
    } finally {
      spy.mockRestore();
    }
  });
});
