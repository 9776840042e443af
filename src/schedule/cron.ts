// Cron expressions: validation with user-facing messages, and the next fire time in a job's zone
// under cronie's daylight-saving rules. The only module that imports cron-parser.
//
// cron-parser runs in tz "UTC" as a pure wall-clock calculator (its own zone path has DST defects,
// see reference/cron.md §3b); this module maps each wall-clock match to real instants in the job's
// zone and applies the DST policy of design/schedule-format.md.

import { type CronExpression, CronExpressionParser } from "cron-parser";
import { HintedError } from "../errors.js";
import {
  formatWallTime,
  gapEndInstant,
  instantsOfWallTime,
  isValidZone,
  suggestZone,
  zoneOffsetMs,
} from "./zone.js";

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Largest offset change considered around an instant (bigger than any DST shift in use). */
const MAX_SHIFT_MS = 3 * HOUR_MS;
/** How far ahead nextAfter looks. Day and weekday patterns repeat within 28 years (1901–2099). */
const HORIZON_MS = 30 * 366 * DAY_MS;
/** Where the "can this ever fire?" check starts, on the wall-clock timeline (2001-01-01T00:00). */
const NEVER_CHECK_FROM_MS = Date.UTC(2001, 0, 1);

/** Parsed schedules by zone, seed and expression: validation, warnings and arming each parse the same one. */
const parsedSchedules = new Map<string, CronSchedule>();
const PARSE_CACHE_SIZE = 20_000;

/** A cron expression that cannot be used. The message says what is wrong; `hint` how to fix it. */
export class CronSyntaxError extends HintedError {
  override name = "CronSyntaxError";
}

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

const FIELD_NAMES = ["second", "minute", "hour", "day-of-month", "month", "day-of-week"] as const;
type FieldName = (typeof FIELD_NAMES)[number];

const FIELD_SHAPE = "expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first";

const NICKNAMES: Readonly<Record<string, string>> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

const DAY_NAMES = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
const MONTH_NAMES = [
  "january",
  "february",
  "march",
  "april",
  "may",
  "june",
  "july",
  "august",
  "september",
  "october",
  "november",
  "december",
];
const MONTH_TITLES = MONTH_NAMES.map((name) => name[0]!.toUpperCase() + name.slice(1));
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const FIELD_RANGES: Readonly<Record<FieldName, readonly [number, number]>> = {
  second: [0, 59],
  minute: [0, 59],
  hour: [0, 23],
  "day-of-month": [1, 31],
  month: [1, 12],
  "day-of-week": [0, 7],
};

const ALLOWED: Readonly<Record<FieldName, string>> = {
  second: "digits and , - * / H",
  minute: "digits and , - * / H",
  hour: "digits and , - * / H",
  "day-of-month": "digits, L and , - * / H",
  month: "digits, JAN–DEC and , - * / H",
  "day-of-week": "digits, SUN–SAT, L, # and , - * / H",
};

function isStar(field: string): boolean {
  return field === "*" || field === "?";
}

function startsWithStar(field: string): boolean {
  return field.startsWith("*") || field.startsWith("?");
}

