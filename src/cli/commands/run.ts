import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import type { DelayedCall, WallClock } from "../../clock/clock.js";
import { EXIT_CONFIG, EXIT_FAILURE, EXIT_USAGE, UserError } from "../../errors.js";
import { type Ledger, OutputTail, type RunRecord } from "../../ledger/ledger.js";
import type { PostgresLedger } from "../../ledger/postgres.js";
import type { LogEvent, LogEventInput } from "../../log/events.js";
import { formatJson } from "../../log/format-json.js";
import type { RunJson, RunQuery } from "../../ops/api.js";
import {
  DEFAULT_HTTP_ADDRESS,
  type HttpAddress,
  isLoopback,
  parseHttpAddress,
} from "../../ops/http-address.js";
import type { Ops } from "../../ops/ops.js";
import type { SystemdNotifier } from "../../ops/sd-notify.js";
import type { JobControl } from "../../ops/view.js";
import type { Schedule } from "../../schedule/types.js";
import { watchClockSkew } from "../../scheduler/clock-skew.js";
import { Scheduler } from "../../scheduler/scheduler.js";
import type { RunOptions } from "../command-line.js";
import { configErrorLines } from "../config.js";
import { ledgerRecordOf, startJobRun } from "../job-run.js";
import { stopOnInternalError } from "../last-resort.js";
import { createLogOutput, type LogOutput } from "../log-output.js";
import { notifyCommandRunner } from "../notify-command.js";
import { warningEvent } from "../preflight.js";
import { type ScheduleSource, scheduleSource } from "../schedule-source.js";
import type { ShellDeps } from "../shell.js";
import {
  describeState,
  openLedger,
  ownerId,
  ownerMayBeAlive,
  type StateSelection,
  selectState,
} from "../state.js";
import { checkRunnable } from "../trust.js";
import { runningUid } from "../trusted-file.js";
import { version } from "../version.js";

/**
 * `tdefer run`: reads, checks and runs the schedule on the clock, spawner and signals of `deps` until it is
 * stopped or has nothing left to do. Returns the exit status: 0 after a clean stop, 1 when a job had to be
 * killed, the log failed or tdefer had an internal error; throws a UserError for a mistake in the input.
 */
export async function runCommand(
  file: string | undefined,
  options: RunOptions,
  deps: ShellDeps,
): Promise<number> {
  const { io } = deps;
  let http: HttpSettings | undefined;
  try {
    http = httpSettingsOf(options);
  } catch (error) {
    throw new UserError(`tdefer run: ${(error as Error).message}`, EXIT_USAGE);
  }
  const { schedulePath, loadSchedule } = await scheduleSource(options);
  const path = schedulePath(file, options, io.cwd);
  let schedule = loadSchedule(path, options, { forRunning: true, nowMs: io.nowMs() });
  // What would only fail a fire is logged with the file's own warnings, as `check` shows it.
  const preflightWarnings = checkRunnable(schedule, { env: io.env });
  schedule = { ...schedule, warnings: [...schedule.warnings, ...preflightWarnings] };
  const state = selectState(schedule, {
    ...(options.state !== undefined ? { flag: options.state } : {}),
    env: io.env,
    cwd: io.cwd,
  });
  if (http === undefined && schedule.http !== undefined) {
    try {
      http = httpSettingsOf({ ...options, http: schedule.http });
    } catch (error) {
      throw new UserError(`tdefer run: ${path}: http: ${(error as Error).message}`, EXIT_CONFIG);
    }
  }
  if (http === undefined && options.httpTokenFile !== undefined)
    throw new UserError("tdefer run: --http-token-file needs --http (or http: in the file)", EXIT_USAGE);
  return runSchedule(schedule, path, loadSchedule, state, options, http, deps);
}

