// What tdefer relies on in cron-parser 5.10.x. If an upgrade changes any of this, these tests fail
// and schedule/cron.ts needs a look: its messages, its checks, or its calendar walk.

import { CronExpressionParser } from "cron-parser";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CronSchedule } from "../../src/schedule/cron.js";

function utc(expression: string, currentDate = "2026-01-01T00:00:00Z", hashSeed = "seed") {
  return CronExpressionParser.parse(expression, { tz: "UTC", currentDate: new Date(currentDate), hashSeed });
}

function messageOf(expression: string): string {
  try {
    utc(expression);
  } catch (error) {
    return (error as Error).message;
  }
  return "(accepted)";
}

describe("cron-parser, pinned", () => {
  it("next() is strictly after currentDate, and rounds milliseconds up to the next second", () => {
    expect(utc("0 3 * * *", "2026-01-01T03:00:00Z").next().toISOString()).toBe("2026-01-02T03:00:00.000Z");
    expect(utc("* * * * * *", "2026-01-01T03:00:00.250Z").next().toISOString()).toBe(
      "2026-01-01T03:00:01.000Z",
    );
  });

  it("with tz UTC it is a plain wall-clock calculator (no DST anywhere)", () => {
    const expression = utc("30 2 * * *", "2026-03-07T12:00:00Z");
    expect([expression.next().toISOString(), expression.next().toISOString()]).toEqual([
      "2026-03-08T02:30:00.000Z",
      "2026-03-09T02:30:00.000Z",
    ]);
  });

  it("silently pads fewer than 5 fields and accepts '' — which is why tdefer counts fields itself", () => {
    expect(utc("1 2 3").stringify(true)).toBe("0 * * 1 2 3");
    expect(utc("").stringify(true)).toBe("0 * * * * *");
    expect(messageOf("0 0 1 1 * * 2027")).toBe("Invalid cron expression, too many fields");
  });

  it("ORs the day fields when one starts with * but is not * — which is why tdefer applies Vixie's rule itself", () => {
    // 2026-01-01 is a Thursday, an odd day: a match for "odd days or Mondays", not for "odd Mondays"
    expect(utc("0 0 */2 * 1", "2025-12-31T12:00:00Z").next().toISOString()).toBe("2026-01-01T00:00:00.000Z");
  });

  it("expands fields into the values tdefer's calendar walk reads", () => {
    const { fields } = utc("0 0,30 9-11 1,L */3 1-5");
    expect(fields.second.values).toEqual([0]);
    expect(fields.minute.values).toEqual([0, 30]);
    expect(fields.hour.values).toEqual([9, 10, 11]);
    expect(fields.dayOfMonth.values).toEqual([1, "L"]);
    expect(fields.month.values).toEqual([1, 4, 7, 10]);
    expect(fields.dayOfWeek.values).toEqual([1, 2, 3, 4, 5]);
    expect(utc("0 0 0 * * 5L").fields.dayOfWeek.values).toEqual(["5L"]);
    expect(utc("0 0 0 * * 1,5L").fields.dayOfWeek.values).toEqual([1, "5L"]);
    const nth = utc("0 0 0 * * 1#2").fields.dayOfWeek;
    expect([nth.values, nth.nthDay]).toEqual([[1], 2]);
    expect(utc("0 0 0 * * 7").fields.dayOfWeek.values).toEqual([0]);
    expect(utc("0 0 0 * * MON-FRI").fields.dayOfWeek.values).toEqual([1, 2, 3, 4, 5]);
    expect(utc("0 0 0 * JAN,dec *").fields.month.values).toEqual([1, 12]);
    expect(utc("0 */90 * * * *").fields.minute.values).toEqual([0]);
  });

  it("hashes H from hashSeed, the same way every time", () => {
    const minute = (seed: string) => utc("0 H * * * *", undefined, seed).fields.minute.values;
    expect(minute("backup")).toEqual(minute("backup"));
    expect(utc("0 H * * * *", undefined, "backup").fields.minute.values).toHaveLength(1);
  });

  it("rejects a day of month no listed month has only when day-of-week is *", () => {
    expect(messageOf("0 0 0 30 2 *")).toBe("Invalid explicit day of month definition");
    expect(messageOf("0 0 0 30 2 1")).toBe("(accepted)");
  });

  it.each([
    ["0 60 * * * *", "Constraint error, got value 60 expected range 0-59"],
    ["0 0 0 * * 8", "Constraint error, got value 8 expected range 0-7"],
    ["0 0 0-30 * * *", "Constraint error, got range 0-30 expected range 0-23"],
    ["0 -1 * * * *", "Constraint error, got range NaN-1 expected range 0-59"],
    ["0 0 0 * * 5-0", "Invalid range: 5-0, min(5) > max(0)"],
    ["0 1-2-3 * * * *", "Invalid range: 1-2-3"],
    ["0 abc * * * *", "Invalid characters, got value: abc"],
    ["0 0 0 15W * *", "Invalid characters, got value: 15W"],
    ["0 *5 * * * *", "Invalid wildcard, got value: *5"],
    ["0 */0 * * * *", "Constraint error, cannot repeat at every 0 time."],
    ["0 1/2/3 * * * *", "Invalid repeat: 1/2/3"],
    ["0 1,,2 * * * *", "Invalid list value format"],
    ["0 0 0 * * 1#6", "Constraint error, invalid dayOfWeek occurrence number (#)"],
    [
      "0 0 0 * * 1#2,3",
      "Constraint error, invalid dayOfWeek `#` and `,` special characters are incompatible",
    ],
    ["0 0 0 * * L", "CronDayOfWeek Validation error, unexpected standalone L"],
    ["0 0 0 1L * *", "CronDayOfMonth Validation error, got value 1L expected range 1-31 or chars L"],
    ["@reboot", 'Validation error, cannot resolve alias "reb"'],
    ["@midnight", 'Validation error, cannot resolve alias "mid"'],
  ])("says %j → %s (translated by tdefer)", (expression, message) => {
    expect(messageOf(expression)).toBe(message);
  });
});

