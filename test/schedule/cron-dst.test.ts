// Daylight-saving behaviour of cron jobs, zone by zone, on both transitions of 2026 and 2027.
//
// Expected times were worked out by hand from `zdump -v -c 2026,2028 ZONE` and cronie's rules
// (design/schedule-format.md, "Daylight-saving time"), not from the code under test:
// - spring forward: a fixed-time job whose wall time is in the gap runs once at the jump ("moved");
//   a wildcard job's gap times are lost (listed in `dropped` of the next fire);
// - fall back: a fixed-time job runs in the first pass only (the second-pass time is `dropped`);
//   a wildcard job runs in both passes (the second marked "second-pass").
//
// Transitions used (local wall clock):
//   America/New_York     2026-03-08 02:00→03:00, 2026-11-01 02:00→01:00; 2027-03-14, 2027-11-07 (−05/−04)
//   Europe/Berlin        2026-03-29 02:00→03:00, 2026-10-25 03:00→02:00; 2027-03-28, 2027-10-31 (+01/+02)
//   Europe/London        2026-03-29 01:00→02:00, 2026-10-25 02:00→01:00; 2027-03-28, 2027-10-31 (+00/+01)
//   Australia/Sydney     2026-04-05 03:00→02:00, 2026-10-04 02:00→03:00; 2027-04-04, 2027-10-03 (+11/+10)
//   Australia/Lord_Howe  2026-04-05 02:00→01:30, 2026-10-04 02:00→02:30; 2027-04-04, 2027-10-03 (+11/+10:30)
//   Pacific/Chatham      2026-04-05 03:45→02:45, 2026-09-27 02:45→03:45; 2027-04-04, 2027-09-26 (+13:45/+12:45)

import { describe, expect, it } from "vitest";
import { type CronFire, CronSchedule } from "../../src/schedule/cron.js";
import { formatInZone } from "../../src/schedule/zone.js";

/** A fire as the tables write it: RFC 3339 time, then "moved"/"second-pass", then "dropped a,b". */
function describeFire(fire: CronFire, zone: string): string {
  let text = formatInZone(fire.timeMs, zone);
  if (fire.dst) text += ` ${fire.dst}`;
  if (fire.dropped) text += ` dropped ${fire.dropped.join(",")}`;
  return text;
}

/** The next `count` fires of `cron` in `zone` after the instant `from` (RFC 3339). */
function fires(cron: string, zone: string, from: string, count: number): string[] {
  const schedule = CronSchedule.parse(cron, { zone, hashSeed: "dst-test" });
  const result: string[] = [];
  let afterMs = Date.parse(from);
  for (let i = 0; i < count; i++) {
    const fire = schedule.nextAfter(afterMs);
    if (!fire) break;
    result.push(describeFire(fire, zone));
    afterMs = fire.timeMs;
  }
  return result;
}

interface DstCase {
  readonly when: string;
  readonly job: string;
  readonly cron: string;
  readonly from: string;
  readonly fires: readonly string[];
}

