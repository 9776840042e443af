import { describe, expect, it } from "vitest";
import { ScheduleErrors } from "../../src/errors.js";
import { loadCrontabText, programSlug, readCrontabText, splitPercent } from "../../src/schedule/crontab.js";
import { crontabAsYaml } from "../../src/schedule/crontab-yaml.js";
import type { JobSpec, Schedule } from "../../src/schedule/types.js";
import { loadScheduleText } from "../../src/schedule/validate.js";

const OPTIONS = {
  nowMs: Date.UTC(2026, 10, 27, 12, 0),
  systemZone: "UTC",
  isRoot: true,
  forRunning: false,
  system: false,
  homeOf: (user: string | undefined) => (user === undefined ? "/home/me" : `/home/${user}`),
};

function load(text: string, options: Partial<typeof OPTIONS> = {}): Schedule {
  return loadCrontabText(text, "crontab", { ...OPTIONS, ...options });
}

function problems(text: string, options: Partial<typeof OPTIONS> = {}): string {
  try {
    load(text, options);
  } catch (error) {
    if (error instanceof ScheduleErrors) return error.message;
    throw error;
  }
  throw new Error("expected problems");
}

const jobs = (text: string, options: Partial<typeof OPTIONS> = {}): JobSpec[] => [
  ...load(text, options).jobs,
];

describe("a crontab's environment lines", () => {
  it("apply to the entries below them only, as in cron", () => {
    const [first, second] = jobs("0 1 * * * one\nGREETING=hello\n0 2 * * * two\n");
    expect(first!.env).toEqual({ SHELL: "/bin/sh", PATH: "/usr/bin:/bin" });
    expect(second!.env).toEqual({ SHELL: "/bin/sh", PATH: "/usr/bin:/bin", GREETING: "hello" });
  });

  it("take spaces around = and strip matching quotes, keeping the value literal ($ is not expanded)", () => {
    const schedule = load("A = 'x y'\nB=\"1\"\nC =  two words  \nPATH=$PATH:/opt\n* * * * * run\n");
    expect(schedule.jobs[0]!.env).toMatchObject({ A: "x y", B: "1", C: "two words", PATH: "$PATH:/opt" });
    expect(schedule.warnings.map((w) => `${w.line}:${w.col}: ${w.path}: ${w.message}`)).toEqual([
      '4:6: PATH: cron does not expand variables in settings: PATH is the literal text "$PATH:/opt"',
    ]);
  });

  it("give the jobs cron's SHELL and PATH when the crontab sets none", () => {
    expect(jobs("* * * * * run\n")[0]!.env).toEqual({ SHELL: "/bin/sh", PATH: "/usr/bin:/bin" });
  });

  it("run each entry with the SHELL above it", () => {
    const schedule = load("0 1 * * * one\nSHELL=/bin/bash\n0 2 * * * two\n0 3 * * * three\n");
    const [one, two, three] = schedule.jobs;
    expect(one!.command).toEqual({ kind: "argv", argv: ["/bin/sh", "-c", "one"] });
    expect(two!.command).toEqual({ kind: "shell", script: "two", shell: "/bin/bash" });
    expect(three!.env.SHELL).toBe("/bin/bash");
  });

  it("use CRON_TZ as the zone of the entries below it, and pass TZ to the job only", () => {
    const [utc, berlin, tz] = jobs(
      "0 1 * * * one\nCRON_TZ=Europe/Berlin\n0 2 * * * two\nCRON_TZ=UTC\nTZ=Asia/Tokyo\n0 3 * * * three\n",
    );
    expect(utc!.trigger).toEqual({ kind: "cron", expression: "0 1 * * *", zone: "UTC" });
    expect(berlin!.trigger).toEqual({ kind: "cron", expression: "0 2 * * *", zone: "Europe/Berlin" });
    expect(tz!.trigger).toEqual({ kind: "cron", expression: "0 3 * * *", zone: "UTC" });
    expect(tz!.env.TZ).toBe("Asia/Tokyo");
  });

  it("turn RANDOM_DELAY (minutes) into jitter", () => {
    const [none, delayed] = jobs("0 1 * * * one\nRANDOM_DELAY=15\n0 2 * * * two\n");
    expect(none!.jitterMs).toBe(0);
    expect(delayed!.jitterMs).toBe(15 * 60_000);
  });

  it("warn that MAILTO, MAILFROM and CONTENT_TYPE send no mail, naming notify:", () => {
    const schedule = load("MAILTO=ops@example.com\nMAILFROM=cron\nCONTENT_TYPE=text/plain\n* * * * * run\n");
    expect(schedule.warnings.map((w) => `${w.line}:${w.col}: ${w.path}`)).toEqual([
      "1:1: MAILTO",
      "2:1: MAILFROM",
      "3:1: CONTENT_TYPE",
    ]);
    expect(schedule.warnings[0]!.message).toBe(
      "tdefer sends no mail: a job's output goes to tdefer's log; for alerts on failure, use `notify:` in a schedule file",
    );
  });

  it("ignore LOGNAME and USER with a warning, as cron sets them from the user", () => {
    const schedule = load("LOGNAME=other\n* * * * * run\n");
    expect(schedule.jobs[0]!.env.LOGNAME).toBeUndefined();
    expect(schedule.warnings[0]!.message).toBe(
      "cron sets LOGNAME to the job's user and ignores this line; so does tdefer",
    );
  });

  it("start each job in the user's home, or in HOME when the crontab sets it", () => {
    const [mine, set] = jobs("0 1 * * * one\nHOME=/srv\n0 2 * * * two\n");
    expect(mine!.cwd).toBe("/home/me");
    expect(set!.cwd).toBe("/srv");
    expect(set!.env.HOME).toBe("/srv");
  });
});

