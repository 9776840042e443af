import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CliProcess, runCli } from "../helpers/cli.js";
import { jsonEvents, sleep, writeSchedule } from "../helpers/procs.js";

// DST transitions and wall-clock steps, end to end: the built binary runs under Debian's libfaketime
// (LD_PRELOAD), which fakes the wall clock only (FAKETIME_DONT_FAKE_MONOTONIC=1), as an NTP step would.
// .ci/run installs the libfaketime package when it is missing.

const LIBFAKETIME = [
  "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
  "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
  "/usr/lib/faketime/libfaketime.so.1",
].find((path) => existsSync(path));

/**
 * How long before the event under test each tdefer starts on its fake clock. libfaketime starts that clock when
 * the process starts, and tdefer's own start-up (node, the file, the ledger) runs on it: 3.4 s to its first event
 * on this 2-core machine under load, so 3 s missed the 01:30 of a pass. Holding the fake clock still until tdefer
 * is up would make it see the wall clock stand still and report a clock jump, which would change the scenario.
 */
const START_LEAD_MS = 10_000;

/** libfaketime's form of the instant START_LEAD_MS before `iso` (UTC). */
const leadUpTo = (iso: string): string =>
  new Date(Date.parse(iso) - START_LEAD_MS).toISOString().slice(0, 19).replace("T", " ");

/** Shown in the test names when they are skipped. */
const SKIPPED = LIBFAKETIME ? "" : " [skipped: libfaketime is not installed; apt-get install libfaketime]";

/** The binary with a fake wall clock: `faketime` is libfaketime's FAKETIME value, or a timestamp file. */
function underFaketime(args: string[], faketime: { at: string } | { file: string }): CliProcess {
  return new CliProcess(args, {
    env: {
      LD_PRELOAD: LIBFAKETIME,
      FAKETIME_DONT_FAKE_MONOTONIC: "1",
      ...("at" in faketime
        ? { FAKETIME: `@${faketime.at}` }
        : { FAKETIME_TIMESTAMP_FILE: faketime.file, FAKETIME_NO_CACHE: "1" }),
    },
  });
}

const startedOf = (stdout: string, job: string) =>
  jsonEvents(stdout).filter((e) => e.event === "started" && e.job === job);

