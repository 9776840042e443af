// The SQLite ledger: one file per schedule on one machine. The only importer of better-sqlite3.
import { closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import {
  type Claim,
  type ClaimRequest,
  type FinishUpdate,
  type FireKey,
  type HistoryQuery,
  type InFlightRecord,
  type JobRecord,
  type Ledger,
  LedgerError,
  type NotRunRecord,
  type ReclaimRequest,
  type RunRecord,
  type RunRow,
  runRecordOf,
  type StartUpdate,
} from "./ledger.js";
import { LATEST_SQLITE_SCHEMA, SQLITE_MIGRATIONS } from "./migrations/sqlite.js";

export interface SqliteLedgerOptions {
  /** The schedule the records belong to. */
  readonly schedule: string;
  /** The wall clock, ms since the epoch: leases and claim times are kept on it. */
  readonly now: () => number;
  /** Refuse to create the file (for `history`: a missing ledger says where it looked). */
  readonly mustExist?: boolean;
  /** How long to wait for another process's write lock before giving up; default 5 s. */
  readonly busyTimeoutMs?: number;
}

interface JobRow {
  job: string;
  first_seen: number;
  last_scheduled_at: number | null;
  paused_at: number | null;
}

/** Opens (creating it, its folder 0700 and the file 0600, unless `mustExist`) and migrates a SQLite ledger. */
export function openSqliteLedger(path: string, options: SqliteLedgerOptions): SqliteLedger {
  if (!existsSync(path)) {
    if (options.mustExist) {
      throw new LedgerError(
        path,
        `no ledger at ${path}`,
        "it is created by the first `tdefer run` of this schedule",
      );
    }
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      // Created here, not by SQLite, so that it is 0600 from the first byte; SQLite gives -wal and -shm its mode.
      closeSync(openSync(path, "a", 0o600));
    } catch (error) {
      throw openError(path, error);
    }
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { fileMustExist: true, timeout: options.busyTimeoutMs ?? 5_000 });
    db.pragma("journal_mode = WAL");
    // WAL with synchronous=NORMAL survives a crash of tdefer; a power cut may lose the last few commits.
    db.pragma("synchronous = NORMAL");
    migrate(db, path);
    return new SqliteLedger(db, path, options);
  } catch (error) {
    db?.close();
    throw openError(path, error);
  }
}

function migrate(db: Database.Database, path: string): void {
  db.transaction(() => {
    db.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value ANY) STRICT");
    const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as
      | { value: number }
      | undefined;
    const current = row?.value ?? 0;
    if (current > LATEST_SQLITE_SCHEMA) {
      throw new LedgerError(
        path,
        `the ledger ${path} has schema version ${current}, newer than this tdefer knows (${LATEST_SQLITE_SCHEMA})`,
        "run the newer tdefer that wrote it, or point --state at another file",
      );
    }
    for (const migration of SQLITE_MIGRATIONS) {
      if (migration.version <= current) continue;
      db.exec(migration.sql);
    }
    db.prepare(
      "INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT DO UPDATE SET value = ?",
    ).run(LATEST_SQLITE_SCHEMA, LATEST_SQLITE_SCHEMA);
  }).immediate();
}

/** Turns what SQLite or the file system threw into a LedgerError saying what to do. */
function openError(path: string, error: unknown): LedgerError {
  if (error instanceof LedgerError) return error;
  const code = (error as { code?: string }).code ?? "";
  const detail = error instanceof Error ? error.message : String(error);
  if (code === "SQLITE_NOTADB" || code.startsWith("SQLITE_CORRUPT")) {
    return new LedgerError(
      path,
      `the ledger ${path} is not a valid SQLite database (${detail})`,
      `move it aside (mv ${path} ${path}.corrupt) to start a new one, or restore a backup`,
      { cause: error },
    );
  }
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
    return new LedgerError(
      path,
      `the ledger ${path} is locked by another process (${detail})`,
      `find who holds it (fuser ${path}) and end it, or point --state at another file`,
      { cause: error },
    );
  }
  if (code === "SQLITE_FULL" || code === "ENOSPC") {
    return new LedgerError(
      path,
      `no space left to write the ledger ${path} (${detail})`,
      "free some disk space",
      {
        cause: error,
      },
    );
  }
  if (
    code === "EACCES" ||
    code === "EPERM" ||
    code.startsWith("SQLITE_READONLY") ||
    code === "SQLITE_CANTOPEN"
  ) {
    return new LedgerError(
      path,
      `cannot open the ledger ${path} for writing (${detail})`,
      "run tdefer as the user that owns it, or point --state at a file you can write",
      { cause: error },
    );
  }
  return new LedgerError(
    path,
    `cannot open the ledger ${path} (${detail})`,
    "point --state at another file",
    {
      cause: error,
    },
  );
}

