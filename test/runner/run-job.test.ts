import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../src/clock/virtual-clock.js";
import type { LogEvent } from "../../src/log/events.js";
import { type RunDeps, type RunSpec, retryDelayMs, runJob } from "../../src/runner/run-job.js";
import { FakeSpawner, type FakeSpawnerOptions } from "../helpers/fake-spawner.js";
import { settle, track } from "../helpers/settle.js";

const T0 = Date.UTC(2026, 10, 27, 4, 20, 0);

function spec(overrides: Partial<RunSpec> = {}): RunSpec {
  return {
    job: "backup",
    runId: "r3f2",
    scheduledMs: T0,
    file: "/bin/backup",
    args: ["--all"],
    cwd: "/srv",
    env: { PATH: "/usr/bin" },
    killSignal: "SIGTERM",
    killGraceMs: 10_000,
    ...overrides,
  };
}

/** A run on a virtual clock (starting at T0 + 5 ms, so 5 ms late) with a fake spawner and collected events. */
function setUp(options: FakeSpawnerOptions = {}, deps: Partial<RunDeps> = {}) {
  const clock = new VirtualClock(T0 + 5);
  const spawner = new FakeSpawner(options);
  const events: LogEvent[] = [];
  const make = (s: Partial<RunSpec> = {}) =>
    runJob(spec(s), { clock, spawner, emit: (e) => events.push(e), wallNow: () => clock.now(), ...deps });
  const names = () => events.map((e) => e.event);
  return { clock, spawner, events, make, names };
}

