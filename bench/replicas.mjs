// Replicas on PostgreSQL: `node bench/replicas.mjs [--seconds 5] [--fires 100]` (needs dist/: npm run build, and
// Debian's postgresql; it starts a throwaway server as the tests do). Prints two Markdown tables:
//   claims   5 replicas (5 PostgresLedger pools of dist/, as 5 processes would have) race for the same fires,
//            each keeping 8 claims in flight, for --seconds: fires decided per second (one winner each) and
//            claim attempts per second, with the claim's p50/p99 round trip.
//   start    fire-to-start: `tdefer run` of one `every: 200ms` job for --fires fires with --state none, an SQLite
//            file and the PostgreSQL URL, one after another in one run: late_ms (p50/p99) of the `started`
//            events (the wall clock when spawn() returned minus the fire's nominal time).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { POSTGRES_MISSING, startPostgres } from "../test/helpers/postgres-server.mjs";
import { benchDir, parseArgs, percentile } from "./lib.mjs";

const args = parseArgs();
const seconds = Number(args.seconds ?? 5);
const fireCount = Number(args.fires ?? 100);
const REPLICAS = 5;
const IN_FLIGHT = 8;

if (POSTGRES_MISSING) {
  console.error(`bench replicas: skipped, ${POSTGRES_MISSING}`);
  process.exit(0);
}
const { PostgresLedger } = await import(join(benchDir, "..", "dist", "ledger", "postgres.js"));

const ms = (value) => `${value.toFixed(1)} ms`;

async function claims(server) {
  const database = await server.createDatabase();
  const callLater = (delayMs, fn) => {
    const timer = setTimeout(fn, delayMs);
    return { cancel: () => clearTimeout(timer) };
  };
  const ledgers = await Promise.all(
    Array.from({ length: REPLICAS }, () =>
      PostgresLedger.open(server.url(database), { schedule: "bench", callLater }),
    ),
  );
  const base = Date.now() - 86_400_000; // fires of yesterday: never early
  const roundTrips = [];
  let attempts = 0;
  let won = 0;
  const endMs = Date.now() + seconds * 1000;
  await Promise.all(
    ledgers.map(async (ledger, replica) => {
      // Every replica walks the same fires: each is decided once, by whichever replica claims it first.
      let next = 0;
      const worker = async () => {
        while (Date.now() < endMs) {
          const fire = next++;
          const sent = performance.now();
          const claim = await ledger.claim({
            job: `job${fire % 10}`,
            scheduledAtMs: base + fire * 1000,
            trigger: "schedule",
            runId: `r${replica}-${fire}`,
            owner: `bench:${replica}`,
            leaseMs: 30_000,
          });
          roundTrips.push(performance.now() - sent);
          attempts++;
          if (claim) won++;
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    }),
  );
  for (const ledger of ledgers) await ledger.close();
  roundTrips.sort((a, b) => a - b);
  const [{ n }] = await server.query(database, "SELECT count(*)::int AS n FROM tdefer.runs");
  return {
    decidedPerS: won / seconds,
    attemptsPerS: attempts / seconds,
    doubles: won - n,
    p50: percentile(roundTrips, 50),
    p99: percentile(roundTrips, 99),
  };
}

async function fireToStart(state, env) {
  const dir = mkdtempSync(join(tmpdir(), "tdefer-bench-replicas-"));
  try {
    const schedule = join(dir, "fire.yaml");
    writeFileSync(schedule, "name: fire\njobs:\n  tick:\n    every: 200ms\n    run: [/bin/true]\n");
    const stateValue = state === "sqlite" ? join(dir, "ledger.db") : state;
    const proc = spawn(
      process.execPath,
      [
        join(benchDir, "..", "bin", "tdefer.js"),
        "run",
        schedule,
        "--state",
        stateValue,
        "--log-format",
        "json",
        "--for",
        `${(fireCount + 1) * 200 + 100}ms`,
      ],
      { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...env } },
    );
    let text = "";
    proc.stdout.setEncoding("utf8").on("data", (chunk) => {
      text += chunk;
    });
    await new Promise((resolve) => proc.on("close", resolve));
    const late = text
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line))
      .filter((event) => event.event === "started")
      .map((event) => event.late_ms)
      .slice(1) // the first pays for the JIT
      .sort((a, b) => a - b);
    return { fires: late.length + 1, p50: percentile(late, 50), p99: percentile(late, 99) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const server = await startPostgres();
process.env.PGPASSWORD = server.password; // as a user would: libpq's environment, never the URL
try {
  const c = await claims(server);
  console.log(
    `\n### Claims: ${REPLICAS} replicas racing for the same fires, ${IN_FLIGHT} in flight each, ${seconds} s\n`,
  );
  console.log("| fires decided/s | claim attempts/s | claim p50 | claim p99 | fires won twice |");
  console.log("|---|---|---|---|---|");
  console.log(
    `| ${c.decidedPerS.toFixed(0)} | ${c.attemptsPerS.toFixed(0)} | ${ms(c.p50)} | ${ms(c.p99)} | ${c.doubles} |`,
  );
  const database = await server.createDatabase();
  console.log(`\n### Fire-to-start, one \`every: 200ms\` job, ${fireCount} fires each, in one run\n`);
  console.log("| --state | fires | late p50 | late p99 |");
  console.log("|---|---|---|---|");
  for (const [label, state, env] of [
    ["none", "none", {}],
    ["SQLite file", "sqlite", {}],
    ["PostgreSQL (loopback)", server.url(database), server.env],
  ]) {
    const r = await fireToStart(state, env);
    console.log(`| ${label} | ${r.fires} | ${ms(r.p50)} | ${ms(r.p99)} |`);
  }
} finally {
  await server.remove();
}
