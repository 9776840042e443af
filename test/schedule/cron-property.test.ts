// Properties of nextAfter in DST zones, for random expressions and start instants over 2026–2027,
// with half of the starts placed within a day of a transition.

import { CronExpressionParser } from "cron-parser";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CronSchedule } from "../../src/schedule/cron.js";
import { zoneOffsetMs } from "../../src/schedule/zone.js";

const ZONES = [
  "America/New_York",
  "Europe/Berlin",
  "Europe/London",
  "Australia/Sydney",
  "Australia/Lord_Howe",
  "Pacific/Chatham",
];

/** The 2026–2027 transition instants (zdump -v -c 2026,2028), UTC. */
const TRANSITIONS = [
  "2026-03-08T07:00:00Z",
  "2026-11-01T06:00:00Z",
  "2027-03-14T07:00:00Z",
  "2027-11-07T06:00:00Z",
  "2026-03-29T01:00:00Z",
  "2026-10-25T01:00:00Z",
  "2027-03-28T01:00:00Z",
  "2027-10-31T01:00:00Z",
  "2026-04-04T16:00:00Z",
  "2026-10-03T16:00:00Z",
  "2027-04-03T16:00:00Z",
  "2027-10-02T16:00:00Z",
  "2026-04-04T15:00:00Z",
  "2026-10-03T15:30:00Z",
  "2027-04-03T15:00:00Z",
  "2027-10-02T15:30:00Z",
  "2026-04-04T14:00:00Z",
  "2026-09-26T14:00:00Z",
  "2027-04-03T14:00:00Z",
  "2027-09-25T14:00:00Z",
].map(Date.parse);

const HOUR_MS = 3_600_000;

const expression = fc
  .tuple(
    fc.constantFrom("0", "15", "30", "45", "*/15", "*/20", "5,35", "0-10/5", "*/7", "50"),
    fc.constantFrom("*", "1", "2", "3", "1-3", "*/2", "0,2,4", "1,2,3"),
    fc.constantFrom("*", "*", "*", "1", "*/2", "4,5,25-31", "L"),
    fc.constantFrom("*", "*", "3,4,9,10,11", "*/2"),
    fc.constantFrom("*", "*", "*", "0", "1-5", "*/3", "0L", "0#1"),
  )
  .map((fields) => fields.join(" "));

const start = fc.oneof(
  fc.integer({ min: Date.parse("2026-01-01T00:00:00Z"), max: Date.parse("2028-01-01T00:00:00Z") }),
  fc
    .tuple(fc.constantFrom(...TRANSITIONS), fc.integer({ min: -26 * HOUR_MS, max: 4 * HOUR_MS }))
    .map(([transition, shift]) => transition + shift),
);

/**
 * Whether a wall time (UTC-coded) matches the expression under Vixie's day rule, asked of cron-parser. Parsed once
 * per expression: cron-parser's parse (about 0.3 ms) per fire was nearly all of this test's time.
 */
function wallMatcher(text: string): (wallMs: number) => boolean {
  const [m, h, dom, mon, dow] = text.split(" ") as [string, string, string, string, string];
  const parse = (fields: string[]) =>
    CronExpressionParser.parse(fields.join(" "), { tz: "UTC", hashSeed: "p" });
  const both = dom !== "*" && dow !== "*" && (dom.startsWith("*") || dow.startsWith("*"));
  if (both) {
    const byDay = parse([m, h, dom, mon, "*"]);
    const byWeekday = parse([m, h, "*", mon, dow]);
    return (wallMs) => byDay.includesDate(new Date(wallMs)) && byWeekday.includesDate(new Date(wallMs));
  }
  const expression = parse([m, h, dom, mon, dow]);
  return (wallMs) => expression.includesDate(new Date(wallMs));
}

describe("nextAfter in DST zones (property)", () => {
  it("is strictly increasing, never repeats an instant, and every fire matches the expression or was moved", () => {
    fc.assert(
      fc.property(expression, fc.constantFrom(...ZONES), start, (text, zone, startMs) => {
        let schedule: CronSchedule;
        try {
          schedule = CronSchedule.parse(text, { zone, hashSeed: "p" });
        } catch {
          return;
        }
        const wallMatches = wallMatcher(text);
        let afterMs = startMs;
        const seen = new Set<number>();
        for (let i = 0; i < 12; i++) {
          const fire = schedule.nextAfter(afterMs);
          if (!fire) break;
          expect(fire.timeMs).toBeGreaterThan(afterMs);
          expect(seen.has(fire.timeMs)).toBe(false);
          seen.add(fire.timeMs);
          const offsetMs = zoneOffsetMs(zone, fire.timeMs);
          const wallMs = fire.timeMs + offsetMs;
          if (fire.dst === "moved") {
            // Only a fixed-time job is moved, and only to the instant of a jump forward.
            expect(schedule.fixedTime).toBe(true);
            expect(zoneOffsetMs(zone, fire.timeMs - 1000)).toBeLessThan(offsetMs);
          } else {
            expect(wallMatches(wallMs)).toBe(true);
          }
          if (fire.dst === "second-pass") {
            // Only a wildcard job runs a second time, and the same wall time came earlier with a larger offset.
            expect(schedule.fixedTime).toBe(false);
            const earlier = instantWithSameWallBefore(zone, fire.timeMs);
            expect(earlier).toBeDefined();
          }
          afterMs = fire.timeMs;
        }
      }),
      { numRuns: 400 },
    );
  });
});

/** An earlier instant with the same wall clock as `timeMs` (the first pass of a repeated interval), if any. */
function instantWithSameWallBefore(zone: string, timeMs: number): number | undefined {
  const wallMs = timeMs + zoneOffsetMs(zone, timeMs);
  for (let shiftMs = 15 * 60_000; shiftMs <= 3 * HOUR_MS; shiftMs += 15 * 60_000) {
    const candidate = timeMs - shiftMs;
    if (candidate + zoneOffsetMs(zone, candidate) === wallMs) return candidate;
  }
  return undefined;
}
