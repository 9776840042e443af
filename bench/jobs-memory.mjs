// node bench/jobs-memory.mjs [--jobs 100000] [--settle 15000] [--window 10000] [--baseline DIR]
// The memory of a loaded schedule: `tdefer run` of a YAML file of JOBS `every: 1h` jobs (the built binary, a
// real process), beside a one-job file (the floor), bare idle Node, and Twisted's LoopingCalls (the same count,
// bench/peers/twisted_scale.py, skipped without /usr/bin/python3 and twisted). For each tdefer process: the live
// heap after a full GC (a preloaded probe calls gc() every second), VmRSS once the start-up garbage has been given
// back, and the CPU it used over an idle window. RSS and CPU come from a run without the probe, whose collections
// would shrink the process as an idle daemon's never are. With --baseline DIR, the built checkout in DIR is measured
// too (--state none, one job and JOBS jobs), for before and after in one run. Prints one JSON line.
// With --idle ROUNDS, only the idle floor instead: bare Node, the one-job file and schedules.example.yaml (and the
// --baseline build's runs without a ledger), side by side in each round, the median RSS of ROUNDS rounds.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { benchDir, parseArgs } from "./lib.mjs";

const args = parseArgs();
const jobs = Number(args.jobs ?? 100_000);
const settleMs = Number(args.settle ?? 15_000);
const windowMs = Number(args.window ?? 10_000);
const bin = join(benchDir, "..", "bin", "tdefer.js");
const baselineBin = typeof args.baseline === "string" ? join(args.baseline, "bin", "tdefer.js") : undefined;
const dir = mkdtempSync(join(tmpdir(), "tdefer-jobs-memory-"));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const probe = join(dir, "probe.cjs");
writeFileSync(
  probe,
  `const fs = require("node:fs");
setInterval(() => {
  globalThis.gc();
  fs.writeFileSync(process.env.PROBE_OUT, String(process.memoryUsage().heapUsed) + "\\n", { flag: "a" });
}, 1000).unref();
`,
);

