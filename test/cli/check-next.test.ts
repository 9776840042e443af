import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { fakeIO } from "../helpers/fake-io.js";

const NOW = Date.parse("2026-03-07T12:00:00Z");

function scheduleDir(text: string, name = "tdefer.yaml"): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), "tdefer-cli-"));
  const file = join(dir, name);
  writeFileSync(file, text);
  return { dir, file };
}

const SCHEDULE = `timezone: America/New_York
jobs:
  nightly:
    cron: "30 2 * * *"
    run: ./nightly.sh
    timeout: 1h
    description: The nightly report
  beat:
    every: 6h
    run: [curl, -fsS, http://127.0.0.1/ping]
`;

async function tdefer(args: string[], options: { cwd?: string } = {}) {
  const fake = fakeIO({ nowMs: NOW, ...options });
  await main(["node", "tdefer", ...args], fake.io);
  return { stdout: fake.stdout(), stderr: fake.stderr(), code: fake.exitCode() };
}

/** The default ledger of a schedule file for a process without STATE_DIRECTORY or XDG_STATE_HOME. */
const defaultLedgerOf = (file: string) =>
  join(
    homedir(),
    ".local",
    "state",
    "tdefer",
    `tdefer-${createHash("sha256").update(file).digest("hex").slice(0, 8)}.db`,
  );

describe("tdefer check", () => {
  it("says where the ledger is, and each job's catch-up and on_lost rules", async () => {
    const { dir, file } = scheduleDir(`name: backups
state: state/backups.db
jobs:
  nightly:
    cron: "0 3 * * *"
    run: ./nightly.sh
    catch_up: 6h
  weekly:
    cron: "0 4 * * 0"
    run: ./weekly.sh
    catch_up: { within: 8d, runs: all }
    on_lost: rerun
`);
    const { stdout } = await tdefer(["check", file]);
    const lines = stdout.split("\n");
    expect(lines[1]).toBe(
      `ledger: ${join(dir, "state", "backups.db")}, schedule "backups"; missed fires are recorded, and run only for jobs with catch_up`,
    );
    expect(lines.find((line) => line.startsWith("  nightly: "))).toMatch(/ · catch_up latest within 6h$/);
    expect(lines.find((line) => line.startsWith("  weekly: "))).toMatch(
      / · catch_up all within 8d · on_lost rerun$/,
    );
    const none = await tdefer(["check", file, "--state", "none", "--json"]);
    expect(JSON.parse(none.stdout)).toMatchObject({
      name: "backups",
      ledger: "none (nothing is remembered)",
    });
  });

  it("summarises each job with its trigger, next fire in its zone, and options", async () => {
    const { file } = scheduleDir(SCHEDULE);
    const { stdout, code } = await tdefer(["check", file]);
    expect(code).toBe(0);
    expect(stdout).toBe(
      [
        `${file}: valid, 2 jobs (zone America/New_York)`,
        `ledger: ${defaultLedgerOf(file)}, schedule "tdefer"; missed fires are recorded, and run only for jobs with catch_up`,
        "",
        'nightly  cron "30 2 * * *" (America/New_York)  next 2026-03-08 03:00:00-04:00 (in 19h)',
        "beat     every 6h                              next 2026-03-07 13:00:00-05:00 (in 6h)",
        "  nightly: The nightly report · at 02:30 (America/New_York); DST: at the jump when skipped · timeout 1h",
        "",
      ].join("\n"),
    );
  });

  it("--json gives the same summary as data", async () => {
    const { file } = scheduleDir(SCHEDULE);
    const summary = JSON.parse((await tdefer(["check", file, "--json"])).stdout);
    expect(summary).toMatchObject({
      valid: true,
      zone: "America/New_York",
      jobs: [
        {
          name: "nightly",
          next: "2026-03-08T03:00:00-04:00",
          next_ms: Date.parse("2026-03-08T03:00:00-04:00"),
          cron_in_words: "at 02:30 (America/New_York); DST: at the jump when skipped",
          options: { timeout_ms: 3_600_000 },
          command: "./nightly.sh",
        },
        { name: "beat", trigger: "every 6h", command: ["curl", "-fsS", "http://127.0.0.1/ping"] },
      ],
      warnings: [],
    });
  });

  it("finds tdefer.yaml by itself, searching up from the working directory", async () => {
    const { dir } = scheduleDir(SCHEDULE);
    const nested = join(dir, "a", "b");
    mkdirSync(nested, { recursive: true });
    const { stdout, code } = await tdefer(["check"], { cwd: nested });
    expect(code).toBe(0);
    expect(stdout).toContain(`${join(dir, "tdefer.yaml")}: valid, 2 jobs`);
  });

  it("exits 78 for a file that does not exist, saying so", async () => {
    const { stderr, code } = await tdefer(["check", "/nonexistent/tdefer.yaml"]);
    expect(code).toBe(78);
    expect(stderr).toBe("tdefer: /nonexistent/tdefer.yaml: cannot read the schedule file: no such file\n");
  });
});

