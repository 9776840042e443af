import { VirtualClock } from "../../src/clock/virtual-clock.js";
import type { LogEvent, LogEventInput } from "../../src/log/events.js";
import { formatJson } from "../../src/log/format-json.js";
import { Ops } from "../../src/ops/ops.js";
import type { JobSpec } from "../../src/schedule/types.js";
import { Scheduler } from "../../src/scheduler/scheduler.js";
import { scheduleOf } from "../helpers/jobs.js";
import { outputLinesEvent } from "../helpers/output-lines.js";

export const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);

/** A run the test ends when it wants, logging what a real run logs. */
export interface FakeRun {
  readonly job: string;
  readonly runId: string;
  output(line: string, stream?: "stdout" | "stderr"): void;
  /** Several whole lines ("\n"-terminated) in one output_lines event, as the CLI's runs log them. */
  outputLines(text: string, stream?: "stdout" | "stderr"): void;
  finish(exitCode: number, durationMs?: number): void;
}

/**
 * A scheduler on a virtual clock whose runs are fakes, with operations (tracker, metrics, HTTP) fed its
 * events, as `tdefer run --http` wires them. The HTTP server is real, on an ephemeral loopback port.
 */
export async function opsHarness(
  jobs: JobSpec[],
  options: { token?: string; host?: string; ledgerProblem?: () => string | undefined } = {},
) {
  const clock = new VirtualClock(T0);
  const events: LogEvent[] = [];
  const runs: FakeRun[] = [];
  let ops!: Ops;
  const emit = (event: LogEvent) => {
    events.push(event);
    ops.observe(event);
  };
  const emitNow = (event: LogEventInput) => emit({ timeMs: clock.wallNow(), ...event } as LogEvent);
  let ids = 0;
  const scheduler = new Scheduler({
    clock,
    emit,
    newRunId: () => `r${++ids}`,
    startRun: (job, context) => {
      let resolve!: (value: { killedHard: boolean }) => void;
      const done = new Promise<{ killedHard: boolean }>((r) => {
        resolve = r;
      });
      const startedMs = clock.wallNow();
      emitNow({
        event: "started",
        level: "info",
        job: job.name,
        run: context.runId,
        pid: 1000 + ids,
        scheduledMs: context.scheduledMs,
        lateMs: startedMs - context.scheduledMs,
        attempt: 1,
      });
      const run: FakeRun = {
        job: job.name,
        runId: context.runId,
        output: (line, stream = "stdout") =>
          emitNow({ event: "output", level: "info", job: job.name, run: context.runId, stream, line }),
        outputLines: (text, stream = "stdout") =>
          emit(
            outputLinesEvent({
              timeMs: clock.wallNow(),
              job: job.name,
              run: context.runId,
              stream,
              lines: text,
            }),
          ),
        finish: (exitCode, durationMs = 100) => {
          emitNow({
            event: "finished",
            level: exitCode === 0 ? "info" : "error",
            job: job.name,
            run: context.runId,
            exitCode,
            signal: null,
            durationMs,
            attempt: 1,
          });
          resolve({ killedHard: false });
        },
      };
      runs.push(run);
      return { done, stop: () => run.finish(143), kill: () => run.finish(137) };
    },
  });
  ops = new Ops({
    clock,
    control: scheduler,
    formatEvent: formatJson,
    ...(options.ledgerProblem ? { ledgerHealth: options.ledgerProblem } : {}),
    info: { version: "0.0.0-test", file: "/tmp/test.yaml", zone: "UTC", startedMs: T0, ledger: "none" },
    onError: (error) => {
      throw error;
    },
  });
  const bound = await ops.listen({ host: options.host ?? "127.0.0.1", port: 0 }, options.token);
  const base = `http://127.0.0.1:${bound.port}`;
  scheduler.start(scheduleOf(jobs));
  ops.setReady(true);
  return {
    clock,
    events,
    runs,
    scheduler,
    ops,
    base,
    /** A request to the server; JSON answers parsed. */
    async request(path: string, init: RequestInit = {}) {
      const response = await fetch(base + path, init);
      const text = await response.text();
      let body: unknown = text;
      if ((response.headers.get("content-type") ?? "").startsWith("application/json"))
        body = JSON.parse(text);
      // biome-ignore lint/suspicious/noExplicitAny: tests check the answers field by field
      return { status: response.status, headers: response.headers, body: body as any };
    },
    close: () => ops.close(),
  };
}
