import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { formatProblem, ScheduleErrors } from "../../src/errors.js";
import { loadScheduleText, type ValidateOptions } from "../../src/schedule/validate.js";

// Every bad fixture holds one mistake (the `several-mistakes-*` files hold several), and this table
// holds, written out by hand, exactly what the user is told: `file:line:col: path: message`, and the
// hint on a second line. The position is the offending key or value, never its parent.

const DIR = fileURLToPath(new URL("../fixtures/bad/", import.meta.url));

const OPTIONS: ValidateOptions = {
  nowMs: Date.UTC(2026, 10, 27, 12, 0, 0),
  systemZone: "UTC",
  isRoot: false,
  forRunning: false,
};

/** Fixtures loaded as for `tdefer run` (what cannot run here is an error, not a warning). */
const FOR_RUNNING = new Set(["user-without-root.yaml"]);

const EXPECTED: Record<string, string[]> = {
  "alias-bomb.yaml": [
    "alias-bomb.yaml:2:8: the aliases (`*name`) expand to more than 1000 values; this looks like an alias bomb\n  hint: use aliases only for small shared blocks such as job defaults",
  ],
  "after-too-long.yaml": [
    'after-too-long.yaml:3:12: jobs.reminder.after: "100000000d" is too long: durations go up to 36500d (100 years)\n  hint: for a date far ahead, use `at:` with the date',
  ],
  "at-after-year-9999.yaml": [
    'at-after-year-9999.yaml:3:9: jobs.release.at: "9999-12-31T23:00:00-05:00" is after 9999-12-31 23:59:59 UTC, the latest time tdefer can plan\n  hint: use a date in the years 0000–9999',
  ],
  "at-ambiguous.yaml": [
    "at-ambiguous.yaml:3:9: jobs.release.at: 2027-10-31 02:30 happens twice in Europe/Berlin (the clocks go back from 03:00 to 02:00); add an offset: 2027-10-31T02:30:00+02:00 (first) or 2027-10-31T02:30:00+01:00 (second)\n  hint: write 2027-10-31T02:30:00+02:00 for the first time or 2027-10-31T02:30:00+01:00 for the second",
  ],
  "at-bad-item-in-list.yaml": [
    'at-bad-item-in-list.yaml:5:9: jobs.release.at.1: "2027-01-15 25:00": hour 25 is out of range 00–23\n  hint: write it as YYYY-MM-DD HH:MM[:SS], optionally with an offset: "2026-12-01 09:00" or "2026-12-01T09:00:00+01:00"',
  ],
  "at-date-only.yaml": [
    'at-date-only.yaml:3:9: jobs.release.at: "2027-01-15" has a date but no time of day\n  hint: add the time: "2027-01-15 00:00"',
  ],
  "at-empty-list.yaml": [
    'at-empty-list.yaml:3:9: jobs.release.at: the list of times is empty\n  hint: write it like "2026-12-01 09:00", or a list of them',
  ],
  "at-in-gap.yaml": [
    "at-in-gap.yaml:4:9: jobs.release.at: 2027-03-28 02:30 does not exist in Europe/Berlin (the clocks jump from 02:00 to 03:00)\n  hint: use a time outside the gap, e.g. 2027-03-28T03:00:00+02:00, or give an offset",
  ],
  "at-malformed.yaml": [
    'at-malformed.yaml:3:9: jobs.release.at: "next tuesday at noon" is not an ISO 8601 date-time like "2026-12-01 09:00"\n  hint: write it as YYYY-MM-DD HH:MM[:SS], optionally with an offset: "2026-12-01 09:00" or "2026-12-01T09:00:00+01:00"',
  ],
  "at-no-such-day.yaml": [
    'at-no-such-day.yaml:3:9: jobs.release.at: "2027-02-30 09:00": February 2027 has no day 30 (it has 28 days)\n  hint: write it as YYYY-MM-DD HH:MM[:SS], optionally with an offset: "2026-12-01 09:00" or "2026-12-01T09:00:00+01:00"',
  ],
  "at-number.yaml": [
    'at-number.yaml:3:9: jobs.release.at: expected a date-time as text, got 20270115\n  hint: write it like "2026-12-01 09:00"',
  ],
  "bad-job-name.yaml": [
    'bad-job-name.yaml:2:3: jobs.nightly backup: "nightly backup" is not a valid job name\n  hint: job names start with a letter or digit and use only letters, digits, _ . and -',
  ],
  "bad-zone-typo.yaml": [
    'bad-zone-typo.yaml:4:15: jobs.report.timezone: unknown time zone "Europe/Berln"\n  hint: did you mean "Europe/Berlin"?',
  ],
  "bad-zone-unknown.yaml": [
    'bad-zone-unknown.yaml:1:11: timezone: unknown time zone "Mars/Olympus_Mons"\n  hint: use an IANA zone name such as Europe/Berlin, America/New_York or UTC',
  ],
  "bare-number-duration.yaml": [
    "bare-number-duration.yaml:4:14: jobs.report.timeout: a bare number is not a duration: add a unit, e.g. 90s or 90m",
  ],
  "command-synonym.yaml": [
    "command-synonym.yaml:4:5: jobs.backup.command: unknown key `command`\n  hint: did you mean `run`?",
  ],
  "cron-3-fields.yaml": [
    'cron-3-fields.yaml:3:11: jobs.backup.cron: expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first; got 3\n  hint: e.g. "*/15 * * * *" for every 15 minutes, "0 3 * * *" for 03:00 every day',
  ],
  "cron-7-fields.yaml": [
    "cron-7-fields.yaml:3:11: jobs.backup.cron: expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first; got 7\n  hint: a year field is not supported; remove it",
  ],
  "cron-hash-range-too-large.yaml": [
    `cron-hash-range-too-large.yaml:3:11: jobs.hashed.cron: minute "H(0-999999999)": the range 0-999999999 of H is out of range 0–59\n  hint: keep H's range inside 0–59`,
  ],
  "cron-unquoted-nickname.yaml": [
    'cron-unquoted-nickname.yaml:3:11: this cron expression starts with `@`, which YAML reads as a reserved character: quote it\n  hint: cron: "@daily"',
  ],
  "cron-unquoted-stars.yaml": [
    'cron-unquoted-stars.yaml:3:11: this cron expression starts with `*`, which YAML reads as the start of an alias (`*name`): quote it\n  hint: cron: "* * * * *"',
  ],
  "cron-unquoted-step.yaml": [
    'cron-unquoted-step.yaml:3:11: this cron expression starts with `*`, which YAML reads as the start of an alias (`*name`): quote it\n  hint: cron: "*/5 * * * *"',
  ],
  "cron-W.yaml": [
    'cron-W.yaml:3:11: jobs.payroll.cron: day-of-month "15W" uses W (nearest weekday), which tdefer does not support\n  hint: list the days you want, or combine a day-of-month range with a day-of-week such as 1-5',
  ],
  "cron-every.yaml": [
    "cron-every.yaml:3:11: jobs.tick.cron: @every is not a cron nickname in tdefer: intervals have their own trigger\n  hint: replace the `cron:` line with `every: 30s`",
  ],
  "cron-garbage.yaml": [
    'cron-garbage.yaml:3:11: jobs.tick.cron: expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first; got 4\n  hint: e.g. "*/15 * * * *" for every 15 minutes, "0 3 * * *" for 03:00 every day',
  ],
  "cron-minute-out-of-range.yaml": [
    "cron-minute-out-of-range.yaml:3:11: jobs.tick.cron: minute 60 is out of range 0–59\n  hint: use 0–59",
  ],
  "cron-never-fires.yaml": [
    "cron-never-fires.yaml:3:11: jobs.leap.cron: never fires: February has no 30th\n  hint: check the day-of-month and month fields",
  ],
  "cron-number.yaml": [
    'cron-number.yaml:3:11: jobs.tick.cron: expected text, got 5\n  hint: quote the expression, e.g. cron: "0 3 * * *"',
  ],
  "cron-reboot.yaml": [
    "cron-reboot.yaml:3:11: jobs.boot.cron: @reboot is not supported: a cron job needs a time schedule\n  hint: to run once when tdefer starts, use the `after` trigger instead, e.g. `after: 1s`",
  ],
  "cron-step-zero.yaml": [
    'cron-step-zero.yaml:3:11: jobs.tick.cron: minute "*/0": the step after / must be a positive whole number\n  hint: e.g. */5',
  ],
  "cron-weekday-out-of-range.yaml": [
    "cron-weekday-out-of-range.yaml:3:11: jobs.weekly.cron: day-of-week 8 is out of range 0–7\n  hint: days of the week are 0–7 (0 and 7 are Sunday) or SUN–SAT",
  ],
  "deep-nesting.yaml": [
    "deep-nesting.yaml:6:71: the data is nested more than 64 levels deep\n  hint: a schedule needs only a few levels (jobs, a job, its keys); check for runaway brackets",
  ],
  "defaults-unknown-key.yaml": [
    "defaults-unknown-key.yaml:2:3: defaults.timout: unknown key `timout`\n  hint: did you mean `timeout`?",
  ],
  "defaults-with-trigger.yaml": [
    "defaults-with-trigger.yaml:2:3: defaults.every: `every` cannot be a default: each job names its own trigger\n  hint: move `every` into each job that needs it",
  ],
  "duplicate-job.yaml": [
    "duplicate-job.yaml:8:3: jobs.backup: the job `backup` is defined twice (first on line 2)\n  hint: job names must be unique: rename or remove one of the two",
  ],
  "duplicate-key.yaml": [
    "duplicate-key.yaml:5:5: jobs.backup.run: `run` appears twice in the same map (first on line 4)\n  hint: remove one of the two",
  ],
  "duration-with-space.yaml": [
    'duration-with-space.yaml:5:14: jobs.backup.timeout: "1h 30m" is not a duration: use a number and a unit (ms, s, m, h, d), e.g. 30s, 5m, 1h30m',
  ],
  "empty-file.yaml": [
    "empty-file.yaml:1:1: the file is empty\n  hint: add a `jobs:` map; see schedules.example.yaml",
  ],
  "enabled-not-boolean.yaml": [
    'enabled-not-boolean.yaml:5:14: jobs.heartbeat.enabled: expected true or false, got "off"\n  hint: YAML 1.2 reads `off` as text: write false',
  ],
  "env-key-empty.yaml": [
    "env-key-empty.yaml:2:3: env.: the variable name is empty\n  hint: write NAME: value",
  ],
  "env-key-with-equals.yaml": [
    `env-key-with-equals.yaml:6:7: jobs.a.env.A=B: a variable name cannot contain \`=\`\n  hint: the name ends before the \`=\`: write NAME: value`,
  ],
  "env-list.yaml": [
    "env-list.yaml:2:3: env: expected a map of NAME: value, got a list\n  hint: write one `NAME: value` per line",
  ],
  "env-nested-map.yaml": [
    "env-nested-map.yaml:7:9: jobs.backup.env.TARGET: an environment value must be text, a number or true/false, got a map\n  hint: write the value as one piece of text",
  ],
  "env-null.yaml": [
    'env-null.yaml:2:3: env.GREETING: an environment value must be text, a number or true/false, got null\n  hint: write "" for an empty value',
  ],
  "env-value-nul.yaml": [
    "env-value-nul.yaml:6:10: jobs.a.env.A: the value contains a NUL byte, which no environment can hold\n  hint: remove the \\0",
  ],
  "every-too-long.yaml": [
    'every-too-long.yaml:3:12: jobs.tick.every: "36501d" is too long: durations go up to 36500d (100 years)\n  hint: for a date far ahead, use `at:` with the date',
  ],
  "every-unit-spelled-out.yaml": [
    'every-unit-spelled-out.yaml:3:12: jobs.heartbeat.every: "5 minutes" is not a duration: use a number and a unit (ms, s, m, h, d), e.g. 30s, 5m, 1h30m',
  ],
  "every-zero.yaml": [
    "every-zero.yaml:3:12: jobs.heartbeat.every: an interval of 0 would run the job without pause\n  hint: use a positive duration such as 30s",
  ],
  "job-is-a-string.yaml": [
    'job-is-a-string.yaml:2:11: jobs.backup: expected a job: a map with a trigger and run, got "./backup.sh"\n  hint: put the command under `run:` and add a trigger, e.g. `every: 1h`',
  ],
  "job-null.yaml": [
    "job-null.yaml:2:3: jobs.backup: expected a job: a map with a trigger and run, got null\n  hint: indent the job's keys under its name: a trigger such as `every: 1h` and `run:`",
  ],
  "jobs-missing.yaml": [
    "jobs-missing.yaml:1:1: jobs: missing `jobs`: the map of jobs\n  hint: add `jobs:` with at least one job under it",
  ],
  "jobs-misspelt.yaml": ["jobs-misspelt.yaml:1:1: job: unknown key `job`\n  hint: did you mean `jobs`?"],
  "jobs-not-a-map.yaml": ["jobs-not-a-map.yaml:2:3: jobs: expected a map of job names to jobs, got a list"],
  "jobs-null.yaml": ["jobs-null.yaml:2:1: jobs: expected a map of job names to jobs, got null"],
  "key-is-a-list.yaml": [
    "key-is-a-list.yaml:2:3: a key must be plain text, not a list\n  hint: write the key as a name, e.g. `backup:`; a list or map belongs after the `:`",
  ],
  "kill-grace-bare-number.yaml": [
    "kill-grace-bare-number.yaml:2:15: defaults.kill_grace: a bare number is not a duration: add a unit, e.g. 30s or 30m",
  ],
  "kill-signal-unknown.yaml": [
    'kill-signal-unknown.yaml:5:18: jobs.backup.kill_signal: unknown signal "SIGTRM"\n  hint: did you mean SIGTERM?',
  ],
  "max-parallel-zero.yaml": [
    "max-parallel-zero.yaml:1:15: max_parallel: expected a whole number >= 1, got 0",
  ],
  "multiple-documents.yaml": [
    "multiple-documents.yaml:5:1: the file holds more than one YAML document (a second `---`)\n  hint: a schedule is one document: remove the `---` line and put all jobs under one `jobs:`",
  ],
  "no-jobs.yaml": ["no-jobs.yaml:2:7: jobs: there are no jobs\n  hint: add at least one job under `jobs:`"],
  "no-trigger.yaml": [
    "no-trigger.yaml:2:3: jobs.backup: this job has no trigger\n  hint: add one of every, cron, after or at",
  ],
  "now-not-boolean.yaml": [
    'now-not-boolean.yaml:4:10: jobs.heartbeat.now: expected true or false, got "yes"\n  hint: YAML 1.2 reads `yes` as text: write true',
  ],
  "now-without-every.yaml": [
    "now-without-every.yaml:4:5: jobs.backup.now: `now` goes with `every` only\n  hint: remove it; to also run once at start, add a job with `after: 0s`",
  ],
  "only-comments.yaml": [
    "only-comments.yaml:1:1: the file is empty\n  hint: add a `jobs:` map; see schedules.example.yaml",
  ],
  "overlap-typo.yaml": [
    'overlap-typo.yaml:5:14: jobs.backup.overlap: expected one of skip, queue, replace, allow, got "skp"\n  hint: did you mean `skip`?',
  ],
  "retry-attempts-fraction.yaml": [
    "retry-attempts-fraction.yaml:6:17: jobs.backup.retry.attempts: expected a whole number >= 1, got 2.5",
  ],
  "retry-attempts-zero.yaml": [
    "retry-attempts-zero.yaml:5:24: jobs.backup.retry.attempts: expected a whole number >= 1, got 0",
  ],
  "retry-backoff-below-one.yaml": [
    "retry-backoff-below-one.yaml:5:36: jobs.backup.retry.backoff: expected a number >= 1 (1 = a constant delay), got 0.5",
  ],
  "retry-missing-attempts.yaml": [
    "retry-missing-attempts.yaml:5:5: jobs.backup.retry.attempts: missing `attempts`: how many attempts in all, the first included\n  hint: e.g. `retry: { attempts: 3 }`",
  ],
  "retry-not-a-map.yaml": [
    "retry-not-a-map.yaml:5:12: jobs.backup.retry: expected a map with attempts, delay, backoff, max_delay, got 3\n  hint: write `retry: { attempts: 3 }`",
  ],
  "retry-unknown-key.yaml": [
    "retry-unknown-key.yaml:7:7: jobs.backup.retry.delays: unknown key `delays`\n  hint: did you mean `delay`?",
  ],
  "run-empty-list.yaml": ["run-empty-list.yaml:4:10: jobs.backup.run: the command list is empty"],
  "run-empty-string.yaml": [
    "run-empty-string.yaml:4:10: jobs.backup.run: the command is empty\n  hint: write the command to run",
  ],
  "run-list-with-number.yaml": [
    'run-list-with-number.yaml:4:18: jobs.backup.run.1: the items of a command list are text, got 5\n  hint: quote it: "5"',
  ],
  "run-missing.yaml": [
    "run-missing.yaml:2:3: jobs.backup.run: missing `run`: the command to run (a string, or a list for argv)\n  hint: e.g. `run: ./backup.sh`, or `run: [/usr/bin/backup, --full]` for argv without a shell",
  ],
  "run-number.yaml": [
    'run-number.yaml:4:10: jobs.backup.run: expected a command: a string (run by the shell) or a list (argv, no shell), got 42\n  hint: quote it: run: "42"',
  ],
  "several-mistakes-at.yaml": [
    "several-mistakes-at.yaml:5:9: jobs.release.at.0: 2027-03-14 02:30 does not exist in America/New_York (the clocks jump from 02:00 to 03:00)\n  hint: use a time outside the gap, e.g. 2027-03-14T03:00:00-04:00, or give an offset",
    "several-mistakes-at.yaml:6:9: jobs.release.at.1: 2027-11-07 01:30 happens twice in America/New_York (the clocks go back from 02:00 to 01:00); add an offset: 2027-11-07T01:30:00-04:00 (first) or 2027-11-07T01:30:00-05:00 (second)\n  hint: write 2027-11-07T01:30:00-04:00 for the first time or 2027-11-07T01:30:00-05:00 for the second",
    'several-mistakes-at.yaml:7:9: jobs.release.at.2: "2027-06-01 9am" is not an ISO 8601 date-time like "2026-12-01 09:00"\n  hint: write it as YYYY-MM-DD HH:MM[:SS], optionally with an offset: "2026-12-01 09:00" or "2026-12-01T09:00:00+01:00"',
  ],
  "several-mistakes-jobs.yaml": [
    "several-mistakes-jobs.yaml:3:3: defaults.timout: unknown key `timout`\n  hint: did you mean `timeout`?",
    "several-mistakes-jobs.yaml:8:5: jobs.heartbeat.after: a job has exactly one trigger, but this one has every and after\n  hint: keep one; for two schedules, make two jobs",
    'several-mistakes-jobs.yaml:11:11: jobs.backup.cron: expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first; got 4\n  hint: e.g. "*/15 * * * *" for every 15 minutes, "0 3 * * *" for 03:00 every day',
    'several-mistakes-jobs.yaml:12:14: jobs.backup.timeout: "2 hours" is not a duration: use a number and a unit (ms, s, m, h, d), e.g. 30s, 5m, 1h30m',
    "several-mistakes-jobs.yaml:14:36: jobs.backup.retry.backoff: expected a number >= 1 (1 = a constant delay), got 0",
    "several-mistakes-jobs.yaml:16:5: jobs.report.schedule: unknown key `schedule`\n  hint: did you mean `cron`?",
    "several-mistakes-jobs.yaml:17:5: jobs.report.cmd: unknown key `cmd`\n  hint: did you mean `run`?",
    'several-mistakes-jobs.yaml:18:18: jobs.report.kill_signal: unknown signal "TREM"\n  hint: did you mean SIGTERM?',
  ],
  "several-mistakes-readme.yaml": [
    "several-mistakes-readme.yaml:4:5: jobs.backup.evry: unknown key `evry`\n  hint: did you mean `every`?",
    "several-mistakes-readme.yaml:7:14: jobs.report.timeout: a bare number is not a duration: add a unit, e.g. 90s or 90m",
    'several-mistakes-readme.yaml:9:15: jobs.report.timezone: unknown time zone "Europe/Berln"\n  hint: did you mean "Europe/Berlin"?',
  ],
  "several-mistakes-syntax.yaml": [
    "several-mistakes-syntax.yaml:4:5: jobs.backup.every: `every` appears twice in the same map (first on line 3)\n  hint: remove one of the two",
    "several-mistakes-syntax.yaml:8:1: a tab is used for indentation\n  hint: indent with spaces",
  ],
  "shell-list.yaml": [
    "shell-list.yaml:1:8: shell: expected text, got a list\n  hint: name one program, e.g. /bin/bash; string commands run as `shell -c COMMAND`",
  ],
  "tab-indent.yaml": ["tab-indent.yaml:3:1: a tab is used for indentation\n  hint: indent with spaces"],
  "timeout-zero.yaml": [
    "timeout-zero.yaml:5:14: jobs.backup.timeout: a timeout of 0 would stop every run at once\n  hint: remove it for no timeout",
  ],
  "top-level-list.yaml": [
    "top-level-list.yaml:1:1: expected a map with a `jobs:` key, got a list\n  hint: start the file with `jobs:` at the left margin and put each job under it",
  ],
  "top-level-scalar.yaml": [
    'top-level-scalar.yaml:1:1: expected a map with a `jobs:` key, got "echo hello every hour"\n  hint: start the file with `jobs:` at the left margin and put each job under it',
  ],
  "two-triggers.yaml": [
    "two-triggers.yaml:4:5: jobs.backup.cron: a job has exactly one trigger, but this one has every and cron\n  hint: keep one; for two schedules, make two jobs",
  ],
  "undefined-alias.yaml": [
    "undefined-alias.yaml:3:9: unknown alias `*common`: no anchor `&common` comes before it\n  hint: define it first, e.g. `common: &common { timeout: 5m }` above this line",
  ],
  "unknown-job-key-typo.yaml": [
    "unknown-job-key-typo.yaml:3:5: jobs.heartbeat.evry: unknown key `evry`\n  hint: did you mean `every`?",
  ],
  "unknown-top-level-key.yaml": [
    "unknown-top-level-key.yaml:1:1: tz: unknown key `tz`\n  hint: did you mean `timezone`?",
  ],
  "user-id-too-large.yaml": [
    `user-id-too-large.yaml:4:11: jobs.backup.user: 99999999999 is too large for a user id (at most 2147483647)\n  hint: use the user's name, or its id from /etc/passwd`,
  ],
  "user-without-root.yaml": [
    "user-without-root.yaml:5:11: jobs.backup.user: running as another user needs tdefer to run as root\n  hint: remove `user`, or run tdefer as root",
  ],
  "version-2.yaml": [
    "version-2.yaml:1:10: version: only format version 1 exists, got 2\n  hint: write `version: 1`, or leave the line out",
  ],
  "yaml-syntax.yaml": [
    "yaml-syntax.yaml:5:3: YAML syntax error: flow sequence in block collection must be sufficiently indented and end with a ]\n  hint: close the list with `]`, or write it as a block list with `- ` items",
  ],
  "yaml-unclosed-quote.yaml": [
    "yaml-unclosed-quote.yaml:3:11: YAML syntax error: this quoted text is never closed\n  hint: add the closing quote at the end of the value",
  ],
};

