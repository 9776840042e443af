// The Prometheus metrics: the only importer of prom-client. Counters follow the log events; gauges are read
// from the scheduler's view at each scrape. Labels are job names and fixed words, never a command line.
import { constants as osConstants } from "node:os";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { LogEvent } from "../log/events.js";
import { outputLineCount } from "../log/output-lines.js";
import type { JobSpec } from "../schedule/types.js";
import type { RunEnd, RunTracker } from "./run-tracker.js";
import type { JobControl } from "./view.js";

/** The `reason` label of tdefer_job_skipped_total. */
export type SkipReason = "overlap" | "max_parallel" | "missed" | "claimed_elsewhere" | "other";

const DURATION_BUCKETS_S = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600];
const FIRE_DELAY_BUCKETS_S = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30];

export interface MetricsDeps {
  readonly control: JobControl;
  readonly tracker: RunTracker;
  readonly version: string;
  /** The schedule file's zone: the zone of `every` and `after` jobs. */
  readonly zone: string;
}

/** The metric set of tdefer, on a registry of its own (several daemons in one test process stay apart). */
export class Metrics {
  readonly registry = new Registry();
  readonly contentType = this.registry.contentType;
  private readonly runsTotal: Counter<"job" | "result">;
  private readonly skippedTotal: Counter<"job" | "reason">;
  private readonly retriesTotal: Counter<"job">;
  private readonly duration: Histogram<"job">;
  private readonly fireDelay: Histogram;
  private readonly lastRun: Gauge<"job">;
  private readonly lastSuccess: Gauge<"job">;
  private readonly lastExitCode: Gauge<"job">;
  private readonly clockJumps: Counter;
  private readonly reloads: Counter<"result">;
  /** Lines of job output by stream, counted as plain numbers: the hot path costs an increment. */
  private readonly lineCounts = { stdout: 0, stderr: 0 };
  private readonly notifyFailures: Counter<"job" | "kind">;
  readonly claims: Counter<"result">;
  readonly leaseLost: Counter;
  readonly catchupRuns: Counter<"job">;
  readonly lostRuns: Counter<"job">;

  constructor(deps: MetricsDeps) {
    const registers = [this.registry];
    const { control } = deps;
    new Gauge({
      name: "tdefer_job_info",
      help: "Each job of the running schedule (always 1), with its trigger, zone and overlap rule.",
      labelNames: ["job", "trigger", "timezone", "overlap"],
      registers,
      collect() {
        this.reset();
        for (const { spec } of control.jobViews()) {
          this.set(
            {
              job: spec.name,
              trigger: spec.trigger.kind,
              timezone: zoneOf(spec, deps.zone),
              overlap: spec.overlap,
            },
            1,
          );
        }
      },
    });
    new Gauge({
      name: "tdefer_job_running",
      help: "Runs of the job going on now.",
      labelNames: ["job"],
      registers,
      collect() {
        this.reset();
        for (const view of control.jobViews()) this.set({ job: view.spec.name }, view.running.length);
      },
    });
    new Gauge({
      name: "tdefer_job_next_run_timestamp_seconds",
      help: "When the job fires next (Unix time); absent when it has no fire ahead or is paused.",
      labelNames: ["job"],
      registers,
      collect() {
        this.reset();
        for (const view of control.jobViews()) {
          if (view.nextMs !== undefined) this.set({ job: view.spec.name }, view.nextMs / 1000);
        }
      },
    });
    new Gauge({
      name: "tdefer_job_paused",
      help: "1 while the job's trigger is paused.",
      labelNames: ["job"],
      registers,
      collect() {
        this.reset();
        for (const view of control.jobViews()) this.set({ job: view.spec.name }, view.paused ? 1 : 0);
      },
    });
    this.runsTotal = new Counter({
      name: "tdefer_job_runs_total",
      help: "Runs that ended, by result (succeeded, failed, timed_out, killed); retries folded in.",
      labelNames: ["job", "result"],
      registers,
    });
    this.duration = new Histogram({
      name: "tdefer_job_duration_seconds",
      help: "How long each attempt of a job ran.",
      labelNames: ["job"],
      buckets: DURATION_BUCKETS_S,
      registers,
    });
    this.lastRun = new Gauge({
      name: "tdefer_job_last_run_timestamp_seconds",
      help: "When the job's last run ended (Unix time).",
      labelNames: ["job"],
      registers,
    });
    this.lastSuccess = new Gauge({
      name: "tdefer_job_last_success_timestamp_seconds",
      help: "When the job last ended successfully (Unix time).",
      labelNames: ["job"],
      registers,
    });
    this.lastExitCode = new Gauge({
      name: "tdefer_job_last_exit_code",
      help: "The exit status of the job's last run (128+N when signal N ended it, 127 when it could not start).",
      labelNames: ["job"],
      registers,
    });
    this.skippedTotal = new Counter({
      name: "tdefer_job_skipped_total",
      help: "Fires that did not run, by reason (overlap, max_parallel, missed, claimed_elsewhere, other).",
      labelNames: ["job", "reason"],
      registers,
    });
    this.retriesTotal = new Counter({
      name: "tdefer_job_retries_total",
      help: "Retried attempts.",
      labelNames: ["job"],
      registers,
    });
    this.fireDelay = new Histogram({
      name: "tdefer_fire_delay_seconds",
      help: "From a fire's scheduled time to its process start.",
      buckets: FIRE_DELAY_BUCKETS_S,
      registers,
    });
    this.claims = new Counter({
      name: "tdefer_claims_total",
      help: "Claims of fires in the ledger, by result (won, lost).",
      labelNames: ["result"],
      registers,
    });
    this.leaseLost = new Counter({
      name: "tdefer_lease_lost_total",
      help: "Runs ended because their lease in the ledger was lost.",
      registers,
    });
    this.catchupRuns = new Counter({
      name: "tdefer_catchup_runs_total",
      help: "Runs of fires missed while tdefer was down, made up at start.",
      labelNames: ["job"],
      registers,
    });
    this.lostRuns = new Counter({
      name: "tdefer_runs_lost_total",
      help: "Runs found in flight after their owner died and their lease ended, recorded lost (on_lost: abandon).",
      labelNames: ["job"],
      registers,
    });
    this.clockJumps = new Counter({
      name: "tdefer_clock_jumps_total",
      help: "Steps of the wall clock against elapsed time.",
      registers,
    });
    this.reloads = new Counter({
      name: "tdefer_config_reloads_total",
      help: "Schedule reloads (SIGHUP), by result (applied, refused).",
      labelNames: ["result"],
      registers,
    });
    const lineCounts = this.lineCounts;
    new Counter({
      name: "tdefer_log_lines_total",
      help: "Lines of job output, by stream.",
      labelNames: ["stream"],
      registers,
      collect() {
        this.reset();
        this.inc({ stream: "stdout" }, lineCounts.stdout);
        this.inc({ stream: "stderr" }, lineCounts.stderr);
      },
    });
    this.notifyFailures = new Counter({
      name: "tdefer_notify_failures_total",
      help: "Notifications that could not be delivered, by kind (run, webhook).",
      labelNames: ["job", "kind"],
      registers,
    });
    const build = new Gauge({
      name: "tdefer_build_info",
      help: "The running tdefer (always 1).",
      labelNames: ["version", "node"],
      registers,
    });
    build.set({ version: deps.version, node: process.version }, 1);
    collectDefaultMetrics({ register: this.registry });
    // Gauges that prom-client names *_total, which `promtool check metrics` rejects; the process metrics stay.
    for (const name of [
      "nodejs_active_handles_total",
      "nodejs_active_requests_total",
      "nodejs_active_resources_total",
    ]) {
      this.registry.removeSingleMetric(name);
    }
    deps.tracker.onRunEnd((end) => this.runEnded(end));
  }

