import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliProcess, isAlive } from "../helpers/cli.js";
import {
  POSTGRES_MISSING,
  POSTGRES_SKIPPED,
  type PostgresServer,
  startPostgres,
} from "../helpers/postgres.js";
import { jsonEvents, sleep } from "../helpers/procs.js";

// Several `tdefer run` processes of the built binary against one real PostgreSQL: what "once across replicas"
// means, proved with processes that race, die, stop and lose their database. Each job appends one line per run
// to a file (one short write with O_APPEND: whole lines), which the assertions read. The every-second jobs allow
// overlap: on a loaded machine a run can still be starting when the next second comes, and overlap: skip (logged)
// would then leave a gap that these tests would blame on the claims.

let server: PostgresServer;

const LIBFAKETIME = [
  "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
  "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
  "/usr/lib/faketime/libfaketime.so.1",
].find((path) => existsSync(path));

beforeAll(async () => {
  if (!POSTGRES_MISSING) server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.remove();
}, 60_000);

interface Fired {
  job: string;
  scheduledAt: string;
  fence: number;
  /** When the run began, on the real clock (ms). */
  realMs: number;
}

/**
 * A folder with the schedule and the script its jobs run: it appends `job scheduled_at fence` to the record, then
 * sleeps for its first argument's seconds (if any). In the schedule, RUN stands for the script, SLOW for it with 60.
 */
function setup(scheduleBody: string): { file: string; fires: () => Fired[] } {
  const dir = mkdtempSync(join(tmpdir(), "tdefer-replicas-"));
  const record = join(dir, "fires.log");
  writeFileSync(record, "");
  const script = join(dir, "record.sh");
  writeFileSync(
    script,
    // The real time too: a replica under libfaketime passes its fake clock to its jobs.
    `real=$(env -u LD_PRELOAD -u FAKETIME date +%s%3N)\nprintf '%s %s %s %s\\n' "$TDEFER_JOB" "$TDEFER_SCHEDULED_AT" "$TDEFER_FENCE" "$real" >> ${record}\nexec sleep "\${1:-0}"\n`,
  );
  const file = join(dir, "tdefer.yaml");
  writeFileSync(
    file,
    scheduleBody.replaceAll("RUN", `[/bin/sh, ${script}]`).replaceAll("SLOW", `[/bin/sh, ${script}, "60"]`),
  );
  const fires = () =>
    readFileSync(record, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [job, scheduledAt, fence, realMs] = line.split(" ");
        return { job: job!, scheduledAt: scheduledAt!, fence: Number(fence), realMs: Number(realMs) };
      });
  return { file, fires };
}

function replica(
  file: string,
  database: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
): CliProcess {
  return new CliProcess(["run", file, "--state", server.url(database), "--log-format", "json", ...args], {
    env: { ...server.env, ...env },
  });
}

/** Fires recorded more than once, as `job scheduled_at ×n`. */
function doubles(fires: Fired[]): string[] {
  const counts = new Map<string, number>();
  for (const fire of fires)
    counts.set(`${fire.job} ${fire.scheduledAt}`, (counts.get(`${fire.job} ${fire.scheduledAt}`) ?? 0) + 1);
  return [...counts].filter(([, n]) => n > 1).map(([key, n]) => `${key} ×${n}`);
}

/** Whole seconds in [fromMs, toMs] that have no fire of `job`. */
function gaps(fires: Fired[], job: string, fromMs: number, toMs: number): string[] {
  const seen = new Set(fires.filter((f) => f.job === job).map((f) => Date.parse(f.scheduledAt)));
  const missing: string[] = [];
  for (let t = Math.ceil(fromMs / 1000) * 1000; t <= toMs; t += 1000) {
    if (!seen.has(t)) missing.push(new Date(t).toISOString());
  }
  return missing;
}

