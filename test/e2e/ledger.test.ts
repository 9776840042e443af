import { chmodSync, existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { CliProcess, isAlive, runCli } from "../helpers/cli.js";
import { jsonEvents, sleep, writeSchedule } from "../helpers/procs.js";

// The ledger end to end: the built binary on real SQLite files, killed, restarted and read while it runs.

/** A schedule with its ledger next to it (state: relative to the file), so that every run of it shares one. */
function scheduleWithLedger(jobs: string): { file: string; ledger: string } {
  const file = writeSchedule(`name: e2e\nstate: ledger/e2e.db\ntimezone: UTC\njobs:\n${jobs}`);
  return { file, ledger: join(dirname(file), "ledger", "e2e.db") };
}

// biome-ignore lint/suspicious/noExplicitAny: history records are checked field by field
async function history(file: string, ...args: string[]): Promise<any[]> {
  const result = await runCli(["history", "--file", file, "--json", "-n", "1000", ...args]);
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return jsonEvents(result.stdout);
}

// Each test starts a few processes and mostly waits; on a loaded machine a start can take seconds.
describe.concurrent("the ledger, end to end", { timeout: 60_000 }, () => {
  it("creates the ledger 0600 in a 0700 folder and records every run with its result and output tail", async () => {
    const { file, ledger } = scheduleWithLedger(`  ok:
    every: 1s
    run: echo hello from ok
  bad:
    every: 1s
    run: echo about to fail; exit 3
`);
    const result = await runCli(["run", file, "--for", "2500ms", "--log-format", "json"]);
    expect(result.code).toBe(0);
    expect(jsonEvents(result.stdout)[0]).toMatchObject({ event: "loaded", state: ledger });
    expect(statSync(ledger).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(ledger)).mode & 0o777).toBe(0o700);
    const records = await history(file);
    expect(records.filter((r) => r.job === "ok").map((r) => r.state)).toEqual(["succeeded", "succeeded"]);
    expect(records.find((r) => r.job === "bad")).toMatchObject({
      schedule: "e2e",
      state: "failed",
      exit_code: 3,
      trigger: "schedule",
      output_tail: "about to fail",
      attempts: 1,
    });
    const fences = records.map((r) => r.fence).sort((a, b) => a - b);
    expect(new Set(fences).size).toBe(4);
    const owner = records[0].owner as string;
    expect(owner).toMatch(/^.+:\d+$/);
    const table = (await runCli(["history", "--file", file])).stdout.split("\n");
    expect(table[0]).toMatch(/^TIME +JOB +RUN +OWNER +TRIGGER +RESULT/);
    const okRow = table.find((line) => line.includes(records.find((r) => r.job === "ok").run_id));
    expect(okRow).toContain(` ${owner} `);
  });

  it("after kill -9 during a run, keeps every finished record and records the run in flight as lost", async () => {
    const { file } = scheduleWithLedger(`  quick:
    every: 1s
    run: echo quick
  long:
    after: 1500ms
    run: echo long started; sleep 30
`);
    const first = new CliProcess(["run", file, "--log-format", "json"]);
    await first.waitFor(/"event":"output","job":"long"/, 15_000);
    const longPid = jsonEvents(first.stdout).find((e) => e.event === "started" && e.job === "long").pid;
    first.child.kill("SIGKILL");
    await first.exited;
    process.kill(-longPid, "SIGKILL"); // its job, orphaned by the kill, would sleep on
    const before = await history(file);
    expect(before.find((r) => r.job === "long")).toMatchObject({ state: "running" });
    const finishedBefore = before.filter((r) => r.job === "quick" && r.state === "succeeded").length;
    expect(finishedBefore).toBeGreaterThan(0);

    const second = await runCli(["run", file, "--for", "500ms", "--log-format", "json"]);
    expect(second.code).toBe(0);
    const lost = jsonEvents(second.stdout).find((e) => e.event === "run_lost" && e.job === "long");
    expect(lost).toMatchObject({
      level: "warn",
      owner: expect.stringMatching(/.+:\d+$/),
      fence: expect.any(Number),
    });
    expect(lost.reason).toMatch(/^tdefer \(.+:\d+\) stopped while the run was going$/);
    const after = await history(file);
    expect(
      after.find((r) => r.job === "long" && r.trigger === "schedule" && r.state !== "succeeded"),
    ).toMatchObject({
      state: "lost",
      output_tail: null,
    });
    expect(after.filter((r) => r.job === "quick" && r.state === "succeeded").length).toBeGreaterThanOrEqual(
      finishedBefore,
    );
  });

  it("reruns the run in flight after kill -9 with on_lost: rerun, under a higher fence", async () => {
    const { file } = scheduleWithLedger(`  long:
    after: 500ms
    run: echo "fence $TDEFER_FENCE"; sleep 30
    on_lost: rerun
`);
    const first = new CliProcess(["run", file, "--log-format", "json"]);
    await first.waitFor(/"line":"fence 1"/, 15_000);
    const pid = jsonEvents(first.stdout).find((e) => e.event === "started").pid;
    first.child.kill("SIGKILL");
    await first.exited;
    process.kill(-pid, "SIGKILL");
    const second = new CliProcess(["run", file, "--log-format", "json"]);
    try {
      await second.waitFor(/"line":"fence 2"/, 15_000);
    } finally {
      second.child.kill("SIGTERM");
    }
    await second.exited;
    const rerun = jsonEvents(second.stdout).find((e) => e.event === "started");
    expect(rerun.scheduled).toBe(jsonEvents(first.stdout).find((e) => e.event === "started").scheduled);
  });

  it("answers history while run writes to the same ledger", async () => {
    const { file } = scheduleWithLedger(`  a:
    every: 1s
    now: true
    run: echo a
  b:
    every: 1s
    now: true
    run: echo b
`);
    const run = new CliProcess(["run", file, "--log-format", "json"]);
    try {
      await run.waitFor(/"event":"finished"/, 15_000);
      const counts: number[] = [];
      // Two reads while run goes on writing (each read is a whole process: seconds on a loaded machine).
      for (let i = 0; i < 2; i++) {
        counts.push((await history(file)).length);
        await sleep(1_500);
      }
      expect(counts[0]).toBeGreaterThan(0);
      expect(counts.at(-1)).toBeGreaterThan(counts[0]!);
      expect(isAlive(run.child.pid!)).toBe(true);
    } finally {
      run.child.kill("SIGTERM");
    }
    expect((await run.exited).code).toBe(0);
  });

  it("catches up across a real restart: the newest missed fire runs as catch_up, the others are recorded missed", async () => {
    const { file } = scheduleWithLedger(`  caught:
    cron: "*/2 * * * * *"
    run: echo caught
    catch_up: 1m
  recorded:
    cron: "*/2 * * * * *"
    run: echo recorded
`);
    expect((await runCli(["run", file, "--for", "2500ms"])).code).toBe(0);
    await sleep(5_000); // down across at least two fires of each
    const restart = new CliProcess(["run", file, "--log-format", "json"]);
    try {
      await restart.waitFor(/"event":"finished","job":"caught"/, 20_000);
    } finally {
      restart.child.kill("SIGTERM");
    }
    expect((await restart.exited).code).toBe(0);
    const events = jsonEvents(restart.stdout);
    const loadedAt = Date.parse(events[0].time);
    // Fires from before this start are catch-ups; later ones are the schedule going on.
    const caughtUp = events.filter((e) => e.event === "started" && Date.parse(e.scheduled) < loadedAt);
    expect(caughtUp.map((e) => e.job)).toEqual(["caught"]);
    const records = await history(file);
    const catchUp = records.filter((r) => r.trigger === "catch_up");
    expect(catchUp).toHaveLength(1);
    expect(catchUp[0]).toMatchObject({ job: "caught", state: "succeeded" });
    expect(caughtUp[0].scheduled).toBe(catchUp[0].scheduled_at);
    expect(records.filter((r) => r.job === "recorded" && r.state === "missed").length).toBeGreaterThanOrEqual(
      2,
    );
    expect(records.filter((r) => r.job === "caught" && r.state === "missed").length).toBeGreaterThanOrEqual(
      1,
    );
    expect(events.find((e) => e.event === "missed" && e.job === "recorded")).toBeDefined();
  });

  it("runs an at job once ever, across restarts", async () => {
    // Far enough ahead that the first run has started before it, even on a loaded machine.
    const at = new Date(Date.now() + 12_000).toISOString();
    const { file } = scheduleWithLedger(`  once:
    at: "${at}"
    run: echo once
`);
    const first = await runCli(["run", file, "--log-format", "json"]);
    expect(jsonEvents(first.stdout).filter((e) => e.event === "started")).toHaveLength(1);
    const second = await runCli(["run", file, "--log-format", "json"]);
    expect(second.code).toBe(0);
    expect(jsonEvents(second.stdout).filter((e) => e.event === "started")).toHaveLength(0);
    expect((await history(file)).map((r) => r.state)).toEqual(["succeeded"]);
  });

  it("records a run of trigger as manual", async () => {
    const { file } = scheduleWithLedger(`  job:
    cron: "0 3 * * *"
    run: echo by hand
`);
    expect((await runCli(["trigger", "job", file])).code).toBe(0);
    expect(await history(file)).toMatchObject([
      { job: "job", trigger: "manual", state: "succeeded", output_tail: "by hand" },
    ]);
  });

  it("writes nothing with --state none", async () => {
    const { file, ledger } = scheduleWithLedger(`  job:
    every: 1s
    run: echo nothing kept
`);
    const result = await runCli(["run", file, "--for", "1500ms", "--state", "none", "--log-format", "json"]);
    expect(result.code).toBe(0);
    expect(jsonEvents(result.stdout)[0].state).toBe("none (nothing is remembered)");
    expect(existsSync(dirname(ledger))).toBe(false);
  });

  it("refuses to start on a ledger that is not a database: exit 78, saying where and what to do", async () => {
    const file = writeSchedule("state: broken.db\njobs:\n  job:\n    every: 1s\n    run: echo never\n");
    const ledger = join(dirname(file), "broken.db");
    await import("node:fs").then((fs) => fs.writeFileSync(ledger, "not a database\n".repeat(100)));
    const result = await runCli(["run", file]);
    expect(result.code).toBe(78);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      `tdefer: the ledger ${ledger} is not a valid SQLite database (file is not a database)\n  hint: move it aside (mv ${ledger} ${ledger}.corrupt) to start a new one, or restore a backup\n`,
    );
  });

  it.skipIf(process.getuid?.() !== 0)(
    "as root, refuses a ledger folder that others can write, as it refuses such a schedule file: exit 78",
    async () => {
      const file = writeSchedule("state: shared/l.db\njobs:\n  job:\n    every: 1s\n    run: echo never\n");
      const shared = join(dirname(file), "shared");
      mkdirSync(shared);
      chmodSync(shared, 0o777);
      const result = await runCli(["run", file]);
      expect(result.code).toBe(78);
      expect(result.stdout).toBe("");
      expect(result.stderr).toMatch(
        new RegExp(
          `^tdefer: ${shared}: refusing to run as root the ledger folder .* group or others can write`,
        ),
      );
      expect(result.stderr).toContain(`hint: sudo chmod go-w ${shared}`);
      expect(existsSync(join(shared, "l.db"))).toBe(false);
    },
  );

  it("history says where it looked when there is no ledger", async () => {
    const { file, ledger } = scheduleWithLedger("  job:\n    every: 1s\n    run: echo x\n");
    const result = await runCli(["history", "--file", file]);
    expect(result.code).toBe(78);
    expect(result.stderr).toBe(
      `tdefer: no ledger at ${ledger}\n  hint: it is created by the first \`tdefer run\` of this schedule\n`,
    );
  });
});
