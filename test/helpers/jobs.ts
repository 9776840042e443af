import { CronSchedule, cronTrigger } from "../../src/schedule/cron.js";
import type { CronTrigger, JobSpec, Schedule, Trigger } from "../../src/schedule/types.js";

/**
 * A JobSpec with the file format's defaults, for tests that build schedules without YAML. A cron trigger may
 * be given as its plain data: it is parsed here, for this job, as validation would.
 */
export function jobSpec(
  name: string,
  trigger: Trigger | Omit<CronTrigger, "recurrence">,
  overrides: Partial<JobSpec> = {},
): JobSpec {
  return {
    name,
    trigger:
      trigger.kind === "cron" && !("recurrence" in trigger)
        ? cronTrigger(
            trigger.expression,
            CronSchedule.parse(trigger.expression, { zone: trigger.zone, hashSeed: name }),
          )
        : (trigger as Trigger),
    jitterMs: 0,
    command: { kind: "shell", script: `echo ${name}`, shell: "/bin/sh" },
    cwd: "/tmp",
    env: {},
    timeoutMs: undefined,
    killSignal: "SIGTERM",
    killGraceMs: 10_000,
    overlap: "skip",
    retry: undefined,
    user: undefined,
    group: undefined,
    enabled: true,
    description: undefined,
    ...overrides,
  };
}

export function scheduleOf(jobs: JobSpec[], overrides: Partial<Schedule> = {}): Schedule {
  return { file: "/tmp/test.yaml", zone: "UTC", maxParallel: undefined, jobs, warnings: [], ...overrides };
}
