import { execFileSync } from "node:child_process";
import { readlinkSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  formatInZone,
  formatWallTime,
  gapEndInstant,
  hostZoneIsUtc,
  instantsOfWallTime,
  isValidZone,
  resolveWallTime,
  suggestZone,
  systemZone,
  WallTimeError,
  zoneOffsetMs,
} from "../../src/schedule/zone.js";

const HOUR_MS = 3_600_000;

/** The WallTimeError `text` is rejected with. */
function rejection(text: string, zone: string): WallTimeError {
  try {
    resolveWallTime(text, zone);
  } catch (error) {
    expect(error).toBeInstanceOf(WallTimeError);
    return error as WallTimeError;
  }
  throw new Error(`"${text}" was accepted`);
}

describe("isValidZone", () => {
  it.each([
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Asia/Kolkata",
    "UTC",
    "Etc/UTC",
  ])("accepts %s", (zone) => expect(isValidZone(zone)).toBe(true));

  it("accepts links that Intl accepts, such as US/Eastern", () => {
    expect(isValidZone("US/Eastern")).toBe(true);
    expect(zoneOffsetMs("US/Eastern", Date.parse("2026-01-15T12:00:00Z"))).toBe(-5 * HOUR_MS);
  });

  it.each(["Mars/Olympus", "Europe/Berln", "", " Europe/Berlin", "europe/berlin", "+01:00"])(
    "rejects %j",
    (zone) => expect(isValidZone(zone)).toBe(false),
  );
});

describe("suggestZone", () => {
  it.each([
    ["europe/berln", "Europe/Berlin"],
    ["europe/berlin", "Europe/Berlin"],
    ["America/New York", "America/New_York"],
    ["Amerca/New_York", "America/New_York"],
    ["berlin", "Europe/Berlin"],
    ["utc", "UTC"],
  ])("%j → %s", (bad, good) => expect(suggestZone(bad)).toBe(good));

  it("suggests nothing for something unlike any zone", () => {
    expect(suggestZone("Mars/Olympus Mons")).toBeUndefined();
    expect(suggestZone("")).toBeUndefined();
  });
});

describe("systemZone", () => {
  it("is a valid zone", () => {
    expect(isValidZone(systemZone())).toBe(true);
  });

  it("is what Intl says, also when it is told without Intl", () => {
    const intlZone = (tz: string | undefined): string => {
      const env = { ...process.env };
      if (tz === undefined) delete env.TZ;
      else env.TZ = tz;
      return execFileSync(process.execPath, ["-p", "new Intl.DateTimeFormat().resolvedOptions().timeZone"], {
        env,
        encoding: "utf8",
      }).trim();
    };
    for (const tz of ["UTC", "Etc/UTC", ":UTC", ":Etc/UTC"]) {
      expect(hostZoneIsUtc(tz, readlinkSync), tz).toBe(true);
      expect(intlZone(tz), tz).toBe("UTC");
    }
    if (hostZoneIsUtc(undefined, readlinkSync)) expect(intlZone(undefined)).toBe("UTC");
  });

  it("asks Intl unless TZ or /etc/localtime name UTC", () => {
    const linkTo = (target: string) => () => target;
    const noLink = () => {
      throw Object.assign(new Error("not a symbolic link"), { code: "EINVAL" });
    };
    expect(hostZoneIsUtc(undefined, linkTo("/usr/share/zoneinfo/Etc/UTC"))).toBe(true);
    expect(hostZoneIsUtc(undefined, linkTo("../usr/share/zoneinfo/UTC"))).toBe(true);
    expect(hostZoneIsUtc(undefined, linkTo("/usr/share/zoneinfo/Europe/Berlin"))).toBe(false);
    expect(hostZoneIsUtc(undefined, linkTo("/usr/share/zoneinfo/Etc/UTC.bak"))).toBe(false);
    expect(hostZoneIsUtc(undefined, noLink)).toBe(false);
    for (const tz of ["", "Europe/Berlin", "GMT", "UTC0", "utc"]) {
      expect(hostZoneIsUtc(tz, linkTo("/usr/share/zoneinfo/Etc/UTC")), tz).toBe(false);
    }
  });
});

