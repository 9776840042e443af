import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ScheduleErrors } from "../../src/errors.js";
import type { JobSpec, Schedule } from "../../src/schedule/types.js";
import { loadScheduleText, type ValidateOptions } from "../../src/schedule/validate.js";

const GOOD = fileURLToPath(new URL("../fixtures/good/", import.meta.url));
const FOLDER = dirname(`${GOOD}x`);

const OPTIONS: ValidateOptions = {
  nowMs: Date.UTC(2026, 10, 27, 12, 0, 0),
  systemZone: "UTC",
  isRoot: false,
  forRunning: false,
};

function load(name: string, options: Partial<ValidateOptions> = {}): Schedule {
  return loadScheduleText(readFileSync(`${GOOD}${name}`, "utf8"), `${GOOD}${name}`, {
    ...OPTIONS,
    ...options,
  });
}

function job(schedule: Schedule, name: string): JobSpec {
  const found = schedule.jobs.find((j) => j.name === name);
  if (!found) throw new Error(`no job ${name}`);
  return found;
}

describe("every-trigger-kind.yaml", () => {
  const schedule = load("every-trigger-kind.yaml");

  it("keeps the file, its zone and the jobs in file order", () => {
    expect(schedule.file).toBe(`${GOOD}every-trigger-kind.yaml`);
    expect(schedule.zone).toBe("Europe/Berlin");
    expect(schedule.maxParallel).toBeUndefined();
    expect(schedule.jobs.map((j) => j.name)).toEqual(["heartbeat", "backup", "warm-cache", "release"]);
    expect(schedule.warnings).toEqual([]);
  });

  it("every: the interval in ms and now", () => {
    expect(job(schedule, "heartbeat").trigger).toEqual({ kind: "every", intervalMs: 5_400_000, now: true });
  });

  it("cron: the expression in the job's own zone", () => {
    expect(job(schedule, "backup").trigger).toEqual({ kind: "cron", expression: "0 3 * * *", zone: "UTC" });
  });

  it("after: the delay in ms", () => {
    expect(job(schedule, "warm-cache").trigger).toEqual({ kind: "after", delayMs: 500 });
  });

  it("at: wall times in the file's zone, sorted, with their text", () => {
    expect(job(schedule, "release").trigger).toEqual({
      kind: "at",
      zone: "Europe/Berlin",
      times: [
        { timeMs: Date.UTC(2027, 0, 1, 7, 0), text: "2027-01-01 08:00" },
        { timeMs: Date.UTC(2027, 0, 15, 8, 0), text: "2027-01-15 09:00" },
      ],
    });
  });

  it("a string runs through the file's shell; a list is argv", () => {
    expect(job(schedule, "heartbeat").command).toEqual({
      kind: "shell",
      script: 'echo "$GREETING"',
      shell: "/bin/bash",
    });
    expect(job(schedule, "backup").command).toEqual({
      kind: "argv",
      argv: ["/usr/local/bin/backup", "--full"],
    });
  });

  it("env values become strings", () => {
    expect(job(schedule, "heartbeat").env).toEqual({ GREETING: "hello", COUNT: "3", DEBUG: "false" });
  });

  it("cwd defaults to the file's folder; a relative cwd is relative to it", () => {
    expect(job(schedule, "heartbeat").cwd).toBe(FOLDER);
    expect(job(schedule, "warm-cache").cwd).toBe(`${FOLDER}/scripts`);
  });

  it("timeout, kill signal and grace: given, normalised, or defaults", () => {
    expect(job(schedule, "backup")).toMatchObject({
      timeoutMs: 7_200_000,
      killSignal: "SIGTERM",
      killGraceMs: 10_000,
    });
    expect(job(schedule, "heartbeat").timeoutMs).toBeUndefined();
    expect(job(schedule, "warm-cache")).toMatchObject({ killSignal: "SIGTERM", killGraceMs: 2000 });
  });

  it("retry as given, and none where not given", () => {
    expect(job(schedule, "backup").retry).toEqual({
      attempts: 3,
      delayMs: 30_000,
      backoff: 1.5,
      maxDelayMs: 300_000,
    });
    expect(job(schedule, "heartbeat").retry).toBeUndefined();
  });

  it("overlap, enabled, description, user and group", () => {
    expect(job(schedule, "heartbeat")).toMatchObject({
      overlap: "skip",
      enabled: true,
      description: undefined,
      user: undefined,
      group: undefined,
      jitterMs: 0,
    });
    expect(job(schedule, "release")).toMatchObject({
      overlap: "queue",
      enabled: false,
      description: "Ship it.",
    });
  });
});