  /** Counts what a log event says. Cheap for job output: one counter increment. */
  observe(event: LogEvent): void {
    switch (event.event) {
      case "output":
        this.lineCounts[event.stream]++;
        return;
      case "output_lines":
        this.lineCounts[event.stream] += outputLineCount(event);
        return;
      case "started":
        if (event.attempt === 1) this.fireDelay.observe(Math.max(0, event.lateMs) / 1000);
        return;
      case "retrying":
        this.retriesTotal.inc({ job: event.job });
        return;
      case "skipped": {
        const reason = skipReasonOf(event.reason);
        this.skippedTotal.inc({ job: event.job, reason });
        if (reason === "claimed_elsewhere") this.claims.inc({ result: "lost" });
        return;
      }
      case "lease_lost":
        this.leaseLost.inc();
        return;
      case "claimed":
        this.claims.inc({ result: "won" });
        if (event.trigger === "catch_up") this.catchupRuns.inc({ job: event.job });
        return;
      case "run_lost":
        this.lostRuns.inc({ job: event.job });
        return;
      case "missed":
        this.skippedTotal.inc({ job: event.job, reason: "missed" }, event.count);
        return;
      case "clock_jump":
        this.clockJumps.inc();
        return;
      case "reload_applied":
        this.reloads.inc({ result: "applied" });
        return;
      case "reload_refused":
        this.reloads.inc({ result: "refused" });
        return;
      default:
        return;
    }
  }

  /** A notification that could not be delivered. */
  notifyFailed(job: string, kind: "run" | "webhook"): void {
    this.notifyFailures.inc({ job, kind });
  }

  /** The text exposition format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  private runEnded(end: RunEnd): void {
    const job = { job: end.job };
    this.duration.observe(job, end.durationMs / 1000);
    if (!end.final) return;
    this.runsTotal.inc({ job: end.job, result: end.result });
    this.lastRun.set(job, end.finishedMs / 1000);
    if (end.result === "succeeded") this.lastSuccess.set(job, end.finishedMs / 1000);
    this.lastExitCode.set(job, exitStatusOf(end));
  }
}

/** The metric label for a `skipped` event's reason. */
export function skipReasonOf(reason: string): SkipReason {
  if (reason.includes("overlap")) return "overlap";
  if (reason.includes("max_parallel")) return "max_parallel";
  if (reason.includes("claimed elsewhere")) return "claimed_elsewhere";
  if (reason.includes("clock jumped past")) return "missed";
  return "other";
}

function exitStatusOf(end: RunEnd): number {
  if (end.exitCode !== null) return end.exitCode;
  if (end.signal) return 128 + (osConstants.signals[end.signal as NodeJS.Signals] ?? 0);
  return 127;
}

function zoneOf(spec: JobSpec, fileZone: string): string {
  return spec.trigger.kind === "cron" || spec.trigger.kind === "at" ? spec.trigger.zone : fileZone;
}
