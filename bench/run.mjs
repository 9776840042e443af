// npm run bench [-- --quick] [-- --only lateness|drift|scale]
// Runs every benchmark in fresh child processes, the peers (setTimeout/setInterval, Twisted through
// /usr/bin/python3, croner) beside the Reactor on this machine in this run, and prints Markdown tables.
// Builds and installs nothing: it needs dist/ (npm run build) and skips a peer that is absent.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import { join } from "node:path";
import { benchDir, distIndex, parseArgs } from "./lib.mjs";

const args = parseArgs();
const quick = Boolean(args.quick);
const only = args.only ? String(args.only).replace(/^fire-/, "") : undefined;
const BENCHES = ["lateness", "drift", "scale"];
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

async function lateness(twisted) {
  const common = ["--count", P.count, "--span", P.span, "--seed", "42"].map(String);
  const results = [];
  // One after another, never concurrently: each owns the machine for its run.
  results.push(await child(...node("fire-lateness.mjs", "--subject", "reactor", ...common), "Reactor"));
  results.push(
    await child(...node("fire-lateness.mjs", "--subject", "settimeout", ...common), "setTimeout per call"),
  );
  if (twisted.ok) results.push(await child(...py("twisted_lateness.py", ...common), "Twisted callLater"));
  checkSame(results);
  const base = results[0];
  console.log(
    `\n### Fire lateness: ${P.count} one-shot calls at random times over ${P.span / 1000} s (ms; ratio = p99 / Reactor p99)\n`,
  );
  console.log(
    table(
      ["Subject", "p50", "p99", "max", "early (count, %)", "worst early", "p99 ratio"],
      results.map((r) =>
        r.error
          ? [r.subject, r.error, "", "", "", "", ""]
          : [
              r.subject,
              fmt(r.p50, 3),
              fmt(r.p99, 3),
              fmt(r.max, 3),
              `${r.early} (${fmt(r.earlyPct, 1)}%)`,
              fmt(r.worstEarly, 3),
              ratio(r.p99, base.p99),
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
        "lateness: Reactor p99 ≤ Twisted p99",
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
  const results = [
    await child(...gcNode("scale.mjs", "--subject", "reactor", ...common), "Reactor LoopingCall"),
  ];
  if (twisted.ok) results.push(await child(...py("twisted_scale.py", ...common), "Twisted LoopingCall"));
  if (croner.ok)
    results.push(await child(...gcNode("scale.mjs", "--subject", "croner", ...common), "croner Cron"));
  checkSame(results);
  const base = results[0];
  console.log(
    `\n### Scale: ${P.scaleCount.toLocaleString("en")} repeating schedules, intervals 1–60 s, random phase; idle window ${P.window / 1000} s (ratios against the Reactor)\n`,
  );
  console.log(
    table(
      [
        "Subject",
        "setup ms",
        "RSS B/schedule",
        "heap B/schedule",
        "idle CPU %",
        "fires in window",
        "CPU µs/fire",
        "setup ratio",
        "RSS ratio",
        "CPU ratio",
      ],
      results.map((r) =>
        r.error
          ? [r.subject, r.error, "", "", "", "", "", "", "", ""]
          : [
              r.subject,
              fmt(r.setupMs, 0),
              fmt(r.rssPerSchedule, 0),
              fmt(r.heapPerSchedule, 0),
              fmt(r.cpuPct, 2),
              r.fires,
              fmt(r.cpuUsPerFire, 1),
              ratio(r.setupMs, base.setupMs),
              ratio(r.rssPerSchedule, base.rssPerSchedule),
              ratio(r.cpuPct, base.cpuPct),
            ],
      ),
    ),
  );
  if (!base.error) {
    const scaled = P.scaleCount !== 100_000 ? " (at the --quick count)" : "";
    verdicts.push([
      "scale: RSS ≤ 800 B per schedule",
      `${fmt(base.rssPerSchedule, 0)} B`,
      base.rssPerSchedule <= 800 ? "met" : "MISSED",
    ]);
    verdicts.push([
      `scale: setup ≤ 1 s${scaled}`,
      `${fmt(base.setupMs, 0)} ms`,
      base.setupMs <= 1000 ? "met" : "MISSED",
    ]);
    verdicts.push([
      "scale: idle CPU < 0.5%",
      `${fmt(base.cpuPct, 2)}% (${fmt(base.firesPerS, 0)} fires/s)`,
      base.cpuPct < 0.5 ? "met" : "MISSED",
    ]);
  }
}

const started = performance.now();
const twisted = twistedStatus();
const croner = cronerStatus();
const cpus = os.cpus();
console.log(`## tdefer benchmarks${quick ? " (--quick: shorter windows, not for comparison)" : ""}\n`);
console.log(
  `Machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? "unknown CPU"}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.type()} ${os.release()} ${os.arch()}`,
);
console.log(
  `Node ${process.version}; ${twisted.ok ? twisted.version : "Twisted: absent"}; ${croner.ok ? croner.version : "croner: absent"}`,
);
if (!twisted.ok) console.log(`Twisted: skipped, ${twisted.why}`);
if (!croner.ok) console.log(`croner: skipped, ${croner.why}`);

if (!only || only === "lateness") await lateness(twisted);
if (!only || only === "drift") await drift();
if (!only || only === "scale") await scale(twisted, croner);

console.log("\n### Targets (Reactor)\n");
console.log(table(["Target", "Measured", "Verdict"], verdicts));
for (const note of notes) console.log(`\n${note}`);
console.log(`\nTotal ${((performance.now() - started) / 1000).toFixed(0)} s.`);
