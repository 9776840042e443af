import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Claim, ClaimRequest } from "../../src/ledger/ledger.js";
import { POSTGRES_MIGRATIONS, POSTGRES_SCHEMA_VERSION } from "../../src/ledger/migrations/postgres.js";
import {
  LedgerSchemaError,
  PostgresLedger,
  type PostgresLedgerOptions,
  postgresUrlProblem,
} from "../../src/ledger/postgres.js";
import { redactUrl } from "../../src/ledger/redact.js";
import {
  POSTGRES_MISSING,
  POSTGRES_SKIPPED,
  type PostgresServer,
  startPostgres,
} from "../helpers/postgres.js";

// The PostgreSQL ledger against a real server (one per file, a database per test): the claim rule, leases,
// fences and lost runs, as several replicas (several ledgers, each its own owner) see them.

let server: PostgresServer;
const opened: PostgresLedger[] = [];

const realCallLater = (delayMs: number, fn: () => void) => {
  const timer = setTimeout(fn, delayMs);
  return { cancel: () => clearTimeout(timer) };
};

async function ledgers(
  count: number,
  options: Partial<PostgresLedgerOptions> = {},
): Promise<PostgresLedger[]> {
  const database = await server.createDatabase();
  // Opened together, as replicas starting at once: they migrate the new database once, in turn.
  const result = await Promise.all(
    Array.from({ length: count }, () =>
      PostgresLedger.open(server.url(database), {
        schedule: "nightly",
        callLater: realCallLater,
        ...options,
      }),
    ),
  );
  opened.push(...result);
  return result;
}

