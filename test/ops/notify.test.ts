import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { VirtualClock } from "../../src/clock/virtual-clock.js";
import { formatJson } from "../../src/log/format-json.js";
import { eventsOfRunEnd, Notifier, type RunNotifyCommand, redactUrl } from "../../src/ops/notify.js";
import { Ops } from "../../src/ops/ops.js";
import type { RunEnd } from "../../src/ops/run-tracker.js";
import type { JobControl } from "../../src/ops/view.js";
import type { JobSpec, NotifySpec } from "../../src/schedule/types.js";
import { jobSpec } from "../helpers/jobs.js";
import { settle } from "../helpers/settle.js";

const T0 = Date.UTC(2026, 0, 1);

function runEnd(overrides: Partial<RunEnd> = {}): RunEnd {
  return {
    job: "backup",
    runId: "r1",
    result: "failed",
    final: true,
    attempt: 1,
    exitCode: 2,
    signal: null,
    error: undefined,
    durationMs: 1234,
    scheduledMs: T0,
    startedMs: T0,
    finishedMs: T0 + 1234,
    lateMs: 0,
    manual: false,
    outputTail: ["dumping", "! disk full"],
    ...overrides,
  };
}

/** A local HTTP server standing in for a chat service's webhook: answers each POST with the next status. */
async function webhookServer(statuses: number[]) {
  const bodies: unknown[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      bodies.push(JSON.parse(body));
      res.statusCode = statuses.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/T123/SECRET-TOKEN`,
    bodies,
    async received(count: number) {
      while (bodies.length < count) await new Promise((resolve) => setTimeout(resolve, 5));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

function notifierFor(
  notify: NotifySpec,
  runCommand: RunNotifyCommand = async () => ({ ok: true, detail: "" }),
) {
  const clock = new VirtualClock(T0);
  const warnings: string[] = [];
  const failures: string[] = [];
  const job: JobSpec = jobSpec("backup", { kind: "every", intervalMs: 60_000, now: false }, { notify });
  const notifier = new Notifier(
    {
      clock,
      runCommand,
      warn: (message, name) => warnings.push(`${name}: ${message}`),
      failed: (name, kind) => failures.push(`${name}/${kind}`),
      host: "box",
      schedule: "/etc/tdefer/schedules.yaml",
    },
    (name) => (name === "backup" ? job : undefined),
  );
  return { clock, notifier, warnings, failures };
}

describe("notifications", () => {
  it("name the events of a run's end: each failed attempt, the last as permanent, timeouts, successes", () => {
    expect(eventsOfRunEnd(runEnd({ final: false }))).toEqual(["failure"]);
    expect(eventsOfRunEnd(runEnd())).toEqual(["failure", "permanent_failure"]);
    expect(eventsOfRunEnd(runEnd({ result: "timed_out" }))).toEqual([
      "failure",
      "timeout",
      "permanent_failure",
    ]);
    expect(eventsOfRunEnd(runEnd({ result: "succeeded", exitCode: 0 }))).toEqual(["success"]);
  });

  it("POST the event as JSON to the webhook for a permanent failure (the default), nothing for a success", async () => {
    const hook = await webhookServer([]);
    cleanup = hook.close;
    const { notifier } = notifierFor({ when: ["permanent_failure"], webhook: hook.url });
    notifier.runEnded(runEnd({ result: "succeeded", exitCode: 0 }));
    notifier.runEnded(runEnd({ final: false }));
    notifier.runEnded(runEnd());
    await notifier.whenIdle();
    expect(hook.bodies).toEqual([
      expect.objectContaining({
        event: "permanent_failure",
        job: "backup",
        run: "r1",
        result: "failed",
        exit_code: 2,
        duration_ms: 1234,
        output_tail: ["dumping", "! disk full"],
        host: "box",
      }),
    ]);
  });

  it("retry a webhook that fails, with backoff on the clock, and stop at the first success", async () => {
    const hook = await webhookServer([500, 503, 200]);
    cleanup = hook.close;
    const { clock, notifier, warnings } = notifierFor({ when: ["permanent_failure"], webhook: hook.url });
    notifier.runEnded(runEnd());
    await hook.received(1);
    await settle();
    clock.advance(1_000);
    await hook.received(2);
    await settle();
    clock.advance(4_000);
    await hook.received(3);
    await notifier.whenIdle();
    expect(hook.bodies).toHaveLength(3);
    expect(warnings).toEqual([]);
  });

  it("log and count a webhook that keeps failing, without its URL's path (it holds the token)", async () => {
    const hook = await webhookServer([500, 500, 500]);
    cleanup = hook.close;
    const { clock, notifier, warnings, failures } = notifierFor({
      when: ["permanent_failure"],
      webhook: hook.url,
    });
    notifier.runEnded(runEnd());
    for (let tries = 1; tries <= 3; tries++) {
      await hook.received(tries);
      await settle();
      clock.advance(4_000);
    }
    await notifier.whenIdle();
    expect(failures).toEqual(["backup/webhook"]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^backup: the webhook http:\/\/127\.0\.0\.1:\d+\/… for permanent_failure failed: HTTP 500$/,
    );
    expect(warnings[0]).not.toMatch(/SECRET-TOKEN/);
  });

  it("give up on a webhook that does not answer after 10 s per try", async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    cleanup = async () => {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    };
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/x`;
    const { clock, notifier, warnings } = notifierFor({ when: ["permanent_failure"], webhook: url });
    notifier.runEnded(runEnd());
    for (let i = 0; i < 6; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      clock.advance(10_000);
    }
    await notifier.whenIdle();
    expect(warnings[0]).toMatch(/failed: no answer in 10 s$/);
  });

  it("run the command with the event on stdin and TDEFER_EVENT, and log its failure", async () => {
    const calls: { stdin: string; env: Readonly<Record<string, string>> }[] = [];
    const { notifier, warnings, failures } = notifierFor(
      { when: ["failure", "missed"], command: { kind: "argv", argv: ["/usr/local/bin/alert"] } },
      async (_command, options) => {
        calls.push(options);
        return { ok: false, detail: "exit 1: no route to pager" };
      },
    );
    notifier.runEnded(runEnd({ final: false }));
    notifier.missed("backup", 3);
    await notifier.whenIdle();
    expect(calls.map((call) => call.env.TDEFER_EVENT)).toEqual(["failure", "missed"]);
    expect(JSON.parse(calls[1]!.stdin)).toMatchObject({ event: "missed", job: "backup", count: 3 });
    expect(calls[0]!.env).toMatchObject({ TDEFER_JOB: "backup", TDEFER_RUN_ID: "r1", TDEFER_EXIT_CODE: "2" });
    expect(failures).toEqual(["backup/run", "backup/run"]);
    expect(warnings[0]).toBe("backup: the notify command for failure failed: exit 1: no route to pager");
  });

  it("tell of a run lost by a tdefer that died, from its run_lost log event", async () => {
    const calls: { stdin: string; env: Readonly<Record<string, string>> }[] = [];
    const clock = new VirtualClock(T0);
    const job = jobSpec(
      "backup",
      { kind: "every", intervalMs: 60_000, now: false },
      { notify: { when: ["lost"], command: { kind: "argv", argv: ["/usr/local/bin/alert"] } } },
    );
    const ops = new Ops({
      clock,
      control: { jobViews: () => [{ spec: job }] } as unknown as JobControl,
      formatEvent: formatJson,
      info: { version: "0.0.0-test", file: "/tmp/test.yaml", zone: "UTC", startedMs: T0, ledger: "none" },
      onError: (error) => {
        throw error;
      },
      notify: {
        runCommand: async (_command, options) => {
          calls.push(options);
          return { ok: true, detail: "" };
        },
        host: "box",
        schedule: "/etc/tdefer/schedules.yaml",
        warn: () => {},
      },
    });
    cleanup = () => ops.close();
    ops.observe({
      timeMs: T0,
      event: "run_lost",
      level: "warn",
      job: "backup",
      run: "r7",
      scheduledMs: T0 - 60_000,
      owner: "other:9",
      fence: 4,
      reason: "tdefer (other:9) stopped while the run was going",
    });
    await ops.notifier!.whenIdle();
    expect(calls.map((call) => call.env.TDEFER_EVENT)).toEqual(["lost"]);
    expect(JSON.parse(calls[0]!.stdin)).toMatchObject({
      event: "lost",
      job: "backup",
      run: "r7",
      reason: "tdefer (other:9) stopped while the run was going",
    });
  });

  it("show only the scheme and host of a URL", () => {
    expect(redactUrl("https://hooks.slack.com/services/T0/B0/xyz")).toBe("https://hooks.slack.com/…");
    expect(redactUrl("not a url")).toBe("(a webhook URL)");
  });
});
