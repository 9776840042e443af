// `run` and `trigger` in-process: the whole daemon on a VirtualClock with a fake spawner and signals the test
// sends, so lifetimes of minutes run in no time and nothing sleeps.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { RunOptions, TriggerOptions } from "../../src/cli/command-line.js";
import { runCommand } from "../../src/cli/commands/run.js";
import { triggerCommand } from "../../src/cli/commands/trigger.js";
import { EXIT_CONFIG, EXIT_USAGE, UserError } from "../../src/errors.js";
import { fakeShell } from "../helpers/fake-shell.js";
import { settle, track } from "../helpers/settle.js";

function scheduleFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "tdefer-shell-"));
  const file = join(dir, "schedules.yaml");
  writeFileSync(file, text, { mode: 0o600 });
  return file;
}

const runOptions = (overrides: Partial<RunOptions> = {}): RunOptions => ({
  state: "none",
  logFormat: "json",
  grace: 25_000,
  ...overrides,
});
const triggerOptions: TriggerOptions = { state: "none", logFormat: "json" };

/** The log's events, parsed. */
const eventsOf = (stdout: string): Record<string, unknown>[] =>
  stdout
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);

const EVERY_MINUTE = `jobs:\n  beat:\n    every: 1m\n    run: echo beat\n`;