const TABLES: Readonly<Record<string, readonly DstCase[]>> = {
  "America/New_York": [
    {
      when: "2026 spring forward",
      job: "fixed-time job inside the gap",
      cron: "15 2 * * *",
      from: "2026-03-08T00:00:00-05:00",
      fires: ["2026-03-08T03:00:00-04:00 moved", "2026-03-09T02:15:00-04:00"],
    },
    {
      when: "2026 spring forward",
      job: "wildcard job across the gap",
      cron: "*/15 * * * *",
      from: "2026-03-08T01:40:00-05:00",
      fires: [
        "2026-03-08T01:45:00-05:00",
        "2026-03-08T03:00:00-04:00 dropped 2026-03-08T02:00,2026-03-08T02:15,2026-03-08T02:30,2026-03-08T02:45",
        "2026-03-08T03:15:00-04:00",
      ],
    },
    {
      when: "2026 fall back",
      job: "fixed-time job inside the repeated interval",
      cron: "15 1 * * *",
      from: "2026-11-01T00:00:00-04:00",
      fires: ["2026-11-01T01:15:00-04:00", "2026-11-02T01:15:00-05:00 dropped 2026-11-01T01:15"],
    },
    {
      when: "2026 fall back",
      job: "wildcard job across the repeated interval",
      cron: "*/15 * * * *",
      from: "2026-11-01T00:40:00-04:00",
      fires: [
        "2026-11-01T00:45:00-04:00",
        "2026-11-01T01:00:00-04:00",
        "2026-11-01T01:15:00-04:00",
        "2026-11-01T01:30:00-04:00",
        "2026-11-01T01:45:00-04:00",
        "2026-11-01T01:00:00-05:00 second-pass",
        "2026-11-01T01:15:00-05:00 second-pass",
        "2026-11-01T01:30:00-05:00 second-pass",
        "2026-11-01T01:45:00-05:00 second-pass",
        "2026-11-01T02:00:00-05:00",
      ],
    },
    {
      when: "2027 spring forward",
      job: "fixed-time job inside the gap",
      cron: "15 2 * * *",
      from: "2027-03-14T00:00:00-05:00",
      fires: ["2027-03-14T03:00:00-04:00 moved", "2027-03-15T02:15:00-04:00"],
    },
    {
      when: "2027 spring forward",
      job: "wildcard job across the gap",
      cron: "*/15 * * * *",
      from: "2027-03-14T01:40:00-05:00",
      fires: [
        "2027-03-14T01:45:00-05:00",
        "2027-03-14T03:00:00-04:00 dropped 2027-03-14T02:00,2027-03-14T02:15,2027-03-14T02:30,2027-03-14T02:45",
        "2027-03-14T03:15:00-04:00",
      ],
    },
    {
      when: "2027 fall back",
      job: "fixed-time job inside the repeated interval",
      cron: "15 1 * * *",
      from: "2027-11-07T00:00:00-04:00",
      fires: ["2027-11-07T01:15:00-04:00", "2027-11-08T01:15:00-05:00 dropped 2027-11-07T01:15"],
    },
    {
      when: "2027 fall back",
      job: "wildcard job across the repeated interval",
      cron: "*/15 * * * *",
      from: "2027-11-07T00:40:00-04:00",
      fires: [
        "2027-11-07T00:45:00-04:00",
        "2027-11-07T01:00:00-04:00",
        "2027-11-07T01:15:00-04:00",
        "2027-11-07T01:30:00-04:00",
        "2027-11-07T01:45:00-04:00",
        "2027-11-07T01:00:00-05:00 second-pass",
        "2027-11-07T01:15:00-05:00 second-pass",
        "2027-11-07T01:30:00-05:00 second-pass",
        "2027-11-07T01:45:00-05:00 second-pass",
        "2027-11-07T02:00:00-05:00",
      ],
    },
  ],
  "Europe/Berlin": [
    {
      when: "2026 spring forward",
      job: "fixed-time job inside the gap",
      cron: "15 2 * * *",
      from: "2026-03-29T00:00:00+01:00",
      fires: ["2026-03-29T03:00:00+02:00 moved", "2026-03-30T02:15:00+02:00"],
    },
    {
      when: "2026 spring forward",
      job: "wildcard job across the gap",
      cron: "*/15 * * * *",
      from: "2026-03-29T01:40:00+01:00",
      fires: [
        "2026-03-29T01:45:00+01:00",
        "2026-03-29T03:00:00+02:00 dropped 2026-03-29T02:00,2026-03-29T02:15,2026-03-29T02:30,2026-03-29T02:45",
        "2026-03-29T03:15:00+02:00",
      ],
    },
    {
      when: "2026 fall back",
      job: "fixed-time job inside the repeated interval",
      cron: "15 2 * * *",
      from: "2026-10-25T00:00:00+02:00",
      fires: ["2026-10-25T02:15:00+02:00", "2026-10-26T02:15:00+01:00 dropped 2026-10-25T02:15"],
    },
    {
      when: "2026 fall back",
      job: "wildcard job across the repeated interval",
      cron: "*/15 * * * *",
      from: "2026-10-25T01:40:00+02:00",
      fires: [
        "2026-10-25T01:45:00+02:00",
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:15:00+02:00",
        "2026-10-25T02:30:00+02:00",
        "2026-10-25T02:45:00+02:00",
        "2026-10-25T02:00:00+01:00 second-pass",
        "2026-10-25T02:15:00+01:00 second-pass",
        "2026-10-25T02:30:00+01:00 second-pass",
        "2026-10-25T02:45:00+01:00 second-pass",
        "2026-10-25T03:00:00+01:00",
      ],
    },
    {
      when: "2027 spring forward",
      job: "fixed-time job inside the gap",
      cron: "15 2 * * *",
      from: "2027-03-28T00:00:00+01:00",
      fires: ["2027-03-28T03:00:00+02:00 moved", "2027-03-29T02:15:00+02:00"],
    },
    {
      when: "2027 spring forward",
      job: "wildcard job across the gap",
      cron: "*/15 * * * *",
      from: "2027-03-28T01:40:00+01:00",
      fires: [
        "2027-03-28T01:45:00+01:00",
        "2027-03-28T03:00:00+02:00 dropped 2027-03-28T02:00,2027-03-28T02:15,2027-03-28T02:30,2027-03-28T02:45",
        "2027-03-28T03:15:00+02:00",
      ],
    },
    {
      when: "2027 fall back",
      job: "fixed-time job inside the repeated interval",
      cron: "15 2 * * *",
      from: "2027-10-31T00:00:00+02:00",
      fires: ["2027-10-31T02:15:00+02:00", "2027-11-01T02:15:00+01:00 dropped 2027-10-31T02:15"],
    },
    {
      when: "2027 fall back",
      job: "wildcard job across the repeated interval",
      cron: "*/15 * * * *",
      from: "2027-10-31T01:40:00+02:00",
      fires: [
        "2027-10-31T01:45:00+02:00",
        "2027-10-31T02:00:00+02:00",
        "2027-10-31T02:15:00+02:00",
        "2027-10-31T02:30:00+02:00",
        "2027-10-31T02:45:00+02:00",
        "2027-10-31T02:00:00+01:00 second-pass",
        "2027-10-31T02:15:00+01:00 second-pass",
        "2027-10-31T02:30:00+01:00 second-pass",
        "2027-10-31T02:45:00+01:00 second-pass",
        "2027-10-31T03:00:00+01:00",
      ],
    },
  ],
  "Europe/London": [
    {
      when: "2026 spring forward",
      job: "fixed-time job inside the gap",
      cron: "15 1 * * *",
      from: "2026-03-29T00:00:00+00:00",
      fires: ["2026-03-29T02:00:00+01:00 moved", "2026-03-30T01:15:00+01:00"],
    },
    {
      when: "2026 spring forward",
      job: "wildcard job across the gap",
      cron: "*/15 * * * *",
      from: "2026-03-29T00:40:00+00:00",
      fires: [
        "2026-03-29T00:45:00+00:00",
        "2026-03-29T02:00:00+01:00 dropped 2026-03-29T01:00,2026-03-29T01:15,2026-03-29T01:30,2026-03-29T01:45",
        "2026-03-29T02:15:00+01:00",
      ],
    },
    {
      when: "2026 fall back",
      job: "fixed-time job inside the repeated interval",
      cron: "15 1 * * *",
      from: "2026-10-25T00:00:00+01:00",
      fires: ["2026-10-25T01:15:00+01:00", "2026-10-26T01:15:00+00:00 dropped 2026-10-25T01:15"],
    },
    {
      when: "2026 fall back",
      job: "wildcard job across the repeated interval",
      cron: "*/15 * * * *",
      from: "2026-10-25T00:40:00+01:00",
      fires: [
        "2026-10-25T00:45:00+01:00",
        "2026-10-25T01:00:00+01:00",
        "2026-10-25T01:15:00+01:00",
        "2026-10-25T01:30:00+01:00",
        "2026-10-25T01:45:00+01:00",
        "2026-10-25T01:00:00+00:00 second-pass",
        "2026-10-25T01:15:00+00:00 second-pass",
        "2026-10-25T01:30:00+00:00 second-pass",
        "2026-10-25T01:45:00+00:00 second-pass",
        "2026-10-25T02:00:00+00:00",
      ],
    },
    {
      when: "2027 spring forward",
      job: "fixed-time job inside the gap",
      cron: "15 1 * * *",
      from: "2027-03-28T00:00:00+00:00",
      fires: ["2027-03-28T02:00:00+01:00 moved", "2027-03-29T01:15:00+01:00"],
    },
    {
      when: "2027 spring forward",
      job: "wildcard job across the gap",
      cron: "*/15 * * * *",
      from: "2027-03-28T00:40:00+00:00",
      fires: [
        "2027-03-28T00:45:00+00:00",
        "2027-03-28T02:00:00+01:00 dropped 2027-03-28T01:00,2027-03-28T01:15,2027-03-28T01:30,2027-03-28T01:45",
        "2027-03-28T02:15:00+01:00",
      ],
    },
    {
      when: "2027 fall back",
      job: "fixed-time job inside the repeated interval",
      cron: "15 1 * * *",
      from: "2027-10-31T00:00:00+01:00",
      fires: ["2027-10-31T01:15:00+01:00", "2027-11-01T01:15:00+00:00 dropped 2027-10-31T01:15"],
    },
    {
      when: "2027 fall back",
      job: "wildcard job across the repeated interval",
      cron: "*/15 * * * *",
      from: "2027-10-31T00:40:00+01:00",
      fires: [
        "2027-10-31T00:45:00+01:00",
        "2027-10-31T01:00:00+01:00",
        "2027-10-31T01:15:00+01:00",
        "2027-10-31T01:30:00+01:00",
        "2027-10-31T01:45:00+01:00",
        "2027-10-31T01:00:00+00:00 second-pass",
        "2027-10-31T01:15:00+00:00 second-pass",
        "2027-10-31T01:30:00+00:00 second-pass",
        "2027-10-31T01:45:00+00:00 second-pass",
        "2027-10-31T02:00:00+00:00",
      ],
    },
  ],
  "Australia/Sydney": [
    {
      when: "2026 spring forward",
      job: "fixed-time job inside the gap",
      cron: "15 2 * * *",
      from: "2026-10-04T00:00:00+10:00",
      fires: ["2026-10-04T03:00:00+11:00 moved", "2026-10-05T02:15:00+11:00"],
    },
    {
      when: "2026 spring forward",
      job: "wildcard job across the gap",
      cron: "*/15 * * * *",
      from: "2026-10-04T01:40:00+10:00",
      fires: [
        "2026-10-04T01:45:00+10:00",
        "2026-10-04T03:00:00+11:00 dropped 2026-10-04T02:00,2026-10-04T02:15,2026-10-04T02:30,2026-10-04T02:45",
        "2026-10-04T03:15:00+11:00",
      ],
    },
    {
      when: "2026 fall back",
      job: "fixed-time job inside the repeated interval",
      cron: "15 2 * * *",
      from: "2026-04-05T00:00:00+11:00",
      fires: ["2026-04-05T02:15:00+11:00", "2026-04-06T02:15:00+10:00 dropped 2026-04-05T02:15"],
    },
    {
      when: "2026 fall back",
      job: "wildcard job across the repeated interval",
      cron: "*/15 * * * *",
      from: "2026-04-05T01:40:00+11:00",
      fires: [
        "2026-04-05T01:45:00+11:00",
        "2026-04-05T02:00:00+11:00",
        "2026-04-05T02:15:00+11:00",
        "2026-04-05T02:30:00+11:00",
        "2026-04-05T02:45:00+11:00",
        "2026-04-05T02:00:00+10:00 second-pass",
        "2026-04-05T02:15:00+10:00 second-pass",
        "2026-04-05T02:30:00+10:00 second-pass",
        "2026-04-05T02:45:00+10:00 second-pass",
        "2026-04-05T03:00:00+10:00",
      ],
    },
    {
      when: "2027 spring forward",
      job: "fixed-time job inside the gap",
      cron: "15 2 * * *",
      from: "2027-10-03T00:00:00+10:00",
      fires: ["2027-10-03T03:00:00+11:00 moved", "2027-10-04T02:15:00+11:00"],
    },
    {
      when: "2027 spring forward",
      job: "wildcard job across the gap",
      cron: "*/15 * * * *",
      from: "2027-10-03T01:40:00+10:00",
      fires: [
        "2027-10-03T01:45:00+10:00",
        "2027-10-03T03:00:00+11:00 dropped 2027-10-03T02:00,2027-10-03T02:15,2027-10-03T02:30,2027-10-03T02:45",
        "2027-10-03T03:15:00+11:00",
      ],
    },
    {
      when: "2027 fall back",
      job: "fixed-time job inside the repeated interval",
      cron: "15 2 * * *",
      from: "2027-04-04T00:00:00+11:00",
      fires: ["2027-04-04T02:15:00+11:00", "2027-04-05T02:15:00+10:00 dropped 2027-04-04T02:15"],
    },
    {
      when: "2027 fall back",
      job: "wildcard job across the repeated interval",
      cron: "*/15 * * * *",
      from: "2027-04-04T01:40:00+11:00",
      fires: [
        "2027-04-04T01:45:00+11:00",
        "2027-04-04T02:00:00+11:00",
        "2027-04-04T02:15:00+11:00",
        "2027-04-04T02:30:00+11:00",
        "2027-04-04T02:45:00+11:00",
        "2027-04-04T02:00:00+10:00 second-pass",
        "2027-04-04T02:15:00+10:00 second-pass",
        "2027-04-04T02:30:00+10:00 second-pass",
        "2027-04-04T02:45:00+10:00 second-pass",
        "2027-04-04T03:00:00+10:00",
      ],
    },
  ],
  "Australia/Lord_Howe": [
    {
      when: "2026 spring forward",
      job: "fixed-time job inside the gap",
      cron: "15 2 * * *",
      from: "2026-10-04T00:00:00+10:30",
      fires: ["2026-10-04T02:30:00+11:00 moved", "2026-10-05T02:15:00+11:00"],
    },
    {
      when: "2026 spring forward",
      job: "wildcard job across the gap",
      cron: "*/15 * * * *",
      from: "2026-10-04T01:40:00+10:30",
      fires: [
        "2026-10-04T01:45:00+10:30",
        "2026-10-04T02:30:00+11:00 dropped 2026-10-04T02:00,2026-10-04T02:15",
        "2026-10-04T02:45:00+11:00",
      ],
    },
    {
      when: "2026 fall back",
      job: "fixed-time job inside the repeated interval",
      cron: "45 1 * * *",
      from: "2026-04-05T00:00:00+11:00",
      fires: ["2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30 dropped 2026-04-05T01:45"],
    },
    {
      when: "2026 fall back",
      job: "wildcard job across the repeated interval",
      cron: "*/15 * * * *",
      from: "2026-04-05T01:10:00+11:00",
      fires: [
        "2026-04-05T01:15:00+11:00",
        "2026-04-05T01:30:00+11:00",
        "2026-04-05T01:45:00+11:00",
        "2026-04-05T01:30:00+10:30 second-pass",
        "2026-04-05T01:45:00+10:30 second-pass",
        "2026-04-05T02:00:00+10:30",
      ],
    },
    {
      when: "2027 spring forward",
      job: "fixed-time job inside the gap",
      cron: "15 2 * * *",
      from: "2027-10-03T00:00:00+10:30",
      fires: ["2027-10-03T02:30:00+11:00 moved", "2027-10-04T02:15:00+11:00"],
    },
    {
      when: "2027 spring forward",
      job: "wildcard job across the gap",
      cron: "*/15 * * * *",
      from: "2027-10-03T01:40:00+10:30",
      fires: [
        "2027-10-03T01:45:00+10:30",
        "2027-10-03T02:30:00+11:00 dropped 2027-10-03T02:00,2027-10-03T02:15",
        "2027-10-03T02:45:00+11:00",
      ],
    },
    {
      when: "2027 fall back",
      job: "fixed-time job inside the repeated interval",
      cron: "45 1 * * *",
      from: "2027-04-04T00:00:00+11:00",
      fires: ["2027-04-04T01:45:00+11:00", "2027-04-05T01:45:00+10:30 dropped 2027-04-04T01:45"],
    },
    {
      when: "2027 fall back",
      job: "wildcard job across the repeated interval",
      cron: "*/15 * * * *",
      from: "2027-04-04T01:10:00+11:00",
      fires: [
        "2027-04-04T01:15:00+11:00",
        "2027-04-04T01:30:00+11:00",
        "2027-04-04T01:45:00+11:00",
        "2027-04-04T01:30:00+10:30 second-pass",
        "2027-04-04T01:45:00+10:30 second-pass",
        "2027-04-04T02:00:00+10:30",
      ],
    },
  ],
  "Pacific/Chatham": [
    {
      when: "2026 spring forward",
      job: "fixed-time job inside the gap",
      cron: "0 3 * * *",
      from: "2026-09-27T00:00:00+12:45",
      fires: ["2026-09-27T03:45:00+13:45 moved", "2026-09-28T03:00:00+13:45"],
    },
    {
      when: "2026 spring forward",
      job: "wildcard job across the gap",
      cron: "*/15 * * * *",
      from: "2026-09-27T02:25:00+12:45",
      fires: [
        "2026-09-27T02:30:00+12:45",
        "2026-09-27T03:45:00+13:45 dropped 2026-09-27T02:45,2026-09-27T03:00,2026-09-27T03:15,2026-09-27T03:30",
        "2026-09-27T04:00:00+13:45",
      ],
    },
    {
      when: "2026 fall back",
      job: "fixed-time job inside the repeated interval",
      cron: "0 3 * * *",
      from: "2026-04-05T00:00:00+13:45",
      fires: ["2026-04-05T03:00:00+13:45", "2026-04-06T03:00:00+12:45 dropped 2026-04-05T03:00"],
    },
    {
      when: "2026 fall back",
      job: "wildcard job across the repeated interval",
      cron: "*/15 * * * *",
      from: "2026-04-05T02:25:00+13:45",
      fires: [
        "2026-04-05T02:30:00+13:45",
        "2026-04-05T02:45:00+13:45",
        "2026-04-05T03:00:00+13:45",
        "2026-04-05T03:15:00+13:45",
        "2026-04-05T03:30:00+13:45",
        "2026-04-05T02:45:00+12:45 second-pass",
        "2026-04-05T03:00:00+12:45 second-pass",
        "2026-04-05T03:15:00+12:45 second-pass",
        "2026-04-05T03:30:00+12:45 second-pass",
        "2026-04-05T03:45:00+12:45",
      ],
    },
    {
      when: "2027 spring forward",
      job: "fixed-time job inside the gap",
      cron: "0 3 * * *",
      from: "2027-09-26T00:00:00+12:45",
      fires: ["2027-09-26T03:45:00+13:45 moved", "2027-09-27T03:00:00+13:45"],
    },
    {
      when: "2027 spring forward",
      job: "wildcard job across the gap",
      cron: "*/15 * * * *",
      from: "2027-09-26T02:25:00+12:45",
      fires: [
        "2027-09-26T02:30:00+12:45",
        "2027-09-26T03:45:00+13:45 dropped 2027-09-26T02:45,2027-09-26T03:00,2027-09-26T03:15,2027-09-26T03:30",
        "2027-09-26T04:00:00+13:45",
      ],
    },
    {
      when: "2027 fall back",
      job: "fixed-time job inside the repeated interval",
      cron: "0 3 * * *",
      from: "2027-04-04T00:00:00+13:45",
      fires: ["2027-04-04T03:00:00+13:45", "2027-04-05T03:00:00+12:45 dropped 2027-04-04T03:00"],
    },
    {
      when: "2027 fall back",
      job: "wildcard job across the repeated interval",
      cron: "*/15 * * * *",
      from: "2027-04-04T02:25:00+13:45",
      fires: [
        "2027-04-04T02:30:00+13:45",
        "2027-04-04T02:45:00+13:45",
        "2027-04-04T03:00:00+13:45",
        "2027-04-04T03:15:00+13:45",
        "2027-04-04T03:30:00+13:45",
        "2027-04-04T02:45:00+12:45 second-pass",
        "2027-04-04T03:00:00+12:45 second-pass",
        "2027-04-04T03:15:00+12:45 second-pass",
        "2027-04-04T03:30:00+12:45 second-pass",
        "2027-04-04T03:45:00+12:45",
      ],
    },
  ],
};

