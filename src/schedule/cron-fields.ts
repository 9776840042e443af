// Cron fields: an expression's text → the values each field stands for, or a CronSyntaxError that names
// the field, says what is wrong and how to fix it. The grammar is cron-parser 5's (which tdefer used
// before, so that expressions and `H` mean what they meant): lists, ranges, steps (`a/n` is `a-max/n`),
// `*` and `?`, month and weekday names, `L` and `nL`, `n#k`, and `H` hashed from the job's name.

import { HintedError } from "../errors.js";

/** A cron expression that cannot be used. The message says what is wrong; `hint` how to fix it. */
export class CronSyntaxError extends HintedError {
  override name = "CronSyntaxError";
}

const FIELD_NAMES = ["second", "minute", "hour", "day-of-month", "month", "day-of-week"] as const;
type FieldName = (typeof FIELD_NAMES)[number];
const SECOND = 0;
const MINUTE = 1;
const HOUR = 2;
const DAY_OF_MONTH = 3;
const MONTH = 4;
const DAY_OF_WEEK = 5;

const FIELD_SHAPE = "expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first";
/** Listing every value of every field takes about half of this: anything longer is not meant. */
const MAX_EXPRESSION_LENGTH = 1024;
/** More values than any field holds: a list this long repeats itself. */
const MAX_FIELD_VALUES = 256;

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
/** Days in each month of a leap year: what a day-of-month can reach at all. */
export const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const FIELD_RANGES: readonly (readonly [number, number])[] = [
  [0, 59],
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 7],
];

const ALLOWED: readonly string[] = [
  "digits and , - * / H",
  "digits and , - * / H",
  "digits and , - * / H",
  "digits, L and , - * / H",
  "digits, JAN–DEC and , - * / H",
  "digits, SUN–SAT, L, # and , - * / H",
];

