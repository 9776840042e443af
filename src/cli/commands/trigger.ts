import { statSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { resolve } from "node:path";
import type { DelayedCall } from "../../clock/clock.js";
import { Reactor } from "../../clock/reactor.js";
import type { ScheduleProblem } from "../../errors.js";
import { type Awaitable, type Ledger, OutputTail } from "../../ledger/ledger.js";
import { ProcessGroups } from "../../runner/process-groups.js";
import type { RunResult } from "../../runner/run-job.js";
import type { JobSpec, Schedule } from "../../schedule/types.js";
import { DEFAULT_LEASE_MS, defaultRunId } from "../../scheduler/scheduler.js";
import type { TriggerOptions } from "../command-line.js";
import { loadScheduleFile, reportConfigError } from "../config.js";
import { loadSchedule, schedulePath } from "../crontab-source.js";
import type { CliIO } from "../io.js";
import { ledgerRecordOf, startJobRun } from "../job-run.js";
import { stopOnInternalError } from "../last-resort.js";
import { createLogOutput, type LogOutput } from "../log-output.js";
import { warningEvent } from "../preflight.js";
import { openLedger, ownerId, type StateSelection, selectState } from "../state.js";
import { onStopSignals, STOP_SIGNALS } from "../stop-signals.js";
import { checkRunnable } from "../trust.js";
import { runningUid } from "../trusted-file.js";

/** `tdefer trigger`: runs one job now, in the foreground; exits with its status. */
export async function triggerCommand(
  name: string,
  file: string | undefined,
  options: TriggerOptions,
  io: CliIO,
): Promise<void> {
  let job: JobSpec | undefined;
  let warnings: ScheduleProblem[] = [];
  let schedule: Schedule;
  let state: StateSelection;
  if (file === undefined && options.crontab === undefined && isFile(resolve(io.cwd, name))) {
    io.setExitCode(missingJobName(resolve(io.cwd, name), io));
    return;
  }
  try {
    const path = schedulePath(file, options, io.cwd);
    schedule = loadSchedule(path, options, { forRunning: true, warnings: false });
    // Only the job that runs: another job's problem must not keep this one from running.
    warnings = checkRunnable(schedule, { jobs: [name], env: io.env });
    job = schedule.jobs.find((candidate) => candidate.name === name);
    if (!job) {
      io.stderr.write(
        `tdefer trigger: no job named "${name}" in ${path}; its jobs: ${schedule.jobs.map((j) => j.name).join(", ")}\n`,
      );
      io.setExitCode(2);
      return;
    }
    state = selectState(schedule, {
      ...(options.state !== undefined ? { flag: options.state } : {}),
      env: io.env,
      cwd: io.cwd,
    });
  } catch (error) {
    io.setExitCode(reportConfigError(error, io.stderr));
    return;
  }
  const reactor = new Reactor();
  let ledger: Ledger | undefined;
  try {
    ledger = await openLedger(state, schedule, {
      now: () => reactor.wallNow(),
      ...(runningUid() === 0 ? { trustUid: 0 } : {}),
      callLater: (delayMs, fn) => reactor.callLater(delayMs, fn),
      mustAnswer: true,
    });
  } catch (error) {
    reactor.close();
    io.setExitCode(reportConfigError(error, io.stderr));
    return;
  }
  const log = createLogOutput(io, options.logFormat, options.color);
  for (const warning of warnings) log.emitAt(warningEvent(warning), reactor.wallNow());
  const scheduledMs = reactor.wallNow();
  const runId = defaultRunId();
  // Recorded as any run (trigger: manual), so that history and the status page show it.
  const claim = ledger
    ? await recordSafely(log, reactor, ledger.location, () =>
        ledger.claim({
          job: job.name,
          scheduledAtMs: scheduledMs,
          trigger: "manual",
          runId,
          owner: ownerId(),
          leaseMs: DEFAULT_LEASE_MS,
        }),
      )
    : undefined;
  const context = { runId, scheduledMs, ...(claim ? { fence: claim.fence } : {}) };
  const tail = claim ? new OutputTail() : undefined;
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signals++ === 0) run.stop(`tdefer received ${signal}`);
    else {
      run.kill(`a second ${signal}`);
      groups.killAll();
    }
  };
  // Listening before the run starts (no await in between): a signal never finds tdefer without its handler.
  // trigger does not reload: SIGHUP (a closed terminal) is a stop too.
  const removeStopSignals = onStopSignals(onSignal, [...STOP_SIGNALS, "SIGHUP"]);
  const groups = new ProcessGroups(reactor);
  const run = startJobRun(job, context, { reactor, log, env: io.env, groups, ...(tail ? { tail } : {}) });
  if (ledger && claim) {
    const startedAtMs = reactor.wallNow();
    await recordSafely(log, reactor, ledger.location, () =>
      ledger.start(claim, { startedAtMs, lateMs: Math.max(0, startedAtMs - scheduledMs) }),
    );
  }
  const renewal =
    ledger && claim
      ? setLeaseRenewal(reactor, () =>
          recordSafely(log, reactor, ledger.location, () => ledger.renew(claim, DEFAULT_LEASE_MS)),
        )
      : undefined;
  let internalError = false;
  const removeLastResort = stopOnInternalError(io.stderr, () => {
    internalError = true;
    if (signals++ === 0) run.stop("tdefer had an internal error");
    else run.kill("tdefer had another internal error");
  });
  const result = await run.done;
  // What the job left running in its group (`sleep 100 &`) does not outlive trigger.
  if (groups.leftovers() > 0) {
    log.emitAt(
      {
        event: "warning",
        level: "warn",
        message: `ending the process group the job left behind (${job.killSignal}, SIGKILL after ${job.killGraceMs} ms)`,
      },
      reactor.wallNow(),
    );
  }
  await groups.end(job.killGraceMs);
  renewal?.stop();
  removeStopSignals();
  if (ledger && claim) {
    const finishedAtMs = reactor.wallNow();
    await recordSafely(log, reactor, ledger.location, () =>
      ledger.finish(claim, { ...ledgerRecordOf(result, tail), finishedAtMs }),
    );
  }
  await ledger?.close();
  reactor.close();
  await log.close();
  removeLastResort();
  io.setExitCode(internalError ? 1 : exitStatusOf(result));
}

/** Calls the ledger; a failure is logged at error level and the run goes ahead. */
async function recordSafely<T>(
  log: LogOutput,
  reactor: Reactor,
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
      reactor.wallNow(),
    );
    return undefined;
  }
}

/** Renews the run's lease every third of it, through the reactor. */
function setLeaseRenewal(reactor: Reactor, renew: () => Promise<unknown>): { stop(): void } {
  let call: DelayedCall | undefined;
  let stopped = false;
  const arm = (): void => {
    call = reactor.callLater(DEFAULT_LEASE_MS / 3, () => {
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