describe("a crontab's runs", () => {
  it("may overlap, as cron starts a run even while the previous one still runs", () => {
    expect(jobs("* * * * * run\n")[0]!.overlap).toBe("allow");
  });
});

describe("a crontab's time fields", () => {
  it("keep cron's names, ranges, lists, steps and Sunday as 7", () => {
    const [job] = jobs("5-55/10 8-18 1,15 jan-jun mon-fri,7 run\n");
    expect(job!.trigger).toEqual({
      kind: "cron",
      expression: "5-55/10 8-18 1,15 jan-jun mon-fri,7",
      zone: "UTC",
    });
  });

  it("take the nicknames, @reboot as a run at start and @every as an interval", () => {
    const schedule = load("@daily a\n@midnight b\n@reboot c\n@every 1h30m d\n@every 1.5s e\n@hourly f\n");
    expect(schedule.jobs.map((job) => job.trigger)).toEqual([
      { kind: "cron", expression: "@daily", zone: "UTC" },
      { kind: "cron", expression: "@midnight", zone: "UTC" },
      { kind: "after", delayMs: 0 },
      { kind: "every", intervalMs: 5_400_000, now: false },
      { kind: "every", intervalMs: 1500, now: false },
      { kind: "cron", expression: "@hourly", zone: "UTC" },
    ]);
  });

  it("refuse what cron does not read (L, #, ?, a bare a/n), saying why", () => {
    expect(problems("0 0 L * * run\n0 0 * * 5#2 run\n5/15 * * * * run\n")).toBe(
      [
        'crontab:1:5: "L" is not a valid day-of-month field: L, W, #, ? and H are not cron syntax (cron rejects the line)',
        'crontab:2:9: "5#2" is not a valid day-of-week field: L, W, #, ? and H are not cron syntax (cron rejects the line)',
        'crontab:3:1: "5/15" in the minute field: cron takes a step only after a range or *',
        "  hint: write 5-59/15 for every 15 from 5",
      ].join("\n"),
    );
  });

  it("point the cron engine's messages at the time fields of the entry", () => {
    expect(problems("# ok\n0 25 * * * run\n")).toMatch(/^crontab:2:1: jobs\.run-[0-9a-f]{4}\.cron: /);
  });
});

describe("a crontab's commands", () => {
  it("end at an unescaped %, the rest being stdin with % as newlines; \\% is a literal %", () => {
    const [job] = jobs('0 9 * * * mail -s "at 100\\%" ops%Hello,%the disk is 90\\% full%\n');
    expect(job!.command).toEqual({ kind: "shell", script: 'mail -s "at 100%" ops', shell: "/bin/sh" });
    expect(job!.stdin).toBe("Hello,\nthe disk is 90% full\n");
  });

  it("follow cron's backslash rules to the byte", () => {
    expect(splitPercent("a\\\\%b")).toEqual({ command: "a\\\\", input: "b", percentAt: 3 });
    expect(splitPercent("echo \\n%x\\y\\%z\\")).toEqual({
      command: "echo \\n",
      input: "x\\y%z",
      percentAt: 7,
    });
    expect(splitPercent("date +\\%d")).toEqual({ command: "date +%d" });
  });

  it("drop a leading - and cronie's -q (do not log): tdefer logs every run", () => {
    const [dash, quiet] = jobs("* * * * * -/usr/bin/a\n* * * * * -q /usr/bin/b\n");
    expect(dash!.command).toMatchObject({ script: "/usr/bin/a" });
    expect(quiet!.command).toMatchObject({ script: "/usr/bin/b" });
  });

  it("keep the rest of the line byte for byte, quotes, tabs and trailing spaces included", () => {
    const [job] = jobs("* * * * *\ttest -x '/a b' &&\tprintf '%s\\n' \"$HOME\"  \n");
    expect(job!.command).toMatchObject({ script: "test -x '/a b' &&\tprintf '" });
    expect(job!.stdin).toBe('s\\n\' "$HOME"  ');
  });
});

