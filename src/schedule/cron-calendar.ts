// The matching half of cron: the first wall-clock time after another that an expression's fields match, on
// the wall-clock timeline (UTC-coded ms, no DST on it). Plain integer arithmetic over the expanded fields,
// skipping whole months and days that cannot match.

import { type CronFields, DAYS_IN_MONTH, type DayRule } from "./cron-fields.js";

const DAY_MS = 86_400_000;

/** For each v in 0..size, the smallest value ≥ v in `values`, or -1 (index size + 1 is always -1). */
function atOrAfterTable(values: readonly number[], size: number): Int8Array {
  const sorted = [...values].sort((a, b) => a - b);
  const table = new Int8Array(size + 2).fill(-1);
  let next = sorted.length - 1;
  for (let v = size; v >= 0; v--) {
    while (next >= 0 && sorted[next]! >= v) next--;
    table[v] = next + 1 < sorted.length ? sorted[next + 1]! : -1;
  }
  return table;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** The times of day and the days an expression matches, as lookup tables. */
export class CronCalendar {
  private readonly months: boolean[] = new Array(13).fill(false);
  private readonly daysOfMonth: boolean[] = new Array(32).fill(false);
  private readonly lastDayOfMonth: boolean;
  private readonly daysOfWeek: boolean[] = new Array(7).fill(false);
  private readonly lastDaysOfWeek: boolean[] = new Array(7).fill(false);
  private readonly nthWeek: number;
  private readonly dayRule: DayRule;
  private readonly hours: Int8Array;
  private readonly minutes: Int8Array;
  private readonly seconds: Int8Array;

  constructor(fields: CronFields) {
    for (const month of fields.months) this.months[month] = true;
    for (const day of fields.daysOfMonth) this.daysOfMonth[day] = true;
    this.lastDayOfMonth = fields.lastDayOfMonth;
    for (const weekday of fields.daysOfWeek) this.daysOfWeek[weekday] = true;
    for (const weekday of fields.lastDaysOfWeek) this.lastDaysOfWeek[weekday] = true;
    this.nthWeek = fields.nthWeek;
    this.dayRule = fields.dayRule;
    this.hours = atOrAfterTable(fields.hours, 23);
    this.minutes = atOrAfterTable(fields.minutes, 59);
    this.seconds = atOrAfterTable(fields.seconds, 59);
  }

  private dayMatches(year: number, month: number, day: number, weekday: number): boolean {
    if (this.dayRule === "any") return true;
    const daysInMonth = month === 2 && !isLeapYear(year) ? 28 : DAYS_IN_MONTH[month - 1]!;
    const byDayOfMonth = this.daysOfMonth[day]! || (this.lastDayOfMonth && day === daysInMonth);
    const byDayOfWeek =
      (this.daysOfWeek[weekday]! && (this.nthWeek <= 0 || Math.ceil(day / 7) === this.nthWeek)) ||
      (this.lastDaysOfWeek[weekday]! && day + 7 > daysInMonth);
    switch (this.dayRule) {
      case "day-of-month":
        return byDayOfMonth;
      case "day-of-week":
        return byDayOfWeek;
      case "both":
        return byDayOfMonth && byDayOfWeek;
      default:
        return byDayOfMonth || byDayOfWeek;
    }
  }

  /** The first matching time of day (ms) at or after h:m:s, or -1. */
  private timeAtOrAfter(hour: number, minute: number, second: number): number {
    const { hours, minutes, seconds } = this;
    if (hours[hour] === hour) {
      if (minutes[minute] === minute) {
        const s = seconds[second]!;
        if (s >= 0) return ((hour * 60 + minute) * 60 + s) * 1000;
      }
      const m = minutes[minute + 1]!;
      if (m >= 0) return ((hour * 60 + m) * 60 + seconds[0]!) * 1000;
    }
    const h = hours[hour + 1]!;
    if (h >= 0) return ((h * 60 + minutes[0]!) * 60 + seconds[0]!) * 1000;
    return -1;
  }

  /** The first match strictly after `wallMs`, or undefined if there is none up to `limitWallMs`. */
  nextAfter(wallMs: number, limitWallMs: number): number | undefined {
    const startMs = Math.floor(wallMs / 1000) * 1000 + 1000;
    let dayIndex = Math.floor(startMs / DAY_MS);
    let timeOfDaySeconds = (startMs - dayIndex * DAY_MS) / 1000;
    const lastDayIndex = Math.floor(limitWallMs / DAY_MS);
    while (dayIndex <= lastDayIndex) {
      const date = new Date(dayIndex * DAY_MS);
      const year = date.getUTCFullYear();
      const month = date.getUTCMonth() + 1;
      if (!this.months[month]) {
        dayIndex = Date.UTC(year, month, 1) / DAY_MS;
        timeOfDaySeconds = 0;
        continue;
      }
      if (this.dayMatches(year, month, date.getUTCDate(), date.getUTCDay())) {
        const hour = Math.floor(timeOfDaySeconds / 3600);
        const minute = Math.floor(timeOfDaySeconds / 60) % 60;
        const timeMs = this.timeAtOrAfter(hour, minute, timeOfDaySeconds % 60);
        if (timeMs >= 0) {
          const found = dayIndex * DAY_MS + timeMs;
          return found <= limitWallMs ? found : undefined;
        }
      }
      dayIndex++;
      timeOfDaySeconds = 0;
    }
    return undefined;
  }
}
