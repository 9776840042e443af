import { VirtualClock } from "../clock/virtual-clock.js";
import type { JobSpec, Schedule } from "../schedule/types.js";
import { describeTrigger } from "./describe-trigger.js";
import { type ArmedTrigger, armTrigger, type Fire } from "./triggers.js";

/** One upcoming fire, as `tdefer next` shows it, with the DST notes of the fire. */
export interface PreviewFire extends Pick<Fire, "dst" | "dropped"> {
  readonly job: string;
  readonly timeMs: number;
  /** The zone to show the time in: the job's for cron and at, the file's otherwise. */
  readonly zone: string;
  readonly trigger: string;
  /** The job has `enabled: false`: shown, never run. */
  readonly disabled?: true;
  /** Each real fire may come up to this much later (jitter). */
  readonly jitterMs?: number;
}

export interface PreviewOptions {
  /** The runner's start time: `every` and `after` are anchored here, as `run` started then would. */
  readonly fromMs: number;
  readonly untilMs?: number;
  /** At most this many fires in total. */
  readonly count: number;
  /** Only these jobs (all when absent). */
  readonly jobs?: readonly string[];
}

/**
 * The upcoming fires of a schedule, merged in time order: the same trigger code as `run`, on a virtual
 * clock started at `fromMs`, with nothing spawned. Jitter is left out and reported per fire instead.
 */
export function previewFires(schedule: Schedule, options: PreviewOptions): PreviewFire[] {
  const clock = new VirtualClock(options.fromMs);
  const fires: PreviewFire[] = [];
  const wanted = options.jobs && new Set(options.jobs);
  const selected = schedule.jobs.filter((job) => !wanted || wanted.has(job.name));
  const triggers = selected.map((job) =>
    armTrigger(job, {
      clock,
      random: () => 0,
      onExhausted: () => {},
      onFire: (fire) => {
        fires.push(previewFire(job, fire, schedule));
      },
    }),
  );
  for (
    let due = clock.nextCallTime();
    due !== undefined && fires.length < options.count;
    due = clock.nextCallTime()
  ) {
    if (options.untilMs !== undefined && due > options.untilMs) break;
    clock.runUntil(due);
  }
  for (const trigger of triggers) trigger.cancel();
  const inRange =
    options.untilMs === undefined ? fires : fires.filter((fire) => fire.timeMs <= options.untilMs!);
  return inRange.slice(0, options.count);
}

/**
 * Each job's first upcoming fire from `fromMs`, by name (none for a job with no fire left): what previewFires of
 * that job alone with a count of 1 gives, for all jobs on one virtual clock (`check` shows it for each of
 * thousands of jobs).
 */
export function firstFires(schedule: Schedule, fromMs: number): Map<string, PreviewFire> {
  const clock = new VirtualClock(fromMs);
  const first = new Map<string, PreviewFire>();
  // Each job's trigger is cancelled at its first fire, inside that fire, so that it plans no second one (for a
  // cron job, a second search as long as the first); a trigger that fires as it is armed (`every` with
  // `now`) is cancelled once armed.
  const triggers: ArmedTrigger[] = [];
  schedule.jobs.forEach((job, index) => {
    const trigger = armTrigger(job, {
      clock,
      random: () => 0,
      onExhausted: () => {},
      onFire: (fire) => {
        if (first.has(job.name)) return;
        first.set(job.name, previewFire(job, fire, schedule));
        triggers[index]?.cancel();
      },
    });
    if (first.has(job.name)) trigger.cancel();
    else triggers[index] = trigger;
  });
  for (let due = clock.nextCallTime(); due !== undefined; due = clock.nextCallTime()) clock.runUntil(due);
  return first;
}

function previewFire(job: JobSpec, fire: Fire, schedule: Schedule): PreviewFire {
  return {
    job: job.name,
    timeMs: fire.scheduledMs,
    zone: zoneOf(job, schedule),
    trigger: describeTrigger(job),
    ...(fire.dst ? { dst: fire.dst } : {}),
    ...(fire.dropped ? { dropped: fire.dropped } : {}),
    ...(job.enabled ? {} : { disabled: true as const }),
    ...(job.jitterMs > 0 ? { jitterMs: job.jitterMs } : {}),
  };
}

function zoneOf(job: JobSpec, schedule: Schedule): string {
  return job.trigger.kind === "cron" || job.trigger.kind === "at" ? job.trigger.zone : schedule.zone;
}
