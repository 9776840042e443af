import type { JobSpec, Schedule, Trigger } from "../../src/schedule/types.js";

/** A JobSpec with the file format's defaults, for tests that build schedules without YAML. */
export function jobSpec(name: string, trigger: Trigger, overrides: Partial<JobSpec> = {}): JobSpec {
  return {
    name,
    trigger,
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
