// The ledger's cost, measured on the built binary in one run (node bench/ledger.mjs [--quick]):
//   1. fire-to-start: late_ms of `started` events of one `every: 50ms` job, with a SQLite ledger and with
//      --state none, alternated (A B B A) so that the machine's load falls on both alike;
//   2. spawn throughput: runs finished per second by 20 jobs `every: 20ms` (overlap: allow), both ways;
//   3. `history -n 50` on a ledger of 1,000,000 records: wall time of the whole CLI process (Node start-up
//      included), median of 5, for all jobs, one job, and --failed;
//   4. retention: 100 fires a second with `ledger: { keep: 10s }`: the ledger's size (db + wal) and tdefer's
//      RSS sampled every 10 s stay flat once the first records are pruned.
// Prints Markdown tables. Needs dist/ (npm run build).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { benchDir, parseArgs, percentile, sleep } from "./lib.mjs";

const args = parseArgs();
const quick = Boolean(args.quick);
const bin = join(benchDir, "..", "bin", "tdefer.js");
const dir = mkdtempSync(join(tmpdir(), "tdefer-bench-ledger-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

function runTdefer(argv) {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [bin, ...argv], { stdio: ["ignore", "pipe", "inherit"] });
    let text = "";
    proc.stdout.setEncoding("utf8").on("data", (d) => {
      text += d;
    });
    proc.on("close", (code) =>
      resolve({
        code,
        events: text
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l)),
      }),
    );
  });
}

const fmt = (n) => (Number.isFinite(n) ? n.toFixed(2) : "-");

