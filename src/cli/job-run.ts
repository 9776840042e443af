import type { WallClock } from "../clock/clock.js";
import {
  type FinishUpdate,
  OUTPUT_TAIL_BYTES,
  OUTPUT_TAIL_LINES,
  type OutputTail,
} from "../ledger/ledger.js";
import type { LogEvent } from "../log/events.js";
import { holdsLines, lastOutputLines } from "../log/output-lines.js";
import { type RunHandle, type RunResult, type RunSpec, runJob } from "../runner/run-job.js";
import type { Spawner } from "../runner/spawner.js";
import type { JobSpec } from "../schedule/types.js";
import { lookupUser, resolveId } from "./identity.js";
import type { LogOutput } from "./log-output.js";
import type { ProcessGroupTracker } from "./shell.js";

/** Starts one run of a job on the command's clock and spawner, logging to `log` (for `run` and `trigger`). */
export function startJobRun(
  job: JobSpec,
  context: RunIdentity,
  deps: {
    readonly clock: WallClock;
    readonly spawner: Spawner;
    readonly log: LogOutput;
    readonly env: NodeJS.ProcessEnv;
    /** Keeps the last lines of the run's output, for its ledger record. */
    readonly tail?: OutputTail;
    /** Remembers the run's process group until it is empty, so a stop can end what the run left behind. */
    readonly groups?: ProcessGroupTracker;
  },
): RunHandle {
  const { clock, spawner, log, tail, groups } = deps;
  const recent = tail ? new RecentOutput(tail) : undefined;
  return runJob(runSpecOf(job, context, deps.env), {
    clock,
    spawner: groups ? groups.tracking(spawner, job.killSignal) : spawner,
    emit: recent
      ? (event) => {
          if (event.event === "output") recent.push(event.line);
          else if (event.event === "output_lines") recent.push(event);
          // The record is made after the last attempt's `finished`: its tail must be complete by then.
          else if (event.event === "finished") recent.flush();
          log.emit(event);
        }
      : (event) => log.emit(event),
    wallNow: () => clock.wallNow(),
    writable: log.backpressure,
    outputLines: true,
  });
}

/**
 * A run's output on its way to the ledger's tail, decoded only when the tail needs it: a chunk of at least
 * OUTPUT_TAIL_LINES lines, or a piece of an over-long line that fills the tail alone, makes everything before it
 * irrelevant, so at pipe speed nothing is decoded until the run finishes. Holds at most two chunks and
 * OUTPUT_TAIL_LINES lines or pieces.
 */
export class RecentOutput {
  private held: (string | OutputLines)[] = [];
  private chunks = 0;

  constructor(private readonly tail: OutputTail) {}

  /** A line (an `output` event's), or several (an `output_lines` event). */
  push(output: string | OutputLines): void {
    if (typeof output !== "string" && supersedes(output)) {
      this.held = [output];
      this.chunks = output.continues ? 0 : 1;
      return;
    }
    this.held.push(output);
    if (typeof output !== "string" && !output.continues) this.chunks++;
    if (this.chunks > 1 || this.held.length > OUTPUT_TAIL_LINES) this.flush();
  }

  /** Hands what is held to the tail, in order. */
  flush(): void {
    for (const output of this.held) {
      if (typeof output === "string") this.tail.push(output);
      else for (const line of lastOutputLines(output, OUTPUT_TAIL_LINES)) this.tail.push(line);
    }
    this.held = [];
    this.chunks = 0;
  }
}

type OutputLines = Extract<LogEvent, { event: "output_lines" }>;

/**
 * Whether the tail after `output` holds nothing from before it: it has OUTPUT_TAIL_LINES lines, or it is a piece of
 * an over-long line that fills the tail's bytes alone (the tail keeps the end of such a line, and only it).
 */
function supersedes(output: OutputLines): boolean {
  if (output.continues) return output.bytes.length >= OUTPUT_TAIL_BYTES;
  return holdsLines(output.bytes, OUTPUT_TAIL_LINES);
}

/** Which fire a run is: its id, its nominal time and, with a ledger, its claim's fence. */
export interface RunIdentity {
  readonly runId: string;
  readonly scheduledMs: number;
  readonly fence?: number;
}

/** The ledger's record of a finished run. */
export function ledgerRecordOf(
  result: RunResult,
  tail: OutputTail | undefined,
): Omit<FinishUpdate, "finishedAtMs"> {
  const state = result.ok
    ? "succeeded"
    : result.timedOut
      ? "timed_out"
      : result.stopped
        ? "killed"
        : "failed";
  const outputTail = tail?.text();
  return {
    state,
    ...(result.error !== undefined ? { reason: result.error } : {}),
    attempts: result.attempts,
    exitCode: result.exitCode,
    signal: result.signal,
    durationMs: Math.round(result.durationMs),
    ...(outputTail !== undefined ? { outputTail } : {}),
  };
}

/** What the runner needs for one run of a job: the command as a program and argv, the merged environment. */
export function runSpecOf(job: JobSpec, context: RunIdentity, baseEnv: NodeJS.ProcessEnv): RunSpec {
  const [file, ...args] =
    job.command.kind === "shell" ? [job.command.shell, "-c", job.command.script] : job.command.argv;
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(baseEnv)) if (value !== undefined) env[key] = value;
  const identity = identityOf(job);
  Object.assign(env, identity.env, job.env);
  // Set by tdefer, after the file's env: a job cannot be told a fence it does not hold.
  if (context.fence !== undefined) env.TDEFER_FENCE = String(context.fence);
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
    ...(identity.uid !== undefined ? { uid: identity.uid } : {}),
    ...(identity.gid !== undefined ? { gid: identity.gid } : {}),
    ...(job.stdin !== undefined ? { stdin: job.stdin } : {}),
  };
}

/**
 * Who a job runs as. With `user`, the group is `group` or else the user's own from /etc/passwd (never tdefer's
 * root group; a numeric id without an entry gets the group of the same number), and HOME, USER and LOGNAME
 * are the user's, as cron sets them (the file's `env` can still override them). Supplementary groups are
 * dropped whenever a user or group is set.
 */
function identityOf(job: JobSpec): { uid?: number; gid?: number; env: Record<string, string> } {
  const gid = job.group !== undefined ? resolveId(job.group, "group") : undefined;
  if (job.user === undefined) return { ...(gid !== undefined ? { gid } : {}), env: {} };
  const entry = lookupUser(job.user);
  const uid = entry?.uid ?? resolveId(job.user, "user");
  return {
    uid,
    gid: gid ?? entry?.gid ?? uid,
    env: entry ? { HOME: entry.home, USER: entry.name, LOGNAME: entry.name } : {},
  };
}