function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${["th", "st", "nd", "rd"][n % 10] ?? "th"}`;
}

function listWords(words: readonly string[], conjunction: string): string {
  if (words.length <= 1) return words.join("");
  return `${words.slice(0, -1).join(", ")} ${conjunction} ${words[words.length - 1]}`;
}

/** Checks cron-parser would not make (or would make with a poor message), per field. */
function precheckField(name: FieldName, raw: string): void {
  // cron-parser hashes H(a-b) into a-b without checking the range against the field: a value out of it
  // would pass here and fail at the first run.
  for (const [, from, to] of raw.matchAll(/H\((\d+)-(\d+)\)/gi)) {
    const [min, max] = FIELD_RANGES[name];
    if (Number(from) < min || Number(to) > max) {
      throw new CronSyntaxError(
        `${name} "${raw}": the range ${from}-${to} of H is out of range ${min}–${max}`,
        `keep H's range inside ${min}–${max}`,
      );
    }
  }
  if (raw.includes("@")) {
    throw new CronSyntaxError(
      `${name} "${raw}": a nickname such as @daily must be the whole expression`,
      'write "@daily" alone, or use 5 fields',
    );
  }
  if (name === "day-of-month") {
    if (/w/i.test(raw)) {
      throw new CronSyntaxError(
        `day-of-month "${raw}" uses W (nearest weekday), which tdefer does not support`,
        "list the days you want, or combine a day-of-month range with a day-of-week such as 1-5",
      );
    }
    if (/L-\d/i.test(raw)) {
      throw new CronSyntaxError(
        `day-of-month "${raw}" uses L-n (n days before the last day), which tdefer does not support`,
        "use L for the last day of the month, or list the days",
      );
    }
  }
  if (name === "month" || name === "day-of-week") {
    const names = name === "month" ? MONTH_NAMES : DAY_NAMES;
    const example = name === "month" ? "JAN–DEC or 1–12" : "SUN–SAT or 0–7 (0 and 7 are Sunday)";
    for (const word of raw.match(/[a-z]+/gi) ?? []) {
      const lower = word.toLowerCase();
      if (lower === "h" || (name === "day-of-week" && lower === "l")) continue;
      if (lower.length === 3 && names.some((full) => full.startsWith(lower))) continue;
      const full = names.find((candidate) => lower.length > 3 && candidate.startsWith(lower.slice(0, 3)));
      if (full?.startsWith(lower)) {
        throw new CronSyntaxError(
          `${name} "${word}": use the three-letter name ${lower.slice(0, 3).toUpperCase()}`,
          `names are three letters: ${example}`,
        );
      }
      throw new CronSyntaxError(
        `${name} "${word}" is not a ${name === "month" ? "month" : "day"} name`,
        `use ${example}`,
      );
    }
  }
}

/** cron-parser's message for one field, rewritten for a user. */
function translateFieldError(name: FieldName, raw: string, message: string): CronSyntaxError {
  const [min, max] = FIELD_RANGES[name];
  const range = `${min}–${max}`;
  const rangeHint =
    name === "day-of-week" ? "days of the week are 0–7 (0 and 7 are Sunday) or SUN–SAT" : `use ${range}`;
  let m = /^Constraint error, got value (\S+) expected range/.exec(message);
  if (m) return new CronSyntaxError(`${name} ${m[1]} is out of range ${range}`, rangeHint);
  m = /^Constraint error, got range (\S+)-(\S+) expected range/.exec(message);
  if (m) {
    if (m[1] === "NaN" || m[2] === "NaN") {
      return new CronSyntaxError(
        `${name} "${raw}" has a range with a missing or non-numeric end`,
        "write ranges as a-b, e.g. 1-5",
      );
    }
    return new CronSyntaxError(`${name} range ${m[1]}-${m[2]} is out of range ${range}`, rangeHint);
  }
  m = /^Invalid range: (\d+)-(\d+), min/.exec(message);
  if (m) {
    const hint =
      name === "day-of-week" && m[2] === "0"
        ? `write ${m[1]}-7 (7 is Sunday)`
        : "write the smaller number first; to wrap around, use a list such as 22-23,0-2";
    return new CronSyntaxError(`${name} range ${m[1]}-${m[2]} goes backwards`, hint);
  }
  if (message.startsWith("Invalid range:")) {
    return new CronSyntaxError(`${name} "${raw}" is not a valid range`, "write ranges as a-b or a-b/step");
  }
  if (message.startsWith("Invalid characters")) {
    return new CronSyntaxError(
      `${name} "${raw}" contains characters that are not allowed`,
      `allowed: ${ALLOWED[name]}`,
    );
  }
  if (message.startsWith("Invalid wildcard")) {
    return new CronSyntaxError(
      `${name} "${raw}": * must stand alone or be followed by a step`,
      "e.g. * or */5",
    );
  }
  if (message.startsWith("Constraint error, cannot repeat") || message.startsWith("Invalid step")) {
    return new CronSyntaxError(
      `${name} "${raw}": the step after / must be a positive whole number`,
      "e.g. */5",
    );
  }
  if (message.startsWith("Invalid repeat")) {
    return new CronSyntaxError(
      `${name} "${raw}" has more than one /`,
      "write a range and one step, e.g. 0-30/5",
    );
  }
  if (message.startsWith("Invalid list value format")) {
    return new CronSyntaxError(
      `${name} "${raw}" has an empty item in its list`,
      "separate values with single commas: 1,15",
    );
  }
  if (message.includes("special characters are incompatible")) {
    return new CronSyntaxError(
      `day-of-week "${raw}": # (the n-th weekday of the month) cannot be combined with lists, ranges, steps or L`,
      "use one term such as 1#2 (the second Monday)",
    );
  }
  if (message.includes("occurrence number (#)")) {
    return new CronSyntaxError(
      `day-of-week "${raw}": the number after # must be 1–5`,
      "e.g. 5#3 is the third Friday",
    );
  }
  if (message.includes("unexpected standalone L")) {
    return new CronSyntaxError(
      `day-of-week "${raw}": L needs a weekday before it`,
      "e.g. 5L is the last Friday of the month; for the last day of the month put L in day-of-month",
    );
  }
  if (name === "day-of-month" && /L/i.test(raw) && message.includes("Validation error")) {
    return new CronSyntaxError(
      `day-of-month "${raw}": L (the last day) must stand alone`,
      "e.g. L or 1,15,L",
    );
  }
  if (message.includes("too many values")) {
    return new CronSyntaxError(
      `${name} "${raw}" has too many values`,
      "use a range or a step instead of a long list",
    );
  }
  return new CronSyntaxError(`${name} "${raw}" is not valid (${message})`);
}

