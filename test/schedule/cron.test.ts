import { describe, expect, it } from "vitest";
import { CronSchedule, CronSyntaxError } from "../../src/schedule/cron.js";
import { formatInZone } from "../../src/schedule/zone.js";

function parse(expression: string, zone = "UTC", hashSeed = "job"): CronSchedule {
  return CronSchedule.parse(expression, { zone, hashSeed });
}

/** The next `count` fire times (RFC 3339 in the zone) after `from`. */
function next(expression: string, from: string, count: number, zone = "UTC"): string[] {
  const schedule = parse(expression, zone);
  const times: string[] = [];
  let afterMs = Date.parse(from);
  for (let i = 0; i < count; i++) {
    const fire = schedule.nextAfter(afterMs);
    if (!fire) break;
    times.push(formatInZone(fire.timeMs, zone));
    afterMs = fire.timeMs;
  }
  return times;
}

/** The CronSyntaxError `expression` is rejected with. */
function rejection(expression: string, zone = "UTC"): CronSyntaxError {
  try {
    parse(expression, zone);
  } catch (error) {
    expect(error).toBeInstanceOf(CronSyntaxError);
    return error as CronSyntaxError;
  }
  throw new Error(`"${expression}" was accepted`);
}

describe("which expressions are accepted", () => {
  it("5 fields, or 6 with seconds first", () => {
    expect(next("0 3 * * *", "2026-01-01T00:00:00Z", 2)).toEqual([
      "2026-01-01T03:00:00Z",
      "2026-01-02T03:00:00Z",
    ]);
    expect(next("30 0 3 * * *", "2026-01-01T00:00:00Z", 1)).toEqual(["2026-01-01T03:00:30Z"]);
  });

  it("ranges, steps and lists", () => {
    expect(next("0,30 9-10 * * *", "2026-01-01T00:00:00Z", 5)).toEqual([
      "2026-01-01T09:00:00Z",
      "2026-01-01T09:30:00Z",
      "2026-01-01T10:00:00Z",
      "2026-01-01T10:30:00Z",
      "2026-01-02T09:00:00Z",
    ]);
    expect(next("0 0-12/6 * * *", "2026-01-01T00:00:00Z", 3)).toEqual([
      "2026-01-01T06:00:00Z",
      "2026-01-01T12:00:00Z",
      "2026-01-02T00:00:00Z",
    ]);
  });

  it("month and weekday names in any case", () => {
    // 2026-01-05 is a Monday
    expect(next("0 8 * jan,Mar MON-wed", "2026-01-04T00:00:00Z", 3)).toEqual([
      "2026-01-05T08:00:00Z",
      "2026-01-06T08:00:00Z",
      "2026-01-07T08:00:00Z",
    ]);
    expect(next("0 8 1 JUN *", "2026-01-01T00:00:00Z", 1)).toEqual(["2026-06-01T08:00:00Z"]);
  });

  it("7 is Sunday, like 0", () => {
    expect(next("0 0 * * 7", "2026-01-01T00:00:00Z", 1)).toEqual(["2026-01-04T00:00:00Z"]);
  });

  it("L is the last day of the month", () => {
    expect(next("0 12 L * *", "2026-01-31T12:00:00Z", 3)).toEqual([
      "2026-02-28T12:00:00Z",
      "2026-03-31T12:00:00Z",
      "2026-04-30T12:00:00Z",
    ]);
    expect(next("0 12 L 2 *", "2028-01-01T00:00:00Z", 1)).toEqual(["2028-02-29T12:00:00Z"]);
  });

  it("5L is the last Friday of the month", () => {
    expect(next("0 9 * * 5L", "2026-01-01T00:00:00Z", 3)).toEqual([
      "2026-01-30T09:00:00Z",
      "2026-02-27T09:00:00Z",
      "2026-03-27T09:00:00Z",
    ]);
  });

  it("1#2 is the second Monday of the month", () => {
    expect(next("0 9 * * 1#2", "2026-01-01T00:00:00Z", 3)).toEqual([
      "2026-01-12T09:00:00Z",
      "2026-02-09T09:00:00Z",
      "2026-03-09T09:00:00Z",
    ]);
  });

  it("a rare date is found years ahead (a fifth Sunday in February)", () => {
    expect(next("0 0 * 2 0#5", "2026-01-01T00:00:00Z", 2)).toEqual([
      "2032-02-29T00:00:00Z",
      "2060-02-29T00:00:00Z",
    ]);
  });

  it("nicknames: @yearly @annually @monthly @weekly @daily @midnight @hourly", () => {
    const from = "2026-03-15T10:30:00Z";
    expect(next("@yearly", from, 1)).toEqual(["2027-01-01T00:00:00Z"]);
    expect(next("@annually", from, 1)).toEqual(["2027-01-01T00:00:00Z"]);
    expect(next("@monthly", from, 1)).toEqual(["2026-04-01T00:00:00Z"]);
    expect(next("@weekly", from, 1)).toEqual(["2026-03-22T00:00:00Z"]);
    expect(next("@daily", from, 1)).toEqual(["2026-03-16T00:00:00Z"]);
    expect(next("@midnight", from, 1)).toEqual(["2026-03-16T00:00:00Z"]);
    expect(next("@hourly", from, 1)).toEqual(["2026-03-15T11:00:00Z"]);
  });

  it("a step wider than its field is accepted, as cronie does, with a warning", () => {
    const schedule = parse("*/90 * * * *");
    expect(schedule.warnings).toEqual(['minute "*/90": the step 90 is wider than 0–59, so it means only 0']);
    expect(next("*/90 * * * *", "2026-01-01T00:00:00Z", 2)).toEqual([
      "2026-01-01T01:00:00Z",
      "2026-01-01T02:00:00Z",
    ]);
    expect(parse("*/15 * * * *").warnings).toEqual([]);
  });

  it("keeps the expression and zone it was given", () => {
    const schedule = parse("  0 3 * * *  ", "Europe/Berlin");
    expect(schedule.expression).toBe("  0 3 * * *  ");
    expect(schedule.zone).toBe("Europe/Berlin");
    expect(schedule.fields).toEqual(["0", "0", "3", "*", "*", "*"]);
  });
});

