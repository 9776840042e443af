import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CliProcess, fixture, isAlive, runCli } from "../helpers/cli.js";
import { jsonEvents, liveInGroup, sleep, writeSchedule } from "../helpers/procs.js";

// Jobs that misbehave as processes: each test runs the built binary against real children.

const timeOf = (event: { time: string }) => Date.parse(event.time);

// Every test here starts its own processes and mostly waits: they run side by side.
describe.concurrent("faults: jobs that misbehave as processes", () => {
  describe("a job that exits while a background grandchild keeps its stdout open", () => {
    it("is reported finished right after its exit; the grandchild's later output is cut off", async () => {
      const file = writeSchedule(`jobs:
  holder:
    after: 0s
    run: |
      (sleep 2; echo late-line; sleep 30) &
      echo "grandchild $!"
      echo exiting
`);
      const result = await runCli(["run", file, "--log-format", "json", "--for", "4s"]);
      expect(result.code).toBe(0);
      const events = jsonEvents(result.stdout);
      // Not held by the grandchild's `sleep 30`: from loading the file to stopping, by tdefer's own clock (its
      // start-up, seconds on a loaded machine, is not what this measures).
      const loaded = events.find((e) => e.event === "loaded");
      const stopped = events.find((e) => e.event === "stopped");
      expect(timeOf(stopped) - timeOf(loaded)).toBeLessThan(6000);
      const lines = events.filter((e) => e.event === "output").map((e) => e.line);
      expect(lines).toContain("exiting");
      // POST_EXIT_QUIET_MS: 100 ms without a byte after the exit closes the pipes; "late-line" comes 2 s later.
      expect(lines).not.toContain("late-line");
      const start = events.find((e) => e.event === "started");
      const finished = events.find((e) => e.event === "finished");
      expect(finished).toMatchObject({ exit_code: 0, signal: null });
      expect(finished.duration_ms).toBeLessThan(500);
      expect(timeOf(finished) - timeOf(start)).toBeLessThan(1500);
      expect(result.stderr).toBe("");
    });

    it("a grandchild printing without pause keeps the run open at most POST_EXIT_MAX_MS (5 s), then is cut off", async () => {
      // The grandchild is one process printing every 10 ms (a shell loop would fork a `sleep` per line, and a new
      // process can wait over POST_EXIT_QUIET_MS for a CPU on a loaded machine: a real pause, rightly cut off).
      // The job exits once the grandchild has printed, so its start-up is not a pause either.
      const ready = join(mkdtempSync(join(tmpdir(), "tdefer-chatty-")), "ready");
      const printer = [
        "let i = 0;",
        'const print = () => process.stdout.write("spam " + ++i + "\\n");',
        'process.stdout.on("error", () => process.exit(0));',
        "print();",
        'require("fs").writeFileSync(process.argv[1], "");',
        "setInterval(print, 10);",
      ].join(" ");
      const file = writeSchedule(`jobs:
  chatty:
    after: 0s
    run: |
      '${process.execPath}' -e '${printer}' '${ready}' &
      while [ ! -e '${ready}' ]; do sleep 0.01; done
      echo exiting
`);
      const result = await runCli(["run", file, "--log-format", "json", "--for", "15s"]);
      expect(result.code).toBe(0);
      const events = jsonEvents(result.stdout);
      const start = events.find((e) => e.event === "started");
      const finished = events.find((e) => e.event === "finished");
      expect(finished).toMatchObject({ job: "chatty", exit_code: 0 });
      // The finish waits for the grandchild's output after the job's exit, but not longer than the cap.
      const keptOpen = timeOf(finished) - timeOf(start) - finished.duration_ms;
      expect(keptOpen).toBeGreaterThanOrEqual(4500);
      expect(keptOpen).toBeLessThan(7500);
      // Every line read before the cut is logged, in order, and none after the finish.
      const spam = events.filter((e) => e.event === "output" && e.line.startsWith("spam"));
      expect(spam.length).toBeGreaterThan(50);
      expect(spam.map((e) => e.line)).toEqual(spam.map((_, i) => `spam ${i + 1}`));
      const afterFinish = events.slice(events.indexOf(finished)).filter((e) => e.event === "output");
      expect(afterFinish).toEqual([]);
    }, 25_000);
  });

  describe("a job that closes its stdout early and keeps running", () => {
    it("is still followed on stderr and reported finished when it exits", async () => {
      const file = writeSchedule(`jobs:
  closer:
    after: 0s
    run: |
      echo first
      exec 1>&-
      sleep 1
      echo "still here" >&2
      exit 3
`);
      const result = await runCli(["run", file, "--log-format", "json", "--for", "4s"]);
      expect(result.code).toBe(0);
      const events = jsonEvents(result.stdout);
      expect(events.filter((e) => e.event === "output").map((e) => [e.stream, e.line])).toEqual([
        ["stdout", "first"],
        ["stderr", "still here"],
      ]);
      const finished = events.find((e) => e.event === "finished");
      expect(finished).toMatchObject({ exit_code: 3, signal: null });
      expect(finished.duration_ms).toBeGreaterThanOrEqual(900);
    });
  });

  describe("a job that ignores SIGTERM", () => {
    it("on timeout gets SIGTERM, then SIGKILL after kill_grace; its whole group is gone", async () => {
      const file = writeSchedule(`jobs:
  stubborn:
    after: 0s
    timeout: 500ms
    kill_grace: 700ms
    run: [${fixture("bin/ignore-term.sh")}]
`);
      const result = await runCli(["run", file, "--log-format", "json", "--for", "4s"]);
      const events = jsonEvents(result.stdout);
      const kinds = events.filter((e) => e.job === "stubborn").map((e) => e.event);
      expect(kinds).toEqual(["scheduled", "started", "output", "timed_out", "killed", "finished"]);
      const timedOut = events.find((e) => e.event === "timed_out");
      const killed = events.find((e) => e.event === "killed");
      const finished = events.find((e) => e.event === "finished");
      expect(timedOut).toMatchObject({ timeout_ms: 500, signal: "SIGTERM" });
      expect(killed).toMatchObject({ signal: "SIGKILL" });
      expect(timeOf(killed) - timeOf(timedOut)).toBeGreaterThanOrEqual(650);
      expect(timeOf(killed) - timeOf(timedOut)).toBeLessThan(2500);
      expect(finished).toMatchObject({ exit_code: null, signal: "SIGKILL" });
      const pid = events.find((e) => e.event === "started").pid;
      expect(liveInGroup(pid)).toEqual([]);
    });
  });

  describe("a job killed by a signal", () => {
    it("is reported with the signal, not an exit code, in json and plain logs", async () => {
      const yaml = `jobs:
  victim:
    after: 0s
    run: echo bye; kill -USR1 $$
`;
      const json = await runCli(["run", writeSchedule(yaml), "--log-format", "json", "--for", "2s"]);
      const finished = jsonEvents(json.stdout).find((e) => e.event === "finished");
      expect(finished).toMatchObject({ level: "error", exit_code: null, signal: "SIGUSR1" });
      const plain = await runCli(["run", writeSchedule(yaml), "--log-format", "plain", "--for", "2s"]);
      expect(plain.stdout).toMatch(/victim\[\w+\] finished: killed by SIGUSR1 in /);
      const trigger = await runCli(["trigger", "victim", writeSchedule(yaml), "--log-format", "plain"]);
      expect(trigger.code).toBe(128 + 10); // SIGUSR1 is 10 on Linux
    }, 40_000); // three processes one after the other: 13.9 s under load, near the 20 s default
  });

  describe("a fork bomb inside a job", () => {
    // RLIMIT_NPROC (`ulimit -u`) does not bind root, and these tests run as root here and in CI, so the bomb is
    // bounded by construction instead: a binary tree of subshells 6 levels deep (127 processes at most), each
    // level forking two copies of itself; `ulimit -u 50` is set as well, and binds when not run as root.
    it("is ended by its timeout with its whole process group; tdefer survives and stays responsive", async () => {
      const file = writeSchedule(`jobs:
  bomb:
    after: 0s
    timeout: 1500ms
    kill_grace: 500ms
    run: |
      ulimit -u 50 2>/dev/null
      b() { if [ "$1" -lt 6 ]; then b $(($1 + 1)) & b $(($1 + 1)) & wait; else sleep 30; fi; }
      b 0
  ticker:
    every: 100ms
    run: echo tick
`);
      const cli = new CliProcess(["run", file, "--log-format", "json", "--grace", "2s"]);
      await cli.waitFor(/"event":"started","job":"bomb"/, 10_000);
      const bombPid = jsonEvents(cli.stdout).find((e) => e.event === "started" && e.job === "bomb").pid;
      // It does fork: the group grows well past a handful of processes before the timeout.
      let largest = 0;
      while (!cli.stdout.includes('"event":"timed_out"')) {
        largest = Math.max(largest, liveInGroup(bombPid).length);
        await sleep(50);
      }
      expect(largest).toBeGreaterThan(30);
      await cli.waitFor(/"job":"bomb"[^\n]*"event":"finished"|"event":"finished"[^\n]*"job":"bomb"/, 10_000);
      // Responsive: ticks keep coming after the bomb is gone.
      const ticksAtFinish = cli.stdout.split('"line":"tick"').length;
      await sleep(600);
      expect(cli.stdout.split('"line":"tick"').length).toBeGreaterThan(ticksAtFinish + 2);
      expect(isAlive(cli.child.pid!)).toBe(true);
      cli.child.kill("SIGTERM");
      const result = await cli.exited;
      expect(result.code).toBe(0);
      const events = jsonEvents(result.stdout);
      const finished = events.find((e) => e.event === "finished" && e.job === "bomb");
      expect(finished.exit_code === null || finished.exit_code > 128).toBe(true);
      // The bomb did fork, and nothing of it is left.
      expect(bombPid).toBeGreaterThan(0);
      await sleep(100);
      expect(liveInGroup(bombPid)).toEqual([]);
      expect(result.stderr).toBe("");
    }, 20_000);
  });

  describe("nothing tdefer started outlives it (but a `setsid` escapee)", () => {
    const leaver = `  leaver:
    after: 0s
    run: sleep 100 >/dev/null 2>&1 & echo "left $!"
`;
    const groupOf = (stdout: string, job: string): number =>
      jsonEvents(stdout).find((e) => e.event === "started" && e.job === job).pid;

    it("on SIGTERM, a finished run's background process (sleep 100 &) is ended with its group", async () => {
      const file = writeSchedule(`jobs:\n${leaver}  keepalive:\n    every: 1h\n    run: "true"\n`);
      const cli = new CliProcess(["run", file, "--log-format", "json"]);
      await cli.waitFor(/"event":"finished","job":"leaver"/, 20_000);
      const pgid = groupOf(cli.stdout, "leaver");
      expect(liveInGroup(pgid).length).toBe(1); // the sleep, still there after its run finished
      cli.child.kill("SIGTERM");
      const result = await cli.exited;
      expect(result.code).toBe(0);
      expect(liveInGroup(pgid)).toEqual([]);
      expect(result.stdout).toContain("ending 1 process group that finished runs left behind");
    }, 30_000);

    it("when run ends by itself (nothing left to fire), the background process goes too", async () => {
      const file = writeSchedule(`jobs:\n${leaver}`);
      const result = await runCli(["run", file, "--log-format", "json"]);
      expect(result.code).toBe(0);
      expect(liveInGroup(groupOf(result.stdout, "leaver"))).toEqual([]);
    });

    it("trigger ends what the job left in its group before it exits with the job's status", async () => {
      const file = writeSchedule(`jobs:\n${leaver}`);
      const result = await runCli(["trigger", "leaver", file, "--log-format", "json"]);
      expect(result.code).toBe(0);
      expect(liveInGroup(groupOf(result.stdout, "leaver"))).toEqual([]);
    });

    it.each(["SIGQUIT", "SIGUSR2", "SIGALRM"] as const)(
      "run takes %s as a stop: the running job gets its kill_signal, tdefer exits 0, the group is gone",
      async (signal) => {
        const file = writeSchedule(
          `jobs:\n  long:\n    after: 0s\n    run: sleep 30\n  keepalive:\n    every: 1h\n    run: "true"\n`,
        );
        const cli = new CliProcess(["run", file, "--log-format", "json", "--grace", "5s"]);
        await cli.waitFor(/"event":"started","job":"long"/, 20_000);
        const pgid = groupOf(cli.stdout, "long");
        cli.child.kill(signal);
        const result = await cli.exited;
        expect(result.signal).toBeNull();
        expect(result.code).toBe(0);
        const stopping = jsonEvents(result.stdout).find((e) => e.event === "stopping");
        expect(stopping.signal).toBe(signal);
        const finished = jsonEvents(result.stdout).find((e) => e.event === "finished" && e.job === "long");
        expect(finished.signal).toBe("SIGTERM");
        expect(liveInGroup(pgid)).toEqual([]);
      },
      30_000,
    );

    it.each(["SIGHUP", "SIGQUIT", "SIGUSR2"] as const)(
      "trigger takes %s as a stop: the job gets its kill_signal and trigger exits 143",
      async (signal) => {
        const file = writeSchedule("jobs:\n  long:\n    every: 1h\n    run: sleep 30\n");
        const cli = new CliProcess(["trigger", "long", file, "--log-format", "json"]);
        await cli.waitFor('"event":"started"', 20_000);
        const pgid = groupOf(cli.stdout, "long");
        cli.child.kill(signal);
        const result = await cli.exited;
        expect(result.signal).toBeNull();
        expect(result.code).toBe(143);
        expect(liveInGroup(pgid)).toEqual([]);
      },
      30_000,
    );
  });

  describe("tdefer itself killed with SIGKILL (a crash)", () => {
    it("leaves a running job alone: it leads its own process group (under systemd, KillMode=mixed ends it)", async () => {
      const file = writeSchedule(`jobs:
  survivor:
    after: 0s
    run: echo ready; exec sleep 30
`);
      const cli = new CliProcess(["run", file, "--log-format", "json"]);
      await cli.waitFor('"line":"ready"');
      const pid = jsonEvents(cli.stdout).find((e) => e.event === "started").pid;
      cli.child.kill("SIGKILL");
      const result = await cli.exited;
      expect(result.signal).toBe("SIGKILL");
      await sleep(300);
      try {
        expect(isAlive(pid)).toBe(true);
      } finally {
        process.kill(-pid, "SIGKILL");
      }
    });
  });
});
