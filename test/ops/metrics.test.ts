import { spawnSync } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { skipReasonOf } from "../../src/ops/metrics.js";
import { jobSpec } from "../helpers/jobs.js";
import { settle } from "../helpers/settle.js";
import { opsHarness } from "./harness.js";

const every = (ms: number) => ({ kind: "every" as const, intervalMs: ms, now: false });
const hasPromtool = spawnSync("promtool", ["--version"]).status === 0;
if (!hasPromtool) {
  console.warn(
    "\n*** promtool is missing (Debian package `prometheus`): the metric-name check is SKIPPED ***\n",
  );
}

let harness: Awaited<ReturnType<typeof opsHarness>> | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** The value of one sample of the text format, or undefined. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

describe("/metrics", () => {
  it("counts runs by result and keeps each job's last success, exit code and next fire", async () => {
    harness = await opsHarness([jobSpec("backup", every(60_000)), jobSpec("flaky", every(60_000))]);
    harness.clock.advance(60_000);
    harness.runs[0]!.output("done");
    harness.runs[0]!.finish(0, 2500);
    harness.runs[1]!.finish(3);
    await settle();
    const { status, headers, body } = await harness.request("/metrics");
    expect(status).toBe(200);
    expect(headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(sample(body, "tdefer_job_runs_total", 'job="backup",result="succeeded"')).toBe(1);
    expect(sample(body, "tdefer_job_runs_total", 'job="flaky",result="failed"')).toBe(1);
    expect(sample(body, "tdefer_job_last_exit_code", 'job="flaky"')).toBe(3);
    expect(sample(body, "tdefer_job_last_success_timestamp_seconds", 'job="backup"')).toBe(
      harness.clock.wallNow() / 1000,
    );
    expect(sample(body, "tdefer_job_last_success_timestamp_seconds", 'job="flaky"')).toBeUndefined();
    expect(sample(body, "tdefer_job_next_run_timestamp_seconds", 'job="backup"')).toBe(
      (harness.clock.wallNow() + 60_000) / 1000,
    );
    expect(
      sample(body, "tdefer_job_info", 'job="backup",trigger="every",timezone="UTC",overlap="skip"'),
    ).toBe(1);
    expect(sample(body, "tdefer_job_duration_seconds_sum", 'job="backup"')).toBe(2.5);
    expect(sample(body, "tdefer_log_lines_total", 'stream="stdout"')).toBe(1);
    expect(body).toMatch(/^tdefer_build_info\{version="0\.0\.0-test",node="v\d+/m);
    expect(body).toMatch(/^process_resident_memory_bytes /m);
  });

  it("counts each line of output logged several lines at once", async () => {
    harness = await opsHarness([jobSpec("chatty", every(60_000))]);
    harness.clock.advance(60_000);
    harness.runs[0]!.output("alone");
    harness.runs[0]!.outputLines("one\ntwo\n\nfour\n");
    harness.runs[0]!.outputLines("oops\n", "stderr");
    await settle();
    const { body } = await harness.request("/metrics");
    expect(sample(body, "tdefer_log_lines_total", 'stream="stdout"')).toBe(5);
    expect(sample(body, "tdefer_log_lines_total", 'stream="stderr"')).toBe(1);
  });

  it("counts skipped fires by reason", async () => {
    harness = await opsHarness([jobSpec("slow", every(1000), { overlap: "skip" })]);
    harness.clock.advance(1000);
    harness.clock.advance(1000);
    harness.clock.advance(1000);
    const { body } = await harness.request("/metrics");
    expect(sample(body, "tdefer_job_skipped_total", 'job="slow",reason="overlap"')).toBe(2);
    expect(sample(body, "tdefer_job_running", 'job="slow"')).toBe(1);
  });

  it("counts claims lost to another tdefer, and leases lost", async () => {
    harness = await opsHarness([jobSpec("backup", every(60_000))]);
    const at = { timeMs: harness.clock.wallNow(), job: "backup" };
    harness.ops.observe({
      ...at,
      event: "skipped",
      level: "info",
      reason: "claimed elsewhere: the ledger already has this fire",
    });
    harness.ops.observe({
      ...at,
      event: "lease_lost",
      level: "error",
      run: "r1",
      fence: 7,
      reason: "taken over",
    });
    const { body } = await harness.request("/metrics");
    expect(sample(body, "tdefer_claims_total", 'result="lost"')).toBe(1);
    expect(sample(body, "tdefer_job_skipped_total", 'job="backup",reason="claimed_elsewhere"')).toBe(1);
    expect(body).toMatch(/^tdefer_lease_lost_total 1$/m);
  });

  it("counts claims won and catch-up runs from claimed events, and lost runs by job", async () => {
    harness = await opsHarness([jobSpec("backup", every(60_000))]);
    const at = { timeMs: harness.clock.wallNow(), job: "backup" };
    for (const [run, trigger] of [
      ["r1", "schedule"],
      ["r2", "catch_up"],
      ["r3", "catch_up"],
    ] as const) {
      harness.ops.observe({ ...at, event: "claimed", level: "debug", run, fence: 1, trigger });
    }
    harness.ops.observe({
      ...at,
      event: "run_lost",
      level: "warn",
      run: "r0",
      scheduledMs: at.timeMs,
      owner: "other:9",
      fence: 4,
      reason: "tdefer (other:9) stopped while the run was going",
    });
    const { body } = await harness.request("/metrics");
    expect(sample(body, "tdefer_claims_total", 'result="won"')).toBe(3);
    expect(sample(body, "tdefer_catchup_runs_total", 'job="backup"')).toBe(2);
    expect(sample(body, "tdefer_runs_lost_total", 'job="backup"')).toBe(1);
  });

  it.skipIf(!hasPromtool)("passes promtool check metrics", async () => {
    harness = await opsHarness([jobSpec("backup", every(1000))]);
    harness.clock.advance(1000);
    harness.runs[0]!.finish(0);
    await settle();
    const { body } = await harness.request("/metrics");
    const check = spawnSync("promtool", ["check", "metrics"], { input: body, encoding: "utf8" });
    expect(check.stdout + check.stderr).toBe("");
    expect(check.status).toBe(0);
  });

  it("names the skip reasons with fixed words", () => {
    expect(skipReasonOf("the previous run is still going (overlap: skip)")).toBe("overlap");
    expect(skipReasonOf("the clock jumped past 3 fire(s)")).toBe("missed");
    expect(skipReasonOf("tdefer is stopping")).toBe("other");
  });
});
