import { execFileSync } from "node:child_process";
import { mkdtempSync, renameSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CliProcess } from "../helpers/cli.js";
import { statusKb } from "../helpers/procs.js";

// YAML bombs through the built binary: each is refused promptly, with a clear message and exit 78, and
// without the parser's memory running away.

const dir = mkdtempSync(join(tmpdir(), "tdefer-bombs-"));
const JOB = "jobs:\n  x:\n    every: 1s\n    run: [echo, hi]\n";

/** Runs `tdefer ARGS`, sampling its peak RSS (VmHWM) until it exits. */
async function measured(args: string[]) {
  const started = Date.now();
  const cli = new CliProcess(args);
  let peakKb = 0;
  const sampler = setInterval(() => {
    peakKb = Math.max(peakKb, statusKb(cli.child.pid!, "VmHWM") ?? 0);
  }, 10);
  const result = await cli.exited;
  clearInterval(sampler);
  return { ...result, ms: Date.now() - started, peakMb: peakKb / 1024 };
}

function bomb(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe("YAML bombs are refused quickly, with exit 78", () => {
  it("billion laughs: aliases of aliases, ten levels of ten", async () => {
    const lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++)
      lines.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(",")}]`,
      );
    const file = bomb(
      "laughs.yaml",
      `${lines.join("\n")}\njobs:\n  x:\n    every: 1s\n    run: [echo, *a9]\n`,
    );
    for (const command of ["check", "run"]) {
      const result = await measured([command, file]);
      expect(result.code).toBe(78);
      expect(result.stderr).toContain("hint: use aliases only for small shared blocks such as job defaults");
      expect(result.stderr).not.toContain("    at ");
      expect(result.ms).toBeLessThan(10_000);
      expect(result.peakMb).toBeLessThan(300);
    }
  });

  it("half a million alias references to one scalar", async () => {
    const file = bomb("aliases.yaml", `x: &x a\nl: [${Array(500_000).fill("*x").join(",")}]\n${JOB}`);
    const result = await measured(["check", file]);
    expect(result.code).toBe(78);
    expect(result.stderr).toBe(
      `tdefer: ${file}:2:3005: more than 1000 aliases (*name)\n  hint: use aliases only for small shared blocks such as job defaults\n`,
    );
    expect(result.ms).toBeLessThan(10_000);
    expect(result.peakMb).toBeLessThan(300);
  });

  it("deep nesting: 1,000,000 brackets (2 MB, under the size limit)", async () => {
    const file = bomb("deep.yaml", `${JOB}    env: ${"[".repeat(1_000_000)}${"]".repeat(1_000_000)}\n`);
    const result = await measured(["check", file]);
    expect(result.code).toBe(78);
    expect(result.stderr).toBe(
      `tdefer: ${file}:5:74: the data is nested more than 64 levels deep\n  hint: a schedule needs only a few levels (jobs, a job, its keys); check for runaway brackets\n`,
    );
    expect(result.ms).toBeLessThan(10_000);
    expect(result.peakMb).toBeLessThan(300);
  });

  it("deep nesting in block style: 1,000 levels of indentation", async () => {
    let text = "jobs:\n";
    for (let level = 1; level <= 1000; level++) text += `${"  ".repeat(level)}k:\n`;
    const file = bomb("indent.yaml", text);
    const result = await measured(["check", file]);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain("hint: a schedule needs only a few levels (jobs, a job, its keys)");
    expect(result.stderr).not.toContain("    at ");
    expect(result.ms).toBeLessThan(10_000);
    expect(result.peakMb).toBeLessThan(300);
  });

  it("a 100 MB file (sparse) is refused by its size before it is read", async () => {
    const file = bomb("huge.yaml", JOB);
    truncateSync(file, 100 * 1024 * 1024);
    const result = await measured(["check", file]);
    expect(result.code).toBe(78);
    expect(result.stderr).toBe(
      `tdefer: ${file}: the file is 104857600 bytes; a schedule file may have at most 4194304\n`,
    );
    expect(result.ms).toBeLessThan(10_000);
    expect(result.peakMb).toBeLessThan(300);
  });
});

describe("a schedule file that is not a regular file is refused before it is read", () => {
  it("/dev/zero: exit 78 at once, saying what it is, without reading it", async () => {
    for (const command of [["check"], ["next"], ["run"], ["trigger", "x"]]) {
      const result = await measured([...command, "/dev/zero"]);
      expect(result.code).toBe(78);
      expect(result.stderr).toBe(
        "tdefer: /dev/zero: not a regular file but a character device; a schedule file must be a regular file\n  hint: name the file itself\n",
      );
      expect(result.ms).toBeLessThan(10_000);
      expect(result.peakMb).toBeLessThan(300);
    }
  });

  it("a FIFO with no writer: exit 78, no hang", async () => {
    const fifo = join(dir, "fifo.yaml");
    execFileSync("mkfifo", [fifo]);
    for (const command of [["check"], ["run"]]) {
      const result = await measured([...command, fifo]);
      expect(result.code).toBe(78);
      expect(result.stderr).toContain(`${fifo}: not a regular file but a FIFO (named pipe)`);
      expect(result.ms).toBeLessThan(10_000);
    }
  });

  it("on SIGHUP, a link now pointing at /dev/zero is refused; the old schedule runs on and SIGTERM still stops it", async () => {
    const folder = mkdtempSync(join(tmpdir(), "tdefer-devzero-"));
    const real = join(folder, "real.yaml");
    writeFileSync(real, "jobs:\n  ticker:\n    every: 200ms\n    run: echo tick\n");
    const link = join(folder, "tdefer.yaml");
    symlinkSync(real, link);
    const cli = new CliProcess(["run", link, "--log-format", "json"]);
    await cli.waitFor('"line":"tick"');
    symlinkSync("/dev/zero", `${link}.new`);
    renameSync(`${link}.new`, link);
    cli.child.kill("SIGHUP");
    await cli.waitFor("reload_refused");
    const ticks = cli.stdout.split('"line":"tick"').length;
    await cli.waitFor(new RegExp(`("line":"tick"[\\s\\S]*){${ticks}}`));
    cli.child.kill("SIGTERM");
    const result = await cli.exited;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("/dev/zero: not a regular file but a character device");
    expect(statusKb(cli.child.pid!, "VmRSS")).toBeUndefined();
  });
});
