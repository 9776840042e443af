// Fire-to-exec latency: how long after its scheduled time a job's process is running.
//   --subject tdefer  the built binary: `tdefer run --log-format json` of one `every: <interval>` job whose
//                     command is /bin/date +%s%N (no shell), stopped by --for after `count` fires. Two views:
//                     late_ms of each `started` event (tdefer's own: the wall clock when spawn() returned
//                     minus the scheduled time), and the child's: the time /bin/date printed minus the run's
//                     `scheduled` (that one has ms resolution, so the child view reads up to 1 ms high).
//   --subject node    the baseline: a setTimeout chain on the same grid (each timer armed for the next
//                     multiple of the interval) spawning /bin/date, the same child view.
// Prints one JSON line; percentiles in ms over the fires after the first (which pays for the JIT).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { benchDir, emit, parseArgs, percentile } from "./lib.mjs";

const args = parseArgs();
const subject = String(args.subject ?? "tdefer");
const count = Number(args.count ?? 500);
const intervalMs = Number(args.interval ?? 50);

function summary(values) {
  const sorted = values.slice(1).sort((a, b) => a - b);
  if (sorted.length === 0) return { p50: null, p99: null, max: null };
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] };
}

async function runTdefer() {
  const dir = mkdtempSync(join(tmpdir(), "tdefer-fire-"));
  try {
    const schedule = join(dir, "fire.yaml");
    writeFileSync(schedule, `jobs:\n  tick:\n    every: ${intervalMs}ms\n    run: [/bin/date, "+%s%N"]\n`);
    // Stop half an interval after the count-th fire is due (the first is due one interval after start-up).
    const forMs = Math.round((count + 0.5) * intervalMs);
    const bin = join(benchDir, "..", "bin", "tdefer.js");
    const proc = spawn(
      process.execPath,
      [bin, "run", schedule, "--log-format", "json", "--for", `${forMs}ms`],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let text = "";
    proc.stdout.setEncoding("utf8");
    proc.stdout.on("data", (d) => {
      text += d;
    });
    await new Promise((resolve) => proc.on("close", resolve));
    const scheduled = new Map();
    const late = [];
    const child = [];
    let skipped = 0;
    for (const line of text.split("\n")) {
      if (line === "") continue;
      const e = JSON.parse(line);
      if (e.event === "started") {
        late.push(e.late_ms);
        scheduled.set(e.run, Date.parse(e.scheduled));
      } else if (e.event === "output" && scheduled.has(e.run)) {
        child.push(Number(BigInt(e.line) / 1000n) / 1000 - scheduled.get(e.run));
      } else if (e.event === "skipped" || e.event === "missed") skipped++;
    }
    return { fires: late.length, skipped, late: summary(late), child: summary(child) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runNode() {
  const child = [];
  const startMs = Date.now();
  for (let i = 1; i <= count; i++) {
    const dueMs = startMs + i * intervalMs;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, dueMs - Date.now())));
    const out = await new Promise((resolve) => {
      const proc = spawn("/bin/date", ["+%s%N"], { stdio: ["ignore", "pipe", "ignore"] });
      let s = "";
      proc.stdout.on("data", (d) => {
        s += d;
      });
      proc.on("close", () => resolve(s.trim()));
    });
    child.push(Number(BigInt(out) / 1000n) / 1000 - dueMs);
  }
  return { fires: child.length, skipped: 0, late: summary([]), child: summary(child) };
}

const r = subject === "tdefer" ? await runTdefer() : await runNode();
emit({
  bench: "fire-to-exec",
  subject: subject === "tdefer" ? "tdefer run (every)" : "setTimeout + spawn",
  count,
  intervalMs,
  ...r,
});
