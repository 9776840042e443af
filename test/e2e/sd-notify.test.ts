import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DgramSocket } from "node-unix-socket";
import { describe, expect, it } from "vitest";
import { CliProcess } from "../helpers/cli.js";
import { writeSchedule } from "../helpers/procs.js";

/** Waits until `messages` has one matching `pattern`. */
async function waitForMessage(
  messages: string[],
  pattern: RegExp,
  from = 0,
  timeoutMs = 10_000,
): Promise<string> {
  const started = Date.now();
  for (;;) {
    const found = messages.slice(from).find((message) => pattern.test(message));
    if (found) return found;
    if (Date.now() - started > timeoutMs)
      throw new Error(`no message like ${pattern}; got ${JSON.stringify(messages)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("tdefer run under systemd (Type=notify)", () => {
  it("says READY with a status, pings the watchdog, reloads with RELOADING then READY, and says STOPPING", async () => {
    const socketPath = join(mkdtempSync(join(tmpdir(), "tdefer-sd-")), "notify");
    const systemd = new DgramSocket();
    systemd.bind(socketPath);
    const messages: string[] = [];
    systemd.on("data", (data: Buffer) => messages.push(data.toString()));
    const file = writeSchedule(`jobs:
  env:
    every: 1s
    run: echo "socket=\${NOTIFY_SOCKET:-unset} watchdog=\${WATCHDOG_USEC:-unset}"
`);
    const cli = new CliProcess(["run", file], {
      env: { NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: "400000" },
    });
    try {
      expect(await waitForMessage(messages, /^READY=1/)).toMatch(
        /^READY=1\nSTATUS=1 job, 0 running, next env at \d\d:\d\d$/,
      );
      await cli.waitFor("socket=unset watchdog=unset");
      while (messages.filter((m) => m === "WATCHDOG=1").length < 3)
        await new Promise((r) => setTimeout(r, 50));
      const before = messages.length;
      cli.child.kill("SIGHUP");
      await waitForMessage(messages, /^RELOADING=1\nMONOTONIC_USEC=\d+/, before);
      await waitForMessage(messages, /^READY=1/, before);
      cli.child.kill("SIGTERM");
      await waitForMessage(messages, /^STOPPING=1/);
      expect((await cli.exited).code).toBe(0);
    } finally {
      cli.child.kill("SIGKILL");
      systemd.close();
    }
  });

  it("runs on, saying why, when NOTIFY_SOCKET cannot be used", async () => {
    const file = writeSchedule(`jobs:
  once:
    after: 0s
    run: echo done
`);
    const cli = new CliProcess(["run", file, "--log-format", "json"], {
      env: { NOTIFY_SOCKET: "not/absolute" },
    });
    const result = await cli.exited;
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /"message":"sd_notify is off: NOTIFY_SOCKET=not\/absolute is neither a path/,
    );
    expect(result.stdout).toMatch(/done/);
  });
});