async function fireToStart(state, count) {
  const schedule = join(dir, `fire-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(schedule, "jobs:\n  tick:\n    every: 50ms\n    run: [/bin/true]\n");
  const { events } = await runTdefer([
    "run",
    schedule,
    "--log-format",
    "json",
    "--for",
    `${(count + 0.5) * 50}ms`,
    "--state",
    state,
  ]);
  return events
    .filter((e) => e.event === "started")
    .slice(1)
    .map((e) => e.late_ms);
}

async function throughput(state, seconds) {
  const schedule = join(dir, `spawn-${Math.random().toString(36).slice(2)}.yaml`);
  let text = "defaults:\n  overlap: allow\njobs:\n";
  for (let i = 0; i < 20; i++) text += `  j${i}:\n    every: 20ms\n    run: [/bin/true]\n`;
  writeFileSync(schedule, text);
  const { events } = await runTdefer([
    "run",
    schedule,
    "--log-format",
    "json",
    "--for",
    `${seconds}s`,
    "--state",
    state,
  ]);
  return events.filter((e) => e.event === "finished").length / seconds;
}

function buildMillionLedger(path, records) {
  // The schema comes from tdefer itself: open the ledger once through the CLI, then fill it directly.
  const schedule = join(dir, "million.yaml");
  writeFileSync(
    schedule,
    `name: million\njobs:\n${Array.from({ length: 10 }, (_, i) => `  job${i}:\n    cron: "* * * * *"\n    run: [/bin/true]\n`).join("")}`,
  );
  spawnSync(process.execPath, [bin, "run", schedule, "--state", path, "--for", "10ms"], { stdio: "ignore" });
  const require = createRequire(join(benchDir, "..", "package.json"));
  const Database = require("better-sqlite3");
  const db = new Database(path);
  const insert = db.prepare(
    `INSERT INTO runs (schedule, job, scheduled_at, state, run_id, owner, fence, claimed_at, started_at, finished_at,
       attempts, exit_code, duration_ms, late_ms, trigger, output_tail)
     VALUES ('million', ?, ?, ?, ?, 'bench:1', ?, ?, ?, ?, 1, ?, 42, 3, 'schedule', 'done')`,
  );
  const startMs = Date.UTC(2025, 0, 1);
  db.transaction(() => {
    for (let i = 0; i < records; i++) {
      const at = startMs + Math.floor(i / 10) * 60_000;
      const failed = i % 997 === 0;
      insert.run(
        `job${i % 10}`,
        at,
        failed ? "failed" : "succeeded",
        `r${i}`,
        i + 1,
        at,
        at + 3,
        at + 45,
        failed ? 1 : 0,
      );
    }
  })();
  db.close();
  return schedule;
}

function medianWallMs(argv, times) {
  const walls = [];
  for (let i = 0; i < times; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [bin, ...argv], { encoding: "utf8" });
    walls.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.status !== 0) throw new Error(`history failed: ${r.stderr}`);
  }
  return walls.sort((a, b) => a - b)[Math.floor(times / 2)];
}

function rssKb(pid) {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
  } catch {
    return Number.NaN;
  }
}

function sizeKb(path) {
  let bytes = 0;
  for (const suffix of ["", "-wal"]) if (existsSync(path + suffix)) bytes += statSync(path + suffix).size;
  return Math.round(bytes / 1024);
}

async function retention(seconds) {
  const schedule = join(dir, "retention.yaml");
  const ledger = join(dir, "retention.db");
  let text = "ledger:\n  keep: 10s\njobs:\n";
  for (let i = 0; i < 10; i++) text += `  r${i}:\n    every: 100ms\n    run: [/bin/true]\n`;
  writeFileSync(schedule, text);
  const proc = spawn(
    process.execPath,
    [bin, "run", schedule, "--state", ledger, "--for", `${seconds}s`, "--log-format", "json"],
    {
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  const samples = [];
  for (let t = 10; t < seconds; t += 10) {
    await sleep(10_000);
    samples.push({ t, sizeKb: sizeKb(ledger), rssKb: rssKb(proc.pid) });
  }
  await new Promise((resolve) => proc.on("close", resolve));
  return samples;
}

const fires = quick ? 100 : 300;
const lateness = { ledger: [], none: [] };
for (const state of ["ledger", "none", "none", "ledger"]) {
  lateness[state].push(
    ...(await fireToStart(
      state === "ledger" ? join(dir, `fire-${lateness.ledger.length}.db`) : "none",
      fires,
    )),
  );
}
const spawnSeconds = quick ? 3 : 10;
const rate = { ledger: [], none: [] };
for (const state of ["ledger", "none", "none", "ledger"]) {
  rate[state].push(
    await throughput(state === "ledger" ? join(dir, `spawn-${rate.ledger.length}.db`) : "none", spawnSeconds),
  );
}
console.log("| --state | fires | late p50 (ms) | late p99 (ms) | runs/s (20 jobs every 20ms) |");
console.log("|---|---|---|---|---|");
for (const state of ["ledger", "none"]) {
  const sorted = lateness[state].sort((a, b) => a - b);
  const mean = rate[state].reduce((a, b) => a + b, 0) / rate[state].length;
  console.log(
    `| ${state === "ledger" ? "SQLite file" : "none"} | ${sorted.length} | ${fmt(percentile(sorted, 50))} | ${fmt(percentile(sorted, 99))} | ${mean.toFixed(0)} |`,
  );
}

const records = quick ? 100_000 : 1_000_000;
const millionPath = join(dir, "million.db");
const millionSchedule = buildMillionLedger(millionPath, records);
const base = ["history", "--file", millionSchedule, "--state", millionPath, "-n", "50"];
console.log(
  `\n| history on ${records.toLocaleString("en")} records (${sizeKb(millionPath).toLocaleString("en")} KiB) | median wall ms, process included |`,
);
console.log("|---|---|");
console.log(`| tdefer --version (Node start-up) | ${fmt(medianWallMs(["--version"], 5))} |`);
console.log(`| history -n 50 | ${fmt(medianWallMs(base, 5))} |`);
console.log(`| history job3 -n 50 | ${fmt(medianWallMs([...base, "job3"], 5))} |`);
console.log(`| history --failed -n 50 | ${fmt(medianWallMs([...base, "--failed"], 5))} |`);
console.log(`| history -n 50 --json | ${fmt(medianWallMs([...base, "--json"], 5))} |`);
// The ledger's own share: open (with its migration check) and query, in this process, median of 5.
const { openSqliteLedger } = await import(join(benchDir, "..", "dist", "ledger", "sqlite.js"));
const inProcess = (query) => {
  const times = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const ledger = openSqliteLedger(millionPath, { schedule: "million", now: Date.now, mustExist: true });
    ledger.history(query);
    ledger.close();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[2];
};
console.log(
  `| open + query in process: -n 50 / one job / --failed | ${fmt(inProcess({ limit: 50 }))} / ${fmt(inProcess({ jobs: ["job3"], limit: 50 }))} / ${fmt(inProcess({ failedOnly: true, limit: 50 }))} |`,
);

const retentionSeconds = quick ? 35 : 120;
const samples = await retention(retentionSeconds);
console.log(`\n| retention: 100 fires/s, keep 10s | ${samples.map((s) => `${s.t}s`).join(" | ")} |`);
console.log(`|---|${samples.map(() => "---").join("|")}|`);
console.log(`| ledger size (db + wal, KiB) | ${samples.map((s) => s.sizeKb).join(" | ")} |`);
console.log(`| tdefer RSS (KiB) | ${samples.map((s) => s.rssKb).join(" | ")} |`);
