// Schedule-file commands: the wall time and peak RSS of whole `tdefer` processes, as a user starts them.
//   check    `tdefer check FILE` on a generated file of `jobs` jobs (default 10,000): a seeded, realistic
//            mix of every (some with now), cron (5 and 6 fields, ranges, steps, lists, names, L, n#k, H,
//            nicknames) in UTC and in zones with DST (Europe/Berlin, America/New_York, Australia/Sydney,
//            …), after, and at (single times and lists, with and without offsets), with options (timeout,
//            retry, jitter, overlap, env, kill_signal, description, enabled: false, argv commands).
//   next     `tdefer next FILE -n 10 --from FROM` on a generated file of `crons` cron jobs (default 1,000).
//   systemd  the reference: `systemd-analyze calendar --iterations=10 --base-time=FROM EXPR…` on the same
//            1,000 expressions converted to OnCalendar form (`m h dom mon dow` → `dow *-mon-dom h:m:00 ZONE`),
//            all in one invocation; the expressions it cannot express (L, n#k, H, W, a step on weekdays,
//            Vixie's either-day rule when both day fields are restricted) are skipped and counted.
//   node     `node -e 0` and `tdefer --version`: the floor every tdefer command stands on.
// Each command runs `reps` times, one after another; the first run's output is checked. Wall time and peak RSS come
// from a tiny /usr/bin/python3 wrapper: perf_counter around Popen, and ru_maxrss from os.wait4 (the
// child's own peak, exactly, however short it lives). Without that python the wall time is measured here
// and the RSS is polled from /proc/PID/status (VmHWM), which can miss the last moments of a short process.
// The files live in a fresh temp dir, removed at the end. Prints one JSON line. With --profile, it adds
// where the time goes: a --cpu-prof run of check and next summarised by package, and the fresh-process
// cost of importing each dependency alone.
import { spawn, spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import { join, resolve } from "node:path";
import { benchDir, emit, mulberry32, parseArgs } from "./lib.mjs";

const args = parseArgs();
const jobCount = Number(args.jobs ?? 10_000);
const cronCount = Number(args.crons ?? 1000);
const reps = Number(args.reps ?? 5);
const seed = Number(args.seed ?? 11);
const FROM = "2026-03-01T00:00:00Z"; // the week before the US spring-forward, a month before Europe's
const PYTHON = "/usr/bin/python3";
// --tdefer PATH: another build's bin/tdefer.js (e.g. main's), for a before/after in one run on the same files
const TDEFER = args.tdefer ? resolve(String(args.tdefer)) : join(benchDir, "..", "bin", "tdefer.js");

// ---- the generated files ---------------------------------------------------------------------------

const ZONES = [
  "UTC",
  "Europe/Berlin",
  "America/New_York",
  "Europe/London",
  "Australia/Sydney",
  "America/Los_Angeles",
  "Asia/Kolkata",
  "Asia/Tokyo",
];
const rand = mulberry32(seed);
const pick = (list) => list[Math.floor(rand() * list.length)];
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
const chance = (p) => rand() < p;

function cronExpr() {
  if (chance(0.06)) return pick(["@daily", "@hourly", "@weekly", "@monthly", "@midnight", "@yearly"]);
  const minute = pick([
    () => String(int(0, 59)),
    () => `*/${pick([5, 10, 15, 20, 30])}`,
    () => `${int(0, 29)},${int(30, 59)}`,
    () => `${int(0, 9)}-59/${pick([10, 15])}`,
    () => (chance(0.3) ? "H" : "0"),
  ])();
  const hour = pick([
    () => "*",
    () => String(int(0, 23)),
    () => `${int(6, 9)}-${int(16, 20)}`,
    () => `*/${pick([2, 3, 4, 6])}`,
    () => `${int(0, 11)},${int(12, 23)}`,
    () => String(pick([1, 2, 3])), // in the small hours: inside or next to DST gaps and repeats
  ])();
  let dom = "*";
  let month = "*";
  let dow = "*";
  const days = rand();
  if (days < 0.25) dow = pick(["1-5", "MON-FRI", "0", "6", "SAT,SUN", "1,3,5", "MON"]);
  else if (days < 0.4) dom = pick(["1", "15", "1,15", "28", "*/2", "L", "5-10"]);
  else if (days < 0.45) {
    dom = String(int(1, 28));
    dow = pick(["1", "5"]); // Vixie: either may match
  } else if (days < 0.5) dow = pick(["5#2", "1#1", "5L"]);
  if (chance(0.15)) month = pick(["*/3", "1", "JAN,JUL", "3-10", "DEC"]);
  const fields = [minute, hour, dom, month, dow];
  if (chance(0.08)) fields.unshift(pick(["0", "30"]));
  return fields.join(" ");
}

const duration = () =>
  pick([() => `${int(1, 59)}s`, () => `${int(1, 59)}m`, () => `${int(1, 23)}h`, () => `1h${int(1, 59)}m`])();
const pad = (n) => String(n).padStart(2, "0");
const atTime = () => {
  const base = `2030-${pad(int(1, 12))}-${pad(int(1, 28))} ${pad(int(8, 20))}:${pad(int(0, 59))}`;
  return pick([base, base, `${base.replace(" ", "T")}:00Z`, `${base}+01:00`]);
};
const yamlString = (s) => JSON.stringify(s);

function jobYaml(name, trigger) {
  const lines = [`  ${name}:`, ...trigger.map((l) => `    ${l}`)];
  if (chance(0.3)) lines.push(`    run: [/usr/local/bin/task, --job, ${name}, --level, "${int(1, 9)}"]`);
  else lines.push(`    run: ${yamlString(`echo ${name} $(date -u +%F) >> /var/log/${name}.log`)}`);
  if (chance(0.4)) lines.push(`    timeout: ${duration()}`);
  if (chance(0.15)) lines.push(`    retry: { attempts: ${int(2, 5)}, delay: ${int(1, 60)}s, backoff: 2 }`);
  if (chance(0.15)) lines.push(`    jitter: ${int(1, 30)}s`);
  if (chance(0.2)) lines.push(`    overlap: ${pick(["queue", "replace", "allow", "skip"])}`);
  if (chance(0.25)) lines.push("    env:", `      TARGET: ${name}`, `      LEVEL: ${int(1, 9)}`);
  if (chance(0.05))
    lines.push(`    kill_signal: ${pick(["SIGINT", "TERM", "SIGHUP"])}`, "    kill_grace: 5s");
  if (chance(0.3)) lines.push(`    description: ${yamlString(`job ${name}: generated for the benchmark`)}`);
  if (chance(0.05)) lines.push("    enabled: false");
  return lines.join("\n");
}

const header = [
  "version: 1",
  "timezone: Europe/Berlin",
  "shell: /bin/sh",
  "env:",
  "  PATH: /usr/local/bin:/usr/bin:/bin",
  "max_parallel: 8",
  "defaults:",
  "  timeout: 10m",
  "  kill_grace: 15s",
  "jobs:",
];
const zoneLine = () => (chance(0.7) ? [`timezone: ${pick(ZONES)}`] : []);

function checkFile() {
  const jobs = [];
  for (let i = 0; i < jobCount; i++) {
    const kind = rand();
    let trigger;
    if (kind < 0.35) trigger = [`every: ${duration()}`, ...(chance(0.3) ? ["now: true"] : [])];
    else if (kind < 0.8) trigger = [`cron: ${yamlString(cronExpr())}`, ...zoneLine()];
    else if (kind < 0.9) trigger = [`after: ${duration()}`];
    else if (chance(0.6)) trigger = [`at: ${yamlString(atTime())}`, ...zoneLine()];
    else trigger = [`at: [${yamlString(atTime())}, ${yamlString(atTime())}]`, ...zoneLine()];
    jobs.push(jobYaml(`job-${i}`, trigger));
  }
  return `${[...header, ...jobs].join("\n")}\n`;
}

function cronFile() {
  const crons = [];
  for (let i = 0; i < cronCount; i++) crons.push({ name: `cron-${i}`, expr: cronExpr(), zone: pick(ZONES) });
  const jobs = crons.map((c) => jobYaml(c.name, [`cron: ${yamlString(c.expr)}`, `timezone: ${c.zone}`]));
  return { text: `${[...header, ...jobs].join("\n")}\n`, crons };
}

// ---- cron → OnCalendar -----------------------------------------------------------------------------

const NICK = {
  "@yearly": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};
const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const DAY_NUMBER = { SUN: 0, MON: 1, TUE: 2, WED: 3, THU: 4, FRI: 5, SAT: 6 };

/** A numeric cron field (`*`, n, a-b, a-b/s, * /s, lists) as systemd's (`*`, n, a..b, a..b/s, lo/s). */
function numericField(field, lo, names) {
  const value = (v) => {
    const n = names ? names.indexOf(v.toUpperCase()) : -1;
    const num = n >= 0 ? n + 1 : Number(v);
    if (!Number.isInteger(num)) throw new Error(`cannot express ${v}`);
    return String(num).padStart(2, "0");
  };
  return field
    .split(",")
    .map((part) => {
      const [range, step] = part.split("/");
      if (range === "*") return step ? `${String(lo).padStart(2, "0")}/${step}` : "*";
      const [a, b] = range.split("-");
      const body = b === undefined ? value(a) : `${value(a)}..${value(b)}`;
      if (step && b === undefined) throw new Error("n/step"); // cron: n/s means n..max/s
      return step ? `${body}/${step}` : body;
    })
    .join(",");
}

function weekdays(field) {
  const day = (v) => {
    const n = v.toUpperCase() in DAY_NUMBER ? DAY_NUMBER[v.toUpperCase()] : Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 7) throw new Error(`cannot express ${v}`);
    return n;
  };
  return field
    .split(",")
    .map((part) => {
      if (part.includes("/")) throw new Error("step on weekdays");
      const [a, b] = part.split("-");
      if (b === undefined) return DAYS[day(a)];
      const [x, y] = [day(a), day(b)];
      if (x === 0 || y < x) throw new Error("wrapping weekday range"); // systemd: Mon..Sun only
      return `${DAYS[x]}..${DAYS[y]}`;
    })
    .join(",");
}