function scheduleFile(count) {
  const file = join(dir, `jobs-${count}.yaml`);
  const lines = ["jobs:"];
  for (let i = 0; i < count; i++) lines.push(`  job-${i}: { every: 1h, run: ["true"] }`);
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

function procStat(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
  // utime and stime, fields 14 and 15, after the command name in parentheses.
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return { rssBytes: rssKb * 1024, cpuTicks: Number(fields[11]) + Number(fields[12]) };
}

const TICKS_PER_S = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

/** Runs `node [flags] argv`, waits for `ready` lines on stdout, settles, measures, and stops it. */
async function measure(subject, argv, { ready = 0, heap = false } = {}) {
  const probeOut = join(dir, `${subject.replaceAll(/\W+/g, "-")}.heap`);
  const flags = heap ? ["--expose-gc", "--require", probe] : [];
  const child = spawn(process.execPath, [...flags, ...argv], {
    env: {
      ...process.env,
      PROBE_OUT: probeOut,
      XDG_STATE_HOME: join(dir, "state"),
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let scheduled = 0;
  let tail = "";
  child.stdout.setEncoding("utf8").on("data", (text) => {
    const lines = (tail + text).split("\n");
    tail = lines.pop();
    for (const line of lines) if (line.includes('"scheduled"')) scheduled++;
  });
  const startedMs = Date.now();
  while (scheduled < ready) {
    if (child.exitCode !== null) throw new Error(`${subject} exited ${child.exitCode}`);
    await sleep(100);
  }
  const upMs = Date.now() - startedMs;
  await sleep(settleMs);
  if (heap) {
    // The probe's collections shrink the process as an idle daemon's never are: this run reports the heap only.
    child.kill("SIGTERM");
    await new Promise((resolve) => child.on("close", resolve));
    const heaps = readFileSync(probeOut, "utf8").trim().split("\n").map(Number).slice(-5);
    return heaps.sort((a, b) => a - b)[heaps.length >> 1] / 2 ** 20;
  }
  const before = procStat(child.pid);
  await sleep(windowMs);
  const after = procStat(child.pid);
  child.kill("SIGTERM");
  await new Promise((resolve) => child.on("close", resolve));
  return {
    subject,
    upMs,
    rssMB: after.rssBytes / 2 ** 20,
    idleCpuPct: (((after.cpuTicks - before.cpuTicks) / TICKS_PER_S) * 100 * 1000) / windowMs,
  };
}

/** A process measured twice: as it runs (RSS, CPU), then with the heap probe (live heap). */
async function measureWithHeap(subject, argv, ready) {
  const plain = await measure(subject, argv, { ready });
  return { ...plain, heapMB: await measure(subject, argv, { ready, heap: true }) };
}

/** The idle floor, ROUNDS rounds of every subject side by side: the median RSS of each and its excess over bare Node. */
async function idleFloor(rounds) {
  const one = scheduleFile(1);
  const example = join(benchDir, "..", "schedules.example.yaml");
  const builds = [["", bin], ...(baselineBin ? [["before: ", baselineBin]] : [])];
  const subjects = [["bare Node, idle", ["-e", "setInterval(() => {}, 1 << 30)"]]];
  for (const [label, binary] of builds) {
    subjects.push(
      [
        `${label}tdefer run, 1 job, --state none`,
        [binary, "run", one, "--log-format", "json", "--state", "none"],
      ],
      [`${label}tdefer run schedules.example.yaml --state none`, [binary, "run", example, "--state", "none"]],
    );
  }
  // One ledger per schedule file, so the runs with SQLite are this build's only.
  subjects.push(
    ["tdefer run, 1 job, SQLite ledger", [bin, "run", one, "--log-format", "json"]],
    ["tdefer run schedules.example.yaml", [bin, "run", example]],
  );
  const samples = subjects.map(() => []);
  const load1 = [];
  for (let round = 0; round < rounds; round++) {
    load1.push(Number(loadavg()[0].toFixed(2)));
    const measured = await Promise.all(subjects.map(([subject, argv]) => measure(subject, argv)));
    for (const [i, result] of measured.entries()) samples[i].push(result.rssMB);
  }
  const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
  const bareMB = median(samples[0]);
  return {
    bench: "jobs-memory-idle",
    rounds,
    load1,
    results: subjects.map(([subject], i) => ({
      subject,
      rssMB: median(samples[i]),
      overBareMB: median(samples[i]) - bareMB,
      samplesMB: samples[i],
    })),
  };
}

if (args.idle !== undefined) {
  try {
    console.log(JSON.stringify(await idleFloor(Number(args.idle === true ? 5 : args.idle))));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}

const results = [];
try {
  results.push(await measure("bare Node, idle", ["-e", "setInterval(() => {}, 1 << 30)"]));
  const one = scheduleFile(1);
  const many = scheduleFile(jobs);
  const run = (file, state, binary = bin) => [
    binary,
    "run",
    file,
    "--log-format",
    "json",
    ...(state ? ["--state", state] : []),
  ];
  results.push(await measureWithHeap("tdefer run, 1 job, --state none", run(one, "none"), 1));
  results.push(await measureWithHeap(`tdefer run, ${jobs} jobs, --state none`, run(many, "none"), jobs));
  results.push(await measureWithHeap("tdefer run, 1 job, SQLite ledger", run(one), 1));
  results.push(await measureWithHeap(`tdefer run, ${jobs} jobs, SQLite ledger`, run(many), jobs));
  if (baselineBin) {
    results.push({
      ...(await measureWithHeap("before: tdefer run, 1 job, --state none", run(one, "none", baselineBin), 1)),
      baseline: true,
    });
    results.push({
      ...(await measureWithHeap(
        `before: tdefer run, ${jobs} jobs, --state none`,
        run(many, "none", baselineBin),
        jobs,
      )),
      baseline: true,
    });
  }
  const twisted = spawnSync(
    "/usr/bin/python3",
    [
      join(benchDir, "peers", "twisted_scale.py"),
      "--count",
      String(jobs),
      "--unit",
      "min",
      "--window",
      String(windowMs),
    ],
    { encoding: "utf8" },
  );
  if (twisted.status === 0) {
    const r = JSON.parse(twisted.stdout.trim().split("\n").pop());
    results.push({
      subject: `Twisted, ${jobs} LoopingCalls`,
      impl: r.impl,
      rssMB: r.rssMB,
      idleCpuPct: r.cpuPct,
    });
  } else {
    results.push({
      subject: `Twisted, ${jobs} LoopingCalls`,
      skipped: "/usr/bin/python3 with twisted not found",
    });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const [bare, none1, noneMany, sqlite1, sqliteMany] = results;
const [before1, beforeMany] = results.filter((result) => result.baseline);
const perJob = (many, one) => ((many.heapMB - one.heapMB) * 2 ** 20) / (jobs - 1);
console.log(
  JSON.stringify({
    bench: "jobs-memory",
    jobs,
    results,
    heapBytesPerJob: { none: perJob(noneMany, none1), sqlite: perJob(sqliteMany, sqlite1) },
    idleOverBareMB: {
      none: none1.rssMB - bare.rssMB,
      sqlite: sqlite1.rssMB - bare.rssMB,
      ...(before1 ? { before: before1.rssMB - bare.rssMB } : {}),
    },
    ...(beforeMany ? { heapBytesPerJobBefore: perJob(beforeMany, before1) } : {}),
  }),
);
