import { statSync } from "node:fs";
import { resolve } from "node:path";
import { EXIT_USAGE, UserError } from "../../errors.js";
import { LedgerError, type RunRecord } from "../../ledger/ledger.js";
import { humanDuration } from "../../log/time.js";
import { parseDuration } from "../../schedule/duration.js";
import type { JobSpec, Schedule } from "../../schedule/types.js";
import { formatInZone, resolveWallTime } from "../../schedule/zone.js";
import type { HistoryOptions } from "../command-line.js";
import { findScheduleFile, loadScheduleFile } from "../config.js";
import { type CliIO, columns, displayTime, endQuietlyOnClosedPipe } from "../io.js";
import { openLedger, selectState } from "../state.js";

/** `tdefer history`: the ledger's records, newest first. */
export async function historyCommand(args: string[], options: HistoryOptions, io: CliIO): Promise<number> {
  endQuietlyOnClosedPipe(io.stdout);
  const jobs = [...args];
  let file = options.file;
  // `tdefer history schedules.yaml backup`: a positional that is a file is the schedule, as for run.
  const fileIndex = file === undefined ? jobs.findIndex((arg) => isFile(resolve(io.cwd, arg))) : -1;
  if (fileIndex >= 0) file = jobs.splice(fileIndex, 1)[0];
  let records: readonly RunRecord[];
  let schedule: Schedule;
  schedule = loadScheduleFile(findScheduleFile(file, io.cwd), { warnings: false });
  const unknown = jobs.filter((name) => !schedule.jobs.some((job) => job.name === name));
  if (unknown.length > 0) {
    throw usage(
      `no job named ${unknown.join(", ")} in ${schedule.file}; its jobs: ${schedule.jobs.map((job) => job.name).join(", ")}`,
    );
  }
  let sinceMs: number | undefined;
  if (options.since !== undefined) {
    sinceMs = parseSince(options.since, schedule.zone, io.nowMs());
    if (sinceMs === undefined) {
      throw usage(
        `--since ${JSON.stringify(options.since)} is neither a duration (6h, 2d) nor a time (2026-12-01 09:00)`,
      );
    }
  }
  const selection = selectState(schedule, {
    ...(options.state !== undefined ? { flag: options.state } : {}),
    env: io.env,
    cwd: io.cwd,
  });
  if (selection.kind === "none") throw usage("--state none keeps no history");
  const ledger = (await openLedger(selection, schedule, {
    now: io.nowMs,
    mustExist: true,
    mustAnswer: true,
  }))!;
  try {
    records = await ledger.history({
      jobs,
      limit: options.count,
      ...(sinceMs !== undefined ? { sinceMs } : {}),
      ...(options.failed ? { failedOnly: true } : {}),
    });
  } catch (error) {
    throw new LedgerError(
      ledger.location,
      `reading the history failed: ${(error as Error).message}`,
      "check that the ledger's database answers (tdefer check)",
    );
  } finally {
    await ledger.close();
  }
  if (options.json) {
    io.stdout.write(records.map((record) => `${JSON.stringify(jsonOf(record))}\n`).join(""));
    return 0;
  }
  if (records.length === 0) {
    io.stdout.write("no records\n");
    return 0;
  }
  const zones = new Map(schedule.jobs.map((job) => [job.name, zoneOf(job, schedule)]));
  io.stdout.write(`${table(records, (job) => zones.get(job) ?? schedule.zone)}\n`);
  return 0;
}

const usage = (message: string) => new UserError(`tdefer history: ${message}`, EXIT_USAGE);

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function parseSince(text: string, zone: string, nowMs: number): number | undefined {
  const durationMs = parseDuration(text);
  if (durationMs !== undefined) return nowMs - durationMs;
  try {
    return resolveWallTime(text, zone);
  } catch {
    return undefined;
  }
}

/** Cron and at jobs show their own zone; every and after jobs the file's. */
function zoneOf(job: JobSpec, schedule: Schedule): string {
  return job.trigger.kind === "cron" || job.trigger.kind === "at" ? job.trigger.zone : schedule.zone;
}

function table(records: readonly RunRecord[], zoneOfJob: (job: string) => string): string {
  const rows = records.map((record) => [
    displayTime(formatInZone(record.scheduledAtMs, zoneOfJob(record.job))),
    oneLine(record.job),
    oneLine(record.runId ?? "-"),
    oneLine(record.owner ?? "-"),
    oneLine(record.trigger),
    resultOf(record),
    record.exitCode === null ? (record.signal ?? "-") : String(record.exitCode),
    record.durationMs === null ? "-" : humanDuration(record.durationMs),
    record.lateMs === null ? "-" : humanDuration(record.lateMs),
  ]);
  return columns([["TIME", "JOB", "RUN", "OWNER", "TRIGGER", "RESULT", "EXIT", "DURATION", "LATE"], ...rows]);
}

function resultOf(record: RunRecord): string {
  const state = record.state.replace("_", " ");
  return record.reason && record.state !== "succeeded" ? `${state} (${oneLine(record.reason)})` : state;
}

/** A reason from the database is shown on one line, without control characters. */
function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  return text.replace(/[\u0000-\u001f\u007f]+/g, " ").slice(0, 200);
}

function jsonOf(record: RunRecord): Record<string, unknown> {
  return {
    schedule: record.schedule,
    job: record.job,
    scheduled_at: new Date(record.scheduledAtMs).toISOString(),
    state: record.state,
    reason: record.reason,
    run_id: record.runId,
    owner: record.owner,
    fence: record.fence,
    lease_until: isoOrNull(record.leaseUntilMs),
    claimed_at: isoOrNull(record.claimedAtMs),
    started_at: isoOrNull(record.startedAtMs),
    finished_at: isoOrNull(record.finishedAtMs),
    attempts: record.attempts,
    exit_code: record.exitCode,
    signal: record.signal,
    duration_ms: record.durationMs,
    late_ms: record.lateMs,
    trigger: record.trigger,
    output_tail: record.outputTail,
  };
}

function isoOrNull(timeMs: number | null): string | null {
  return timeMs === null ? null : new Date(timeMs).toISOString();
}
