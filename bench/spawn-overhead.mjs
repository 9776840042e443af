// Spawn overhead: `count` short jobs (/bin/true), one after another, each started and reaped before the next:
//   --subject tdefer  runJob + nodeSpawner from dist/ on a Reactor (process group, piped stdout/stderr read
//                     through the LineSplitter, events to a counting emit), awaiting each run's `done`
//   --subject bare    child_process.spawn("/bin/true") with the same stdio (ignore, pipe, pipe), awaiting 'close'
// Prints one JSON line: runs per second.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { benchDir, emit, parseArgs } from "./lib.mjs";

const args = parseArgs();
const subject = String(args.subject ?? "tdefer");
const count = Number(args.count ?? 1000);
const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };

async function runTdefer() {
  const dist = join(benchDir, "..", "dist");
  const { Reactor } = await import(join(dist, "clock", "reactor.js"));
  const { runJob } = await import(join(dist, "runner", "run-job.js"));
  const { nodeSpawner } = await import(join(dist, "runner", "node-spawner.js"));
  const reactor = new Reactor();
  let events = 0;
  const deps = {
    clock: reactor,
    spawner: nodeSpawner,
    emit: () => events++,
    wallNow: () => reactor.wallNow(),
  };
  let failed = 0;
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const spec = {
      job: "true",
      runId: `r${i}`,
      scheduledMs: reactor.wallNow(),
      file: "/bin/true",
      args: [],
      cwd: "/",
      env,
      killSignal: "SIGTERM",
      killGraceMs: 5000,
    };
    const result = await runJob(spec, deps).done;
    if (!result.ok) failed++;
  }
  const ms = performance.now() - started;
  reactor.close();
  return { ms, failed, events };
}

async function runBare() {
  let failed = 0;
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const code = await new Promise((resolve) => {
      const child = spawn("/bin/true", [], { cwd: "/", env, stdio: ["ignore", "pipe", "pipe"] });
      child.stdout.resume();
      child.stderr.resume();
      child.on("error", () => resolve(-1));
      child.on("close", (c) => resolve(c));
    });
    if (code !== 0) failed++;
  }
  return { ms: performance.now() - started, failed, events: 0 };
}

const r = subject === "tdefer" ? await runTdefer() : await runBare();
emit({
  bench: "spawn",
  subject: subject === "tdefer" ? "tdefer runJob + nodeSpawner" : "bare child_process.spawn",
  count,
  ms: r.ms,
  perS: count / (r.ms / 1000),
  usPerRun: (r.ms * 1000) / count,
  failed: r.failed,
  events: r.events,
});