// tdefer walks the calendar itself over cron-parser's expanded fields (for speed). Where Vixie's
// day rule and cron-parser's agree, both walks must give the same times.
const minute = fc.constantFrom("0", "30", "*/15", "5,35", "0-10/5", "*", "H", "59");
const hour = fc.constantFrom("*", "0", "3", "1-3", "*/2", "0,12,23", "22-23");
const dayOfMonth = fc.constantFrom("*", "1", "15", "L", "1,L", "10-20", "29", "31", "1-31");
const month = fc.constantFrom("*", "2", "*/3", "1,6,12", "FEB-APR");
const dayOfWeek = fc.constantFrom("*", "1", "1-5", "0,6", "5L", "1#2", "0#5", "SAT");

describe("tdefer's calendar walk agrees with cron-parser's next() on the wall clock", () => {
  it("for random expressions and start times", () => {
    fc.assert(
      fc.property(
        fc.tuple(minute, hour, dayOfMonth, month, dayOfWeek),
        fc.integer({ min: Date.parse("2026-01-01T00:00:00Z"), max: Date.parse("2028-01-01T00:00:00Z") }),
        (fields, startMs) => {
          const expression = fields.join(" ");
          let schedule: CronSchedule;
          try {
            schedule = CronSchedule.parse(expression, { zone: "UTC", hashSeed: "walk" });
          } catch {
            return; // e.g. "0 0 31 2 *": rejected, nothing to compare
          }
          const reference = CronExpressionParser.parse(`0 ${expression}`, {
            tz: "UTC",
            currentDate: new Date(startMs),
            hashSeed: "walk",
          });
          let afterMs = startMs;
          for (let i = 0; i < 5; i++) {
            const ours = schedule.nextAfter(afterMs);
            if (!ours) break; // beyond the 30-year horizon (e.g. "0 3 * 2 0#5" after 2088)
            expect(new Date(ours.timeMs).toISOString()).toBe(reference.next().toISOString());
            afterMs = ours.timeMs;
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