describe("defaults-inherited.yaml", () => {
  const schedule = load("defaults-inherited.yaml");
  const inherits = job(schedule, "inherits");
  const overrides = job(schedule, "overrides");

  it("a job without its own options takes the defaults", () => {
    expect(inherits.trigger).toEqual({ kind: "cron", expression: "30 2 * * 1-5", zone: "America/New_York" });
    expect(inherits).toMatchObject({
      timeoutMs: 600_000,
      overlap: "replace",
      killSignal: "SIGINT",
      cwd: "/srv/work",
    });
  });

  it("retry from defaults gets the default delay (10s), backoff (2) and max_delay (10m)", () => {
    expect(inherits.retry).toEqual({ attempts: 2, delayMs: 10_000, backoff: 2, maxDelayMs: 600_000 });
  });

  it("a job's own options win, as a whole (retry is not merged key by key)", () => {
    expect(overrides.trigger).toEqual({ kind: "every", intervalMs: 300_000, now: false });
    expect(overrides).toMatchObject({
      timeoutMs: 60_000,
      overlap: "allow",
      killSignal: "SIGHUP",
      cwd: `${dirname(FOLDER)}/relative`,
    });
    expect(overrides.retry).toEqual({ attempts: 5, delayMs: 1000, backoff: 2, maxDelayMs: 600_000 });
  });

  it("env merges file < defaults < job", () => {
    expect(inherits.env).toEqual({ LEVEL: "defaults", FILE_ONLY: "1", DEFAULTS_ONLY: "2" });
    expect(overrides.env).toEqual({ LEVEL: "job", FILE_ONLY: "1", DEFAULTS_ONLY: "2", JOB_ONLY: "3" });
  });

  it("the file's zone is the system zone when it names none", () => {
    expect(schedule.zone).toBe("UTC");
    expect(load("defaults-inherited.yaml", { systemZone: "Europe/Paris" }).zone).toBe("Europe/Paris");
  });

  it("timeout (1m) shorter than the period (5m) with overlap allow: no warning", () => {
    expect(schedule.warnings).toEqual([]);
  });
});

describe("merge-keys-and-anchors.yaml", () => {
  const schedule = load("merge-keys-and-anchors.yaml");

  it("<< merges an anchored map; keys written in the job win", () => {
    expect(job(schedule, "first")).toMatchObject({ timeoutMs: 300_000, env: { SHARED: "yes" } });
    expect(job(schedule, "second")).toMatchObject({ timeoutMs: 20_000, env: { SHARED: "yes", EXTRA: "1" } });
  });

  it("an alias of a list is the same argv", () => {
    expect(job(schedule, "first").command).toEqual({ kind: "argv", argv: ["./task.sh", "--quiet"] });
    expect(job(schedule, "second").command).toEqual({ kind: "argv", argv: ["./task.sh", "--quiet"] });
  });
});

describe("at-with-offset.yaml", () => {
  it("an offset makes a gap or repeated wall time exact; Z is UTC; no offset is the zone's wall time", () => {
    const schedule = load("at-with-offset.yaml");
    expect(job(schedule, "launch").trigger).toEqual({
      kind: "at",
      zone: "Europe/Berlin",
      times: [
        { timeMs: Date.UTC(2027, 2, 28, 1, 30), text: "2027-03-28T02:30:00+01:00" },
        { timeMs: Date.UTC(2027, 5, 1, 12, 0), text: "2027-06-01T12:00:00Z" },
        { timeMs: Date.UTC(2027, 5, 1, 13, 0), text: "2027-06-01 15:00" },
        { timeMs: Date.UTC(2027, 9, 31, 1, 30), text: "2027-10-31 02:30+01:00" },
      ],
    });
    expect(schedule.warnings).toEqual([]);
  });
});

describe("warnings.yaml", () => {
  const file = `${GOOD}warnings.yaml`;

  it("the file loads, with each warning at the key or value it is about", () => {
    const schedule = load("warnings.yaml");
    expect(schedule.jobs).toHaveLength(4);
    expect(schedule.warnings).toEqual([
      {
        file,
        line: 3,
        col: 9,
        path: "jobs.late.at",
        message: "2026-11-01 09:00 is already past; it will not run",
      },
      {
        file,
        line: 7,
        col: 13,
        path: "jobs.jittery.jitter",
        message: "the jitter (1m) is not shorter than the period (1m): fires may bunch up or swap order",
      },
      {
        file,
        line: 12,
        col: 14,
        path: "jobs.piling.timeout",
        message: "the timeout (10m) is longer than the period (5m) and overlap is allow: runs can pile up",
      },
      {
        file,
        line: 16,
        col: 11,
        path: "jobs.runs-as.user",
        message: "running as another user needs tdefer to run as root",
      },
      {
        file,
        line: 17,
        col: 12,
        path: "jobs.runs-as.group",
        message: "running as another group needs tdefer to run as root",
      },
    ]);
    expect(job(schedule, "runs-as")).toMatchObject({ user: "nobody", group: "65534" });
  });

  it("as root, user and group are fine; for running without root they are errors", () => {
    expect(load("warnings.yaml", { isRoot: true, forRunning: true }).warnings.map((w) => w.path)).toEqual([
      "jobs.late.at",
      "jobs.jittery.jitter",
      "jobs.piling.timeout",
    ]);
    expect(() => load("warnings.yaml", { forRunning: true })).toThrow(ScheduleErrors);
  });

  it("a file read for running points its warnings where check does (their positions are found when asked)", () => {
    const forRunning = load("warnings.yaml", { isRoot: true, forRunning: true }).warnings;
    const forChecking = load("warnings.yaml", { isRoot: true }).warnings;
    expect(forRunning).toHaveLength(3);
    expect(forRunning).toEqual(forChecking.filter((w) => forRunning.some((r) => r.path === w.path)));
    expect(forRunning[0]).toMatchObject({ path: "jobs.late.at", line: 3, col: 9 });
  });

  it("a past at time is judged against nowMs", () => {
    const earlier = load("warnings.yaml", { nowMs: Date.UTC(2026, 9, 1) });
    expect(earlier.warnings.map((w) => w.path)).not.toContain("jobs.late.at");
  });
});