describe("H is hashed from the job name", () => {
  it("gives the same minute for the same job name, every time it is parsed", () => {
    const first = CronSchedule.parse("H * * * *", { zone: "UTC", hashSeed: "backup" }).nextAfter(0);
    const again = CronSchedule.parse("H * * * *", { zone: "UTC", hashSeed: "backup" }).nextAfter(0);
    expect(again).toEqual(first);
  });

  it("spreads different job names over different minutes", () => {
    const minutes = new Set(
      ["a", "b", "c", "d", "e", "f", "g", "h"].map((name) => {
        const fire = CronSchedule.parse("H * * * *", { zone: "UTC", hashSeed: name }).nextAfter(0);
        return new Date(fire!.timeMs).getUTCMinutes();
      }),
    );
    expect(minutes.size).toBeGreaterThan(1);
  });

  it("stays within H(a-b)", () => {
    for (const name of ["x", "y", "z", "backup", "report"]) {
      const fire = CronSchedule.parse("H(10-20) 3 * * *", { zone: "UTC", hashSeed: name }).nextAfter(0);
      const minute = new Date(fire!.timeMs).getUTCMinutes();
      expect(minute).toBeGreaterThanOrEqual(10);
      expect(minute).toBeLessThanOrEqual(20);
    }
  });
});

