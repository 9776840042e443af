import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { Reactor } from "../../clock/reactor.js";
import type { LogEvent, LogEventInput } from "../../log/events.js";
import { formatJson } from "../../log/format-json.js";
import { DEFAULT_HTTP_ADDRESS, type HttpAddress, isLoopback, parseHttpAddress } from "../../ops/http.js";
import type { Ops } from "../../ops/ops.js";
import type { SystemdNotifier } from "../../ops/sd-notify.js";
import type { Schedule } from "../../schedule/types.js";
import { Scheduler } from "../../scheduler/scheduler.js";
import type { RunOptions } from "../command-line.js";
import { configErrorLines, reportConfigError } from "../config.js";
import { loadSchedule, schedulePath } from "../crontab-source.js";
import type { CliIO } from "../io.js";
import { startJobRun } from "../job-run.js";
import { stopOnInternalError } from "../last-resort.js";
import { createLogOutput, type LogOutput } from "../log-output.js";
import { notifyCommandRunner } from "../notify-command.js";
import { checkRunnable } from "../trust.js";
import { version } from "../version.js";

/** `tdefer run`: reads, checks and runs the schedule; the exit status says how it ended. */
export async function runCommand(file: string | undefined, options: RunOptions, io: CliIO): Promise<void> {
  let schedule: Schedule;
  let path: string;
  let http: HttpSettings | undefined;
  try {
    http = httpSettingsOf(options);
  } catch (error) {
    io.stderr.write(`tdefer run: ${(error as Error).message}\n`);
    io.setExitCode(2);
    return;
  }
  try {
    path = schedulePath(file, options, io.cwd);
    schedule = loadSchedule(path, options, { forRunning: true });
    checkRunnable(schedule, path);
  } catch (error) {
    io.setExitCode(reportConfigError(error, io.stderr));
    return;
  }
  if (http === undefined && schedule.http !== undefined) {
    try {
      http = httpSettingsOf({ ...options, http: schedule.http });
    } catch (error) {
      io.stderr.write(`tdefer run: ${path}: http: ${(error as Error).message}\n`);
      io.setExitCode(78);
      return;
    }
  }
  if (http === undefined && options.httpTokenFile !== undefined) {
    io.stderr.write("tdefer run: --http-token-file needs --http (or http: in the file)\n");
    io.setExitCode(2);
    return;
  }
  io.setExitCode(await runSchedule(schedule, path, options, http, io));
}

interface HttpSettings {
  readonly address: HttpAddress;
  readonly token: string | undefined;
}

/** The --http address and the token from --http-token-file; throws a message for the user. */
function httpSettingsOf(options: RunOptions): HttpSettings | undefined {
  if (options.http === undefined) return undefined;
  const address = parseHttpAddress(options.http === true ? DEFAULT_HTTP_ADDRESS : options.http);
  let token: string | undefined;
  if (options.httpTokenFile !== undefined) {
    try {
      token = readFileSync(options.httpTokenFile, "utf8").trim();
    } catch (error) {
      throw new Error(`cannot read --http-token-file ${options.httpTokenFile}: ${(error as Error).message}`);
    }
    if (token === "" || /\s/.test(token)) {
      throw new Error(
        `--http-token-file ${options.httpTokenFile} must hold one token on one line (for example: openssl rand -hex 32 > FILE)`,
      );
    }
  } else if (!isLoopback(address.host)) {
    throw new Error(
      `--http ${options.http} can be reached from other machines; give a token with --http-token-file FILE, or listen on 127.0.0.1`,
    );
  }
  return { address, token };
}