describe("the system format", () => {
  it("reads the user field as user:", () => {
    const [job] = jobs("17 * * * * root cd / && run-parts /etc/cron.hourly\n", { system: true });
    expect(job!.user).toBe("root");
    expect(job!.cwd).toBe("/home/root");
    expect(job!.command).toMatchObject({ script: "cd / && run-parts /etc/cron.hourly" });
  });

  it("is assumed for /etc/crontab and /etc/cron.d/*", () => {
    const text = "0 1 * * * www-data run\n";
    expect(loadCrontabText(text, "/etc/cron.d/site", OPTIONS).jobs[0]!.user).toBe("www-data");
    expect(loadCrontabText(text, "/etc/crontab", OPTIONS).jobs[0]!.user).toBe("www-data");
    expect(loadCrontabText(text, "/home/me/crontab", OPTIONS).jobs[0]!.user).toBeUndefined();
  });
});

describe("job names", () => {
  it("are the program's name and a short hash of the entry, stable when other lines come and go", () => {
    const before = jobs("0 3 * * * /usr/local/bin/backup --all\n").map((j) => j.name);
    const after = jobs("# new\nA=1\n*/5 * * * * other\n\n0 3 * * * /usr/local/bin/backup --all\n").map(
      (j) => j.name,
    );
    expect(before).toEqual([expect.stringMatching(/^backup-[0-9a-f]{4}$/)]);
    expect(after[1]).toBe(before[0]);
  });

  it("change when the entry's time or command changes", () => {
    const [a] = jobs("0 3 * * * backup\n");
    const [b] = jobs("0 4 * * * backup\n");
    const [c] = jobs("0 3 * * * backup --full\n");
    expect(new Set([a!.name, b!.name, c!.name]).size).toBe(3);
  });

  it("look past tests, cd, wrappers, inline code and substitutions for the program", () => {
    expect(
      programSlug("test -x /usr/bin/certbot && perl -e 'sleep int(rand(43200))' && certbot -q renew"),
    ).toBe("certbot");
    expect(programSlug("[ $(date +%d) -le 7 ] && nice -n 10 /usr/share/mdadm/checkarray --cron")).toBe(
      "checkarray",
    );
    expect(programSlug("cd / && run-parts --report /etc/cron.daily")).toBe("run-parts");
    expect(programSlug("SERVICE_MODE=1 /sbin/e2scrub_all -A")).toBe("e2scrub-all");
    expect(programSlug("test -x /nothing")).toBe("job");
  });

  it("are set by a # name: comment just above the entry", () => {
    expect(jobs("# name: nightly-backup\n0 3 * * * backup\n")[0]!.name).toBe("nightly-backup");
  });

  it("stay distinct for two identical entries, which cron runs both", () => {
    const names = jobs("0 3 * * * backup\n0 3 * * * backup\n").map((j) => j.name);
    expect(names[1]).toBe(`${names[0]}-2`);
  });

  it("refuse the same # name: twice", () => {
    expect(problems("# name: x\n0 3 * * * a\n# name: x\n0 4 * * * b\n")).toBe(
      'crontab:3:1: the name "x" is already used by the entry on line 2\n  hint: give each entry its own `# name:`',
    );
  });
});

describe("comment blocks", () => {
  it("describe the entry right below them, without field legends", () => {
    const [job, alone] = jobs(
      "# m h dom mon dow command\n# Rotate the logs\n#   every night\n0 3 * * * rotate\n\n# far away\n\n0 4 * * * other\n",
    );
    expect(job!.description).toBe("Rotate the logs\n  every night");
    expect(alone!.description).toBeUndefined();
  });
});

