// tdefer reads cron fields itself, with cron-parser 5's grammar (which it used before): for any expression,
// both accept or both reject, and both expand each field to the same values (H included, for the same job).

import { CronExpressionParser } from "cron-parser";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type CronFields, DAYS_IN_MONTH, parseCronFields } from "../../src/schedule/cron-fields.js";

const term = (values: readonly string[]) =>
  fc
    .array(
      fc.oneof(
        fc.constantFrom(...values),
        fc.constantFrom("*", "?", "*/7", "H", "H/5", "*/0", "", "-3", "1-2-3", "2/3/4", "*3", "5-", "x"),
      ),
      { minLength: 1, maxLength: 3 },
    )
    .map((items) => items.join(","))
    .filter((field) => field !== "");

const fields = fc.tuple(
  term(["0", "30", "59", "60", "*/15", "5/20", "10-20", "20-10", "0-59/30", "H(0-30)", "H(10-20)/5"]),
  term(["0", "15", "45", "*/20", "0-30/10", "59", "H(0-29)/10"]),
  term(["0", "3", "23", "24", "1-3", "*/2", "22-23", "0-12/6"]),
  term(["1", "15", "31", "32", "0", "L", "1L", "L/2", "10-20", "*/10", "29,30"]),
  term(["1", "2", "12", "13", "FEB", "jan-mar", "*/3", "4,6,9,11", "Dec"]),
  fc.oneof(
    term([
      "0",
      "1",
      "5",
      "6",
      "7",
      "8",
      "1-5",
      "5-0",
      "0-7",
      "MON-FRI",
      "sat",
      "5L",
      "7L",
      "L",
      "*/2",
      "1-7/2",
    ]),
    fc.constantFrom("1#2", "0#5", "MON#1", "1#6", "1#2,3", "5L#1", "*#3"),
  ),
);

/** cron-parser's fields in the shape tdefer reads, or its error. */
function reference(six: readonly string[], seed: string): Omit<Comparable, "nthWeek"> & { nthWeek: number } {
  const { fields } = CronExpressionParser.parse(six.join(" "), {
    tz: "UTC",
    currentDate: new Date(Date.UTC(2001, 0, 1)),
    hashSeed: seed,
  });
  const numbers = (values: readonly (number | string)[]) =>
    values.filter((v): v is number => typeof v === "number").sort((a, b) => a - b);
  return {
    seconds: numbers(fields.second.values),
    minutes: numbers(fields.minute.values),
    hours: numbers(fields.hour.values),
    months: numbers(fields.month.values),
    daysOfMonth: numbers(fields.dayOfMonth.values),
    lastDayOfMonth: fields.dayOfMonth.values.includes("L"),
    daysOfWeek: [...new Set(numbers(fields.dayOfWeek.values).filter((v) => v < 7))],
    lastDaysOfWeek: fields.dayOfWeek.values
      .filter((v) => typeof v === "string")
      .map((v) => Number(String(v)[0]) % 7)
      .sort(),
    nthWeek: fields.dayOfWeek.nthDay,
  };
}

type Comparable = Pick<
  CronFields,
  | "seconds"
  | "minutes"
  | "hours"
  | "months"
  | "daysOfMonth"
  | "lastDayOfMonth"
  | "daysOfWeek"
  | "lastDaysOfWeek"
  | "nthWeek"
>;

function comparable(fields: CronFields): Comparable {
  const sorted = (values: readonly number[]) => [...values].sort((a, b) => a - b);
  // With one month, cron-parser leaves out the days it lacks (unless that leaves none): the same dates match.
  const [onlyMonth, ...otherMonths] = fields.months;
  const monthDays = DAYS_IN_MONTH[(onlyMonth ?? 1) - 1]!;
  const inMonth = fields.daysOfMonth.filter((day) => otherMonths.length > 0 || day <= monthDays);
  return {
    seconds: sorted(fields.seconds),
    minutes: sorted(fields.minutes),
    hours: sorted(fields.hours),
    months: sorted(fields.months),
    daysOfMonth: sorted(inMonth.length > 0 ? inMonth : fields.daysOfMonth),
    lastDayOfMonth: fields.lastDayOfMonth,
    daysOfWeek: [...new Set(sorted(fields.daysOfWeek))],
    lastDaysOfWeek: [...fields.lastDaysOfWeek].sort(),
    nthWeek: fields.nthWeek,
  };
}

describe("cron fields, read as cron-parser 5 reads them", () => {
  it("accept and reject the same expressions, and expand them to the same values", () => {
    fc.assert(
      fc.property(fields, fc.constantFrom("backup", "walk", "job-7"), (six, seed) => {
        let expected: Comparable | undefined;
        try {
          expected = reference(six, seed);
        } catch {
          expected = undefined;
        }
        let ours: CronFields | undefined;
        let error: unknown;
        try {
          ours = parseCronFields(six.join(" "), seed);
        } catch (caught) {
          error = caught;
        }
        if (expected === undefined) {
          expect(ours, `${six.join(" ")} is accepted, cron-parser rejects it`).toBeUndefined();
          return;
        }
        // Where a day must match both fields, a day of month no listed month has never fires: tdefer says so.
        // An H range beyond the field is refused too (cron-parser cuts it down to the field).
        if (ours === undefined && /^never fires|of H is out of range/.test((error as Error).message)) return;
        expect(error, `${six.join(" ")}: ${(error as Error | undefined)?.message}`).toBeUndefined();
        expect(comparable(ours!)).toEqual(expected);
      }),
      { numRuns: 3000 },
    );
  });
});
