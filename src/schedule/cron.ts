// Cron recurrences: a parsed expression bound to a zone, and the next fire after an instant under
// cronie's daylight-saving rules (design/schedule-format.md). The fields are parsed in cron-fields.ts and
// matched on the wall clock in cron-calendar.ts; this module maps each wall-clock match to real instants in
// the job's zone and applies the DST policy.

import { CronCalendar } from "./cron-calendar.js";
import { type CronFields, CronSyntaxError, parseCronFields } from "./cron-fields.js";
import type { CronTrigger } from "./types.js";
import {
  formatWallTime,
  gapEndInstant,
  instantsOfWallTime,
  isValidZone,
  suggestZone,
  zoneOffsetMs,
} from "./zone.js";

export { CronSyntaxError } from "./cron-fields.js";

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Largest offset change considered around an instant (bigger than any DST shift in use). */
const MAX_SHIFT_MS = 3 * HOUR_MS;
/** How far ahead nextAfter looks. Day and weekday patterns repeat within 28 years (1901–2099). */
const HORIZON_MS = 30 * 366 * DAY_MS;
/** Where the "can this ever fire?" check starts, on the wall-clock timeline (2001-01-01T00:00). */
const NEVER_CHECK_FROM_MS = Date.UTC(2001, 0, 1);

/** One fire of a cron job. */
export interface CronFire {
  /** The real instant (epoch ms). */
  readonly timeMs: number;
  /**
   * "moved": a fixed-time job's wall time fell in a spring-forward gap and runs at the jump (also set
   * when such a moved run coincides with a regular one, which then stand for both);
   * "second-pass": a wildcard job's run in the repeated interval of a fall-back.
   */
  readonly dst?: "moved" | "second-pass";
  /**
   * Wall times (ISO local, "2026-03-08T02:15") that a DST rule dropped after the `after` instant and
   * up to this fire: a wildcard job's gap times, a fixed-time job's second-pass times.
   */
  readonly dropped?: readonly string[];
}

/**
 * A job's cron trigger carrying its parsed recurrence. `recurrence` is not enumerable: the trigger stays
 * plain data (expression and zone; the job's name fixes H) for JSON, comparison and the reload diff.
 */
export function cronTrigger(expression: string, recurrence: CronSchedule): CronTrigger {
  const trigger = { kind: "cron" as const, expression, zone: recurrence.zone };
  return Object.defineProperty(trigger, "recurrence", {
    value: recurrence,
    enumerable: false,
  }) as CronTrigger;
}

/**
 * A parsed cron expression bound to a zone. Fires follow cronie's DST rules in that zone:
 * a fixed-time job (neither minute nor hour starts with `*`) whose wall time falls in a
 * spring-forward gap runs once at the jump, and runs only in the first pass of a fall-back;
 * a wildcard job loses its gap times and runs in both passes.
 */
export class CronSchedule {
  readonly expression: string;
  readonly zone: string;
  /** cronie's rule: neither the minute nor the hour field starts with `*`; @hourly is wildcard, other @names fixed. */
  readonly fixedTime: boolean;
  /** The six fields used (seconds first; nicknames expanded). */
  readonly fields: readonly string[];
  /** Things that are legal but probably not meant, e.g. a step wider than its field. */
  readonly warnings: readonly string[];
  private readonly describable: readonly string[];
  private readonly calendar: CronCalendar;

  private constructor(expression: string, zone: string, fields: CronFields, calendar: CronCalendar) {
    this.expression = expression;
    this.zone = zone;
    this.fields = fields.raw;
    this.fixedTime = fields.fixedTime;
    this.warnings = fields.warnings;
    this.describable = fields.describable;
    this.calendar = calendar;
  }

  /**
   * The five or six fields for describing the expression (seconds left out when 0): as written, except that
   * a field using `H` shows the values it stands for in this job.
   */
  describableFields(): string[] {
    const fields = this.describable;
    return fields[0] === "0" ? fields.slice(1) : [...fields];
  }

