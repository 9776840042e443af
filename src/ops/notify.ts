// Failure notifications (`notify:`): a command told on stdin, a webhook POSTed, for the events a job asks for.
// A notifier never blocks a fire nor another notifier; its own failure is logged and counted, never retried
// forever, and a webhook's URL is never logged whole (it often carries a token).
import type { Clock } from "../clock/clock.js";
import type { Command, JobSpec, NotifyWhen } from "../schedule/types.js";
import type { RunEnd } from "./run-tracker.js";

/** What a notifier is told: the same JSON on a command's stdin and in a webhook's body. */
export interface NotifyEvent {
  readonly event: NotifyWhen;
  readonly job: string;
  readonly run: string | null;
  readonly result: string | null;
  readonly exit_code: number | null;
  readonly signal: string | null;
  readonly attempt: number | null;
  readonly scheduled_at: string | null;
  readonly started_at: string | null;
  readonly finished_at: string | null;
  readonly duration_ms: number | null;
  /** Missed fires, for `missed`. */
  readonly count?: number;
  readonly reason?: string;
  readonly output_tail: readonly string[];
  readonly host: string;
  readonly schedule: string;
}

/** Runs a notifier command to its end; resolves with how it ended (tdefer's spawner, wired by the CLI). */
export type RunNotifyCommand = (
  command: Command,
  options: {
    readonly stdin: string;
    readonly env: Readonly<Record<string, string>>;
    readonly cwd: string;
    readonly timeoutMs: number;
  },
) => Promise<{ readonly ok: boolean; readonly detail: string }>;

/** POSTs a body; resolves with the status, rejects on a network error or when `signal` aborts. */
export type PostJson = (url: string, body: string, signal: AbortSignal) => Promise<number>;

export interface NotifierDeps {
  readonly clock: Clock;
  readonly runCommand: RunNotifyCommand;
  readonly post?: PostJson;
  readonly warn: (message: string, job: string) => void;
  readonly failed: (job: string, kind: "run" | "webhook") => void;
  readonly host: string;
  readonly schedule: string;
}

export const WEBHOOK_TIMEOUT_MS = 10_000;
export const WEBHOOK_TRIES = 3;
const WEBHOOK_BACKOFF_MS = [1_000, 4_000];
const COMMAND_TIMEOUT_MS = 60_000;
/** At most this many notifications go on at once; up to {@link MAX_QUEUED} more wait, the rest are dropped. */
const MAX_IN_FLIGHT = 8;
const MAX_QUEUED = 100;

/** `https://hooks.example/…`: a webhook URL as logs may show it. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}/…`;
  } catch {
    return "(a webhook URL)";
  }
}

/** The notification events a run's end stands for. */
export function eventsOfRunEnd(end: RunEnd): NotifyWhen[] {
  const events: NotifyWhen[] = [];
  if (end.result === "succeeded") {
    if (end.final) events.push("success");
    return events;
  }
  events.push("failure");
  if (end.result === "timed_out") events.push("timeout");
  if (end.final) events.push("permanent_failure");
  return events;
}

const globalPost: PostJson = async (url, body, signal) => {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "user-agent": "tdefer" },
    body,
    signal,
    redirect: "error",
  });
  await response.body?.cancel();
  return response.status;
};

/**
 * Sends notifications for the jobs that ask for them. Each goes on its own: a slow webhook or a hanging
 * command delays nothing else (in-flight work is bounded; beyond the queue, notifications are dropped with a
 * warning). Webhooks get 10 s per try and 3 tries with backoff, on the scheduler's clock.
 */
