import { describe, expect, it } from "vitest";
import { fixture, runCli } from "../helpers/cli.js";

describe("tdefer trigger", () => {
  it("runs one job now with the same logging and exits 0 when it succeeds", async () => {
    const result = await runCli(["trigger", "ok", fixture("e2e/trigger.yaml"), "--log-format", "plain"]);
    expect(result.code).toBe(0);
    const [, runId] = /ok\[(\w+)\] started/.exec(result.stdout) ?? [];
    expect(runId).toMatch(/^[0-9a-z]{7}$/); // a real run id, as for scheduled runs
    expect(result.stdout).toContain(`ok[${runId}] | run ${runId} of ok`);
    expect(result.stdout).toContain(`ok[${runId}] finished: exit 0`);
  });

  it("gives each run its own id", async () => {
    const ids: string[] = [];
    for (const _ of [1, 2]) {
      const result = await runCli(["trigger", "ok", fixture("e2e/trigger.yaml"), "--log-format", "json"]);
      ids.push(JSON.parse(result.stdout.split("\n")[0]!).run as string);
    }
    expect(ids[0]).not.toBe(ids[1]);
  });

  it("is a usage error (exit 2) to name only the file, and lists its jobs", async () => {
    const result = await runCli(["trigger", "trigger.yaml"], { cwd: fixture("e2e") });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `tdefer trigger: a job name is missing: tdefer trigger JOB ${fixture("e2e/trigger.yaml")}; its jobs: ok, fails, killed, missing\n`,
    );
  });

  it("exits with the job's own status", async () => {
    expect((await runCli(["trigger", "fails", fixture("e2e/trigger.yaml")])).code).toBe(3);
  });

  it("exits 128 + the signal's number when a signal ended the job", async () => {
    expect((await runCli(["trigger", "killed", fixture("e2e/trigger.yaml")])).code).toBe(128 + 10); // SIGUSR1
  });

  it("exits 127 with a clear message when the command cannot start", async () => {
    const result = await runCli(["trigger", "missing", fixture("e2e/trigger.yaml"), "--log-format", "plain"]);
    expect(result.code).toBe(127);
    expect(result.stdout).toContain("/nonexistent/program");
  });

  it("is a usage error (exit 2) to name a job the file does not have, and lists its jobs", async () => {
    const result = await runCli(["trigger", "nope", fixture("e2e/trigger.yaml")]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("its jobs: ok, fails, killed, missing");
  });
});