describe("tdefer next", () => {
  it("lists the merged upcoming fires with their zone's offset and the DST move", async () => {
    const { file } = scheduleDir(SCHEDULE);
    const { stdout, code } = await tdefer(["next", file, "-n", "4"]);
    expect(code).toBe(0);
    expect(stdout).toBe(
      [
        "WHEN                       IN      JOB      TRIGGER",
        "2026-03-07 13:00:00-05:00  in 6h   beat     every 6h",
        "2026-03-07 19:00:00-05:00  in 12h  beat     every 6h",
        "2026-03-08 01:00:00-05:00  in 18h  beat     every 6h",
        '2026-03-08 03:00:00-04:00  in 19h  nightly  cron "30 2 * * *" (America/New_York)  DST: moved to the end of the spring-forward gap',
        "",
        'cron "30 2 * * *": at 02:30 (America/New_York); DST: at the jump when skipped',
        "",
      ].join("\n"),
    );
  });

  it("--job, --until and --json narrow and format the list", async () => {
    const { file } = scheduleDir(SCHEDULE);
    const { stdout } = await tdefer([
      "next",
      file,
      "--job",
      "nightly",
      "--until",
      "2026-03-10 00:00",
      "--json",
    ]);
    expect(JSON.parse(stdout)).toEqual([
      {
        job: "nightly",
        time: "2026-03-08T03:00:00-04:00",
        trigger: 'cron "30 2 * * *" (America/New_York)',
        dst: "moved",
      },
      { job: "nightly", time: "2026-03-09T02:30:00-04:00", trigger: 'cron "30 2 * * *" (America/New_York)' },
    ]);
  });

  it("is a usage error (exit 2) to ask for a job the file does not have, and lists its jobs", async () => {
    const { file } = scheduleDir(SCHEDULE);
    const { stderr, code } = await tdefer(["next", file, "--job", "nighty"]);
    expect(code).toBe(2);
    expect(stderr).toBe(`tdefer next: no job named nighty in ${file}; its jobs: nightly, beat\n`);
  });

  it("--cron previews one expression; a bad one is a usage error with the reason", async () => {
    const ok = await tdefer(["next", "--cron", "0 0 29 2 *", "--tz", "UTC", "-n", "2", "--json"]);
    expect(JSON.parse(ok.stdout).map((fire: { time: string }) => fire.time)).toEqual([
      "2028-02-29T00:00:00Z",
      "2032-02-29T00:00:00Z",
    ]);
    const bad = await tdefer(["next", "--cron", "0 0 30 2 *"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      'tdefer next: --cron "0 0 30 2 *": never fires: February has no 30th\n  hint: check the day-of-month and month fields\n',
    );
  });
});

describe("the DST example file", () => {
  const file = new URL("../../examples/dst-edges.yaml", import.meta.url).pathname;

  it("is valid", async () => {
    const { stdout, code } = await tdefer(["check", file]);
    expect(code).toBe(0);
    expect(stdout).toContain("valid, 5 jobs");
  });

  it("shows the fixed-time job moved to the jump and the wildcard job's lost gap times", async () => {
    const { stdout } = await tdefer([
      "next",
      file,
      "--from",
      "2026-03-07 12:00",
      "--job",
      "nightly-ny",
      "--job",
      "quarter-hours-ny",
      "-n",
      "2",
      "--json",
    ]);
    expect(JSON.parse(stdout)).toEqual([
      {
        job: "nightly-ny",
        time: "2026-03-08T03:00:00-04:00",
        trigger: 'cron "30 2 * * *" (America/New_York)',
        dst: "moved",
      },
      {
        job: "quarter-hours-ny",
        time: "2026-03-09T02:00:00-04:00",
        trigger: 'cron "*/15 2 * * *" (America/New_York)',
        dst_dropped: ["2026-03-08T02:00", "2026-03-08T02:15", "2026-03-08T02:30", "2026-03-08T02:45"],
      },
    ]);
  });
});

describe("the alias screen that guards against YAML bombs", () => {
  it("does not take the stars of unquoted cron expressions for aliases", async () => {
    const jobs = Array.from(
      { length: 1500 },
      (_, i) => `  j${i}:\n    cron: 0 */2 * * *\n    run: echo ${i}\n`,
    );
    const { file } = scheduleDir(`jobs:\n${jobs.join("")}`);
    const { stdout, stderr, code } = await tdefer(["check", file]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toContain("valid, 1500 jobs");
  });
});

describe("`next FILE` and `check FILE`, run without commander", () => {
  it("print what the same command with its defaults spelled out prints", async () => {
    const { dir, file } = scheduleDir(
      `${SCHEDULE}  broken:\n    every: 1h\n    run: echo\n    timeout: 2h\n    overlap: allow\n`,
    );
    expect(await tdefer(["next", file], { cwd: dir })).toEqual(
      await tdefer(["next", "-n", "10", file], { cwd: dir }),
    );
    const check = await tdefer(["check", file], { cwd: dir });
    expect(check.stdout).toContain("1 warning:");
    expect(check).toEqual(await tdefer(["check", "--", file], { cwd: dir }));
  });

  it("fail as the full command line does: exit 78 with the reason for a missing file", async () => {
    const { dir } = scheduleDir(SCHEDULE);
    for (const command of ["next", "check"]) {
      const quick = await tdefer([command, "missing.yaml"], { cwd: dir });
      expect(quick.code).toBe(78);
      expect(quick.stderr).toContain("missing.yaml: cannot read the schedule file: no such file");
      expect(quick).toEqual(await tdefer([command, "--", "missing.yaml"], { cwd: dir }));
    }
  });

  it("leave an unknown command and an option where the file would be to commander (exit 2)", async () => {
    expect((await tdefer(["nxet", "tdefer.yaml"])).code).toBe(2);
    expect((await tdefer(["next", "--bogus"])).code).toBe(2);
  });
});
