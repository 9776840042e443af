import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../src/clock/virtual-clock.js";
import type { Ledger } from "../../src/ledger/ledger.js";
import { MemoryLedger } from "../../src/ledger/memory.js";
import type { LogEvent } from "../../src/log/events.js";
import type { JobSpec, Schedule } from "../../src/schedule/types.js";
import {
  type ActiveRun,
  type RunContext,
  type RunOutcome,
  Scheduler,
} from "../../src/scheduler/scheduler.js";
import { jobSpec, scheduleOf } from "../helpers/jobs.js";
import { settle } from "../helpers/settle.js";

const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
const MINUTE = 60_000;
const HOUR = 3_600_000;

interface FakeRun extends ActiveRun {
  readonly job: string;
  readonly context: RunContext;
  readonly stops: string[];
  finish(outcome?: Partial<RunOutcome["record"]>): void;
}

/**
 * One "process" of tdefer: a scheduler on a shared virtual clock and a shared ledger, with its own owner. A restart
 * is a second process on the same ledger; a crash is a process dropped without stop().
 */
function processOn(
  clock: VirtualClock,
  ledger: Ledger,
  options: { owner?: string; alive?: (owner: string) => boolean; leaseMs?: number; shared?: boolean } = {},
) {
  const events: LogEvent[] = [];
  const runs: FakeRun[] = [];
  let ids = 0;
  const scheduler = new Scheduler({
    clock,
    emit: (event) => events.push(event),
    random: () => 0.5,
    newRunId: () => `${options.owner ?? "host:1"}-r${++ids}`,
    ledger,
    owner: options.owner ?? "host:1",
    ownerAlive: options.alive ?? (() => false),
    ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}),
    ...(options.shared ? { sharedLedger: true } : {}),
    startRun: (job: JobSpec, context) => {
      let resolve!: (value: RunOutcome) => void;
      const done = new Promise<RunOutcome>((r) => {
        resolve = r;
      });
      const stops: string[] = [];
      const run: FakeRun = {
        job: job.name,
        context,
        stops,
        done,
        finish: (record) =>
          resolve({
            killedHard: false,
            record: { state: "succeeded", attempts: 1, exitCode: 0, signal: null, durationMs: 5, ...record },
          }),
        stop: (reason) => stops.push(reason),
        kill: (reason) => stops.push(reason),
      };
      runs.push(run);
      return run;
    },
  });
  const warnings = () =>
    events
      .filter((e) => e.event === "warning" || e.event === "error")
      .map((e) => ("message" in e ? e.message : ""));
  return { scheduler, events, runs, warnings };
}

const hourly = (name: string, overrides: Partial<JobSpec> = {}) =>
  jobSpec(name, { kind: "cron", expression: "0 * * * *", zone: "UTC" }, overrides);

const history = async (ledger: Ledger, job?: string) =>
  (await ledger.history(job ? { jobs: [job] } : {})).map((r) => ({
    at: (r.scheduledAtMs - T0) / HOUR,
    state: r.state,
    trigger: r.trigger,
  }));

async function started(schedule: Schedule, proc: ReturnType<typeof processOn>): Promise<void> {
  await proc.scheduler.start(schedule);
  await settle();
}

