// What each HTTP path answers: the JSON API, the health and readiness checks, the metrics, the page.
import type { ServerResponse } from "node:http";
import type { JobSpec } from "../schedule/types.js";
import { describeTrigger } from "../scheduler/describe-trigger.js";
import type { EventStream } from "./event-stream.js";
import { type Handler, HttpError, type HttpRequest, sendJson, sendText } from "./http.js";
import type { Metrics } from "./metrics.js";
import { renderPage, renderPageContent } from "./page/page.js";
import type { RunEnd, RunTracker } from "./run-tracker.js";
import type { DaemonInfo, JobControl, JobView } from "./view.js";

/** A finished run as the API and the page show it (keys in snake_case, instants in RFC 3339). */
export interface RunJson {
  readonly job: string;
  readonly run: string;
  readonly trigger: string;
  readonly result: string;
  readonly exit_code: number | null;
  readonly signal: string | null;
  readonly scheduled_at: string;
  readonly started_at: string | null;
  readonly finished_at: string | null;
  readonly duration_ms: number | null;
  readonly late_ms: number | null;
  readonly attempts: number;
  /** The tdefer that claimed the fire (`host:pid`), when the runs come from the ledger. */
  readonly owner?: string;
  readonly reason?: string;
  readonly output_tail?: readonly string[];
}

export interface RunQuery {
  readonly job: string | undefined;
  readonly failed: boolean;
  readonly limit: number;
}

/** Where recent runs come from: the ledger when there is one, else what this process saw. */
export type RunHistory = (query: RunQuery) => Promise<readonly RunJson[]> | readonly RunJson[];

/** Whether the daemon is healthy (the loop turns, the ledger answers) and ready (the schedule is armed). */
export interface Probes {
  health(): { readonly ok: true } | { readonly ok: false; readonly reason: string };
  ready(): boolean;
}

export interface ApiDeps {
  readonly control: JobControl;
  readonly tracker: RunTracker;
  readonly metrics: Metrics;
  readonly events: EventStream;
  readonly history: RunHistory;
  readonly probes: Probes;
  readonly info: DaemonInfo;
  readonly wallNow: () => number;
}

const JOB_PATH = /^\/api\/v1\/jobs\/([^/]+)(?:\/(run|pause|resume))?$/;

/** How long a rendered /metrics or /api/v1/jobs body answers every client that asks for it. */
export const METRICS_REUSE_MS = 1_000;
export const JOBS_REUSE_MS = 250;

/**
 * Renders at most once per `reuseMs` of wall time, whatever the number of clients: the rendering runs on the loop
 * that fires the jobs, so its cost must not grow with the clients. A clock step backwards renders anew; `forget`
 * makes the next request render (after a POST changed what it shows).
 */
export function reusedFor<T>(reuseMs: number, wallNow: () => number, render: () => T) {
  let renderedAtMs = Number.NEGATIVE_INFINITY;
  let last: T | undefined;
  return {
    get(): T {
      const nowMs = wallNow();
      if (last === undefined || nowMs - renderedAtMs >= reuseMs || nowMs < renderedAtMs) {
        last = render();
        renderedAtMs = nowMs;
      }
      return last;
    },
    forget(): void {
      last = undefined;
    },
  };
}

/** The request handler for the ops server. */
export function createApi(deps: ApiDeps): Handler {
  const metricsText = reusedFor(METRICS_REUSE_MS, deps.wallNow, () => deps.metrics.text());
  const jobsText = reusedFor(JOBS_REUSE_MS, deps.wallNow, () => {
    const now = deps.wallNow();
    return `${JSON.stringify({ jobs: deps.control.jobViews().map((view) => jobJson(view, deps, now)) })}\n`;
  });
  return async (request: HttpRequest, res: ServerResponse): Promise<void> => {
    const { method, path, query } = request;
    switch (path) {
      case "/healthz": {
        allow(method, ["GET", "HEAD"]);
        const health = deps.probes.health();
        sendJson(
          res,
          health.ok ? 200 : 503,
          health.ok ? { status: "ok" } : { status: "unhealthy", reason: health.reason },
        );
        return;
      }
      case "/readyz": {
        allow(method, ["GET", "HEAD"]);
        const ready = deps.probes.ready();
        sendJson(res, ready ? 200 : 503, { status: ready ? "ready" : "not ready" });
        return;
      }
      case "/metrics": {
        allow(method, ["GET", "HEAD"]);
        sendText(res, 200, deps.metrics.contentType, await metricsText.get());
        return;
      }
      case "/":
      case "/index.html": {
        allow(method, ["GET", "HEAD"]);
        const data = await pageData(deps);
        if (query.get("fragment") === "content") {
          sendText(res, 200, "text/html; charset=utf-8", renderPageContent(data));
          return;
        }
        const page = renderPage(data);
        sendText(res, 200, "text/html; charset=utf-8", page.html, {
          "content-security-policy": `default-src 'none'; script-src 'nonce-${page.nonce}'; style-src 'nonce-${page.nonce}'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`,
          "referrer-policy": "no-referrer",
        });
        return;
      }
      case "/api/v1/jobs": {
        allow(method, ["GET", "HEAD"]);
        sendText(res, 200, "application/json; charset=utf-8", jobsText.get());
        return;
      }
      case "/api/v1/runs": {
        allow(method, ["GET", "HEAD"]);
        sendJson(res, 200, { runs: await deps.history(runQueryOf(query)) });
        return;
      }
      case "/api/v1/events": {
        allow(method, ["GET"]);
        const job = query.get("job") ?? undefined;
        if (job !== undefined) findJob(deps, job);
        if (!deps.events.subscribe(res, job)) {
          throw new HttpError(503, "too many event streams are open; try again later", {
            "retry-after": "10",
          });
        }
        return;
      }
    }
    const match = JOB_PATH.exec(path);
    if (!match)
      throw new HttpError(
        404,
        `nothing at ${path}; see /api/v1/jobs, /api/v1/runs, /api/v1/events, /metrics`,
      );
    const name = decodeName(match[1]!);
    const action = match[2];
    if (action === undefined) {
      allow(method, ["GET", "HEAD"]);
      sendJson(res, 200, jobJson(findJob(deps, name), deps, deps.wallNow()));
      return;
    }
    allow(method, ["POST"]);
    findJob(deps, name);
    jobsText.forget();
    metricsText.forget();
    if (action === "run") {
      const outcome = deps.control.runNow(name)!;
      if (outcome.outcome === "started") deps.tracker.markManual(outcome.runId);
      if (outcome.outcome === "refused") throw new HttpError(409, `${name} was not run: ${outcome.reason}`);
      sendJson(
        res,
        202,
        outcome.outcome === "started"
          ? { job: name, status: "started", run: outcome.runId }
          : { job: name, status: "queued" },
      );
      return;
    }
    if (action === "pause") deps.control.pause(name);
    else deps.control.resume(name);
    sendJson(res, 200, { job: name, paused: action === "pause" });
  };
}