/** Explains cron-parser's "Invalid explicit day of month definition" for these fields. */
function neverFiresForMissingDay(
  dayOfMonth: string,
  month: string,
  monthValues: readonly number[],
): CronSyntaxError {
  const days = [...new Set((dayOfMonth.match(/\d+/g) ?? []).map(Number))].sort((a, b) => a - b);
  const months = isStar(month) ? [] : monthValues.map((value) => MONTH_TITLES[value - 1]!);
  const dayWords = listWords(days.map(ordinal), "or");
  const message =
    months.length > 0 && days.length > 0
      ? `never fires: ${listWords(months, "and")} ${months.length === 1 ? "has" : "have"} no ${dayWords}`
      : "never fires: no matching date found";
  return new CronSyntaxError(message, "check the day-of-month and month fields");
}

function parseRaw(six: readonly string[], hashSeed: string): CronExpression {
  return CronExpressionParser.parse(six.join(" "), {
    tz: "UTC",
    currentDate: new Date(NEVER_CHECK_FROM_MS),
    hashSeed,
    strict: false,
  });
}

/** Parses the six fields with cron-parser, turning its errors into CronSyntaxErrors that name the field. */
function parseChecked(six: readonly string[], hashSeed: string): CronExpression {
  try {
    return parseRaw(six, hashSeed);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // Find the field at fault by parsing each one alone.
    for (let i = 0; i < 6; i++) {
      const probe = ["0", "*", "*", "*", "*", "*"];
      probe[i] = six[i]!;
      try {
        parseRaw(probe, hashSeed);
      } catch (fieldError) {
        const fieldMessage = fieldError instanceof Error ? fieldError.message : String(fieldError);
        throw translateFieldError(FIELD_NAMES[i]!, six[i]!, fieldMessage);
      }
    }
    if (message.startsWith("Invalid explicit day of month definition")) {
      const months = parseRaw(["0", "0", "0", "*", six[4]!, "*"], hashSeed).fields.month.values.map(Number);
      throw neverFiresForMissingDay(six[3]!, six[4]!, months);
    }
    throw new CronSyntaxError(`"${six.join(" ")}" is not valid (${message})`);
  }
}

function stepWarnings(six: readonly string[]): string[] {
  const warnings: string[] = [];
  six.forEach((raw, i) => {
    const name = FIELD_NAMES[i]!;
    const [min, max] = FIELD_RANGES[name];
    for (const term of raw.split(",")) {
      const m = /^(?:[*?]|(\d+)-(\d+))\/(\d+)$/.exec(term);
      if (!m) continue;
      const low = m[1] === undefined ? min : Number(m[1]);
      const high = m[2] === undefined ? (name === "day-of-week" ? 6 : max) : Number(m[2]);
      const step = Number(m[3]);
      if (step > high - low && high > low) {
        warnings.push(
          `${name} "${term}": the step ${step} is wider than ${low}–${high}, so it means only ${low}`,
        );
      }
    }
  });
  return warnings;
}

