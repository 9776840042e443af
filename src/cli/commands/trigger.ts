import { statSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { resolve } from "node:path";
import type { DelayedCall, WallClock } from "../../clock/clock.js";
import { EXIT_FAILURE, EXIT_USAGE, type ScheduleProblem, UserError } from "../../errors.js";
import { type Awaitable, type Ledger, OutputTail } from "../../ledger/ledger.js";
import type { RunResult } from "../../runner/run-job.js";
import type { JobSpec } from "../../schedule/types.js";
import { DEFAULT_LEASE_MS, defaultRunId } from "../../scheduler/scheduler.js";
import type { TriggerOptions } from "../command-line.js";
import { loadScheduleFile } from "../config.js";
import { loadSchedule, schedulePath } from "../crontab-source.js";
import { ledgerRecordOf, startJobRun } from "../job-run.js";
import { stopOnInternalError } from "../last-resort.js";
import { createLogOutput, type LogOutput } from "../log-output.js";
import { warningEvent } from "../preflight.js";
import type { ShellDeps } from "../shell.js";
import { openLedger, ownerId, selectState } from "../state.js";
import { checkRunnable } from "../trust.js";
import { runningUid } from "../trusted-file.js";

/**
 * `tdefer trigger`: runs one job now, in the foreground, on the clock and spawner of `deps`; returns the job's
 * exit status (128+n when signal n ended it, 127 when it could not start, 1 after an internal error).
 */
export async function triggerCommand(
  name: string,
  file: string | undefined,
  options: TriggerOptions,
  deps: ShellDeps,
): Promise<number> {
  const { io } = deps;
  if (file === undefined && options.crontab === undefined && isFile(resolve(io.cwd, name)))
    throw missingJobName(resolve(io.cwd, name));
  const path = schedulePath(file, options, io.cwd);
  const schedule = loadSchedule(path, options, { forRunning: true, warnings: false });
  // Only the job that runs: another job's problem must not keep this one from running.
  const warnings: ScheduleProblem[] = checkRunnable(schedule, { jobs: [name], env: io.env });
  const job = schedule.jobs.find((candidate) => candidate.name === name);
  if (!job) {
    throw new UserError(
      `tdefer trigger: no job named "${name}" in ${path}; its jobs: ${schedule.jobs.map((j) => j.name).join(", ")}`,
      EXIT_USAGE,
    );
  }
  const state = selectState(schedule, {
    ...(options.state !== undefined ? { flag: options.state } : {}),
    env: io.env,
    cwd: io.cwd,
  });
  const clock = deps.clock(() => {});
  let ledger: Ledger | undefined;
  try {
    ledger = await openLedger(state, schedule, {
      now: () => clock.wallNow(),
      ...(runningUid() === 0 ? { trustUid: 0 } : {}),
      callLater: (delayMs, fn) => clock.callLater(delayMs, fn),
      mustAnswer: true,
    });
  } catch (error) {
    clock.close?.();
    throw error;
  }
  const status = await triggerJob(job, ledger, warnings, options, clock, deps);
  await ledger?.close();
  clock.close?.();
  return status;
}

/** Runs the job now, recorded in the ledger as a manual fire; returns the exit status. */
async function triggerJob(
  job: JobSpec,
  ledger: Ledger | undefined,
  warnings: readonly ScheduleProblem[],
  options: TriggerOptions,
  clock: WallClock,
  deps: ShellDeps,
): Promise<number> {
  const { io } = deps;
  const log = createLogOutput(io, options.logFormat, options.color);
  for (const warning of warnings) log.emitAt(warningEvent(warning), clock.wallNow());
  const scheduledMs = clock.wallNow();
  const runId = defaultRunId();
  // Recorded as any run (trigger: manual), so that history and the status page show it.
  const claim = ledger
    ? await recordSafely(log, clock, ledger.location, () =>
        ledger.claim({
          job: job.name,
          scheduledAtMs: scheduledMs,
          trigger: "manual",
          runId,
          owner: ownerId(deps.pid),
          leaseMs: DEFAULT_LEASE_MS,
        }),
      )
    : undefined;
  const context = { runId, scheduledMs, ...(claim ? { fence: claim.fence } : {}) };
  const tail = claim ? new OutputTail() : undefined;
  let signals = 0;
  const onSignal = (signal: string) => {
    if (signals++ === 0) run.stop(`tdefer received ${signal}`);
    else {
      run.kill(`a second ${signal}`);
      groups.killAll();
    }
  };
  // Listening before the run starts (no await in between): a signal never finds tdefer without its handler.
  // trigger does not reload: SIGHUP (a closed terminal) is a stop too.
  const removeStopSignals = deps.signals.onStop(onSignal, { hangUpStops: true });
  const groups = deps.processGroups(clock);
  const run = startJobRun(job, context, {
    clock,
    spawner: deps.spawner,
    log,
    env: io.env,
    groups,
    ...(tail ? { tail } : {}),
  });
  if (ledger && claim) {
    const startedAtMs = clock.wallNow();
    await recordSafely(log, clock, ledger.location, () =>
      ledger.start(claim, { startedAtMs, lateMs: Math.max(0, startedAtMs - scheduledMs) }),
    );
  }
  const renewal =
    ledger && claim
      ? setLeaseRenewal(clock, () =>
          recordSafely(log, clock, ledger.location, () => ledger.renew(claim, DEFAULT_LEASE_MS)),
        )
      : undefined;
  let internalError = false;
  const removeLastResort = stopOnInternalError(
    io.stderr,
    () => {
      internalError = true;
      if (signals++ === 0) run.stop("tdefer had an internal error");
      else run.kill("tdefer had another internal error");
    },
    deps.signals,
  );
  const result = await run.done;
  // What the job left running in its group (`sleep 100 &`) does not outlive trigger.
  if (groups.leftovers() > 0) {
    log.emitAt(
      {
        event: "warning",
        level: "warn",
        message: `ending the process group the job left behind (${job.killSignal}, SIGKILL after ${job.killGraceMs} ms)`,
      },
      clock.wallNow(),
    );
  }
  await groups.end(job.killGraceMs);
  renewal?.stop();
  removeStopSignals();
  if (ledger && claim) {
    const finishedAtMs = clock.wallNow();
    await recordSafely(log, clock, ledger.location, () =>
      ledger.finish(claim, { ...ledgerRecordOf(result, tail), finishedAtMs }),
    );
  }
  await log.close();
  removeLastResort();
  return internalError ? EXIT_FAILURE : exitStatusOf(result);
}

/** Calls the ledger; a failure is logged at error level and the run goes ahead. */
async function recordSafely<T>(
  log: LogOutput,
  clock: WallClock,
  location: string,
  call: () => Awaitable<T>,
): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    log.emitAt(
      {
        event: "error",
        level: "error",
        message: `the ledger (${location}) failed: ${error instanceof Error ? error.message : String(error)}`,
      },
      clock.wallNow(),
    );
    return undefined;
  }
}

