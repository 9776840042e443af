// The validated schedule: plain readonly data. Nothing after validate.ts sees raw YAML.

import type { ScheduleProblem } from "../errors.js";
import type { CronSchedule } from "./cron.js";

export type OverlapPolicy = "skip" | "queue" | "replace" | "allow";

export interface EveryTrigger {
  readonly kind: "every";
  readonly intervalMs: number;
  /** Also run at start (LoopingCall's `now`). */
  readonly now: boolean;
}

export interface AfterTrigger {
  readonly kind: "after";
  readonly delayMs: number;
}

export interface AtTrigger {
  readonly kind: "at";
  /** The resolved instants, ascending, with the text each came from. */
  readonly times: readonly { readonly timeMs: number; readonly text: string }[];
  /** The zone wall times without an offset were read in. */
  readonly zone: string;
}

export interface CronTrigger {
  readonly kind: "cron";
  readonly expression: string;
  readonly zone: string;
  /**
   * The expression parsed once, for this zone and job (H): what the trigger fires by. Not enumerable (see
   * cronTrigger in cron.ts), so that the trigger compares and serialises as the plain data above.
   */
  readonly recurrence: CronSchedule;
}

export type Trigger = EveryTrigger | AfterTrigger | AtTrigger | CronTrigger;

export type Command =
  | { readonly kind: "shell"; readonly script: string; readonly shell: string }
  | { readonly kind: "argv"; readonly argv: readonly [string, ...string[]] };

/** How a failed run is tried again. The delay before attempt n+1 is min(delayMs·backoff^(n−1), maxDelayMs). */
export interface RetrySpec {
  /** Total attempts including the first. */
  readonly attempts: number;
  readonly delayMs: number;
  readonly backoff: number;
  readonly maxDelayMs: number;
}

/** What a notifier is told about (`notify.when`). */
export type NotifyWhen = "failure" | "permanent_failure" | "timeout" | "missed" | "lost" | "success";

export const NOTIFY_WHEN: readonly NotifyWhen[] = [
  "failure",
  "permanent_failure",
  "timeout",
  "missed",
  "lost",
  "success",
];

/** A job's notifications: a command, a webhook, or both, for the events in `when`. */
export interface NotifySpec {
  readonly when: readonly NotifyWhen[];
  readonly command?: Command;
  /** POSTed the event as JSON. Treated as a secret: never logged whole. */
  readonly webhook?: string;
}

/** Fires missed while tdefer was down, run at start: the newest only, or each in order. */
export interface CatchUpSpec {
  readonly withinMs: number;
  readonly runs: "latest" | "all";
}

export interface JobSpec {
  readonly name: string;
  readonly trigger: Trigger;
  readonly jitterMs: number;
  readonly command: Command;
  readonly cwd: string;
  /** The file's env merged with the job's (job wins). Never logged. */
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number | undefined;
  readonly killSignal: NodeJS.Signals;
  readonly killGraceMs: number;
  readonly overlap: OverlapPolicy;
  readonly retry: RetrySpec | undefined;
  readonly user: string | undefined;
  readonly group: string | undefined;
  readonly enabled: boolean;
  readonly description: string | undefined;
  /** Who is told when a run fails (or succeeds, is missed…). */
  readonly notify?: NotifySpec;
  /** Written to the command's standard input, which is then closed; without it stdin is /dev/null. */
  readonly stdin?: string;
  /** Absent: missed fires are recorded as missed, never run. */
  readonly catchUp?: CatchUpSpec;
  /** A run in flight when tdefer died: recorded lost (abandon, the default) or run again. */
  readonly onLost?: "abandon" | "rerun";
}

export interface Schedule {
  /** The file it was read from (absolute). */
  readonly file: string;
  /** Its name in the ledger: top-level `name:`, else the file's base name without extension. */
  readonly name?: string;
  /** The file's `state:` as written (a path relative to the file, a URL, or none). */
  readonly state?: string;
  /** Ledger records older than this are pruned (`ledger: { keep }`). */
  readonly ledgerKeepMs?: number;
  /** A claim's lease (`ledger: { lease }`); absent: the default. */
  readonly ledgerLeaseMs?: number;
  /** `ledger: { down }`: a fire while the ledger does not answer; absent: skip with PostgreSQL, run with SQLite. */
  readonly ledgerDown?: "skip" | "run";
  readonly zone: string;
  readonly maxParallel: number | undefined;
  /** Where `run` serves the status page and API (`http:`), when the file says; --http overrides it. */
  readonly http?: string;
  readonly jobs: readonly JobSpec[];
  /** What is valid but probably not meant, located as problems are (a warning does not stop the file). */
  readonly warnings: readonly ScheduleProblem[];
}
