import type { JobSpec } from "../schedule/types.js";

/** At most this many missed fires of a job are counted (a per-second job down for a week need not be walked). */
export const MAX_COUNTED_MISSED = 10_000;
/** At most this many missed fires of a job get a record (the newest); the log counts them all. */
export const MAX_RECORDED_MISSED = 100;
/** `catch_up: { runs: all }` runs at most this many (the newest), in order. */
export const MAX_CAUGHT_UP = 100;

/** The nominal fires of a job in (afterMs, untilMs]: the newest `newest` of them, ascending, and how many in all. */
export function firesBetween(
  job: JobSpec,
  afterMs: number,
  untilMs: number,
  newest: number,
): { readonly fires: readonly number[]; readonly count: number } {
  if (untilMs <= afterMs) return { fires: [], count: 0 };
  const trigger = job.trigger;
  switch (trigger.kind) {
    case "after":
      // Counted from each start: an `after` job has no fire of its own between two runs of tdefer.
      return { fires: [], count: 0 };
    case "at": {
      const all = trigger.times.map((t) => t.timeMs).filter((t) => t > afterMs && t <= untilMs);
      return { fires: all.slice(-newest), count: all.length };
    }
    case "every": {
      // Continues the grid of the last recorded fire: afterMs + k·interval.
      const count = Math.floor((untilMs - afterMs) / trigger.intervalMs);
      const fires: number[] = [];
      for (let k = Math.max(1, count - newest + 1); k <= count; k++)
        fires.push(afterMs + k * trigger.intervalMs);
      return { fires, count: Math.min(count, MAX_COUNTED_MISSED) };
    }
    case "cron": {
      const next = (t: number) => trigger.recurrence.nextAfter(t)?.timeMs;
      let count = 0;
      for (let t = next(afterMs); t !== undefined && t <= untilMs && count < MAX_COUNTED_MISSED; t = next(t))
        count++;
      return { fires: newestCronFires(next, afterMs, untilMs, newest), count };
    }
  }
}

/** The newest `newest` fires in (afterMs, untilMs], found by widening a window back from untilMs. */
function newestCronFires(
  next: (afterMs: number) => number | undefined,
  afterMs: number,
  untilMs: number,
  newest: number,
): number[] {
  for (let spanMs = 3_600_000; ; spanMs *= 8) {
    const fromMs = Math.max(afterMs, untilMs - spanMs);
    const fires: number[] = [];
    for (let t = next(fromMs); t !== undefined && t <= untilMs; t = next(t)) {
      fires.push(t);
      if (fires.length > 4 * newest) fires.splice(0, fires.length - newest);
    }
    if (fires.length >= newest || fromMs === afterMs) return fires.slice(-newest);
  }
}
