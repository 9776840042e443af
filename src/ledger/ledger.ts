// The Ledger: one record per fire of a schedule's jobs, kept in a real database. The scheduler claims a fire
// before it starts it (the restart guard, and once-only across replicas) and finishes it after; history, catch-up,
// the status page and metrics read it. Implementations: sqlite.ts (one machine), memory.ts (unit tests only), and
// any other store (PostgreSQL) that keeps the same contract.

import { EXIT_CONFIG, UserError } from "../errors.js";
import type { OverlapPolicy } from "../schedule/types.js";

/**
 * A value now or later. Every Ledger method returns one: a synchronous store (SQLite) returns the value itself,
 * so that the scheduler starts a claimed fire without waiting a turn; a networked one (PostgreSQL) a Promise.
 * Callers that do not care simply `await` it.
 */
export type Awaitable<T> = T | Promise<T>;

/** Where a record is in its life. `claimed` and `running` hold a lease; every other state is final. */
export type RunState =
  | "claimed"
  | "running"
  | "succeeded"
  | "failed"
  | "timed_out"
  | "killed"
  | "skipped"
  | "missed"
  | "lost";

/** The states a finished run can end in. */
export type FinishedState = "succeeded" | "failed" | "timed_out" | "killed";

/** The states a fire that never ran is recorded with. */
export type NotRunState = "skipped" | "missed";

/** Why a fire was started: its schedule, a catch-up after downtime, or `tdefer trigger`. */
export type RunTrigger = "schedule" | "catch_up" | "manual";

/** The states whose records hold a lease: the run is (or was, if its owner died) in flight. */
export const IN_FLIGHT_STATES: readonly RunState[] = ["claimed", "running"];

/** The final states that count as a failure (`history --failed`). */
export const FAILED_STATES: readonly RunState[] = ["failed", "timed_out", "killed", "lost"];

/** A fire's key: unique per schedule, job and nominal instant. */
export interface FireKey {
  readonly job: string;
  /** The nominal instant of the fire, UTC ms, before jitter (for a DST-moved cron fire, the instant it runs at). */
  readonly scheduledAtMs: number;
}

/** One record: one fire of one job. Times are ms since the epoch; absent values are null. */
export interface RunRecord extends FireKey {
  /** The schedule's name (top-level `name:`, or the file's base name). */
  readonly schedule: string;
  readonly state: RunState;
  /** Why a fire was skipped, missed or lost, or why a run could not start. */
  readonly reason: string | null;
  readonly runId: string | null;
  /** Who claimed it: `host:pid`. */
  readonly owner: string | null;
  /** Grows with every claim in this ledger (never reused, pruning included); TDEFER_FENCE of the run. */
  readonly fence: number | null;
  readonly leaseUntilMs: number | null;
  readonly claimedAtMs: number | null;
  readonly startedAtMs: number | null;
  readonly finishedAtMs: number | null;
  readonly attempts: number;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly durationMs: number | null;
  /** From the nominal instant to the start of the first attempt. */
  readonly lateMs: number | null;
  readonly trigger: RunTrigger;
  /** The last lines of the run's output (at most {@link OUTPUT_TAIL_LINES} lines, {@link OUTPUT_TAIL_BYTES} bytes). */
  readonly outputTail: string | null;
}

/** At most this many lines of a run's output are kept in its record. */
export const OUTPUT_TAIL_LINES = 50;
/** At most this many bytes (UTF-8) of a run's output are kept in its record. */
export const OUTPUT_TAIL_BYTES = 8 * 1024;

export interface ClaimRequest extends FireKey {
  readonly trigger: RunTrigger;
  readonly runId: string;
  /** `host:pid` of the claimer. */
  readonly owner: string;
  /** The lease lasts this long from the store's now; the owner renews it every leaseMs/3 while the run goes. */
  readonly leaseMs: number;
  /**
   * The job's overlap policy. A store shared by replicas (PostgreSQL) decides `skip` and `replace` across them in
   * the claim's transaction; a local store leaves overlap to the scheduler.
   */
  readonly overlap?: OverlapPolicy;
  /**
   * What the fire does apart from the job's name (a digest of its command and trigger). A store also refuses a
   * claim on a fire of the same work at the same instant, so that replicas part-way through a reload that renames
   * a job do not run its fire under both names.
   */
  readonly work?: string;
}

