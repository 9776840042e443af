import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";

// What a new user meets in the first hour, through the built binary: the mistakes of a crontab converted
// by hand, and the places where the CLI's answers used to disagree or say too little.

/** Writes `text` as a schedule file in a new folder; returns its path. */
function scheduleFile(text: string, name = "schedules.yaml"): string {
  const file = join(mkdtempSync(join(tmpdir(), "tdefer-newcomer-")), name);
  writeFileSync(file, text);
  return file;
}

describe("an unquoted cron expression", () => {
  it.each([
    ["*/5 * * * *", "`*`"],
    ["* * * * *", "`*`"],
    ["@daily", "`@`"],
  ])("`cron: %s` is told to quote it, with the quoted line as the hint", async (expression, char) => {
    const file = scheduleFile(`jobs:\n  tick:\n    cron: ${expression}\n    run: "true"\n`);
    const result = await runCli(["check", file]);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain(`${file}:3:11: this cron expression starts with ${char}`);
    expect(result.stderr).toContain(`quote it\n  hint: cron: "${expression}"\n`);
  });
});

describe('cron: "@every 30s" (supercronic\'s syntax)', () => {
  it("points at the every trigger", async () => {
    const file = scheduleFile('jobs:\n  tick:\n    cron: "@every 30s"\n    run: "true"\n');
    const result = await runCli(["check", file]);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain("hint: replace the `cron:` line with `every: 30s`");
  });
});

describe("run --help", () => {
  it("shows the grace's default as a duration the flag accepts", async () => {
    const result = await runCli(["run", "--help"]);
    expect(result.stdout.replace(/\s+/g, " ")).toContain("before SIGKILL (default: 25s)");
  });
});

describe("retries and alerting", () => {
  const file = () =>
    scheduleFile(
      "jobs:\n  flaky:\n    every: 1h\n    run: exit 3\n    retry: { attempts: 3, delay: 50ms }\n",
    );

  it("logs attempts that will be retried as warnings and the last one as an error with final: true", async () => {
    const result = await runCli(["trigger", "flaky", file(), "--log-format", "json"]);
    expect(result.code).toBe(3);
    const finished = result.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line))
      .filter((event) => event.event === "finished");
    expect(finished.map(({ level, attempt, final }) => ({ level, attempt, final }))).toEqual([
      { level: "warn", attempt: 1, final: false },
      { level: "warn", attempt: 2, final: false },
      { level: "error", attempt: 3, final: true },
    ]);
    for (const event of finished) expect(Number.isInteger(event.duration_ms)).toBe(true);
  });

  it("under systemd, only the last failed attempt gets the error priority", async () => {
    const result = await runCli(["trigger", "flaky", file()], { env: { JOURNAL_STREAM: "8:1234" } });
    const finished = result.stdout.split("\n").filter((line) => line.includes("] finished"));
    expect(finished).toEqual([
      expect.stringMatching(/^<4>flaky\[\w+\] finished: exit 3 in \d+ ms$/),
      expect.stringMatching(/^<4>flaky\[\w+\] finished: exit 3 in \d+ ms \(attempt 2\)$/),
      expect.stringMatching(
        /^<3>flaky\[\w+\] finished: exit 3 in \d+ ms \(attempt 3\); giving up after 3 attempts$/,
      ),
    ]);
  });
});

