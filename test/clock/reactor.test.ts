// The R series of the spec (twisted-semantics.md §5.3) plus the Reactor's own duties: real time, capped
// sleeps, keep-alive and wall-clock jump detection. These are the only clock tests that use real time; each
// waits a few tens of ms at most. Timing assertions are only "not early" and "ran at all".
//
// Twisted's passes are observed without peeking inside: a microtask queued by a call runs after the whole
// pass (a pass is one timer or immediate callback), so a marker it pushes separates one pass from the next.
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ClockJump, DelayedCall } from "../../src/clock/clock.js";
import { LoopingCall } from "../../src/clock/looping-call.js";
import { Reactor, type ReactorOptions, type TimeSource } from "../../src/clock/reactor.js";

// Captured before any spy replaces it, so that the tests' own waits never count as the reactor's timers.
const realSetTimeout = globalThis.setTimeout;
const pause = (ms: number) => new Promise<void>((resolve) => realSetTimeout(resolve, ms));

/** Waits (in real time, generously) until `condition` holds. */
async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error("waitUntil: timed out");
    await pause(1);
  }
}

const reactors: Reactor[] = [];

function reactor(options: ReactorOptions = {}): Reactor {
  const r = new Reactor({
    onError: (error) => expect.fail(`unexpected error: ${String(error)}`),
    ...options,
  });
  reactors.push(r);
  return r;
}

afterEach(() => {
  for (const r of reactors.splice(0)) r.close();
  vi.restoreAllMocks();
});

/** Resolves with the reactor's now() when a call `delayMs` from now runs. */
function runAfter(r: Reactor, delayMs: number, fn: () => void = () => {}): Promise<number> {
  return new Promise((resolve) =>
    r.callLater(delayMs, () => {
      fn();
      resolve(r.now());
    }),
  );
}

/**
 * A TimeSource that stands still until told: elapsed time moves only by `elapse(ms)`, and the wall clock follows
 * it plus any `stepWall(ms)`. The reactor's real timers still fire; on waking they find only the time the test set.
 */
function manualTime(startWallMs = 1_700_000_000_000) {
  let monoMs = 0;
  let wallStepMs = 0;
  let wallReads = 0;
  const time: TimeSource = {
    monotonicMs: () => monoMs,
    wallMs: () => {
      wallReads++;
      return startWallMs + monoMs + wallStepMs;
    },
  };
  return {
    time,
    elapse: (ms: number) => {
      monoMs += ms;
    },
    stepWall: (ms: number) => {
      wallStepMs += ms;
    },
    /** How often the reactor read the wall clock: once when built and once per pass. */
    wallReads: () => wallReads,
  };
}

function timersAndImmediates(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === "Timeout" || kind === "Immediate").length;
}