describe("bad crontabs: every problem at once, each with its line and column", () => {
  it("a five-field line missing its command", () => {
    expect(problems("# nightly\n0 3 * * *\n")).toBe(
      "crontab:2:10: this entry has no command\n  hint: the command follows the time fields on the same line, e.g. `0 3 * * * /usr/local/bin/backup`",
    );
  });

  it("a user field missing in the system format", () => {
    expect(problems("0 3 * * * /usr/bin/backup --all\n", { system: true })).toBe(
      'crontab:1:11: expected a user name after the time fields (system crontab format), got "/usr/bin/backup"\n  hint: write the user first, e.g. `0 3 * * * root /usr/bin/backup`; a user\'s own crontab has no user field (leave out --system)',
    );
  });

  it("an unknown nickname", () => {
    expect(problems("@fortnightly /usr/bin/report\n@Daily report\n")).toBe(
      [
        'crontab:1:1: unknown nickname "@fortnightly"',
        "  hint: cron's nicknames are @reboot, @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly (and @every DURATION); or write the five time fields",
        'crontab:2:1: unknown nickname "@Daily"',
        "  hint: did you mean @daily?",
      ].join("\n"),
    );
  });

  it("bad environment lines", () => {
    expect(problems('MY VAR=1\nGREETING="hello\nRANDOM_DELAY=soon\n0 3 * * * echo\n')).toBe(
      [
        'crontab:1:1: not an environment setting: the name "MY VAR" has a space in it',
        "  hint: write NAME=value with a one-word name (letters, digits and _); an entry starts with five time fields",
        'crontab:2:10: GREETING: the value\'s opening " has no closing "',
        '  hint: end the value with ", or remove the quote (cron does not read this line as a setting)',
        'crontab:3:14: RANDOM_DELAY is a whole number of minutes, got "soon"',
        "  hint: e.g. RANDOM_DELAY=10 delays each fire by up to 10 minutes",
      ].join("\n"),
    );
  });

  it("a % at the very start of the command", () => {
    expect(problems("0 3 * * * %only input\n")).toBe(
      "crontab:1:11: the command is empty: an unescaped % ends the command, and what follows it is the command's standard input\n  hint: write the command before the %, or write \\% for a literal percent sign",
    );
  });

  it("a bad CRON_TZ, once at its own line however many entries it applies to, with the other problems", () => {
    expect(problems("CRON_TZ=Europe/Berln\n0 1 * * * a\n0 2 * * * b\n0 3 * *\n")).toBe(
      [
        'crontab:1:9: timezone: unknown time zone "Europe/Berln"',
        '  hint: did you mean "Europe/Berlin"?',
        "crontab:4:8: this entry has 4 time fields; cron needs five (minute hour day-of-month month day-of-week) and then the command",
      ].join("\n"),
    );
  });

  it("a crontab with no entries", () => {
    expect(problems("# nothing\nPATH=/bin\n")).toBe(
      "crontab:1:1: the crontab has no entries: only comments, blank lines and settings\n  hint: an entry is five time fields (or a nickname such as @daily) and a command",
    );
  });
});

describe("import", () => {
  const text = [
    "# Settings",
    "MAILTO=ops",
    "PATH=/usr/local/bin:/usr/bin:/bin",
    "",
    "# Back up the database",
    "# name: db-backup",
    '30 2 * * 1-5 pg_dump "app" > /var/backups/app.sql%ignored\\%input',
    "SHELL=/bin/bash",
    "CRON_TZ=America/New_York",
    "RANDOM_DELAY=5",
    '@reboot echo "\u0007bell" \\',
    "@every 10m date",
    "",
  ].join("\n");

  it("prints a schedule file with each job's crontab line above it, meaning what the crontab means", () => {
    const yaml = crontabAsYaml(readCrontabText(text, "my-crontab", OPTIONS), "my-crontab", false);
    expect(yaml).toContain(
      '  # my-crontab:7: 30 2 * * 1-5 pg_dump "app" > /var/backups/app.sql%ignored\\%input\n',
    );
    expect(yaml).toContain('  # my-crontab:11: @reboot echo "\\x07bell" \\\n');
    expect(yaml).toContain(
      '  db-backup:\n    description: "Back up the database"\n    cron: "30 2 * * 1-5"\n',
    );
    const imported = loadScheduleText(yaml, "my-crontab", OPTIONS);
    expect(imported.warnings).toEqual([]);
    expect(imported.jobs).toEqual(load(text).jobs);
    expect(imported.jobs.map((job) => job.trigger.kind)).toEqual(["cron", "after", "every"]);
    expect(imported.jobs[0]!.command).toEqual({
      kind: "argv",
      argv: ["/bin/sh", "-c", 'pg_dump "app" > /var/backups/app.sql'],
    });
    expect(imported.jobs[1]!.command).toEqual({
      kind: "shell",
      script: 'echo "\u0007bell" \\',
      shell: "/bin/bash",
    });
    expect(imported.jobs[0]!.stdin).toBe("ignored%input");
  });
});
