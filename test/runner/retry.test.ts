import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../src/clock/virtual-clock.js";
import type { LogEvent } from "../../src/log/events.js";
import { Attempt, lifecycleEmitter } from "../../src/runner/attempt.js";
import { RetryLoop, retryDelayMs } from "../../src/runner/retry.js";
import type { RunSpec } from "../../src/runner/run-job.js";
import type { RetrySpec } from "../../src/schedule/types.js";
import { FakeSpawner, type FakeSpawnerOptions } from "../helpers/fake-spawner.js";
import { settle, track } from "../helpers/settle.js";

const T0 = Date.UTC(2026, 10, 27, 4, 20, 0);

/**
 * A run of `fetch` as a retry loop on a virtual clock, its attempts real Attempts on a fake spawner. An attempt
 * ends when its child exits, unless `holdOutput`: then it ends at `endOutput()`, as when a grandchild still
 * holds its pipes.
 */
function setUp(retry: RetrySpec | undefined, options: FakeSpawnerOptions & { holdOutput?: boolean } = {}) {
  const clock = new VirtualClock(T0);
  const spawner = new FakeSpawner(options);
  const events: LogEvent[] = [];
  const spec: RunSpec = {
    job: "fetch",
    runId: "r5",
    scheduledMs: T0,
    file: "/usr/bin/fetch",
    args: [],
    cwd: "/",
    env: {},
    killSignal: "SIGTERM",
    killGraceMs: 1000,
    ...(retry ? { retry } : {}),
  };
  const deps = { clock, spawner, emit: (e: LogEvent) => events.push(e), wallNow: () => clock.now() };
  const emit = lifecycleEmitter(spec, deps);
  let endOutput = () => {};
  const run = new RetryLoop(retry, T0, deps, emit, (number, dueWallMs, ended) => {
    const attempt = new Attempt(spec, number, dueWallMs, deps, emit);
    attempt.onExit(() => {
      if (options.holdOutput) endOutput = ended;
      else ended();
    });
    return attempt;
  });
  const outcome = track(run.done);
  const names = () => events.map((e) => e.event);
  return { clock, spawner, events, names, run, outcome, endOutput: () => endOutput() };
}

const threeTries: RetrySpec = { attempts: 3, delayMs: 1000, backoff: 2, maxDelayMs: 60_000 };