/** A new claim on a record whose owner died: who takes it over. */
export type ReclaimRequest = Omit<ClaimRequest, keyof FireKey | "trigger">;

/** A record in flight, and whether its lease ended before now (the store's now). */
export interface InFlightRecord extends RunRecord {
  readonly leaseExpired: boolean;
}

/** A claim that succeeded: this process, and only it, may run the fire. */
export interface Claim extends FireKey {
  readonly fence: number;
}

export interface StartUpdate {
  readonly startedAtMs: number;
  readonly lateMs: number;
}

export interface FinishUpdate {
  /** `skipped`: claimed, but never started (tdefer stopped first). */
  readonly state: FinishedState | "skipped";
  readonly reason?: string;
  readonly finishedAtMs: number;
  readonly attempts: number;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly durationMs: number;
  readonly outputTail?: string;
}

export interface NotRunRecord extends FireKey {
  readonly state: NotRunState;
  readonly reason: string;
  readonly trigger: RunTrigger;
}

export interface HistoryQuery {
  /** Only these jobs (all when absent or empty). */
  readonly jobs?: readonly string[];
  /** Only fires scheduled at or after this instant. */
  readonly sinceMs?: number;
  /** At most this many records (newest first). */
  readonly limit?: number;
  /** Only failed, timed out, killed and lost runs. */
  readonly failedOnly?: boolean;
}

/** What the ledger knows of one job of the schedule, for catch-up, the status page and pause/resume. */
export interface JobRecord {
  readonly job: string;
  /** When this schedule first ran the job: a job is never caught up before it existed. */
  readonly firstSeenMs: number;
  /**
   * The latest nominal instant recorded for a scheduled or caught-up fire (manual runs do not count). Kept with
   * the job, not read from the records, so that pruning old records never makes old fires look missed.
   */
  readonly lastScheduledAtMs: number | null;
  /** Set while the job is paused (`pause` kept across restarts); null when it runs normally. */
  readonly pausedAtMs: number | null;
}

/**
 * One schedule's memory of its fires. An implementation is opened for one schedule name (its migrations run at
 * open; a newer schema than the code knows is refused) and keeps its times on its own clock: the database's for
 * a shared store, the injected clock for SQLite and memory.
 *
 * The claim rule: a fire runs only after {@link claim} inserted its record (insert, on conflict do nothing). No
 * record back means someone already has it (another replica, or this schedule before a restart).
 */
export interface Ledger {
  /** Where the records live, for messages: a file path, or a URL without its password. */
  readonly location: string;
  /** The schedule name the records belong to. */
  readonly schedule: string;

  /** Inserts the fire's record as `claimed` with a new fence and a lease; undefined when a record was already there. */
  claim(request: ClaimRequest): Awaitable<Claim | undefined>;
  /**
   * Claims again a record left in flight by an owner that died (`on_lost: rerun`): a new fence, owner, run id and
   * lease, its trigger unchanged. Undefined when the record no longer carries `lost`'s fence or is no longer in flight.
   */
  reclaim(lost: Claim, request: ReclaimRequest): Awaitable<Claim | undefined>;
  /** Extends the lease to now + leaseMs; false when the record no longer carries this claim's fence or is over. */
  renew(claim: Claim, leaseMs: number): Awaitable<boolean>;
  /** The run's first attempt started: state `running`. */
  start(claim: Claim, update: StartUpdate): Awaitable<void>;
  /** The run is over; false when the record no longer carries this claim's fence (someone took it over). */
  finish(claim: Claim, update: FinishUpdate): Awaitable<boolean>;
  /** Records a fire that did not run (skipped or missed); no change when the fire already has a record. */
  recordNotRun(record: NotRunRecord): Awaitable<void>;
  /** Records in flight (claimed or running), oldest first, each saying whether its lease ended on the store's clock. */
  inFlight(): Awaitable<readonly InFlightRecord[]>;
  /** Marks an in-flight record whose owner died `lost` (at most once: false when it no longer carries that fence). */
  markLost(lost: Claim, reason: string): Awaitable<boolean>;

