import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../src/clock/virtual-clock.js";
import type { LogEvent } from "../../src/log/events.js";
import type { JobSpec } from "../../src/schedule/types.js";
import { type ActiveRun, Scheduler } from "../../src/scheduler/scheduler.js";
import { jobSpec, scheduleOf } from "../helpers/jobs.js";
import { settle } from "../helpers/settle.js";

const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);

/** A fake run the test ends when it wants; it records how it was asked to stop. */
interface FakeRun extends ActiveRun {
  readonly job: string;
  /** The definition the run was started with. */
  readonly spec: JobSpec;
  readonly scheduledMs: number;
  readonly startedMs: number;
  readonly stops: string[];
  finish(killedHard?: boolean): void;
}

function harness(
  options: {
    stopEndsRunAfterMs?: number;
    random?: () => number;
    startMs?: number;
    everyAnchor?: "start" | "epoch";
  } = {},
) {
  const clock = new VirtualClock(options.startMs ?? T0);
  const events: LogEvent[] = [];
  const runs: FakeRun[] = [];
  let ids = 0;
  const scheduler = new Scheduler({
    clock,
    emit: (event) => events.push(event),
    random: options.random ?? (() => 0.5),
    newRunId: () => `r${++ids}`,
    ...(options.everyAnchor ? { everyAnchor: options.everyAnchor } : {}),
    startRun: (job: JobSpec, context) => {
      let resolve!: (value: { killedHard: boolean }) => void;
      const done = new Promise<{ killedHard: boolean }>((r) => {
        resolve = r;
      });
      const stops: string[] = [];
      let ended = false;
      const finish = (killedHard = false) => {
        if (ended) return;
        ended = true;
        resolve({ killedHard });
      };
      const run: FakeRun = {
        job: job.name,
        spec: job,
        scheduledMs: context.scheduledMs,
        startedMs: clock.now(),
        stops,
        done,
        finish,
        stop: (reason) => {
          stops.push(`stop: ${reason}`);
          if (options.stopEndsRunAfterMs !== undefined)
            clock.callLater(options.stopEndsRunAfterMs, () => finish());
        },
        kill: (reason) => {
          stops.push(`kill: ${reason}`);
          finish(true);
        },
      };
      runs.push(run);
      events.push({
        timeMs: clock.wallNow(),
        level: "info",
        event: "started",
        job: job.name,
        run: context.runId,
        pid: 1,
        scheduledMs: context.scheduledMs,
        lateMs: 0,
        attempt: 1,
      });
      return run;
    },
  });
  const startsOf = (job: string) => runs.filter((run) => run.job === job).map((run) => run.startedMs - T0);
  const reasons = (event: string) =>
    events
      .filter((e) => e.event === event)
      .map((e) => ("reason" in e && "job" in e ? `${e.job}: ${e.reason}` : e.event));
  return { clock, events, runs, scheduler, startsOf, reasons };
}

const every = (intervalMs: number, now = false) => ({ kind: "every" as const, intervalMs, now });

describe("every jobs", () => {
  it("fire on the grid start + k·interval, not at start unless now is set", async () => {
    const { clock, scheduler, runs, startsOf } = harness();
    scheduler.start(scheduleOf([jobSpec("tick", every(1000), { overlap: "allow" })]));
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      await settle();
    }
    expect(startsOf("tick")).toEqual([1000, 2000, 3000]);
    expect(runs.map((run) => run.scheduledMs - T0)).toEqual([1000, 2000, 3000]);
  });

  it("with now: true also fire at start, after the job's scheduled event", () => {
    const { scheduler, startsOf, events } = harness();
    const order: string[] = [];
    scheduler.start(scheduleOf([jobSpec("tick", every(1000, true))]));
    expect(startsOf("tick")).toEqual([0]);
    for (const event of events) order.push(event.event);
    expect(order).toEqual(["scheduled", "started"]);
    expect(events[0]).toMatchObject({ job: "tick", nextMs: T0 });
  });

  it("report missed grid points once when the process was late, without a burst", async () => {
    const { clock, scheduler, startsOf, events } = harness();
    scheduler.start(scheduleOf([jobSpec("tick", every(1000), { overlap: "allow" })]));
    clock.advance(3500);
    await settle();
    expect(startsOf("tick")).toEqual([3500]);
    expect(events.filter((e) => e.event === "missed")).toMatchObject([{ job: "tick", count: 2 }]);
  });
});

