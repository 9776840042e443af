import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { jsonEvents, writeSchedule } from "../helpers/procs.js";

describe("notify: in a running schedule", () => {
  it("tells the command (event JSON on stdin, TDEFER_EVENT) and the webhook when a job fails for good", async () => {
    const bodies: unknown[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => {
        body += chunk;
      });
      req.on("end", () => {
        bodies.push(JSON.parse(body));
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const file = writeSchedule(`defaults:
  notify:
    webhook: http://127.0.0.1:${port}/hook/SECRET
jobs:
  backup:
    after: 0s
    run: echo dumping; echo disk full >&2; exit 4
    notify:
      when: [permanent_failure]
      run: 'echo "$TDEFER_EVENT $TDEFER_JOB" > event.txt; cat >> event.txt'
`);
      const result = await runCli(["run", file, "--log-format", "json"]);
      expect(result.code).toBe(0);
      const lines = readFileSync(join(dirname(file), "event.txt"), "utf8").split("\n");
      expect(lines[0]).toBe("permanent_failure backup");
      const event = JSON.parse(lines[1]!);
      expect(event).toMatchObject({
        event: "permanent_failure",
        job: "backup",
        exit_code: 4,
        result: "failed",
      });
      expect(event.output_tail).toEqual(["dumping", "! disk full"]);
      expect(bodies).toEqual([expect.objectContaining({ event: "permanent_failure", job: "backup" })]);
      expect(jsonEvents(result.stdout).filter((e) => e.event === "warning")).toEqual([]);
    } finally {
      server.close();
    }
  });

  it("logs a notifier that fails, and the run's schedule goes on; the URL's path is never logged", async () => {
    // A port nobody listens on: take a free one and let it go.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const file = writeSchedule(`jobs:
  flaky:
    after: 0s
    run: exit 1
    notify:
      run: exit 9
      webhook: http://127.0.0.1:${port}/hook/SECRET
`);
    const result = await runCli(["run", file, "--log-format", "json"]);
    expect(result.code).toBe(0);
    const warnings = jsonEvents(result.stdout).filter((e) => e.event === "warning");
    expect(warnings.map((w) => w.message).sort()).toEqual([
      "the notify command for permanent_failure failed: exit 9",
      expect.stringMatching(
        /^the webhook http:\/\/127\.0\.0\.1:\d+\/… for permanent_failure failed: ECONNREFUSED$/,
      ),
    ]);
    expect(result.stdout).not.toMatch(/SECRET/);
  }, 30_000);
});
