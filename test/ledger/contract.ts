// The Ledger contract, run against every implementation (memory, SQLite; a shared store adds itself the same way).
import { beforeEach, describe, expect, it } from "vitest";
import type { ClaimRequest, Ledger } from "../../src/ledger/ledger.js";

/** Opens a fresh, empty ledger for the schedule `nightly` whose clock reads `now()`. */
export type OpenLedger = (now: () => number) => Promise<Ledger>;

const T0 = Date.UTC(2026, 11, 1, 3, 0, 0);

const claimOf = (job: string, scheduledAtMs: number, extra: Partial<ClaimRequest> = {}): ClaimRequest => ({
  job,
  scheduledAtMs,
  trigger: "schedule",
  runId: `run-${job}-${scheduledAtMs}`,
  owner: "host:1",
  leaseMs: 30_000,
  ...extra,
});

export function describeLedgerContract(name: string, open: OpenLedger): void {
  describe(`${name}: the Ledger contract`, () => {
    let nowMs: number;
    let ledger: Ledger;
    beforeEach(async () => {
      nowMs = T0;
      ledger = await open(() => nowMs);
      return async () => {
        await ledger.close();
      };
    });

    it("claims a fire once: a second claim of the same job and instant gets nothing", async () => {
      const first = await ledger.claim(claimOf("backup", T0));
      expect(first).toMatchObject({ job: "backup", scheduledAtMs: T0 });
      expect(await ledger.claim(claimOf("backup", T0, { owner: "other:2" }))).toBeUndefined();
      expect(await ledger.claim(claimOf("backup", T0 + 1))).toBeDefined();
      expect(await ledger.claim(claimOf("report", T0))).toBeDefined();
    });

    it("claims a fire's work once: the same work at the same instant under another job name gets nothing", async () => {
      expect(await ledger.claim(claimOf("backup", T0, { work: "w1.0" }))).toBeDefined();
      // A replica that already renamed `backup` to `db-backup` calls the same fire by the new name.
      expect(
        await ledger.claim(claimOf("db-backup", T0, { work: "w1.0", owner: "other:2" })),
      ).toBeUndefined();
      expect(await ledger.get({ job: "db-backup", scheduledAtMs: T0 })).toBeUndefined();
      expect(await ledger.claim(claimOf("db-backup", T0 + 1000, { work: "w1.0" }))).toBeDefined();
      expect(await ledger.claim(claimOf("other", T0, { work: "w2.0" }))).toBeDefined();
      // Claims that carry no work are keyed by the job alone.
      expect(await ledger.claim(claimOf("plain", T0))).toBeDefined();
      expect(await ledger.claim(claimOf("plain-too", T0))).toBeDefined();
    });

    it("forgets a pruned fire's work with its record", async () => {
      await ledger.recordNotRun({
        job: "x",
        scheduledAtMs: T0 - 10_000,
        state: "missed",
        reason: "r",
        trigger: "schedule",
      });
      const claim = (await ledger.claim(claimOf("backup", T0, { work: "w1.0" })))!;
      await ledger.finish(claim, {
        state: "succeeded",
        finishedAtMs: T0 + 5,
        attempts: 1,
        exitCode: 0,
        signal: null,
        durationMs: 5,
      });
      expect(await ledger.prune(T0 + 1)).toBe(2);
      expect(await ledger.claim(claimOf("renamed", T0, { work: "w1.0" }))).toBeDefined();
    });

    it("keeps times in whole milliseconds, whatever fractions the clock gives", async () => {
      nowMs = T0 + 0.6;
      const claim = (await ledger.claim(claimOf("a", T0 + 1000.4, { leaseMs: 10.2 })))!;
      expect(claim.scheduledAtMs).toBe(T0 + 1000);
      await ledger.start({ ...claim, scheduledAtMs: T0 + 1000.4 }, { startedAtMs: T0 + 1000.7, lateMs: 0.3 });
      expect(await ledger.get({ job: "a", scheduledAtMs: T0 + 1000.2 })).toMatchObject({
        scheduledAtMs: T0 + 1000,
        claimedAtMs: T0 + 1,
        leaseUntilMs: T0 + 11,
        startedAtMs: T0 + 1001,
        lateMs: 0,
        state: "running",
      });
    });

    it("gives every claim a larger fence than any before it", async () => {
      const fences: number[] = [];
      for (let i = 0; i < 5; i++)
        fences.push((await ledger.claim(claimOf(i % 2 ? "a" : "b", T0 + i)))!.fence);
      for (let i = 1; i < fences.length; i++) expect(fences[i]).toBeGreaterThan(fences[i - 1]!);
    });

    it("never reuses a fence, even after the records are pruned", async () => {
      const first = (await ledger.claim(claimOf("a", T0)))!;
      await ledger.finish(first, finished("succeeded"));
      expect(await ledger.prune(T0 + 1)).toBe(1);
      const second = (await ledger.claim(claimOf("a", T0 + 1)))!;
      expect(second.fence).toBeGreaterThan(first.fence);
    });

    it("records a claimed fire with its owner, run id, trigger, claim time and lease", async () => {
      nowMs = T0 + 250;
      await ledger.claim(claimOf("backup", T0, { trigger: "catch_up", leaseMs: 10_000 }));
      expect(await ledger.get({ job: "backup", scheduledAtMs: T0 })).toMatchObject({
        schedule: "nightly",
        state: "claimed",
        owner: "host:1",
        runId: `run-backup-${T0}`,
        trigger: "catch_up",
        claimedAtMs: T0 + 250,
        leaseUntilMs: T0 + 10_250,
        attempts: 0,
      });
    });

    it("records the start and the result of a run, with its output tail", async () => {
      const claim = (await ledger.claim(claimOf("backup", T0)))!;
      await ledger.start(claim, { startedAtMs: T0 + 12, lateMs: 12 });
      expect(await ledger.get(claim)).toMatchObject({ state: "running", startedAtMs: T0 + 12, lateMs: 12 });
      expect(
        await ledger.finish(claim, {
          state: "failed",
          finishedAtMs: T0 + 1012,
          attempts: 2,
          exitCode: 3,
          signal: null,
          durationMs: 1000,
          outputTail: "line 1\nline 2",
        }),
      ).toBe(true);
      expect(await ledger.get(claim)).toMatchObject({
        state: "failed",
        finishedAtMs: T0 + 1012,
        attempts: 2,
        exitCode: 3,
        signal: null,
        durationMs: 1000,
        outputTail: "line 1\nline 2",
        leaseUntilMs: null,
      });
    });

    it("renews a lease from its own now, and refuses a renewal or finish under a stale fence", async () => {
      const claim = (await ledger.claim(claimOf("backup", T0)))!;
      nowMs = T0 + 20_000;
      expect(await ledger.renew(claim, 30_000)).toBe(true);
      expect((await ledger.get(claim))?.leaseUntilMs).toBe(T0 + 50_000);
      const stale = { ...claim, fence: claim.fence - 1 };
      expect(await ledger.renew(stale, 30_000)).toBe(false);
      expect(await ledger.finish(stale, finished("succeeded"))).toBe(false);
      expect((await ledger.get(claim))?.state).toBe("claimed");
    });

    it("refuses to renew a finished run", async () => {
      const claim = (await ledger.claim(claimOf("backup", T0)))!;
      await ledger.finish(claim, finished("succeeded"));
      expect(await ledger.renew(claim, 30_000)).toBe(false);
    });

    it("lists the runs in flight, saying whose lease ended", async () => {
      const old = (await ledger.claim(claimOf("a", T0, { leaseMs: 1_000 })))!;
      await ledger.start(old, { startedAtMs: T0, lateMs: 0 });
      await ledger.claim(claimOf("b", T0 + 1, { leaseMs: 60_000 }));
      const done = (await ledger.claim(claimOf("c", T0 + 2)))!;
      await ledger.finish(done, finished("succeeded"));
      nowMs = T0 + 5_000;
      const inFlight = await ledger.inFlight();
      expect(inFlight.map((r) => [r.job, r.state, r.leaseExpired])).toEqual([
        ["a", "running", true],
        ["b", "claimed", false],
      ]);
    });

    it("marks a run whose owner died lost, at most once", async () => {
      const claim = (await ledger.claim(claimOf("a", T0, { leaseMs: 1_000 })))!;
      nowMs = T0 + 5_000;
      expect(await ledger.markLost(claim, "its owner died")).toBe(true);
      expect(await ledger.markLost(claim, "its owner died")).toBe(false);
      expect(await ledger.get(claim)).toMatchObject({
        state: "lost",
        reason: "its owner died",
        finishedAtMs: T0 + 5_000,
      });
      expect(await ledger.inFlight()).toEqual([]);
    });

    it("reclaims a lost run with a new fence, once", async () => {
      const claim = (await ledger.claim(claimOf("a", T0, { leaseMs: 1_000 })))!;
      await ledger.start(claim, { startedAtMs: T0, lateMs: 0 });
      nowMs = T0 + 5_000;
      const again = await ledger.reclaim(claim, { runId: "second", owner: "host:2", leaseMs: 30_000 });
      expect(again?.fence).toBeGreaterThan(claim.fence);
      expect(await ledger.get(claim)).toMatchObject({
        state: "claimed",
        runId: "second",
        owner: "host:2",
        fence: again!.fence,
        leaseUntilMs: T0 + 35_000,
        trigger: "schedule",
      });
      expect(
        await ledger.reclaim(claim, { runId: "third", owner: "host:3", leaseMs: 30_000 }),
      ).toBeUndefined();
      expect(await ledger.finish(claim, finished("succeeded"))).toBe(false);
      expect(await ledger.finish(again!, finished("succeeded"))).toBe(true);
    });

    it("records a fire that did not run, and never over a record already there", async () => {
      await ledger.recordNotRun({
        job: "a",
        scheduledAtMs: T0,
        state: "missed",
        reason: "tdefer was down",
        trigger: "schedule",
      });
      expect(await ledger.get({ job: "a", scheduledAtMs: T0 })).toMatchObject({
        state: "missed",
        reason: "tdefer was down",
        fence: null,
      });
      expect(await ledger.claim(claimOf("a", T0))).toBeUndefined();
      const claim = (await ledger.claim(claimOf("a", T0 + 1)))!;
      await ledger.recordNotRun({
        job: "a",
        scheduledAtMs: T0 + 1,
        state: "skipped",
        reason: "x",
        trigger: "schedule",
      });
      expect((await ledger.get(claim))?.state).toBe("claimed");
    });

    it("reads history newest first, filtered by job, time, failure and count", async () => {
      const states = ["succeeded", "failed", "succeeded", "timed_out", "succeeded"] as const;
      for (const [i, state] of states.entries()) {
        for (const job of ["a", "b"]) {
          const claim = (await ledger.claim(claimOf(job, T0 + i * 60_000)))!;
          await ledger.finish(claim, finished(state));
        }
      }
      const all = await ledger.history({});
      expect(all).toHaveLength(10);
      expect(all.map((r) => r.scheduledAtMs)).toEqual(
        [...all.map((r) => r.scheduledAtMs)].sort((x, y) => y - x),
      );
      expect((await ledger.history({ limit: 3 })).map((r) => [r.job, r.scheduledAtMs])).toEqual([
        ["a", T0 + 240_000],
        ["b", T0 + 240_000],
        ["a", T0 + 180_000],
      ]);
      expect((await ledger.history({ jobs: ["b"] })).every((r) => r.job === "b")).toBe(true);
      expect(await ledger.history({ jobs: ["b"] })).toHaveLength(5);
      expect(await ledger.history({ sinceMs: T0 + 180_000 })).toHaveLength(4);
      expect((await ledger.history({ failedOnly: true, jobs: ["a"] })).map((r) => r.state)).toEqual([
        "timed_out",
        "failed",
      ]);
      expect(await ledger.history({ jobs: ["nobody"] })).toEqual([]);
    });

    it("counts lost runs as failures in history", async () => {
      const claim = (await ledger.claim(claimOf("a", T0, { leaseMs: 1 })))!;
      nowMs = T0 + 10;
      await ledger.markLost(claim, "its owner died");
      expect((await ledger.history({ failedOnly: true })).map((r) => r.state)).toEqual(["lost"]);
    });

    it("keeps each job's first sighting and latest scheduled instant, manual runs aside", async () => {
      await ledger.noteJobs(["a", "b"]);
      nowMs = T0 + 1_000;
      await ledger.noteJobs(["a", "c"]);
      await ledger.claim(claimOf("a", T0 - 60_000));
      await ledger.claim(claimOf("a", T0 - 120_000));
      await ledger.claim(claimOf("a", T0 + 500, { trigger: "manual" }));
      await ledger.recordNotRun({
        job: "b",
        scheduledAtMs: T0 - 5,
        state: "missed",
        reason: "x",
        trigger: "schedule",
      });
      expect(await ledger.jobs()).toEqual([
        { job: "a", firstSeenMs: T0, lastScheduledAtMs: T0 - 60_000, pausedAtMs: null },
        { job: "b", firstSeenMs: T0, lastScheduledAtMs: T0 - 5, pausedAtMs: null },
        { job: "c", firstSeenMs: T0 + 1_000, lastScheduledAtMs: null, pausedAtMs: null },
      ]);
    });

    it("keeps a job's latest scheduled instant after its records are pruned", async () => {
      const claim = (await ledger.claim(claimOf("yearly", T0)))!;
      await ledger.finish(claim, finished("succeeded"));
      await ledger.prune(T0 + 1);
      expect(await ledger.history({})).toEqual([]);
      expect((await ledger.jobs())[0]?.lastScheduledAtMs).toBe(T0);
    });

    it("keeps a job paused until it is resumed", async () => {
      nowMs = T0 + 7;
      await ledger.setPaused("a", true);
      expect((await ledger.jobs()).find((j) => j.job === "a")?.pausedAtMs).toBe(T0 + 7);
      await ledger.setPaused("a", false);
      expect((await ledger.jobs()).find((j) => j.job === "a")?.pausedAtMs).toBeNull();
    });

    it("prunes final records older than the cutoff and keeps runs in flight", async () => {
      const old = (await ledger.claim(claimOf("a", T0 - 10)))!;
      await ledger.finish(old, finished("succeeded"));
      await ledger.claim(claimOf("a", T0 - 5)); // still in flight
      await ledger.recordNotRun({
        job: "a",
        scheduledAtMs: T0 - 1,
        state: "missed",
        reason: "x",
        trigger: "schedule",
      });
      const recent = (await ledger.claim(claimOf("a", T0 + 10)))!;
      await ledger.finish(recent, finished("succeeded"));
      expect(await ledger.prune(T0)).toBe(2);
      expect((await ledger.history({})).map((r) => r.scheduledAtMs)).toEqual([T0 + 10, T0 - 5]);
    });
  });
}

function finished(state: "succeeded" | "failed" | "timed_out" | "killed") {
  return {
    state,
    finishedAtMs: T0 + 1,
    attempts: 1,
    exitCode: state === "succeeded" ? 0 : 1,
    signal: null,
    durationMs: 1,
  };
}