/** For each v in 0..size, the smallest value ≥ v in `values`, or -1 (index size + 1 is always -1). */
function atOrAfterTable(values: readonly (number | string)[], size: number): Int8Array {
  const sorted = values.map(Number).sort((a, b) => a - b);
  const table = new Int8Array(size + 2).fill(-1);
  for (let v = 0; v <= size; v++) table[v] = sorted.find((candidate) => candidate >= v) ?? -1;
  return table;
}

/** How the two day fields combine (Vixie cron / cronie). */
type DayRule = "any" | "day-of-month" | "day-of-week" | "both" | "either";

function dayRuleOf(dayOfMonth: string, dayOfWeek: string): DayRule {
  if (isStar(dayOfMonth) && isStar(dayOfWeek)) return "any";
  if (isStar(dayOfMonth)) return "day-of-week";
  if (isStar(dayOfWeek)) return "day-of-month";
  // cronie sets DOM_STAR/DOW_STAR when a field starts with `*`; then a day must match both fields.
  return startsWithStar(dayOfMonth) || startsWithStar(dayOfWeek) ? "both" : "either";
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * The expression's matches on the wall-clock timeline (UTC-coded ms, no DST on it). cron-parser
 * expands every field (ranges, steps, names, H, L, nL, n#k); the calendar walk over those values is
 * done here with plain integer arithmetic, because cron-parser's own iteration costs tens of µs per
 * step (luxon) and steps day by day. test/schedule/cron-parser-pinned.test.ts checks that both walks agree.
 */
class WallClock {
  private readonly months: boolean[] = new Array(13).fill(false);
  private readonly daysOfMonth: boolean[] = new Array(32).fill(false);
  private readonly lastDayOfMonth: boolean;
  private readonly daysOfWeek: boolean[] = new Array(7).fill(false);
  /** Weekdays with an `nL` term: the last such weekday of the month. */
  private readonly lastDaysOfWeek: boolean[] = new Array(7).fill(false);
  /** The k of `n#k`, or 0. */
  private readonly nthWeek: number;
  private readonly hours: Int8Array;
  private readonly minutes: Int8Array;
  private readonly seconds: Int8Array;

  constructor(
    private readonly expression: CronExpression,
    private readonly dayRule: DayRule,
  ) {
    const { second, minute, hour, dayOfMonth, month, dayOfWeek } = expression.fields;
    for (const value of month.values) this.months[Number(value)] = true;
    for (const value of dayOfMonth.values) if (typeof value === "number") this.daysOfMonth[value] = true;
    this.lastDayOfMonth = dayOfMonth.values.some((value) => value === "L");
    for (const value of dayOfWeek.values) {
      if (typeof value === "number") {
        if (value < 7) this.daysOfWeek[value] = true;
      } else if (/^\dL$/.test(value)) {
        this.lastDaysOfWeek[Number(value[0]) % 7] = true;
      }
    }
    this.nthWeek = dayOfWeek.nthDay;
    this.hours = atOrAfterTable(hour.values, 23);
    this.minutes = atOrAfterTable(minute.values, 59);
    this.seconds = atOrAfterTable(second.values, 59);
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

  /** The six fields with everything resolved to values (`H` included), as cron-parser writes them. */
  resolvedFields(): string[] {
    return this.expression.fields.stringify(true).split(" ");
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
  private readonly wallClock: WallClock;

  private constructor(
    expression: string,
    zone: string,
    six: readonly string[],
    wallClock: WallClock,
    warnings: string[],
  ) {
    this.expression = expression;
    this.zone = zone;
    this.fields = six;
    this.fixedTime = !startsWithStar(six[1]!) && !startsWithStar(six[2]!);
    this.wallClock = wallClock;
    this.warnings = warnings;
  }

  /**
   * The five or six fields for describing the expression (seconds left out when 0): as written, except that
   * a field using `H` shows the values it stands for in this job.
   */
  describableFields(): string[] {
    const resolved = this.wallClock.resolvedFields();
    const fields = this.fields.map((field, i) => (/(^|,)H/i.test(field) ? resolved[i]! : field));
    return fields[0] === "0" ? fields.slice(1) : fields;
  }

  /** Parses and validates `expression` for `zone`. `hashSeed` (the job's name) fixes what `H` means. Throws CronSyntaxError. */
  static parse(expression: string, options: { zone: string; hashSeed: string }): CronSchedule {
    // The seed matters only to H fields; without one, jobs sharing an expression share the parse.
    const key = `${options.zone}\n${/h/i.test(expression) ? options.hashSeed : ""}\n${expression}`;
    let schedule = parsedSchedules.get(key);
    if (!schedule) {
      if (parsedSchedules.size >= PARSE_CACHE_SIZE) parsedSchedules.clear();
      schedule = CronSchedule.parseUncached(expression, options);
      parsedSchedules.set(key, schedule);
    }
    return schedule;
  }

  private static parseUncached(
    expression: string,
    options: { zone: string; hashSeed: string },
  ): CronSchedule {
    const { zone, hashSeed } = options;
    if (!isValidZone(zone)) {
      const suggestion = suggestZone(zone);
      throw new CronSyntaxError(
        `unknown time zone "${zone}"`,
        suggestion ? `did you mean "${suggestion}"?` : "use an IANA name such as Europe/Berlin or UTC",
      );
    }
    const six = splitFields(expression);
    six.forEach((raw, i) => {
      precheckField(FIELD_NAMES[i]!, raw);
    });
    const full = parseChecked(six, hashSeed);

    const dayRule = dayRuleOf(six[3]!, six[5]!);
    if (dayRule === "both") {
      // A day must match both fields, so a day of month that no listed month has can never fire;
      // cron-parser only notices (and says so) when day-of-week is `*`.
      parseChecked([...six.slice(0, 5), "*"], hashSeed);
    }
    const wallClock = new WallClock(full, dayRule);
    if (wallClock.nextAfter(NEVER_CHECK_FROM_MS, NEVER_CHECK_FROM_MS + HORIZON_MS) === undefined) {
      throw new CronSyntaxError(
        "never fires: no matching date found",
        dayRule === "both"
          ? "a day field starts with *, so a day must match both day-of-month and day-of-week (Vixie cron's rule)"
          : "check the day-of-month, month and day-of-week fields",
      );
    }
    return new CronSchedule(expression, zone, six, wallClock, stepWarnings(six));
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

    let wall = this.wallClock.nextAfter(startWall, limitWall);
    while (wall !== undefined && wall < stopWall) {
      visit(wall);
      wall = this.wallClock.nextAfter(wall, limitWall);
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

/** The expression's six fields (seconds first), nicknames expanded; throws for a wrong shape. */
function splitFields(expression: string): string[] {
  const text = expression.trim();
  if (text === "") {
    throw new CronSyntaxError(
      `the cron expression is empty; ${FIELD_SHAPE}`,
      'e.g. "0 3 * * *" for 03:00 every day',
    );
  }
  if (text.startsWith("@")) {
    const [nickname, ...rest] = text.split(/\s+/);
    const lower = nickname!.toLowerCase();
    if (lower === "@reboot") {
      throw new CronSyntaxError(
        "@reboot is not supported: a cron job needs a time schedule",
        "to run once when tdefer starts, use the `after` trigger instead, e.g. `after: 1s`",
      );
    }
    if (lower === "@every") {
      // supercronic's and robfig's interval syntax; tdefer has a trigger of its own for it.
      const interval = rest.join(" ") || "30s";
      throw new CronSyntaxError(
        "@every is not a cron nickname in tdefer: intervals have their own trigger",
        `replace the \`cron:\` line with \`every: ${interval}\``,
      );
    }
    const expansion = NICKNAMES[lower];
    if (expansion === undefined) {
      throw new CronSyntaxError(
        `unknown nickname "${nickname}"`,
        `use one of ${Object.keys(NICKNAMES).join(", ")}, or write the 5 fields`,
      );
    }
    if (rest.length > 0) {
      throw new CronSyntaxError(`"${text}": a nickname such as ${nickname} must be the whole expression`);
    }
    return ["0", ...expansion.split(" ")];
  }
  const fields = text.split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    throw new CronSyntaxError(
      `${FIELD_SHAPE}; got ${fields.length}`,
      fields.length > 6
        ? "a year field is not supported; remove it"
        : 'e.g. "*/15 * * * *" for every 15 minutes, "0 3 * * *" for 03:00 every day',
    );
  }
  return fields.length === 6 ? fields : ["0", ...fields];
}