describe("every jobs anchored at the epoch (replicas sharing a ledger)", () => {
  it("fire at k·interval of the wall clock, keyed by that instant, whenever the process started", async () => {
    const keys: number[][] = [];
    for (const startOffsetMs of [12_345, 17_001]) {
      const { clock, scheduler, runs } = harness({ startMs: T0 + startOffsetMs, everyAnchor: "epoch" });
      scheduler.start(scheduleOf([jobSpec("tick", every(10_000), { overlap: "allow" })]));
      expect(scheduler.jobViews()).toMatchObject([{ spec: { name: "tick" }, nextMs: T0 + 20_000 }]);
      for (const stepMs of [T0 + 20_000 - clock.now(), 10_000, 10_000]) {
        clock.advance(stepMs);
        await settle();
      }
      expect(runs.map((run) => run.startedMs - T0)).toEqual([20_000, 30_000, 40_000]);
      keys.push(runs.map((run) => run.scheduledMs - T0));
    }
    expect(keys[0]).toEqual([20_000, 30_000, 40_000]);
    expect(keys[1]).toEqual(keys[0]);
  });

  it("with now: true fire the grid point just passed at start, the same key on every replica", () => {
    const { scheduler, runs } = harness({ startMs: T0 + 12_345, everyAnchor: "epoch" });
    scheduler.start(scheduleOf([jobSpec("tick", every(10_000, true))]));
    expect(runs.map((run) => [run.startedMs - T0, run.scheduledMs - T0])).toEqual([[12_345, 10_000]]);
  });

  it("stop firing when cancelled before the first grid point", async () => {
    const { clock, scheduler, runs } = harness({ startMs: T0 + 5_000, everyAnchor: "epoch" });
    scheduler.start(scheduleOf([jobSpec("tick", every(10_000))]));
    scheduler.reload(scheduleOf([]));
    clock.advance(30_000);
    await settle();
    expect(runs).toHaveLength(0);
  });
});

describe("overlap policies", () => {
  it("skip: a fire while the previous run goes is skipped and logged", async () => {
    const { clock, scheduler, runs, startsOf, reasons } = harness();
    scheduler.start(scheduleOf([jobSpec("slow", every(1000), { overlap: "skip" })]));
    clock.advance(1000);
    clock.advance(1000);
    await settle();
    expect(startsOf("slow")).toEqual([1000]);
    expect(reasons("skipped")).toEqual(["slow: the previous run is still going (overlap: skip)"]);
    runs[0]!.finish();
    await settle();
    clock.advance(1000);
    expect(startsOf("slow")).toEqual([1000, 3000]);
  });

  it("queue: one fire waits for the running run and starts when it ends; a second is skipped", async () => {
    const { clock, scheduler, runs, startsOf, reasons } = harness();
    scheduler.start(scheduleOf([jobSpec("q", every(1000), { overlap: "queue" })]));
    clock.pump([1000, 1000, 1000]);
    expect(startsOf("q")).toEqual([1000]);
    expect(reasons("queued")).toEqual(["q: the previous run is still going (overlap: queue)"]);
    expect(reasons("skipped")).toEqual(["q: a run is already queued (overlap: queue)"]);
    clock.advance(500);
    runs[0]!.finish();
    await settle();
    expect(startsOf("q")).toEqual([1000, 3500]);
    expect(runs[1]!.scheduledMs - T0).toBe(2000);
  });

  it("replace: the running run is stopped as on timeout, and the new one starts once it has ended", async () => {
    const { clock, scheduler, runs, startsOf } = harness({ stopEndsRunAfterMs: 200 });
    scheduler.start(scheduleOf([jobSpec("r", every(1000), { overlap: "replace" })]));
    clock.advance(1000);
    clock.advance(1000);
    expect(runs[0]!.stops).toEqual(["stop: replaced by a newer fire (overlap: replace)"]);
    expect(startsOf("r")).toEqual([1000]);
    clock.advance(200);
    await settle();
    expect(startsOf("r")).toEqual([1000, 2200]);
  });

  it("allow: runs go side by side", () => {
    const { clock, scheduler, startsOf } = harness();
    scheduler.start(scheduleOf([jobSpec("a", every(1000), { overlap: "allow" })]));
    clock.pump([1000, 1000, 1000]);
    expect(startsOf("a")).toEqual([1000, 2000, 3000]);
  });
});