describe("the scheduler with a ledger", () => {
  it("claims each fire before it starts it and records its result, output tail and lateness", async () => {
    const clock = new VirtualClock(T0 + 30 * MINUTE);
    const ledger = new MemoryLedger("s", () => clock.wallNow());
    const proc = processOn(clock, ledger);
    await started(scheduleOf([hourly("backup")]), proc);
    clock.advance(30 * MINUTE);
    expect(proc.runs).toHaveLength(1);
    const run = proc.runs[0]!;
    expect(run.context).toMatchObject({ scheduledMs: T0 + HOUR, trigger: "schedule", fence: 1 });
    expect(proc.events.filter((e) => e.event === "claimed")).toMatchObject([
      { level: "debug", job: "backup", run: "host:1-r1", fence: 1, trigger: "schedule" },
    ]);
    expect(await ledger.get({ job: "backup", scheduledAtMs: T0 + HOUR })).toMatchObject({
      state: "running",
      owner: "host:1",
      runId: "host:1-r1",
      fence: 1,
      startedAtMs: T0 + HOUR,
      lateMs: 0,
    });
    clock.advance(5_000);
    run.finish({ state: "failed", exitCode: 3, durationMs: 5_000, outputTail: "disk full" });
    await settle();
    expect(await ledger.get({ job: "backup", scheduledAtMs: T0 + HOUR })).toMatchObject({
      state: "failed",
      exitCode: 3,
      durationMs: 5_000,
      finishedAtMs: T0 + HOUR + 5_000,
      outputTail: "disk full",
      leaseUntilMs: null,
    });
  });

  it("does not run a fire the ledger already has (the restart guard)", async () => {
    const clock = new VirtualClock(T0 + 30 * MINUTE);
    const ledger = new MemoryLedger("s", () => clock.wallNow());
    ledger.claim({
      job: "backup",
      scheduledAtMs: T0 + HOUR,
      trigger: "schedule",
      runId: "x",
      owner: "other:9",
      leaseMs: 1e9,
    });
    const proc = processOn(clock, ledger, { alive: () => true });
    await started(scheduleOf([hourly("backup")]), proc);
    clock.advance(30 * MINUTE);
    await settle();
    expect(proc.runs).toHaveLength(0);
    expect(proc.events.filter((e) => e.event === "skipped").map((e) => "reason" in e && e.reason)).toEqual([
      "claimed elsewhere: the ledger already has this fire (it ran before, or another tdefer claimed it)",
    ]);
  });

  describe("a reload that renames a job while replicas share the ledger", () => {
    const backupAs = (name: string) =>
      hourly(name, { command: { kind: "shell", script: "pg_dump app", shell: "/bin/sh" } });

    it("runs the fire once, under whichever name claimed it first", async () => {
      const clock = new VirtualClock(T0 + 30 * MINUTE);
      const ledger = new MemoryLedger("s", () => clock.wallNow());
      const renamed = processOn(clock, ledger, { owner: "a:1", shared: true });
      const notYet = processOn(clock, ledger, { owner: "b:2", shared: true });
      await started(scheduleOf([backupAs("backup")]), renamed);
      await started(scheduleOf([backupAs("backup")]), notYet);
      renamed.scheduler.reload(scheduleOf([backupAs("db-backup")]));
      clock.advance(30 * MINUTE);
      await settle();
      // The one not renamed yet armed first here, so it won; the other skipped the fire under the new name.
      expect([...renamed.runs, ...notYet.runs].map((run) => run.job)).toEqual(["backup"]);
      expect(renamed.events.find((e) => e.event === "skipped")).toMatchObject({
        job: "db-backup",
        reason: expect.stringContaining("claimed elsewhere"),
      });
      // Once both have reloaded, the next fire runs once too, under the new name.
      notYet.scheduler.reload(scheduleOf([backupAs("db-backup")]));
      notYet.runs[0]!.finish();
      clock.advance(HOUR);
      await settle();
      expect([...renamed.runs, ...notYet.runs]).toHaveLength(2);
      expect(await history(ledger)).toEqual([
        { at: 2, state: "running", trigger: "schedule" },
        { at: 1, state: "succeeded", trigger: "schedule" },
      ]);
    });

    it("still runs two identical jobs of one file, each once", async () => {
      const clock = new VirtualClock(T0 + 30 * MINUTE);
      const ledger = new MemoryLedger("s", () => clock.wallNow());
      const a = processOn(clock, ledger, { owner: "a:1", shared: true });
      const b = processOn(clock, ledger, { owner: "b:2", shared: true });
      const twins = scheduleOf([backupAs("backup"), backupAs("backup-again")]);
      await started(twins, a);
      await started(twins, b);
      clock.advance(30 * MINUTE);
      await settle();
      expect([...a.runs, ...b.runs].map((run) => run.job).sort()).toEqual(["backup", "backup-again"]);
    });
  });

  it("renews the lease every third of it while the run goes", async () => {
    const clock = new VirtualClock(T0 + 30 * MINUTE);
    const ledger = new MemoryLedger("s", () => clock.wallNow());
    const proc = processOn(clock, ledger, { leaseMs: 30_000 });
    await started(scheduleOf([hourly("backup")]), proc);
    clock.advance(30 * MINUTE);
    const key = { job: "backup", scheduledAtMs: T0 + HOUR };
    expect((await ledger.get(key))?.leaseUntilMs).toBe(T0 + HOUR + 30_000);
    clock.advance(10_000);
    expect((await ledger.get(key))?.leaseUntilMs).toBe(T0 + HOUR + 40_000);
    clock.advance(50_000);
    expect((await ledger.get(key))?.leaseUntilMs).toBe(T0 + HOUR + 90_000);
  });

  it("ends a run whose lease was taken over, and logs lease_lost", async () => {
    const clock = new VirtualClock(T0 + 30 * MINUTE);
    const ledger = new MemoryLedger("s", () => clock.wallNow());
    const proc = processOn(clock, ledger, { leaseMs: 30_000 });
    await started(scheduleOf([hourly("backup")]), proc);
    clock.advance(30 * MINUTE);
    const claim = { job: "backup", scheduledAtMs: T0 + HOUR, fence: 1 };
    ledger.reclaim(claim, { runId: "thief", owner: "other:2", leaseMs: 30_000 });
    clock.advance(10_000);
    expect(proc.runs[0]!.stops).toEqual([
      "its lease in the ledger was lost (another replica took it over, or it was marked lost)",
    ]);
    expect(proc.events.filter((e) => e.event === "lease_lost")).toMatchObject([
      { job: "backup", fence: 1, reason: "another replica took it over, or it was marked lost" },
    ]);
  });

  it("records a run in flight when tdefer died as lost at the next start, and does not run it again", async () => {
    const clock = new VirtualClock(T0 + 30 * MINUTE);
    const ledger = new MemoryLedger("s", () => clock.wallNow());
    const first = processOn(clock, ledger, { owner: "host:1" });
    await started(scheduleOf([hourly("backup")]), first);
    clock.advance(30 * MINUTE + 1_000); // the 01:00 run is going; then the process dies (no stop)
    const second = processOn(clock, ledger, { owner: "host:2", alive: () => false });
    await started(scheduleOf([hourly("backup")]), second);
    expect(await ledger.get({ job: "backup", scheduledAtMs: T0 + HOUR })).toMatchObject({
      state: "lost",
      reason: "tdefer (host:1) stopped while the run was going",
    });
    expect(second.runs).toHaveLength(0);
    expect(second.warnings()).toEqual([]);
    expect(second.events.filter((e) => e.event === "run_lost")).toEqual([
      {
        timeMs: clock.wallNow(),
        event: "run_lost",
        level: "warn",
        job: "backup",
        run: "host:1-r1",
        scheduledMs: T0 + HOUR,
        owner: "host:1",
        fence: 1,
        reason: "tdefer (host:1) stopped while the run was going",
      },
    ]);
  });

  it("runs a lost run again with on_lost: rerun, under a new fence and its original time", async () => {
    const clock = new VirtualClock(T0 + 30 * MINUTE);
    const ledger = new MemoryLedger("s", () => clock.wallNow());
    const schedule = scheduleOf([hourly("backup", { onLost: "rerun" })]);
    const first = processOn(clock, ledger, { owner: "host:1" });
    await started(schedule, first);
    clock.advance(30 * MINUTE + 1_000);
    const second = processOn(clock, ledger, { owner: "host:2" });
    await started(schedule, second);
    expect(second.runs.map((r) => r.context)).toEqual([
      { runId: "host:2-r1", scheduledMs: T0 + HOUR, trigger: "schedule", fence: 2 },
    ]);
    second.runs[0]!.finish();
    await settle();
    expect(await ledger.get({ job: "backup", scheduledAtMs: T0 + HOUR })).toMatchObject({
      state: "succeeded",
      owner: "host:2",
      fence: 2,
    });
  });

  it("waits for the lease of a run whose owner may be alive, then records it lost", async () => {
    // The first process runs on a clock of its own, so that its death also stops its lease renewals.
    const firstClock = new VirtualClock(T0 + 30 * MINUTE);
    let clock = firstClock;
    const ledger = new MemoryLedger("s", () => clock.wallNow());
    const first = processOn(firstClock, ledger, { owner: "other-host:1", leaseMs: 30_000 });
    await started(scheduleOf([hourly("backup")]), first);
    firstClock.advance(30 * MINUTE + 1_000);
    clock = new VirtualClock(firstClock.wallNow());
    const second = processOn(clock, ledger, { owner: "host:2", alive: () => true, leaseMs: 30_000 });
    await started(scheduleOf([hourly("backup")]), second);
    const key = { job: "backup", scheduledAtMs: T0 + HOUR };
    expect((await ledger.get(key))?.state).toBe("running");
    clock.advance(30_000);
    await settle();
    expect((await ledger.get(key))?.state).toBe("running");
    clock.advance(30_000);
    await settle();
    expect((await ledger.get(key))?.state).toBe("lost");
  });

  describe("fires missed while tdefer was down", () => {
    /** Runs `schedule` from 00:30 past 01:00 (so the job is known and has a record), stops, restarts at `restartAt`. */
    async function downtime(schedule: Schedule, restartAtMs: number, restartSchedule = schedule) {
      const clock = new VirtualClock(T0 + 30 * MINUTE);
      const ledger = new MemoryLedger("s", () => clock.wallNow());
      const first = processOn(clock, ledger, { owner: "host:1" });
      await started(schedule, first);
      clock.advance(30 * MINUTE);
      for (const run of first.runs) run.finish();
      await settle();
      await first.scheduler.stop(1_000, "SIGTERM");
      clock.advance(restartAtMs - clock.wallNow());
      const second = processOn(clock, ledger, { owner: "host:2" });
      await started(restartSchedule, second);
      return { clock, ledger, second };
    }

    it("with a ledger shared by replicas, leaves the fires of the last lease alone: another replica may be claiming them", async () => {
      const clock = new VirtualClock(T0 + 30 * MINUTE);
      const ledger = new MemoryLedger("s", () => clock.wallNow());
      const first = processOn(clock, ledger, { owner: "host:1", shared: true });
      await started(scheduleOf([hourly("backup")]), first);
      clock.advance(30 * MINUTE);
      for (const run of first.runs) run.finish();
      await settle();
      await first.scheduler.stop(1_000, "SIGTERM");
      // Two fires later, 5 ms after the second is due: a replica still running would be claiming it now.
      clock.advance(2 * HOUR + 5);
      const second = processOn(clock, ledger, { owner: "host:2", shared: true });
      await started(scheduleOf([hourly("backup")]), second);
      expect(second.events.find((e) => e.event === "missed")).toMatchObject({ job: "backup", count: 1 });
      expect(await ledger.get({ job: "backup", scheduledAtMs: T0 + 2 * HOUR })).toMatchObject({
        state: "missed",
      });
      expect(await ledger.get({ job: "backup", scheduledAtMs: T0 + 3 * HOUR })).toBeUndefined();
    });

    it("records them missed without catch_up, and says how many", async () => {
      const { ledger, second } = await downtime(scheduleOf([hourly("backup")]), T0 + 5 * HOUR + 30 * MINUTE);
      expect(second.runs).toHaveLength(0);
      expect(await history(ledger)).toEqual([
        { at: 5, state: "missed", trigger: "schedule" },
        { at: 4, state: "missed", trigger: "schedule" },
        { at: 3, state: "missed", trigger: "schedule" },
        { at: 2, state: "missed", trigger: "schedule" },
        { at: 1, state: "succeeded", trigger: "schedule" },
      ]);
      expect(second.events.find((e) => e.event === "missed")).toMatchObject({ job: "backup", count: 4 });
    });

    it("runs only the newest with catch_up (latest), as catch_up, at its original time", async () => {
      const schedule = scheduleOf([hourly("backup", { catchUp: { withinMs: 6 * HOUR, runs: "latest" } })]);
      const { ledger, second } = await downtime(schedule, T0 + 5 * HOUR + 30 * MINUTE);
      expect(second.runs.map((r) => [r.context.scheduledMs, r.context.trigger])).toEqual([
        [T0 + 5 * HOUR, "catch_up"],
      ]);
      expect(second.events.filter((e) => e.event === "claimed")).toMatchObject([
        { job: "backup", trigger: "catch_up" },
      ]);
      expect((await history(ledger)).slice(0, 2)).toEqual([
        { at: 5, state: "running", trigger: "catch_up" },
        { at: 4, state: "missed", trigger: "schedule" },
      ]);
    });

    it("runs each in order, one after another, with catch_up runs: all", async () => {
      const schedule = scheduleOf([hourly("backup", { catchUp: { withinMs: 6 * HOUR, runs: "all" } })]);
      const { second } = await downtime(schedule, T0 + 4 * HOUR + 30 * MINUTE);
      for (let i = 0; i < 3; i++) {
        expect(second.runs).toHaveLength(i + 1);
        second.runs[i]!.finish();
        await settle();
      }
      expect(second.runs.map((r) => (r.context.scheduledMs - T0) / HOUR)).toEqual([2, 3, 4]);
      expect(second.runs.every((r) => r.context.trigger === "catch_up")).toBe(true);
    });

    it("catches up only inside the window; older fires are recorded missed", async () => {
      const schedule = scheduleOf([hourly("backup", { catchUp: { withinMs: 2 * HOUR, runs: "all" } })]);
      const { ledger, second } = await downtime(schedule, T0 + 5 * HOUR + 30 * MINUTE);
      expect(second.runs.map((r) => (r.context.scheduledMs - T0) / HOUR)).toEqual([4]);
      second.runs[0]!.finish();
      await settle();
      expect(second.runs.map((r) => (r.context.scheduledMs - T0) / HOUR)).toEqual([4, 5]);
      expect((await history(ledger)).filter((r) => r.state === "missed").map((r) => r.at)).toEqual([3, 2]);
    });

    it("never backfills a job the ledger has not seen before", async () => {
      const newJob = hourly("report", { catchUp: { withinMs: 6 * HOUR, runs: "all" } });
      const { ledger, second } = await downtime(
        scheduleOf([hourly("backup")]),
        T0 + 5 * HOUR + 30 * MINUTE,
        scheduleOf([hourly("backup"), newJob]),
      );
      expect(second.runs).toHaveLength(0);
      expect(await history(ledger, "report")).toEqual([]);
    });

    it("runs an at job once ever, and its time missed while down only with catch_up", async () => {
      const at = (catchUp?: boolean) =>
        jobSpec(
          "once",
          {
            kind: "at",
            zone: "UTC",
            times: [
              { timeMs: T0 + HOUR, text: "01:00" },
              { timeMs: T0 + 3 * HOUR, text: "03:00" },
            ],
          },
          catchUp ? { catchUp: { withinMs: 24 * HOUR, runs: "latest" } } : {},
        );
      const without = await downtime(scheduleOf([at()]), T0 + 4 * HOUR);
      expect(without.second.runs).toHaveLength(0);
      expect(await history(without.ledger)).toEqual([
        { at: 3, state: "missed", trigger: "schedule" },
        { at: 1, state: "succeeded", trigger: "schedule" },
      ]);
      const withCatchUp = await downtime(scheduleOf([at(true)]), T0 + 4 * HOUR);
      expect(withCatchUp.second.runs.map((r) => (r.context.scheduledMs - T0) / HOUR)).toEqual([3]);
    });
  });

  it("runs the fire when the ledger fails, and logs the failure at error level", async () => {
    const clock = new VirtualClock(T0 + 30 * MINUTE);
    const ledger = new MemoryLedger("s", () => clock.wallNow());
    ledger.claim = () => {
      throw new Error("SQLITE_FULL: database or disk is full");
    };
    const proc = processOn(clock, ledger);
    await started(scheduleOf([hourly("backup")]), proc);
    clock.advance(30 * MINUTE);
    expect(proc.runs).toHaveLength(1);
    expect(proc.runs[0]!.context.fence).toBeUndefined();
    expect(proc.events.find((e) => e.event === "error")).toMatchObject({
      level: "error",
      message: "the ledger (:memory:) failed claiming a fire: SQLITE_FULL: database or disk is full",
    });
  });

  it("prunes records older than ledger.keep at start and every hour", async () => {
    const clock = new VirtualClock(T0);
    const ledger = new MemoryLedger("s", () => clock.wallNow());
    for (const hours of [-3, -0.5]) {
      ledger.recordNotRun({
        job: "backup",
        scheduledAtMs: T0 + hours * HOUR,
        state: "missed",
        reason: "x",
        trigger: "schedule",
      });
    }
    const proc = processOn(clock, ledger);
    await started(scheduleOf([hourly("backup")], { ledgerKeepMs: 1.5 * HOUR }), proc);
    const kept = async () => (await ledger.history({})).map((r) => (r.scheduledAtMs - T0) / HOUR);
    expect(await kept()).toEqual([-0.5]);
    for (let hour = 1; hour <= 3; hour++) {
      clock.advance(HOUR);
      for (const run of proc.runs) run.finish();
      await settle();
    }
    expect(await kept()).toEqual([3, 2]);
  });
});
