// npm run bench [-- --quick] [-- --only startup|lateness|drift|scale|check-next|memory|log|spawn|exec|runner]
//   [-- --realtime]      (lateness: every subject under SCHED_FIFO, to measure timers on a shared machine)
//   [-- --baseline DIR]  (start-up, lateness, memory and log throughput also run the built checkout in DIR, for before/after)
// Runs every benchmark in fresh child processes, the peers (setTimeout/setInterval, Twisted through
// /usr/bin/python3, croner) beside the Reactor on this machine in this run, and prints Markdown tables.
// Builds and installs nothing: it needs dist/ (npm run build) and skips a peer that is absent.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import { join } from "node:path";
import { benchDir, distIndex, parseArgs } from "./lib.mjs";
import { fireToExec, LOG_BENCHES, logParams, logThroughput, spawnOverhead } from "./log-benches.mjs";

const args = parseArgs();
const quick = Boolean(args.quick);
const only = args.only ? String(args.only).replace(/^fire-/, "") : undefined;
const BENCHES = ["startup", "lateness", "drift", "scale", "check-next", "memory", ...LOG_BENCHES, "runner"];
if (only && !BENCHES.includes(only)) {
  console.error(`bench: --only takes one of ${BENCHES.join(", ")}, got ${only}`);
  process.exit(2);
}
if (!existsSync(distIndex)) {
  console.error(`bench: ${distIndex} is missing. Build first: npm run build`);
  process.exit(2);
}

const PYTHON = "/usr/bin/python3";
const P = quick
  ? { count: 2000, span: 3000, ticks: 20, scaleCount: 20_000, window: 2000, settle: 500 }
  : { count: 2000, span: 20_000, ticks: 200, scaleCount: 100_000, window: 10_000, settle: 1000 };

function twistedStatus() {
  if (!existsSync(PYTHON)) return { ok: false, why: `${PYTHON} not found` };
  const r = spawnSync(
    PYTHON,
    ["-c", "import twisted, sys; print(twisted.__version__, sys.version.split()[0])"],
    {
      encoding: "utf8",
    },
  );
  if (r.status !== 0) return { ok: false, why: `${PYTHON} has no twisted module` };
  const [twisted, python] = r.stdout.trim().split(" ");
  return { ok: true, version: `Twisted ${twisted} on Python ${python}` };
}

function cronerStatus() {
  try {
    const require = createRequire(join(benchDir, "run.mjs"));
    const pkg = JSON.parse(readFileSync(require.resolve("croner/package.json"), "utf8"));
    return { ok: true, version: `croner ${pkg.version}` };
  } catch {
    return { ok: false, why: "croner is not installed (it is a devDependency: npm install)" };
  }
}

