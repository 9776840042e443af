import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../src/clock/virtual-clock.js";
import type { LogEvent } from "../../src/log/events.js";
import { Attempt, lifecycleEmitter } from "../../src/runner/attempt.js";
import type { RunSpec } from "../../src/runner/run-job.js";
import type { ChildExit } from "../../src/runner/spawner.js";
import { FakeSpawner, type FakeSpawnerOptions } from "../helpers/fake-spawner.js";
import { settle } from "../helpers/settle.js";

const T0 = Date.UTC(2026, 10, 27, 4, 20, 0);

/** One attempt of `report` on a virtual clock at T0 + 40 ms (40 ms late), with its events and its exit. */
function startAttempt(overrides: Partial<RunSpec> = {}, options: FakeSpawnerOptions = {}, number = 1) {
  const clock = new VirtualClock(T0 + 40);
  const spawner = new FakeSpawner(options);
  const events: LogEvent[] = [];
  const spec: RunSpec = {
    job: "report",
    runId: "r7",
    scheduledMs: T0,
    file: "/usr/bin/report",
    args: ["--daily"],
    cwd: "/var/reports",
    env: { LANG: "C" },
    killSignal: "SIGTERM",
    killGraceMs: 2000,
    ...overrides,
  };
  const deps = { clock, spawner, emit: (e: LogEvent) => events.push(e), wallNow: () => clock.now() };
  const attempt = new Attempt(spec, number, T0, deps, lifecycleEmitter(spec, deps));
  const exits: ChildExit[] = [];
  attempt.onExit((exit) => exits.push(exit));
  const names = () => events.map((e) => e.event);
  return { clock, spawner, child: spawner.last, events, names, attempt, exits };
}

describe("an attempt", () => {
  it("starts the command with tdefer's variables and says how late it started", () => {
    const { child, events, attempt } = startAttempt({}, {}, 2);
    expect(child.request.env).toEqual({
      LANG: "C",
      TDEFER_JOB: "report",
      TDEFER_RUN_ID: "r7",
      TDEFER_SCHEDULED_AT: "2026-11-27T04:20:00.000Z",
      TDEFER_ATTEMPT: "2",
    });
    expect(child.request).toMatchObject({ file: "/usr/bin/report", args: ["--daily"], cwd: "/var/reports" });
    expect(events).toEqual([
      {
        timeMs: T0 + 40,
        level: "info",
        event: "started",
        job: "report",
        run: "r7",
        pid: 1000,
        scheduledMs: T0,
        lateMs: 40,
        attempt: 2,
      },
    ]);
    expect(attempt.pid).toBe(1000);
  });

  it("reports the child's exit once, and has no pid after it", () => {
    const { clock, child, attempt, exits } = startAttempt();
    clock.advance(1500);
    child.exit(4);
    expect(exits).toEqual([{ exitCode: 4, signal: null }]);
    expect(attempt.exit).toEqual({ exitCode: 4, signal: null });
    expect(attempt.exitMs - attempt.startMs).toBe(1500);
    expect(attempt.pid).toBeUndefined();
  });

  it("sends the kill signal at the timeout, and SIGKILL when the child outlives the grace", () => {
    const { clock, child, attempt, names, events } = startAttempt({ timeoutMs: 3000, killGraceMs: 2000 });
    clock.advance(2999);
    expect(child.signals).toEqual([]);
    clock.advance(1);
    expect(child.signals).toEqual(["SIGTERM"]);
    expect(attempt.timedOut).toBe(true);
    clock.advance(1999);
    expect(child.signals).toEqual(["SIGTERM"]);
    clock.advance(1);
    expect(child.signals).toEqual(["SIGTERM", "SIGKILL"]);
    expect(attempt.killedHard).toBe(true);
    expect(names()).toEqual(["started", "timed_out", "killed"]);
    expect(events[2]).toMatchObject({ level: "error", reason: "still running 2000 ms after SIGTERM" });
    expect(attempt.exit).toEqual({ exitCode: null, signal: "SIGKILL" });
  });

  it("needs no SIGKILL when the child obeys, but sends one to the group for what the child left behind", () => {
    const { clock, child, attempt } = startAttempt(
      { timeoutMs: 100, killSignal: "SIGINT" },
      { onSignal: (c, signal) => c.exit(null, signal) },
    );
    clock.advance(100);
    expect(child.signals).toEqual(["SIGINT", "SIGKILL"]);
    expect(attempt).toMatchObject({ timedOut: true, killedHard: false });
    expect(clock.pending()).toEqual([]);
  });

  it("is terminated like a timeout, without counting as one, and a second terminate changes nothing", () => {
    const { clock, child, attempt, events } = startAttempt({ timeoutMs: 60_000 });
    attempt.terminate("tdefer is stopping");
    attempt.terminate("again");
    expect(child.signals).toEqual(["SIGTERM"]);
    expect(events.at(-1)).toMatchObject({ event: "killed", level: "warn", reason: "tdefer is stopping" });
    clock.advance(2000);
    expect(child.signals).toEqual(["SIGTERM", "SIGKILL"]);
    expect(attempt).toMatchObject({ timedOut: false, killedHard: true });
    expect(clock.pending()).toEqual([]);
  });

  it("keeps a timeout's SIGKILL on schedule when terminated during the grace", () => {
    const { clock, child, attempt } = startAttempt({ timeoutMs: 1000, killGraceMs: 2000 });
    clock.pump([1000, 500]);
    attempt.terminate("tdefer is stopping");
    expect(child.signals).toEqual(["SIGTERM"]);
    clock.advance(1499);
    expect(child.signals).toEqual(["SIGTERM"]);
    clock.advance(1);
    expect(child.signals).toEqual(["SIGTERM", "SIGKILL"]);
  });

  it("is killed at once by killNow(), also during the grace, and counts that as a hard kill", () => {
    const { clock, child, attempt, events } = startAttempt();
    attempt.terminate("first Ctrl-C");
    clock.advance(100);
    attempt.killNow("second Ctrl-C");
    expect(child.signals).toEqual(["SIGTERM", "SIGKILL"]);
    expect(events.filter((e) => e.event === "killed")).toMatchObject([
      { signal: "SIGTERM", reason: "first Ctrl-C" },
      { signal: "SIGKILL", reason: "second Ctrl-C", level: "error" },
    ]);
    expect(attempt.killedHard).toBe(true);
    expect(clock.pending()).toEqual([]);
  });

  it("reports a program that cannot start through its exit, with nothing to kill and no timeout armed", async () => {
    const { clock, child, attempt, events, exits } = startAttempt(
      { timeoutMs: 1000 },
      { failures: { 0: "cannot run /usr/bin/report: no such file (ENOENT)" } },
    );
    expect(attempt.pid).toBeUndefined();
    attempt.terminate("tdefer is stopping");
    attempt.killNow("second Ctrl-C");
    expect(child.signals).toEqual([]);
    expect(events).toEqual([]);
    expect(clock.pending()).toEqual([]);
    await settle();
    expect(exits).toEqual([
      { exitCode: null, signal: null, error: "cannot run /usr/bin/report: no such file (ENOENT)" },
    ]);
  });
});
