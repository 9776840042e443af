import { EXIT_USAGE, ScheduleErrors, UserError } from "../../errors.js";
import { CronDescriber } from "../../schedule/cron-words.js";
import { formatDuration } from "../../schedule/duration.js";
import type { Schedule } from "../../schedule/types.js";
import { loadScheduleText } from "../../schedule/validate.js";
import { formatInZone, isValidZone, resolveWallTime, systemZone } from "../../schedule/zone.js";
import { type PreviewFire, previewFires } from "../../scheduler/preview.js";
import type { NextOptions } from "../command-line.js";
import { type CliIO, columns, displayTime, endQuietlyOnClosedPipe, relativeTime } from "../io.js";
import { scheduleSource } from "../schedule-source.js";

/** `tdefer next`: the upcoming fires of the file (or of one --cron expression), merged in time order. */
export async function nextCommand(
  file: string | undefined,
  options: NextOptions,
  io: CliIO,
): Promise<number> {
  endQuietlyOnClosedPipe(io.stdout);
  if (options.cron !== undefined && file !== undefined)
    throw usage(
      `--cron previews one expression without a file, but ${file} was given too: leave out one of the two`,
    );
  if (options.tz !== undefined && options.cron === undefined && !options.from && !options.until)
    throw usage(
      "--tz sets the zone of --cron and of --from/--until times; each job of a file fires in its own zone (`timezone:` in the file)",
    );
  const zone = options.tz ?? systemZone();
  if (options.tz && !isValidZone(options.tz)) throw usage(`unknown time zone "${options.tz}"`);
  const fromMs = options.from ? parseTime(options.from, zone, "--from", io.nowMs()) : io.nowMs();
  const untilMs = options.until ? parseTime(options.until, zone, "--until", io.nowMs()) : undefined;
  let schedule: Schedule;
  if (options.cron) schedule = cronOnly(options.cron, zone, fromMs);
  else {
    const { schedulePath, loadSchedule } = await scheduleSource(options);
    schedule = loadSchedule(schedulePath(file, options, io.cwd), options, { nowMs: fromMs, warnings: false });
  }
  const unknown = (options.job ?? []).filter((name) => !schedule.jobs.some((job) => job.name === name));
  if (unknown.length > 0)
    throw usage(
      `no job named ${unknown.join(", ")} in ${schedule.file}; its jobs: ${schedule.jobs.map((job) => job.name).join(", ")}`,
    );
  const fires = previewFires(schedule, { fromMs, untilMs, count: options.count, jobs: options.job });
  io.stdout.write(
    options.json
      ? `${JSON.stringify(fires.map(toJson), null, 2)}\n`
      : table(fires, fromMs) + cronLegend(schedule, fires, fromMs),
  );
  return 0;
}

const usage = (message: string) => new UserError(`tdefer next: ${message}`, EXIT_USAGE);

function parseTime(text: string, zone: string, flag: string, nowMs: number): number {
  if (text === "now") return nowMs;
  try {
    return resolveWallTime(text, zone);
  } catch (error) {
    throw usage(`${flag}: ${(error as Error).message}`);
  }
}

/** A one-job schedule for `next --cron`, validated like a file. */
function cronOnly(expression: string, zone: string, nowMs: number): Schedule {
  const text = `timezone: ${JSON.stringify(zone)}\njobs:\n  cron:\n    cron: ${JSON.stringify(expression)}\n    run: "true"\n`;
  try {
    return loadScheduleText(text, "--cron", { nowMs, systemZone: zone, isRoot: false, forRunning: false });
  } catch (error) {
    if (!(error instanceof ScheduleErrors)) throw error;
    // Positions in the one-line schedule made up here would mean nothing to the user.
    const [problem] = error.problems;
    throw usage(
      `--cron ${JSON.stringify(expression)}: ${problem?.message}${problem?.hint ? `\n  hint: ${problem.hint}` : ""}`,
    );
  }
}

function toJson(fire: PreviewFire): Record<string, unknown> {
  return {
    job: fire.job,
    time: formatInZone(fire.timeMs, fire.zone),
    trigger: fire.trigger,
    ...(fire.dst ? { dst: fire.dst } : {}),
    ...(fire.dropped ? { dst_dropped: fire.dropped } : {}),
    ...(fire.disabled ? { disabled: true } : {}),
    ...(fire.jitterMs ? { jitter_ms: fire.jitterMs } : {}),
  };
}

function table(fires: readonly PreviewFire[], fromMs: number): string {
  if (fires.length === 0) return "no fires in that window\n";
  const rows = fires.map((fire) => [
    displayTime(formatInZone(fire.timeMs, fire.zone)),
    relativeTime(fire.timeMs - fromMs),
    fire.job,
    fire.trigger,
    notes(fire),
  ]);
  return `${columns([["WHEN", "IN", "JOB", "TRIGGER", ""], ...rows])}\n`;
}

/** Each cron expression of the table in words, once, below it. */
function cronLegend(schedule: Schedule, fires: readonly PreviewFire[], fromMs: number): string {
  const lines = new Set<string>();
  const describer = new CronDescriber(fromMs);
  for (const fire of fires) {
    const trigger = schedule.jobs.find((job) => job.name === fire.job)?.trigger;
    if (trigger?.kind !== "cron") continue;
    const words = describer.describe(trigger.recurrence);
    lines.add(`cron "${trigger.expression}": ${words}`);
  }
  return lines.size > 0 ? `\n${[...lines].join("\n")}\n` : "";
}

function notes(fire: PreviewFire): string {
  const notes: string[] = [];
  if (fire.dst === "moved") notes.push("DST: moved to the end of the spring-forward gap");
  if (fire.dst === "second-pass") notes.push("DST: second pass of the repeated hour");
  if (fire.dropped) notes.push(`DST: dropped ${fire.dropped.join(", ")}`);
  if (fire.jitterMs) notes.push(`+ up to ${formatDuration(fire.jitterMs)} jitter`);
  if (fire.disabled) notes.push("disabled: will not run");
  return notes.join("; ");
}
