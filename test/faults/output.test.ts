import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { BIN, CliProcess, freshStateHome } from "../helpers/cli.js";
import { sleep, statusKb, writeSchedule } from "../helpers/procs.js";

// Output under stress: floods from many jobs at once, and a stdout of tdefer's own that fails.

// Every test here starts its own processes and mostly waits: they run side by side.
describe.concurrent("faults: output under stress", () => {
  describe("50 jobs flooding output at once", () => {
    it("logs every line of every job, in order, with tdefer's RSS bounded", async () => {
      const jobs = 50;
      const lines = 20_000;
      let yaml = "jobs:\n";
      for (let j = 0; j < jobs; j++)
        yaml += `  flood${j}:\n    after: 100ms\n    run: [sh, -c, 'seq 1 ${lines} | sed "s/^/${j} /"']\n`;
      const file = writeSchedule(yaml);
      const child = spawn(process.execPath, [BIN, "run", file, "--log-format", "json"], {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, XDG_STATE_HOME: freshStateHome() },
      });
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (text: string) => {
        stderr += text;
      });
      let peakRssKb = 0;
      const sampler = setInterval(() => {
        peakRssKb = Math.max(peakRssKb, statusKb(child.pid!, "VmRSS") ?? 0);
      }, 25);
      // Counted as they stream by, so the test's own memory stays small; each job's numbers must come in order.
      const next = new Array<number>(jobs).fill(1);
      let outOfOrder = 0;
      let finished = 0;
      for await (const line of createInterface({ input: child.stdout })) {
        const event = JSON.parse(line);
        if (event.event === "finished") {
          expect(event.exit_code).toBe(0);
          finished++;
        }
        if (event.event !== "output") continue;
        const [job, n] = event.line.split(" ").map(Number);
        if (n !== next[job]) {
          outOfOrder++;
        }
        next[job] = n + 1;
      }
      const code = await new Promise((resolve) => child.once("close", resolve));
      clearInterval(sampler);
      expect(stderr).toBe("");
      expect(code).toBe(0);
      expect(finished).toBe(jobs);
      expect(outOfOrder).toBe(0);
      expect(next).toEqual(new Array(jobs).fill(lines + 1));
      expect(peakRssKb).toBeGreaterThan(0);
      expect(peakRssKb).toBeLessThan(200 * 1024);
    }, 30_000);
  });

  describe("a slow reader of tdefer's stdout", () => {
    it("loses no line of a job that exited with output still unread, however long the log is stalled", async () => {
      // The job exits at once, leaving its output in the pipe; the log's reader then stalls for longer than
      // POST_EXIT_MAX_MS (5 s). Time paused for the log does not count toward that cap.
      const file = writeSchedule(`jobs:
  burst:
    after: 0s
    run: seq 1 18000
`);
      const child = spawn(process.execPath, [BIN, "run", file, "--log-format", "json"], {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, XDG_STATE_HOME: freshStateHome() },
      });
      child.stdout.pause();
      await sleep(6500);
      let peakRssKb = statusKb(child.pid!, "VmRSS") ?? 0;
      let expected = 1;
      let lost = 0;
      for await (const line of createInterface({ input: child.stdout })) {
        const event = JSON.parse(line);
        if (event.event !== "output") continue;
        if (Number(event.line) !== expected) lost++;
        expected = Number(event.line) + 1;
      }
      peakRssKb = Math.max(peakRssKb, statusKb(child.pid!, "VmRSS") ?? 0);
      expect(await new Promise((resolve) => child.once("close", resolve))).toBe(0);
      expect(lost).toBe(0);
      expect(expected).toBe(18_001);
      expect(peakRssKb).toBeLessThan(200 * 1024);
    }, 20_000);
  });

  describe("tdefer's own stdout fails", () => {
    const ticker = `jobs:
  ticker:
    every: 100ms
    now: true
    run: echo tick
  long:
    after: 0s
    run: sleep 30
`;

    it("closed by the reader: says so on stderr and exits 1, without spinning or hanging", async () => {
      const cli = new CliProcess(["run", writeSchedule(ticker), "--log-format", "plain"]);
      await cli.waitFor("| tick");
      const closedAt = Date.now();
      cli.child.stdout!.destroy();
      const result = await cli.exited;
      expect(Date.now() - closedAt).toBeLessThan(5000);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /^tdefer: cannot write the log \(.*EPIPE.*\); stopping, as output would be lost\n$/,
      );
    });

    it("a full disk (/dev/full as stdout): says so on stderr and exits 1", async () => {
      const full = openSync("/dev/full", "w");
      const child = spawn(process.execPath, [BIN, "run", writeSchedule(ticker), "--log-format", "json"], {
        stdio: ["ignore", full, "pipe"],
        env: { ...process.env, XDG_STATE_HOME: freshStateHome() },
      });
      closeSync(full);
      let stderr = "";
      child.stderr!.setEncoding("utf8").on("data", (text: string) => {
        stderr += text;
      });
      const started = Date.now();
      const code = await Promise.race([
        new Promise((resolve) => child.once("close", resolve)),
        sleep(8000).then(() => "still running"),
      ]);
      if (code === "still running") child.kill("SIGKILL");
      expect(code).toBe(1);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(stderr).toMatch(
        /^tdefer: cannot write the log \(ENOSPC: no space left on device, write\); stopping/,
      );
    });
  });
});