for (const [zone, cases] of Object.entries(TABLES)) {
  describe(`DST in ${zone}`, () => {
    for (const c of cases) {
      it(`${c.when}: a ${c.job} ("${c.cron}") fires at ${c.fires.map((f) => f.split(" ")[0]).join(", ")}`, () => {
        expect(fires(c.cron, zone, c.from, c.fires.length)).toEqual(c.fires);
      });
    }
  });
}

describe("DST edge cases", () => {
  it("several gap times of one fixed-time job still give one run at the jump", () => {
    expect(fires("0,30 2 * * *", "America/New_York", "2026-03-08T00:00:00-05:00", 3)).toEqual([
      "2026-03-08T03:00:00-04:00 moved",
      "2026-03-09T02:00:00-04:00",
      "2026-03-09T02:30:00-04:00",
    ]);
  });

  it("a moved run and a regular run at the same instant are one run", () => {
    expect(fires("0 2,3 * * *", "America/New_York", "2026-03-08T00:00:00-05:00", 3)).toEqual([
      "2026-03-08T03:00:00-04:00 moved",
      "2026-03-09T02:00:00-04:00",
      "2026-03-09T03:00:00-04:00",
    ]);
  });

  it("a fixed-time job listing hours around the gap runs before, at the jump, and after", () => {
    expect(fires("30 1,2,3 * * *", "America/New_York", "2026-03-08T00:00:00-05:00", 3)).toEqual([
      "2026-03-08T01:30:00-05:00",
      "2026-03-08T03:00:00-04:00 moved",
      "2026-03-08T03:30:00-04:00",
    ]);
  });

  it("a wildcard-hour job (0 */2) loses its 02:00 run on the spring-forward day", () => {
    expect(fires("0 */2 * * *", "America/New_York", "2026-03-08T00:30:00-05:00", 2)).toEqual([
      "2026-03-08T04:00:00-04:00 dropped 2026-03-08T02:00",
      "2026-03-08T06:00:00-04:00",
    ]);
  });

  it("a wildcard-minute job in a fixed hour (*/20 2) has no run on the spring-forward day", () => {
    expect(fires("*/20 2 * * *", "America/New_York", "2026-03-07T12:00:00-05:00", 2)).toEqual([
      "2026-03-09T02:00:00-04:00 dropped 2026-03-08T02:00,2026-03-08T02:20,2026-03-08T02:40",
      "2026-03-09T02:20:00-04:00",
    ]);
  });

  it("a wildcard-minute job in a fixed hour (*/30 1) runs in both passes of the repeated hour", () => {
    expect(fires("*/30 1 * * *", "America/New_York", "2026-11-01T00:00:00-04:00", 5)).toEqual([
      "2026-11-01T01:00:00-04:00",
      "2026-11-01T01:30:00-04:00",
      "2026-11-01T01:00:00-05:00 second-pass",
      "2026-11-01T01:30:00-05:00 second-pass",
      "2026-11-02T01:00:00-05:00",
    ]);
  });

  it("a fixed-time job restarted inside the second pass does not run that time again", () => {
    expect(fires("30 1 * * *", "America/New_York", "2026-11-01T01:10:00-05:00", 1)).toEqual([
      "2026-11-02T01:30:00-05:00 dropped 2026-11-01T01:30",
    ]);
  });

  it("a wildcard job restarted inside the second pass continues in the second pass", () => {
    expect(fires("30 * * * *", "America/New_York", "2026-11-01T01:10:00-05:00", 2)).toEqual([
      "2026-11-01T01:30:00-05:00 second-pass",
      "2026-11-01T02:30:00-05:00",
    ]);
  });

  it("in Chatham a time just after the gap (03:50) exists and runs unchanged", () => {
    expect(fires("50 3 * * *", "Pacific/Chatham", "2026-09-26T12:00:00+12:45", 2)).toEqual([
      "2026-09-27T03:50:00+13:45",
      "2026-09-28T03:50:00+13:45",
    ]);
  });

  it("in Lord Howe a daily job keeps running across the 30-minute fall-back (cron-parser throws here)", () => {
    expect(fires("0 3 * * *", "Australia/Lord_Howe", "2026-04-05T00:30:00+11:00", 2)).toEqual([
      "2026-04-05T03:00:00+10:30",
      "2026-04-06T03:00:00+10:30",
    ]);
    expect(fires("0 2 * * *", "Australia/Lord_Howe", "2026-04-03T12:00:00+11:00", 3)).toEqual([
      "2026-04-04T02:00:00+11:00",
      "2026-04-05T02:00:00+10:30",
      "2026-04-06T02:00:00+10:30",
    ]);
  });

  it("in Lord Howe a fixed job at 02:00 on the spring-forward day is not lost (cron-parser skips the day)", () => {
    expect(fires("0 2 * * *", "Australia/Lord_Howe", "2026-10-03T12:00:00+10:30", 2)).toEqual([
      "2026-10-04T02:30:00+11:00 moved",
      "2026-10-05T02:00:00+11:00",
    ]);
  });

  it("in Chatham an every-15-minutes job never goes backwards through the fall-back (cron-parser cycles)", () => {
    const result = fires("*/15 * * * *", "Pacific/Chatham", "2026-04-05T02:15:00+13:45", 12);
    expect(result).toEqual([
      "2026-04-05T02:30:00+13:45",
      "2026-04-05T02:45:00+13:45",
      "2026-04-05T03:00:00+13:45",
      "2026-04-05T03:15:00+13:45",
      "2026-04-05T03:30:00+13:45",
      "2026-04-05T02:45:00+12:45 second-pass",
      "2026-04-05T03:00:00+12:45 second-pass",
      "2026-04-05T03:15:00+12:45 second-pass",
      "2026-04-05T03:30:00+12:45 second-pass",
      "2026-04-05T03:45:00+12:45",
      "2026-04-05T04:00:00+12:45",
      "2026-04-05T04:15:00+12:45",
    ]);
  });

  it("a job with seconds fires every second up to the jump and resumes after it", () => {
    expect(fires("58-59,0-1 59,0 1,3 * * *", "America/New_York", "2026-03-08T01:59:57-05:00", 4)).toEqual([
      "2026-03-08T01:59:58-05:00",
      "2026-03-08T01:59:59-05:00",
      "2026-03-08T03:00:00-04:00",
      "2026-03-08T03:00:01-04:00",
    ]);
  });
});

describe("zones without DST are the control group", () => {
  it("Asia/Kolkata: 02:15 on New York's spring-forward day is an ordinary 02:15", () => {
    expect(fires("15 2 * * *", "Asia/Kolkata", "2026-03-08T00:00:00+05:30", 2)).toEqual([
      "2026-03-08T02:15:00+05:30",
      "2026-03-09T02:15:00+05:30",
    ]);
  });

  it("Asia/Kolkata: every 15 minutes through Berlin's fall-back hour, once each", () => {
    expect(fires("*/15 * * * *", "Asia/Kolkata", "2026-10-25T01:50:00+05:30", 5)).toEqual([
      "2026-10-25T02:00:00+05:30",
      "2026-10-25T02:15:00+05:30",
      "2026-10-25T02:30:00+05:30",
      "2026-10-25T02:45:00+05:30",
      "2026-10-25T03:00:00+05:30",
    ]);
  });

  it("UTC: 01:30 on London's fall-back day happens once", () => {
    expect(fires("30 1 * * *", "UTC", "2026-10-25T00:00:00Z", 2)).toEqual([
      "2026-10-25T01:30:00Z",
      "2026-10-26T01:30:00Z",
    ]);
  });
});
