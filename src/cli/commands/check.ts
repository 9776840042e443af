import type { Command } from "commander";
import { formatDuration } from "../../schedule/duration.js";
import type { JobSpec, Schedule } from "../../schedule/types.js";
import { formatInZone } from "../../schedule/zone.js";
import { previewFires } from "../../scheduler/preview.js";
import { describeTrigger } from "../../scheduler/scheduler.js";
import { reportConfigError } from "../config.js";
import {
  type CrontabFlags,
  crontabOption,
  loadSchedule,
  schedulePath,
  systemFormatOption,
} from "../crontab-source.js";
import { type CliIO, columns, displayTime, endQuietlyOnClosedPipe, relativeTime } from "../io.js";

export function addCheckCommand(program: Command, io: CliIO): void {
  program
    .command("check")
    .description("validate the schedule file and summarise each job (exit 78 when invalid)")
    .argument("[file]", "the schedule file (default: searched for)")
    .option("--json", "print the summary as JSON")
    .addOption(crontabOption())
    .addOption(systemFormatOption())
    .action((file: string | undefined, options: { json?: boolean } & CrontabFlags) => {
      endQuietlyOnClosedPipe(io.stdout);
      try {
        const nowMs = io.nowMs();
        const schedule = loadSchedule(schedulePath(file, options, io.cwd), options, { nowMs });
        const summary = summarise(schedule, nowMs);
        io.stdout.write(options.json ? `${JSON.stringify(summary, null, 2)}\n` : render(summary, nowMs));
      } catch (error) {
        io.setExitCode(reportConfigError(error, io.stderr));
      }
    });
}

interface JobSummary {
  name: string;
  trigger: string;
  next: string | null;
  nextMs: number | null;
  enabled: boolean;
  description?: string;
  command: string | string[];
  options: Record<string, string | number>;
}

function summarise(schedule: Schedule, nowMs: number) {
  const jobs = schedule.jobs.map((job): JobSummary => {
    const [next] = previewFires({ ...schedule, jobs: [job] }, { fromMs: nowMs, count: 1 });
    return {
      name: job.name,
      trigger: describeTrigger(job),
      next: next ? formatInZone(next.timeMs, next.zone) : null,
      nextMs: next ? next.timeMs : null,
      enabled: job.enabled,
      ...(job.description ? { description: job.description } : {}),
      command: job.command.kind === "shell" ? job.command.script : [...job.command.argv],
      options: optionsOf(job),
    };
  });
  return {
    file: schedule.file,
    valid: true,
    zone: schedule.zone,
    ...(schedule.maxParallel ? { max_parallel: schedule.maxParallel } : {}),
    jobs,
    warnings: schedule.warnings.map((w) => `${w.file}:${w.line}:${w.col}: ${w.path}: ${w.message}`),
  };
}

/** The options that differ from the defaults, as the user would write them. */
function optionsOf(job: JobSpec): Record<string, string | number> {
  const options: Record<string, string | number> = {};
  if (job.timeoutMs !== undefined) options.timeout = formatDuration(job.timeoutMs);
  if (job.overlap !== "skip") options.overlap = job.overlap;
  if (job.jitterMs > 0) options.jitter = formatDuration(job.jitterMs);
  if (job.retry) {
    options.retry = `${job.retry.attempts} attempts, ${formatDuration(job.retry.delayMs)} ×${job.retry.backoff} up to ${formatDuration(job.retry.maxDelayMs)}`;
  }
  if (job.killSignal !== "SIGTERM") options.kill_signal = job.killSignal;
  if (job.killGraceMs !== 10_000) options.kill_grace = formatDuration(job.killGraceMs);
  if (job.user) options.user = job.user;
  if (job.group) options.group = job.group;
  const envCount = Object.keys(job.env).length;
  if (envCount > 0) options.env = `${envCount} variable${envCount === 1 ? "" : "s"}`;
  return options;
}

function render(summary: ReturnType<typeof summarise>, nowMs: number): string {
  const count = summary.jobs.length;
  const lines = [`${summary.file}: valid, ${count} job${count === 1 ? "" : "s"} (zone ${summary.zone})`, ""];
  const rows = summary.jobs.map((job) => [
    job.name,
    job.trigger,
    !job.enabled
      ? "disabled"
      : job.next
        ? `next ${displayTime(job.next)} (${relativeTime(job.nextMs! - nowMs)})`
        : "no fire left",
  ]);
  lines.push(columns(rows));
  for (const job of summary.jobs) {
    const details = Object.entries(job.options).map(([key, value]) => `${key} ${value}`);
    if (job.description) details.unshift(job.description);
    if (details.length > 0) lines.push(`  ${job.name}: ${details.join(" · ")}`);
  }
  if (summary.warnings.length > 0) {
    lines.push("", `${summary.warnings.length} warning${summary.warnings.length === 1 ? "" : "s"}:`);
    for (const warning of summary.warnings) lines.push(`  ${warning}`);
  }
  return `${lines.join("\n")}\n`;
}