/** `m h dom mon dow` (5 or 6 fields) → `dow *-mon-dom h:m:s ZONE`, or null when systemd cannot say it. */
export function toOnCalendar(expr, zone) {
  const fields = (NICK[expr] ?? expr).split(/\s+/);
  const second = fields.length === 6 ? fields.shift() : "0";
  const [minute, hour, dom, month, dow] = fields;
  if (/[LW#H?]/i.test(fields.join(" ")) || /[LW#H?]/i.test(second)) return null;
  // Vixie: with both day fields restricted, a day matching either fires; systemd needs both.
  if (!dom.startsWith("*") && !dow.startsWith("*")) return null;
  try {
    const days = dow.startsWith("*") ? "" : `${weekdays(dow)} `;
    const date = `*-${numericField(month, 1, MONTHS)}-${numericField(dom, 1)}`;
    const time = `${numericField(hour, 0)}:${numericField(minute, 0)}:${numericField(second, 0)}`;
    return `${days}${date} ${time} ${zone}`;
  } catch {
    return null;
  }
}

// ---- measuring -------------------------------------------------------------------------------------

// Run i of `reps`: perf_counter around Popen and wait4; the first run's output goes to files for checking.
const WRAPPER = `
import json, os, subprocess, sys, time
argv, reps, out_path, err_path = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
runs = []
for i in range(reps):
    out = open(out_path, "wb") if i == 0 else subprocess.DEVNULL
    err = open(err_path, "wb") if i == 0 else subprocess.DEVNULL
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
    _, status, ru = os.wait4(p.pid, 0)
    ms = (time.perf_counter() - t0) * 1000
    if i == 0:
        out.close()
        err.close()
    runs.append({"ms": ms, "maxrssKB": ru.ru_maxrss, "status": os.waitstatus_to_exitcode(status)})
print(json.dumps(runs))
`;
const havePython = existsSync(PYTHON);

function vmHwmKB(pid) {
  try {
    const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** One run without python: wall time here, VmHWM polled every 2 ms (a lower bound). */
function pollOnce(argv, outPath, errPath) {
  return new Promise((resolve) => {
    const out = outPath ? openSync(outPath, "w") : "ignore";
    const err = errPath ? openSync(errPath, "w") : "ignore";
    const t0 = performance.now();
    const proc = spawn(argv[0], argv.slice(1), { stdio: ["ignore", out, err] });
    let peak = 0;
    const timer = setInterval(() => {
      peak = Math.max(peak, vmHwmKB(proc.pid));
    }, 2);
    proc.on("exit", (code) => {
      const ms = performance.now() - t0;
      clearInterval(timer);
      if (outPath) closeSync(out);
      if (errPath) closeSync(err);
      resolve({ ms, maxrssKB: peak || null, status: code });
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** `reps` runs, one after another; the first one's output is checked by `expect`. */
async function measure(label, argv, expect, dir) {
  const outPath = join(dir, "out.txt");
  const errPath = join(dir, "err.txt");
  let runs;
  if (havePython) {
    const r = spawnSync(PYTHON, ["-c", WRAPPER, JSON.stringify(argv), String(reps), outPath, errPath], {
      encoding: "utf8",
    });
    if (r.status !== 0) return { label, error: `wrapper: ${r.stderr.trim().split("\n").pop()}` };
    runs = JSON.parse(r.stdout);
  } else {
    runs = [];
    for (let i = 0; i < reps; i++) runs.push(await pollOnce(argv, i === 0 && outPath, i === 0 && errPath));
  }
  const first = {
    status: runs[0].status,
    stdout: readFileSync(outPath, "utf8"),
    stderr: readFileSync(errPath, "utf8"),
  };
  const problem = expect(first);
  if (problem) return { label, error: `${problem}: ${(first.stderr || first.stdout).slice(0, 200)}` };
  const bad = runs.find((run) => run.status !== first.status);
  if (bad) return { label, error: `exit ${bad.status} in a later run` };
  const ms = runs.map((run) => run.ms);
  return {
    label,
    reps,
    ms: median(ms),
    minMs: Math.min(...ms),
    maxMs: Math.max(...ms),
    rssMB: runs.every((run) => run.maxrssKB) ? median(runs.map((run) => run.maxrssKB)) / 1024 : null,
  };
}

// ---- --profile: where the time goes ----------------------------------------------------------------

/** Self time of a .cpuprofile by package (node_modules/X, dist/file, node internals, GC). */
function profileSummary(path) {
  const prof = JSON.parse(readFileSync(path, "utf8"));
  const selfMs = new Map();
  for (let i = 0; i < prof.samples.length; i++) {
    const id = prof.samples[i];
    selfMs.set(id, (selfMs.get(id) ?? 0) + prof.timeDeltas[i] / 1000);
  }
  const where = ({ url, functionName }) => {
    if (!url) return functionName.startsWith("(") ? functionName : "(native)";
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    if (pkg) return pkg[1];
    const dist = /\/dist\/(.*)$/.exec(url);
    if (dist) return `dist/${dist[1]}`;
    return url.startsWith("node:") ? "node internals" : url.replace(/^.*\//, "");
  };
  const byPlace = new Map();
  const byFunction = new Map();
  for (const node of prof.nodes) {
    const ms = selfMs.get(node.id) ?? 0;
    const place = where(node.callFrame);
    byPlace.set(place, (byPlace.get(place) ?? 0) + ms);
    const fn = `${node.callFrame.functionName || "(anonymous)"} ${place}:${node.callFrame.lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
  }
  const top = (map, n) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, ms]) => ({ name, ms: Math.round(ms) }));
  const totalMs = [...selfMs.values()].reduce((a, b) => a + b, 0);
  return { totalMs: Math.round(totalMs), byPlace: top(byPlace, 10), byFunction: top(byFunction, 10) };
}

/** Fresh-process cost of importing each dependency alone (best of 5, minus `node -e 0`). */
function importCosts() {
  const best = (code) => {
    let min = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      spawnSync(process.execPath, ["--input-type=module", "-e", code], { cwd: join(benchDir, "..") });
      min = Math.min(min, performance.now() - t0);
    }
    return min;
  };
  const base = best("");
  const deps = ["zod", "cron-parser", "luxon", "yaml", "cosmiconfig", "commander", "chalk"];
  const costs = deps.map((dep) => ({ name: dep, ms: Math.round(best(`import "${dep}";`) - base) }));
  costs.push({
    name: "dist/cli/main.js (everything)",
    ms: Math.round(best(`import "./dist/cli/main.js";`) - base),
  });
  return costs;
}

async function profile(dir, commands) {
  const out = {};
  for (const [name, argv] of Object.entries(commands)) {
    const profDir = join(dir, `prof-${name}`);
    spawnSync(process.execPath, ["--cpu-prof", `--cpu-prof-dir=${profDir}`, ...argv], { stdio: "ignore" });
    const file = readdirSync(profDir).find((f) => f.endsWith(".cpuprofile"));
    out[name] = file ? profileSummary(join(profDir, file)) : { error: "no profile written" };
  }
  out.imports = importCosts();
  return out;
}

// ---- main ------------------------------------------------------------------------------------------

const status0 = (r) => (r.status === 0 ? null : `exit ${r.status}`);
// --dir PATH writes the files there and keeps them (to profile by hand).
const dir = args.dir ? String(args.dir) : mkdtempSync(join(os.tmpdir(), "tdefer-bench-"));
try {
  mkdirSync(dir, { recursive: true });
  const checkPath = join(dir, "check.yaml");
  const checkText = checkFile();
  writeFileSync(checkPath, checkText);
  const { text: cronText, crons } = cronFile();
  const nextPath = join(dir, "next.yaml");
  writeFileSync(nextPath, cronText);
  const checkArgv = [TDEFER, "check", checkPath];
  const nextArgv = [TDEFER, "next", nextPath, "-n", "10", "--from", FROM];

  const rows = [];
  rows.push(await measure("node -e 0", [process.execPath, "-e", "0"], status0, dir));
  rows.push(await measure("tdefer --version", [process.execPath, TDEFER, "--version"], status0, dir));
  rows.push(
    await measure(
      `tdefer check (${jobCount.toLocaleString("en")} jobs)`,
      [process.execPath, ...checkArgv],
      (r) => status0(r) ?? (r.stdout.includes(`valid, ${jobCount} jobs`) ? null : "unexpected output"),
      dir,
    ),
  );
  rows.push(
    await measure(
      `tdefer next -n 10 (${cronCount.toLocaleString("en")} cron jobs)`,
      [process.execPath, ...nextArgv],
      // the table (a header and 10 fires), then a blank line and the expressions in words
      (r) =>
        status0(r) ??
        (r.stdout.split("\n\n")[0].trim().split("\n").length === 11 ? null : "expected 10 fires"),
      dir,
    ),
  );

  const calendars = crons.map((c) => toOnCalendar(c.expr, c.zone)).filter(Boolean);
  const systemd = { present: false, expressible: calendars.length, skipped: cronCount - calendars.length };
  const analyze = spawnSync("systemd-analyze", ["--version"], { encoding: "utf8" });
  if (analyze.status === 0) {
    systemd.present = true;
    systemd.version = analyze.stdout.split("\n")[0].trim();
    const base = FROM.replace("T", " ").replace("Z", " UTC");
    rows.push(
      await measure(
        `systemd-analyze calendar --iterations=10 (${calendars.length} expressions, one call)`,
        ["systemd-analyze", "calendar", "--iterations=10", `--base-time=${base}`, ...calendars],
        (r) => {
          if (r.status !== 0) return `exit ${r.status}`;
          const parsed = (r.stdout.match(/Next elapse:/g) ?? []).length;
          return parsed === calendars.length ? null : `parsed ${parsed} of ${calendars.length}`;
        },
        dir,
      ),
    );
  } else systemd.why = "systemd-analyze not found";

  emit({
    bench: "check-next",
    jobs: jobCount,
    crons: cronCount,
    checkFileKB: checkText.length / 1024,
    from: FROM,
    reps,
    rssSource: havePython ? "ru_maxrss (wait4)" : "VmHWM polled every 2 ms (lower bound)",
    systemd,
    rows,
    ...(args.profile ? { profile: await profile(dir, { check: checkArgv, next: nextArgv }) } : {}),
  });
} finally {
  if (!args.dir) rmSync(dir, { recursive: true, force: true });
}