/** V8 shrinks its young generation only when allocation was low over its last 5 s: the second collection waits more. */
const LATER_COLLECTION_MS = 10_000;

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
  loadSchedule: ScheduleSource["loadSchedule"],
  state: StateSelection,
  options: RunOptions,
  http: HttpSettings | undefined,
  deps: ShellDeps,
): Promise<number> {
  const { io } = deps;
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
  const reactor = deps.clock((error) =>
    log.emitAt(
      { event: "error", level: "error", message: `internal error: ${String(error)}` },
      reactor.wallNow(),
    ),
  );
  const groups = deps.processGroups(reactor);
  const emitNow = (event: LogEventInput) => log.emitAt(event, reactor.wallNow());
  let ledger: Ledger | undefined;
  // Replicas share a PostgreSQL ledger: every grids on the epoch, a fire never run unclaimed, lost runs looked for.
  const shared = state.kind === "postgres";
  const location = describeState(state);
  try {
    ledger = await openLedger(state, schedule, {
      now: () => reactor.wallNow(),
      ...(runningUid() === 0 ? { trustUid: 0 } : {}),
      callLater: (delayMs, fn) => reactor.callLater(delayMs, fn),
      onAvailability: (up, error) =>
        emitNow(
          up
            ? { event: "ledger_up", level: "info", location }
            : { event: "ledger_down", level: "error", location, error: error ?? "no answer" },
        ),
    });
  } catch (error) {
    // A ledger that cannot be used is refused at start: never a silent run without memory.
    reactor.close?.();
    await log.close();
    throw error;
  }
  // systemd's notification variables are tdefer's, not its jobs' (sd_notify's unset_environment).
  const jobEnv: NodeJS.ProcessEnv = { ...io.env };
  for (const key of ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"]) delete jobEnv[key];
  const scheduler = new Scheduler({
    clock: reactor,
    emit: (event) => log.emit(event),
    ...(ledger ? { ledger, owner: ownerId(deps.pid), ownerAlive: ownerMayBeAlive } : {}),
    ...(schedule.ledgerLeaseMs !== undefined ? { leaseMs: schedule.ledgerLeaseMs } : {}),
    ledgerDown: schedule.ledgerDown ?? (shared ? "skip" : "run"),
    sharedLedger: shared,
    everyAnchor: shared ? "epoch" : "start",
    startRun: (job, context) => {
      const tail = ledger ? new OutputTail() : undefined;
      const run = startJobRun(job, context, {
        clock: reactor,
        spawner: deps.spawner,
        log,
        env: jobEnv,
        groups,
        ...(tail ? { tail } : {}),
      });
      return {
        done: run.done.then((result) => ({
          killedHard: result.killedHard,
          record: ledgerRecordOf(result, tail),
        })),
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
      control: ledger ? persistingPauses(scheduler, ledger, emitNow) : scheduler,
      ...(ledger ? { history: ledgerHistory(ledger), ledgerHealth: () => ledgerProbe?.problem } : {}),
      formatEvent: formatJson,
      notify: {
        runCommand: notifyCommandRunner(reactor, deps.spawner, jobEnv),
        host: hostname(),
        schedule: path,
        warn: (message, job) => emitNow({ event: "warning", level: "warn", job, message }),
      },
      info: {
        version,
        file: path,
        zone: schedule.zone,
        startedMs: reactor.wallNow(),
        ledger: describeState(state),
      },
      onError: (error) =>
        emitNow({ event: "error", level: "error", message: `HTTP handler failed: ${String(error)}` }),
    });
  }
  // /healthz says whether the ledger answers: asked every 10 s on the scheduler's clock, never per request.
  const ledgerProbe = ledger && http ? probeLedger(ledger, reactor) : undefined;
  if (ops && http) {
    try {
      const bound = await ops.listen(http.address, http.token);
      emitNow({
        event: "http_listening",
        level: "info",
        url: `http://${bound.host.includes(":") ? `[${bound.host}]` : bound.host}:${bound.port}/`,
      });
    } catch (error) {
      await ops.close();
      reactor.close?.();
      await log.close();
      throw new UserError(`tdefer run: ${(error as Error).message}`, EXIT_FAILURE);
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
          watchdogMs: sd.watchdogIntervalMs(io.env, deps.pid),
          wallNow: () => reactor.wallNow(),
        });
      }
    } catch (error) {
      emitNow({ event: "warning", level: "warn", message: `sd_notify is off: ${(error as Error).message}` });
    }
  }

  emitNow({
    event: "loaded",
    level: "info",
    file: path,
    jobs: schedule.jobs.length,
    state: describeState(state),
  });
  for (const warning of schedule.warnings) emitNow(warningEvent(warning));

  let current = schedule;
  let stopping: Promise<{ killed: number }> | undefined;
  let groupsEnding: Promise<void> | undefined;
  const endGroups = (): Promise<void> => {
    if (groupsEnding) return groupsEnding;
    const left = groups.leftovers();
    if (left > 0) {
      emitNow({
        event: "warning",
        level: "warn",
        message: `ending ${left} process ${left === 1 ? "group" : "groups"} that finished runs left behind (their kill_signal, SIGKILL after the grace)`,
      });
    }
    groupsEnding = groups.end(options.grace);
    return groupsEnding;
  };
  let stopRequested!: () => void;
  const stopRequest = new Promise<void>((resolve) => {
    stopRequested = resolve;
  });
  stop = (signal: string): void => {
    if (stopping) {
      scheduler.killAll(); // a second signal skips the rest of the grace
      groups.killAll();
      return;
    }
    ops?.setReady(false);
    systemd?.stopping();
    stopping = scheduler.stop(options.grace, signal);
    endGroups();
    stopRequested();
  };
  const reload = (): void => {
    if (stopping) return;
    systemd?.reloading();
    try {
      const next = loadSchedule(path, options, { forRunning: true, nowMs: reactor.wallNow() });
      const preflightWarnings = checkRunnable(next, { env: io.env });
      emitNow({ event: "reload_applied", level: "info", ...scheduler.reload(next) });
      for (const warning of preflightWarnings) emitNow(warningEvent(warning));
      if (!ops && next.jobs.some((job) => job.notify !== undefined)) {
        emitNow({
          event: "warning",
          level: "warn",
          message: "notify: takes effect at the next start (this run began without notifications)",
        });
      }
      current = next;
    } catch (error) {
      emitNow({ event: "reload_refused", level: "error", errors: configErrorLines(error) });
    }
    releaseReadingMemory();
    systemd?.ready();
  };
  // Reading a schedule leaves garbage that an idle daemon would keep as RSS for good (~100 MB for 100,000 jobs):
  // collect it at once, and again once allocation has calmed down, when V8 also gives back the young generation it
  // grew for the reading (it shrinks that only while little is allocated).
  let laterCollection: DelayedCall | undefined;
  const releaseReadingMemory = (): void => {
    deps.collectGarbage();
    if (laterCollection?.active()) laterCollection.cancel();
    laterCollection = reactor.callLater(LATER_COLLECTION_MS, () => deps.collectGarbage());
  };
  let internalError = false;
  const removeLastResort = stopOnInternalError(
    io.stderr,
    () => {
      internalError = true;
      stop("internal error");
    },
    deps.signals,
  );
  const removeStopSignals = deps.signals.onStop(stop);
  const removeReload = deps.signals.onReload(reload);
  const forTimer =
    options.for !== undefined ? reactor.callLater(options.for, () => stop("--for")) : undefined;

  if (ledger) {
    try {
      // Paused over the API before a restart: still paused.
      const jobs = await ledger.jobs();
      scheduler.setPaused(jobs.filter((job) => job.pausedAtMs !== null).map((job) => job.job));
    } catch (error) {
      emitNow({
        event: "error",
        level: "error",
        message: `the ledger failed reading paused jobs: ${String(error)}`,
      });
    }
  }
  const sharedLedger = shared ? (ledger as PostgresLedger) : undefined;
  const skewWatch =
    sharedLedger !== undefined
      ? watchClockSkew({
          clock: reactor,
          measure: () => sharedLedger.dbNow(),
          onSkew: (skewMs) => emitNow({ event: "clock_skew", level: "warn", skewMs }),
        })
      : undefined;
  await scheduler.start(schedule);
  ops?.setReady(true);
  systemd?.ready();
  releaseReadingMemory();
  // Runs until nothing is left to fire and nothing runs, or until a stop has begun.
  await Promise.race([scheduler.whenIdle(), stopRequest]);
  ops?.setReady(false);
  const result = stopping ? await stopping : { killed: 0 };
  ledgerProbe?.stop();
  await endGroups(); // also when run ends by itself: what its runs left in their groups goes with it
  // Ending by itself is easy to mistake for a crash under a supervisor, which would restart it in a loop.
  if (!stopping) emitNow({ event: "stopped", level: "warn", killed: 0, reason: whyNothingIsLeft(current) });
  await ops?.close();
  systemd?.close();
  if (forTimer?.active()) forTimer.cancel();
  if (laterCollection?.active()) laterCollection.cancel();
  removeStopSignals();
  removeReload();
  skewWatch?.stop();
  sharedLedger?.stopWaiting();
  await scheduler.ledgerSettled();
  await ledger?.close();
  reactor.close?.();
  await log.close();
  removeLastResort();
  // A log that could not be written is a runtime failure: the output it dropped is lost.
  return result.killed > 0 || logFailed || internalError ? EXIT_FAILURE : 0;
}

