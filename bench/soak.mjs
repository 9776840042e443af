#!/usr/bin/env node
// Soak: `npm run soak [-- --minutes N] [--jobs J]`. Runs the built binary (bin/tdefer.js) with J jobs (default
// 200), each `every: 1s`, for N minutes (default 3), logging --log-format json to a file, and prints a
// Markdown table: runs started vs expected, lateness p50/p99/max (the started events' late_ms), the RSS
// slope (VmRSS sampled every 5 s, least squares, MB per minute), open fds at the start and end, and zombie
// children of tdefer at the end. Not part of `npm test`.
import { spawn } from "node:child_process";
import {
  createReadStream,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const index = args.indexOf(`--${name}`);
  return index === -1 ? fallback : Number(args[index + 1]);
};
const minutes = option("minutes", 3);
const jobs = option("jobs", 200);
if (!(minutes > 0) || !(jobs > 0)) {
  process.stderr.write("usage: node bench/soak.mjs [--minutes N] [--jobs J]\n");
  process.exit(2);
}

const bin = fileURLToPath(new URL("../bin/tdefer.js", import.meta.url));
if (!existsSync(fileURLToPath(new URL("../dist/cli/main.js", import.meta.url)))) {
  process.stderr.write("soak: dist/ is missing; run `npm run build` first\n");
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), "tdefer-soak-"));
const schedule = join(dir, "soak.yaml");
const logFile = join(dir, "soak.log");
let yaml = "jobs:\n";
for (let i = 0; i < jobs; i++) yaml += `  job${i}:\n    every: 1s\n    run: [echo, tick ${i}]\n`;
writeFileSync(schedule, yaml, { mode: 0o644 });

const durationMs = minutes * 60_000;
const log = openSync(logFile, "w");
const child = spawn(
  process.execPath,
  [bin, "run", schedule, "--log-format", "json", "--for", `${durationMs}ms`],
  {
    stdio: ["ignore", log, "inherit"],
  },
);
const pid = child.pid;
const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
const startedAt = Date.now();
process.stderr.write(`soak: ${jobs} jobs every 1s for ${minutes} min; pid ${pid}; log ${logFile}\n`);

const rssMb = () => {
  try {
    return Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024;
  } catch {
    return undefined;
  }
};
const fdCount = () => {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
};
/** Children of tdefer that have ended but were not reaped. */
const zombieChildren = () => {
  let count = 0;
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(ppid) === pid && state === "Z") count++;
    } catch {
      // gone meanwhile
    }
  }
  return count;
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Samples every 5 s, from 5 s (after start-up) to 3 s before the end: RSS, open fds, zombie children. fds
// and zombies include the runs in flight (a child that has exited waits in state Z until the event loop
// reaps it), so a leak shows as a trend, not as a non-zero count.
const samples = [];
await sleep(5000);
while (Date.now() - startedAt < durationMs - 3000) {
  const rss = rssMb();
  if (rss !== undefined)
    samples.push({
      minute: (Date.now() - startedAt) / 60_000,
      rss,
      fds: fdCount(),
      zombies: zombieChildren(),
    });
  const left = durationMs - 3000 - (Date.now() - startedAt);
  await sleep(Math.max(0, Math.min(5000, left)));
}
const { code, signal } = await exited;

// The log: started events with their lateness, and everything else counted.
const late = [];
const counts = {};
for await (const line of createInterface({ input: createReadStream(logFile) })) {
  if (!line) continue;
  const event = JSON.parse(line);
  counts[event.event] = (counts[event.event] ?? 0) + 1;
  if (event.event === "started") late.push(event.late_ms);
}
late.sort((a, b) => a - b);
const quantile = (q) => (late.length ? late[Math.min(late.length - 1, Math.floor(q * late.length))] : NaN);
const range = (values) => `${Math.min(...values)}–${Math.max(...values)}`;
const ms = (value) => (Number.isFinite(value) ? `${value.toFixed(1)}` : "–");

// Least-squares slope of RSS over time; the first 30 s (start-up, JIT warm-up) are left out when possible.
const steady =
  samples.filter((s) => s.minute >= 0.5).length >= 3 ? samples.filter((s) => s.minute >= 0.5) : samples;
const slope = (points) => {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((a, p) => a + p.minute, 0) / n;
  const my = points.reduce((a, p) => a + p.rss, 0) / n;
  const num = points.reduce((a, p) => a + (p.minute - mx) * (p.rss - my), 0);
  const den = points.reduce((a, p) => a + (p.minute - mx) ** 2, 0);
  return num / den;
};

// `every: 1s` fires at start + 1 s, + 2 s, …; a fire due at the very moment --for stops is not expected.
const expected = jobs * (Math.ceil(durationMs / 1000) - 1);
const rows = [
  ["jobs × duration", `${jobs} × ${minutes} min (every 1s)`],
  [
    "runs started / expected",
    `${late.length} / ${expected} (${((100 * late.length) / expected).toFixed(2)} %)`,
  ],
  ["runs finished", `${counts.finished ?? 0}`],
  ["output lines logged", `${counts.output ?? 0}`],
  ["skipped (overlap) / missed", `${counts.skipped ?? 0} / ${counts.missed ?? 0}`],
  ["lateness p50 / p99 / max", `${ms(quantile(0.5))} / ${ms(quantile(0.99))} / ${ms(late.at(-1))} ms`],
  [
    "RSS first / last / max",
    `${samples[0]?.rss.toFixed(0)} / ${samples.at(-1)?.rss.toFixed(0)} / ${Math.max(...samples.map((s) => s.rss)).toFixed(0)} MB`,
  ],
  ["RSS slope (after the first 30 s)", `${slope(steady).toFixed(2)} MB/min (${steady.length} samples)`],
  [
    "open fds at start / end (min–max)",
    `${samples[0]?.fds} / ${samples.at(-1)?.fds} (${range(samples.map((s) => s.fds))})`,
  ],
  [
    "zombie children at start / end (min–max)",
    `${samples[0]?.zombies} / ${samples.at(-1)?.zombies} (${range(samples.map((s) => s.zombies))})`,
  ],
  ["tdefer exit", signal ? `signal ${signal}` : `status ${code}`],
];
process.stdout.write(
  `| measure | value |\n|---|---|\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join("\n")}\n`,
);
