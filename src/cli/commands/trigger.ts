import { statSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { resolve } from "node:path";
import { Reactor } from "../../clock/reactor.js";
import type { RunResult } from "../../runner/run-job.js";
import type { JobSpec } from "../../schedule/types.js";
import { defaultRunId } from "../../scheduler/scheduler.js";
import type { TriggerOptions } from "../command-line.js";
import { loadScheduleFile, reportConfigError } from "../config.js";
import { loadSchedule, schedulePath } from "../crontab-source.js";
import type { CliIO } from "../io.js";
import { startJobRun } from "../job-run.js";
import { stopOnInternalError } from "../last-resort.js";
import { createLogOutput } from "../log-output.js";
import { checkRunnable } from "../trust.js";

/** `tdefer trigger`: runs one job now, in the foreground; exits with its status. */
export async function triggerCommand(
  name: string,
  file: string | undefined,
  options: TriggerOptions,
  io: CliIO,
): Promise<void> {
  let job: JobSpec | undefined;
  if (file === undefined && options.crontab === undefined && isFile(resolve(io.cwd, name))) {
    io.setExitCode(missingJobName(resolve(io.cwd, name), io));
    return;
  }
  try {
    const path = schedulePath(file, options, io.cwd);
    const schedule = loadSchedule(path, options, { forRunning: true, warnings: false });
    checkRunnable(schedule, path);
    job = schedule.jobs.find((candidate) => candidate.name === name);
    if (!job) {
      io.stderr.write(
        `tdefer trigger: no job named "${name}" in ${path}; its jobs: ${schedule.jobs.map((j) => j.name).join(", ")}\n`,
      );
      io.setExitCode(2);
      return;
    }
  } catch (error) {
    io.setExitCode(reportConfigError(error, io.stderr));
    return;
  }
  const log = createLogOutput(io, options.logFormat, options.color);
  const reactor = new Reactor();
  const context = { runId: defaultRunId(), scheduledMs: reactor.wallNow() };
  const run = startJobRun(job, context, { reactor, log, env: io.env });
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signals++ === 0) run.stop(`tdefer received ${signal}`);
    else run.kill(`a second ${signal}`);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let internalError = false;
  const removeLastResort = stopOnInternalError(io.stderr, () => {
    internalError = true;
    if (signals++ === 0) run.stop("tdefer had an internal error");
    else run.kill("tdefer had another internal error");
  });
  const result = await run.done;
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  reactor.close();
  await log.close();
  removeLastResort();
  io.setExitCode(internalError ? 1 : exitStatusOf(result));
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** `tdefer trigger FILE`: the job name was forgotten. Says so and lists the file's jobs; the usage exit status. */
function missingJobName(path: string, io: CliIO): number {
  let jobs = "";
  try {
    const schedule = loadScheduleFile(path, { warnings: false });
    jobs = `; its jobs: ${schedule.jobs.map((j) => j.name).join(", ")}`;
  } catch {
    // An invalid file still gets the usage message; `tdefer check` says what is wrong with it.
  }
  io.stderr.write(`tdefer trigger: a job name is missing: tdefer trigger JOB ${path}${jobs}
`);
  return 2;
}

/** The job's own exit status; 128+n when signal n ended it; 127 when it could not start. */
export function exitStatusOf(result: RunResult): number {
  if (result.exitCode !== null) return result.exitCode;
  if (result.signal) return 128 + (osConstants.signals[result.signal as NodeJS.Signals] ?? 0);
  return 127;
}