const PLAIN_CHARS = /^(?:[?,*\dH/-]|H\(\d+-\d+\))+$/;
const VALID_CHARS: readonly RegExp[] = [
  PLAIN_CHARS,
  PLAIN_CHARS,
  PLAIN_CHARS,
  /^(?:[?,*\dLH/-]|H\(\d+-\d+\))+$/,
  PLAIN_CHARS,
  /^(?:[?,*\dLH#/-]|H\(\d+-\d+\))+$/,
];

/** How the two day fields combine (Vixie cron / cronie). */
export type DayRule = "any" | "day-of-month" | "day-of-week" | "both" | "either";

/** What an expression's fields stand for, resolved for one job (`H` included). */
export interface CronFields {
  /** The six fields as written (seconds first; nicknames expanded). */
  readonly raw: readonly string[];
  readonly seconds: readonly number[];
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  /** 1–12. */
  readonly months: readonly number[];
  /** 1–31. */
  readonly daysOfMonth: readonly number[];
  /** `L` in day-of-month: the month's last day. */
  readonly lastDayOfMonth: boolean;
  /** 0–6, Sunday 0. */
  readonly daysOfWeek: readonly number[];
  /** The weekdays of `nL` terms: the last such weekday of the month. */
  readonly lastDaysOfWeek: readonly number[];
  /** The k of `n#k`, or 0. */
  readonly nthWeek: number;
  readonly dayRule: DayRule;
  /** cronie's rule: neither the minute nor the hour field starts with `*`; @hourly is wildcard, other @names fixed. */
  readonly fixedTime: boolean;
  /** The fields for words: as written, except that a field using `H` shows the values it stands for. */
  readonly describable: readonly string[];
  /** Things that are legal but probably not meant, e.g. a step wider than its field. */
  readonly warnings: readonly string[];
}

/** Parses and checks `expression`; `hashSeed` (the job's name) fixes what `H` means. Throws CronSyntaxError. */
export function parseCronFields(expression: string, hashSeed: string): CronFields {
  const six = splitFields(expression);
  six.forEach((raw, i) => {
    precheckField(FIELD_NAMES[i]!, raw);
  });
  // One draw per field, in this order, whether the field uses H or not (the order cron-parser drew them in).
  const random = seededRandom(hashSeed);
  const draws: number[] = [];
  for (const index of [SECOND, MINUTE, HOUR, MONTH, DAY_OF_MONTH, DAY_OF_WEEK]) draws[index] = random();
  const expanded = six.map((raw, i) => expandField(i, raw, draws[i]!));
  const dayOfWeek = expanded[DAY_OF_WEEK]!;
  const dayRule = dayRuleOf(six[DAY_OF_MONTH]!, six[DAY_OF_WEEK]!);
  const months = expanded[MONTH]!.numbers;
  const daysOfMonth = expanded[DAY_OF_MONTH]!.numbers;
  const lastDayOfMonth = expanded[DAY_OF_MONTH]!.texts.length > 0;
  // A day must exist in some listed month, unless a weekday may stand in for it (Vixie's either-day rule).
  if (!lastDayOfMonth && (isStar(six[DAY_OF_WEEK]!) || dayRule === "both")) {
    const longestMonth = Math.max(...months.map((month) => DAYS_IN_MONTH[month - 1]!));
    if (daysOfMonth[0]! > longestMonth) {
      throw neverFiresForMissingDay(six[DAY_OF_MONTH]!, six[MONTH]!, months);
    }
  }
  return {
    raw: six,
    seconds: expanded[SECOND]!.numbers,
    minutes: expanded[MINUTE]!.numbers,
    hours: expanded[HOUR]!.numbers,
    months,
    daysOfMonth,
    lastDayOfMonth,
    daysOfWeek: dayOfWeek.numbers.filter((v) => v < 7),
    lastDaysOfWeek: dayOfWeek.texts.map((v) => Number(v[0]) % 7),
    nthWeek: dayOfWeek.nth,
    dayRule,
    fixedTime: !startsWithStar(six[MINUTE]!) && !startsWithStar(six[HOUR]!),
    describable: six.map((raw, i) => (/(^|,)H/i.test(raw) ? describeValues(expanded[i]!) : raw)),
    warnings: stepWarnings(six),
  };
}

function describeValues(field: Expanded): string {
  return [...field.numbers, ...field.texts].join(",") + (field.nth > 0 ? `#${field.nth}` : "");
}

function isStar(field: string): boolean {
  return field === "*" || field === "?";
}

function startsWithStar(field: string): boolean {
  return field.startsWith("*") || field.startsWith("?");
}

function dayRuleOf(dayOfMonth: string, dayOfWeek: string): DayRule {
  if (isStar(dayOfMonth) && isStar(dayOfWeek)) return "any";
  if (isStar(dayOfMonth)) return "day-of-week";
  if (isStar(dayOfWeek)) return "day-of-month";
  // cronie sets DOM_STAR/DOW_STAR when a field starts with `*`; then a day must match both fields.
  return startsWithStar(dayOfMonth) || startsWithStar(dayOfWeek) ? "both" : "either";
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
  if (text.length > MAX_EXPRESSION_LENGTH) {
    throw new CronSyntaxError(
      `the cron expression is ${text.length} characters long; at most ${MAX_EXPRESSION_LENGTH} make sense`,
      "use ranges and steps instead of long lists",
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

/** Digits, lists, ranges, steps and `*`: nothing for the precheck to look at. */
const PLAIN_FIELD = /^[\d*?,/-]+$/;

/** What the grammar allows but tdefer refuses, and names, checked in every field before any is expanded. */
function precheckField(name: FieldName, raw: string): void {
  if (PLAIN_FIELD.test(raw)) return;
  const index = FIELD_NAMES.indexOf(name);
  for (const [, from, to] of raw.matchAll(/H\((\d+)-(\d+)\)/gi)) {
    const [min, max] = FIELD_RANGES[index]!;
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

/** One field's values: the numbers, ascending; `L` / `nL` of the day fields; `nth` is day-of-week's `#k`. */
interface Expanded {
  readonly numbers: readonly number[];
  readonly texts: readonly string[];
  readonly nth: number;
}

/** `*` (or `?`) in each field: every value of its range, as expandField gives it (day-of-week 0–7). */
const WHOLE_FIELDS: readonly Expanded[] = FIELD_RANGES.map(([min, max]) => {
  const numbers: number[] = [];
  for (let v = min; v <= max; v++) numbers.push(v);
  // Not frozen: V8 iterates frozen arrays on a slower path; the types keep them read-only.
  return { numbers, texts: [], nth: 0 };
});

/** Expands one field (index into FIELD_NAMES); `randomValue` in [0, 1) is what `H` stands on. */
function expandField(index: number, raw: string, randomValue: number): Expanded {
  // Most fields of most expressions are `*`: one expansion shared by all (nothing changes an expansion).
  if (raw === "*" || raw === "?") return WHOLE_FIELDS[index]!;
  const name = FIELD_NAMES[index]!;
  const [min, max] = FIELD_RANGES[index]!;
  let text = raw;
  let nth = 0;
  if (index === DAY_OF_WEEK && raw.includes("#")) {
    const parts = raw.split("#");
    if (/[,\-/L]/.test(raw)) {
      throw new CronSyntaxError(
        `day-of-week "${raw}": # (the n-th weekday of the month) cannot be combined with lists, ranges, steps or L`,
        "use one term such as 1#2 (the second Monday)",
      );
    }
    const k = Number(parts[parts.length - 1]);
    if (parts.length > 2 || !(k >= 1 && k <= 5)) {
      throw new CronSyntaxError(
        `day-of-week "${raw}": the number after # must be 1–5`,
        "e.g. 5#3 is the third Friday",
      );
    }
    text = parts[0]!;
    nth = k;
  }
  if ((index === MONTH || index === DAY_OF_WEEK) && /[a-z]/i.test(text)) {
    const names = index === MONTH ? MONTH_NAMES : DAY_NAMES;
    text = text.replace(/[a-z]{3}/gi, (word) => {
      const at = names.findIndex((full) => full.startsWith(word.toLowerCase()));
      if (at < 0)
        throw new CronSyntaxError(`${name} "${word}" is not a ${index === MONTH ? "month" : "day"} name`);
      return String(index === MONTH ? at + 1 : at);
    });
  }
  if (!VALID_CHARS[index]!.test(text)) {
    throw new CronSyntaxError(
      `${name} "${raw}" contains characters that are not allowed`,
      `allowed: ${ALLOWED[index]}`,
    );
  }
  // `*` and `?` stand for the whole range, alone or before a step.
  if (text.includes("*") || text.includes("?"))
    text = text.replace(/(^|,)[*?](?=\/|,|$)/g, (_, separator: string) => `${separator}${min}-${max}`);
  if (/[*?]/.test(text)) {
    throw new CronSyntaxError(
      `${name} "${raw}": * must stand alone or be followed by a step`,
      "e.g. * or */5",
    );
  }
  if (text.includes("H")) text = resolveHashes(text, raw, index, randomValue);

  // Each value once: a value two items name is a mistake (as 0 and 7 in a weekday list, both Sunday).
  // The values named so far, as bits (no field goes past 59): two numbers, not an array, for 10,000 expressions.
  let low32 = 0;
  let high32 = 0;
  let count = 0;
  const texts: string[] = [];
  const add = (value: number) => {
    const bit = 1 << (value & 31);
    if (((value < 32 ? low32 : high32) & bit) !== 0) {
      throw new CronSyntaxError(
        `${name} "${raw}" names ${value} more than once`,
        index === DAY_OF_WEEK ? "list each day once (0 and 7 are both Sunday)" : "list each value once",
      );
    }
    if (value < 32) low32 |= bit;
    else high32 |= bit;
    count++;
  };
  for (const term of text.split(",")) {
    if (term === "") {
      throw new CronSyntaxError(
        `${name} "${raw}" has an empty item in its list`,
        "separate values with single commas: 1,15",
      );
    }
    expandTerm(index, raw, term, add, texts);
  }
  if (count > MAX_FIELD_VALUES) {
    throw new CronSyntaxError(
      `${name} "${raw}" has too many values`,
      "use a range or a step instead of a long list",
    );
  }
  checkTexts(index, raw, texts);
  const numbers: number[] = [];
  for (let v = min; v <= max; v++) if (((v < 32 ? low32 : high32) & (1 << (v & 31))) !== 0) numbers.push(v);
  return { numbers, texts, nth };
}

/** Replaces each `H`, `H(a-b)`, `H/n`, `H(a-b)/n` by the values it stands for in this job. */
function resolveHashes(text: string, raw: string, index: number, randomValue: number): string {
  const name = FIELD_NAMES[index]!;
  const [fieldMin, fieldMax] = FIELD_RANGES[index]!;
  let count = 0;
  return text.replace(
    /H(?:\((\d+)-(\d+)\))?(?:\/(\d+))?/g,
    (_, from?: string, to?: string, step?: string) => {
      let low = fieldMin;
      let high = fieldMax;
      if (from !== undefined && to !== undefined) {
        low = Number(from);
        high = Number(to);
        if (low > high) {
          throw new CronSyntaxError(
            `${name} range ${low}-${high} goes backwards`,
            "write the smaller number first; to wrap around, use a list such as 22-23,0-2",
          );
        }
      }
      const pick = () => String(Math.floor(randomValue * (high - low + 1)) + low);
      if (step === undefined) return pick();
      const stepValue = Number(step);
      if (stepValue <= 0) {
        throw new CronSyntaxError(
          `${name} "${raw}": the step after / must be a positive whole number`,
          "e.g. */5",
        );
      }
      count += Math.ceil((high - low + 1) / stepValue);
      if (count > MAX_FIELD_VALUES) {
        throw new CronSyntaxError(
          `${name} "${raw}" has too many values`,
          "use a range or a step instead of a long list",
        );
      }
      // The step's grid, shifted by the job's hash; a step wider than the range leaves one hashed value.
      const offset = Math.floor(randomValue * stepValue);
      const values: number[] = [];
      for (let v = Math.floor(low / stepValue) * stepValue + offset; v <= high; v += stepValue) {
        if (v >= low) values.push(v);
      }
      return values.length > 0 ? values.join(",") : pick();
    },
  );
}

/** One list item: a range with its step, or a single value (a number, or text such as `L`), given to `add`. */
function expandTerm(
  index: number,
  raw: string,
  term: string,
  add: (value: number) => void,
  texts: string[],
): void {
  const name = FIELD_NAMES[index]!;
  const [min, max] = FIELD_RANGES[index]!;
  const parts = term.split("/");
  if (parts.length > 2) {
    throw new CronSyntaxError(
      `${name} "${raw}" has more than one /`,
      "write a range and one step, e.g. 0-30/5",
    );
  }
  let range = parts[0]!;
  let step = 1;
  if (parts.length === 2) {
    // `a/n` means `a-max/n`
    if (!range.includes("-")) range = `${range}-${max}`;
    step = Number(parts[1]);
  }
  const ends = range.split("-");
  if (ends.length === 1) {
    const value = Number(range);
    if (Number.isNaN(value) && (index === DAY_OF_MONTH || index === DAY_OF_WEEK) && range.includes("L")) {
      texts.push(range);
      return;
    }
    if (!(value >= min && value <= max) || !Number.isInteger(value)) {
      throw new CronSyntaxError(
        `${name} ${Number.isNaN(value) ? `"${range}"` : value} is out of range ${min}–${max}`,
        index === DAY_OF_WEEK
          ? "days of the week are 0–7 (0 and 7 are Sunday) or SUN–SAT"
          : `use ${min}–${max}`,
      );
    }
    add(index === DAY_OF_WEEK ? value % 7 : value);
    return;
  }
  if (ends.length > 2) {
    throw new CronSyntaxError(`${name} "${raw}" is not a valid range`, "write ranges as a-b or a-b/step");
  }
  const [low, high] = ends.map((end) => (/^\d+$/.test(end) ? Number(end) : Number.NaN)) as [number, number];
  if (Number.isNaN(low) || Number.isNaN(high)) {
    throw new CronSyntaxError(
      `${name} "${raw}" has a range with a missing or non-numeric end`,
      "write ranges as a-b, e.g. 1-5",
    );
  }
  if (low < min || high > max) {
    throw new CronSyntaxError(
      `${name} range ${low}-${high} is out of range ${min}–${max}`,
      index === DAY_OF_WEEK
        ? "days of the week are 0–7 (0 and 7 are Sunday) or SUN–SAT"
        : `use ${min}–${max}`,
    );
  }
  if (low > high) {
    throw new CronSyntaxError(
      `${name} range ${low}-${high} goes backwards`,
      index === DAY_OF_WEEK && high === 0
        ? `write ${low}-7 (7 is Sunday)`
        : "write the smaller number first; to wrap around, use a list such as 22-23,0-2",
    );
  }
  if (!(step > 0)) {
    throw new CronSyntaxError(
      `${name} "${raw}": the step after / must be a positive whole number`,
      "e.g. */5",
    );
  }
  // A day-of-week range ending on Sunday (7) whose step lands on it names Sunday as 0 too.
  const sundayToo = index === DAY_OF_WEEK && high % 7 === 0 && (high - low) % step === 0 && low !== 0;
  if (sundayToo) add(0);
  for (let v = low; v <= high; v += step) add(v);
}

/** The day fields' text values: day-of-month only `L`, day-of-week `nL` (a weekday, then L). */
function checkTexts(index: number, raw: string, texts: readonly string[]): void {
  for (const value of texts) {
    if (index === DAY_OF_MONTH && value !== "L") {
      throw new CronSyntaxError(
        `day-of-month "${raw}": L (the last day) must stand alone`,
        "e.g. L or 1,15,L",
      );
    }
    if (index === DAY_OF_WEEK && !/^[0-7]?L$/.test(value)) {
      throw new CronSyntaxError(
        `day-of-week "${raw}": "${value}" is not a weekday followed by L`,
        "e.g. 5L is the last Friday of the month",
      );
    }
  }
  if (texts.length > 1 && new Set(texts).size < texts.length) {
    throw new CronSyntaxError(
      `${FIELD_NAMES[index]} "${raw}" names a value more than once`,
      "list each value once",
    );
  }
  if (index === DAY_OF_WEEK && texts.includes("L")) {
    throw new CronSyntaxError(
      `day-of-week "${raw}": L needs a weekday before it`,
      "e.g. 5L is the last Friday of the month; for the last day of the month put L in day-of-month",
    );
  }
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

/** "February has no 30th": a day of month that none of the listed months has. */
function neverFiresForMissingDay(
  dayOfMonth: string,
  month: string,
  monthValues: readonly number[],
): CronSyntaxError {
  const days = [...new Set((dayOfMonth.match(/\d+/g) ?? []).map(Number))].sort((a, b) => a - b);
  const months = isStar(month)
    ? []
    : [...monthValues].sort((a, b) => a - b).map((value) => MONTH_TITLES[value - 1]!);
  const dayWords = listWords(days.map(ordinal), "or");
  const message =
    months.length > 0 && days.length > 0
      ? `never fires: ${listWords(months, "and")} ${months.length === 1 ? "has" : "have"} no ${dayWords}`
      : "never fires: no matching date found";
  return new CronSyntaxError(message, "check the day-of-month and month fields");
}

function stepWarnings(six: readonly string[]): string[] {
  const warnings: string[] = [];
  six.forEach((raw, i) => {
    if (!raw.includes("/")) return; // only a step can be wider than its range
    const name = FIELD_NAMES[i]!;
    const [min, max] = FIELD_RANGES[i]!;
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

/**
 * A seeded generator of numbers in [0, 1): mulberry32 seeded with the FNV-1a hash of `seed`, so that `H`
 * means the same minute for a job name on every machine and every start.
 */
function seededRandom(seed: string): () => number {
  let hash = 2166136261 >>> 0;
  for (let i = 0; i < seed.length; i++) {
    hash ^= seed.charCodeAt(i);
    hash = Math.imul(hash, 16777619);
  }
  let state = hash >>> 0;
  return () => {
    state += 0x6d2b79f5;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