export class Notifier {
  private inFlight = 0;
  private readonly queue: (() => Promise<void>)[] = [];
  private readonly post: PostJson;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly deps: NotifierDeps,
    private readonly jobOf: (name: string) => JobSpec | undefined,
  ) {
    this.post = deps.post ?? globalPost;
  }

  /** A run (or an attempt of it) ended. */
  runEnded(end: RunEnd): void {
    for (const event of eventsOfRunEnd(end)) {
      this.notify(event, end.job, {
        run: end.runId,
        result: end.result,
        exit_code: end.exitCode,
        signal: end.signal,
        attempt: end.attempt,
        scheduled_at: new Date(end.scheduledMs).toISOString(),
        started_at: new Date(end.startedMs).toISOString(),
        finished_at: new Date(end.finishedMs).toISOString(),
        duration_ms: Math.round(end.durationMs),
        ...(end.error !== undefined ? { reason: end.error } : {}),
        output_tail: end.outputTail,
      });
    }
  }

  /** Fires of a job were missed (tdefer was down, or the clock jumped past them). */
  missed(job: string, count: number): void {
    this.notify("missed", job, { count });
  }

  /** A run was lost: its owner died while it ran. */
  lost(job: string, run: string | null, reason: string): void {
    this.notify("lost", job, { run, reason });
  }

  /** Resolves when no notification is going on or waiting (for a clean stop, and tests). */
  whenIdle(): Promise<void> {
    if (this.inFlight === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private notify(event: NotifyWhen, jobName: string, fields: Partial<NotifyEvent>): void {
    const spec = this.jobOf(jobName)?.notify;
    if (!spec?.when.includes(event)) return;
    const body: NotifyEvent = {
      event,
      job: jobName,
      run: null,
      result: null,
      exit_code: null,
      signal: null,
      attempt: null,
      scheduled_at: null,
      started_at: null,
      finished_at: null,
      duration_ms: null,
      output_tail: [],
      ...fields,
      host: this.deps.host,
      schedule: this.deps.schedule,
    };
    const json = JSON.stringify(body);
    if (spec.command) {
      const command = spec.command;
      const cwd = this.jobOf(jobName)!.cwd;
      this.enqueue(jobName, () => this.runCommand(command, cwd, body, json));
    }
    if (spec.webhook !== undefined) {
      const url = spec.webhook;
      this.enqueue(jobName, () => this.sendWebhook(url, body, json));
    }
  }

  private enqueue(job: string, work: () => Promise<void>): void {
    if (this.inFlight >= MAX_IN_FLIGHT) {
      if (this.queue.length >= MAX_QUEUED) {
        this.deps.warn(`notification dropped: ${MAX_QUEUED} are already waiting`, job);
        return;
      }
      this.queue.push(work);
      return;
    }
    this.start(work);
  }

  private start(work: () => Promise<void>): void {
    this.inFlight++;
    work()
      .catch(() => {})
      .finally(() => {
        this.inFlight--;
        const next = this.queue.shift();
        if (next) this.start(next);
        else if (this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
      });
  }

  private async runCommand(command: Command, cwd: string, event: NotifyEvent, json: string): Promise<void> {
    const env: Record<string, string> = {
      TDEFER_EVENT: event.event,
      TDEFER_JOB: event.job,
      ...(event.run !== null ? { TDEFER_RUN_ID: event.run } : {}),
      ...(event.scheduled_at !== null ? { TDEFER_SCHEDULED_AT: event.scheduled_at } : {}),
      ...(event.exit_code !== null ? { TDEFER_EXIT_CODE: String(event.exit_code) } : {}),
      ...(event.result !== null ? { TDEFER_RESULT: event.result } : {}),
    };
    let outcome: { ok: boolean; detail: string };
    try {
      outcome = await this.deps.runCommand(command, {
        stdin: `${json}\n`,
        env,
        cwd,
        timeoutMs: COMMAND_TIMEOUT_MS,
      });
    } catch (error) {
      outcome = { ok: false, detail: (error as Error).message };
    }
    if (!outcome.ok) {
      this.deps.failed(event.job, "run");
      this.deps.warn(`the notify command for ${event.event} failed: ${outcome.detail}`, event.job);
    }
  }

  private async sendWebhook(url: string, event: NotifyEvent, json: string): Promise<void> {
    let problem = "";
    for (let attempt = 1; attempt <= WEBHOOK_TRIES; attempt++) {
      const controller = new AbortController();
      const timer = this.deps.clock.callLater(WEBHOOK_TIMEOUT_MS, () => controller.abort());
      try {
        const status = await this.post(url, json, controller.signal);
        if (status >= 200 && status < 300) return;
        problem = `HTTP ${status}`;
        // A client error will not change on a retry.
        if (status >= 400 && status < 500 && status !== 408 && status !== 429) break;
      } catch (error) {
        problem = controller.signal.aborted
          ? `no answer in ${WEBHOOK_TIMEOUT_MS / 1000} s`
          : // The cause names the failure (ECONNREFUSED…) and at most host:port, never the URL's path.
            ((error as { cause?: { code?: string; message?: string } }).cause?.code ??
            (error as { cause?: { message?: string } }).cause?.message ??
            "the request failed");
      } finally {
        if (timer.active()) timer.cancel();
      }
      const backoffMs = WEBHOOK_BACKOFF_MS[attempt - 1];
      if (attempt < WEBHOOK_TRIES && backoffMs !== undefined) {
        await new Promise<void>((resolve) => this.deps.clock.callLater(backoffMs, resolve));
      }
    }
    this.deps.failed(event.job, "webhook");
    this.deps.warn(`the webhook ${redactUrl(url)} for ${event.event} failed: ${problem}`, event.job);
  }
}
