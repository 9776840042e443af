// The ledger in PostgreSQL (the only importer of `pg`): what lets several replicas of one schedule fire each
// job once. Every time in a lease is the database's clock (clock_timestamp()), never a replica's.
import pg from "pg";
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
import { POSTGRES_MIGRATIONS, POSTGRES_SCHEMA_VERSION } from "./migrations/postgres.js";
import { redactUrl } from "./redact.js";

/** The database's clock, UTC ms: the only clock leases are measured on. */
const DB_NOW = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

/** A fire is never claimed while its scheduled_at is later than the database's now plus this. */
export const EARLY_TOLERANCE_MS = 500;

/** Serialises migrations of replicas that start together (any constant; "tdefer" in ASCII). */
const MIGRATION_LOCK = 0x746465666572;

/** True for a postgres:// or postgresql:// state value. */
export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value);
}

/** Removes anything that looks like a URL's password from a message. */
function redactMessage(message: string): string {
  return message.replace(/(postgres(?:ql)?:\/\/[^:@/\s]*:)[^@\s]*@/gi, "$1***@");
}

/** Why a state URL is refused, or undefined when it is usable. Passwords belong in PGPASSWORD or ~/.pgpass. */
export function postgresUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${redactUrl(url)} is not a valid URL (expected postgres://USER@HOST:PORT/DATABASE)`;
  }
  if (parsed.password || parsed.searchParams.has("password")) {
    return "the state URL contains a password: remove it and put it in PGPASSWORD or ~/.pgpass, so it is never written in a file, a process list or a log";
  }
  return undefined;
}

export interface PostgresLedgerOptions {
  /** The schedule's name: replicas with the same name share fires. */
  readonly schedule: string;
  /** Called when the database stops or starts answering (reconnects are tried with backoff meanwhile). */
  readonly onAvailability?: (up: boolean, error?: string) => void;
  /** Milliseconds to wait before the next reconnect attempt (tests shorten it). */
  readonly backoffMs?: (attempt: number) => number;
  /** Waits (the Clock seam); the ledger never touches timers itself. */
  readonly callLater: (delayMs: number, fn: () => void) => { cancel(): void };
}

/** A fire more than EARLY_TOLERANCE_MS ahead of the database's clock is retried this many times at most. */
const EARLY_RETRIES = 3;

// bigint columns come back as numbers (every value here is a ms time or a fence, far below 2^53).
const INT8_OID = 20;
const parseInt8 = (value: string): number => Number(value);

/** A schema newer than this code: refused, never written to. */
export class LedgerSchemaError extends LedgerError {}

/** Connection-level trouble (refused, reset, timed out, server shutting down), as opposed to a bad query. */
function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: string })?.code ?? "";
  const message = String((error as Error)?.message ?? error);
  return (
    /^(ECONN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|ENOTFOUND|EAI_AGAIN)/.test(code) ||
    code.startsWith("08") || // connection exception
    code === "57P01" || // admin shutdown
    code === "57P02" ||
    code === "57P03" || // cannot connect now (starting up)
    /timeout|terminat|Connection ended|not queryable|ECONNREFUSED/i.test(message)
  );
}

const KEY = "schedule = $1 AND job = $2 AND scheduled_at = $3";
const HELD = `${KEY} AND fence = $4 AND state IN ('claimed', 'running')`;

export class PostgresLedger implements Ledger {
  private readonly pool: pg.Pool;
  private migrated = false;
  private up = true;
  private reconnecting: { cancel(): void } | undefined;
  private closed = false;
  readonly schedule: string;