const RUN_COLUMNS =
  "schedule, job, scheduled_at, state, reason, run_id, owner, fence, lease_until, claimed_at, started_at, finished_at, attempts, exit_code, signal, duration_ms, late_ms, trigger, output_tail";

const FAILED_CLAUSE = "state IN ('failed', 'timed_out', 'killed', 'lost')";
const IN_FLIGHT_CLAUSE = "state IN ('claimed', 'running')";

export class SqliteLedger implements Ledger {
  readonly schedule: string;
  private readonly now: () => number;
  private readonly statements;
  private readonly claimTransaction;
  private readonly reclaimTransaction;
  private readonly historyStatements = new Map<string, Database.Statement>();

  constructor(
    private readonly db: Database.Database,
    readonly location: string,
    options: SqliteLedgerOptions,
  ) {
    this.schedule = options.schedule;
    this.now = options.now;
    this.statements = {
      insertClaim: db.prepare(
        `INSERT INTO runs (schedule, job, scheduled_at, state, run_id, owner, lease_until, claimed_at, trigger, work)
         VALUES (@schedule, @job, @scheduledAt, 'claimed', @runId, @owner, @leaseUntil, @now, @trigger, @work)
         ON CONFLICT DO NOTHING`,
      ),
      nextFence: db.prepare("UPDATE meta SET value = value + 1 WHERE key = 'last_fence' RETURNING value"),
      setFence: db.prepare("UPDATE runs SET fence = ? WHERE schedule = ? AND job = ? AND scheduled_at = ?"),
      reclaim: db.prepare(
        `UPDATE runs SET state = 'claimed', reason = NULL, run_id = @runId, owner = @owner, fence = @fence,
           lease_until = @leaseUntil, claimed_at = @now, started_at = NULL, late_ms = NULL
         WHERE schedule = @schedule AND job = @job AND scheduled_at = @scheduledAt AND fence = @oldFence
           AND ${IN_FLIGHT_CLAUSE}`,
      ),
      renew: db.prepare(
        `UPDATE runs SET lease_until = @leaseUntil
         WHERE schedule = @schedule AND job = @job AND scheduled_at = @scheduledAt AND fence = @fence
           AND ${IN_FLIGHT_CLAUSE}`,
      ),
      start: db.prepare(
        `UPDATE runs SET state = 'running', started_at = @startedAt, late_ms = @lateMs
         WHERE schedule = @schedule AND job = @job AND scheduled_at = @scheduledAt AND fence = @fence
           AND ${IN_FLIGHT_CLAUSE}`,
      ),
      finish: db.prepare(
        `UPDATE runs SET state = @state, reason = @reason, finished_at = @finishedAt, attempts = @attempts,
           exit_code = @exitCode, signal = @signal, duration_ms = @durationMs, output_tail = @outputTail,
           lease_until = NULL
         WHERE schedule = @schedule AND job = @job AND scheduled_at = @scheduledAt AND fence = @fence
           AND ${IN_FLIGHT_CLAUSE}`,
      ),
      markLost: db.prepare(
        `UPDATE runs SET state = 'lost', reason = @reason, finished_at = @now, lease_until = NULL
         WHERE schedule = @schedule AND job = @job AND scheduled_at = @scheduledAt AND fence = @fence
           AND ${IN_FLIGHT_CLAUSE}`,
      ),
      insertNotRun: db.prepare(
        `INSERT INTO runs (schedule, job, scheduled_at, state, reason, finished_at, trigger)
         VALUES (@schedule, @job, @scheduledAt, @state, @reason, @now, @trigger)
         ON CONFLICT DO NOTHING`,
      ),
      noteJob: db.prepare(
        "INSERT INTO jobs (schedule, job, first_seen) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
      ),
      raiseWatermark: db.prepare(
        `INSERT INTO jobs (schedule, job, first_seen, last_scheduled_at) VALUES (@schedule, @job, @now, @scheduledAt)
         ON CONFLICT DO UPDATE SET last_scheduled_at = max(coalesce(last_scheduled_at, excluded.last_scheduled_at),
           excluded.last_scheduled_at)`,
      ),
      setPaused: db.prepare(
        `INSERT INTO jobs (schedule, job, first_seen, paused_at) VALUES (@schedule, @job, @now, @pausedAt)
         ON CONFLICT DO UPDATE SET paused_at = excluded.paused_at`,
      ),
      jobs: db.prepare(
        "SELECT job, first_seen, last_scheduled_at, paused_at FROM jobs WHERE schedule = ? ORDER BY job",
      ),
      inFlight: db.prepare(
        `SELECT ${RUN_COLUMNS} FROM runs WHERE schedule = ? AND ${IN_FLIGHT_CLAUSE} ORDER BY scheduled_at`,
      ),
      get: db.prepare(`SELECT ${RUN_COLUMNS} FROM runs WHERE schedule = ? AND job = ? AND scheduled_at = ?`),
      prune: db.prepare(
        `DELETE FROM runs WHERE schedule = ? AND scheduled_at < ? AND NOT ${IN_FLIGHT_CLAUSE}`,
      ),
    };
    const s = this.statements;
    this.claimTransaction = db
      .transaction((request: ClaimRequest, nowMs: number): number | undefined => {
        const inserted = s.insertClaim.run({
          schedule: this.schedule,
          job: request.job,
          scheduledAt: request.scheduledAtMs,
          runId: request.runId,
          owner: request.owner,
          leaseUntil: nowMs + request.leaseMs,
          now: nowMs,
          trigger: request.trigger,
          work: request.work ?? null,
        });
        if (inserted.changes === 0) return undefined;
        const fence = (s.nextFence.get() as { value: number }).value;
        s.setFence.run(fence, this.schedule, request.job, request.scheduledAtMs);
        if (request.trigger !== "manual") this.raiseWatermark(request, nowMs);
        return fence;
      })
      .immediate.bind(null);
    this.reclaimTransaction = db
      .transaction((lost: Claim, request: ReclaimRequest, nowMs: number): number | undefined => {
        const fence = (s.nextFence.get() as { value: number }).value;
        const updated = s.reclaim.run({
          schedule: this.schedule,
          job: lost.job,
          scheduledAt: lost.scheduledAtMs,
          oldFence: lost.fence,
          fence,
          runId: request.runId,
          owner: request.owner,
          leaseUntil: nowMs + request.leaseMs,
          now: nowMs,
        });
        if (updated.changes === 0) throw new NothingToReclaim();
        return fence;
      })
      .immediate.bind(null);
  }

