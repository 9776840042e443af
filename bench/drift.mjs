// Drift of a repeating 100 ms timer over `ticks` ticks (200 → 20 s), in one of two subjects:
//   --subject reactor      new LoopingCall(reactor, fn).start(100, { now: false }): tick k is due at
//                          startTimeMs + k·100 on the Reactor's clock (performance.now() plus a constant).
//   --subject setinterval  setInterval(fn, 100), started at performance.now() = t0: tick k "should" be at
//                          t0 + k·100.
// Reports the error of the last tick (its time − start − ticks·interval, ms), and the largest error and the
// number of grid points skipped along the way. Prints one JSON line.
import { emit, loadDist, parseArgs } from "./lib.mjs";

const args = parseArgs();
const subject = args.subject ?? "reactor";
const intervalMs = Number(args.interval ?? 100);
const ticks = Number(args.ticks ?? 200);

function summarize(name, errors, extra = {}) {
  const last = errors[errors.length - 1];
  const maxAbs = errors.reduce((m, e) => Math.max(m, Math.abs(e)), 0);
  const early = errors.filter((e) => e < 0).length;
  return { bench: "drift", subject: name, intervalMs, ticks, last, maxAbs, early, ...extra };
}

if (subject === "reactor") {
  const { Reactor, LoopingCall } = await loadDist();
  const reactor = new Reactor();
  const errors = [];
  let skipped = 0;
  const loop = LoopingCall.withCount(reactor, (n) => {
    skipped += n - 1;
    const k = errors.length + skipped + 1;
    errors.push(reactor.now() - (loop.startTimeMs + k * intervalMs));
    if (k >= ticks) loop.stop();
  });
  await loop.start(intervalMs, { now: false });
  reactor.close();
  emit(summarize("Reactor LoopingCall", errors, { skipped }));
} else if (subject === "setinterval") {
  const errors = [];
  await new Promise((resolve) => {
    const t0 = performance.now();
    const timer = setInterval(() => {
      errors.push(performance.now() - (t0 + (errors.length + 1) * intervalMs));
      if (errors.length >= ticks) {
        clearInterval(timer);
        resolve();
      }
    }, intervalMs);
  });
  emit(summarize("setInterval", errors, { skipped: 0 }));
} else {
  throw new Error(`unknown subject ${subject}`);
}