/** Asks the ledger every 10 s whether it answers; `problem` says why not, undefined while it does. */
function probeLedger(ledger: Ledger, reactor: WallClock): { problem: string | undefined; stop(): void } {
  const probe = {
    problem: undefined as string | undefined,
    call: undefined as DelayedCall | undefined,
    stopped: false,
    stop() {
      probe.stopped = true;
      if (probe.call?.active()) probe.call.cancel();
    },
  };
  const ask = (): void => {
    Promise.resolve()
      .then(() => ledger.jobs())
      .then(
        () => {
          probe.problem = undefined;
        },
        (error: unknown) => {
          probe.problem = error instanceof Error ? error.message : String(error);
        },
      )
      .finally(() => {
        if (!probe.stopped) probe.call = reactor.callLater(10_000, ask);
      });
  };
  ask();
  return probe;
}

/** The scheduler as operations control it, with pause and resume kept in the ledger to outlive a restart. */
function persistingPauses(
  scheduler: Scheduler,
  ledger: Ledger,
  emitNow: (event: LogEventInput) => void,
): JobControl {
  const keep = (name: string, paused: boolean): void => {
    Promise.resolve()
      .then(() => ledger.setPaused(name, paused))
      .catch((error: unknown) =>
        emitNow({
          event: "error",
          level: "error",
          job: name,
          message: `the ledger failed keeping the pause: ${String(error)}`,
        }),
      );
  };
  return {
    jobViews: () => scheduler.jobViews(),
    runNow: (name) => scheduler.runNow(name),
    pause: (name) => {
      const known = scheduler.pause(name);
      if (known) keep(name, true);
      return known;
    },
    resume: (name) => {
      const known = scheduler.resume(name);
      if (known) keep(name, false);
      return known;
    },
  };
}