describe("max_parallel", () => {
  it("makes fires wait in first-in first-out order for a free slot", async () => {
    const { clock, scheduler, runs, startsOf, reasons } = harness();
    scheduler.start(
      scheduleOf(
        [
          jobSpec("a", { kind: "after", delayMs: 100 }),
          jobSpec("b", { kind: "after", delayMs: 200 }),
          jobSpec("c", { kind: "after", delayMs: 300 }),
        ],
        { maxParallel: 1 },
      ),
    );
    clock.pump([100, 100, 100]);
    expect(runs.map((run) => run.job)).toEqual(["a"]);
    expect(reasons("queued")).toEqual([
      "b: max_parallel (1) runs are going",
      "c: max_parallel (1) runs are going",
    ]);
    clock.advance(50);
    runs[0]!.finish();
    await settle();
    expect(startsOf("b")).toEqual([350]);
    runs[1]!.finish();
    await settle();
    expect(runs.map((run) => run.job)).toEqual(["a", "b", "c"]);
  });

  it("counts a waiting fire as running for its own job's overlap rule", () => {
    const { clock, scheduler, startsOf, reasons } = harness();
    scheduler.start(
      scheduleOf(
        [jobSpec("hog", every(1000), { overlap: "allow" }), jobSpec("w", every(1000), { overlap: "skip" })],
        {
          maxParallel: 1,
        },
      ),
    );
    clock.pump([1000, 1000]);
    expect(startsOf("w")).toEqual([]);
    expect(reasons("skipped")).toContain("w: the previous run is still going (overlap: skip)");
  });
});

describe("after and at jobs", () => {
  it("fire once; the scheduler is idle when they are done and nothing runs", async () => {
    const { clock, scheduler, runs } = harness();
    scheduler.start(
      scheduleOf([
        jobSpec("soon", { kind: "after", delayMs: 500 }),
        jobSpec("then", { kind: "at", times: [{ timeMs: T0 + 800, text: "x" }], zone: "UTC" }),
      ]),
    );
    let idle = false;
    void scheduler.whenIdle().then(() => {
      idle = true;
    });
    clock.runUntil(T0 + 1000);
    expect(runs.map((run) => [run.job, run.startedMs - T0])).toEqual([
      ["soon", 500],
      ["then", 800],
    ]);
    await settle();
    expect(idle).toBe(false);
    for (const run of runs) run.finish();
    await settle();
    expect(idle).toBe(true);
  });

  it("add a random delay below the jitter to each fire", () => {
    const { clock, scheduler, startsOf } = harness();
    scheduler.start(scheduleOf([jobSpec("j", { kind: "after", delayMs: 1000 }, { jitterMs: 400 })]));
    clock.advance(1199);
    expect(startsOf("j")).toEqual([]);
    clock.advance(1);
    expect(startsOf("j")).toEqual([1200]); // random() = 0.5 → 200 ms of the 400 ms jitter
  });

  it("never delay a fire by the whole jitter or more, nor make it early", () => {
    for (const draw of [0, 0.25, 0.999_999_9]) {
      const { clock, scheduler, startsOf } = harness({ random: () => draw });
      scheduler.start(scheduleOf([jobSpec("j", every(1000), { jitterMs: 400, overlap: "allow" })]));
      clock.runUntil(T0 + 10_500);
      const starts = startsOf("j");
      expect(starts).toHaveLength(10);
      starts.forEach((startMs, i) => {
        const gridMs = (i + 1) * 1000;
        expect(startMs).toBeGreaterThanOrEqual(gridMs);
        expect(startMs).toBeLessThan(gridMs + 400);
      });
    }
  });
});