describe("loadScheduleText on inline text", () => {
  const text = (body: string) => loadScheduleText(body, "/etc/tdefer/x.yaml", OPTIONS);

  it("cwd defaults to the folder of the file named", () => {
    expect(text("jobs:\n  a:\n    every: 1s\n    run: x\n").jobs[0]!.cwd).toBe("/etc/tdefer");
  });

  it("the default shell is /bin/sh and every's now defaults to false", () => {
    expect(text("jobs:\n  a:\n    every: 1s\n    run: x\n").jobs[0]).toMatchObject({
      command: { kind: "shell", script: "x", shell: "/bin/sh" },
      trigger: { kind: "every", intervalMs: 1000, now: false },
    });
  });

  it("max_parallel is kept", () => {
    expect(text("max_parallel: 3\njobs:\n  a:\n    after: 0s\n    run: x\n").maxParallel).toBe(3);
  });

  it("kill_signal names with and without SIG, in any case, are normalised", () => {
    for (const name of ["TERM", "term", "SIGTERM", "sigterm"]) {
      expect(
        text(`jobs:\n  a:\n    after: 1s\n    run: x\n    kill_signal: ${name}\n`).jobs[0]!.killSignal,
      ).toBe("SIGTERM");
    }
  });

  it("a cron step wider than its field is a warning at the expression", () => {
    expect(text('jobs:\n  a:\n    cron: "0 9 * * *"\n    run: x\n').warnings).toEqual([]);
    expect(text('jobs:\n  a:\n    cron: "*/90 * * * *"\n    run: x\n').warnings).toEqual([
      {
        file: "/etc/tdefer/x.yaml",
        line: 3,
        col: 11,
        path: "jobs.a.cron",
        message: 'minute "*/90": the step 90 is wider than 0–59, so it means only 0',
      },
    ]);
  });
});

describe("warnings nobody will read", () => {
  it("are left out when asked (next and trigger), so no positioned parse is needed for them", () => {
    expect(load("warnings.yaml").warnings.length).toBeGreaterThan(0);
    expect(load("warnings.yaml", { warnings: false }).warnings).toEqual([]);
  });
});

describe("stdin.yaml", () => {
  const schedule = load("stdin.yaml");

  it("keeps a job's stdin text exactly, and gives none to a job without it", () => {
    expect(job(schedule, "report").stdin).toBe("Weekly report\nsee the dashboard\n");
    expect(job(schedule, "plain").stdin).toBeUndefined();
  });
});

describe("cron expressions shared by jobs", () => {
  const schedule = loadScheduleText(
    [
      "timezone: Europe/Berlin",
      "jobs:",
      '  a: { cron: "30 2 * * *", run: x }',
      '  b: { cron: "30 2 * * *", run: x }',
      '  c: { cron: "30 2 * * *", timezone: Australia/Sydney, run: x }',
      '  d: { cron: "H 3 * * *", run: x }',
      '  e: { cron: "H 3 * * *", run: x }',
      '  f: { cron: "0-10/30 4 * * *", run: x }',
      '  g: { cron: "0-10/30 4 * * *", run: x }',
      "",
    ].join("\n"),
    "/etc/tdefer/x.yaml",
    OPTIONS,
  );
  const recurrence = (name: string) => {
    const trigger = job(schedule, name).trigger;
    if (trigger.kind !== "cron") throw new Error(`${name} is no cron job`);
    return trigger.recurrence;
  };

  it("are read once per zone: the jobs share one recurrence, and fire alike", () => {
    expect(recurrence("a")).toBe(recurrence("b"));
    expect(recurrence("c")).not.toBe(recurrence("a"));
    expect(recurrence("c").zone).toBe("Australia/Sydney");
    // The spring-forward night in Berlin: both move to the jump.
    const fromMs = Date.UTC(2026, 2, 28, 12);
    expect(recurrence("b").nextAfter(fromMs)).toEqual({ timeMs: Date.UTC(2026, 2, 29, 1), dst: "moved" });
  });

  it("with H, are each job's own, since H depends on the job's name", () => {
    expect(recurrence("d")).not.toBe(recurrence("e"));
    expect(recurrence("d").describableFields()).not.toEqual(recurrence("e").describableFields());
  });

  it("still warn for each job that uses them", () => {
    expect(schedule.warnings.map((w) => w.path)).toEqual(["jobs.f.cron", "jobs.g.cron"]);
  });
});