describe("zoneOffsetMs", () => {
  it("follows DST, including 30- and 45-minute offsets", () => {
    expect(zoneOffsetMs("Europe/Berlin", Date.parse("2026-01-15T12:00:00Z"))).toBe(HOUR_MS);
    expect(zoneOffsetMs("Europe/Berlin", Date.parse("2026-07-15T12:00:00Z"))).toBe(2 * HOUR_MS);
    expect(zoneOffsetMs("Australia/Lord_Howe", Date.parse("2026-07-15T12:00:00Z"))).toBe(10.5 * HOUR_MS);
    expect(zoneOffsetMs("Pacific/Chatham", Date.parse("2026-01-15T12:00:00Z"))).toBe(13.75 * HOUR_MS);
    expect(zoneOffsetMs("Asia/Kolkata", Date.parse("2026-01-15T12:00:00Z"))).toBe(5.5 * HOUR_MS);
  });

  it("changes exactly at the transition second (zdump: New York 2026-03-08 07:00:00 UT)", () => {
    const jump = Date.parse("2026-03-08T07:00:00Z");
    expect(zoneOffsetMs("America/New_York", jump - 1)).toBe(-5 * HOUR_MS);
    expect(zoneOffsetMs("America/New_York", jump - 1000)).toBe(-5 * HOUR_MS);
    expect(zoneOffsetMs("America/New_York", jump)).toBe(-4 * HOUR_MS);
    const lordHowe = Date.parse("2026-10-03T15:30:00Z");
    expect(zoneOffsetMs("Australia/Lord_Howe", lordHowe - 1000)).toBe(10.5 * HOUR_MS);
    expect(zoneOffsetMs("Australia/Lord_Howe", lordHowe)).toBe(11 * HOUR_MS);
  });

  it("throws for an unknown zone", () => {
    expect(() => zoneOffsetMs("Mars/Olympus", 0)).toThrow(RangeError);
  });

  it("agrees with Intl asked directly, every hour of 2026 and every minute around both DST changes, north and south", () => {
    // One formatter per zone: building one (about as costly as a thousand formatToParts) for each instant made
    // this test take 8-17 s on a loaded machine.
    const formatters = new Map<string, Intl.DateTimeFormat>();
    const formatterFor = (zone: string): Intl.DateTimeFormat => {
      let formatter = formatters.get(zone);
      if (!formatter) {
        formatter = new Intl.DateTimeFormat("en-US", {
          timeZone: zone,
          hourCycle: "h23",
          year: "numeric",
          month: "2-digit",
          day: "2-digit",
          hour: "2-digit",
          minute: "2-digit",
          second: "2-digit",
        });
        formatters.set(zone, formatter);
      }
      return formatter;
    };
    /** The offset as Intl gives it for one instant, from the wall clock's fields: no table, no cache of offsets. */
    const askIntl = (zone: string, timeMs: number): number => {
      const parts = formatterFor(zone).formatToParts(new Date(timeMs));
      const field = (type: string) => Number(parts.find((part) => part.type === type)!.value);
      const wallMs = Date.UTC(
        field("year"),
        field("month") - 1,
        field("day"),
        field("hour"),
        field("minute"),
        field("second"),
      );
      return wallMs - Math.floor(timeMs / 1000) * 1000;
    };
    const changes: Record<string, string[]> = {
      "Europe/Berlin": ["2026-03-29T01:00:00Z", "2026-10-25T01:00:00Z"],
      "Australia/Sydney": ["2026-04-04T16:00:00Z", "2026-10-03T16:00:00Z"],
      "Australia/Lord_Howe": ["2026-04-04T15:00:00Z", "2026-10-03T15:30:00Z"],
    };
    for (const [zone, instants] of Object.entries(changes)) {
      const mismatches: string[] = [];
      const compare = (timeMs: number) => {
        if (zoneOffsetMs(zone, timeMs) !== askIntl(zone, timeMs))
          mismatches.push(new Date(timeMs).toISOString());
      };
      for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2027, 0, 1); t += HOUR_MS) compare(t);
      for (const instant of instants) {
        const changeMs = Date.parse(instant);
        expect(askIntl(zone, changeMs - 1000), `${zone} changes at ${instant}`).not.toBe(
          askIntl(zone, changeMs),
        );
        for (let t = changeMs - 3 * HOUR_MS; t <= changeMs + 3 * HOUR_MS; t += 60_000) compare(t);
        for (let t = changeMs - 5000; t <= changeMs + 5000; t += 500) compare(t);
      }
      expect(mismatches, zone).toEqual([]);
    }
  });
});