describe("jitter longer than an every interval", () => {
  it("keeps one jittered fire waiting at most; the grid points it covers are reported as missed", () => {
    const { clock, scheduler, runs, events } = harness({ random: () => 0.5 });
    scheduler.start(scheduleOf([jobSpec("fast", every(1), { jitterMs: 1000, overlap: "allow" })]));
    clock.runUntil(T0 + 2000);
    // Grid points 1..2000: fires for 1, 501 and 1001 ran (each 500 ms late), 1501's waits.
    expect(runs.map((run) => [run.scheduledMs - T0, run.startedMs - T0])).toEqual([
      [1, 501],
      [501, 1001],
      [1001, 1501],
    ]);
    const missed = events.flatMap((e) => (e.event === "missed" ? [e.count] : []));
    expect(missed).toEqual([499, 499, 499]); // the ticks that came while each fire waited
    expect(clock.pending()).toHaveLength(2); // the loop's next tick and the one waiting fire
  });
});

describe("reload", () => {
  it("keeps unchanged jobs on their grid, re-arms changed ones, stops removed ones and arms new ones", () => {
    const { clock, scheduler, startsOf } = harness();
    const keep = jobSpec("keep", every(1000), { overlap: "allow" });
    scheduler.start(
      scheduleOf([keep, jobSpec("change", every(1000), { overlap: "allow" }), jobSpec("gone", every(1000))]),
    );
    clock.runUntil(T0 + 1500);
    const summary = scheduler.reload(
      scheduleOf([
        keep,
        jobSpec("change", every(2000), { overlap: "allow" }),
        jobSpec("new", every(1000), { overlap: "allow" }),
      ]),
    );
    expect(summary).toEqual({ added: ["new"], removed: ["gone"], changed: ["change"] });
    clock.runUntil(T0 + 4000);
    expect(startsOf("keep")).toEqual([1000, 2000, 3000, 4000]);
    expect(startsOf("change")).toEqual([1000, 3500]);
    expect(startsOf("gone")).toEqual([1000]);
    expect(startsOf("new")).toEqual([2500, 3500]);
  });
});

describe("reload of a job whose run is going", () => {
  const slow = (overrides: Partial<JobSpec> = {}) =>
    jobSpec("slow", every(1000), { overlap: "skip", ...overrides });

  it("a changed job inherits its running run: overlap skip starts no second run beside it", async () => {
    const { clock, scheduler, runs, startsOf, reasons } = harness();
    scheduler.start(scheduleOf([slow()]));
    clock.runUntil(T0 + 1500);
    const changed = slow({ command: { kind: "shell", script: "echo  slow", shell: "/bin/sh" } });
    expect(scheduler.reload(scheduleOf([changed]))).toEqual({ added: [], removed: [], changed: ["slow"] });
    clock.runUntil(T0 + 2000);
    expect(startsOf("slow")).toEqual([1000]);
    expect(reasons("skipped")).toEqual(["slow: the previous run is still going (overlap: skip)"]);
    runs[0]!.finish();
    await settle();
    clock.runUntil(T0 + 3000);
    expect(startsOf("slow")).toEqual([1000, 3000]); // the grid did not move: only `run` changed
    expect(runs[1]!.spec).toBe(changed);
  });

  it("a changed job's queued fire still runs after the inherited run, with the new definition", async () => {
    const { clock, scheduler, runs, startsOf } = harness();
    scheduler.start(scheduleOf([slow({ overlap: "queue" })]));
    clock.runUntil(T0 + 2000); // runs at 1000, queues the 2000 fire
    const changed = slow({ overlap: "queue", timeoutMs: 5000 });
    scheduler.reload(scheduleOf([changed]));
    expect(scheduler.jobViews().flatMap((view) => view.running)).toHaveLength(1);
    runs[0]!.finish();
    await settle();
    expect(startsOf("slow")).toEqual([1000, 2000]);
    expect(runs[1]!.spec).toBe(changed);
  });

  it("stop ends the inherited run too", async () => {
    const { clock, scheduler, runs } = harness();
    scheduler.start(scheduleOf([slow()]));
    clock.runUntil(T0 + 1000);
    scheduler.reload(scheduleOf([slow({ env: { A: "1" } })]));
    void scheduler.stop(5000, "SIGTERM");
    expect(runs[0]!.stops).toEqual(["stop: tdefer is stopping"]);
  });
});

