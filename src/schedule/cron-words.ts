// A cron expression in words, for people reading `check` and `next`: the only importer of cronstrue.
import { createRequire } from "node:module";
import { CronSchedule } from "./cron.js";
import { transitionsBetween, zoneOffsetMs } from "./zone.js";

// Loaded on first use: only check and next describe expressions, and `run` should not pay for loading it.
let cronstrue: typeof import("cronstrue").default | undefined;
const loadCronstrue = () => {
  cronstrue ??= createRequire(import.meta.url)("cronstrue") as typeof import("cronstrue").default;
  return cronstrue;
};

const DAY_MS = 86_400_000;
/** A job firing more often than this within a repeated interval shows its doubling on the first of them. */
const MAX_FIRES_PER_TRANSITION = 100;

/**
 * What a cron job's expression means, in words and in its zone: `at 02:30, Monday through Friday
 * (Europe/Berlin)`, followed by the DST note when, within a year of `fromMs`, cronie's policy moves, drops or
 * doubles one of its fires. `H` is shown resolved for the job, as it runs.
 */
export function cronInWords(
  expression: string,
  options: { zone: string; hashSeed: string; fromMs: number },
): string {
  const recurrence = CronSchedule.parse(expression, { zone: options.zone, hashSeed: options.hashSeed });
  return new CronDescriber(options.fromMs).describe(recurrence);
}

/**
 * Puts the cron recurrences of one schedule into words (see cronInWords), as of `fromMs`. Files repeat
 * expressions, and the words and the DST scan depend only on the fields and the zone: each is worked out
 * once per describer.
 */
export class CronDescriber {
  /** Words by fields (the zone is only named after them). */
  private readonly words = new Map<string, string>();
  /** DST notes by zone and fields. */
  private readonly notes = new Map<string, string | undefined>();

  constructor(private readonly fromMs: number) {}

  describe(recurrence: CronSchedule): string {
    const fields = recurrence.describableFields().join(" ");
    let words = this.words.get(fields);
    if (words === undefined) {
      const text = loadCronstrue().toString(fields, {
        use24HourTimeFormat: true,
        throwExceptionOnParseError: false,
        dayOfWeekStartIndexZero: true,
      });
      words = `${text.charAt(0).toLowerCase()}${text.slice(1)}`;
      this.words.set(fields, words);
    }
    const key = `${recurrence.zone}\n${fields}`;
    if (!this.notes.has(key)) this.notes.set(key, dstNote(recurrence, this.fromMs));
    const note = this.notes.get(key);
    return `${words} (${recurrence.zone})${note ? `; ${note}` : ""}`;
  }
}

/** The DST policy's effect on this job over the coming year, or undefined when it changes nothing. */
function dstNote(schedule: CronSchedule, fromMs: number): string | undefined {
  const effects = new Set<"moved" | "dropped" | "second-pass">();
  for (const transitionMs of transitionsBetween(schedule.zone, fromMs, fromMs + 366 * DAY_MS)) {
    const shiftMs = Math.abs(
      zoneOffsetMs(schedule.zone, transitionMs) - zoneOffsetMs(schedule.zone, transitionMs - 1),
    );
    // The first fire after the transition carries what a gap moved or dropped; the fires up to the end of a
    // repeated interval (and the one after it) carry what a fall-back doubled or dropped.
    let afterMs = transitionMs - 1;
    for (let i = 0; i < MAX_FIRES_PER_TRANSITION; i++) {
      const fire = schedule.nextAfter(afterMs);
      if (!fire) break;
      if (fire.dst) effects.add(fire.dst);
      if (fire.dropped) effects.add("dropped");
      if (fire.timeMs > transitionMs + shiftMs) break;
      afterMs = fire.timeMs;
    }
  }
  const notes: string[] = [];
  if (effects.has("moved")) notes.push("at the jump when skipped");
  if (effects.has("dropped"))
    notes.push(schedule.fixedTime ? "once when repeated" : "skipped times are lost");
  if (effects.has("second-pass")) notes.push("repeated times run twice");
  return notes.length > 0 ? `DST: ${notes.join(", ")}` : undefined;
}
