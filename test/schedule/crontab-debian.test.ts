// Real crontabs from Debian packages (test/fixtures/crontab/debian): each entry becomes a job with the same
// command, user and environment, and fires when cron would, checked against a matcher written here from
// crontab(5) and cronie's DST rules, minute by minute, sharing no code with tdefer's cron engine.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ScheduleErrors } from "../../src/errors.js";
import { CronSchedule } from "../../src/schedule/cron.js";
import { loadCrontabText, readCrontabText } from "../../src/schedule/crontab.js";
import { crontabAsYaml } from "../../src/schedule/crontab-yaml.js";
import type { Schedule } from "../../src/schedule/types.js";
import { loadScheduleText } from "../../src/schedule/validate.js";

const DEBIAN = fileURLToPath(new URL("../fixtures/crontab/debian/", import.meta.url));
const OPTIONS = {
  nowMs: Date.UTC(2026, 2, 28, 20, 0),
  systemZone: "UTC",
  isRoot: true,
  forRunning: false,
  system: false, // the paths (etc/crontab, etc/cron.d/*) make them system crontabs
  homeOf: (user: string | undefined) => `/home/${user}`,
};

function crontabFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return crontabFiles(path);
    return /\/etc\/(crontab|cron\.d\/[^/]+)$/.test(path) ? [path] : [];
  });
}

