import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../src/clock/virtual-clock.js";
import type { LogEvent } from "../../src/log/events.js";
import { runJob } from "../../src/runner/run-job.js";
import { FakeSpawner } from "../helpers/fake-spawner.js";

describe("stopping a run that has a timeout", () => {
  it("cancels the timeout once: the child's exit afterwards finishes the run without an error", async () => {
    const clock = new VirtualClock(0);
    const spawner = new FakeSpawner();
    const events: LogEvent[] = [];
    const run = runJob(
      {
        job: "j",
        runId: "r1",
        scheduledMs: 0,
        file: "/bin/job",
        args: [],
        cwd: "/",
        env: {},
        timeoutMs: 60_000,
        killSignal: "SIGTERM",
        killGraceMs: 10_000,
      },
      { clock, spawner, emit: (event) => events.push(event), wallNow: () => clock.now() },
    );
    run.stop("tdefer is stopping");
    expect(() => spawner.last.exit(null, "SIGTERM")).not.toThrow();
    const result = await run.done;
    expect(result).toMatchObject({ ok: false, stopped: true, signal: "SIGTERM", timedOut: false });
    expect(clock.pending()).toEqual([]);
  });
});
