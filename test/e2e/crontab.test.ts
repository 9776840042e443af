import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BIN, fixture, runCli } from "../helpers/cli.js";

const CERTBOT = fixture("crontab/debian/certbot_2.1.0-4/etc/cron.d/certbot");
const SYSTEM_CRONTAB = fixture("crontab/debian/cron-daemon-common_3.0pl1-162/etc/crontab");

describe("tdefer import crontab", () => {
  it("prints a schedule file that check accepts as it is", async () => {
    const imported = await runCli(["import", "crontab", SYSTEM_CRONTAB]);
    expect(imported.code).toBe(0);
    expect(imported.stderr).toBe("");
    expect(imported.stdout).toContain(
      `  # ${SYSTEM_CRONTAB}:18: 17 *\t* * *\troot\tcd / && run-parts --report /etc/cron.hourly\n`,
    );
    const file = join(mkdtempSync(join(tmpdir(), "tdefer-import-")), "tdefer.yaml");
    writeFileSync(file, imported.stdout);
    const checked = await runCli(["check", file]);
    expect(checked.stderr).toBe("");
    expect(checked.code).toBe(0);
    expect(checked.stdout).toMatch(/valid, 4 jobs/);
  });

  it("reads standard input, named by --name, in the format given by --system", () => {
    const result = spawnSync(
      process.execPath,
      [BIN, "import", "crontab", "-", "--system", "--name", "certbot"],
      {
        input: readFileSync(CERTBOT),
        encoding: "utf8",
      },
    );
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^ {2}# certbot:17: 0 \*\/12 \* \* \* root test -x/m);
    expect(result.stdout).toMatch(
      /^ {2}certbot-[0-9a-f]{4}:\n {4}cron: "0 \*\/12 \* \* \*"\n {4}user: "root"/m,
    );
  });

  it("keeps the system format of /etc/crontab when --name renames it", async () => {
    const result = await runCli(["import", "crontab", SYSTEM_CRONTAB, "--name", "system-crontab"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("from system-crontab (system format: a user per entry)");
    expect(result.stdout).toContain('    user: "root"\n');
  });

  it("reports every problem with FILE:LINE:COL and exits 78, printing no schedule", async () => {
    const bad = fixture("crontab/e2e/bad");
    const result = await runCli(["import", "crontab", bad]);
    expect(result.code).toBe(78);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(`${bad}:2:10: this entry has no command\n`);
    expect(result.stderr).toContain(`${bad}:3:1: unknown nickname "@fortnightly"\n`);
    expect(result.stderr).toContain("2 problems in");
  });
});

describe("--crontab", () => {
  const crontab = fixture("crontab/e2e/reboot-env-stdin");

  it("runs a crontab directly: env lines reach the job, % lines arrive on stdin, @reboot runs once", async () => {
    const result = await runCli(["run", "--crontab", crontab, "--log-format", "plain"]);
    expect(result.code).toBe(0);
    expect(result.stdout.match(/\| hello from cron, shell \/bin\/sh$/gm)?.length).toBe(1);
    const lines = result.stdout.split("\n").filter((line) => /reader\[\w+\] \| /.test(line));
    expect(lines.map((line) => line.split(" | ")[1])).toEqual(["line one", "line two % done"]);
    expect(result.stdout.match(/reader\[\w+\] started/g)?.length).toBe(1);
  });

  it("works with check, next and trigger, and points problems into the crontab", async () => {
    expect((await runCli(["check", "--crontab", CERTBOT])).stdout).toMatch(/valid, 1 job/);
    expect((await runCli(["next", "--crontab", CERTBOT, "-n", "2"])).stdout).toMatch(/certbot-[0-9a-f]{4}/);
    const triggered = await runCli(["trigger", "reader", "--crontab", crontab, "--log-format", "plain"]);
    expect(triggered.code).toBe(0);
    expect(triggered.stdout).toContain("| line two % done");
    const bad = await runCli(["check", "--crontab", fixture("crontab/e2e/bad")]);
    expect(bad.code).toBe(78);
    expect(bad.stderr).toContain("/crontab/e2e/bad:2:10: this entry has no command");
  });

  it("is a configuration error to name a schedule file as well", async () => {
    const result = await runCli(["check", "x.yaml", "--crontab", crontab]);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain("give either a schedule file (x.yaml) or --crontab");
  });
});