  claim(request: ClaimRequest): Claim | undefined {
    // Times are whole ms in the file (a clock may give fractions): the key is rounded once, here.
    const scheduledAtMs = Math.round(request.scheduledAtMs);
    const rounded = { ...request, scheduledAtMs, leaseMs: Math.round(request.leaseMs) };
    const fence = this.claimTransaction(rounded, this.nowMs());
    return fence === undefined ? undefined : { job: request.job, scheduledAtMs, fence };
  }

  reclaim(lost: Claim, request: ReclaimRequest): Claim | undefined {
    try {
      const fence = this.reclaimTransaction(
        lost,
        { ...request, leaseMs: Math.round(request.leaseMs) },
        this.nowMs(),
      );
      return fence === undefined
        ? undefined
        : { job: lost.job, scheduledAtMs: Math.round(lost.scheduledAtMs), fence };
    } catch (error) {
      // Rolled back, so the fence drawn for it is not spent.
      if (error instanceof NothingToReclaim) return undefined;
      throw error;
    }
  }

  renew(claim: Claim, leaseMs: number): boolean {
    return (
      this.statements.renew.run({ ...this.keyParams(claim), leaseUntil: this.nowMs() + Math.round(leaseMs) })
        .changes > 0
    );
  }

  start(claim: Claim, update: StartUpdate): void {
    this.statements.start.run({
      ...this.keyParams(claim),
      startedAt: Math.round(update.startedAtMs),
      lateMs: Math.round(update.lateMs),
    });
  }