/** The API's and page's recent runs, read from the ledger (final records only; running ones show as running). */
function ledgerHistory(ledger: Ledger): (query: RunQuery) => Promise<readonly RunJson[]> {
  return async (query) => {
    const records = await ledger.history({
      ...(query.job !== undefined ? { jobs: [query.job] } : {}),
      ...(query.failed ? { failedOnly: true } : {}),
      limit: query.limit,
    });
    return records.map(runJsonOf);
  };
}

function runJsonOf(record: RunRecord): RunJson {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    job: record.job,
    run: record.runId ?? "",
    trigger: record.trigger,
    result: record.state,
    exit_code: record.exitCode,
    signal: record.signal,
    scheduled_at: new Date(record.scheduledAtMs).toISOString(),
    started_at: iso(record.startedAtMs),
    finished_at: iso(record.finishedAtMs),
    duration_ms: record.durationMs,
    late_ms: record.lateMs,
    attempts: record.attempts,
    ...(record.owner !== null ? { owner: record.owner } : {}),
    ...(record.reason !== null ? { reason: record.reason } : {}),
    ...(record.outputTail !== null ? { output_tail: record.outputTail.split("\n") } : {}),
  };
}

/** Why a schedule has nothing left to fire: every job disabled, or every one-shot done. */
export function whyNothingIsLeft(schedule: Schedule): string {
  const disabled = schedule.jobs.filter((job) => !job.enabled).length;
  const oneShots = schedule.jobs.filter(
    (job) => job.enabled && (job.trigger.kind === "after" || job.trigger.kind === "at"),
  ).length;
  if (schedule.jobs.length > 0 && disabled === schedule.jobs.length)
    return `nothing left to fire: every job is disabled (enabled: false), so tdefer ends`;
  const parts = [
    oneShots > 0 ? `${oneShots} one-shot${oneShots === 1 ? "" : "s"} (after/at) done` : "",
    disabled > 0 ? `${disabled} job${disabled === 1 ? "" : "s"} disabled` : "",
  ].filter((part) => part !== "");
  return `nothing left to fire${parts.length > 0 ? `: ${parts.join(", ")}` : ""}, so tdefer ends; add an every or cron job to keep it running`;
}
