import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { CliProcess, runCli } from "../helpers/cli.js";
import { jsonEvents, writeSchedule } from "../helpers/procs.js";

const SCHEDULE = `jobs:
  report:
    cron: "0 3 * * *"
    run: echo report done
`;

/** The URL `run --http` logged it serves at. */
async function servedAt(cli: CliProcess): Promise<string> {
  await cli.waitFor(/"event":"http_listening"/);
  return jsonEvents(cli.stdout).find((event) => event.event === "http_listening").url;
}

describe("tdefer run --http", () => {
  it("serves the API on the event loop that runs the jobs: a manual run from HTTP is logged and shown", async () => {
    const file = writeSchedule(SCHEDULE);
    const cli = new CliProcess([
      "run",
      file,
      "--http",
      "127.0.0.1:0",
      "--log-format",
      "json",
      "--for",
      "20s",
    ]);
    const url = await servedAt(cli);
    const jobs = (await (await fetch(`${url}api/v1/jobs`)).json()) as { jobs: { name: string }[] };
    expect(jobs.jobs.map((job) => job.name)).toEqual(["report"]);
    const run = await fetch(`${url}api/v1/jobs/report/run`, { method: "POST" });
    expect(run.status).toBe(202);
    const { run: runId } = (await run.json()) as { run: string };
    await cli.waitFor(/report done/);
    await cli.waitFor(/"event":"finished"/);
    const runs = (await (await fetch(`${url}api/v1/runs`)).json()) as {
      runs: { run: string; trigger: string }[];
    };
    expect(runs.runs[0]).toMatchObject({
      run: runId,
      trigger: "manual",
      owner: expect.stringMatching(/^.+:\d+$/),
    });
    cli.child.kill("SIGTERM");
    expect((await cli.exited).code).toBe(0);
  });

  it("refuses to listen off loopback without a token, and says how to give one", async () => {
    const file = writeSchedule(SCHEDULE);
    const result = await runCli(["run", file, "--http", ":0"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--http-token-file/);
  });

  it("asks for the token from --http-token-file", async () => {
    const file = writeSchedule(SCHEDULE);
    const tokenFile = join(dirname(file), "token");
    writeFileSync(tokenFile, "abc123\n", { mode: 0o600 });
    const cli = new CliProcess([
      "run",
      file,
      "--http",
      "0.0.0.0:0",
      "--http-token-file",
      tokenFile,
      "--log-format",
      "json",
      "--for",
      "20s",
    ]);
    const url = (await servedAt(cli)).replace("0.0.0.0", "127.0.0.1");
    expect((await fetch(`${url}api/v1/jobs`)).status).toBe(401);
    expect((await fetch(`${url}api/v1/jobs`, { headers: { authorization: "Bearer abc123" } })).status).toBe(
      200,
    );
    expect((await fetch(`${url}healthz`)).status).toBe(200);
    cli.child.kill("SIGTERM");
    expect((await cli.exited).code).toBe(0);
  });
});

describe("tdefer status", () => {
  it("sums up a running daemon on one screen: health, jobs, next fires, last results, failures", async () => {
    const file = writeSchedule(`timezone: UTC
jobs:
  report:
    cron: "0 3 * * *"
    run: echo report done
  broken:
    cron: "0 4 * * *"
    run: exit 7
`);
    const cli = new CliProcess([
      "run",
      file,
      "--http",
      "127.0.0.1:0",
      "--log-format",
      "json",
      "--for",
      "30s",
    ]);
    const url = await servedAt(cli);
    const address = new URL(url).host;
    await fetch(`${url}api/v1/jobs/broken/run`, { method: "POST" });
    await cli.waitFor(/"event":"finished","job":"broken"/);
    const status = await runCli(["status", "--http", address]);
    expect(status.code).toBe(0);
    const lines = status.stdout.split("\n");
    expect(lines[0]).toBe(`tdefer at http://${address}/: healthy, ready; 2 jobs, 0 running`);
    expect(lines[2]).toMatch(/^JOB +TRIGGER +NEXT +LAST +24H$/);
    expect(lines[3]).toMatch(/^report +cron "0 3 \* \* \*" \(UTC\) +in \S+ +never ran +0 ok, 0 failed$/);
    expect(lines[4]).toMatch(/^broken .* failed \(exit 7\) (now|\d+s ago) +0 ok, 1 failed$/);
    expect(status.stdout).toMatch(/recent failures:\n {2}(now|\d+s ago) {2}broken \[\w+\] failed \(exit 7\)/);
    cli.child.kill("SIGTERM");
    await cli.exited;
  });

  it("says when no daemon answers, exit 1", async () => {
    const result = await runCli(["status", "--http", "127.0.0.1:9"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^tdefer status: no tdefer answers at http:\/\/127\.0\.0\.1:9 /);
  });
});

describe("run --http with a ledger", () => {
  it("keeps a pause across a restart, and lists manual runs from the ledger", async () => {
    const file = writeSchedule(`jobs:
  report:
    cron: "0 3 * * *"
    run: echo report done
`);
    const state = join(dirname(file), "state.db");
    const args = [
      "run",
      file,
      "--state",
      state,
      "--http",
      "127.0.0.1:0",
      "--log-format",
      "json",
      "--for",
      "20s",
    ];
    const first = new CliProcess(args);
    const url = await servedAt(first);
    expect((await fetch(`${url}api/v1/jobs/report/pause`, { method: "POST" })).status).toBe(200);
    const run = (await (await fetch(`${url}api/v1/jobs/report/run`, { method: "POST" })).json()) as {
      run: string;
    };
    await first.waitFor(/"event":"finished"/);
    first.child.kill("SIGTERM");
    expect((await first.exited).code).toBe(0);

    const second = new CliProcess(args);
    const again = await servedAt(second);
    const job = (await (await fetch(`${again}api/v1/jobs/report`)).json()) as { paused: boolean };
    expect(job.paused).toBe(true);
    const runs = (await (await fetch(`${again}api/v1/runs`)).json()) as {
      runs: { run: string; trigger: string }[];
    };
    expect(runs.runs).toEqual([
      expect.objectContaining({ run: run.run, trigger: "manual", result: "succeeded" }),
    ]);
    second.child.kill("SIGTERM");
    expect((await second.exited).code).toBe(0);
  });
});