describe("the reactor runs calls in real time", () => {
  it("runs calls in order of due time, whatever the order they were scheduled in", async () => {
    const r = reactor();
    const order: string[] = [];
    const handles: [string, DelayedCall][] = [];
    const runs = (
      [
        ["c", 30],
        ["a", 10],
        ["b", 20],
      ] as const
    ).map(
      ([label, delayMs]) =>
        new Promise<void>((resolve) => {
          const handle = r.callLater(delayMs, () => {
            order.push(label);
            resolve();
          });
          handles.push([label, handle]);
        }),
    );
    await Promise.all(runs);
    // Compared with the due times themselves, so a stall between the callLater() calls cannot upset it.
    const byDueTime = [...handles].sort(([, x], [, y]) => x.time - y.time).map(([label]) => label);
    expect(order).toEqual(byDueTime);
  });

  it("never runs a call before its due time, as measured by its own now()", async () => {
    const r = reactor();
    const observed: [number, number][] = [];
    const runs: Promise<number>[] = [];
    for (const delayMs of [1, 2, 3, 5, 8, 13, 21, 34]) {
      let handle: DelayedCall | undefined;
      runs.push(
        new Promise((resolve) => {
          handle = r.callLater(delayMs, () => {
            observed.push([r.now(), handle!.time]);
            resolve(r.now());
          });
        }),
      );
    }
    await Promise.all(runs);
    expect(observed).toHaveLength(8);
    for (const [ranAt, dueAt] of observed) expect(ranAt).toBeGreaterThanOrEqual(dueAt);
  });

  it("counts now() from the wall-clock time of its construction", () => {
    const time = manualTime(1_700_000_000_000);
    const r = reactor({ time: time.time });
    expect(r.now()).toBe(1_700_000_000_000);
    time.elapse(250);
    expect(r.now()).toBe(1_700_000_000_250);
  });

  it("R01: a call scheduled during a pass runs in a later pass, even with delay 0", async () => {
    const r = reactor();
    const log: string[] = [];
    const done = new Promise<void>((resolve) => {
      r.callLater(0, () => {
        log.push("a");
        queueMicrotask(() => log.push("end of pass 1"));
        r.callLater(0, () => {
          log.push("c");
          resolve();
        });
      });
      r.callLater(0, () => log.push("b"));
    });
    await done;
    expect(log).toEqual(["a", "b", "end of pass 1", "c"]);
  });

  it.each([3, 5, 8])(
    "R02 (deliberate deviation): %i calls due at the same time run first-in first-out",
    async (n) => {
      // Twisted's heap gives [0,2,4,1,3] for 5 and [0,2,6,5,7,4,1,3] for 8; our heap is keyed on (time, seq).
      const time = manualTime();
      const r = reactor({ time: time.time });
      const order: number[] = [];
      const runs = Array.from({ length: n }, (_, i) => runAfter(r, 5, () => order.push(i)));
      time.elapse(5);
      await Promise.all(runs);
      expect(order).toEqual(Array.from({ length: n }, (_, i) => i));
    },
  );

  it("R04: a call moved later runs at its new time, not its old one", async () => {
    const r = reactor();
    let handle: DelayedCall | undefined;
    const ran = new Promise<number>((resolve) => {
      handle = r.callLater(10, () => resolve(r.now()));
    });
    const scheduledAt = r.now();
    handle!.reset(40);
    expect(handle!.time).toBeGreaterThanOrEqual(scheduledAt + 40);
    expect(await ran).toBeGreaterThanOrEqual(handle!.time);
  });

  it("R05: a cancelled call never runs and leaves pending() at once", async () => {
    const r = reactor();
    let ran = false;
    const h = r.callLater(5, () => {
      ran = true;
    });
    h.cancel();
    expect(r.pending()).toEqual([]);
    await runAfter(r, 20);
    expect(ran).toBe(false);
  });

  it("R06: an exception in one call is reported through onError, and the other calls still run", async () => {
    const errors: unknown[] = [];
    const r = reactor({ onError: (error) => errors.push(error) });
    const boom = new TypeError("boom");
    const order: string[] = [];
    r.callLater(0, () => {
      order.push("boom");
      throw boom;
    });
    await runAfter(r, 0, () => order.push("after"));
    expect(order).toEqual(["boom", "after"]);
    expect(errors).toEqual([boom]);
  });

  it("R07: a LoopingCall with interval 0 runs one iteration per pass, and the event loop turns between passes", async () => {
    const r = reactor();
    const log: string[] = [];
    const turnsSeen: number[] = [];
    // Another event-loop client (think I/O): counts the loop's turns, one per check phase.
    let turns = 0;
    let ticking = true;
    const tick = () => {
      turns++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    try {
      const lc = new LoopingCall(r, () => {
        turnsSeen.push(turns);
        log.push(`iteration ${turnsSeen.length}`);
        queueMicrotask(() => log.push("end of pass"));
        if (turnsSeen.length === 4) lc.stop();
      });
      await lc.start(0);
    } finally {
      ticking = false;
    }
    expect(log).toEqual([
      "iteration 1",
      "end of pass",
      "iteration 2",
      "end of pass",
      "iteration 3",
      "end of pass",
      "iteration 4",
      "end of pass",
    ]);
    // Each iteration saw a later turn of the loop than the one before: the loop never hogs a turn.
    for (let i = 1; i < turnsSeen.length; i++) expect(turnsSeen[i]).toBeGreaterThan(turnsSeen[i - 1]!);
  });

  it("R08: now is sampled once per pass: a call made due by a slow call waits for the next pass", async () => {
    const time = manualTime();
    // The armed timer still sleeps in real time: keep it short, as elapsed time only moves when told.
    const r = reactor({ time: time.time, maxSleepMs: 5 });
    const origin = r.now();
    const log: string[] = [];
    r.callLater(1000, () => {
      log.push(`slow at +${r.now() - origin}`);
      time.elapse(5000); // the call takes 5 s
      queueMicrotask(() => log.push("end of pass 1"));
    });
    const b = runAfter(r, 3000, () => log.push(`b at +${r.now() - origin}`));
    time.elapse(1000);
    await b;
    expect(log).toEqual(["slow at +1000", "end of pass 1", "b at +6000"]);
  });

  it("R09: a negative delay is a RangeError (Twisted: AssertionError), as is a delay that is not a number", () => {
    const r = reactor();
    expect(() => r.callLater(-1, () => {})).toThrow(RangeError);
    expect(() => r.callLater(Number.NaN, () => {})).toThrow(RangeError);
    expect(r.pending()).toEqual([]);
  });

  it("lists in pending() a call scheduled during a pass, and never runs it once cancelled", async () => {
    const r = reactor();
    let inner: DelayedCall | undefined;
    let ranInner = false;
    await runAfter(r, 0, () => {
      inner = r.callLater(0, () => {
        ranInner = true;
      });
      expect(r.pending()).toContain(inner);
      inner.cancel();
      expect(r.pending()).not.toContain(inner);
    });
    await runAfter(r, 5);
    expect(ranInner).toBe(false);
    expect(r.pending()).toEqual([]);
  });
});

describe("the reactor's sleeps are capped", () => {
  it("R03: a call 60 s away with maxSleepMs 20 wakes the reactor repeatedly without running, and runs once due", async () => {
    // Twisted caps its poll timeout at 2147483 s; we never arm a Node timer longer than maxSleepMs.
    const setTimeoutSpy = vi.spyOn(globalThis, "setTimeout");
    const time = manualTime();
    const r = reactor({ time: time.time, maxSleepMs: 20 });
    let ran = false;
    const done = runAfter(r, 60_000, () => {
      ran = true;
    });
    const readsBefore = time.wallReads();
    await waitUntil(() => time.wallReads() - readsBefore >= 3); // woke, re-checked, slept again, three times
    expect(ran).toBe(false);
    time.elapse(60_000);
    await done;
    expect(ran).toBe(true);
    const armedDelays = setTimeoutSpy.mock.calls.map(([, ms]) => ms ?? 0);
    expect(armedDelays.length).toBeGreaterThan(0);
    for (const ms of armedDelays) expect(ms).toBeLessThanOrEqual(20);
  });

  it("R03: a delay beyond Node's 2^31-1 ms timer limit neither overflows nor fires early", async () => {
    const setTimeoutSpy = vi.spyOn(globalThis, "setTimeout");
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    try {
      const r = reactor();
      let ran = false;
      r.callLater(2 ** 31 + 1000, () => {
        ran = true;
      });
      await pause(30);
      expect(ran).toBe(false);
      for (const [, ms] of setTimeoutSpy.mock.calls) expect(ms).toBeLessThanOrEqual(30_000);
      expect(warnings.filter((w) => w.name === "TimeoutOverflowWarning")).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });
});

describe("the reactor waits the last fraction of a millisecond by turning the event loop, within a share of the time", () => {
  it("a Node timer that wakes a fraction of a millisecond before the call is due runs it on the next turns of the event loop", async () => {
    // Another timer would wait at least a whole millisecond more; turning the loop polls I/O without blocking.
    const setTimeoutSpy = vi.spyOn(globalThis, "setTimeout");
    const time = manualTime();
    const r = reactor({ time: time.time, turnLoopShare: 0.05 });
    let ran = false;
    const done = runAfter(r, 10, () => {
      ran = true;
    });
    expect(setTimeoutSpy).toHaveBeenCalledTimes(1);
    time.elapse(9.6); // the timer will find the call 0.4 ms from due
    const readsBefore = time.wallReads();
    await waitUntil(() => time.wallReads() - readsBefore >= 3); // woke, and keeps checking
    expect(ran).toBe(false);
    expect(setTimeoutSpy).toHaveBeenCalledTimes(1);
    time.elapse(0.4);
    expect(await done).toBe(r.now());
    expect(ran).toBe(true);
    expect(setTimeoutSpy).toHaveBeenCalledTimes(1);
  });

  it("runs a call due a fraction of a millisecond after the one before on the next turns of the loop", async () => {
    const setTimeoutSpy = vi.spyOn(globalThis, "setTimeout");
    const time = manualTime();
    const r = reactor({ time: time.time, turnLoopShare: 0.05 });
    const first = runAfter(r, 10);
    const second = runAfter(r, 10.4);
    time.elapse(10);
    await first;
    expect(setTimeoutSpy).toHaveBeenCalledTimes(1);
    time.elapse(0.4);
    expect(await second).toBe(r.now());
    expect(setTimeoutSpy).toHaveBeenCalledTimes(1);
  });

  it("turns the loop for at most a twentieth of the time: with that share used up, it waits on a timer", async () => {
    const setTimeoutSpy = vi.spyOn(globalThis, "setTimeout");
    const time = manualTime();
    const r = reactor({ time: time.time, turnLoopShare: 0.05 });
    // Calls 0.9 ms apart: each is waited for by turning the loop while the saved-up share lasts (10 ms).
    const runs = Array.from({ length: 20 }, (_, k) => runAfter(r, 0.9 * (k + 1)));
    for (const run of runs) {
      time.elapse(0.9);
      await run;
    }
    expect(setTimeoutSpy.mock.calls.length).toBeGreaterThan(0);
    expect(setTimeoutSpy.mock.calls.length).toBeLessThan(20);
  });

  it("even with turnLoopShare 0, a Node timer that wakes before the call is due finishes the wait by turning the loop", async () => {
    // Another timer would make the call a millisecond or two late; the wait is bounded by the timer's own error.
    const setTimeoutSpy = vi.spyOn(globalThis, "setTimeout");
    const time = manualTime();
    const r = reactor({ time: time.time, turnLoopShare: 0 });
    const done = runAfter(r, 10);
    expect(setTimeoutSpy.mock.calls[0]?.[1]).toBe(10); // no share: the timer is set for the due time itself
    time.elapse(9.6);
    const readsBefore = time.wallReads();
    await waitUntil(() => time.wallReads() - readsBefore >= 3);
    expect(setTimeoutSpy).toHaveBeenCalledTimes(1);
    time.elapse(0.4);
    expect(await done).toBe(r.now());
    expect(setTimeoutSpy).toHaveBeenCalledTimes(1);
  });

  it("by default, wakes a millisecond before a call is due and turns the loop for the rest", async () => {
    const setTimeoutSpy = vi.spyOn(globalThis, "setTimeout");
    const time = manualTime();
    const r = reactor({ time: time.time });
    const done = runAfter(r, 10);
    expect(setTimeoutSpy.mock.calls[0]?.[1]).toBe(9);
    time.elapse(9);
    const readsBefore = time.wallReads();
    await waitUntil(() => time.wallReads() - readsBefore >= 3);
    time.elapse(1);
    expect(await done).toBe(r.now());
    expect(setTimeoutSpy).toHaveBeenCalledTimes(1);
  });

  it("with turnLoopShare 0, a call due in under a millisecond waits on a timer", async () => {
    const setTimeoutSpy = vi.spyOn(globalThis, "setTimeout");
    const time = manualTime();
    const r = reactor({ time: time.time, turnLoopShare: 0 });
    const first = runAfter(r, 10);
    const second = runAfter(r, 10.4);
    time.elapse(10);
    await waitUntil(() => setTimeoutSpy.mock.calls.length >= 2);
    expect(setTimeoutSpy.mock.calls[1]?.[1]).toBe(1);
    await first;
    time.elapse(0.4);
    await second;
  });

  it("sleeps on a timer again once the early-woken call has run", async () => {
    const time = manualTime();
    const r = reactor({ time: time.time, turnLoopShare: 0.05 });
    const first = runAfter(r, 10);
    runAfter(r, 500);
    time.elapse(9.6);
    const readsBefore = time.wallReads();
    await waitUntil(() => time.wallReads() - readsBefore >= 2);
    time.elapse(0.4);
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    const readsAfter = time.wallReads();
    await pause(20);
    // Asleep on a timer until the 500 ms call: no pass at all while the loop is otherwise idle.
    expect(time.wallReads()).toBe(readsAfter);
    expect(process.getActiveResourcesInfo()).not.toContain("Immediate");
  });
});

describe("the reactor does not keep the process alive without work", () => {
  it("holds one timer while a call is pending, and none once it has run", async () => {
    const before = timersAndImmediates();
    const r = reactor();
    const done = runAfter(r, 10);
    expect(timersAndImmediates()).toBe(before + 1);
    await done;
    expect(r.pending()).toEqual([]);
    // Other timers of the test process come and go meanwhile; closing the reactor now would free what it holds.
    const after = timersAndImmediates();
    r.close();
    expect(timersAndImmediates()).toBe(after);
  });

  it("holds no timer once its only pending call is cancelled", () => {
    const before = timersAndImmediates();
    const r = reactor();
    const h = r.callLater(10_000, () => {});
    h.cancel();
    expect(r.pending()).toEqual([]);
    expect(timersAndImmediates()).toBe(before);
  });

  it("close() drops the timer but keeps the calls pending", () => {
    const before = timersAndImmediates();
    const r = reactor();
    r.callLater(10_000, () => {});
    r.callLater(0, () => {});
    r.close();
    expect(r.pending()).toHaveLength(2);
    expect(timersAndImmediates()).toBe(before);
  });

  it("close() stops every wake-up, even after a due call was postponed", async () => {
    const r = reactor();
    let ran = false;
    const h = r.callLater(0, () => {
      ran = true;
    });
    h.delay(30); // the call was due (an immediate is armed); now it is not (a timer is armed)
    await new Promise((resolve) => setImmediate(resolve)); // the immediate's pass runs nothing
    r.close();
    await pause(60);
    expect(ran).toBe(false);
    expect(h.active()).toBe(true);
  });
});

describe("the reactor notices wall-clock jumps", () => {
  function jumpRig(options: ReactorOptions = {}) {
    const time = manualTime();
    const r = reactor({ time: time.time, ...options });
    const jumps: ClockJump[] = [];
    r.onClockJump((jump) => jumps.push(jump));
    /** Lets 5 ms elapse and waits for a pass. */
    const pass = () => {
      const done = runAfter(r, 5);
      time.elapse(5);
      return done;
    };
    return { time, r, jumps, pass };
  }

  it("reports a forward step of 1 h once, as forward", async () => {
    const { time, r, jumps, pass } = jumpRig();
    time.stepWall(3_600_000);
    await pass();
    await pass();
    expect(jumps).toEqual([{ deltaMs: 3_600_000, direction: "forward", wallMs: r.wallNow() - 5 }]);
  });

  it("reports a backward step as backward", async () => {
    const { time, jumps, pass } = jumpRig();
    time.stepWall(-3_600_000);
    await pass();
    expect(jumps).toHaveLength(1);
    expect(jumps[0]).toMatchObject({ deltaMs: -3_600_000, direction: "backward" });
  });

  it("ignores drift below the threshold", async () => {
    const { time, jumps, pass } = jumpRig({ jumpThresholdMs: 1000 });
    time.stepWall(200);
    await pass();
    time.stepWall(-999);
    await pass();
    expect(jumps).toEqual([]);
  });

  it("keeps elapsed time and the calls timed by it unaffected by a wall-clock step", async () => {
    const { time, r, jumps } = jumpRig();
    const nowBefore = r.now();
    const wallBefore = r.wallNow();
    let ran = false;
    const done = runAfter(r, 20, () => {
      ran = true;
    });
    time.stepWall(3_600_000);
    expect(r.now()).toBe(nowBefore);
    expect(r.wallNow()).toBe(wallBefore + 3_600_000);
    await waitUntil(() => jumps.length > 0); // a real timer fired and the pass saw the step...
    expect(ran).toBe(false); // ...but elapsed time has not reached the call
    expect(jumps).toHaveLength(1);
    time.elapse(20);
    expect(await done).toBe(nowBefore + 20);
  });

  it("stops telling a listener that unsubscribed, and reports a listener's exception through onError", async () => {
    const errors: unknown[] = [];
    const { time, r, jumps, pass } = jumpRig({ onError: (error) => errors.push(error) });
    const failure = new Error("listener failed");
    const unsubscribe = r.onClockJump(() => {
      throw failure;
    });
    time.stepWall(5000);
    await pass();
    expect(errors).toEqual([failure]);
    expect(jumps).toHaveLength(1);
    unsubscribe();
    time.stepWall(5000);
    await pass();
    expect(errors).toEqual([failure]);
    expect(jumps).toHaveLength(2);
  });
});
