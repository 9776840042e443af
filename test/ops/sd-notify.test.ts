import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DgramSocket } from "node-unix-socket";
import { afterEach, describe, expect, it } from "vitest";
import { VirtualClock } from "../../src/clock/virtual-clock.js";
import {
  monotonicUsec,
  openNotifySocket,
  SystemdNotifier,
  statusLine,
  watchdogIntervalMs,
} from "../../src/ops/sd-notify.js";
import type { JobView } from "../../src/ops/view.js";
import { jobSpec } from "../helpers/jobs.js";

const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);

/** A real unix datagram socket in a temporary folder, standing in for systemd's. */
function systemdSocket() {
  const path = join(mkdtempSync(join(tmpdir(), "tdefer-notify-")), "notify");
  const socket = new DgramSocket();
  socket.bind(path);
  const messages: string[] = [];
  socket.on("data", (data: Buffer) => messages.push(data.toString()));
  return {
    path,
    messages,
    /** Resolves once `count` messages arrived. */
    async received(count: number): Promise<string[]> {
      const started = Date.now();
      while (messages.length < count) {
        if (Date.now() - started > 5000) throw new Error(`only ${messages.length} messages: ${messages}`);
        await new Promise((resolve) => setImmediate(resolve));
      }
      return messages;
    },
    close: () => socket.close(),
  };
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function views(list: Partial<JobView>[]): { jobViews: () => JobView[] } {
  return {
    jobViews: () =>
      list.map((view, i) => ({
        spec: jobSpec(`job${i}`, { kind: "every", intervalMs: 1000, now: false }),
        paused: false,
        nextMs: undefined,
        running: [],
        ...view,
      })),
  };
}

describe("sd_notify", () => {
  it("is off when NOTIFY_SOCKET is not set", async () => {
    expect(await openNotifySocket({}, () => {})).toBeUndefined();
  });

  it("refuses a NOTIFY_SOCKET that is neither a path nor an abstract name", async () => {
    await expect(openNotifySocket({ NOTIFY_SOCKET: "relative/sock" }, () => {})).rejects.toThrow(
      /neither a path/,
    );
  });

  it("tells a real datagram socket READY with a status line, pings the watchdog on the clock, and says STOPPING", async () => {
    const systemd = systemdSocket();
    cleanups.push(systemd.close);
    const socket = (await openNotifySocket({ NOTIFY_SOCKET: systemd.path }, (error) => {
      throw error;
    }))!;
    const clock = new VirtualClock(T0);
    const notifier = new SystemdNotifier({
      socket,
      clock,
      control: views([
        {
          nextMs: T0 + 3 * 3_600_000,
          spec: jobSpec("backup", { kind: "cron", expression: "0 3 * * *", zone: "UTC" }),
        },
      ]),
      zone: "UTC",
      watchdogMs: 30_000,
      wallNow: () => clock.wallNow(),
    });
    cleanups.push(() => notifier.close());
    notifier.ready();
    expect(await systemd.received(2)).toEqual([
      "READY=1\nSTATUS=1 job, 0 running, next backup at 03:00",
      "WATCHDOG=1",
    ]);
    clock.advance(15_000);
    await systemd.received(3);
    expect(systemd.messages[2]).toBe("WATCHDOG=1");
    notifier.reloading();
    await systemd.received(4);
    expect(systemd.messages[3]).toMatch(/^RELOADING=1\nMONOTONIC_USEC=\d+\n/);
    notifier.stopping();
    await systemd.received(5);
    expect(systemd.messages[4]).toMatch(/^STOPPING=1/);
    clock.advance(60_000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(systemd.messages.filter((m) => m === "WATCHDOG=1")).toHaveLength(2);
  });

  it("reaches an abstract socket (@name)", async () => {
    const name = `tdefer-test-${process.pid}-${Date.now()}`;
    const receiver = new DgramSocket();
    receiver.bind(`\0${name}`);
    const got = new Promise<string>((resolve) =>
      receiver.on("data", (data: Buffer) => resolve(data.toString())),
    );
    const socket = (await openNotifySocket({ NOTIFY_SOCKET: `@${name}` }, () => {}))!;
    socket.send("READY=1");
    expect(await got).toBe("READY=1");
    socket.close();
    receiver.close();
  });

  it("reads WATCHDOG_USEC, and ignores it when WATCHDOG_PID names another process", () => {
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "30000000" }, 42)).toBe(30_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "30000000", WATCHDOG_PID: "42" }, 42)).toBe(30_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "30000000", WATCHDOG_PID: "7" }, 42)).toBeUndefined();
    expect(watchdogIntervalMs({}, 42)).toBeUndefined();
  });

  it("gives MONOTONIC_USEC on CLOCK_MONOTONIC (as /proc/uptime counts, give or take)", () => {
    expect(Number(monotonicUsec()) / 1e6).toBeGreaterThan(0);
  });

  it("sums the schedule up in one line", () => {
    const tomorrow = T0 + 30 * 3_600_000;
    const line = statusLine(
      views([
        { running: [{ runId: "a", scheduledMs: T0, launchedMs: T0 }] },
        { paused: true },
        { nextMs: tomorrow },
      ]),
      "UTC",
      T0,
    );
    expect(line).toBe("3 jobs, 1 running, 1 paused, next job2 at 2026-01-02 06:00");
  });
});
