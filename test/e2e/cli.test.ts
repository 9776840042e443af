import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CliProcess, fixture, isAlive, runCli } from "../helpers/cli.js";

// End-to-end tests of the built binary (npm test builds it first). Each takes a second or two.

describe("tdefer --version and --help", () => {
  it("print the version and the commands", async () => {
    const version = await runCli(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    const help = await runCli(["--help"]);
    expect(help.stdout).toContain("run [options] [file]");
    expect(help.stdout).toContain("next [options] [file]");
  });

  it("exit 2 on an unknown command, saying how to get help", async () => {
    const result = await runCli(["frobnicate"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("tdefer --help");
  });
});

describe("tdefer check", () => {
  it("accepts the example file", async () => {
    const result = await runCli(["check", fixture("../../schedules.example.yaml")]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("valid, 4 jobs");
  });

  it("exits 78 with file:line:col messages for a broken file, and no stack trace", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tdefer-e2e-"));
    const file = join(dir, "broken.yaml");
    writeFileSync(file, "jobs:\n  backup:\n    evry: 5m\n    run: backup\n");
    const result = await runCli(["check", file]);
    expect(result.code).toBe(78);
    expect(result.stderr).toBe(
      `${file}:3:5: jobs.backup.evry: unknown key \`evry\`\n  hint: did you mean \`every\`?\n1 problem in ${file}; nothing was started\n`,
    );
  });
});

describe("tdefer next", () => {
  it("--json prints the fires with their zone's offset and DST marks", async () => {
    const result = await runCli([
      "next",
      "--cron",
      "30 2 * * *",
      "--tz",
      "America/New_York",
      "--from",
      "2026-03-07 00:00",
      "-n",
      "2",
      "--json",
    ]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([
      { job: "cron", time: "2026-03-07T02:30:00-05:00", trigger: 'cron "30 2 * * *" (America/New_York)' },
      {
        job: "cron",
        time: "2026-03-08T03:00:00-04:00",
        trigger: 'cron "30 2 * * *" (America/New_York)',
        dst: "moved",
      },
    ]);
  });
});

describe("tdefer run", () => {
  it("runs the example file and logs each job's output, then stops cleanly after --for", async () => {
    const result = await runCli([
      "run",
      fixture("../../schedules.example.yaml"),
      "--for",
      "1500ms",
      "--log-format",
      "plain",
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/heartbeat\[\w+\] \| hello from heartbeat, run \w+/);
    expect(result.stdout).toContain("warm");
    expect(result.stderr).toBe("");
  });

  it("--log-format json prints one parseable object per line with the documented keys", async () => {
    const result = await runCli([
      "run",
      fixture("../../schedules.example.yaml"),
      "--for",
      "1200ms",
      "--log-format",
      "json",
    ]);
    const events = result.stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(events.length).toBeGreaterThan(3);
    for (const event of events)
      expect(event).toMatchObject({
        time: expect.stringMatching(/Z$/),
        level: expect.any(String),
        event: expect.any(String),
      });
    const output = events.find((event) => event.event === "output");
    expect(output).toMatchObject({
      job: "heartbeat",
      stream: "stdout",
      run: expect.any(String),
      line: expect.stringContaining("hello"),
    });
    const started = events.find((event) => event.event === "started");
    expect(started).toMatchObject({
      pid: expect.any(Number),
      scheduled: expect.any(String),
      late_ms: expect.any(Number),
    });
    const finished = events.find((event) => event.event === "finished");
    expect(finished).toMatchObject({ exit_code: 0, duration_ms: expect.any(Number), attempt: 1 });
  });

  it("on SIGTERM loses no output line, ends the job's whole process group and exits 0", async () => {
    const cli = new CliProcess([
      "run",
      fixture("e2e/numbered-then-wait.yaml"),
      "--log-format",
      "plain",
      "--grace",
      "5s",
    ]);
    await cli.waitFor("all printed");
    const grandchild = Number(/grandchild (\d+)/.exec(cli.stdout)![1]);
    expect(isAlive(grandchild)).toBe(true);
    cli.child.kill("SIGTERM");
    const result = await cli.exited;
    expect(result.code).toBe(0);
    const numbers = result.stdout
      .split("\n")
      .map((line) => /\| (\d+)$/.exec(line)?.[1])
      .filter((n) => n !== undefined)
      .map(Number);
    expect(numbers).toEqual(Array.from({ length: 20_000 }, (_, i) => i + 1));
    expect(isAlive(grandchild)).toBe(false);
  });

  it("on SIGHUP with a broken file logs the errors and keeps running the old schedule", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tdefer-e2e-"));
    const file = join(dir, "tdefer.yaml");
    copyFileSync(fixture("e2e/ticker.yaml"), file);
    const cli = new CliProcess(["run", file, "--log-format", "plain"]);
    await cli.waitFor("tick");
    writeFileSync(file, "jobs:\n  ticker:\n    every: 5\n    run: echo tick\n");
    cli.child.kill("SIGHUP");
    await cli.waitFor("reload refused");
    const ticksBefore = cli.stdout.split("| tick").length;
    await cli.waitFor(new RegExp(`(\\| tick[\\s\\S]*){${ticksBefore + 1}}`));
    cli.child.kill("SIGTERM");
    const result = await cli.exited;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("a bare number is not a duration");
    expect(result.stdout).toContain(`1 problem in ${file}; the running schedule stays`);
    expect(result.stdout).not.toContain("nothing was started");
  });
});