  private constructor(
    readonly url: string,
    private readonly options: PostgresLedgerOptions,
  ) {
    this.schedule = options.schedule;
    this.pool = new pg.Pool({
      connectionString: url,
      max: 4,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
      query_timeout: 10_000,
      statement_timeout: 10_000,
      keepAlive: true,
      application_name: `tdefer ${options.schedule}`.slice(0, 63),
      types: {
        getTypeParser: ((oid: number, format?: string) =>
          oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format as "text")) as never,
      },
    });
    // A connection dropped by a server restart must not crash the process, whether it sits idle in the pool
    // (the pool's error) or is checked out between two queries (the client's own error); the next query reconnects.
    this.pool.on("error", (error) => this.markDown(error));
    this.pool.on("connect", (client) => client.on("error", (error) => this.markDown(error)));
  }

  /**
   * Opens the ledger and brings the schema up to date. A database that does not answer yet is not fatal (fires
   * are skipped until it does); a schema newer than this code is ({@link LedgerSchemaError}).
   */
  static async open(url: string, options: PostgresLedgerOptions): Promise<PostgresLedger> {
    const problem = postgresUrlProblem(url);
    if (problem) {
      throw new LedgerError(
        redactUrl(url),
        problem,
        "postgres://USER@HOST:PORT/DATABASE, password in PGPASSWORD or ~/.pgpass",
      );
    }
    const ledger = new PostgresLedger(url, options);
    try {
      await ledger.ready();
    } catch (error) {
      if (error instanceof LedgerSchemaError) {
        await ledger.close();
        throw error;
      }
      ledger.markDown(error);
    }
    return ledger;
  }

  /**
   * For `check`: whether the database answers, its version and the ledger schema's (0: no ledger there yet), read
   * without writing anything. Never throws; a failure says why, without a password.
   */
  static async probe(
    url: string,
  ): Promise<{ answers: true; server: string; schemaVersion: number } | { answers: false; error: string }> {
    const problem = postgresUrlProblem(url);
    if (problem) return { answers: false, error: problem };
    const client = new pg.Client({
      connectionString: url,
      connectionTimeoutMillis: 5_000,
      query_timeout: 5_000,
    });
    client.on("error", () => {}); // a drop after connect rejects the pending query, which is reported below
    try {
      await client.connect();
      const { rows } = await client.query<{ server: string; meta: string | null }>(
        "SELECT current_setting('server_version') AS server, to_regclass('tdefer.meta')::text AS meta",
      );
      const { rows: version } = rows[0]?.meta
        ? await client.query<{ value: string }>("SELECT value FROM tdefer.meta WHERE key = 'schema_version'")
        : { rows: [] };
      return { answers: true, server: rows[0]!.server, schemaVersion: Number(version[0]?.value ?? 0) };
    } catch (error) {
      return { answers: false, error: redactMessage(String((error as Error)?.message ?? error)) };
    } finally {
      await client.end().catch(() => {});
    }
  }

  /** The URL without a password, for messages. */
  get location(): string {
    return redactUrl(this.url);
  }

  /** False from a failed query until the database answers again. */
  get isUp(): boolean {
    return this.up;
  }

  /**
   * Inserts the fire's record (insert, on conflict do nothing, returning the fence). Never claims a fire whose
   * scheduled_at is more than {@link EARLY_TOLERANCE_MS} ahead of the database's clock: such a claim waits for the
   * database's clock and tries again, so a replica with a fast clock cannot start a job early.
   */
  async claim(request: ClaimRequest): Promise<Claim | undefined> {
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.guard(() => this.tryClaim(request));
      if (outcome.kind !== "early" || attempt >= EARLY_RETRIES) {
        return outcome.kind === "won" ? outcome.claim : undefined;
      }
      // Wait for the database's clock in slices, so that stopWaiting() ends the wait soon.
      const untilMs = performance.now() + (request.scheduledAtMs - outcome.dbNowMs);
      while (performance.now() < untilMs) {
        if (this.waitingStopped) return undefined;
        const sliceMs = Math.min(1_000, untilMs - performance.now());
        await new Promise<void>((resolve) => this.options.callLater(Math.max(0, sliceMs), resolve));
      }
      if (this.waitingStopped) return undefined;
    }
  }

  private waitingStopped = false;

  /** Claims waiting for the database's clock give up (within a second): tdefer is stopping. */
  stopWaiting(): void {
    this.waitingStopped = true;
  }

  private async tryClaim(
    request: ClaimRequest,
  ): Promise<{ kind: "won"; claim: Claim } | { kind: "taken" } | { kind: "early"; dbNowMs: number }> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    const exclusive = request.overlap === "skip" || request.overlap === "replace";
    const key = [this.schedule, request.job, request.scheduledAtMs];
    try {
      if (exclusive) {
        await client.query("BEGIN");
        await client.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [
          `${this.schedule}\n${request.job}`,
        ]);
        const { rows: busy } = await client.query<{ owner: string | null }>(
          `SELECT owner FROM tdefer.runs
            WHERE schedule = $1 AND job = $2 AND scheduled_at <> $3
              AND state IN ('claimed', 'running') AND lease_until >= ${DB_NOW}`,
          key,
        );
        if (busy.length > 0 && request.overlap === "skip") {
          await client.query(
            `INSERT INTO tdefer.runs (schedule, job, scheduled_at, state, reason, finished_at, trigger, work)
             VALUES ($1, $2, $3, 'skipped', $4, ${DB_NOW}, $5, $6) ON CONFLICT DO NOTHING`,
            [
              ...key,
              `the previous run is still going on ${busy[0]!.owner} (overlap: skip)`,
              request.trigger,
              request.work ?? null,
            ],
          );
          await client.query("COMMIT");
          return { kind: "taken" };
        }
        if (busy.length > 0) {
          // Its owner finds the lease gone at its next renewal and ends the run (overlap: replace).
          await client.query(
            `UPDATE tdefer.runs SET state = 'killed', reason = 'replaced by a newer fire (overlap: replace)',
                    lease_until = NULL, finished_at = ${DB_NOW}
              WHERE schedule = $1 AND job = $2 AND scheduled_at <> $3 AND state IN ('claimed', 'running')`,
            key,
          );
        }
      }
      const { rows } = await client.query<{ now_ms: number; fence: number | null }>(
        `WITH now AS (SELECT ${DB_NOW} AS ms),
              inserted AS (
                INSERT INTO tdefer.runs (schedule, job, scheduled_at, state, run_id, owner, fence, lease_until,
                                         claimed_at, trigger, work)
                SELECT $1, $2, $3, 'claimed', $4, $5, nextval('tdefer.fence'), now.ms + $6, now.ms, $7, $8 FROM now
                 WHERE $3 <= now.ms + ${EARLY_TOLERANCE_MS}
                ON CONFLICT DO NOTHING
                RETURNING fence),
              watermark AS (
                INSERT INTO tdefer.jobs (schedule, job, first_seen, last_scheduled_at)
                SELECT $1, $2, now.ms, CASE WHEN $7 = 'manual' THEN NULL ELSE $3::bigint END
                  FROM now WHERE EXISTS (SELECT 1 FROM inserted)
                ON CONFLICT (schedule, job) DO UPDATE
                  SET last_scheduled_at = GREATEST(tdefer.jobs.last_scheduled_at, EXCLUDED.last_scheduled_at))
         SELECT (SELECT ms FROM now) AS now_ms, (SELECT fence FROM inserted) AS fence`,
        [...key, request.runId, request.owner, request.leaseMs, request.trigger, request.work ?? null],
      );
      if (exclusive) await client.query("COMMIT");
      const { now_ms: dbNowMs, fence } = rows[0]!;
      if (fence !== null) {
        return { kind: "won", claim: { job: request.job, scheduledAtMs: request.scheduledAtMs, fence } };
      }
      if (request.scheduledAtMs > dbNowMs + EARLY_TOLERANCE_MS) return { kind: "early", dbNowMs };
      return { kind: "taken" };
    } catch (error) {
      if (isConnectionError(error)) broken = error as Error;
      else if (exclusive) await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.release(broken); // a broken connection is destroyed, not reused
    }
  }

  async reclaim(lost: Claim, request: ReclaimRequest): Promise<Claim | undefined> {
    const { rows } = await this.query<{ fence: number }>(
      `UPDATE tdefer.runs SET fence = nextval('tdefer.fence'), owner = $5, run_id = $6, state = 'claimed',
              lease_until = ${DB_NOW} + $7, claimed_at = ${DB_NOW}, started_at = NULL, late_ms = NULL, reason = NULL
        WHERE ${HELD} AND lease_until < ${DB_NOW}
      RETURNING fence`,
      [...this.keyOf(lost), lost.fence, request.owner, request.runId, request.leaseMs],
    );
    return rows[0] ? { job: lost.job, scheduledAtMs: lost.scheduledAtMs, fence: rows[0].fence } : undefined;
  }

  async renew(claim: Claim, leaseMs: number): Promise<boolean> {
    const { rowCount } = await this.claimQuery(
      claim,
      `UPDATE tdefer.runs SET lease_until = ${DB_NOW} + $5 WHERE ${HELD}`,
      [...this.keyOf(claim), claim.fence, leaseMs],
    );
    return (rowCount ?? 0) > 0;
  }

  async start(claim: Claim, update: StartUpdate): Promise<void> {
    await this.claimQuery(
      claim,
      `UPDATE tdefer.runs SET state = 'running', started_at = $5, late_ms = $6 WHERE ${HELD}`,
      [...this.keyOf(claim), claim.fence, update.startedAtMs, update.lateMs],
    );
  }

  async finish(claim: Claim, update: FinishUpdate): Promise<boolean> {
    const { rowCount } = await this.claimQuery(
      claim,
      `UPDATE tdefer.runs SET state = $5, reason = $6, finished_at = $7, attempts = $8, exit_code = $9, signal = $10,
              duration_ms = $11, output_tail = $12, lease_until = NULL
        WHERE ${HELD}`,
      [
        ...this.keyOf(claim),
        claim.fence,
        update.state,
        update.reason ?? null,
        update.finishedAtMs,
        update.attempts,
        update.exitCode,
        update.signal,
        Math.round(update.durationMs),
        update.outputTail ?? null,
      ],
    );
    return (rowCount ?? 0) > 0;
  }

  async recordNotRun(record: NotRunRecord): Promise<void> {
    await this.query(
      `WITH inserted AS (
         INSERT INTO tdefer.runs (schedule, job, scheduled_at, state, reason, finished_at, trigger)
         VALUES ($1, $2, $3, $4, $5, ${DB_NOW}, $6) ON CONFLICT DO NOTHING RETURNING 1)
       INSERT INTO tdefer.jobs (schedule, job, first_seen, last_scheduled_at)
       SELECT $1, $2, ${DB_NOW}, CASE WHEN $6 = 'manual' THEN NULL ELSE $3::bigint END
        WHERE EXISTS (SELECT 1 FROM inserted)
       ON CONFLICT (schedule, job) DO UPDATE
         SET last_scheduled_at = GREATEST(tdefer.jobs.last_scheduled_at, EXCLUDED.last_scheduled_at)`,
      [...this.keyOf(record), record.state, record.reason, record.trigger],
    );
  }

  async inFlight(): Promise<readonly InFlightRecord[]> {
    const { rows } = await this.query<RunRow & { lease_expired: boolean }>(
      `SELECT *, COALESCE(lease_until < ${DB_NOW}, true) AS lease_expired FROM tdefer.runs
        WHERE schedule = $1 AND state IN ('claimed', 'running') ORDER BY scheduled_at, job`,
      [this.schedule],
    );
    return rows.map((row) => ({ ...runRecordOf(row), leaseExpired: row.lease_expired }));
  }

  /** Only while the lease is still expired on the database's clock: an owner that renewed meanwhile keeps it. */
  async markLost(lost: Claim, reason: string): Promise<boolean> {
    const { rowCount } = await this.query(
      `UPDATE tdefer.runs SET state = 'lost', reason = $5, finished_at = ${DB_NOW}, lease_until = NULL
        WHERE ${HELD} AND lease_until < ${DB_NOW}`,
      [...this.keyOf(lost), lost.fence, reason],
    );
    return (rowCount ?? 0) > 0;
  }

  async history(query: HistoryQuery): Promise<readonly RunRecord[]> {
    const { rows } = await this.query<RunRow>(
      `SELECT * FROM tdefer.runs
        WHERE schedule = $1 AND ($2::text[] IS NULL OR job = ANY($2::text[]))
          AND ($3::bigint IS NULL OR scheduled_at >= $3)
          AND (NOT $4 OR state IN ('failed', 'timed_out', 'killed', 'lost'))
        ORDER BY scheduled_at DESC, job LIMIT $5`,
      [
        this.schedule,
        query.jobs?.length ? query.jobs : null,
        query.sinceMs ?? null,
        query.failedOnly ?? false,
        query.limit ?? null,
      ],
    );
    return rows.map(runRecordOf);
  }

  async get(key: FireKey): Promise<RunRecord | undefined> {
    const { rows } = await this.query<RunRow>(`SELECT * FROM tdefer.runs WHERE ${KEY}`, this.keyOf(key));
    return rows[0] ? runRecordOf(rows[0]) : undefined;
  }

  async noteJobs(jobs: readonly string[]): Promise<void> {
    await this.query(
      `INSERT INTO tdefer.jobs (schedule, job, first_seen)
       SELECT $1, job, ${DB_NOW} FROM unnest($2::text[]) AS job ON CONFLICT DO NOTHING`,
      [this.schedule, jobs],
    );
  }

  async jobs(): Promise<readonly JobRecord[]> {
    const { rows } = await this.query<{
      job: string;
      first_seen: number;
      last_scheduled_at: number | null;
      paused_at: number | null;
    }>("SELECT * FROM tdefer.jobs WHERE schedule = $1 ORDER BY job", [this.schedule]);
    return rows.map((row) => ({
      job: row.job,
      firstSeenMs: row.first_seen,
      lastScheduledAtMs: row.last_scheduled_at,
      pausedAtMs: row.paused_at,
    }));
  }

  async setPaused(job: string, paused: boolean): Promise<void> {
    await this.query(
      `INSERT INTO tdefer.jobs (schedule, job, first_seen, paused_at)
       VALUES ($1, $2, ${DB_NOW}, CASE WHEN $3 THEN ${DB_NOW} END)
       ON CONFLICT (schedule, job) DO UPDATE SET paused_at = EXCLUDED.paused_at`,
      [this.schedule, job, paused],
    );
  }

  async prune(beforeMs: number): Promise<number> {
    const { rowCount } = await this.query(
      `DELETE FROM tdefer.runs WHERE schedule = $1 AND scheduled_at < $2 AND state NOT IN ('claimed', 'running')`,
      [this.schedule, beforeMs],
    );
    return rowCount ?? 0;
  }

  /** The database's clock, UTC ms, and how long asking took (for the clock-skew estimate). */
  async dbNow(): Promise<{ dbNowMs: number; roundTripMs: number }> {
    return this.guard(async () => {
      const sent = performance.now();
      const { rows } = await this.pool.query<{ ms: number }>(`SELECT ${DB_NOW} AS ms`);
      return { dbNowMs: rows[0]!.ms, roundTripMs: performance.now() - sent };
    });
  }

  /** For `check`: the server's version and the ledger schema's. Throws when the database does not answer. */
  async describe(): Promise<{ server: string; schemaVersion: number }> {
    return this.guard(async () => {
      const { rows } = await this.pool.query<{ server: string; version: string }>(
        `SELECT current_setting('server_version') AS server,
                (SELECT value FROM tdefer.meta WHERE key = 'schema_version') AS version`,
      );
      return { server: rows[0]!.server, schemaVersion: Number(rows[0]!.version) };
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.reconnecting?.cancel();
    this.reconnecting = undefined;
    await this.pool.end().catch(() => {});
  }

  /** The last write begun for each claim: a claim's writes reach the database in the order they were made. */
  private readonly lastWrite = new Map<string, Promise<unknown>>();

  /** A query about one claim, sent after the claim's previous one has settled (the pool would race them). */
  private claimQuery<R extends pg.QueryResultRow>(
    claim: Claim,
    text: string,
    values: unknown[],
  ): Promise<pg.QueryResult<R>> {
    const id = `${claim.job}\u0000${claim.scheduledAtMs}\u0000${claim.fence}`;
    const send = () => this.query<R>(text, values);
    const next = (this.lastWrite.get(id) ?? Promise.resolve()).then(send, send);
    const settled = next.then(
      () => {},
      () => {},
    );
    this.lastWrite.set(id, settled);
    settled.then(() => {
      if (this.lastWrite.get(id) === settled) this.lastWrite.delete(id);
    });
    return next;
  }

  private keyOf(key: FireKey): [string, string, number] {
    return [this.schedule, key.job, key.scheduledAtMs];
  }

  private query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    return this.guard(() => this.pool.query<R>(text, values));
  }

  /** Migrates once; every operation waits for it (and retries it after an outage at start). */
  private async ready(): Promise<void> {
    if (this.migrated) return;
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
      const { rows: exists } = await client.query<{ meta: string | null }>(
        "SELECT to_regclass('tdefer.meta')::text AS meta",
      );
      const { rows } = exists[0]?.meta
        ? await client.query<{ version: string | null }>(
            "SELECT value AS version FROM tdefer.meta WHERE key = 'schema_version'",
          )
        : { rows: [] };
      const current = rows[0]?.version ? Number(rows[0].version) : 0;
      if (current > POSTGRES_SCHEMA_VERSION) {
        throw new LedgerSchemaError(
          this.location,
          `the ledger has schema version ${current}, newer than this tdefer knows (${POSTGRES_SCHEMA_VERSION})`,
          "upgrade tdefer on this machine, or point --state at another database",
        );
      }
      for (const migration of POSTGRES_MIGRATIONS) {
        if (migration.version <= current) continue;
        await client.query(migration.sql);
        await client.query(
          `INSERT INTO tdefer.meta (key, value) VALUES ('schema_version', $1)
           ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
          [String(migration.version)],
        );
      }
      await client.query("COMMIT");
      this.migrated = true;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  /** Runs an operation after the migrations; tracks whether the database answers; never leaks a password. */
  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    if (this.closed) throw new Error("the ledger is closed");
    try {
      await this.ready();
      const result = await operation();
      this.markUp();
      return result;
    } catch (error) {
      if (error instanceof LedgerSchemaError) throw error;
      if (isConnectionError(error)) this.markDown(error);
      throw new Error(redactMessage(String((error as Error)?.message ?? error)));
    }
  }

  private markUp(): void {
    if (this.up) return;
    this.up = true;
    this.reconnecting?.cancel();
    this.reconnecting = undefined;
    this.options.onAvailability?.(true);
  }

  private markDown(error: unknown): void {
    if (this.closed) return;
    if (this.up) {
      this.up = false;
      this.options.onAvailability?.(false, redactMessage(String((error as Error)?.message ?? error)));
    }
    if (!this.reconnecting) this.scheduleReconnect(1);
  }

  /** Probes the database with growing pauses until it answers (then onAvailability(true)). */
  private scheduleReconnect(attempt: number): void {
    const delayMs = this.options.backoffMs?.(attempt) ?? Math.min(30_000, 500 * 2 ** (attempt - 1));
    this.reconnecting = this.options.callLater(delayMs, () => {
      this.reconnecting = undefined;
      if (this.closed || this.up) return;
      this.ready()
        .then(() => this.pool.query("SELECT 1"))
        .then(
          () => this.markUp(),
          () => {
            if (!this.closed && !this.up && !this.reconnecting) this.scheduleReconnect(attempt + 1);
          },
        );
    });
  }
}