describe("runJob", () => {
  it("spawns with tdefer's variables added, streams lines and reports success", async () => {
    const { spawner, events, make } = setUp();
    const run = make();
    const child = spawner.last;
    expect(child.request).toEqual({
      file: "/bin/backup",
      args: ["--all"],
      cwd: "/srv",
      env: {
        PATH: "/usr/bin",
        TDEFER_JOB: "backup",
        TDEFER_RUN_ID: "r3f2",
        TDEFER_SCHEDULED_AT: "2026-11-27T04:20:00.000Z",
        TDEFER_ATTEMPT: "1",
      },
      uid: undefined,
      gid: undefined,
    });
    expect(run.pid).toBe(1000);
    child.stdout.push("hello\nwor");
    child.stderr.push("oops\n");
    child.stdout.push("ld");
    child.exit(0);
    const result = await run.done;
    expect(events).toEqual([
      {
        timeMs: T0 + 5,
        level: "info",
        event: "started",
        job: "backup",
        run: "r3f2",
        pid: 1000,
        scheduledMs: T0,
        lateMs: 5,
        attempt: 1,
      },
      {
        timeMs: T0 + 5,
        level: "info",
        event: "output",
        job: "backup",
        run: "r3f2",
        stream: "stdout",
        line: "hello",
      },
      {
        timeMs: T0 + 5,
        level: "info",
        event: "output",
        job: "backup",
        run: "r3f2",
        stream: "stderr",
        line: "oops",
      },
      {
        timeMs: T0 + 5,
        level: "info",
        event: "output",
        job: "backup",
        run: "r3f2",
        stream: "stdout",
        line: "world",
      },
      {
        timeMs: T0 + 5,
        level: "info",
        event: "finished",
        job: "backup",
        run: "r3f2",
        exitCode: 0,
        signal: null,
        durationMs: 0,
        attempt: 1,
      },
    ]);
    expect(result).toEqual({
      ok: true,
      exitCode: 0,
      signal: null,
      attempts: 1,
      durationMs: 0,
      timedOut: false,
      stopped: false,
      killedHard: false,
    });
  });

  it("reports lateness in whole milliseconds, on a wall clock that counts fractions", () => {
    let wallNow = () => 0;
    const { clock, events, make } = setUp({}, { wallNow: () => wallNow() });
    wallNow = () => clock.now() + 0.375;
    make();
    expect(events[0]).toMatchObject({ event: "started", lateMs: 5 });
  });

  it("reports a non-zero exit as a failed result, not an exception", async () => {
    const { spawner, clock, make } = setUp();
    const run = make();
    clock.advance(1200);
    spawner.last.exit(3);
    expect(await run.done).toMatchObject({ ok: false, exitCode: 3, durationMs: 1200, attempts: 1 });
  });

  it("on timeout sends the kill signal to the group, then SIGKILL after the grace", async () => {
    const { spawner, clock, make, names, events } = setUp();
    const run = make({ timeoutMs: 5000, killGraceMs: 2000 });
    const outcome = track(run.done);
    const child = spawner.last;
    clock.advance(4999);
    expect(child.signals).toEqual([]);
    clock.advance(1);
    expect(child.signals).toEqual(["SIGTERM"]);
    expect(events.at(-1)).toMatchObject({
      event: "timed_out",
      timeoutMs: 5000,
      signal: "SIGTERM",
      level: "error",
    });
    clock.advance(1999);
    expect(child.signals).toEqual(["SIGTERM"]);
    clock.advance(1);
    expect(child.signals).toEqual(["SIGTERM", "SIGKILL"]);
    await settle();
    expect(outcome.value).toMatchObject({ ok: false, signal: "SIGKILL", timedOut: true, killedHard: true });
    expect(names()).toEqual(["started", "timed_out", "killed", "finished"]);
    expect(events.at(-1)).toMatchObject({
      event: "finished",
      signal: "SIGKILL",
      exitCode: null,
      durationMs: 7000,
    });
  });

  it("needs no SIGKILL when the child obeys the kill signal, but sweeps the group for stragglers", async () => {
    const { spawner, clock, make, names } = setUp({
      onSignal: (child, signal) => child.exit(null, signal),
    });
    const run = make({ timeoutMs: 100, killSignal: "SIGINT" });
    clock.advance(100);
    const result = await run.done;
    expect(result).toMatchObject({ ok: false, signal: "SIGINT", timedOut: true, killedHard: false });
    expect(spawner.last.signals).toEqual(["SIGINT", "SIGKILL"]);
    expect(names()).toEqual(["started", "timed_out", "finished"]);
    expect(clock.pending()).toEqual([]);
  });

  it("stop() kills like a timeout and says so in the result", async () => {
    const { spawner, clock, make, events } = setUp();
    const run = make({ killGraceMs: 300 });
    clock.advance(50);
    run.stop("shutting down");
    run.stop("again");
    expect(events.at(-1)).toMatchObject({ event: "killed", signal: "SIGTERM", reason: "shutting down" });
    expect(spawner.last.signals).toEqual(["SIGTERM"]);
    clock.advance(300);
    expect(spawner.last.signals).toEqual(["SIGTERM", "SIGKILL"]);
    expect(await run.done).toMatchObject({ ok: false, stopped: true, killedHard: true, timedOut: false });
  });

  it("kill() sends SIGKILL at once, also in the middle of a stop's grace", async () => {
    const { spawner, clock, make, events } = setUp();
    const run = make({ killGraceMs: 10_000 });
    run.stop("first signal");
    clock.advance(100);
    run.kill("second signal");
    expect(spawner.last.signals).toEqual(["SIGTERM", "SIGKILL"]);
    expect(events.at(-2)).toMatchObject({ event: "killed", signal: "SIGKILL", reason: "second signal" });
    expect(await run.done).toMatchObject({ stopped: true, killedHard: true, signal: "SIGKILL" });
    expect(clock.pending()).toEqual([]);
  });

  it("retries a failed attempt with exact backoff delays, capped, in the same run", async () => {
    const { spawner, clock, make, events } = setUp();
    const run = make({ retry: { attempts: 4, delayMs: 1000, backoff: 3, maxDelayMs: 5000 } });
    const outcome = track(run.done);
    spawner.last.exit(1);
    expect(events.at(-1)).toMatchObject({
      event: "retrying",
      run: "r3f2",
      attempt: 2,
      delayMs: 1000,
      level: "warn",
    });
    expect(run.pid).toBeUndefined();
    clock.advance(999);
    expect(spawner.children.length).toBe(1);
    clock.advance(1);
    expect(spawner.children.length).toBe(2);
    expect(spawner.last.request.env.TDEFER_ATTEMPT).toBe("2");
    expect(spawner.last.request.env.TDEFER_RUN_ID).toBe("r3f2");
    spawner.last.exit(1);
    expect(events.at(-1)).toMatchObject({ event: "retrying", attempt: 3, delayMs: 3000 });
    clock.advance(3000);
    spawner.last.exit(null, "SIGSEGV");
    expect(events.at(-1)).toMatchObject({ event: "retrying", attempt: 4, delayMs: 5000 });
    clock.advance(5000);
    expect(events.at(-1)).toMatchObject({ event: "started", attempt: 4, lateMs: 0 });
    spawner.last.exit(0);
    await settle();
    expect(outcome.value).toMatchObject({ ok: true, attempts: 4, exitCode: 0, durationMs: 9000 });
    // Failures that a retry mended are warnings, so `journalctl -p err` does not alert on them.
    expect(events.filter((e) => e.event === "finished").map((e) => e.level)).toEqual([
      "warn",
      "warn",
      "warn",
      "info",
    ]);
    expect(events.filter((e) => e.event === "finished").map((e) => e.final)).toEqual([
      false,
      false,
      false,
      undefined,
    ]);
  });

  it("computes retry delays as min(delay·backoff^(n−1), max)", () => {
    const retry = { attempts: 10, delayMs: 500, backoff: 2, maxDelayMs: 3000 };
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(retry, n))).toEqual([500, 1000, 2000, 3000, 3000]);
  });

  it("stops retrying after the last attempt, and logs that one as an error with final: true", async () => {
    const { spawner, clock, make, events } = setUp();
    const run = make({ retry: { attempts: 2, delayMs: 10, backoff: 1, maxDelayMs: 10 } });
    spawner.last.exit(1);
    clock.advance(10);
    spawner.last.exit(2);
    expect(await run.done).toMatchObject({ ok: false, attempts: 2, exitCode: 2 });
    expect(spawner.children.length).toBe(2);
    expect(events.filter((e) => e.event === "finished")).toMatchObject([
      { level: "warn", attempt: 1, exitCode: 1, final: false },
      { level: "error", attempt: 2, exitCode: 2, final: true },
    ]);
  });

  it("logs a failed run without retries as an error with final: true", async () => {
    const { spawner, make, events } = setUp();
    const run = make();
    spawner.last.exit(3);
    await run.done;
    expect(events.at(-1)).toMatchObject({ event: "finished", level: "error", exitCode: 3, final: true });
  });

  it("stop() during a retry delay cancels the retry, and logs that it did", async () => {
    const { spawner, clock, make, events } = setUp();
    const run = make({ retry: { attempts: 3, delayMs: 1000, backoff: 2, maxDelayMs: 9000 } });
    spawner.last.exit(1);
    run.stop("shutting down");
    expect(clock.pending()).toEqual([]);
    expect(events.at(-1)).toMatchObject({
      event: "retry_cancelled",
      level: "warn",
      job: "backup",
      run: "r3f2",
      attempt: 2,
      reason: "shutting down",
    });
    expect(await run.done).toMatchObject({ ok: false, stopped: true, attempts: 1, exitCode: 1 });
  });

  it("turns a program that cannot start into a failed run with the reason", async () => {
    const { make, names, events } = setUp({
      failures: { 0: "cannot run /bin/backup: no such file (ENOENT)" },
    });
    const run = make();
    expect(run.pid).toBeUndefined();
    const result = await run.done;
    expect(result).toMatchObject({
      ok: false,
      exitCode: null,
      error: "cannot run /bin/backup: no such file (ENOENT)",
    });
    expect(names()).toEqual(["finished"]);
    expect(events[0]).toMatchObject({
      level: "error",
      error: "cannot run /bin/backup: no such file (ENOENT)",
    });
  });

  it("retries a failure to start like any failure", async () => {
    const { spawner, clock, make } = setUp({ failures: { 0: "cannot run: EACCES" } });
    const run = make({ retry: { attempts: 2, delayMs: 100, backoff: 2, maxDelayMs: 1000 } });
    await settle();
    clock.advance(100);
    spawner.last.exit(0);
    expect(await run.done).toMatchObject({ ok: true, attempts: 2 });
  });

  it("reads output on after exit until the pipes close, or stay quiet for a bound", async () => {
    const { spawner, clock, make, events } = setUp({}, { postExitQuietMs: 100 });
    const run = make();
    const outcome = track(run.done);
    const child = spawner.last;
    child.exit(0, null, { keepPipes: true });
    child.stdout.push("late line\n");
    clock.advance(99);
    child.stdout.push("later ");
    clock.advance(1);
    await settle();
    expect(outcome.status).toBe("pending");
    clock.advance(100);
    expect(child.stdout.closed).toBe(true);
    await settle();
    expect(outcome.value).toMatchObject({ ok: true });
    expect(events.filter((e) => e.event === "output").map((e) => e.event === "output" && e.line)).toEqual([
      "late line",
      "later ",
    ]);
  });

  it("counts the pipes quiet after exit only once what was waiting in them is read (a busy loop runs timers first)", async () => {
    const { spawner, clock, make, events } = setUp({}, { postExitQuietMs: 100 });
    const run = make();
    const outcome = track(run.done);
    const child = spawner.last;
    clock.holdIo = true;
    child.exit(0, null, { keepPipes: true });
    // The loop was busy past the quiet period: its timer comes due before it reads the job's last words.
    clock.advance(100);
    expect(child.stdout.closed).toBe(false);
    child.stdout.push("last words\n");
    clock.readPendingIo();
    clock.advance(100);
    clock.readPendingIo();
    expect(child.stdout.closed).toBe(true);
    await settle();
    expect(outcome.value).toMatchObject({ ok: true });
    expect(events.filter((e) => e.event === "output").map((e) => e.event === "output" && e.line)).toEqual([
      "last words",
    ]);
  });

  it("pauses the child's pipes while the log needs draining", () => {
    let needDrain = false;
    let drained: (() => void) | undefined;
    const writable = { needDrain: () => needDrain, onceDrained: (cb: () => void) => (drained = cb) };
    const { spawner, make, events } = setUp({}, { writable });
    make();
    const child = spawner.last;
    child.stdout.push("a\n");
    expect(child.stdout.paused).toBe(false);
    needDrain = true;
    child.stdout.push("b\n");
    expect(child.stdout.paused && child.stderr.paused).toBe(true);
    child.stdout.push("c\n");
    expect(events.filter((e) => e.event === "output").length).toBe(2);
    needDrain = false;
    drained!();
    expect(child.stdout.paused).toBe(false);
    expect(events.filter((e) => e.event === "output").length).toBe(3);
  });

  it("hands whole lines, and pieces of an over-long line, over as output_lines events when the log takes them", () => {
    const { spawner, events, make } = setUp({}, { outputLines: true, maxLineBytes: 8 });
    make();
    spawner.last.stdout.push("one\ntwo\nthr");
    spawner.last.stdout.push("ee\nfour\n0123456789\nfive\nsix");
    spawner.last.stdout.end();
    const output = events
      .slice(1)
      .map((e) =>
        e.event === "output_lines"
          ? e.continues
            ? { piece: e.bytes.toString() }
            : { lines: e.bytes.toString() }
          : e.event === "output"
            ? e.line
            : e.event,
      );
    expect(output).toEqual([
      { lines: "one\ntwo\n" },
      "three",
      { lines: "four\n" },
      { piece: "01234567" },
      "89",
      { lines: "five\n" },
      "six",
    ]);
    expect(events[1]).toMatchObject({ timeMs: T0 + 5, job: "backup", run: "r3f2", stream: "stdout" });
  });

  it("marks the pieces of an over-long line", () => {
    const { spawner, make, events } = setUp({}, { maxLineBytes: 4 });
    make();
    spawner.last.stdout.push("abcdef\n");
    expect(events.slice(1)).toMatchObject([
      { event: "output", line: "abcd ↩", continues: true },
      { event: "output", line: "ef" },
    ]);
    expect(events[2]).not.toHaveProperty("continues");
  });
});