describe("day matching follows Vixie cron", () => {
  it("0 0 */2 * 1 runs on Mondays that are odd days (a * field means both must match)", () => {
    expect(next("0 0 */2 * 1", "2026-01-01T00:00:00Z", 5)).toEqual([
      "2026-01-05T00:00:00Z",
      "2026-01-19T00:00:00Z",
      "2026-02-09T00:00:00Z",
      "2026-02-23T00:00:00Z",
      "2026-03-09T00:00:00Z",
    ]);
  });

  it("0 0 1,15 * 1 runs on the 1st, the 15th and every Monday (either suffices)", () => {
    // 2026-01-01 is a Thursday
    expect(next("0 0 1,15 * 1", "2025-12-31T00:00:00Z", 7)).toEqual([
      "2026-01-01T00:00:00Z",
      "2026-01-05T00:00:00Z",
      "2026-01-12T00:00:00Z",
      "2026-01-15T00:00:00Z",
      "2026-01-19T00:00:00Z",
      "2026-01-26T00:00:00Z",
      "2026-02-01T00:00:00Z",
    ]);
  });

  it("a day-of-week starting with * also means both: 0 0 13 * */5 is Friday the 13th (and Sunday the 13th)", () => {
    // */5 in day-of-week is 0 and 5: Sundays and Fridays
    expect(next("0 0 13 * */5", "2026-01-01T00:00:00Z", 3)).toEqual([
      "2026-02-13T00:00:00Z",
      "2026-03-13T00:00:00Z",
      "2026-09-13T00:00:00Z",
    ]);
  });

  it("a range 1-31 is not a *: 0 0 1-31 * 1 runs every day", () => {
    expect(next("0 0 1-31 * 1", "2026-01-01T00:00:00Z", 3)).toEqual([
      "2026-01-02T00:00:00Z",
      "2026-01-03T00:00:00Z",
      "2026-01-04T00:00:00Z",
    ]);
  });

  it("only the restricted field counts when the other is exactly *", () => {
    expect(next("0 0 * * 1", "2026-01-01T00:00:00Z", 2)).toEqual([
      "2026-01-05T00:00:00Z",
      "2026-01-12T00:00:00Z",
    ]);
    expect(next("0 0 10 * *", "2026-01-01T00:00:00Z", 2)).toEqual([
      "2026-01-10T00:00:00Z",
      "2026-02-10T00:00:00Z",
    ]);
  });
});

describe("fixed-time and wildcard jobs (cronie's rule)", () => {
  it.each([
    ["30 2 * * *", true],
    ["0 1-3 * * *", true],
    ["30 1,2,3 * * *", true],
    ["0 0 1 * *", true],
    ["H H * * *", true],
    ["0 30 2 * * *", true],
    ["*/15 0 2 * * *", true],
    ["0 * 2 * * *", false],
    ["@daily", true],
    ["@midnight", true],
    ["@weekly", true],
    ["@monthly", true],
    ["@yearly", true],
    ["*/15 2 * * *", false],
    ["30 * * * *", false],
    ["0 */2 * * *", false],
    ["* * * * *", false],
    ["0 0 * * * *", false],
    ["@hourly", false],
  ])("%s is fixed-time: %s", (expression, fixed) => {
    expect(parse(expression).fixedTime).toBe(fixed);
  });
});