describe("smaller mistakes", () => {
  const example = fileURLToPath(new URL("../../schedules.example.yaml", import.meta.url));

  it("next FILE --cron EXPR is a usage error, not a silent preview of the expression alone", async () => {
    const result = await runCli(["next", example, "--cron", "* * * * *"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--cron previews one expression without a file");
  });

  it("next --tz ZONE FILE says that a file's jobs fire in their own zones", async () => {
    const result = await runCli(["next", "--tz", "Europe/Berlin", example]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("each job of a file fires in its own zone");
    const withFrom = await runCli(["next", "--tz", "Europe/Berlin", "--from", "2026-12-01 00:00", example]);
    expect(withFrom.code).toBe(0); // --tz is the zone of --from here
  });

  it("next --job NAME lists the file's jobs when there is no such job", async () => {
    const result = await runCli(["next", example, "--job", "nosuch"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("its jobs: heartbeat, warm-cache, nightly-report, release");
  });

  it("check DIR says it is a directory", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tdefer-newcomer-"));
    const result = await runCli(["check", dir]);
    expect(result.code).toBe(78);
    expect(result.stderr).toBe(
      `tdefer: ${dir} is a directory, not a schedule file\n  hint: name the file in it, e.g. ${join(dir, "schedules.yaml")}\n`,
    );
  });

  it.each([
    ["a list", "jobs:\n  [backup]:\n    every: 1h\n    run: backup\n", 2, 3],
    ["a map", "{a: 1}:\n  x: 1\njobs:\n  b:\n    every: 1h\n    run: b\n", 1, 1],
  ])("a key that is %s is an error at its place, with no Node warning", async (kind, text, line, col) => {
    const file = scheduleFile(text);
    const result = await runCli(["check", file]);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain(`${file}:${line}:${col}: a key must be plain text, not ${kind}`);
    expect(result.stderr).not.toMatch(/Warning|object Object/);
  });
});

describe("check --json", () => {
  it("on an invalid file prints the problems as data on stdout, and exits 78", async () => {
    const file = scheduleFile("jobs:\n  backup:\n    evry: 5m\n    run: backup\n");
    const result = await runCli(["check", "--json", file]);
    expect(result.code).toBe(78);
    expect(JSON.parse(result.stdout)).toEqual({
      valid: false,
      file,
      problems: [
        {
          file,
          line: 3,
          column: 5,
          path: "jobs.backup.evry",
          message: "unknown key `evry`",
          hint: "did you mean `every`?",
        },
      ],
      warnings: [],
    });
  });

  it("on a file that cannot be read says so as data", async () => {
    const result = await runCli(["check", "--json", "/nonexistent/tdefer.yaml"]);
    expect(result.code).toBe(78);
    expect(JSON.parse(result.stdout)).toMatchObject({
      valid: false,
      problems: [
        {
          file: "/nonexistent/tdefer.yaml",
          line: null,
          column: null,
          message: expect.stringContaining("no such file"),
        },
      ],
    });
  });

  it("gives options as data, warnings with their place, snake_case keys, and cron expressions in words", async () => {
    const file = scheduleFile(
      [
        "jobs:",
        "  nightly:",
        '    cron: "30 2 * * 1-5"',
        "    timezone: Europe/Berlin",
        "    run: backup",
        "    timeout: 1h",
        "    retry: { attempts: 3, delay: 30s }",
        "    env: { TOKEN: secret-value }",
        "  often:",
        "    every: 1s",
        "    jitter: 2s",
        "    run: echo",
        "",
      ].join("\n"),
    );
    const result = await runCli(["check", "--json", file]);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain("secret-value");
    const summary = JSON.parse(result.stdout);
    expect(summary.jobs[0]).toMatchObject({
      name: "nightly",
      cron_in_words: "at 02:30, Monday through Friday (Europe/Berlin)",
      next_ms: expect.any(Number),
      options: {
        timeout_ms: 3_600_000,
        retry: { attempts: 3, delay_ms: 30_000, backoff: 2, max_delay_ms: 600_000 },
        env: ["TOKEN"],
      },
    });
    expect(summary.warnings).toEqual([
      {
        file,
        line: 11,
        column: 13,
        path: "jobs.often.jitter",
        message: expect.stringContaining("jitter"),
        hint: null,
      },
    ]);
    const keys = JSON.stringify(summary).match(/"[A-Za-z_]+":/g) ?? [];
    for (const key of keys) expect(key).not.toMatch(/[A-Z]/);
  });
});

describe("cron expressions in words", () => {
  it("check and next say what an expression means, in the job's zone", async () => {
    const file = scheduleFile(
      'jobs:\n  nightly:\n    cron: "30 2 * * 1-5"\n    timezone: Europe/Berlin\n    run: backup\n',
    );
    const check = await runCli(["check", file]);
    expect(check.stdout).toContain("  nightly: at 02:30, Monday through Friday (Europe/Berlin)\n");
    const next = await runCli(["next", file, "-n", "1"]);
    expect(next.stdout).toContain('\ncron "30 2 * * 1-5": at 02:30, Monday through Friday (Europe/Berlin)\n');
  });
});

describe("run with nothing left to fire", () => {
  it("says that every job is disabled, rather than ending without a word", async () => {
    const file = scheduleFile("jobs:\n  a:\n    every: 1s\n    run: echo a\n    enabled: false\n");
    const result = await runCli(["run", file, "--log-format", "plain"]);
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split("\n").at(-1)).toMatch(
      /stopped: nothing left to fire: every job is disabled \(enabled: false\), so tdefer ends$/,
    );
  });

  it("says that the last one-shot has run, as a warning with a reason in JSON", async () => {
    const file = scheduleFile("jobs:\n  once:\n    after: 100ms\n    run: echo once\n");
    const result = await runCli(["run", file, "--log-format", "json"]);
    expect(result.code).toBe(0);
    const last = JSON.parse(result.stdout.trim().split("\n").at(-1)!);
    expect(last).toMatchObject({ event: "stopped", level: "warn", killed: 0 });
    expect(last.reason).toContain("1 one-shot (after/at) done");
  });
});

describe("colours through a pipe", () => {
  const file = () => scheduleFile('jobs:\n  hello:\n    every: 1h\n    run: echo "hi"\n');
  const ESC = "\u001b[";

  it("FORCE_COLOR=1 colours the (plain) log of `run x | cat`", async () => {
    const result = await runCli(["trigger", "hello", file()], { env: { NO_COLOR: "", FORCE_COLOR: "1" } });
    expect(result.stdout).toContain(ESC);
    expect(result.stdout).toContain("hi");
  });

  it("--color does too, and --no-color and NO_COLOR win over FORCE_COLOR", async () => {
    const colored = await runCli(["trigger", "hello", file(), "--color"], { env: { NO_COLOR: "" } });
    expect(colored.stdout).toContain(ESC);
    const noFlag = await runCli(["trigger", "hello", file(), "--no-color"], {
      env: { NO_COLOR: "", FORCE_COLOR: "1" },
    });
    expect(noFlag.stdout).not.toContain(ESC);
    const noEnv = await runCli(["trigger", "hello", file()], { env: { NO_COLOR: "1", FORCE_COLOR: "1" } });
    expect(noEnv.stdout).not.toContain(ESC);
  });

  it("never colours json", async () => {
    const result = await runCli(["trigger", "hello", file(), "--log-format", "json"], {
      env: { NO_COLOR: "", FORCE_COLOR: "1" },
    });
    expect(result.stdout).not.toContain(ESC);
  });
});

describe("log times in plain and pretty", () => {
  it("show lines in the system's zone and a job's next fire in its own zone, with offsets; json stays UTC", async () => {
    const file = scheduleFile(
      'jobs:\n  nightly:\n    cron: "0 3 * * *"\n    timezone: Europe/Berlin\n    run: echo hi\n',
    );
    const plain = await runCli(["run", file, "--for", "100ms", "--log-format", "plain"], {
      env: { TZ: "America/New_York" },
    });
    const [loaded, scheduled] = plain.stdout.split("\n");
    expect(loaded).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}-0[45]:00 loaded /);
    expect(scheduled).toMatch(/nightly scheduled: .*, next \d{4}-\d\d-\d\dT03:00:00\+0[12]:00$/);
    const json = await runCli(["run", file, "--for", "100ms", "--log-format", "json"], {
      env: { TZ: "America/New_York" },
    });
    const event = JSON.parse(json.stdout.split("\n")[1]!);
    expect(event.time).toMatch(/Z$/);
    expect(event.next).toMatch(/T0[12]:00:00\.000Z$/);
    expect(event.zone).toBe("Europe/Berlin");
  });
});

describe("check agrees with run", () => {
  const isRoot = process.getuid?.() === 0;
  const broken = [
    "jobs:",
    "  missing-program:",
    "    every: 1h",
    "    run: [no-such-program-anywhere, --flag]",
    "  missing-cwd:",
    "    every: 1h",
    "    cwd: /nonexistent/folder",
    "    run: echo hi",
    "  fine:",
    "    every: 1h",
    "    run: echo fine",
    "",
  ].join("\n");

  it("check warns, with file:line:col, about what would fail every fire; run logs the same warnings", async () => {
    const file = scheduleFile(broken);
    const check = await runCli(["check", "--json", file]);
    expect(check.code).toBe(0);
    expect(JSON.parse(check.stdout).warnings).toEqual([
      {
        file,
        line: 4,
        column: 11,
        path: "jobs.missing-program.run.0",
        message: "no-such-program-anywhere is not found in any folder of PATH: every run would fail to start",
        hint: "give the program's full path, install it, or set PATH in `env:`",
      },
      {
        file,
        line: 7,
        column: 10,
        path: "jobs.missing-cwd.cwd",
        message: "the working directory /nonexistent/folder does not exist: every run would fail to start",
        hint: "create it, or point `cwd` at an existing folder",
      },
    ]);
    const run = await runCli(["run", file, "--for", "100ms", "--log-format", "plain"]);
    expect(run.stdout).toContain(
      `warning: ${file}:4:11: jobs.missing-program.run.0: no-such-program-anywhere`,
    );
    expect(run.stdout).toContain(`warning: ${file}:7:10: jobs.missing-cwd.cwd: the working directory`);
  });

  it("a shell that does not exist is one warning at the shell key", async () => {
    const file = scheduleFile(
      "shell: /bin/no-such-shell\njobs:\n  a:\n    every: 1h\n    run: echo a\n  b:\n    every: 1h\n    run: echo b\n",
    );
    const check = await runCli(["check", file]);
    expect(check.stdout).toContain("1 warning:");
    expect(check.stdout).toContain(`${file}:1:8: shell: the shell /bin/no-such-shell does not exist`);
  });

  it.skipIf(!isRoot)(
    "as root, a user that does not exist is an error for check and run alike, at its line",
    async () => {
      const file = scheduleFile(
        `${broken}  other:\n    every: 1h\n    run: echo other\n    user: no-such-user-here\n`,
      );
      const expected = `${file}:15:11: jobs.other.user: no user named "no-such-user-here" in /etc/passwd\n  hint: create it, or use an existing user or a numeric id\n1 problem in ${file}; nothing was started\n`;
      const check = await runCli(["check", file]);
      expect(check.code).toBe(78);
      expect(check.stderr).toBe(expected);
      const run = await runCli(["run", file, "--for", "100ms"]);
      expect(run.code).toBe(78);
      expect(run.stderr).toBe(expected);
      // One bad job does not block triggering another.
      const trigger = await runCli(["trigger", "fine", file, "--log-format", "plain"]);
      expect(trigger.code).toBe(0);
      expect(trigger.stdout).toContain("| fine");
    },
  );

  it.skipIf(!isRoot)(
    "as root, check refuses a file that group or others can write, as run does",
    async () => {
      const file = scheduleFile("jobs:\n  a:\n    every: 1h\n    run: echo a\n");
      chmodSync(file, 0o666);
      const check = await runCli(["check", file]);
      const run = await runCli(["run", file, "--for", "100ms"]);
      expect(check.code).toBe(78);
      expect(run.code).toBe(78);
      expect(check.stderr).toBe(run.stderr);
      expect(check.stderr).toContain("group or others can write");
    },
  );
});