describe("reload of the file-level env (every job changes, no trigger does)", () => {
  it("does not run an after one-shot again that already ran", async () => {
    const { clock, scheduler, startsOf } = harness();
    scheduler.start(scheduleOf([jobSpec("once", { kind: "after", delayMs: 1000 })]));
    clock.runUntil(T0 + 2000);
    expect(startsOf("once")).toEqual([1000]);
    scheduler.reload(scheduleOf([jobSpec("once", { kind: "after", delayMs: 1000 }, { env: { A: "1" } })]));
    clock.runUntil(T0 + 10_000);
    expect(startsOf("once")).toEqual([1000]);
  });

  it("keeps every grids where they were", () => {
    const { clock, scheduler, startsOf } = harness();
    scheduler.start(scheduleOf([jobSpec("tick", every(1000), { overlap: "allow" })]));
    clock.runUntil(T0 + 1500);
    scheduler.reload(scheduleOf([jobSpec("tick", every(1000), { overlap: "allow", env: { A: "1" } })]));
    clock.runUntil(T0 + 3000);
    expect(startsOf("tick")).toEqual([1000, 2000, 3000]);
  });
});

describe("reload of a one-shot's trigger", () => {
  it("an after job that already fired stays fired, even with a new delay", () => {
    const { clock, scheduler, startsOf } = harness();
    scheduler.start(scheduleOf([jobSpec("once", { kind: "after", delayMs: 1000 })]));
    clock.runUntil(T0 + 2000);
    scheduler.reload(scheduleOf([jobSpec("once", { kind: "after", delayMs: 5000 })]));
    clock.runUntil(T0 + 20_000);
    expect(startsOf("once")).toEqual([1000]);
  });

  it("a manual run does not count as the one fire of an after job", () => {
    const { clock, scheduler, startsOf } = harness();
    scheduler.start(scheduleOf([jobSpec("once", { kind: "after", delayMs: 10_000 }, { overlap: "allow" })]));
    clock.runUntil(T0 + 1000);
    scheduler.runNow("once");
    clock.runUntil(T0 + 2000);
    scheduler.reload(scheduleOf([jobSpec("once", { kind: "after", delayMs: 5000 }, { overlap: "allow" })]));
    clock.runUntil(T0 + 20_000);
    expect(startsOf("once")).toEqual([1000, 7000]);
  });

  it("a paused job whose trigger a reload changed stays paused; resume arms the new trigger", () => {
    const { clock, scheduler, startsOf } = harness();
    scheduler.start(scheduleOf([jobSpec("tick", every(1000), { overlap: "allow" })]));
    clock.runUntil(T0 + 1000);
    scheduler.pause("tick");
    scheduler.reload(scheduleOf([jobSpec("tick", every(3000), { overlap: "allow" })]));
    clock.runUntil(T0 + 10_000);
    expect(startsOf("tick")).toEqual([1000]);
    scheduler.resume("tick");
    clock.runUntil(T0 + 13_000);
    expect(startsOf("tick")).toEqual([1000, 13_000]);
  });

  it("an after job that has not fired yet is re-armed with its new delay, from the reload", () => {
    const { clock, scheduler, startsOf } = harness();
    scheduler.start(scheduleOf([jobSpec("once", { kind: "after", delayMs: 10_000 })]));
    clock.runUntil(T0 + 2000);
    scheduler.reload(scheduleOf([jobSpec("once", { kind: "after", delayMs: 5000 })]));
    clock.runUntil(T0 + 20_000);
    expect(startsOf("once")).toEqual([7000]);
  });
});

