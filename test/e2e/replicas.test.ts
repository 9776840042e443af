import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliProcess } from "../helpers/cli.js";
import {
  POSTGRES_MISSING,
  POSTGRES_SKIPPED,
  type PostgresServer,
  startPostgres,
} from "../helpers/postgres.js";
import { jsonEvents, sleep } from "../helpers/procs.js";

// Several `tdefer run` processes of the built binary against one real PostgreSQL: what "once across replicas"
// means, proved with processes that race, die, stop and lose their database. Each job appends one line per run
// to a file (one short write with O_APPEND: whole lines), which the assertions read.

let server: PostgresServer;

beforeAll(async () => {
  if (!POSTGRES_MISSING) server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.remove();
});

interface Fired {
  job: string;
  scheduledAt: string;
  fence: number;
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
    `printf '%s %s %s\\n' "$TDEFER_JOB" "$TDEFER_SCHEDULED_AT" "$TDEFER_FENCE" >> ${record}\nexec sleep "\${1:-0}"\n`,
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
        const [job, scheduledAt, fence] = line.split(" ");
        return { job: job!, scheduledAt: scheduledAt!, fence: Number(fence) };
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
  // 5 replicas × 3 jobs every second for 30 s (the CI budget; the property holds for any length).
  it("five replicas run every fire of three every-second jobs exactly once, missing none", async () => {
    const database = await server.createDatabase();
    const { file, fires } = setup(`name: replicas
jobs:
  a: { every: 1s, run: RUN }
  b: { every: 1s, run: RUN }
  c: { every: 1s, run: RUN }
`);
    const replicas = Array.from({ length: 5 }, () => replica(file, database, ["--for", "30s"]));
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
    expect(stoppingMs - upMs).toBeGreaterThan(20_000);
    for (const job of ["a", "b", "c"])
      expect(gaps(recorded, job, upMs + 1_000, stoppingMs - 1_000)).toEqual([]);
    expect(recorded.length).toBeGreaterThanOrEqual(3 * 20);
    // Each run has its own fence, and the replicas did race for the fires.
    expect(new Set(recorded.map((f) => f.fence)).size).toBe(recorded.length);
    const lostRaces = results.flatMap((r) => jsonEvents(r.stdout)).filter((e) => e.event === "skipped");
    expect(lostRaces.length).toBeGreaterThan(recorded.length);
    // The ledger agrees: each run's record carries the fence the run was given, and no other record started.
    const rows = await server.query(database, "SELECT fence FROM tdefer.runs WHERE started_at IS NOT NULL");
    expect(rows.map((row) => Number(row.fence)).sort()).toEqual(recorded.map((f) => f.fence).sort());
  }, 90_000);
});
