import { Reactor } from "../../clock/reactor.js";
import type { LogEventInput } from "../../log/events.js";
import type { Schedule } from "../../schedule/types.js";
import { Scheduler } from "../../scheduler/scheduler.js";
import type { RunOptions } from "../command-line.js";
import { configErrorLines, reportConfigError } from "../config.js";
import { loadSchedule, schedulePath } from "../crontab-source.js";
import type { CliIO } from "../io.js";
import { startJobRun } from "../job-run.js";
import { createLogOutput } from "../log-output.js";
import { checkRunnable } from "../trust.js";

/** `tdefer run`: reads, checks and runs the schedule; the exit status says how it ended. */
export async function runCommand(file: string | undefined, options: RunOptions, io: CliIO): Promise<void> {
  let schedule: Schedule;
  let path: string;
  try {
    path = schedulePath(file, options, io.cwd);
    schedule = loadSchedule(path, options, { forRunning: true });
    checkRunnable(schedule, path);
  } catch (error) {
    io.setExitCode(reportConfigError(error, io.stderr));
    return;
  }
  io.setExitCode(await runSchedule(schedule, path, options, io));
}

/** Runs a schedule until it is stopped or has nothing left to do; returns the exit status. */
async function runSchedule(
  schedule: Schedule,
  path: string,
  options: RunOptions,
  io: CliIO,
): Promise<number> {
  let stop: (signal: string) => void = () => {};
  let logFailed = false;
  const log = createLogOutput(io, options.logFormat, options.color, (error) => {
    logFailed = true;
    io.stderr.write(`tdefer: cannot write the log (${error.message}); stopping, as output would be lost\n`);
    stop("log output failed");
  });
  const reactor = new Reactor({
    onError: (error) =>
      log.emitAt({ event: "error", level: "error", message: `internal error: ${String(error)}` }, Date.now()),
  });
  const emitNow = (event: LogEventInput) => log.emitAt(event, reactor.wallNow());
  const scheduler = new Scheduler({
    clock: reactor,
    emit: (event) => log.emit(event),
    startRun: (job, context) => {
      const run = startJobRun(job, context, { reactor, log, env: io.env });
      return {
        done: run.done.then((result) => ({ killedHard: result.killedHard })),
        stop: (reason) => run.stop(reason),
        kill: (reason) => run.kill(reason),
      };
    },
  });

  emitNow({ event: "loaded", level: "info", file: path, jobs: schedule.jobs.length });
  for (const warning of schedule.warnings) {
    emitNow({
      event: "warning",
      level: "warn",
      message: `${warning.file}:${warning.line}:${warning.col}: ${warning.path}: ${warning.message}`,
    });
  }

  let stopping: Promise<{ killed: number }> | undefined;
  let stopRequested!: () => void;
  const stopRequest = new Promise<void>((resolve) => {
    stopRequested = resolve;
  });
  stop = (signal: string): void => {
    if (stopping) {
      scheduler.killAll(); // a second signal skips the rest of the grace
      return;
    }
    stopping = scheduler.stop(options.grace, signal);
    stopRequested();
  };
  const reload = (): void => {
    if (stopping) return;
    try {
      const next = loadSchedule(path, options, { forRunning: true });
      checkRunnable(next, path);
      emitNow({ event: "reload_applied", level: "info", ...scheduler.reload(next) });
    } catch (error) {
      emitNow({ event: "reload_refused", level: "error", errors: configErrorLines(error) });
    }
  };
  const onSigint = () => stop("SIGINT");
  const onSigterm = () => stop("SIGTERM");
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigterm);
  process.on("SIGHUP", reload);
  const forTimer =
    options.for !== undefined ? reactor.callLater(options.for, () => stop("--for")) : undefined;

  scheduler.start(schedule);
  // Runs until nothing is left to fire and nothing runs, or until a stop has begun.
  await Promise.race([scheduler.whenIdle(), stopRequest]);
  const result = stopping ? await stopping : { killed: 0 };
  if (forTimer?.active()) forTimer.cancel();
  process.off("SIGINT", onSigint);
  process.off("SIGTERM", onSigterm);
  process.off("SIGHUP", reload);
  reactor.close();
  await log.close();
  // A log that could not be written is a runtime failure: the output it dropped is lost.
  return result.killed > 0 || logFailed ? 1 : 0;
}