describe("stop (the drain)", () => {
  it("signals every running run at once, and SIGKILLs those still alive after the grace", async () => {
    const { clock, scheduler, runs, events } = harness();
    scheduler.start(scheduleOf([jobSpec("a", every(1000)), jobSpec("b", every(1000))]));
    clock.advance(1000);
    let result: { killed: number } | undefined;
    void scheduler.stop(5000, "SIGTERM").then((r) => {
      result = r;
    });
    expect(runs.map((run) => run.stops)).toEqual([
      ["stop: tdefer is stopping"],
      ["stop: tdefer is stopping"],
    ]);
    runs[0]!.finish();
    await settle();
    clock.advance(5000);
    await settle();
    expect(runs[1]!.stops).toEqual(["stop: tdefer is stopping", "kill: the shutdown grace period is over"]);
    expect(result).toEqual({ killed: 1 });
    expect(events.at(-1)).toMatchObject({ event: "stopped", killed: 1 });
    clock.advance(10_000);
    expect(runs).toHaveLength(2); // nothing fires after stop
  });

  it("also ends the runs of a job that a reload removed while they were going", async () => {
    const { clock, scheduler, runs } = harness();
    scheduler.start(scheduleOf([jobSpec("old", every(1000)), jobSpec("keep", every(60_000))]));
    clock.advance(1000);
    scheduler.reload(scheduleOf([jobSpec("keep", every(60_000))]));
    let result: { killed: number } | undefined;
    void scheduler.stop(5000, "SIGTERM").then((r) => {
      result = r;
    });
    expect(runs[0]!.stops).toEqual(["stop: tdefer is stopping"]);
    clock.advance(5000);
    await settle();
    expect(runs[0]!.stops).toEqual(["stop: tdefer is stopping", "kill: the shutdown grace period is over"]);
    expect(result).toEqual({ killed: 1 });
  });

  it("finishes without killing when every run ends within the grace", async () => {
    const { clock, scheduler } = harness({ stopEndsRunAfterMs: 100 });
    scheduler.start(scheduleOf([jobSpec("a", every(1000))]));
    clock.advance(1000);
    const stopped = scheduler.stop(5000, "SIGTERM");
    clock.advance(100);
    await expect(stopped).resolves.toEqual({ killed: 0 });
    expect(clock.pending()).toEqual([]);
  });
});

describe("clock jumps", () => {
  it("re-plan at fires against the new wall time, without a burst, and log the jump", () => {
    const { clock, scheduler, startsOf, events, reasons } = harness();
    scheduler.start(
      scheduleOf([
        jobSpec("at", {
          kind: "at",
          times: [
            { timeMs: T0 + 3_600_000, text: "01:00" },
            { timeMs: T0 + 7_200_000, text: "02:00" },
          ],
          zone: "UTC",
        }),
      ]),
    );
    clock.advance(60_000);
    clock.jumpWall(3_600_000); // the wall clock leaps an hour ahead
    expect(events.find((e) => e.event === "clock_jump")).toMatchObject({
      direction: "forward",
      deltaMs: 3_600_000,
    });
    expect(reasons("skipped")).toEqual(["at: the clock jumped past 1 fire(s)"]);
    clock.advance(3_540_000); // wall 02:00
    expect(startsOf("at")).toEqual([3_600_000]); // elapsed 1h: the 02:00 fire, once
  });

  it("never repeat the scheduled time of an every job after a backward step", () => {
    const { clock, scheduler, runs } = harness();
    scheduler.start(scheduleOf([jobSpec("tick", every(1000), { overlap: "allow" })]));
    clock.advance(1000);
    clock.jumpWall(-3_600_000);
    clock.advance(1000);
    clock.advance(1000);
    expect(runs.map((run) => run.scheduledMs - T0)).toEqual([1000, 2000, 3000]);
  });

  it("keep every grids in elapsed time", () => {
    const { clock, scheduler, startsOf } = harness();
    scheduler.start(scheduleOf([jobSpec("tick", every(1000), { overlap: "allow" })]));
    clock.advance(1000);
    clock.jumpWall(-3_600_000);
    clock.advance(1000);
    expect(startsOf("tick")).toEqual([1000, 2000]);
  });
});
