import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../src/clock/virtual-clock.js";
import type { LogEvent } from "../../src/log/events.js";
import { type OutputDeps, POST_EXIT_MAX_MS, RunOutput } from "../../src/runner/run-output.js";
import { FakeSpawner } from "../helpers/fake-spawner.js";
import { outputLinesEvent } from "../helpers/output-lines.js";

const T0 = Date.UTC(2026, 10, 27, 4, 20, 0);

/** The output of run r9 of `sync`, read on a virtual clock from children of a fake spawner. */
function setUp(deps: Partial<OutputDeps> = {}) {
  const clock = new VirtualClock(T0);
  const spawner = new FakeSpawner();
  const events: LogEvent[] = [];
  const output = new RunOutput("sync", "r9", {
    clock,
    emit: (e) => events.push(e),
    wallNow: () => clock.now(),
    postExitQuietMs: 100,
    ...deps,
  });
  /** Starts a child and follows its pipes; `done` counts the calls of the after-exit callback. */
  const follow = () => {
    const child = spawner.spawn({ file: "/bin/sync", args: [], cwd: "/", env: {} });
    const pipes = output.follow(child);
    const state = { done: 0 };
    const exit = (options: { keepPipes?: boolean } = {}) => {
      child.exit(0, null, options);
      pipes.afterExit(false, () => state.done++);
    };
    return { child, pipes, state, exit };
  };
  const lines = () => events.flatMap((e) => (e.event === "output" ? [e.line] : []));
  return { clock, events, follow, lines };
}

/** A log that needs draining until drain() is called. */
function stalledLog() {
  let needDrain = false;
  let drained: (() => void) | undefined;
  return {
    writable: { needDrain: () => needDrain, onceDrained: (callback: () => void) => (drained = callback) },
    stall: () => {
      needDrain = true;
    },
    drain: () => {
      needDrain = false;
      const callback = drained;
      drained = undefined;
      callback?.();
    },
  };
}