describe("rejected expressions say what is wrong", () => {
  it.each([
    [
      "0 3 *",
      "expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first; got 3",
    ],
    [
      "0 0 1 1 * * 2027",
      "expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first; got 7",
    ],
    [
      "",
      "the cron expression is empty; expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first",
    ],
    [
      "   ",
      "the cron expression is empty; expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first",
    ],
    ["60 * * * *", "minute 60 is out of range 0–59"],
    ["0 24 * * *", "hour 24 is out of range 0–23"],
    ["0 0 32 * *", "day-of-month 32 is out of range 1–31"],
    ["0 0 0 * *", "day-of-month 0 is out of range 1–31"],
    ["0 0 * 13 *", "month 13 is out of range 1–12"],
    ["0 0 * * 8", "day-of-week 8 is out of range 0–7"],
    ["61 0 0 * * *", "second 61 is out of range 0–59"],
    ["0 0 30 2 *", "never fires: February has no 30th"],
    ["0 0 31 4,6,9,11 *", "never fires: April, June, September and November have no 31st"],
    ["0 0 30,31 2 *", "never fires: February has no 30th or 31st"],
    ["0 0 30 2 */2", "never fires: February has no 30th"],
    ["0 0 */31 * 1#5", "never fires: no matching date found"],
    ["0 0 15W * *", 'day-of-month "15W" uses W (nearest weekday), which tdefer does not support'],
    ["0 0 LW * *", 'day-of-month "LW" uses W (nearest weekday), which tdefer does not support'],
    [
      "0 0 L-3 * *",
      'day-of-month "L-3" uses L-n (n days before the last day), which tdefer does not support',
    ],
    ["@reboot", "@reboot is not supported: a cron job needs a time schedule"],
    ["@weekdays", 'unknown nickname "@weekdays"'],
    ["@daily 5", '"@daily 5": a nickname such as @daily must be the whole expression'],
    ["0 9 * * monday", 'day-of-week "monday": use the three-letter name MON'],
    ["0 9 * * Friday", 'day-of-week "Friday": use the three-letter name FRI'],
    ["0 9 * january *", 'month "january": use the three-letter name JAN'],
    ["0 9 * * xyz", 'day-of-week "xyz" is not a day name'],
    ["0 9 * foo *", 'month "foo" is not a month name'],
    ["0 0 * * 5-0", "day-of-week range 5-0 goes backwards"],
    ["0 20-2 * * *", "hour range 20-2 goes backwards"],
    ["0 0-30 * * *", "hour range 0-30 is out of range 0–23"],
    ["*/0 * * * *", 'minute "*/0": the step after / must be a positive whole number'],
    ["1/2/3 * * * *", 'minute "1/2/3" has more than one /'],
    ["1,,2 * * * *", 'minute "1,,2" has an empty item in its list'],
    ["*5 * * * *", 'minute "*5": * must stand alone or be followed by a step'],
    ["abc * * * *", 'minute "abc" contains characters that are not allowed'],
    ["0 0 * * 1#6", 'day-of-week "1#6": the number after # must be 1–5'],
    [
      "0 0 * * 1#2,3",
      'day-of-week "1#2,3": # (the n-th weekday of the month) cannot be combined with lists, ranges, steps or L',
    ],
    ["0 0 * * L", 'day-of-week "L": L needs a weekday before it'],
    ["0 0 1L * *", 'day-of-month "1L": L (the last day) must stand alone'],
    ["0 -5 * * *", 'hour "-5" has a range with a missing or non-numeric end'],
  ])("%j → %s", (expression, message) => {
    expect(rejection(expression).message).toBe(message);
  });

  it("comes with a hint on how to fix it", () => {
    expect(rejection("0 3 *").hint).toMatch(/0 3 \* \* \*/);
    expect(rejection("0 0 1 1 * * 2027").hint).toBe("a year field is not supported; remove it");
    expect(rejection("@reboot").hint).toMatch(/after/);
    expect(rejection("0 0 * * 5-0").hint).toBe("write 5-7 (7 is Sunday)");
    expect(rejection("0 9 * * monday").hint).toMatch(/SUN–SAT/);
    expect(rejection("0 0 */31 * 1#5").hint).toMatch(/both day-of-month and day-of-week/);
  });

  it("rejects an unknown zone, suggesting the closest name", () => {
    const error = rejection("0 3 * * *", "Europe/Berln");
    expect(error.message).toBe('unknown time zone "Europe/Berln"');
    expect(error.hint).toBe('did you mean "Europe/Berlin"?');
  });
});

describe("nextAfter", () => {
  it("returns the first fire strictly after the given instant", () => {
    const schedule = parse("0 3 * * *");
    const at = Date.parse("2026-01-01T03:00:00Z");
    expect(schedule.nextAfter(at)?.timeMs).toBe(Date.parse("2026-01-02T03:00:00Z"));
    expect(schedule.nextAfter(at - 1)?.timeMs).toBe(at);
    expect(schedule.nextAfter(at - 0.5)?.timeMs).toBe(at);
  });

  it("works from an instant with milliseconds", () => {
    expect(parse("* * * * * *").nextAfter(Date.parse("2026-01-01T00:00:00.250Z"))?.timeMs).toBe(
      Date.parse("2026-01-01T00:00:01Z"),
    );
  });

  it("marks nothing outside DST transitions", () => {
    expect(parse("0 3 * * *", "Europe/Berlin").nextAfter(Date.parse("2026-06-01T00:00:00Z"))).toEqual({
      timeMs: Date.parse("2026-06-01T01:00:00Z"),
    });
  });
});