/** Renews the run's lease every third of it, through the clock. */
function setLeaseRenewal(clock: WallClock, renew: () => Promise<unknown>): { stop(): void } {
  let call: DelayedCall | undefined;
  let stopped = false;
  const arm = (): void => {
    call = clock.callLater(DEFAULT_LEASE_MS / 3, () => {
      void renew().then(() => {
        if (!stopped) arm();
      });
    });
  };
  arm();
  return {
    stop: () => {
      stopped = true;
      if (call?.active()) call.cancel();
    },
  };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** `tdefer trigger FILE`: the job name was forgotten. Says so and lists the file's jobs (a usage error). */
function missingJobName(path: string): UserError {
  let jobs = "";
  try {
    const schedule = loadScheduleFile(path, { warnings: false });
    jobs = `; its jobs: ${schedule.jobs.map((j) => j.name).join(", ")}`;
  } catch {
    // An invalid file still gets the usage message; `tdefer check` says what is wrong with it.
  }
  return new UserError(
    `tdefer trigger: a job name is missing: tdefer trigger JOB ${path}${jobs}`,
    EXIT_USAGE,
  );
}

/** The job's own exit status; 128+n when signal n ended it; 127 when it could not start. */
export function exitStatusOf(result: RunResult): number {
  if (result.exitCode !== null) return result.exitCode;
  if (result.signal) return 128 + (osConstants.signals[result.signal as NodeJS.Signals] ?? 0);
  return 127;
}