/** A crontab line by line as crontab(5) describes it, for these files (no `%`, no quotes, no nicknames). */
function expectedEntries(text: string) {
  const env: Record<string, string> = {};
  const entries: {
    line: number;
    fields: string[];
    user: string;
    command: string;
    env: Record<string, string>;
  }[] = [];
  text.split("\n").forEach((line, index) => {
    if (/^\s*(#|$)/.test(line)) return;
    const setting = /^\s*(\w+)\s*=\s*(.*?)\s*$/.exec(line);
    if (setting) {
      env[setting[1]!] = setting[2]!;
      return;
    }
    const match = /^\s*(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(.*)$/.exec(line)!;
    const command = match[7]!;
    expect(command.replace(/\\%/g, "")).not.toContain("%");
    entries.push({
      line: index + 1,
      fields: match.slice(1, 6),
      user: match[6]!,
      command: command.replace(/\\%/g, "%"),
      env: { SHELL: "/bin/sh", PATH: "/usr/bin:/bin", ...env },
    });
  });
  return entries;
}

// ---- an obviously-correct cron matcher: crontab(5) and cronie's DST rules, one minute at a time ----

const NAMES: Record<string, number> = Object.fromEntries([
  ...["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"].map((m, i) => [
    m,
    i + 1,
  ]),
  ...["sun", "mon", "tue", "wed", "thu", "fri", "sat"].map((d, i) => [d, i]),
]);

function fieldSet(text: string, low: number, high: number): Set<number> {
  const set = new Set<number>();
  for (const item of text.split(",")) {
    const [range, stepText] = item.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    const number = (s: string) => NAMES[s.toLowerCase()] ?? Number(s);
    let from = low;
    let to = high;
    if (range !== "*") {
      const [a, b] = range!.split("-");
      from = number(a!);
      to = b === undefined ? from : number(b);
    }
    for (let v = from; v <= to; v += step) set.add(v);
  }
  return set;
}

interface Wall {
  minute: number;
  hour: number;
  day: number;
  month: number;
  weekday: number;
  /** Minutes since the epoch on the wall clock, to tell a repeated or skipped minute. */
  index: number;
}

function matcher(fields: string[]) {
  const [minute, hour, dom, month, dow] = [
    fieldSet(fields[0]!, 0, 59),
    fieldSet(fields[1]!, 0, 23),
    fieldSet(fields[2]!, 1, 31),
    fieldSet(fields[3]!, 1, 12),
    fieldSet(fields[4]!, 0, 7),
  ];
  if (dow.has(7)) dow.add(0);
  const domStar = fields[2]!.startsWith("*");
  const dowStar = fields[4]!.startsWith("*");
  const dayMatches = (w: Wall) => {
    if (!month.has(w.month)) return false;
    // crontab(5): when both day fields are restricted (neither starts with *), either may match.
    if (!domStar && !dowStar) return dom.has(w.day) || dow.has(w.weekday);
    return dom.has(w.day) && dow.has(w.weekday);
  };
  return Object.assign((w: Wall) => minute.has(w.minute) && hour.has(w.hour) && dayMatches(w), {
    dayMatches,
  });
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const QUARTER_MS = 15 * 60_000;
const offsets = new Map<string, number>();

/** The wall clock at an instant: the zone's offset, asked of Intl once per quarter hour (offsets change only there). */
function wallOf(timeMs: number, zone: string): Wall {
  const quarter = Math.floor(timeMs / QUARTER_MS) * QUARTER_MS;
  let offset = offsets.get(`${zone} ${quarter}`);
  if (offset === undefined) {
    offset = intlWallMs(quarter, zone) - quarter;
    offsets.set(`${zone} ${quarter}`, offset);
  }
  const wall = new Date(timeMs + offset);
  return {
    minute: wall.getUTCMinutes(),
    hour: wall.getUTCHours(),
    day: wall.getUTCDate(),
    month: wall.getUTCMonth() + 1,
    weekday: wall.getUTCDay(),
    index: Math.floor((timeMs + offset) / 60_000),
  };
}

function intlWallMs(timeMs: number, zone: string): number {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
    });
    formatters.set(zone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(timeMs).map((p) => [p.type, Number(p.value)]));
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!);
}

/**
 * The next `count` fires after `fromMs`, as cronie runs them: each real minute whose wall time matches;
 * for a fixed-time job (minute and hour do not start with *) a wall minute skipped by a spring-forward
 * jump runs at the jump, and a repeated wall minute runs only the first time.
 */
function cronFires(fields: string[], zone: string, fromMs: number, count: number): number[] {
  const matches = matcher(fields);
  const fixed = !fields[0]!.startsWith("*") && !fields[1]!.startsWith("*");
  const fires: number[] = [];
  let t = Math.floor(fromMs / 60_000) * 60_000 + 60_000;
  let highest = wallOf(t - 60_000, zone).index;
  for (; fires.length < count; t += 60_000) {
    const wall = wallOf(t, zone);
    if (wall.hour < 20 && !matches.dayMatches(wall)) {
      // Nothing on this wall day matches: go on near 20:00 of it (no clock jump is 4 hours), only for speed.
      t += ((20 - wall.hour) * 60 - wall.minute - 1) * 60_000;
      highest = Math.max(highest, wallOf(t, zone).index);
      continue;
    }
    let fire = false;
    if (fixed) {
      for (let skipped = highest + 1; skipped < wall.index; skipped++) {
        if (matches(wallAt(skipped))) fire = true;
      }
      if (wall.index > highest && matches(wall)) fire = true;
    } else if (matches(wall)) {
      fire = true;
    }
    if (fire) fires.push(t);
    highest = Math.max(highest, wall.index);
  }
  return fires;
}

/** The wall fields of a wall-clock minute index (read as UTC: no zone involved). */
function wallAt(index: number): Wall {
  return wallOf(index * 60_000, "UTC");
}

const iso = (ms: number) => new Date(ms).toISOString();

function engineFires(expression: string, zone: string, fromMs: number, count: number): number[] {
  const cron = CronSchedule.parse(expression, { zone, hashSeed: "x" });
  const fires: number[] = [];
  let after = fromMs;
  while (fires.length < count) {
    const fire = cron.nextAfter(after)!;
    fires.push(fire.timeMs);
    after = fire.timeMs;
  }
  return fires;
}

function load(path: string, text: string, extra: { systemZone?: string } = {}): Schedule {
  return loadCrontabText(text, path, { ...OPTIONS, ...extra });
}

const files = crontabFiles(DEBIAN).sort();
const withEntries = files.filter((path) => !path.includes("/rsnapshot_"));

describe("Debian's crontabs", () => {
  it("are the fifteen files with entries, from a dozen and more packages", () => {
    expect(withEntries.length).toBe(15);
  });

  describe.each(withEntries.map((path) => [path.slice(DEBIAN.length), path]))("%s", (_name, path) => {
    const text = readFileSync(path, "utf8");
    const schedule = load(path, text);
    const expected = expectedEntries(text);

    it("turns every entry into a job, in order, with the same command byte for byte, user and environment", () => {
      expect(schedule.jobs.length).toBe(expected.length);
      schedule.jobs.forEach((job, i) => {
        const entry = expected[i]!;
        expect(job.command).toEqual({ kind: "shell", script: entry.command, shell: entry.env.SHELL });
        expect(job.user).toBe(entry.user);
        expect(job.env).toEqual(entry.env);
        expect(job.cwd).toBe(`/home/${entry.user}`);
        expect(job.trigger).toMatchObject({ kind: "cron", expression: entry.fields.join(" ") });
      });
    });

    it("warns only about MAILTO, which is not mail here", () => {
      for (const warning of schedule.warnings) expect(warning.path).toBe("MAILTO");
      expect(schedule.warnings.length).toBe(text.includes("MAILTO") ? 1 : 0);
    });

    it("imports as a schedule file that check accepts as it is, with the same jobs and no warnings", () => {
      const options = { ...OPTIONS, system: true };
      const yaml = crontabAsYaml(readCrontabText(text, path, options), path, true);
      const imported = loadScheduleText(yaml, path, OPTIONS);
      expect(imported.warnings).toEqual([]);
      expect(imported.jobs).toEqual(schedule.jobs);
      for (const entry of expected) {
        expect(yaml).toContain(`  # ${path}:${entry.line}: ${text.split("\n")[entry.line - 1]}\n`);
      }
    });

    it.each([
      ["UTC", "2026-03-28T20:00Z"],
      ["Europe/Berlin", "2026-03-28T20:00Z"], // spring forward: 02:00 → 03:00 on 2026-03-29
      ["Europe/Berlin", "2026-10-24T20:00Z"], // fall back: 03:00 → 02:00 on 2026-10-25
    ])("fires as cron would, 20 times, in %s from %s", (zone, from) => {
      const fromMs = Date.parse(from);
      const inZone = load(path, text, { systemZone: zone });
      inZone.jobs.forEach((job, i) => {
        expect(job.trigger).toMatchObject({ kind: "cron", zone });
        const expression = (job.trigger as { expression: string }).expression;
        expect(engineFires(expression, zone, fromMs, 20).map(iso)).toEqual(
          cronFires(expected[i]!.fields, zone, fromMs, 20).map(iso),
        );
      });
    });
  });

  it("refuses rsnapshot's crontab, whose entries are all commented out, saying so", () => {
    const path = files.find((p) => p.includes("/rsnapshot_"))!;
    expect(() => load(path, readFileSync(path, "utf8"))).toThrow(ScheduleErrors);
    expect(() => load(path, readFileSync(path, "utf8"))).toThrow(
      `${path}:1:1: the crontab has no entries: only comments, blank lines and settings`,
    );
  });
});

describe("the minute-by-minute matcher of this test", () => {
  it("runs a fixed-time job in a spring-forward gap at the jump, and a repeated time once", () => {
    const spring = cronFires(["30", "2", "*", "*", "*"], "Europe/Berlin", Date.UTC(2026, 2, 28, 12), 2);
    expect(spring.map(iso)).toEqual(["2026-03-29T01:00:00.000Z", "2026-03-30T00:30:00.000Z"]);
    const fall = cronFires(["30", "2", "*", "*", "*"], "Europe/Berlin", Date.UTC(2026, 9, 24, 12), 2);
    expect(fall.map(iso)).toEqual(["2026-10-25T00:30:00.000Z", "2026-10-26T01:30:00.000Z"]);
  });

  it("runs a wildcard job in both passes of a repeated hour, and not in a gap", () => {
    const fall = cronFires(["15", "*", "*", "*", "*"], "Europe/Berlin", Date.UTC(2026, 9, 25, 0), 2);
    expect(fall.map(iso)).toEqual(["2026-10-25T00:15:00.000Z", "2026-10-25T01:15:00.000Z"]);
    const spring = cronFires(["15", "*", "*", "*", "*"], "Europe/Berlin", Date.UTC(2026, 2, 29, 0), 2);
    expect(spring.map(iso)).toEqual(["2026-03-29T00:15:00.000Z", "2026-03-29T01:15:00.000Z"]);
  });

  it("ORs the day fields only when neither starts with *", () => {
    expect(matcher(["0", "0", "1", "*", "mon"])(wallAt(Date.UTC(2026, 5, 8) / 60_000))).toBe(true); // a Monday
    expect(matcher(["0", "0", "*/2", "*", "mon"])(wallAt(Date.UTC(2026, 5, 8) / 60_000))).toBe(false); // even day
  });
});