describe("the retry loop", () => {
  it("runs one attempt when it succeeds", async () => {
    const { spawner, clock, run, outcome, names } = setUp(threeTries);
    clock.advance(700);
    spawner.last.exit(0);
    await settle();
    expect(outcome.value).toEqual({
      ok: true,
      exitCode: 0,
      signal: null,
      attempts: 1,
      durationMs: 700,
      timedOut: false,
      stopped: false,
      killedHard: false,
    });
    expect(names()).toEqual(["started", "finished"]);
    expect(run.pid).toBeUndefined();
  });

  it("waits min(delay·backoff^(n−1), max) before each next attempt, and starts it on time", () => {
    const { spawner, clock, events, run } = setUp({
      attempts: 4,
      delayMs: 1000,
      backoff: 3,
      maxDelayMs: 5000,
    });
    const delays: number[] = [];
    for (let attempt = 1; attempt < 4; attempt++) {
      spawner.last.exit(1);
      const retrying = events.at(-1);
      expect(retrying).toMatchObject({ event: "retrying", level: "warn", attempt: attempt + 1 });
      const delayMs = retrying?.event === "retrying" ? retrying.delayMs : Number.NaN;
      delays.push(delayMs);
      expect(run.pid).toBeUndefined();
      clock.advance(delayMs - 1);
      expect(spawner.children.length).toBe(attempt);
      clock.advance(1);
      expect(spawner.children.length).toBe(attempt + 1);
      expect(run.attempt).toBe(attempt + 1);
      expect(events.at(-1)).toMatchObject({ event: "started", attempt: attempt + 1, lateMs: 0 });
    }
    expect(delays).toEqual([1000, 3000, 5000]);
  });

  it("computes each delay from the attempts failed so far", () => {
    const policy = { attempts: 10, delayMs: 500, backoff: 2, maxDelayMs: 3000 };
    expect([1, 2, 3, 4, 5].map((failed) => retryDelayMs(policy, failed))).toEqual([
      500, 1000, 2000, 3000, 3000,
    ]);
  });

  it("gives up after the last attempt, and reports that attempt's exit for the run", async () => {
    const { spawner, clock, events, outcome } = setUp(threeTries);
    spawner.last.exit(1);
    clock.advance(1000);
    spawner.last.exit(null, "SIGSEGV");
    clock.advance(2000);
    spawner.last.exit(7);
    await settle();
    expect(outcome.value).toMatchObject({
      ok: false,
      attempts: 3,
      exitCode: 7,
      signal: null,
      durationMs: 3000,
    });
    expect(events.filter((e) => e.event === "finished")).toMatchObject([
      { level: "warn", attempt: 1, final: false },
      { level: "warn", attempt: 2, final: false },
      { level: "error", attempt: 3, final: true },
    ]);
    expect(clock.pending()).toEqual([]);
  });

  it("without a retry policy, runs once and logs a failure as final", async () => {
    const { spawner, events, outcome } = setUp(undefined);
    spawner.last.exit(2);
    await settle();
    expect(outcome.value).toMatchObject({ ok: false, attempts: 1, exitCode: 2 });
    expect(events.at(-1)).toMatchObject({ event: "finished", level: "error", final: true });
  });

  it("retries a command that could not start like any failure", async () => {
    const { spawner, clock, outcome } = setUp(threeTries, { failures: { 0: "cannot run: EACCES" } });
    await settle();
    clock.advance(1000);
    spawner.last.exit(0);
    await settle();
    expect(outcome.value).toMatchObject({ ok: true, attempts: 2 });
  });

  it("a stop while waiting to retry cancels the retry and logs it", async () => {
    const { spawner, clock, events, run, outcome } = setUp(threeTries);
    spawner.last.exit(1);
    run.stop("tdefer is stopping");
    expect(clock.pending()).toEqual([]);
    expect(events.at(-1)).toMatchObject({
      event: "retry_cancelled",
      attempt: 2,
      reason: "tdefer is stopping",
    });
    await settle();
    expect(outcome.value).toMatchObject({ ok: false, stopped: true, attempts: 1, exitCode: 1 });
  });

  it("a kill while waiting to retry is a stop", async () => {
    const { spawner, clock, run, outcome } = setUp(threeTries);
    spawner.last.exit(1);
    run.kill("second Ctrl-C");
    expect(clock.pending()).toEqual([]);
    await settle();
    expect(outcome.value).toMatchObject({ stopped: true, killedHard: false, attempts: 1 });
  });

  it("a stop during an attempt ends it and retries no more", async () => {
    const { spawner, clock, events, run, outcome } = setUp(threeTries, {
      onSignal: (child, signal) => child.exit(null, signal),
    });
    run.stop("tdefer is stopping");
    expect(spawner.last.signals).toEqual(["SIGTERM", "SIGKILL"]);
    await settle();
    expect(spawner.children.length).toBe(1);
    expect(outcome.value).toMatchObject({ ok: false, stopped: true, attempts: 1, signal: "SIGTERM" });
    expect(events.at(-1)).toMatchObject({ event: "finished", level: "error", final: true });
    expect(clock.pending()).toEqual([]);
  });

  it("a stop after the child exited, while its output is still read, retries no more", async () => {
    const { spawner, run, outcome, endOutput } = setUp(threeTries, { holdOutput: true });
    spawner.last.exit(1);
    run.stop("tdefer is stopping");
    expect(spawner.last.signals).toEqual([]);
    expect(outcome.status).toBe("pending");
    endOutput();
    await settle();
    expect(spawner.children.length).toBe(1);
    expect(outcome.value).toMatchObject({ ok: false, stopped: true, attempts: 1, exitCode: 1 });
  });

  it("a stop that comes after a successful exit, while its output is still read, leaves the run a success", async () => {
    const { spawner, run, outcome, endOutput } = setUp(threeTries, { holdOutput: true });
    spawner.last.exit(0);
    run.stop("tdefer is stopping");
    endOutput();
    await settle();
    expect(outcome.value).toMatchObject({ ok: true, stopped: false, exitCode: 0 });
  });
});
