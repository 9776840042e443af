// Fire lateness: `count` one-shot calls at seeded random times over `span` ms, in one of two subjects:
//   --subject reactor     Reactor.callLater; lateness = reactor.now() at the call − handle.time. The Reactor's
//                         now() is performance.now() plus a constant, so this is performance.now() measured
//                         against the very due instant the reactor scheduled.
//   --subject reactor-before   the same with the Reactor of the built checkout in --baseline DIR (before/after).
//   --subject settimeout  one setTimeout per call; due = performance.now() just before setTimeout + delay,
//                         lateness = performance.now() in the callback − due.
// Prints one JSON line. The Twisted peer is bench/peers/twisted_lateness.py (same seed, same delays).
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { checksum, emit, lateDelays, loadDist, parseArgs, percentile } from "./lib.mjs";

const args = parseArgs();
const subject = args.subject ?? "reactor";
const count = Number(args.count ?? 2000);
const spanMs = Number(args.span ?? 20_000);
const seed = Number(args.seed ?? 42);
const delays = lateDelays(seed, count, spanMs);

function summarize(name, lateness, cpuMs) {
  const sorted = [...lateness].sort((a, b) => a - b);
  const early = sorted.filter((x) => x < 0);
  return {
    bench: "lateness",
    subject: name,
    count,
    spanMs,
    seed,
    checksum: checksum(delays),
    fired: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1],
    min: sorted[0],
    early: early.length,
    earlyPct: (100 * early.length) / sorted.length,
    worstEarly: early.length ? -sorted[0] : 0,
    cpuMs,
  };
}

function runReactor(Reactor, options = {}) {
  return new Promise((resolve) => {
    const reactor = new Reactor(options);
    const lateness = new Array(count);
    const handles = new Array(count);
    let fired = 0;
    for (let i = 0; i < count; i++) {
      handles[i] = reactor.callLater(delays[i], () => {
        lateness[i] = reactor.now() - handles[i].time;
        if (++fired === count) resolve(lateness);
      });
    }
  });
}

function runSetTimeout() {
  return new Promise((resolve) => {
    const lateness = new Array(count);
    let fired = 0;
    for (let i = 0; i < count; i++) {
      const due = performance.now() + delays[i];
      setTimeout(() => {
        lateness[i] = performance.now() - due;
        if (++fired === count) resolve(lateness);
      }, delays[i]);
    }
  });
}

/** Runs a subject and measures the CPU time its waiting took (user + system), as the Twisted peer does. */
async function measured(name, run) {
  const before = process.cpuUsage();
  const lateness = await run();
  const cpu = process.cpuUsage(before);
  return summarize(name, lateness, (cpu.user + cpu.system) / 1000);
}

if (subject === "reactor") {
  const { Reactor } = await loadDist();
  emit(await measured("Reactor", () => runReactor(Reactor)));
} else if (subject === "reactor-before") {
  const { Reactor } = await import(
    pathToFileURL(join(resolve(String(args.baseline)), "dist", "index.js")).href
  );
  emit(await measured("Reactor, before", () => runReactor(Reactor)));
} else if (subject === "settimeout") {
  emit(await measured("setTimeout per call", runSetTimeout));
} else {
  throw new Error(`unknown subject ${subject}`);
}
