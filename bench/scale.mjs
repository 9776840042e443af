// Scale: `count` repeating schedules with intervals of 1–60 units and a random phase, in one of two subjects:
//   --subject reactor  new LoopingCall(view, fn).start(interval, { now: true }) on one Reactor, through one
//                      shared view of it (a Clock passing callLater through) whose next now() can be
//                      backdated by the loop's phase: start() reads now() once for the grid anchor, runs fn,
//                      then schedules from a fresh now(), so the first fire comes interval − phase after
//                      setup, as if the loop had been running forever (steady state from the start, no
//                      per-loop cost). The fire counts in the window check it.
//   --subject croner   new Cron("* * * * * *", { interval, startAt: now + phase }, fn) (croner 9).
// --unit s (default): intervals of 1–60 s, the BUSY variant: 100,000 of them fire ~7,900 times a second, so
//   the window measures the cost per fire (CPU µs/fire), not idleness.
// --unit min: intervals of 1–60 minutes, the IDLE variant of the target (idle CPU < 0.5 %): the
//   same draws scaled, ~130 fires a second for 100,000 schedules.
// Phases are drawn in 10 ms steps in [0, interval) with the same PRNG and draw order as lib.mjs's
// scaleSchedules (identical for --unit s); bench/peers/twisted_scale.py draws the same.
// Run with `node --expose-gc`. Measures the setup time, RSS and heap per schedule (after a full GC, against
// a baseline taken just before the setup), and the CPU used over a window of `window` ms in which the
// schedules just fire a counter. Counts the wakes in the window: the callbacks of setTimeout and
// setImmediate, wrapped for both subjects before anything is loaded (the Reactor arms one timer for its
// earliest call, capped at 30 s; croner one per job), so CPU per wake says what an empty wake costs.
// Prints one JSON line. The Twisted peer is bench/peers/twisted_scale.py.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { checksum, emit, loadDist, mulberry32, parseArgs, sleep } from "./lib.mjs";

// Count every timer and immediate callback that runs: the process's wakes (before dist/ or croner load).
let wakes = 0;
const realSetTimeout = globalThis.setTimeout;
const realSetImmediate = globalThis.setImmediate;
globalThis.setTimeout = (fn, ms, ...rest) =>
  realSetTimeout(
    (...a) => {
      wakes++;
      return fn(...a);
    },
    ms,
    ...rest,
  );
globalThis.setImmediate = (fn, ...rest) =>
  realSetImmediate(
    (...a) => {
      wakes++;
      return fn(...a);
    },
    ...rest,
  );

const args = parseArgs();
const subject = args.subject ?? "reactor";
const count = Number(args.count ?? 100_000);
const windowMs = Number(args.window ?? 10_000);
const seed = Number(args.seed ?? 7);
const settleMs = Number(args.settle ?? 1000);
const unit = args.unit === "min" ? "min" : "s";
const unitMs = unit === "min" ? 60_000 : 1000;
const { intervals, phasesMs } = schedules(seed, count, unitMs);

/** lib.mjs's scaleSchedules with the unit as a parameter: the same draws, the same values for seconds. */
function schedules(seed, count, unitMs) {
  const rand = mulberry32(seed);
  const intervals = new Array(count);
  const phasesMs = new Array(count);
  for (let i = 0; i < count; i++) {
    const n = 1 + Math.floor(rand() * 60);
    intervals[i] = n;
    phasesMs[i] = Math.floor((rand() * n * unitMs) / 10) * 10;
  }
  return { intervals, phasesMs };
}

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
  const wakesBefore = wakes;
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  await sleep(windowMs);
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - w0;
  const windowFires = fires - firesBefore;
  const windowWakes = wakes - wakesBefore - 1; // less the window's own sleep
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return {
    bench: "scale",
    subject: name,
    impl,
    count,
    unit,
    seed,
    checksum: checksum(intervals, phasesMs),
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
    wakes: windowWakes,
    wakesPerS: (1000 * windowWakes) / wallMs,
    cpuUsPerWake: windowWakes > 0 ? (1000 * cpuMs) / windowWakes : null,
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
      loop.start(intervals[i] * unitMs, { now: true });
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
        { interval: intervals[i] * (unitMs / 1000), startAt: new Date(now + phasesMs[i]) },
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