describe("tdefer run, in-process on a virtual clock", () => {
  it("fires an every job once per interval, each run a process of the spawner", async () => {
    const shell = fakeShell();
    const status = track(runCommand(scheduleFile(EVERY_MINUTE), runOptions(), shell.deps));
    await settle();
    expect(shell.spawner.children).toHaveLength(0);
    for (let fire = 1; fire <= 5; fire++) {
      shell.clock.advance(60_000);
      await settle();
      expect(shell.spawner.children).toHaveLength(fire);
      shell.spawner.last.stdout.push(`beat ${fire}\n`);
      shell.spawner.last.exit(0);
      await settle();
    }
    shell.signals.send("SIGTERM");
    await settle();
    expect(status).toEqual({ status: "resolved", value: 0 });
    const events = eventsOf(shell.stdout());
    expect(events.filter((e) => e.event === "started")).toHaveLength(5);
    expect(events.filter((e) => e.event === "output").map((e) => e.line)).toEqual([
      "beat 1",
      "beat 2",
      "beat 3",
      "beat 4",
      "beat 5",
    ]);
    expect(events.at(-1)).toMatchObject({ event: "stopped", killed: 0 });
    expect(shell.signals.listening).toBe(false);
  });

  it("drains on SIGTERM: the running job gets its kill_signal and run exits 0 when it ends in the grace", async () => {
    const shell = fakeShell({
      spawner: { onSignal: (child, signal) => child.exit(null, signal) },
    });
    const status = track(runCommand(scheduleFile(EVERY_MINUTE), runOptions(), shell.deps));
    await settle();
    shell.clock.advance(60_000);
    await settle();
    const child = shell.spawner.last;
    shell.signals.send("SIGTERM");
    await settle();
    expect(child.signals[0]).toBe("SIGTERM");
    expect(status).toEqual({ status: "resolved", value: 0 });
    // Stopped: no fire after the stop, however much time passes.
    shell.clock.advance(3_600_000);
    await settle();
    expect(shell.spawner.children).toHaveLength(1);
  });

  it("exits 1 when a job outlives the grace and has to be killed with SIGKILL", async () => {
    const shell = fakeShell(); // the fake children ignore every signal but SIGKILL
    const status = track(runCommand(scheduleFile(EVERY_MINUTE), runOptions({ grace: 5_000 }), shell.deps));
    await settle();
    shell.clock.advance(60_000);
    await settle();
    shell.signals.send("SIGTERM");
    await settle();
    expect(status.status).toBe("pending");
    shell.clock.advance(5_000);
    await settle();
    expect(shell.spawner.last.signals).toEqual(["SIGTERM", "SIGKILL"]);
    expect(status).toEqual({ status: "resolved", value: 1 });
  });

  it("stops by itself after --for, as on SIGTERM", async () => {
    const shell = fakeShell();
    const status = track(runCommand(scheduleFile(EVERY_MINUTE), runOptions({ for: 150_000 }), shell.deps));
    await settle();
    for (let i = 0; i < 3; i++) {
      shell.clock.advance(60_000);
      await settle();
      if (shell.spawner.children.length > i) shell.spawner.children[i]!.exit(0);
      await settle();
    }
    expect(shell.spawner.children).toHaveLength(2);
    expect(status).toEqual({ status: "resolved", value: 0 });
  });

  it("refuses an invalid schedule with a UserError carrying exit status 78, and starts nothing", async () => {
    const shell = fakeShell();
    const file = scheduleFile("jobs:\n  beat:\n    every: 1 minute\n    run: echo beat\n");
    const error = await runCommand(file, runOptions(), shell.deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(EXIT_CONFIG);
    expect((error as UserError).report()).toContain(`${file}:3:12: jobs.beat.every`);
    expect(shell.spawner.children).toHaveLength(0);
    expect(shell.signals.listening).toBe(false);
  });

  it("ends by itself when nothing is left to fire, saying why", async () => {
    const shell = fakeShell();
    const file = scheduleFile("jobs:\n  once:\n    after: 10s\n    run: echo once\n");
    const status = track(runCommand(file, runOptions(), shell.deps));
    await settle();
    shell.clock.advance(10_000);
    await settle();
    shell.spawner.last.exit(0);
    await settle();
    expect(status).toEqual({ status: "resolved", value: 0 });
    expect(eventsOf(shell.stdout()).at(-1)).toMatchObject({ event: "stopped", level: "warn" });
  });
  it("reloads on SIGHUP: a new job is armed, an unchanged one keeps its grid; an invalid file is refused and the old schedule runs on", async () => {
    const shell = fakeShell();
    const file = scheduleFile(EVERY_MINUTE);
    const status = track(runCommand(file, runOptions(), shell.deps));
    await settle();
    shell.clock.advance(30_000);
    writeFileSync(file, `${EVERY_MINUTE}  other:\n    every: 1m\n    run: echo other\n`);
    shell.signals.send("SIGHUP");
    await settle();
    shell.clock.advance(30_000); // beat's grid point, kept from the start
    await settle();
    expect(shell.spawner.children.map((child) => child.request.args.at(-1))).toEqual(["echo beat"]);
    shell.spawner.last.exit(0);
    shell.clock.advance(30_000); // other's first fire, a minute after the reload
    await settle();
    expect(shell.spawner.children.map((child) => child.request.args.at(-1))).toEqual([
      "echo beat",
      "echo other",
    ]);
    shell.spawner.last.exit(0);
    writeFileSync(file, "jobs:\n  beat:\n    every: soon\n    run: echo beat\n");
    shell.signals.send("SIGHUP");
    await settle();
    shell.clock.advance(30_000);
    await settle();
    expect(shell.spawner.children).toHaveLength(3); // beat again, from the schedule that stayed
    shell.spawner.last.exit(0);
    shell.signals.send("SIGTERM");
    await settle();
    expect(status).toEqual({ status: "resolved", value: 0 });
    const events = eventsOf(shell.stdout()).map((event) => event.event);
    expect(events).toContain("reload_applied");
    expect(events).toContain("reload_refused");
  });
  it("gives back the reading's memory: a full collection once the schedule runs and after each reload (refused or not), and one more 10 s later", async () => {
    const shell = fakeShell();
    const startMs = shell.clock.now();
    const file = scheduleFile(EVERY_MINUTE);
    const status = track(runCommand(file, runOptions(), shell.deps));
    await settle();
    expect(shell.collections).toEqual([startMs]);
    shell.clock.advance(10_000);
    await settle();
    expect(shell.collections).toEqual([startMs, startMs + 10_000]);
    shell.clock.advance(5_000);
    shell.signals.send("SIGHUP");
    await settle();
    expect(shell.collections).toHaveLength(3);
    shell.clock.advance(5_000);
    shell.signals.send("SIGHUP"); // a second reload within the 10 s: one later collection, 10 s after it
    await settle();
    shell.clock.advance(9_999);
    await settle();
    expect(shell.collections).toHaveLength(4);
    shell.clock.advance(1);
    await settle();
    expect(shell.collections.slice(2)).toEqual([startMs + 15_000, startMs + 20_000, startMs + 30_000]);
    writeFileSync(file, "jobs:\n  beat:\n    every: soon\n    run: echo beat\n");
    shell.signals.send("SIGHUP"); // refused, the running schedule stays; the reading's garbage goes all the same
    await settle();
    shell.clock.advance(10_000);
    await settle();
    expect(shell.collections.slice(5)).toEqual([startMs + 30_000, startMs + 40_000]);
    shell.clock.advance(20_000); // beat's fire, a minute after the start: the schedule ran on throughout
    await settle();
    expect(shell.spawner.children).toHaveLength(1);
    shell.spawner.last.exit(0);
    shell.signals.send("SIGTERM");
    await settle();
    expect(status).toEqual({ status: "resolved", value: 0 });
    expect(shell.collections).toHaveLength(7);
  });

  it("an exception nobody caught stops every job as SIGTERM would, says so on stderr, and exits 1", async () => {
    const shell = fakeShell({ spawner: { onSignal: (child, signal) => child.exit(null, signal) } });
    const status = track(runCommand(scheduleFile(EVERY_MINUTE), runOptions(), shell.deps));
    await settle();
    shell.clock.advance(60_000);
    await settle();
    shell.signals.throwUncaught(new Error("a bug"));
    await settle();
    expect(shell.spawner.last.signals[0]).toBe("SIGTERM");
    expect(status).toEqual({ status: "resolved", value: 1 });
    expect(shell.stderr()).toContain(
      "tdefer: internal error; stopping every job, then exiting 1: Error: a bug",
    );
    expect(shell.signals.listening).toBe(false);
  });
});

describe("tdefer trigger, in-process", () => {
  it("returns the job's own exit status", async () => {
    const shell = fakeShell();
    const status = track(triggerCommand("beat", scheduleFile(EVERY_MINUTE), triggerOptions, shell.deps));
    await settle();
    expect(shell.spawner.children).toHaveLength(1);
    expect(shell.spawner.last.request.args).toEqual(["-c", "echo beat"]);
    shell.spawner.last.exit(3);
    await settle();
    expect(status).toEqual({ status: "resolved", value: 3 });
    expect(shell.signals.listening).toBe(false);
  });

  it("returns 128+n when signal n ended the job, and passes a stop signal on to it", async () => {
    const shell = fakeShell({ spawner: { onSignal: (child, signal) => child.exit(null, signal) } });
    const status = track(triggerCommand("beat", scheduleFile(EVERY_MINUTE), triggerOptions, shell.deps));
    await settle();
    shell.signals.send("SIGHUP"); // a closed terminal stops trigger, which does not reload
    await settle();
    expect(shell.spawner.last.signals[0]).toBe("SIGTERM");
    expect(status).toEqual({ status: "resolved", value: 128 + 15 });
  });

  it("refuses a job name the file does not have as a usage error, listing its jobs", async () => {
    const shell = fakeShell();
    const error = await triggerCommand("nope", scheduleFile(EVERY_MINUTE), triggerOptions, shell.deps).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(EXIT_USAGE);
    expect((error as UserError).message).toMatch(/no job named "nope" in .*; its jobs: beat/);
    expect(shell.spawner.children).toHaveLength(0);
  });
});
