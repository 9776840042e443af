// Start-up: whole `tdefer` processes that return at once, timed by hyperfine against `node -e 0` in the
// same run (interleaved is not possible in hyperfine; the commands run one after another, each with
// warm-up runs first). Prints one JSON line: per command the mean, σ, min and median in ms.
// Needs hyperfine (Debian: apt-get install hyperfine); without it the result says so.
// --baseline DIR adds the same tdefer commands run from another built checkout (rows "before: …"), for a
// before/after comparison in one run.
// --interleaved ROUNDS: instead of hyperfine, every command once a round, in the same order, ROUNDS times (a tiny
// /usr/bin/python3 wrapper: perf_counter around Popen, user + system time from os.wait4), so that load that comes
// and goes on a shared machine hits all commands alike; the rows then hold the median wall and CPU time.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { benchDir, emit, parseArgs } from "./lib.mjs";

const args = parseArgs();
const runs = Number(args.runs ?? 30);
const repo = join(benchDir, "..");
const tdefer = `${process.execPath} ${join(repo, "bin", "tdefer.js")}`;
const example = join(repo, "schedules.example.yaml");
const tdeferCommands = (prefix, binary) => [
  [`${prefix}tdefer --version`, `${binary} --version`],
  [`${prefix}tdefer --help`, `${binary} --help`],
  [`${prefix}tdefer next schedules.example.yaml`, `${binary} next ${example}`],
  [`${prefix}tdefer check schedules.example.yaml`, `${binary} check ${example}`],
];
const COMMANDS = [["node -e 0", `${process.execPath} -e 0`], ...tdeferCommands("", tdefer)];
if (typeof args.baseline === "string") {
  COMMANDS.push(
    ...tdeferCommands("before: ", `${process.execPath} ${join(args.baseline, "bin", "tdefer.js")}`),
  );
}

// Each round runs every command once; prints per command the wall and CPU (user + system) times of each round.
const INTERLEAVED = `
import json, os, subprocess, sys, time
commands, rounds = json.loads(sys.argv[1]), int(sys.argv[2])
times = [{"wall": [], "cpu": []} for _ in commands]
for _ in range(rounds):
    for i, argv in enumerate(commands):
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        times[i]["wall"].append((time.perf_counter() - t0) * 1000)
        times[i]["cpu"].append((ru.ru_utime + ru.ru_stime) * 1000)
print(json.dumps(times))
`;

if (args.interleaved !== undefined) {
  const rounds = Number(args.interleaved) || 20;
  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const r = spawnSync(
    "/usr/bin/python3",
    ["-c", INTERLEAVED, JSON.stringify(COMMANDS.map(([, command]) => command.split(" "))), String(rounds)],
    { encoding: "utf8", cwd: repo, env: { ...process.env, NO_COLOR: "1" } },
  );
  if (r.status !== 0) {
    emit({ subject: "startup", error: `interleaved runs failed: ${r.stderr.trim().split("\n").pop()}` });
    process.exit(0);
  }
  const times = JSON.parse(r.stdout);
  emit({
    subject: "startup",
    interleaved: rounds,
    rows: COMMANDS.map(([label], i) => ({
      label,
      medianMs: median(times[i].wall),
      minMs: Math.min(...times[i].wall),
      cpuMedianMs: median(times[i].cpu),
    })),
  });
  process.exit(0);
}

const version = spawnSync("hyperfine", ["--version"], { encoding: "utf8" });
if (version.status !== 0) {
  emit({ subject: "startup", error: "hyperfine is not installed (Debian: apt-get install hyperfine)" });
  process.exit(0);
}
const dir = mkdtempSync(join(os.tmpdir(), "tdefer-startup-"));
try {
  const out = join(dir, "hyperfine.json");
  const argv = ["--warmup", "3", "--runs", String(runs), "-N", "--style", "none", "--export-json", out];
  for (const [name, command] of COMMANDS) argv.push("-n", name, command);
  const r = spawnSync("hyperfine", argv, {
    encoding: "utf8",
    cwd: repo,
    env: { ...process.env, NO_COLOR: "1" },
  });
  if (r.status !== 0) {
    emit({
      subject: "startup",
      error: `hyperfine failed: ${(r.stderr || r.stdout).trim().split("\n").pop()}`,
    });
    process.exit(0);
  }
  const results = JSON.parse(readFileSync(out, "utf8")).results;
  emit({
    subject: "startup",
    hyperfine: version.stdout.trim(),
    runs,
    rows: results.map((x) => ({
      label: x.command,
      meanMs: x.mean * 1000,
      stddevMs: x.stddev * 1000,
      minMs: x.min * 1000,
      medianMs: x.median * 1000,
    })),
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