describe.skipIf(POSTGRES_MISSING)(`replicas sharing a PostgreSQL ledger${POSTGRES_SKIPPED}`, () => {
  // 5 replicas × 3 jobs every second for 2 minutes.
  it("five replicas run every fire of three every-second jobs exactly once, missing none", async () => {
    const database = await server.createDatabase();
    const { file, fires } = setup(`name: replicas
jobs:
  a: { every: 1s, run: RUN, overlap: allow }
  b: { every: 1s, run: RUN, overlap: allow }
  c: { every: 1s, run: RUN, overlap: allow }
`);
    const replicas = Array.from({ length: 5 }, () => replica(file, database, ["--for", "120s"]));
    const results = await Promise.all(replicas.map((r) => r.exited));
    for (const result of results) expect(result.code, result.stderr).toBe(0);
    const recorded = fires();
    expect(doubles(recorded)).toEqual([]);
    // Every second from when the last replica was up until the first one began to stop.
    const upMs = Math.max(
      ...results.map((r) => Date.parse(jsonEvents(r.stdout).find((e) => e.event === "scheduled").time)),
    );
    const stoppingMs = Math.min(
      ...results.map((r) => Date.parse(jsonEvents(r.stdout).find((e) => e.event === "stopping").time)),
    );
    // Each replica runs 2 minutes from its own start; on a loaded machine they may start seconds apart.
    expect(stoppingMs - upMs, "the replicas ran side by side").toBeGreaterThan(90_000);
    for (const job of ["a", "b", "c"])
      expect(gaps(recorded, job, upMs + 1_000, stoppingMs - 1_000), `fires of ${job} not run`).toEqual([]);
    expect(recorded.length).toBeGreaterThanOrEqual(3 * 90);
    // Each run has its own fence, and the replicas did race for the fires.
    expect(new Set(recorded.map((f) => f.fence)).size).toBe(recorded.length);
    const lostRaces = results.flatMap((r) => jsonEvents(r.stdout)).filter((e) => e.event === "skipped");
    expect(lostRaces.length, "claims lost to another replica").toBeGreaterThan(recorded.length);
    // The ledger agrees: each run's record carries the fence the run was given. A started record without a line is
    // a run that its replica's stop ended before the script wrote (a stop signals every running job at once).
    const rows = await server.query(
      database,
      "SELECT fence, state, finished_at FROM tdefer.runs WHERE started_at IS NOT NULL",
    );
    const ledgerFences = new Set(rows.map((row) => Number(row.fence)));
    expect(recorded.filter((f) => !ledgerFences.has(f.fence))).toEqual([]);
    const recordedFences = new Set(recorded.map((f) => f.fence));
    const unwritten = rows.filter((row) => !recordedFences.has(Number(row.fence)));
    for (const row of unwritten) {
      expect(row.state, `run ${row.fence} started without a line`).toBe("killed");
      expect(Number(row.finished_at)).toBeGreaterThanOrEqual(stoppingMs);
    }
    expect(unwritten.length, "runs cut short by the stops").toBeLessThanOrEqual(3 * results.length);
  }, 180_000);

  /**
   * The fires of `job` with the scheduled time of `started` (a `started` event). A replica that comes up just after
   * the top of an hour also fires that hour's grid point (`every: 1h, now: true`): a fire of its own, not a rerun.
   */
  function firesLike(recorded: Fired[], job: string, started: { scheduled: string }): Fired[] {
    const scheduledMs = Date.parse(started.scheduled);
    return recorded.filter((f) => f.job === job && Date.parse(f.scheduledAt) === scheduledMs);
  }

  /** The fires of `job` like `started`, once the run and its rerun have both written their lines. */
  function both(job: string, started: { scheduled: string }, fires: () => Fired[]): Promise<Fired[]> {
    return until(`two recorded runs of ${job}`, () => {
      const like = firesLike(fires(), job, started);
      return like.length >= 2 ? like : undefined;
    });
  }

  /** The replica that started `job` (from its log), with the started event. */
  // biome-ignore lint/suspicious/noExplicitAny: log events are checked field by field
  function starterOf(replicas: CliProcess[], job: string): { replica: CliProcess; started: any } | undefined {
    for (const replica of replicas) {
      const started = jsonEvents(replica.stdout).find((e) => e.event === "started" && e.job === job);
      if (started) return { replica, started };
    }
    return undefined;
  }

  async function until<T>(
    what: string,
    probe: () => T | undefined | Promise<T | undefined>,
    timeoutMs = 20_000,
  ) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(100);
    }
  }

  /** Ends a job's process group (a SIGKILLed tdefer leaves its job behind). */
  function killGroup(pid: number | undefined): void {
    if (pid === undefined) return;
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }

  const lostSchedule = (onLost: "abandon" | "rerun") => `name: lost
ledger: { lease: 2s }
jobs:
  slow: { every: 1h, now: true, run: SLOW, on_lost: ${onLost} }
  tick: { every: 1s, run: RUN, overlap: allow }
`;

  it("a SIGKILLed replica's run is recorded lost once its lease ends (on_lost: abandon); the others go on without a gap", async () => {
    const database = await server.createDatabase();
    const { file, fires } = setup(lostSchedule("abandon"));
    const replicas = [replica(file, database, ["--for", "20s"]), replica(file, database, ["--for", "20s"])];
    let orphan: number | undefined;
    try {
      const { replica: owner, started } = await until("a start of slow", () => starterOf(replicas, "slow"));
      orphan = started.pid;
      const survivor = replicas.find((r) => r !== owner)!;
      owner.child.kill("SIGKILL");
      const killedMs = Date.now();
      const [row] = await until("the run to be recorded lost", async () => {
        const rows = await server.query(
          database,
          "SELECT * FROM tdefer.runs WHERE job = 'slow' AND state = 'lost'",
        );
        return rows.length > 0 ? rows : undefined;
      });
      // Lost after its lease (2 s) ran out, never before; and never run again.
      expect(Date.now() - killedMs).toBeGreaterThanOrEqual(1_000);
      expect(row).toMatchObject({ state: "lost", owner: expect.stringMatching(`:${owner.child.pid}$`) });
      const result = await survivor.exited;
      expect(result.code, result.stderr).toBe(0);
      const recorded = fires();
      expect(firesLike(recorded, "slow", started)).toHaveLength(1);
      expect(doubles(recorded)).toEqual([]);
      const events = jsonEvents(result.stdout);
      const stoppingMs = Date.parse(events.find((e) => e.event === "stopping").time);
      const missing = gaps(recorded, "tick", killedMs + 1_000, stoppingMs - 1_000);
      // On failure, what the survivor said about tick other than its ordinary runs.
      const told = events.filter(
        (e) => e.job === "tick" && !["claimed", "started", "finished"].includes(e.event),
      );
      expect(missing, `killed at ${new Date(killedMs).toISOString()}; ${JSON.stringify(told)}`).toEqual([]);
    } finally {
      for (const r of replicas) r.child.kill("SIGKILL");
      killGroup(orphan);
    }
  }, 60_000);

  it("a SIGKILLed replica's run is run again once, by another replica, with a higher fence (on_lost: rerun)", async () => {
    const database = await server.createDatabase();
    const { file, fires } = setup(lostSchedule("rerun"));
    const replicas = [replica(file, database, ["--for", "15s"]), replica(file, database, ["--for", "15s"])];
    const orphans: number[] = [];
    try {
      const { replica: owner, started } = await until("a start of slow", () => starterOf(replicas, "slow"));
      orphans.push(started.pid);
      const survivor = replicas.find((r) => r !== owner)!;
      owner.child.kill("SIGKILL");
      const rerun = await until("the rerun", () =>
        jsonEvents(survivor.stdout).find(
          (e) => e.event === "started" && e.job === "slow" && e.scheduled === started.scheduled,
        ),
      );
      orphans.push(rerun.pid);
      // The rerun's line is written by its script just after tdefer logs its start.
      const slow = await both("slow", started, fires);
      expect(slow).toHaveLength(2);
      expect(slow[1]!.fence).toBeGreaterThan(slow[0]!.fence);
      await survivor.exited;
      expect(firesLike(fires(), "slow", started)).toHaveLength(2);
    } finally {
      for (const r of replicas) r.child.kill("SIGKILL");
      for (const pid of orphans) killGroup(pid);
    }
  }, 60_000);

  it("a lease holder stopped past its lease (SIGSTOP) finds its lease gone on SIGCONT: lease_lost, its run ended; the new owner's fence is higher", async () => {
    const database = await server.createDatabase();
    const { file, fires } = setup(lostSchedule("rerun"));
    const replicas = [replica(file, database, ["--for", "20s"]), replica(file, database, ["--for", "20s"])];
    const orphans: number[] = [];
    try {
      const { replica: owner, started } = await until("a start of slow", () => starterOf(replicas, "slow"));
      orphans.push(started.pid);
      const other = replicas.find((r) => r !== owner)!;
      owner.child.kill("SIGSTOP");
      const rerun = await until("the rerun", () =>
        jsonEvents(other.stdout).find(
          (e) => e.event === "started" && e.job === "slow" && e.scheduled === started.scheduled,
        ),
      );
      orphans.push(rerun.pid);
      owner.child.kill("SIGCONT");
      const lost = await until("lease_lost", () =>
        jsonEvents(owner.stdout).find((e) => e.event === "lease_lost" && e.job === "slow"),
      );
      const slow = await both("slow", started, fires);
      expect(slow).toHaveLength(2);
      expect(lost.fence).toBe(slow[0]!.fence);
      expect(slow[1]!.fence).toBeGreaterThan(lost.fence);
      // Its run was ended as on timeout: kill_signal to the group.
      await until("the old run to end", () =>
        jsonEvents(owner.stdout).find((e) => e.event === "finished" && e.job === "slow"),
      );
      expect(isAlive(started.pid)).toBe(false);
    } finally {
      for (const r of replicas) r.child.kill("SIGKILL");
      for (const pid of orphans) killGroup(pid);
    }
  }, 60_000);

  it("a database restart mid-run doubles no fire: fires during the outage are skipped and logged, and all resumes", async () => {
    const database = await server.createDatabase();
    const { file, fires } = setup(`name: restart
jobs:
  tick: { every: 1s, run: RUN, overlap: allow }
  tock: { every: 1s, run: RUN, overlap: allow }
`);
    const replicas = Array.from({ length: 3 }, () => replica(file, database, ["--for", "20s"]));
    await until("the first fires", () => (fires().length >= 6 ? true : undefined));
    await server.stop();
    const downMs = Date.now();
    await sleep(3_000);
    await server.start();
    const upMs = Date.now();
    const results = await Promise.all(replicas.map((r) => r.exited));
    for (const result of results) expect(result.code, result.stderr).toBe(0);
    const recorded = fires();
    if (process.env.DEBUG_REPLICAS)
      console.log(
        results[0]!.stdout
          .split("\n")
          .filter((l) => !l.includes('"finished"'))
          .join("\n"),
      );
    expect(doubles(recorded)).toEqual([]);
    const events = results.flatMap((r) => jsonEvents(r.stdout));
    expect(events.some((e) => e.event === "ledger_down")).toBe(true);
    expect(events.some((e) => e.event === "ledger_up")).toBe(true);
    const skippedForLedger = events.filter(
      (e) => e.event === "skipped" && /ledger did not answer/.test(e.reason),
    );
    expect(skippedForLedger.length).toBeGreaterThan(0);
    // No fire ran while the database was away (none unclaimed)...
    const during = recorded.filter(
      (f) => Date.parse(f.scheduledAt) > downMs + 500 && Date.parse(f.scheduledAt) < upMs - 500,
    );
    expect(during).toEqual([]);
    // ...and every fire ran again once it was back: from the first replica's reconnect (its ledger_up, after a
    // backoff of 0.5, 1, 2, 4... s, so seconds after the server is up on a loaded machine), none is missing.
    const resumedMs = Math.min(
      ...results.map((r) => {
        const own = jsonEvents(r.stdout);
        // The last ledger_down: a replica may see the server go, come and go again while it shuts down.
        const lastDown = own.findLastIndex((e) => e.event === "ledger_down");
        const up = own.slice(lastDown).find((e) => e.event === "ledger_up");
        return up ? Date.parse(up.time) : Number.POSITIVE_INFINITY;
      }),
    );
    const stoppingMs = Math.min(
      ...results.map((r) => Date.parse(jsonEvents(r.stdout).find((e) => e.event === "stopping").time)),
    );
    expect(resumedMs, "a replica back on the ledger before the replicas stopped").toBeLessThan(
      stoppingMs - 2_000,
    );
    // What the replicas said after the restart, shown if a fire is missing.
    const after = events
      .filter((e) => Date.parse(e.time) > upMs && !["started", "finished", "output"].includes(e.event))
      .map((e) => `${e.time} ${e.event} ${e.job ?? ""} ${e.reason ?? e.message ?? ""}`);
    for (const job of ["tick", "tock"]) {
      expect(gaps(recorded, job, resumedMs + 1_000, stoppingMs - 1_000), after.join("\n")).toEqual([]);
    }
  }, 60_000);

  it.skipIf(!LIBFAKETIME)(
    `a replica whose clock is 90 s fast warns, and never starts a fire early${LIBFAKETIME ? "" : " [skipped: libfaketime is not installed; apt-get install libfaketime]"}`,
    async () => {
      const database = await server.createDatabase();
      const { file, fires } = setup(`name: skew
jobs:
  tick: { every: 1s, run: RUN, overlap: allow }
`);
      const fast = replica(file, database, ["--for", "12s"], {
        LD_PRELOAD: LIBFAKETIME,
        FAKETIME: "+90s",
        FAKETIME_DONT_FAKE_MONOTONIC: "1",
      });
      const honest = replica(file, database, ["--for", "12s"]);
      const [fastResult, honestResult] = await Promise.all([fast.exited, honest.exited]);
      expect(fastResult.code, fastResult.stderr).toBe(0);
      expect(honestResult.code, honestResult.stderr).toBe(0);
      const skew = jsonEvents(fastResult.stdout).find((e) => e.event === "clock_skew");
      expect(skew?.skew_ms).toBeGreaterThan(85_000);
      const recorded = fires();
      expect(recorded.length).toBeGreaterThan(5);
      expect(doubles(recorded)).toEqual([]);
      // Never early: each run began no sooner than 500 ms before its fire's time, on the real clock.
      const early = recorded.filter((f) => f.realMs < Date.parse(f.scheduledAt) - 500);
      expect(early).toEqual([]);
    },
    60_000,
  );

  it("a reload that renames a job, applied by one replica seconds before the other, doubles no fire and misses none", async () => {
    const database = await server.createDatabase();
    const { file, fires } = setup(`name: rename
jobs:
  tick: { every: 1s, run: RUN, overlap: allow }
`);
    // Each replica reads its own copy of the file, as on two machines; the rename reaches them one after the other.
    const fileB = file.replace(/\.yaml$/, "-b.yaml");
    copyFileSync(file, fileB);
    const rename = (path: string) =>
      writeFileSync(path, readFileSync(path, "utf8").replace("tick:", "tock:"));
    const a = replica(file, database, ["--for", "16s"]);
    const b = replica(fileB, database, ["--for", "16s"]);
    await until("a few fires", () => (fires().length >= 3 ? true : undefined));
    rename(fileB);
    b.child.kill("SIGHUP");
    const bRenamed = await until("b's reload", () =>
      jsonEvents(b.stdout).find((e) => e.event === "reload_applied"),
    );
    await sleep(4_000);
    rename(file);
    a.child.kill("SIGHUP");
    const aRenamed = await until("a's reload", () =>
      jsonEvents(a.stdout).find((e) => e.event === "reload_applied"),
    );
    const results = await Promise.all([a.exited, b.exited]);
    for (const result of results) expect(result.code, result.stderr).toBe(0);
    const recorded = fires();
    // One fire per instant, whatever name ran it.
    expect(doubles(recorded.map((f) => ({ ...f, job: "tick or tock" })))).toEqual([]);
    const events = results.flatMap((r) => jsonEvents(r.stdout));
    const upMs = Math.max(
      ...results.map((r) => Date.parse(jsonEvents(r.stdout).find((e) => e.event === "scheduled").time)),
    );
    const stoppingMs = Math.min(
      ...results.map((r) => Date.parse(jsonEvents(r.stdout).find((e) => e.event === "stopping").time)),
    );
    const either = recorded.map((f) => ({ ...f, job: "tick or tock" }));
    expect(gaps(either, "tick or tock", upMs + 1_000, stoppingMs - 1_000)).toEqual([]);
    // While the names differed, the two replicas raced for the same fires under different names.
    const windowStart = Date.parse(bRenamed.time);
    const windowEnd = Date.parse(aRenamed.time);
    expect(windowEnd - windowStart).toBeGreaterThan(3_000);
    const racedAcrossNames = events.filter(
      (e) =>
        e.event === "skipped" &&
        /claimed elsewhere/.test(e.reason) &&
        Date.parse(e.time) > windowStart + 1_000 &&
        Date.parse(e.time) < windowEnd,
    );
    expect(racedAcrossNames.length).toBeGreaterThanOrEqual(2);
    expect(recorded.some((f) => f.job === "tock")).toBe(true);
  }, 60_000);

  it("a replica in a restart loop beside a steady one doubles no fire, and leaves out only fires it had claimed as it stopped", async () => {
    const database = await server.createDatabase();
    const { file, fires } = setup(`name: restarts
jobs:
  tick: { every: 1s, run: RUN, overlap: allow }
`);
    const steady = replica(file, database, ["--for", "20s"]);
    let restarts = 0;
    const loopUntil = Date.now() + 14_000;
    while (Date.now() < loopUntil) {
      const flapping = replica(file, database);
      await until("the flapping replica to be up", () =>
        jsonEvents(flapping.stdout).some((e) => e.event === "scheduled") ? true : undefined,
      );
      await sleep(700 + (restarts % 3) * 400);
      flapping.child.kill(restarts % 2 === 0 ? "SIGTERM" : "SIGKILL");
      await flapping.exited;
      restarts++;
    }
    const result = await steady.exited;
    expect(result.code, result.stderr).toBe(0);
    expect(restarts).toBeGreaterThan(3);
    const recorded = fires();
    expect(doubles(recorded)).toEqual([]);
    const events = jsonEvents(result.stdout);
    const upMs = Date.parse(events.find((e) => e.event === "scheduled").time);
    const stoppingMs = Date.parse(events.find((e) => e.event === "stopping").time);
    // A fire not run is one a replica claimed just before it was stopped or killed (at most once): it has its
    // record, owned by a flapping replica, never the steady one's, and there is at most one per restart.
    const notRun = gaps(recorded, "tick", upMs + 1_000, stoppingMs - 1_000);
    expect(notRun.length).toBeLessThanOrEqual(restarts);
    for (const time of notRun) {
      const [row] = await server.query(
        database,
        "SELECT owner, state FROM tdefer.runs WHERE job = 'tick' AND scheduled_at = $1",
        [Date.parse(time)],
      );
      expect(row, `no record for ${time}`).toBeDefined();
      expect(row!.owner).not.toMatch(new RegExp(`:${steady.child.pid}$`));
    }
  }, 60_000);

  it.skipIf(!LIBFAKETIME)(
    `the DST repeated hour with two replicas: the 01:30 of each pass is its own fire, run once${LIBFAKETIME ? "" : " [skipped: libfaketime is not installed; apt-get install libfaketime]"}`,
    async () => {
      const database = await server.createDatabase();
      // America/New_York falls back on 2026-11-01 at 06:00Z: 01:30 comes at 05:30Z (EDT), then at 06:30Z (EST).
      const { file, fires } = setup(`name: dst
timezone: America/New_York
jobs:
  half: { cron: "30 * * * *", run: RUN }
`);
      for (const start of ["2026-11-01 05:29:48", "2026-11-01 06:29:48"]) {
        const pair = [0, 1].map(() =>
          replica(file, database, ["--for", "18s"], {
            LD_PRELOAD: LIBFAKETIME,
            FAKETIME: `@${start}`,
            FAKETIME_DONT_FAKE_MONOTONIC: "1",
            TZ: "UTC",
          }),
        );
        for (const result of await Promise.all(pair.map((r) => r.exited))) {
          expect(result.code, result.stderr + result.stdout).toBe(0);
          expect(jsonEvents(result.stdout).some((e) => e.event === "clock_skew")).toBe(true);
        }
      }
      expect(fires().map((f) => f.scheduledAt)).toEqual([
        "2026-11-01T05:30:00.000Z",
        "2026-11-01T06:30:00.000Z",
      ]);
    },
    90_000,
  );
});
