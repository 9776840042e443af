// The runner's benchmarks for run.mjs: log throughput, spawn overhead, fire-to-exec latency. Each subject
// is a fresh child process (bench/log-throughput.mjs, spawn-overhead.mjs, fire-to-exec.mjs) printing one
// JSON line; this module prints the Markdown tables and adds the verdicts. Inputs go to a temp dir, removed.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const LOG_BENCHES = ["log", "spawn", "exec"];

/** Sizes: full, or --quick (smaller, not for comparison). */
export function logParams(quick) {
  return quick
    ? { mb: 40, longMb: 10, reps: 1, spawnCount: 200, spawnReps: 1, fires: 100, interval: 50 }
    : { mb: 200, longMb: 50, reps: 2, spawnCount: 1000, spawnReps: 2, fires: 500, interval: 50 };
}

/**
 * ctx: { P (logParams), child, node, py, table, fmt, ratio, verdicts, notes, twisted }, the helpers of run.mjs.
 * Repeated subjects run interleaved and keep their best run: this machine is shared, and the best run is the
 * one least disturbed.
 */
export async function logThroughput(ctx) {
  const { P, child, node, table, fmt, ratio, verdicts, notes, twisted, baselineDir } = ctx;
  const dir = mkdtempSync(join(tmpdir(), "tdefer-bench-log-"));
  try {
    const data = join(dir, "lines");
    const made = await child(
      ...node("log-throughput.mjs", "--make", data, "--mb", P.mb, "--line", 100),
      "input",
    );
    if (made.error) throw new Error(made.error);
    // [key, label, subject, extra arguments]; with --baseline, the built checkout there runs beside this one.
    const subjects = [
      ["node-pipe", "Node child.stdout.pipe(fs.createWriteStream)"],
      ["cat", "cat FILE, piped to cat > out"],
      ["tdefer-plain", "tdefer run --log-format plain"],
      ["tdefer-json", "tdefer run --log-format json"],
    ];
    if (baselineDir) {
      const bin = ["--bin", join(baselineDir, "bin", "tdefer.js")];
      subjects.push(["before-plain", "baseline build: tdefer run --log-format plain", "tdefer-plain", bin]);
      subjects.push(["before-json", "baseline build: tdefer run --log-format json", "tdefer-json", bin]);
    }
    if (twisted.ok) {
      subjects.push(["twisted-raw", "Twisted ProcessProtocol, chunks as is"]);
      subjects.push(["twisted-lines", "Twisted ProcessProtocol, split into lines + prefix"]);
    }
    const best = new Map();
    for (let rep = 0; rep < P.reps; rep++) {
      for (const [key, label, subject = key, extra = []] of subjects) {
        const r = await child(
          ...node("log-throughput.mjs", "--subject", subject, "--data", data, "--dir", dir, ...extra),
          label,
        );
        r.label = label;
        const prev = best.get(key);
        if (!prev || prev.error || (!r.error && r.mbPerS > prev.mbPerS)) best.set(key, r);
      }
      rmSync(join(dir, "out-tdefer-json"), { force: true });
    }
    const base = best.get("node-pipe");
    const tw = best.get("twisted-raw");
    const twl = best.get("twisted-lines");
    console.log(
      `\n### Log throughput: ${P.mb} MB of 100-byte lines from \`cat\` to a file (best of ${P.reps}; MB/s of input over stream time = spawn → last byte written, start-up excluded; wall and peak RSS of the whole process)\n`,
    );
    console.log(
      table(
        [
          "Subject",
          "MB/s",
          "wall s",
          "wall MB/s",
          "peak RSS MiB",
          "out MB",
          "vs Node pipe",
          "vs Twisted raw",
          "vs Twisted lines",
        ],
        subjects.map(([subject]) => {
          const r = best.get(subject);
          return r.error
            ? [r.label, r.error, "", "", "", "", "", "", ""]
            : [
                r.label,
                fmt(r.mbPerS, 0),
                fmt(r.wallMs / 1000, 2),
                fmt(r.wallMbPerS, 0),
                fmt(r.rssMiB, 0),
                fmt(r.outBytes / 1e6, 0),
                ratio(r.mbPerS, base?.mbPerS),
                ratio(r.mbPerS, tw?.mbPerS),
                ratio(r.mbPerS, twl?.mbPerS),
              ];
        }),
      ),
    );
    // One line of longLines MB: cut into 64 KiB pieces, so memory stays bounded.
    rmSync(data, { force: true });
    const long = join(dir, "long");
    await child(...node("log-throughput.mjs", "--make", long, "--mb", P.longMb, "--line", 0), "input");
    const longResults = [];
    for (const [key, label, subject = key, extra = []] of subjects.filter(
      ([k]) => !k.startsWith("twisted"),
    )) {
      const r = await child(
        ...node("log-throughput.mjs", "--subject", subject, "--data", long, "--dir", dir, ...extra),
        label,
      );
      r.key = key;
      r.label = label;
      longResults.push(r);
    }
    console.log(`\n### Log throughput: ONE line of ${P.longMb} MB (tdefer cuts it into 64 KiB pieces)\n`);
    console.log(
      table(
        ["Subject", "MB/s", "wall s", "peak RSS MiB", "out MB", "vs Node pipe"],
        longResults.map((r) =>
          r.error
            ? [r.label, r.error, "", "", "", ""]
            : [
                r.label,
                fmt(r.mbPerS, 0),
                fmt(r.wallMs / 1000, 2),
                fmt(r.rssMiB, 0),
                fmt(r.outBytes / 1e6, 0),
                ratio(r.mbPerS, longResults[0].mbPerS),
              ],
        ),
      ),
    );
    const plain = best.get("tdefer-plain");
    const json = best.get("tdefer-json");
    if (!plain.error && !base.error)
      verdicts.push([
        "log: plain ≥ 60% of Node's bare pipe",
        `${fmt(plain.mbPerS, 0)} vs ${fmt(base.mbPerS, 0)} MB/s (${fmt((100 * plain.mbPerS) / base.mbPerS, 0)}%)`,
        plain.mbPerS >= 0.6 * base.mbPerS ? "met" : "MISSED",
      ]);
    for (const peer of [tw, twl]) {
      if (!peer || peer.error) continue;
      if (!plain.error)
        verdicts.push([
          `log: plain ≥ 1.5× ${peer.label}`,
          `${fmt(plain.mbPerS, 0)} vs ${fmt(peer.mbPerS, 0)} MB/s (${ratio(plain.mbPerS, peer.mbPerS)})`,
          plain.mbPerS >= 1.5 * peer.mbPerS ? "met" : "MISSED",
        ]);
      if (!json.error)
        verdicts.push([
          `log: json ≥ ${peer.label}`,
          `${fmt(json.mbPerS, 0)} vs ${fmt(peer.mbPerS, 0)} MB/s (${ratio(json.mbPerS, peer.mbPerS)})`,
          json.mbPerS >= peer.mbPerS ? "met" : "MISSED",
        ]);
    }
    const rss = [plain, json, ...longResults.filter((r) => r.key?.startsWith("tdefer"))]
      .filter((r) => !r.error)
      .map((r) => r.rssMiB);
    for (const format of ["plain", "json"]) {
      const after = best.get(`tdefer-${format}`);
      const before = best.get(`before-${format}`);
      if (after && before && !after.error && !before.error)
        notes.push(
          `Log throughput, ${format}: ${fmt(after.mbPerS, 0)} MB/s against the baseline build's ${fmt(before.mbPerS, 0)} (${ratio(after.mbPerS, before.mbPerS)}); peak RSS ${fmt(after.rssMiB, 0)} against ${fmt(before.rssMiB, 0)} MiB.`,
        );
    }
    verdicts.push([
      "log: tdefer peak RSS ≤ 100 MiB (100-byte lines and one long line)",
      `${fmt(Math.max(...rss), 0)} MiB at most`,
      Math.max(...rss) <= 100 ? "met" : "MISSED",
    ]);
    if (!existsSync("/usr/bin/time")) notes.push("Peak RSS: /usr/bin/time absent, VmHWM polled every 20 ms.");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function spawnOverhead(ctx) {
  const { P, child, node, table, fmt, ratio, verdicts } = ctx;
  const subjects = ["bare", "tdefer"];
  const best = new Map();
  for (let rep = 0; rep < P.spawnReps; rep++) {
    for (const subject of subjects) {
      const r = await child(
        ...node("spawn-overhead.mjs", "--subject", subject, "--count", P.spawnCount),
        subject,
      );
      const prev = best.get(subject);
      if (!prev || prev.error || (!r.error && r.perS > prev.perS)) best.set(subject, r);
    }
  }
  const base = best.get("bare");
  console.log(
    `\n### Spawn overhead: ${P.spawnCount} runs of /bin/true, one after another, each reaped before the next (best of ${P.spawnReps})\n`,
  );
  console.log(
    table(
      ["Subject", "runs/s", "µs/run", "failed", "ratio"],
      subjects.map((s) => {
        const r = best.get(s);
        return r.error
          ? [r.subject, r.error, "", "", ""]
          : [r.subject, fmt(r.perS, 0), fmt(r.usPerRun, 0), r.failed, ratio(r.perS, base.perS)];
      }),
    ),
  );
  const t = best.get("tdefer");
  if (!t.error && !base.error)
    verdicts.push([
      "spawn: tdefer ≥ 80% of bare spawn",
      `${fmt(t.perS, 0)} vs ${fmt(base.perS, 0)} runs/s (${fmt((100 * t.perS) / base.perS, 0)}%)`,
      t.perS >= 0.8 * base.perS ? "met" : "MISSED",
    ]);
}

export async function fireToExec(ctx) {
  const { P, child, node, table, fmt, ratio, verdicts } = ctx;
  const common = ["--count", P.fires, "--interval", P.interval];
  const results = [];
  results.push(await child(...node("fire-to-exec.mjs", "--subject", "tdefer", ...common), "tdefer run"));
  results.push(
    await child(...node("fire-to-exec.mjs", "--subject", "node", ...common), "setTimeout + spawn"),
  );
  console.log(
    `\n### Fire-to-exec: ${P.fires} fires of an every ${P.interval}ms job running /bin/date (ms after the scheduled time; first fire left out; child = the time /bin/date printed)\n`,
  );
  const base = results[1];
  console.log(
    table(
      [
        "Subject",
        "fires",
        "late_ms p50",
        "late_ms p99",
        "child p50",
        "child p99",
        "child max",
        "child p99 ratio",
      ],
      results.map((r) =>
        r.error
          ? [r.subject, r.error, "", "", "", "", "", ""]
          : [
              r.subject,
              r.fires,
              fmt(r.late.p50, 2),
              fmt(r.late.p99, 2),
              fmt(r.child.p50, 2),
              fmt(r.child.p99, 2),
              fmt(r.child.max, 2),
              ratio(r.child.p99, base.error ? undefined : base.child.p99),
            ],
      ),
    ),
  );
  const t = results[0];
  if (!t.error)
    verdicts.push([
      "exec: fires started",
      `${t.fires} of ${P.fires} (child p50 ${fmt(t.child.p50, 2)} ms, p99 ${fmt(t.child.p99, 2)} ms)`,
      t.fires >= P.fires - 1 ? "met" : "MISSED",
    ]);
}