function allow(method: string, methods: readonly string[]): void {
  if (!methods.includes(method)) {
    throw new HttpError(405, `${method} is not allowed here; use ${methods.join(" or ")}`, {
      allow: methods.join(", "),
    });
  }
}

function decodeName(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new HttpError(400, "the job name in the URL is not valid percent-encoding");
  }
}

function findJob(deps: ApiDeps, name: string): JobView {
  const view = deps.control.jobViews().find((candidate) => candidate.spec.name === name);
  if (!view) throw new HttpError(404, `no job named "${name}"; GET /api/v1/jobs lists them`);
  return view;
}

function runQueryOf(query: URLSearchParams): RunQuery {
  const limitText = query.get("limit");
  const limit = limitText === null ? 50 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new HttpError(400, "limit must be a whole number from 1 to 1000");
  }
  const failedText = query.get("failed");
  if (failedText !== null && !["", "true", "false", "1", "0"].includes(failedText)) {
    throw new HttpError(400, "failed must be true or false");
  }
  return {
    job: query.get("job") ?? undefined,
    failed: failedText === "" || failedText === "true" || failedText === "1",
    limit,
  };
}

/** A job as GET /api/v1/jobs shows it. */
export function jobJson(view: JobView, deps: Pick<ApiDeps, "tracker" | "info">, nowMs: number) {
  const { spec } = view;
  const record = deps.tracker.jobRecord(spec.name, nowMs);
  return {
    name: spec.name,
    trigger: describeTrigger(spec),
    trigger_kind: spec.trigger.kind,
    zone: zoneOf(spec, deps.info.zone),
    description: spec.description ?? null,
    enabled: spec.enabled,
    paused: view.paused,
    overlap: spec.overlap,
    next_fire: view.nextMs === undefined ? null : new Date(view.nextMs).toISOString(),
    running: view.running.map((run) => ({
      run: run.runId,
      scheduled_at: new Date(run.scheduledMs).toISOString(),
      started_at: new Date(run.launchedMs).toISOString(),
    })),
    last_result: record.lastEnd ? runEndJson(record.lastEnd) : null,
    last_success_at: record.lastSuccessMs === undefined ? null : new Date(record.lastSuccessMs).toISOString(),
    last_24h: record.last24h,
  };
}

export type JobJson = ReturnType<typeof jobJson>;

/** A run this process saw end, in the API's shape. */
export function runEndJson(end: RunEnd): RunJson {
  return {
    job: end.job,
    run: end.runId,
    trigger: end.manual ? "manual" : "schedule",
    result: end.result,
    exit_code: end.exitCode,
    signal: end.signal,
    scheduled_at: new Date(end.scheduledMs).toISOString(),
    started_at: new Date(end.startedMs).toISOString(),
    finished_at: new Date(end.finishedMs).toISOString(),
    duration_ms: Math.round(end.durationMs),
    late_ms: end.lateMs,
    attempts: end.attempt,
    ...(end.error !== undefined ? { reason: end.error } : {}),
  };
}

/** Recent runs from what this process saw (when there is no ledger). */
export function trackerHistory(tracker: RunTracker): RunHistory {
  return (query) =>
    tracker
      .recentRuns()
      .filter(
        (end) =>
          (query.job === undefined || end.job === query.job) && (!query.failed || end.result !== "succeeded"),
      )
      .slice(0, query.limit)
      .map(runEndJson);
}

/** The zone a job's times are shown in: its own for cron and at, the file's otherwise. */
export function zoneOf(spec: JobSpec, fileZone: string): string {
  return spec.trigger.kind === "cron" || spec.trigger.kind === "at" ? spec.trigger.zone : fileZone;
}

/** Everything the page shows, gathered once per request. */
export interface PageData {
  readonly info: DaemonInfo;
  readonly nowMs: number;
  readonly jobs: readonly JobJson[];
  readonly views: readonly JobView[];
  readonly runs: readonly RunJson[];
}

async function pageData(deps: ApiDeps): Promise<PageData> {
  const nowMs = deps.wallNow();
  const views = deps.control.jobViews();
  return {
    info: deps.info,
    nowMs,
    views,
    jobs: views.map((view) => jobJson(view, deps, nowMs)),
    runs: await deps.history({ job: undefined, failed: false, limit: 30 }),
  };
}