  /** Records, newest nominal instant first. */
  history(query: HistoryQuery): Awaitable<readonly RunRecord[]>;
  /** One record, if any. */
  get(key: FireKey): Awaitable<RunRecord | undefined>;

  /** Notes that these jobs exist now (first seen now unless already known). */
  noteJobs(jobs: readonly string[]): Awaitable<void>;
  /** What the ledger knows of each job it has seen. */
  jobs(): Awaitable<readonly JobRecord[]>;
  /** Pauses (true) or resumes (false) a job, kept across restarts; notes the job if it is new. */
  setPaused(job: string, paused: boolean): Awaitable<void>;

  /** Deletes final records scheduled before `beforeMs` (records in flight are kept); returns how many. */
  prune(beforeMs: number): Awaitable<number>;
  /** Closes the store; further calls fail. */
  close(): Awaitable<void>;
}

/** Keeps the last {@link OUTPUT_TAIL_LINES} lines, at most {@link OUTPUT_TAIL_BYTES} bytes, of a run's output. */
export class OutputTail {
  private readonly lines: string[] = [];
  private bytes = 0;

  push(line: string): void {
    // A single line longer than the whole budget keeps its end, cut on a character boundary.
    const kept = Buffer.byteLength(line) > OUTPUT_TAIL_BYTES ? tailOfUtf8(line, OUTPUT_TAIL_BYTES - 1) : line;
    this.lines.push(kept);
    this.bytes += Buffer.byteLength(kept) + 1;
    while (this.lines.length > OUTPUT_TAIL_LINES || this.bytes > OUTPUT_TAIL_BYTES) {
      this.bytes -= Buffer.byteLength(this.lines.shift()!) + 1;
    }
  }

  /** The kept lines joined with newlines; undefined when nothing was written. */
  text(): string | undefined {
    return this.lines.length > 0 ? this.lines.join("\n") : undefined;
  }
}

function tailOfUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text);
  let start = bytes.length - maxBytes;
  // Skip continuation bytes so the cut never splits a character.
  while (start < bytes.length && (bytes[start]! & 0xc0) === 0x80) start++;
  return bytes.subarray(start).toString();
}

/** Calls `then` with the value, at once when it is not a Promise (a synchronous store), else when it settles. */
export function whenReady<T>(
  value: Awaitable<T>,
  then: (result: T) => void,
  onError: (error: unknown) => void,
): void {
  if (value instanceof Promise) {
    value.then(then, onError);
    return;
  }
  then(value);
}

/** The ledger cannot be used: why, where, and what to do about it (tdefer exits 78 at start). */
export class LedgerError extends UserError {
  constructor(
    /** Where the ledger is (a path, or a URL without its password). */
    readonly location: string,
    message: string,
    readonly hint: string,
    options?: { cause?: unknown },
  ) {
    super(message, EXIT_CONFIG, options);
    this.name = "LedgerError";
  }

  override report(): string {
    return `tdefer: ${this.message}\n  hint: ${this.hint}\n`;
  }
}

/** A run's record as both stores keep it: the columns of the runs table, times in ms since the epoch. */
export interface RunRow {
  schedule: string;
  job: string;
  scheduled_at: number;
  state: RunState;
  reason: string | null;
  run_id: string | null;
  owner: string | null;
  fence: number | null;
  lease_until: number | null;
  claimed_at: number | null;
  started_at: number | null;
  finished_at: number | null;
  attempts: number;
  exit_code: number | null;
  signal: string | null;
  duration_ms: number | null;
  late_ms: number | null;
  trigger: RunTrigger;
  output_tail: string | null;
}

/** A row of the runs table as the Ledger hands it out. */
export function runRecordOf(row: RunRow): RunRecord {
  return {
    schedule: row.schedule,
    job: row.job,
    scheduledAtMs: row.scheduled_at,
    state: row.state,
    reason: row.reason,
    runId: row.run_id,
    owner: row.owner,
    fence: row.fence,
    leaseUntilMs: row.lease_until,
    claimedAtMs: row.claimed_at,
    startedAtMs: row.started_at,
    finishedAtMs: row.finished_at,
    attempts: row.attempts,
    exitCode: row.exit_code,
    signal: row.signal,
    durationMs: row.duration_ms,
    lateMs: row.late_ms,
    trigger: row.trigger,
    outputTail: row.output_tail,
  };
}
