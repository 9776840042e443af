// Shared helpers of the benchmarks. Nothing here schedules anything.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const benchDir = dirname(fileURLToPath(import.meta.url));
export const distIndex = join(benchDir, "..", "dist", "index.js");

/** Imports the built library, or exits with a clear message when dist/ is missing. */
export async function loadDist() {
  if (!existsSync(distIndex)) {
    process.stderr.write(`bench: ${distIndex} is missing; run \`npm run build\` first.\n`);
    process.exit(2);
  }
  return import(distIndex);
}

/**
 * mulberry32: a tiny seeded PRNG in [0, 1). bench/peers/common.py implements the same function, so the
 * Node and Python children draw identical numbers from the same seed (checked through a checksum).
 */
export function mulberry32(seed) {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The one-shot delays of the lateness benchmark: `count` integer ms delays in [0, spanMs), in draw order. */
export function lateDelays(seed, count, spanMs) {
  const rand = mulberry32(seed);
  return Array.from({ length: count }, () => Math.floor(rand() * spanMs));
}

/**
 * The schedules of the scale benchmark: integer intervals of 1–60 s, and a phase in [0, interval) ms, in
 * 10 ms steps. Same draws as bench/peers/common.py.
 */
export function scaleSchedules(seed, count) {
  const rand = mulberry32(seed);
  const intervalsS = new Array(count);
  const phasesMs = new Array(count);
  for (let i = 0; i < count; i++) {
    const s = 1 + Math.floor(rand() * 60);
    intervalsS[i] = s;
    phasesMs[i] = Math.floor(rand() * s * 100) * 10;
  }
  return { intervalsS, phasesMs };
}

/** A checksum of integer lists, so run.mjs can check that every subject drew the same schedule. */
export function checksum(...lists) {
  let h = 0;
  for (const list of lists) for (const x of list) h = (Math.imul(h, 31) + x) >>> 0;
  return h;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Parses `--name value` and `--flag` arguments. */
export function parseArgs(argv = process.argv.slice(2)) {
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) continue;
    const key = arg.slice(2);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith("--")) args[key] = true;
    else {
      args[key] = next;
      i++;
    }
  }
  return args;
}

/** Prints the one JSON result line a child benchmark owes run.mjs. */
export function emit(result) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