describe("wall-time helpers", () => {
  it("a wall time has one instant normally, none in a gap and two in an overlap", () => {
    expect(instantsOfWallTime("America/New_York", Date.parse("2026-03-08T01:30:00Z"))).toEqual([
      Date.parse("2026-03-08T06:30:00Z"),
    ]);
    expect(instantsOfWallTime("America/New_York", Date.parse("2026-03-08T02:30:00Z"))).toEqual([]);
    expect(instantsOfWallTime("America/New_York", Date.parse("2026-11-01T01:30:00Z"))).toEqual([
      Date.parse("2026-11-01T05:30:00Z"),
      Date.parse("2026-11-01T06:30:00Z"),
    ]);
  });

  it("a gap time's jump is the transition instant", () => {
    expect(gapEndInstant("America/New_York", Date.parse("2026-03-08T02:30:00Z"))).toBe(
      Date.parse("2026-03-08T07:00:00Z"),
    );
    expect(gapEndInstant("Pacific/Chatham", Date.parse("2026-09-27T03:00:00Z"))).toBe(
      Date.parse("2026-09-26T14:00:00Z"),
    );
  });

  it("formats wall times as ISO local text", () => {
    expect(formatWallTime(Date.parse("2026-03-08T02:15:00Z"))).toBe("2026-03-08T02:15");
    expect(formatWallTime(Date.parse("2026-03-08T02:15:30Z"))).toBe("2026-03-08T02:15:30");
  });
});

describe("formatInZone", () => {
  it("writes RFC 3339 with the zone's offset", () => {
    expect(formatInZone(Date.parse("2026-03-08T07:00:00Z"), "America/New_York")).toBe(
      "2026-03-08T03:00:00-04:00",
    );
    expect(formatInZone(Date.parse("2026-03-08T06:59:59Z"), "America/New_York")).toBe(
      "2026-03-08T01:59:59-05:00",
    );
    expect(formatInZone(Date.parse("2026-10-03T15:30:00Z"), "Australia/Lord_Howe")).toBe(
      "2026-10-04T02:30:00+11:00",
    );
    expect(formatInZone(Date.parse("2026-04-04T14:00:00Z"), "Pacific/Chatham")).toBe(
      "2026-04-05T02:45:00+12:45",
    );
    expect(formatInZone(Date.parse("2026-01-15T12:00:00Z"), "Europe/London")).toBe(
      "2026-01-15T12:00:00+00:00",
    );
  });

  it("shows milliseconds only when there are some", () => {
    expect(formatInZone(Date.parse("2026-01-15T12:00:00.250Z"), "Europe/Berlin")).toBe(
      "2026-01-15T13:00:00.250+01:00",
    );
  });

  it("ends in Z for UTC", () => {
    expect(formatInZone(Date.parse("2026-01-15T12:00:00Z"), "UTC")).toBe("2026-01-15T12:00:00Z");
    expect(formatInZone(Date.parse("2026-01-15T12:00:00Z"), "Etc/UTC")).toBe("2026-01-15T12:00:00Z");
  });
});