function problemsOf(name: string): string[] {
  const text = readFileSync(`${DIR}${name}`, "utf8");
  try {
    loadScheduleText(text, name, { ...OPTIONS, forRunning: FOR_RUNNING.has(name) });
  } catch (error) {
    if (error instanceof ScheduleErrors) return error.problems.map(formatProblem);
    throw error;
  }
  throw new Error(`${name} was accepted`);
}

describe("bad schedule files", () => {
  it("every fixture has an expectation and every expectation a fixture", () => {
    expect(readdirSync(DIR).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.entries(EXPECTED))("%s", (name, expected) => {
    expect(problemsOf(name)).toEqual(expected);
  });

  it("one-mistake fixtures give one problem; the several-mistakes ones more", () => {
    for (const [name, expected] of Object.entries(EXPECTED)) {
      expect(expected.length > 1, name).toBe(name.startsWith("several-mistakes-"));
    }
  });

  it("no message leaks a stack trace or a library's wording", () => {
    for (const expected of Object.values(EXPECTED)) {
      for (const line of expected) {
        expect(line.slice(line.indexOf(": ")), line).not.toMatch(
          /\n\s+at |Error:|undefined|\[object|YAML\.parse|Invalid input/,
        );
      }
    }
  });

  it("the same file loaded for check (not for running) only warns about user", () => {
    const text = readFileSync(`${DIR}user-without-root.yaml`, "utf8");
    const schedule = loadScheduleText(text, "user-without-root.yaml", OPTIONS);
    expect(schedule.warnings).toEqual([
      {
        file: "user-without-root.yaml",
        line: 5,
        col: 11,
        path: "jobs.backup.user",
        message: "running as another user needs tdefer to run as root",
      },
    ]);
    expect(() =>
      loadScheduleText(text, "x.yaml", { ...OPTIONS, isRoot: true, forRunning: true }),
    ).not.toThrow();
  });
});
