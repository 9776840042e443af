// What the HTTP API, the page and the metrics see of a running tdefer: read-only views of the scheduler and
// the run tracker, and the few actions an operator may take. The CLI wires them to the real things.
import type { JobView, ManualRunOutcome } from "../scheduler/scheduler.js";

export type { JobView, ManualRunOutcome };

/** The scheduler as operations see it: what it holds, and the operator's actions on a job. */
export interface JobControl {
  jobViews(): readonly JobView[];
  /** A manual run now under the job's overlap rule; undefined when there is no such job. */
  runNow(name: string): ManualRunOutcome | undefined;
  /** False when there is no such job. */
  pause(name: string): boolean;
  resume(name: string): boolean;
}

/** Facts about the running daemon, for the page header, /readyz and sd_notify's STATUS. */
export interface DaemonInfo {
  readonly version: string;
  /** The schedule file. */
  readonly file: string;
  /** The schedule file's zone. */
  readonly zone: string;
  readonly startedMs: number;
  /** Where the ledger is, or "none". */
  readonly ledger: string;
}