  finish(claim: Claim, update: FinishUpdate): boolean {
    return (
      this.statements.finish.run({
        ...this.keyParams(claim),
        state: update.state,
        reason: update.reason ?? null,
        finishedAt: Math.round(update.finishedAtMs),
        attempts: update.attempts,
        exitCode: update.exitCode,
        signal: update.signal,
        durationMs: Math.round(update.durationMs),
        outputTail: update.outputTail ?? null,
      }).changes > 0
    );
  }

  recordNotRun(record: NotRunRecord): void {
    const nowMs = this.nowMs();
    this.db
      .transaction(() => {
        this.statements.insertNotRun.run({
          schedule: this.schedule,
          job: record.job,
          scheduledAt: Math.round(record.scheduledAtMs),
          state: record.state,
          reason: record.reason,
          now: nowMs,
          trigger: record.trigger,
        });
        if (record.trigger !== "manual") {
          this.raiseWatermark({ job: record.job, scheduledAtMs: Math.round(record.scheduledAtMs) }, nowMs);
        }
      })
      .immediate();
  }

  inFlight(): readonly InFlightRecord[] {
    const nowMs = this.nowMs();
    return (this.statements.inFlight.all(this.schedule) as RunRow[]).map((row) => {
      const record = runRecordOf(row);
      return { ...record, leaseExpired: record.leaseUntilMs !== null && record.leaseUntilMs < nowMs };
    });
  }

  markLost(lost: Claim, reason: string): boolean {
    return this.statements.markLost.run({ ...this.keyParams(lost), reason, now: this.nowMs() }).changes > 0;
  }

  history(query: HistoryQuery): readonly RunRecord[] {
    const jobs = query.jobs?.length ? query.jobs : undefined;
    const clauses = ["schedule = ?"];
    const params: (string | number)[] = [this.schedule];
    if (jobs) {
      clauses.push(`job IN (${jobs.map(() => "?").join(", ")})`);
      params.push(...jobs);
    }
    if (query.sinceMs !== undefined) {
      clauses.push("scheduled_at >= ?");
      params.push(Math.round(query.sinceMs));
    }
    if (query.failedOnly) clauses.push(FAILED_CLAUSE);
    let sql = `SELECT ${RUN_COLUMNS} FROM runs WHERE ${clauses.join(" AND ")} ORDER BY scheduled_at DESC, job`;
    if (query.limit !== undefined) {
      sql += " LIMIT ?";
      params.push(query.limit);
    }
    let statement = this.historyStatements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.historyStatements.set(sql, statement);
    }
    return (statement.all(...params) as RunRow[]).map(runRecordOf);
  }

  get(key: FireKey): RunRecord | undefined {
    const row = this.statements.get.get(this.schedule, key.job, Math.round(key.scheduledAtMs)) as
      | RunRow
      | undefined;
    return row ? runRecordOf(row) : undefined;
  }

  noteJobs(jobs: readonly string[]): void {
    const nowMs = this.nowMs();
    this.db
      .transaction(() => {
        for (const job of jobs) this.statements.noteJob.run(this.schedule, job, nowMs);
      })
      .immediate();
  }

  jobs(): readonly JobRecord[] {
    return (this.statements.jobs.all(this.schedule) as JobRow[]).map((row) => ({
      job: row.job,
      firstSeenMs: row.first_seen,
      lastScheduledAtMs: row.last_scheduled_at,
      pausedAtMs: row.paused_at,
    }));
  }

  setPaused(job: string, paused: boolean): void {
    const nowMs = this.nowMs();
    this.statements.setPaused.run({
      schedule: this.schedule,
      job,
      now: nowMs,
      pausedAt: paused ? nowMs : null,
    });
  }

  prune(beforeMs: number): number {
    return this.statements.prune.run(this.schedule, Math.round(beforeMs)).changes;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private nowMs(): number {
    return Math.round(this.now());
  }

  private raiseWatermark(fire: FireKey, nowMs: number): void {
    this.statements.raiseWatermark.run({
      schedule: this.schedule,
      job: fire.job,
      now: nowMs,
      scheduledAt: fire.scheduledAtMs,
    });
  }

  private keyParams(claim: Claim): { schedule: string; job: string; scheduledAt: number; fence: number } {
    return {
      schedule: this.schedule,
      job: claim.job,
      scheduledAt: Math.round(claim.scheduledAtMs),
      fence: claim.fence,
    };
  }
}

class NothingToReclaim extends Error {}