/** Runs a schedule until it is stopped or has nothing left to do; returns the exit status. */
async function runSchedule(
  schedule: Schedule,
  path: string,
  options: RunOptions,
  http: HttpSettings | undefined,
  io: CliIO,
): Promise<number> {
  let stop: (signal: string) => void = () => {};
  let logFailed = false;
  const output = createLogOutput(io, options.logFormat, options.color, (error) => {
    logFailed = true;
    io.stderr.write(`tdefer: cannot write the log (${error.message}); stopping, as output would be lost\n`);
    stop("log output failed");
  });
  // Operations (HTTP, metrics) see every event the log does.
  let ops: Ops | undefined;
  const log: LogOutput = {
    ...output,
    emit: (event) => {
      output.emit(event);
      ops?.observe(event);
    },
    emitAt: (event, timeMs) => log.emit({ timeMs, ...event } as LogEvent),
  };
  const reactor = new Reactor({
    onError: (error) =>
      log.emitAt({ event: "error", level: "error", message: `internal error: ${String(error)}` }, Date.now()),
  });
  const emitNow = (event: LogEventInput) => log.emitAt(event, reactor.wallNow());
  // systemd's notification variables are tdefer's, not its jobs' (sd_notify's unset_environment).
  const jobEnv: NodeJS.ProcessEnv = { ...io.env };
  for (const key of ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"]) delete jobEnv[key];
  const scheduler = new Scheduler({
    clock: reactor,
    emit: (event) => log.emit(event),
    startRun: (job, context) => {
      const run = startJobRun(job, context, { reactor, log, env: jobEnv });
      return {
        done: run.done.then((result) => ({ killedHard: result.killedHard })),
        stop: (reason) => run.stop(reason),
        kill: (reason) => run.kill(reason),
      };
    },
  });

  const notifying = schedule.jobs.some((job) => job.notify !== undefined);
  if (http || notifying) {
    // Loaded only when asked for: prom-client costs start-up time that a plain run need not pay.
    const { Ops } = await import("../../ops/ops.js");
    ops = new Ops({
      clock: reactor,
      control: scheduler,
      formatEvent: formatJson,
      notify: {
        runCommand: notifyCommandRunner(reactor, jobEnv),
        host: hostname(),
        schedule: path,
        warn: (message, job) => emitNow({ event: "warning", level: "warn", job, message }),
      },
      info: { version, file: path, zone: schedule.zone, startedMs: reactor.wallNow(), ledger: "none" },
      onError: (error) =>
        emitNow({ event: "error", level: "error", message: `HTTP handler failed: ${String(error)}` }),
    });
  }
  if (ops && http) {
    try {
      const bound = await ops.listen(http.address, http.token);
      emitNow({
        event: "http_listening",
        level: "info",
        url: `http://${bound.host.includes(":") ? `[${bound.host}]` : bound.host}:${bound.port}/`,
      });
    } catch (error) {
      io.stderr.write(`tdefer run: ${(error as Error).message}\n`);
      await ops.close();
      reactor.close();
      await log.close();
      return 1;
    }
  }

  let systemd: SystemdNotifier | undefined;
  if (io.env.NOTIFY_SOCKET) {
    const sd = await import("../../ops/sd-notify.js");
    try {
      const socket = await sd.openNotifySocket(io.env, (error) =>
        emitNow({
          event: "warning",
          level: "warn",
          message: `sd_notify: cannot tell systemd: ${error.message}`,
        }),
      );
      if (socket) {
        systemd = new sd.SystemdNotifier({
          socket,
          clock: reactor,
          control: scheduler,
          zone: schedule.zone,
          watchdogMs: sd.watchdogIntervalMs(io.env, process.pid),
          wallNow: () => reactor.wallNow(),
        });
      }
    } catch (error) {
      emitNow({ event: "warning", level: "warn", message: `sd_notify is off: ${(error as Error).message}` });
    }
  }

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
    ops?.setReady(false);
    systemd?.stopping();
    stopping = scheduler.stop(options.grace, signal);
    stopRequested();
  };
  const reload = (): void => {
    if (stopping) return;
    systemd?.reloading();
    try {
      const next = loadSchedule(path, options, { forRunning: true });
      checkRunnable(next, path);
      emitNow({ event: "reload_applied", level: "info", ...scheduler.reload(next) });
      if (!ops && next.jobs.some((job) => job.notify !== undefined)) {
        emitNow({
          event: "warning",
          level: "warn",
          message: "notify: takes effect at the next start (this run began without notifications)",
        });
      }
    } catch (error) {
      emitNow({ event: "reload_refused", level: "error", errors: configErrorLines(error) });
    }
    systemd?.ready();
  };
  let internalError = false;
  const removeLastResort = stopOnInternalError(io.stderr, () => {
    internalError = true;
    stop("internal error");
  });
  const onSigint = () => stop("SIGINT");
  const onSigterm = () => stop("SIGTERM");
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigterm);
  process.on("SIGHUP", reload);
  const forTimer =
    options.for !== undefined ? reactor.callLater(options.for, () => stop("--for")) : undefined;

  scheduler.start(schedule);
  ops?.setReady(true);
  systemd?.ready();
  // Runs until nothing is left to fire and nothing runs, or until a stop has begun.
  await Promise.race([scheduler.whenIdle(), stopRequest]);
  ops?.setReady(false);
  const result = stopping ? await stopping : { killed: 0 };
  await ops?.close();
  systemd?.close();
  if (forTimer?.active()) forTimer.cancel();
  process.off("SIGINT", onSigint);
  process.off("SIGTERM", onSigterm);
  process.off("SIGHUP", reload);
  reactor.close();
  await log.close();
  removeLastResort();
  // A log that could not be written is a runtime failure: the output it dropped is lost.
  return result.killed > 0 || logFailed || internalError ? 1 : 0;
}