describe("resolveWallTime (the `at:` trigger)", () => {
  it("reads a wall time in the zone, with a space or a T, with or without seconds", () => {
    const expected = Date.parse("2026-12-01T08:00:00Z");
    expect(resolveWallTime("2026-12-01 09:00", "Europe/Berlin")).toBe(expected);
    expect(resolveWallTime("2026-12-01T09:00:00", "Europe/Berlin")).toBe(expected);
    expect(resolveWallTime("2026-12-01T09:00:00.500", "Europe/Berlin")).toBe(expected + 500);
    expect(resolveWallTime("2026-07-01 09:00", "Europe/Berlin")).toBe(Date.parse("2026-07-01T07:00:00Z"));
  });

  it("takes an offset or Z as the exact instant, whatever the zone", () => {
    expect(resolveWallTime("2026-12-01T09:00:00+01:00", "America/New_York")).toBe(
      Date.parse("2026-12-01T08:00:00Z"),
    );
    expect(resolveWallTime("2026-12-01 09:00-05:30", "UTC")).toBe(Date.parse("2026-12-01T14:30:00Z"));
    expect(resolveWallTime("2026-12-01T09:00:00Z", "Europe/Berlin")).toBe(Date.parse("2026-12-01T09:00:00Z"));
  });

  it("an offset makes a gap or overlap time usable", () => {
    expect(resolveWallTime("2026-10-25T02:30:00+01:00", "Europe/Berlin")).toBe(
      Date.parse("2026-10-25T01:30:00Z"),
    );
    expect(resolveWallTime("2026-10-25T02:30:00+02:00", "Europe/Berlin")).toBe(
      Date.parse("2026-10-25T00:30:00Z"),
    );
  });

  it("a time in the spring-forward gap does not exist", () => {
    const error = rejection("2026-03-08 02:30", "America/New_York");
    expect(error.message).toBe(
      "2026-03-08 02:30 does not exist in America/New_York (the clocks jump from 02:00 to 03:00)",
    );
    expect(error.hint).toBe("use a time outside the gap, e.g. 2026-03-08T03:00:00-04:00, or give an offset");
    expect(rejection("2026-10-04 02:15", "Australia/Lord_Howe").message).toBe(
      "2026-10-04 02:15 does not exist in Australia/Lord_Howe (the clocks jump from 02:00 to 02:30)",
    );
  });

  it("a time in the fall-back overlap happens twice and needs an offset", () => {
    expect(rejection("2026-10-25 02:30", "Europe/Berlin").message).toBe(
      "2026-10-25 02:30 happens twice in Europe/Berlin (the clocks go back from 03:00 to 02:00); " +
        "add an offset: 2026-10-25T02:30:00+02:00 (first) or 2026-10-25T02:30:00+01:00 (second)",
    );
    expect(rejection("2026-04-05 03:00", "Pacific/Chatham").message).toBe(
      "2026-04-05 03:00 happens twice in Pacific/Chatham (the clocks go back from 03:45 to 02:45); " +
        "add an offset: 2026-04-05T03:00:00+13:45 (first) or 2026-04-05T03:00:00+12:45 (second)",
    );
  });

  it.each([
    ["tomorrow", '"tomorrow" is not an ISO 8601 date-time like "2026-12-01 09:00"'],
    ["2026-12-01", '"2026-12-01" has a date but no time of day'],
    ["12/01/2026 09:00", '"12/01/2026 09:00" is not an ISO 8601 date-time like "2026-12-01 09:00"'],
    ["2026-02-30 09:00", '"2026-02-30 09:00": February 2026 has no day 30 (it has 28 days)'],
    ["2026-13-01 09:00", '"2026-13-01 09:00": month 13 is out of range 01–12'],
    ["2026-12-01 24:00", '"2026-12-01 24:00": hour 24 is out of range 00–23'],
    ["2026-12-01 09:60", '"2026-12-01 09:60": minute 60 is out of range 00–59'],
  ])("malformed %j → %s", (text, message) => {
    const error = rejection(text, "UTC");
    expect(error.message).toBe(message);
    expect(error.hint).toMatch(/2026-12-01/);
  });

  it("rejects an unknown zone with a suggestion", () => {
    const error = rejection("2026-12-01 09:00", "Europe/Berln");
    expect(error.message).toBe('unknown time zone "Europe/Berln"');
    expect(error.hint).toBe('did you mean "Europe/Berlin"?');
  });
});
