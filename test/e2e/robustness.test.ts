import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CliProcess, fixture, isAlive, runCli } from "../helpers/cli.js";

// End-to-end: what neither a far-away time in the file nor a bug inside tdefer may do to its jobs.

const leftovers: number[] = [];
afterEach(() => {
  for (const pid of leftovers.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone, as it should be
    }
  }
});

function scheduleFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "tdefer-robust-")), "tdefer.yaml");
  writeFileSync(file, text);
  return file;
}

describe("durations and times beyond what tdefer can plan", () => {
  const FAR = "jobs:\n  reminder:\n    after: 100000000d\n    run: echo hi\n";

  it.each(["check", "next", "run"])("%s exits 78 with file:line:col, and no stack trace", async (command) => {
    const file = scheduleFile(FAR);
    const result = await runCli([command, file]);
    expect(result.code).toBe(78);
    expect(result.stderr).toBe(
      `${file}:3:12: jobs.reminder.after: "100000000d" is too long: durations go up to 36500d (100 years)\n  hint: for a date far ahead, use \`at:\` with the date\n1 problem in ${file}; nothing was started\n`,
    );
  });

  it("a reload to such a file is refused, the old schedule and its running job kept", async () => {
    const file = scheduleFile(
      "jobs:\n  sleeper:\n    every: 1h\n    now: true\n    run: echo pid=$$; exec sleep 30\n",
    );
    const cli = new CliProcess(["run", file, "--log-format", "plain", "--grace", "2s"]);
    await cli.waitFor(/pid=(\d+)/);
    const pid = Number(/pid=(\d+)/.exec(cli.stdout)![1]);
    leftovers.push(pid);
    writeFileSync(file, FAR);
    cli.child.kill("SIGHUP");
    await cli.waitFor("reload refused");
    expect(isAlive(pid)).toBe(true);
    cli.child.kill("SIGTERM");
    const result = await cli.exited;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('"100000000d" is too long');
    expect(isAlive(pid)).toBe(false);
  });
});

describe("an exception nobody catches inside tdefer (a bug)", () => {
  const PRELOAD = { NODE_OPTIONS: `--import=${fixture("bin/bug-on-sighup.mjs")}` };

  it("run: says so on stderr, stops its running job, and exits 1", async () => {
    const file = scheduleFile(
      "jobs:\n  sleeper:\n    every: 1h\n    now: true\n    run: echo pid=$$; exec sleep 30\n",
    );
    const cli = new CliProcess(["run", file, "--log-format", "plain", "--grace", "2s"], { env: PRELOAD });
    await cli.waitFor(/pid=(\d+)/);
    const pid = Number(/pid=(\d+)/.exec(cli.stdout)![1]);
    leftovers.push(pid);
    cli.child.kill("SIGHUP");
    const result = await cli.exited;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "tdefer: internal error; stopping every job, then exiting 1: Error: a stand-in bug on SIGHUP",
    );
    expect(result.stdout).toMatch(/stopping/);
    expect(isAlive(pid)).toBe(false);
  });

  it("trigger: says so on stderr, stops the job, and exits 1", async () => {
    const file = scheduleFile("jobs:\n  sleeper:\n    after: 1h\n    run: echo pid=$$; exec sleep 30\n");
    const cli = new CliProcess(["trigger", "sleeper", file, "--log-format", "plain"], { env: PRELOAD });
    await cli.waitFor(/pid=(\d+)/);
    const pid = Number(/pid=(\d+)/.exec(cli.stdout)![1]);
    leftovers.push(pid);
    cli.child.kill("SIGHUP");
    const result = await cli.exited;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("tdefer: internal error; stopping every job, then exiting 1");
    expect(isAlive(pid)).toBe(false);
  });
});

describe("both stdout and stderr gone (the reader died)", () => {
  it.each([
    ["run", "every: 1h\n    now: true"],
    ["trigger", "after: 1h"],
  ])(
    "%s ends its job and exits 1 instead of spinning",
    async (command, trigger) => {
      const file = scheduleFile(
        `jobs:\n  talker:\n    ${trigger}\n    run: echo pid=$$; while :; do echo more; sleep 0.1; done\n`,
      );
      const args = command === "run" ? ["run", file, "--grace", "1s"] : ["trigger", "talker", file];
      const cli = new CliProcess([...args, "--log-format", "plain"]);
      await cli.waitFor(/pid=(\d+)/);
      const pid = Number(/pid=(\d+)/.exec(cli.stdout)![1]);
      leftovers.push(pid);
      cli.child.stdout!.destroy();
      cli.child.stderr!.destroy();
      const code = await Promise.race([
        new Promise((resolve) => cli.child.once("exit", resolve)),
        new Promise((resolve) => setTimeout(() => resolve("still running"), 15_000)),
      ]);
      if (code === "still running") cli.child.kill("SIGKILL");
      expect(code).toBe(1);
      expect(isAlive(pid)).toBe(false);
    },
    30_000,
  );
});

describe("a reload never runs a job twice", () => {
  it("a one-space change to a running overlap: skip job starts no second run beside the first", async () => {
    const job = (run: string) =>
      `jobs:\n  slow:\n    every: 1s\n    now: true\n    overlap: skip\n    run: ${run}\n`;
    const file = scheduleFile(job("echo run=$$; exec sleep 30"));
    const cli = new CliProcess(["run", file, "--log-format", "plain", "--grace", "2s"]);
    await cli.waitFor(/run=(\d+)/);
    leftovers.push(Number(/run=(\d+)/.exec(cli.stdout)![1]));
    writeFileSync(file, job("echo run=$$;  exec sleep 30"));
    cli.child.kill("SIGHUP");
    await cli.waitFor("reload applied");
    const afterReload = cli.stdout.length;
    await cli.waitFor(
      /skipped: the previous run is still going \(overlap: skip\)[\s\S]*skipped: the previous/,
    );
    expect(cli.stdout.slice(afterReload)).not.toContain("run=");
    cli.child.kill("SIGTERM");
    const result = await cli.exited;
    expect(result.stdout.match(/run=/g)).toHaveLength(1);
  });

  it("a change of the file-level env does not run an after one-shot again that already ran", async () => {
    const file = (value: string) =>
      `env:\n  A: "${value}"\njobs:\n  once:\n    after: 0s\n    run: echo once-$A\n  keeper:\n    every: 200ms\n    run: "true"\n`;
    const path = scheduleFile(file("1"));
    const cli = new CliProcess(["run", path, "--log-format", "plain"]);
    await cli.waitFor("once-1");
    writeFileSync(path, file("2"));
    cli.child.kill("SIGHUP");
    await cli.waitFor("reload applied");
    const ticks = (cli.stdout.match(/keeper.*started/g) ?? []).length;
    await cli.waitFor(new RegExp(`(keeper.*started[\\s\\S]*){${ticks + 3}}`));
    cli.child.kill("SIGTERM");
    const result = await cli.exited;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("reload applied");
    expect(result.stdout.match(/once-/g)).toHaveLength(1);
  });
});
