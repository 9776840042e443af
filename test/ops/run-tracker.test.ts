import { describe, expect, it } from "vitest";
import type { LogEvent } from "../../src/log/events.js";
import { type RunEnd, RunTracker, TAIL_CHARS, TAIL_LINES } from "../../src/ops/run-tracker.js";
import { outputLinesEvent } from "../helpers/output-lines.js";
import { settle } from "../helpers/settle.js";

const T0 = Date.UTC(2026, 0, 1);
const base = { level: "info" as const, job: "j", run: "r1" };
const started = (timeMs: number, attempt = 1): LogEvent => ({
  ...base,
  timeMs,
  event: "started",
  pid: 1,
  scheduledMs: T0,
  lateMs: 0,
  attempt,
});
const finished = (timeMs: number, exitCode: number, attempt = 1): LogEvent => ({
  ...base,
  timeMs,
  event: "finished",
  exitCode,
  signal: null,
  durationMs: 10,
  attempt,
});

describe("the run tracker", () => {
  it("folds retries into one run: each attempt is told, only the last is final and counted", async () => {
    const tracker = new RunTracker();
    const ends: RunEnd[] = [];
    tracker.onRunEnd((end) => ends.push(end));
    tracker.observe(started(T0));
    tracker.observe(finished(T0 + 10, 1));
    tracker.observe({ ...base, timeMs: T0 + 10, event: "retrying", attempt: 2, delayMs: 1000 });
    tracker.observe(started(T0 + 1010, 2));
    tracker.observe(finished(T0 + 1020, 0, 2));
    await settle();
    expect(ends.map((end) => [end.attempt, end.result, end.final])).toEqual([
      [1, "failed", false],
      [2, "succeeded", true],
    ]);
    expect(tracker.jobRecord("j", T0 + 2000)).toMatchObject({
      lastSuccessMs: T0 + 1020,
      last24h: { succeeded: 1, failed: 0 },
    });
  });

  it("calls a run that timed out timed_out, whatever its exit", async () => {
    const tracker = new RunTracker();
    tracker.observe(started(T0));
    tracker.observe({ ...base, timeMs: T0 + 5, event: "timed_out", timeoutMs: 5, signal: "SIGTERM" });
    tracker.observe({ ...finished(T0 + 6, 0), exitCode: null, signal: "SIGTERM" } as LogEvent);
    await settle();
    expect(tracker.jobRecord("j", T0).lastEnd?.result).toBe("timed_out");
  });

  it("keeps only the last lines of a run's output, bounded in lines and characters", async () => {
    const tracker = new RunTracker();
    const ends: RunEnd[] = [];
    tracker.onRunEnd((end) => ends.push(end));
    tracker.observe(started(T0));
    for (let i = 0; i < 500; i++) {
      tracker.observe({ ...base, timeMs: T0, event: "output", stream: "stdout", line: `line ${i}` });
    }
    tracker.observe({ ...base, timeMs: T0, event: "output", stream: "stderr", line: "x".repeat(3000) });
    tracker.observe({ ...base, timeMs: T0, event: "output", stream: "stderr", line: "the end" });
    tracker.observe(finished(T0 + 1, 1));
    await settle();
    const tail = ends[0]!.outputTail;
    expect(tail.length).toBeLessThanOrEqual(TAIL_LINES);
    expect(tail.join("").length).toBeLessThanOrEqual(TAIL_CHARS);
    expect(tail.at(-1)).toBe("! the end");
  });

  it("keeps the last lines of output logged several lines at once, as if logged one by one", async () => {
    const ends: RunEnd[][] = [[], []];
    const trackers = [new RunTracker(), new RunTracker()];
    trackers.forEach((tracker, i) => {
      tracker.onRunEnd((end) => ends[i]!.push(end));
      tracker.observe(started(T0));
    });
    const lines = Array.from({ length: 120 }, (_, i) => `line ${i}`);
    for (const [stream, chunk] of [
      ["stdout", lines.slice(0, 100)],
      ["stderr", lines.slice(100)],
    ] as const) {
      for (const line of chunk) trackers[0]!.observe({ ...base, timeMs: T0, event: "output", stream, line });
      trackers[1]!.observe(outputLinesEvent({ ...base, timeMs: T0, stream, lines: chunk }));
    }
    for (const tracker of trackers) tracker.observe(finished(T0 + 1, 0));
    await settle();
    expect(ends[1]![0]!.outputTail).toEqual(ends[0]![0]!.outputTail);
    expect(ends[1]![0]!.outputTail.at(-1)).toBe("! line 119");
  });

  it("counts the last 24 hours only", async () => {
    const tracker = new RunTracker();
    tracker.observe(started(T0));
    tracker.observe(finished(T0, 1));
    await settle();
    expect(tracker.jobRecord("j", T0 + 3_600_000).last24h).toEqual({ succeeded: 0, failed: 1 });
    expect(tracker.jobRecord("j", T0 + 25 * 3_600_000).last24h).toEqual({ succeeded: 0, failed: 0 });
  });
});