const fire = (owner: number, scheduledAtMs: number, extra: Partial<ClaimRequest> = {}) => ({
  job: "backup",
  scheduledAtMs,
  runId: `r${owner}`,
  owner: `host${owner}:100${owner}`,
  leaseMs: 30_000,
  trigger: "schedule" as const,
  ...extra,
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function claimed(ledger: PostgresLedger, request: ClaimRequest): Promise<Claim> {
  const claim = await ledger.claim(request);
  if (!claim) throw new Error("the claim should have been won");
  return claim;
}

describe.skipIf(POSTGRES_MISSING)(`the PostgreSQL ledger${POSTGRES_SKIPPED}`, () => {
  beforeAll(async () => {
    server = await startPostgres();
    process.env.PGPASSWORD = server.password;
  }, 60_000);
  afterAll(async () => {
    for (const ledger of opened) await ledger.close();
    await server?.remove();
    delete process.env.PGPASSWORD;
  });

  it("gives a fire to exactly one of five replicas claiming it at once", async () => {
    const replicas = await ledgers(5);
    const scheduledAtMs = Date.now() - 10;
    const claims = await Promise.all(replicas.map((ledger, i) => ledger.claim(fire(i, scheduledAtMs))));
    expect(claims.filter(Boolean)).toHaveLength(1);
    const [record] = await replicas[0]!.history({});
    expect(record).toMatchObject({ state: "claimed", schedule: "nightly", job: "backup", scheduledAtMs });
  });

  it("never claims a fire more than 500 ms ahead of the database's clock: it waits for that clock", async () => {
    const [ledger] = await ledgers(1);
    const scheduledAtMs = Date.now() + 1_500;
    await claimed(ledger!, fire(0, scheduledAtMs));
    const record = await ledger!.get({ job: "backup", scheduledAtMs });
    expect(record!.claimedAtMs!).toBeGreaterThanOrEqual(scheduledAtMs - 500);
  });

  it("hands out fences that only grow, and renews only a claim that still carries its fence", async () => {
    const [a, b] = await ledgers(2);
    const first = await claimed(a!, fire(0, 1_000));
    const second = await claimed(b!, fire(1, 2_000));
    expect(second.fence).toBeGreaterThan(first.fence);
    expect(await a!.renew(first, 30_000)).toBe(true);
    expect(await a!.renew({ ...first, fence: first.fence + 100 }, 30_000)).toBe(false);
  });

  it("lets exactly one replica mark a dead owner's run lost, and only once its lease has expired", async () => {
    const [dead, one, two] = await ledgers(3);
    const claim = await claimed(dead!, fire(0, Date.now() - 10, { leaseMs: 300 }));
    const [record] = await one!.inFlight();
    expect(record).toMatchObject({ owner: "host0:1000", leaseExpired: false });
    expect(await one!.markLost(claim, "its owner stopped renewing its lease")).toBe(false);
    await sleep(400);
    expect((await one!.inFlight())[0]!.leaseExpired).toBe(true);
    const results = await Promise.all([one!.markLost(claim, "lost"), two!.markLost(claim, "lost")]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await dead!.renew(claim, 30_000)).toBe(false);
    expect(await one!.get(claim)).toMatchObject({ state: "lost", owner: "host0:1000" });
  });

  it("lets exactly one replica re-run a dead owner's run, with a higher fence; the old owner's writes no longer count", async () => {
    const [dead, one, two] = await ledgers(3);
    const claim = await claimed(dead!, fire(0, Date.now() - 10, { leaseMs: 200 }));
    await sleep(300);
    const retakes = await Promise.all(
      [one!, two!].map((ledger, i) =>
        ledger.reclaim(claim, { owner: `h${i}:1`, runId: `x${i}`, leaseMs: 30_000 }),
      ),
    );
    const won = retakes.filter((c): c is Claim => c !== undefined);
    expect(won).toHaveLength(1);
    expect(won[0]!.fence).toBeGreaterThan(claim.fence);
    expect(await dead!.renew(claim, 30_000)).toBe(false);
    const finish = {
      state: "succeeded",
      finishedAtMs: 1,
      attempts: 1,
      exitCode: 0,
      signal: null,
      durationMs: 5,
    };
    expect(await dead!.finish(claim, finish as never)).toBe(false);
    expect(await one!.finish(won[0]!, finish as never)).toBe(true);
  });

  it("skips a fire while another replica's run of the job holds its lease (overlap: skip), and records why", async () => {
    const [a, b] = await ledgers(2);
    await claimed(a!, fire(0, Date.now() - 2_000, { overlap: "skip" }));
    const scheduledAtMs = Date.now() - 1_000;
    expect(await b!.claim(fire(1, scheduledAtMs, { overlap: "skip" }))).toBeUndefined();
    expect(await b!.get({ job: "backup", scheduledAtMs })).toMatchObject({
      state: "skipped",
      reason: "the previous run is still going on host0:1000 (overlap: skip)",
    });
  });

  it("takes the lease of another replica's run when a newer fire replaces it (overlap: replace)", async () => {
    const [a, b] = await ledgers(2);
    const first = await claimed(a!, fire(0, Date.now() - 2_000, { overlap: "replace" }));
    await claimed(b!, fire(1, Date.now() - 1_000, { overlap: "replace" }));
    expect(await a!.renew(first, 30_000)).toBe(false);
    expect(await a!.get(first)).toMatchObject({ state: "killed" });
  });

  it("keeps each job's watermark (manual runs aside), first sight and pause", async () => {
    const [ledger] = await ledgers(1);
    await ledger!.noteJobs(["backup", "report"]);
    await claimed(ledger!, fire(0, 5_000));
    await claimed(ledger!, fire(0, 9_000, { trigger: "manual" }));
    await ledger!.recordNotRun({
      job: "report",
      scheduledAtMs: 7_000,
      state: "missed",
      reason: "down",
      trigger: "schedule",
    });
    await ledger!.setPaused("report", true);
    const jobs = await ledger!.jobs();
    expect(jobs.map((j) => [j.job, j.lastScheduledAtMs, j.pausedAtMs !== null])).toEqual([
      ["backup", 5_000, false],
      ["report", 7_000, true],
    ]);
  });

  it("upgrades a database of the first schema in place, keeping its records", async () => {
    const database = await server.createDatabase();
    await server.query(database, POSTGRES_MIGRATIONS.find((migration) => migration.version === 1)!.sql);
    await server.query(database, "INSERT INTO tdefer.meta (key, value) VALUES ('schema_version', '1')");
    await server.query(
      database,
      `INSERT INTO tdefer.runs (schedule, job, scheduled_at, state, fence) VALUES ('nightly', 'backup', 1, 'succeeded', 1)`,
    );
    const ledger = await PostgresLedger.open(server.url(database), {
      schedule: "nightly",
      callLater: realCallLater,
    });
    opened.push(ledger);
    expect((await ledger.get({ job: "backup", scheduledAtMs: 1 }))?.state).toBe("succeeded");
    await claimed(ledger, fire(0, 2, { work: "w.0" }));
    expect(await ledger.claim(fire(1, 2, { job: "renamed", work: "w.0" }))).toBeUndefined();
    const [meta] = await server.query(database, "SELECT value FROM tdefer.meta WHERE key = 'schema_version'");
    expect(meta!.value).toBe(String(POSTGRES_SCHEMA_VERSION));
  });

  it("refuses a schema newer than it knows", async () => {
    const [ledger] = await ledgers(1);
    const database = ledger!.url.slice(ledger!.url.lastIndexOf("/") + 1);
    await server.query(database, "UPDATE tdefer.meta SET value = '99' WHERE key = 'schema_version'");
    await expect(
      PostgresLedger.open(ledger!.url, { schedule: "nightly", callLater: realCallLater }),
    ).rejects.toThrow(LedgerSchemaError);
  });

  it("refuses a URL with a password, and never shows one in a message", () => {
    expect(postgresUrlProblem("postgres://u:secret@db/x")).toMatch(/PGPASSWORD or ~\/\.pgpass/);
    expect(postgresUrlProblem("postgres://u@db/x?password=secret")).toMatch(/PGPASSWORD/);
    expect(postgresUrlProblem("postgres://u@db/x")).toBeUndefined();
    expect(redactUrl("postgres://u:secret@db/x")).not.toContain("secret");
  });

  it("fails claims while the database is away, and says when it is back", async () => {
    const changes: boolean[] = [];
    const [ledger] = await ledgers(1, { onAvailability: (up) => changes.push(up), backoffMs: () => 100 });
    await claimed(ledger!, fire(0, 1_000));
    await server.stop();
    try {
      await expect(ledger!.claim(fire(0, 2_000))).rejects.toThrow();
      expect(ledger!.isUp).toBe(false);
    } finally {
      await server.start();
    }
    const deadline = Date.now() + 10_000;
    while (!ledger!.isUp && Date.now() < deadline) await sleep(50);
    expect(changes).toEqual([false, true]);
    await claimed(ledger!, fire(0, 3_000));
  });
});
