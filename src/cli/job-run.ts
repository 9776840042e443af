import type { RunSpec } from "../runner/run-job.js";
import type { JobSpec } from "../schedule/types.js";
import { resolveId } from "./identity.js";

/** What the runner needs for one run of a job: the command as a program and argv, the merged environment. */
export function runSpecOf(
  job: JobSpec,
  context: { readonly runId: string; readonly scheduledMs: number },
  baseEnv: NodeJS.ProcessEnv,
): RunSpec {
  const [file, ...args] =
    job.command.kind === "shell" ? [job.command.shell, "-c", job.command.script] : job.command.argv;
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(baseEnv)) if (value !== undefined) env[key] = value;
  Object.assign(env, job.env);
  return {
    job: job.name,
    runId: context.runId,
    scheduledMs: context.scheduledMs,
    file,
    args,
    cwd: job.cwd,
    env,
    ...(job.timeoutMs !== undefined ? { timeoutMs: job.timeoutMs } : {}),
    killSignal: job.killSignal,
    killGraceMs: job.killGraceMs,
    ...(job.retry ? { retry: job.retry } : {}),
    ...(job.user !== undefined ? { uid: resolveId(job.user, "user") } : {}),
    ...(job.group !== undefined ? { gid: resolveId(job.group, "group") } : {}),
  };
}