  /** Parses and validates `expression` for `zone`. `hashSeed` (the job's name) fixes what `H` means. Throws CronSyntaxError. */
  static parse(expression: string, options: { zone: string; hashSeed: string }): CronSchedule {
    const { zone, hashSeed } = options;
    if (!isValidZone(zone)) {
      const suggestion = suggestZone(zone);
      throw new CronSyntaxError(
        `unknown time zone "${zone}"`,
        suggestion ? `did you mean "${suggestion}"?` : "use an IANA name such as Europe/Berlin or UTC",
      );
    }
    const fields = parseCronFields(expression, hashSeed);
    const calendar = new CronCalendar(fields);
    if (calendar.nextAfter(NEVER_CHECK_FROM_MS, NEVER_CHECK_FROM_MS + HORIZON_MS) === undefined) {
      throw new CronSyntaxError(
        "never fires: no matching date found",
        fields.dayRule === "both"
          ? "a day field starts with *, so a day must match both day-of-month and day-of-week (Vixie cron's rule)"
          : "check the day-of-month, month and day-of-week fields",
      );
    }
    return new CronSchedule(expression, zone, fields, calendar);
  }

  /**
   * The first fire strictly after `afterMs`, or undefined if there is none within about 30 years.
   * Results for increasing `afterMs` are strictly increasing and never repeat an instant.
   */
  nextAfter(afterMs: number): CronFire | undefined {
    const zone = this.zone;
    const startWall =
      afterMs + Math.min(zoneOffsetMs(zone, afterMs), zoneOffsetMs(zone, afterMs + MAX_SHIFT_MS));
    const limitWall = startWall + HORIZON_MS;
    let best: number | undefined;
    let bestDst: CronFire["dst"];
    let stopWall = Number.POSITIVE_INFINITY;
    const dropped: { timeMs: number; wallMs: number }[] = [];

    const consider = (timeMs: number, dst: CronFire["dst"]): void => {
      if (timeMs <= afterMs) return;
      if (best === undefined || timeMs < best) {
        best = timeMs;
        bestDst = dst;
        // A later wall time can only map to an instant before `best` if an offset around `best` exceeds its own.
        stopWall = best + Math.max(zoneOffsetMs(zone, best), zoneOffsetMs(zone, best - MAX_SHIFT_MS));
      } else if (timeMs === best && dst === "moved") {
        bestDst = "moved";
      }
    };

    const visit = (wall: number): void => {
      const instants = instantsOfWallTime(zone, wall);
      if (instants.length === 0) {
        const jumpMs = gapEndInstant(zone, wall);
        if (this.fixedTime) consider(jumpMs, "moved");
        else if (jumpMs > afterMs) dropped.push({ timeMs: jumpMs, wallMs: wall });
        return;
      }
      consider(instants[0]!, undefined);
      for (const later of instants.slice(1)) {
        if (!this.fixedTime) consider(later, "second-pass");
        else if (later > afterMs) dropped.push({ timeMs: later, wallMs: wall });
      }
    };

    let wall = this.calendar.nextAfter(startWall, limitWall);
    while (wall !== undefined && wall < stopWall) {
      visit(wall);
      wall = this.calendar.nextAfter(wall, limitWall);
    }
    if (best === undefined) return undefined;
    const fireMs = best;
    const droppedWalls = [
      ...new Set(
        dropped
          .filter((drop) => drop.timeMs <= fireMs)
          .sort((a, b) => a.wallMs - b.wallMs)
          .map((drop) => formatWallTime(drop.wallMs)),
      ),
    ];
    return {
      timeMs: fireMs,
      ...(bestDst !== undefined ? { dst: bestDst } : {}),
      ...(droppedWalls.length > 0 ? { dropped: droppedWalls } : {}),
    };
  }
}