/** Runs one child; resolves with its JSON result line, or an {error} record. */
function child(command, argv, label) {
  return new Promise((resolve) => {
    const proc = spawn(command, argv, { cwd: join(benchDir, ".."), stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    proc.stdout.on("data", (d) => {
      out += d;
    });
    proc.stderr.on("data", (d) => {
      err += d;
    });
    proc.on("close", (code) => {
      const line = out.trim().split("\n").pop() ?? "";
      try {
        resolve(JSON.parse(line));
      } catch {
        resolve({
          subject: label,
          error: `exit ${code}: ${(err || out).trim().split("\n").slice(-3).join(" | ")}`,
        });
      }
    });
  });
}

const node = (file, ...rest) => [process.execPath, [join(benchDir, file), ...rest]];
const py = (file, ...rest) => [PYTHON, [join(benchDir, "peers", file), ...rest]];
const fmt = (x, digits = 2) => (x === null || x === undefined || Number.isNaN(x) ? "–" : x.toFixed(digits));
const ratio = (x, base) => (x && base ? `${(x / base).toFixed(2)}×` : "–");
const notes = [];
const verdicts = [];

function table(header, rows) {
  const lines = [
    `| ${header.join(" | ")} |`,
    `|${header.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`,
  ];
  for (const row of rows) lines.push(`| ${row.join(" | ")} |`);
  return lines.join("\n");
}

function checkSame(results) {
  const sums = new Set(results.filter((r) => !r.error).map((r) => r.checksum));
  if (sums.size > 1) notes.push("WARNING: the subjects did not draw the same schedule (checksums differ).");
}

async function startup() {
  const runs = quick ? 10 : 40;
  const baseline = typeof args.baseline === "string" ? ["--baseline", args.baseline] : [];
  const r = await child(...node("startup.mjs", "--runs", String(runs), ...baseline), "startup");
  console.log(
    `\n### Start-up: whole processes timed by hyperfine, ${runs} runs each after 3 warm-ups (ms; ratio = mean / \`node -e 0\` mean)\n`,
  );
  if (r.error) {
    console.log(`startup: skipped, ${r.error}`);
    return;
  }
  const floor = r.rows[0];
  console.log(
    table(
      ["Command", "mean ms", "σ ms", "median ms", "min ms", "ratio"],
      r.rows.map((row) => [
        row.label,
        fmt(row.meanMs, 1),
        fmt(row.stddevMs, 1),
        fmt(row.medianMs, 1),
        fmt(row.minMs, 1),
        ratio(row.meanMs, floor.meanMs),
      ]),
    ),
  );
  for (const [label, target] of [
    ["tdefer --version", 1.3],
    ["tdefer next schedules.example.yaml", 2],
  ]) {
    const row = r.rows.find((x) => x.label === label);
    verdicts.push([
      `startup: ${label} ≤ ${target}× node -e 0`,
      ratio(row.meanMs, floor.meanMs),
      row.meanMs <= target * floor.meanMs ? "met" : "MISSED",
    ]);
  }
}

async function lateness(twisted) {
  // Rounds, each subject once per round, one after another (never concurrently), the order rotated every
  // round, so machine load that comes and goes falls on every subject alike. Each round draws its own
  // delays (seed 42 + round), the same for every subject in it; per subject, P.count calls over P.span ms in
  // all. The table gives the median of the rounds' p50 and p99, the p99 range, and the worst of all.
  const rounds = quick ? 3 : 4;
  const perRound = ["--count", Math.round(P.count / rounds), "--span", Math.round(P.span / rounds)];
  const subjects = [
    ["Reactor", (common) => node("fire-lateness.mjs", "--subject", "reactor", ...common)],
    ...(baselineDir
      ? [
          [
            "Reactor, before",
            (common) =>
              node("fire-lateness.mjs", "--subject", "reactor-before", "--baseline", baselineDir, ...common),
          ],
        ]
      : []),
    ["setTimeout per call", (common) => node("fire-lateness.mjs", "--subject", "settimeout", ...common)],
  ];
  if (twisted.ok) subjects.push(["Twisted callLater", (common) => py("twisted_lateness.py", ...common)]);
  // --realtime runs every subject under SCHED_FIFO (chrt, as root): on a machine shared with other work,
  // what is left is the timer mechanism's own precision, the same way for Node and for Twisted.
  const realtime = args.realtime === true;
  if (realtime) {
    for (const subject of subjects) {
      const argv = subject[1];
      subject[1] = (common) => {
        const [command, rest] = argv(common);
        return ["chrt", ["-f", "50", command, ...rest]];
      };
    }
  }
  const byRound = [];
  for (let round = 0; round < rounds; round++) {
    const common = [...perRound, "--seed", 42 + round].map(String);
    const order = subjects.map((_, i) => subjects[(i + round) % subjects.length]);
    const results = [];
    for (const [label, argv] of order) results.push(await child(...argv(common), label));
    checkSame(results);
    byRound.push(results);
  }
  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const results = subjects.map(([label]) => {
    const runs = byRound.map((results) => results.find((r) => r.subject === label));
    const failed = runs.find((r) => r.error);
    if (failed) return failed;
    const fired = runs.reduce((n, r) => n + r.fired, 0);
    const early = runs.reduce((n, r) => n + r.early, 0);
    return {
      subject: label,
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      p99Low: Math.min(...runs.map((r) => r.p99)),
      p99High: Math.max(...runs.map((r) => r.p99)),
      max: Math.max(...runs.map((r) => r.max)),
      early,
      earlyPct: (100 * early) / fired,
      worstEarly: Math.max(...runs.map((r) => r.worstEarly)),
      cpuMsPerCall: median(runs.map((r) => r.cpuMs / r.fired)),
    };
  });
  const base = results[0];
  console.log(
    `\n### Fire lateness${realtime ? " (each subject under SCHED_FIFO, chrt -f 50)" : ""}: ${P.count} one-shot calls at random times over ${P.span / 1000} s per subject, in ${rounds} rounds of ${perRound[1]} calls over ${perRound[3] / 1000} s, order rotated each round (ms; median of the rounds; ratio = p99 / Reactor p99)\n`,
  );
  console.log(
    table(
      [
        "Subject",
        "p50",
        "p99",
        "p99 range",
        "max",
        "early (count, %)",
        "worst early",
        "p99 ratio",
        "CPU ms a call",
      ],
      results.map((r) =>
        r.error
          ? [r.subject, r.error, "", "", "", "", "", "", ""]
          : [
              r.subject,
              fmt(r.p50, 3),
              fmt(r.p99, 3),
              `${fmt(r.p99Low, 3)}–${fmt(r.p99High, 3)}`,
              fmt(r.max, 3),
              `${r.early} (${fmt(r.earlyPct, 1)}%)`,
              fmt(r.worstEarly, 3),
              ratio(r.p99, base.p99),
              fmt(r.cpuMsPerCall, 3),
            ],
      ),
    ),
  );
  const tw = results.find((r) => r.subject === "Twisted callLater" && !r.error);
  if (!base.error) {
    verdicts.push([
      "lateness: Reactor fires nothing early",
      `${base.early} early`,
      base.early === 0 ? "met" : "MISSED",
    ]);
    if (tw)
      verdicts.push([
        "lateness: Reactor p99 ≤ Twisted p99 (median of rounds)",
        `${fmt(base.p99, 3)} vs ${fmt(tw.p99, 3)} ms`,
        base.p99 <= tw.p99 ? "met" : "MISSED",
      ]);
  }
}

async function drift() {
  const common = ["--ticks", String(P.ticks), "--interval", "100"];
  // Both mostly sleep, so they run side by side in two processes.
  const results = await Promise.all([
    child(...node("drift.mjs", "--subject", "reactor", ...common), "Reactor LoopingCall"),
    child(...node("drift.mjs", "--subject", "setinterval", ...common), "setInterval"),
  ]);
  console.log(
    `\n### Drift: a 100 ms repeating timer for ${P.ticks} ticks (ms; error = time of tick ${P.ticks} − (start + ${P.ticks}·100 ms))\n`,
  );
  const base = results[0];
  console.log(
    table(
      ["Subject", `error at tick ${P.ticks}`, "largest |error|", "ticks early", "ticks skipped", "ratio"],
      results.map((r) =>
        r.error
          ? [r.subject, r.error, "", "", "", ""]
          : [r.subject, fmt(r.last, 3), fmt(r.maxAbs, 3), r.early, r.skipped, ratio(r.last, base.last)],
      ),
    ),
  );
  if (!base.error)
    verdicts.push([
      "drift: Reactor tick error within 2 ms",
      `${fmt(base.last, 3)} ms (largest ${fmt(base.maxAbs, 3)})`,
      Math.abs(base.last) <= 2 ? "met" : "MISSED",
    ]);
}

async function scale(twisted, croner) {
  const common = ["--count", P.scaleCount, "--window", P.window, "--settle", P.settle, "--seed", "7"].map(
    String,
  );
  const gcNode = (file, ...rest) => [process.execPath, ["--expose-gc", join(benchDir, file), ...rest]];
  // Two variants: BUSY (1–60 s intervals: the window is full of fires; compare CPU per fire) and IDLE
  // (1–60 min intervals: the idle window; compare idle CPU). Each subject alone, one after another.
  const variant = async (unit) => {
    const argv = [...common, "--unit", unit];
    const results = [
      await child(...gcNode("scale.mjs", "--subject", "reactor", ...argv), "Reactor LoopingCall"),
    ];
    if (twisted.ok) results.push(await child(...py("twisted_scale.py", ...argv), "Twisted LoopingCall"));
    if (croner.ok)
      results.push(await child(...gcNode("scale.mjs", "--subject", "croner", ...argv), "croner Cron"));
    checkSame(results);
    return results;
  };
  const row = (r, base, cpuColumns) =>
    r.error
      ? [r.subject, r.error, ...cpuColumns.map(() => "")]
      : [r.subject, ...cpuColumns.map(([, value]) => value(r, base))];
  const n = P.scaleCount.toLocaleString("en");

  const busy = await variant("s");
  const busyBase = busy[0];
  console.log(
    `\n### Scale, BUSY: ${n} repeating schedules, intervals 1–60 s, random phase; ${P.window / 1000} s window full of fires (not idle: compare CPU µs per fire; ratios against the Reactor)\n`,
  );
  const busyColumns = [
    ["setup ms", (r) => fmt(r.setupMs, 0)],
    ["RSS B/schedule", (r) => fmt(r.rssPerSchedule, 0)],
    ["heap B/schedule", (r) => fmt(r.heapPerSchedule, 0)],
    ["fires/s", (r) => fmt(r.firesPerS, 0)],
    ["wakes/s", (r) => fmt(r.wakesPerS, 0)],
    ["CPU %", (r) => fmt(r.cpuPct, 2)],
    ["CPU µs/fire", (r) => fmt(r.cpuUsPerFire, 1)],
    ["setup ratio", (r, b) => ratio(r.setupMs, b.setupMs)],
    ["RSS ratio", (r, b) => ratio(r.rssPerSchedule, b.rssPerSchedule)],
    ["µs/fire ratio", (r, b) => ratio(r.cpuUsPerFire, b.cpuUsPerFire)],
  ];
  console.log(
    table(
      ["Subject", ...busyColumns.map(([name]) => name)],
      busy.map((r) => row(r, busyBase, busyColumns)),
    ),
  );

  const idle = await variant("min");
  const idleBase = idle[0];
  console.log(
    `\n### Scale, IDLE: ${n} repeating schedules, intervals 1–60 min, random phase; CPU over a ${P.window / 1000} s idle window (ratios against the Reactor)\n`,
  );
  const idleColumns = [
    ["setup ms", (r) => fmt(r.setupMs, 0)],
    ["RSS B/schedule", (r) => fmt(r.rssPerSchedule, 0)],
    ["fires in window", (r) => String(r.fires)],
    ["wakes/s", (r) => fmt(r.wakesPerS, 1)],
    ["idle CPU %", (r) => fmt(r.cpuPct, 3)],
    ["of it system %", (r) => fmt(r.sysPct, 3)],
    ["CPU µs/wake", (r) => fmt(r.cpuUsPerWake, 0)],
    ["idle CPU ratio", (r, b) => ratio(r.cpuPct, b.cpuPct)],
  ];
  console.log(
    table(
      ["Subject", ...idleColumns.map(([name]) => name)],
      idle.map((r) => row(r, idleBase, idleColumns)),
    ),
  );
  notes.push(
    "Scale: wakes are the callbacks of setTimeout/setImmediate that ran in the window (Node subjects) or the reactor's runUntilCurrent calls (Twisted). The Reactor arms one timer for its earliest call, never sleeping longer than 30 s.",
  );

  const scaled = P.scaleCount !== 100_000 ? " (at the --quick count)" : "";
  if (!busyBase.error) {
    verdicts.push([
      "scale: RSS ≤ 800 B per schedule",
      `${fmt(busyBase.rssPerSchedule, 0)} B`,
      busyBase.rssPerSchedule <= 800 ? "met" : "MISSED",
    ]);
    verdicts.push([
      `scale: setup ≤ 1 s${scaled}`,
      `${fmt(busyBase.setupMs, 0)} ms`,
      busyBase.setupMs <= 1000 ? "met" : "MISSED",
    ]);
  }
  if (!idleBase.error)
    verdicts.push([
      `scale: idle CPU < 0.5% (1–60 min intervals)${scaled}`,
      `${fmt(idleBase.cpuPct, 3)}% (${fmt(idleBase.firesPerS, 0)} fires/s, ${fmt(idleBase.wakesPerS, 0)} wakes/s, ${fmt(idleBase.cpuUsPerWake, 0)} µs/wake)`,
      idleBase.cpuPct < 0.5 ? "met" : "MISSED",
    ]);
}

async function checkNext() {
  // Whole CLI processes: quick runs smaller files once each (not the target's sizes).
  const sizes = quick ? { jobs: 2000, crons: 200, reps: 1 } : { jobs: 10_000, crons: 1000, reps: 3 };
  const argv = ["--jobs", sizes.jobs, "--crons", sizes.crons, "--reps", sizes.reps].map(String);
  const r = await child(...node("check-next.mjs", ...argv), "check-next");
  console.log(
    `\n### Schedule-file commands: whole processes, median of ${sizes.reps} run${sizes.reps === 1 ? "" : "s"} (wall ms; peak RSS from ${r.rssSource ?? "–"}; ratio = wall / \`node -e 0\`)\n`,
  );
  if (r.error) {
    console.log(`check-next failed: ${r.error}`);
    return;
  }
  const floor = r.rows[0];
  console.log(
    table(
      ["Command", "wall ms", "min–max ms", "peak RSS MB", "ratio"],
      r.rows.map((row) =>
        row.error
          ? [row.label, row.error, "", "", ""]
          : [
              row.label,
              fmt(row.ms, 0),
              `${fmt(row.minMs, 0)}–${fmt(row.maxMs, 0)}`,
              fmt(row.rssMB, 1),
              ratio(row.ms, floor.ms),
            ],
      ),
    ),
  );
  console.log(
    `\nThe check file: ${r.jobs.toLocaleString("en")} jobs, ${fmt(r.checkFileKB, 0)} KiB (every, cron in 8 zones, after, at, with options); next: ${r.crons.toLocaleString("en")} cron jobs from ${r.from}.`,
  );
  const sd = r.systemd;
  console.log(
    sd.present
      ? `systemd-analyze (${sd.version}): ${sd.expressible} of ${r.crons} expressions converted to OnCalendar and run in one call, each for 10 iterations; ${sd.skipped} skipped as inexpressible (L, n#k, H, a step or wrapping range of weekdays, Vixie's either-day rule).`
      : `systemd-analyze: skipped, ${sd.why}.`,
  );
  const scaled = quick ? " (at the --quick size)" : "";
  for (const [name, label] of [
    ["check", `tdefer check (${r.jobs.toLocaleString("en")} jobs)`],
    ["next", `tdefer next -n 10 (${r.crons.toLocaleString("en")} cron jobs)`],
  ]) {
    const row = r.rows.find((x) => x.label === label);
    if (row && !row.error)
      verdicts.push([
        `${name}: under 1 s${scaled}`,
        `${fmt(row.ms, 0)} ms, ${fmt(row.rssMB, 0)} MB`,
        row.ms < 1000 ? "met" : "MISSED",
      ]);
  }
}

const started = performance.now();
const twisted = twistedStatus();
const croner = cronerStatus();
const cpus = os.cpus();
async function memory() {
  const jobs = quick ? 20_000 : 100_000;
  const argv = ["--jobs", jobs, "--settle", quick ? 5000 : 15_000, "--window", P.window].map(String);
  if (baselineDir) argv.push("--baseline", baselineDir);
  const r = await child(...node("jobs-memory.mjs", ...argv), "jobs-memory");
  console.log(
    `\n### A loaded schedule: \`tdefer run\` of ${jobs} \`every: 1h\` jobs from YAML (live heap after GC, VmRSS after start-up, CPU over a ${P.window / 1000} s idle window)\n`,
  );
  if (r.error) {
    console.log(`jobs-memory failed: ${r.error}`);
    return;
  }
  const twisted = r.results.find((x) => x.subject.startsWith("Twisted"));
  console.log(
    table(
      ["Subject", "heap MB", "RSS MB", "RSS / Twisted", "idle CPU %", "up in ms"],
      r.results.map((x) =>
        x.skipped
          ? [x.subject, "–", "–", "–", "–", `skipped: ${x.skipped}`]
          : [
              x.subject,
              x.heapMB == null ? "–" : fmt(x.heapMB, 1),
              fmt(x.rssMB, 1),
              twisted?.rssMB ? ratio(x.rssMB, twisted.rssMB) : "–",
              fmt(x.idleCpuPct, 2),
              x.upMs == null ? "–" : fmt(x.upMs, 0),
            ],
      ),
    ),
  );
  const [, , none, , sqlite] = r.results;
  verdicts.push([
    `${jobs} jobs: ≤ 1 KB live heap a job (--state none; SQLite)`,
    `${fmt(r.heapBytesPerJob.none, 0)} B; ${fmt(r.heapBytesPerJob.sqlite, 0)} B`,
    Math.max(r.heapBytesPerJob.none, r.heapBytesPerJob.sqlite) <= 1024 ? "met" : "MISSED",
  ]);
  if (twisted?.rssMB)
    verdicts.push([
      `${jobs} jobs: RSS ≤ 1.5× Twisted's LoopingCalls (--state none; SQLite)`,
      `${ratio(none.rssMB, twisted.rssMB)}; ${ratio(sqlite.rssMB, twisted.rssMB)}`,
      Math.max(none.rssMB, sqlite.rssMB) <= 1.5 * twisted.rssMB ? "met" : "MISSED",
    ]);
  verdicts.push([
    `${jobs} jobs: idle CPU < 1%`,
    `${fmt(none.idleCpuPct, 2)}%; ${fmt(sqlite.idleCpuPct, 2)}%`,
    Math.max(none.idleCpuPct, sqlite.idleCpuPct) < 1 ? "met" : "MISSED",
  ]);
  verdicts.push([
    "idle RSS, one job ≤ bare idle Node + 15 MB (--state none; SQLite)",
    `+${fmt(r.idleOverBareMB.none, 1)} MB; +${fmt(r.idleOverBareMB.sqlite, 1)} MB`,
    Math.max(r.idleOverBareMB.none, r.idleOverBareMB.sqlite) <= 15 ? "met" : "MISSED",
  ]);
}

console.log(`## tdefer benchmarks${quick ? " (--quick: shorter windows, not for comparison)" : ""}\n`);
console.log(
  `Machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? "unknown CPU"}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.type()} ${os.release()} ${os.arch()}`,
);
console.log(
  `Node ${process.version}; ${twisted.ok ? twisted.version : "Twisted: absent"}; ${croner.ok ? croner.version : "croner: absent"}`,
);
if (!twisted.ok) console.log(`Twisted: skipped, ${twisted.why}`);
if (!croner.ok) console.log(`croner: skipped, ${croner.why}`);

const baselineDir = typeof args.baseline === "string" ? args.baseline : undefined;
if (!only || only === "startup") await startup();
if (!only || only === "lateness") await lateness(twisted);
if (!only || only === "drift") await drift();
if (!only || only === "scale") await scale(twisted, croner);
if (!only || only === "check-next") await checkNext();
if (!only || only === "memory") await memory();
// The runner's benchmarks (bench/log-benches.mjs); --only runner runs the three of them.
const runnerCtx = {
  P: logParams(quick),
  child,
  node,
  py,
  table,
  fmt,
  ratio,
  verdicts,
  notes,
  twisted,
  baselineDir,
};
const runner = (name) => !only || only === name || only === "runner";
if (runner("log")) await logThroughput(runnerCtx);
if (runner("spawn")) await spawnOverhead(runnerCtx);
if (runner("exec")) await fireToExec(runnerCtx);

console.log("\n### Targets (Reactor)\n");
console.log(table(["Target", "Measured", "Verdict"], verdicts));
for (const note of notes) console.log(`\n${note}`);
console.log(`\nTotal ${((performance.now() - started) / 1000).toFixed(0)} s.`);