// Every test here starts its own processes and mostly waits: they run side by side.
describe.concurrent("time events", () => {
  describe.skipIf(!LIBFAKETIME)(`DST transitions, live (libfaketime)${SKIPPED}`, () => {
    // Each starts START_LEAD_MS before a spring-forward jump: the fixed-time job's wall time (02:30 or 02:15) is
    // in the gap, so it runs once at the instant of the jump; the minutely job runs at the jump too, once.
    const springs = [
      {
        zone: "America/New_York",
        fixed: "30 2 * * *",
        start: leadUpTo("2026-03-08T07:00:00.000Z"),
        jump: "2026-03-08T07:00:00.000Z",
      },
      {
        zone: "Europe/Berlin",
        fixed: "30 2 * * *",
        start: leadUpTo("2026-03-29T01:00:00.000Z"),
        jump: "2026-03-29T01:00:00.000Z",
      },
      // A 30-minute shift: 02:00 +10:30 becomes 02:30 +11:00.
      {
        zone: "Australia/Lord_Howe",
        fixed: "15 2 * * *",
        start: leadUpTo("2026-10-03T15:30:00.000Z"),
        jump: "2026-10-03T15:30:00.000Z",
      },
    ];

    for (const { zone, fixed, start, jump } of springs) {
      it(`spring forward in ${zone}: a fixed-time job in the gap runs once, at the jump`, async () => {
        const file = writeSchedule(`timezone: ${zone}
jobs:
  fixed:
    cron: "${fixed}"
    run: echo fixed
  minutely:
    cron: "* * * * *"
    run: echo minutely
`);
        const cli = underFaketime(["run", file, "--log-format", "json"], { at: start });
        try {
          await cli.waitFor(/"event":"started","job":"fixed"/, 20_000);
          await cli.waitFor(/"event":"started","job":"minutely"/, 5_000);
          await sleep(1500); // a second fire, if there were one, would come now
        } finally {
          cli.child.kill("SIGTERM");
        }
        const result = await cli.exited;
        expect(result.code).toBe(0);
        expect(startedOf(result.stdout, "fixed").map((e) => e.scheduled)).toEqual([jump]);
        expect(startedOf(result.stdout, "minutely").map((e) => e.scheduled)).toEqual([jump]);
        const lines = jsonEvents(result.stdout).filter((e) => e.event === "output");
        expect(lines.map((e) => e.line).sort()).toEqual(["fixed", "minutely"]);
      }, 40_000); // START_LEAD_MS of waiting for the jump, then seconds to stop on a loaded machine
    }

    it("fall back in America/New_York: the repeated 01:30 runs a wildcard job, not a fixed-time one", async () => {
      // 06:30Z is 01:30 EST, the second pass of 01:00–02:00 (the first, 01:30 EDT, was 05:30Z).
      const file = writeSchedule(`timezone: America/New_York
jobs:
  fixed:
    cron: "30 1 * * *"
    run: echo fixed
  wildcard:
    cron: "30 * * * *"
    run: echo wildcard
`);
      const cli = underFaketime(["run", file, "--log-format", "json"], {
        at: leadUpTo("2026-11-01T06:30:00.000Z"),
      });
      try {
        await cli.waitFor(/"event":"started","job":"wildcard"/, 20_000);
        await sleep(1500);
      } finally {
        cli.child.kill("SIGTERM");
      }
      const result = await cli.exited;
      expect(result.code).toBe(0);
      const events = jsonEvents(result.stdout);
      expect(startedOf(result.stdout, "wildcard").map((e) => e.scheduled)).toEqual([
        "2026-11-01T06:30:00.000Z",
      ]);
      expect(startedOf(result.stdout, "fixed")).toEqual([]);
      expect(events.find((e) => e.event === "scheduled" && e.job === "fixed").next).toBe(
        "2026-11-02T06:30:00.000Z",
      );
    }, 40_000);
  });

  describe.skipIf(!LIBFAKETIME)(
    `wall-clock steps while running (libfaketime timestamp file)${SKIPPED}`,
    () => {
      it("logs each jump; a cron job fires neither twice nor in a burst, and a fire jumped over is logged as skipped", async () => {
        const dir = mkdtempSync(join(tmpdir(), "tdefer-faketime-"));
        const clockFile = join(dir, "faketimerc");
        writeFileSync(clockFile, `@${leadUpTo("2026-05-01T12:01:00.000Z")}\n`);
        // The `every` job keeps the event loop waking (a jump is noticed on a wake; sleeps are capped at 30 s).
        const file = writeSchedule(`timezone: UTC
jobs:
  minutely:
    cron: "* * * * *"
    run: echo minute
  pulse:
    every: 200ms
    run: ["true"]
`);
        const cli = underFaketime(["run", file, "--log-format", "json"], { file: clockFile });
        try {
          await cli.waitFor(/"event":"started","job":"minutely"/, 20_000);
          // Forward over 12:02 and 12:03.
          writeFileSync(clockFile, "@2026-05-01 12:03:59\n");
          await cli.waitFor(/"event":"clock_jump"/, 5000);
          await cli.waitFor(
            /"event":"started","job":"minutely"[^\n]*"scheduled":"2026-05-01T12:04:00.000Z"/,
            5000,
          );
          // Backward to just before the 12:04 that has already run: it must not run again.
          writeFileSync(clockFile, "@2026-05-01 12:03:57\n");
          await cli.waitFor(/"event":"clock_jump"[^\n]*"direction":"backward"/, 5000);
          await sleep(3500); // past 12:04:00 again
        } finally {
          cli.child.kill("SIGTERM");
        }
        const result = await cli.exited;
        expect(result.code).toBe(0);
        const events = jsonEvents(result.stdout);
        const jumps = events.filter((e) => e.event === "clock_jump");
        expect(jumps.map((e) => e.direction)).toEqual(["forward", "backward"]);
        expect(jumps[0].delta_ms).toBeGreaterThan(170_000);
        expect(jumps[0].delta_ms).toBeLessThan(182_000);
        expect(jumps[1].delta_ms).toBeLessThan(-1000);
        expect(startedOf(result.stdout, "minutely").map((e) => e.scheduled)).toEqual([
          "2026-05-01T12:01:00.000Z",
          "2026-05-01T12:04:00.000Z",
        ]);
        const skipped = events.filter((e) => e.event === "skipped" && e.job === "minutely");
        expect(skipped.map((e) => e.reason)).toEqual(["the clock jumped past 2 fire(s)"]);
      }, 40_000);
    },
  );

  describe.skipIf(!LIBFAKETIME)(`the DST repeated hour across a restart (libfaketime)${SKIPPED}`, () => {
    it("a fire of the first pass never runs again after a restart inside the second pass", async () => {
      // 01:30 EDT is 05:30Z; the clocks go back at 06:00Z; 01:30 EST is 06:30Z. The ledger sits next to the file.
      const file = writeSchedule(`timezone: America/New_York
state: ledger.db
jobs:
  fixed:
    cron: "30 1 * * *"
    run: echo fixed
    catch_up: 2h
  hourly:
    cron: "30 * * * *"
    run: echo hourly
    catch_up: 2h
`);
      const runUntil = async (at: string, pattern: RegExp) => {
        const cli = underFaketime(["run", file, "--log-format", "json"], { at });
        try {
          await cli.waitFor(pattern, 20_000);
          await sleep(500);
        } finally {
          cli.child.kill("SIGTERM");
        }
        const result = await cli.exited;
        expect(result.code).toBe(0);
        return result.stdout;
      };
      const first = await runUntil(leadUpTo("2026-11-01T05:30:00.000Z"), /"event":"finished","job":"fixed"/);
      expect(startedOf(first, "fixed").map((e) => e.scheduled)).toEqual(["2026-11-01T05:30:00.000Z"]);
      // Restarted inside the repeated hour (01:29:50 EST), before its 01:30.
      const second = await runUntil(
        leadUpTo("2026-11-01T06:30:00.000Z"),
        /"event":"finished","job":"hourly"/,
      );
      expect(startedOf(second, "fixed")).toEqual([]);
      expect(startedOf(second, "hourly").map((e) => [e.scheduled])).toEqual([["2026-11-01T06:30:00.000Z"]]);
      const history = await runCli(["history", "--file", file, "--json"]);
      const records = jsonEvents(history.stdout).map(
        (r) => `${r.job} ${r.scheduled_at} ${r.trigger} ${r.state}`,
      );
      expect(records).toEqual([
        "hourly 2026-11-01T06:30:00.000Z schedule succeeded",
        "fixed 2026-11-01T05:30:00.000Z schedule succeeded",
        "hourly 2026-11-01T05:30:00.000Z schedule succeeded",
      ]);
    }, 60_000);
  });
});