describe("a run's output", () => {
  it("turns each pipe's bytes into line events, stamped with the time their chunk arrived", () => {
    const { clock, events, follow } = setUp();
    const { child } = follow();
    child.stdout.push("one\ntw");
    clock.advance(250);
    child.stderr.push("warning\n");
    child.stdout.push("o\n");
    expect(events).toEqual([
      { timeMs: T0, level: "info", event: "output", job: "sync", run: "r9", stream: "stdout", line: "one" },
      {
        timeMs: T0 + 250,
        level: "info",
        event: "output",
        job: "sync",
        run: "r9",
        stream: "stderr",
        line: "warning",
      },
      {
        timeMs: T0 + 250,
        level: "info",
        event: "output",
        job: "sync",
        run: "r9",
        stream: "stdout",
        line: "two",
      },
    ]);
  });

  it("logs a last line without a newline when its pipe ends", () => {
    const { follow, lines } = setUp();
    const { child, exit } = follow();
    child.stdout.push("no newline");
    exit();
    expect(lines()).toEqual(["no newline"]);
  });

  it("is done once the child exited and both pipes ended, and not before", () => {
    const { follow, clock } = setUp();
    const { child, pipes, state } = follow();
    child.stdout.end();
    child.stderr.end();
    expect(state.done).toBe(0);
    pipes.afterExit(false, () => state.done++);
    expect(state.done).toBe(1);
    expect(clock.pending()).toEqual([]);
  });

  it("reads on after the exit while a grandchild holds the pipes, and closes them once quiet for the period", () => {
    const { clock, follow, lines } = setUp();
    const { child, state, exit } = follow();
    exit({ keepPipes: true });
    clock.advance(60);
    child.stdout.push("late line\n");
    clock.advance(40);
    expect(child.stdout.closed).toBe(false);
    clock.advance(99);
    expect(child.stdout.closed).toBe(false);
    clock.advance(1);
    expect(child.stdout.closed && child.stderr.closed).toBe(true);
    expect(state.done).toBe(1);
    expect(lines()).toEqual(["late line"]);
  });

  it("cuts off a grandchild that prints without pause 5 s after the exit, with every line read until then", () => {
    const { clock, follow, lines } = setUp();
    const { child, state, exit } = follow();
    exit({ keepPipes: true });
    let printed = 0;
    for (let elapsedMs = 0; elapsedMs < POST_EXIT_MAX_MS; elapsedMs += 50) {
      child.stdout.push(`spam ${++printed}\n`);
      clock.advance(50);
      if (elapsedMs + 50 < POST_EXIT_MAX_MS) expect(child.stdout.closed).toBe(false);
    }
    expect(clock.now() - T0).toBe(POST_EXIT_MAX_MS);
    expect(child.stdout.closed && child.stderr.closed).toBe(true);
    expect(state.done).toBe(1);
    child.stdout.push("after the cut\n");
    expect(lines()).toEqual(Array.from({ length: printed }, (_, i) => `spam ${i + 1}`));
    expect(clock.pending()).toEqual([]);
  });

  it("does not count time paused for a slow log toward the 5 s cap", () => {
    const log = stalledLog();
    const { clock, follow, lines } = setUp({ writable: log.writable });
    const { child, exit } = follow();
    exit({ keepPipes: true });
    log.stall();
    child.stdout.push("first\n");
    expect(child.stdout.paused).toBe(true);
    child.stdout.push("held in the pipe\n");
    clock.advance(2 * POST_EXIT_MAX_MS);
    expect(child.stdout.closed).toBe(false);
    log.drain();
    expect(lines()).toEqual(["first", "held in the pipe"]);
    // Unpaused, the grandchild keeps printing: the cap counts only the time read since the exit.
    for (let i = 0; i < POST_EXIT_MAX_MS / 50 - 1; i++) {
      child.stdout.push("more\n");
      clock.advance(50);
    }
    expect(child.stdout.closed).toBe(false);
    child.stdout.push("more\n");
    clock.advance(100);
    expect(child.stdout.closed).toBe(true);
  });

  it("pauses both pipes while the log needs draining, and resumes them when it drained", () => {
    const log = stalledLog();
    const { follow, lines } = setUp({ writable: log.writable });
    const { child } = follow();
    child.stdout.push("a\n");
    expect(child.stdout.paused).toBe(false);
    log.stall();
    child.stdout.push("b\n");
    expect(child.stdout.paused && child.stderr.paused).toBe(true);
    child.stderr.push("c\n");
    expect(lines()).toEqual(["a", "b"]);
    log.drain();
    expect(child.stdout.paused || child.stderr.paused).toBe(false);
    expect(lines()).toEqual(["a", "b", "c"]);
  });

  it("starts the next attempt's pipes paused while the log still needs draining", () => {
    const log = stalledLog();
    const { follow } = setUp({ writable: log.writable });
    const first = follow();
    log.stall();
    first.child.stdout.push("x\n");
    first.exit();
    const second = follow();
    expect(second.child.stdout.paused && second.child.stderr.paused).toBe(true);
    log.drain();
    expect(second.child.stdout.paused).toBe(false);
  });

  it("counts the pipes quiet after exit only once what was waiting in them is read", () => {
    const { clock, follow, lines } = setUp();
    const { child, exit } = follow();
    clock.holdIo = true;
    exit({ keepPipes: true });
    clock.advance(100);
    expect(child.stdout.closed).toBe(false);
    child.stdout.push("last words\n");
    clock.readPendingIo();
    clock.advance(100);
    clock.readPendingIo();
    expect(child.stdout.closed).toBe(true);
    expect(lines()).toEqual(["last words"]);
  });

  it("closes the pipes at once for a child that never started", () => {
    const { follow, clock } = setUp();
    const { child, pipes, state } = follow();
    pipes.afterExit(true, () => state.done++);
    expect(child.stdout.closed && child.stderr.closed).toBe(true);
    expect(state.done).toBe(1);
    expect(clock.pending()).toEqual([]);
  });

  it("hands whole lines over as one output_lines event per chunk when the log takes them", () => {
    const { follow, events } = setUp({ outputLines: true });
    const { child } = follow();
    child.stdout.push("one\ntwo\nthr");
    expect(events).toEqual([outputLinesEvent({ timeMs: T0, job: "sync", run: "r9", lines: ["one", "two"] })]);
  });
});
