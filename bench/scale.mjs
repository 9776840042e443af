// Scale: `count` repeating schedules with intervals of 1–60 s and a random phase, in one of two subjects:
//   --subject reactor  new LoopingCall(view, fn).start(interval, { now: true }) on one Reactor, through one
//                      shared view of it (a Clock passing callLater through) whose next now() can be
//                      backdated by the loop's phase: start() reads now() once for the grid anchor, runs fn,
//                      then schedules from a fresh now(), so the first fire comes interval − phase after
//                      setup, as if the loop had been running forever (steady state from the start, no
//                      per-loop cost). The fire counts in the window check it.
//   --subject croner   new Cron("* * * * * *", { interval, startAt: now + phase }, fn) (croner 9).
// Run with `node --expose-gc`. Measures the setup time, RSS and heap per schedule (after a full GC, against
// a baseline taken just before the setup), and the CPU used over an idle window of `window` ms in which
// the schedules just fire a counter. Prints one JSON line. The Twisted peer is bench/peers/twisted_scale.py.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { checksum, emit, loadDist, parseArgs, scaleSchedules, sleep } from "./lib.mjs";

const args = parseArgs();
const subject = args.subject ?? "reactor";
const count = Number(args.count ?? 100_000);
const windowMs = Number(args.window ?? 10_000);
const seed = Number(args.seed ?? 7);
const settleMs = Number(args.settle ?? 1000);
const { intervalsS, phasesMs } = scaleSchedules(seed, count);

if (typeof global.gc !== "function") throw new Error("run scale.mjs with node --expose-gc");

function memory() {
  global.gc();
  global.gc();
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heapUsed };
}

let fires = 0;
const body = () => {
  fires++;
};

async function measure(name, impl, setup) {
  const before = memory();
  const t0 = performance.now();
  const keep = setup();
  const setupMs = performance.now() - t0;
  const after = memory();
  // Let the fires that fell due during the setup and the GC catch up (each loop runs once for them), then
  // the idle window: nothing runs but the schedules' own fires.
  await sleep(settleMs);
  const firesBefore = fires;
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  await sleep(windowMs);
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - w0;
  const windowFires = fires - firesBefore;
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return {
    bench: "scale",
    subject: name,
    impl,
    count,
    seed,
    checksum: checksum(intervalsS, phasesMs),
    kept: keep.length,
    setupMs,
    rssPerSchedule: (after.rss - before.rss) / count,
    heapPerSchedule: (after.heapUsed - before.heapUsed) / count,
    rssMB: after.rss / 2 ** 20,
    windowMs: wallMs,
    cpuPct: (100 * cpuMs) / wallMs,
    sysPct: (100 * cpu.system) / 1000 / wallMs,
    fires: windowFires,
    firesPerS: (1000 * windowFires) / wallMs,
    cpuUsPerFire: windowFires ? (1000 * cpuMs) / windowFires : null,
  };
}

if (subject === "reactor") {
  const { Reactor, LoopingCall } = await loadDist();
  const reactor = new Reactor();
  const view = {
    backdateMs: 0,
    now() {
      const shift = this.backdateMs;
      this.backdateMs = 0;
      return reactor.now() - shift;
    },
    callLater: (delayMs, fn, arg) => reactor.callLater(delayMs, fn, arg),
  };
  const result = await measure("Reactor LoopingCall", "tdefer dist/", () => {
    const loops = new Array(count);
    for (let i = 0; i < count; i++) {
      const loop = new LoopingCall(view, body);
      view.backdateMs = phasesMs[i];
      loop.start(intervalsS[i] * 1000, { now: true });
      loops[i] = loop;
    }
    return loops;
  });
  emit(result);
  process.exit(0);
} else if (subject === "croner") {
  const require = createRequire(import.meta.url);
  const { Cron } = await import("croner");
  const version = JSON.parse(readFileSync(require.resolve("croner/package.json"), "utf8")).version;
  const result = await measure("croner Cron", `croner ${version}`, () => {
    const jobs = new Array(count);
    const now = Date.now();
    for (let i = 0; i < count; i++) {
      jobs[i] = new Cron(
        "* * * * * *",
        { interval: intervalsS[i], startAt: new Date(now + phasesMs[i]) },
        body,
      );
    }
    return jobs;
  });
  emit(result);
  process.exit(0);
} else {
  throw new Error(`unknown subject ${subject}`);
}
