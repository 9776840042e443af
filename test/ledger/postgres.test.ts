import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ClaimRequest,
  LedgerSchemaError,
  PostgresLedger,
  type PostgresLedgerOptions,
  postgresUrlProblem,
  redactUrl,
} from "../../src/ledger/postgres.js";
import {
  POSTGRES_MISSING,
  POSTGRES_SKIPPED,
  type PostgresServer,
  startPostgres,
} from "../helpers/postgres.js";

// The PostgreSQL ledger against a real server (one per file, a database per test): the claim rule, leases,
// fences and lost runs, as several replicas (several ledgers with different owners) see them.

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
    Array.from({ length: count }, (_, i) =>
      PostgresLedger.open(server.url(database), {
        schedule: "nightly",
        owner: `host${i}:100${i}`,
        leaseMs: 30_000,
        callLater: realCallLater,
        ...options,
      }),
    ),
  );
  opened.push(...result);
  return result;
}

const fire = (scheduledMs: number, extra: Partial<ClaimRequest> = {}): ClaimRequest => ({
  job: "backup",
  scheduledMs,
  runId: "r1",
  trigger: "schedule",
  overlap: "allow",
  ...extra,
});

describe.skipIf(POSTGRES_MISSING)(`the PostgreSQL ledger${POSTGRES_SKIPPED}`, () => {
  beforeAll(async () => {
    process.env.PGPASSWORD = "";
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
    const scheduledMs = Date.now() - 10;
    const outcomes = await Promise.all(replicas.map((ledger) => ledger.claim(fire(scheduledMs))));
    expect(outcomes.filter((o) => o.kind === "won")).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === "taken")).toHaveLength(4);
  });

  it("refuses to claim a fire more than 500 ms ahead of the database's clock", async () => {
    const [ledger] = await ledgers(1);
    const outcome = await ledger!.claim(fire(Date.now() + 5_000));
    expect(outcome.kind).toBe("early");
    expect((await ledger!.claim(fire(Date.now() + 100))).kind).toBe("won");
  });

  it("hands out fences that only grow, and renews only its own claim", async () => {
    const [a, b] = await ledgers(2);
    const first = await a!.claim(fire(1_000));
    const second = await b!.claim(fire(2_000));
    if (first.kind !== "won" || second.kind !== "won") throw new Error("both should win");
    expect(second.claim.fence).toBeGreaterThan(first.claim.fence);
    expect(await a!.renew(first.claim)).toBe(true);
    expect(await b!.renew(first.claim)).toBe(false); // not its owner
  });

  it("marks a run lost once when its owner stops renewing (on_lost: abandon)", async () => {
    const [dead, survivor, other] = await ledgers(3, { leaseMs: 200 });
    const outcome = await dead!.claim(fire(Date.now() - 10));
    if (outcome.kind !== "won") throw new Error("should win");
    expect((await survivor!.sweepLost([], () => "x")).abandoned).toHaveLength(0); // lease still good
    await new Promise((resolve) => setTimeout(resolve, 300));
    const [one, two] = await Promise.all([
      survivor!.sweepLost([], () => "x"),
      other!.sweepLost([], () => "y"),
    ]);
    expect(one.abandoned.length + two.abandoned.length).toBe(1);
    expect(await dead!.renew(outcome.claim)).toBe(false);
    const [row] = await survivor!.history({ limit: 10 });
    expect(row).toMatchObject({ state: "lost", owner: "host0:1000" });
  });

  it("re-runs a lost run once, with a higher fence, and the old owner's writes no longer count (on_lost: rerun)", async () => {
    const [dead, one, two] = await ledgers(3, { leaseMs: 200 });
    const outcome = await dead!.claim(fire(Date.now() - 10));
    if (outcome.kind !== "won") throw new Error("should win");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const sweeps = await Promise.all([
      one!.sweepLost(["backup"], () => "a"),
      two!.sweepLost(["backup"], () => "b"),
    ]);
    const reruns = sweeps.flatMap((s) => s.rerun);
    expect(reruns).toHaveLength(1);
    expect(reruns[0]!.fence).toBeGreaterThan(outcome.claim.fence);
    expect(reruns[0]!.previousOwner).toBe("host0:1000");
    expect(await dead!.renew(outcome.claim)).toBe(false);
    expect(
      await dead!.finish(outcome.claim, {
        state: "succeeded",
        exitCode: 0,
        signal: null,
        attempts: 1,
        durationMs: 5,
      }),
    ).toBe(false);
  });

  it("skips a fire while another replica's run of the job is going (overlap: skip)", async () => {
    const [a, b] = await ledgers(2);
    const first = await a!.claim(fire(Date.now() - 2_000, { overlap: "skip" }));
    expect(first.kind).toBe("won");
    const second = await b!.claim(fire(Date.now() - 1_000, { overlap: "skip" }));
    expect(second).toEqual({ kind: "busy", owner: "host0:1000" });
  });

  it("takes the lease of another replica's run when a newer fire replaces it (overlap: replace)", async () => {
    const [a, b] = await ledgers(2);
    const first = await a!.claim(fire(Date.now() - 2_000, { overlap: "replace" }));
    if (first.kind !== "won") throw new Error("should win");
    const second = await b!.claim(fire(Date.now() - 1_000, { overlap: "replace" }));
    expect(second).toMatchObject({ kind: "won", replaced: ["host0:1000"] });
    expect(await a!.renew(first.claim)).toBe(false);
  });

  it("refuses a schema newer than it knows, and never writes to it", async () => {
    const [ledger] = await ledgers(1);
    const url = ledger!.url;
    await ledger!.claim(fire(1_000));
    const database = url.slice(url.lastIndexOf("/") + 1);
    await server.query(database, "UPDATE tdefer.meta SET value = '99' WHERE key = 'schema_version'");
    await expect(
      PostgresLedger.open(url, {
        schedule: "nightly",
        owner: "h:1",
        leaseMs: 1000,
        callLater: realCallLater,
      }),
    ).rejects.toThrow(LedgerSchemaError);
  });

  it("refuses a URL with a password, and never shows one in a message", () => {
    expect(postgresUrlProblem("postgres://u:secret@db/x")).toMatch(/PGPASSWORD or ~\/\.pgpass/);
    expect(postgresUrlProblem("postgres://u@db/x?password=secret")).toMatch(/PGPASSWORD/);
    expect(postgresUrlProblem("postgres://u@db/x")).toBeUndefined();
    expect(redactUrl("postgres://u:secret@db/x")).not.toContain("secret");
  });

  it("skips nothing silently when the database goes away: claims fail, and it says when it is back", async () => {
    const changes: boolean[] = [];
    const [ledger] = await ledgers(1, { onAvailability: (up) => changes.push(up), backoffMs: () => 100 });
    expect((await ledger!.claim(fire(1_000))).kind).toBe("won");
    await server.stop();
    try {
      await expect(ledger!.claim(fire(2_000))).rejects.toThrow();
      expect(ledger!.isUp).toBe(false);
    } finally {
      await server.start();
    }
    const deadline = Date.now() + 10_000;
    while (!ledger!.isUp && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(changes).toEqual([false, true]);
    expect((await ledger!.claim(fire(3_000))).kind).toBe("won");
  });
});
