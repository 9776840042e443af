// The ledger in PostgreSQL (the only importer of `pg`): what lets several replicas of one schedule fire each
// job once. Every time in a lease is the database's clock (clock_timestamp()), never a replica's.
import pg from "pg";
import { POSTGRES_MIGRATIONS, POSTGRES_SCHEMA_VERSION } from "./migrations/postgres.js";

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

/** The URL with any password replaced by ***, for messages; unparseable text is cut to its scheme. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return `${url.split("://")[0]}://…`;
  }
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
  /** host:pid, recorded with each claim. */
  readonly owner: string;
  /** How long a claim holds without renewal. */
  readonly leaseMs: number;
  /** Called when the database stops or starts answering (reconnects are tried with backoff meanwhile). */
  readonly onAvailability?: (up: boolean, error?: string) => void;
  /** Milliseconds to wait before the next reconnect attempt (tests shorten it). */
  readonly backoffMs?: (attempt: number) => number;
  /** Waits (the Clock seam); the ledger never touches timers itself. */
  readonly callLater: (delayMs: number, fn: () => void) => { cancel(): void };
}

export interface FireKey {
  readonly job: string;
  /** The fire's nominal instant, UTC ms (before jitter). */
  readonly scheduledMs: number;
}

export interface ClaimRequest extends FireKey {
  readonly runId: string;
  readonly trigger: "schedule" | "catch_up" | "manual";
  /** skip and replace are decided here, across replicas, under a transaction-level advisory lock on the job. */
  readonly overlap: "skip" | "queue" | "replace" | "allow";
}

/** A fire this process holds: run it with this fence, renew the lease while it runs, finish it. */
export interface HeldClaim extends FireKey {
  readonly fence: number;
  readonly runId: string;
}

export type ClaimOutcome =
  | { readonly kind: "won"; readonly claim: HeldClaim; readonly replaced: readonly string[] }
  | { readonly kind: "taken" }
  | { readonly kind: "busy"; readonly owner: string }
  | { readonly kind: "early"; readonly dbNowMs: number };

export type FinalState = "succeeded" | "failed" | "timed_out" | "killed" | "lost" | "skipped";

export interface RunOutcome {
  readonly state: FinalState;
  readonly reason?: string;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly attempts: number;
  readonly durationMs: number;
  readonly outputTail?: string;
}

/** A run found in flight with its lease expired. */
export interface LostRun extends FireKey {
  readonly owner: string;
  readonly fence: number;
}

export interface SweepResult {
  /** Marked lost (on_lost: abandon, or a job this schedule no longer has). */
  readonly abandoned: readonly LostRun[];
  /** Taken over by this process with a new fence (on_lost: rerun): run them now. */
  readonly rerun: readonly (HeldClaim & { readonly previousOwner: string; readonly trigger: string })[];
}

export interface HistoryRow {
  readonly schedule: string;
  readonly job: string;
  readonly scheduled_at: number;
  readonly state: string;
  readonly reason: string | null;
  readonly run_id: string | null;
  readonly owner: string | null;
  readonly fence: number;
  readonly lease_until: number | null;
  readonly claimed_at: number | null;
  readonly started_at: number | null;
  readonly finished_at: number | null;
  readonly attempts: number;
  readonly exit_code: number | null;
  readonly signal: string | null;
  readonly duration_ms: number | null;
  readonly late_ms: number | null;
  readonly trigger: string;
  readonly output_tail: string | null;
}

// bigint columns come back as numbers (every value here is a ms time or a fence, far below 2^53).
const INT8_OID = 20;
const parseInt8 = (value: string): number => Number(value);

/** A schema newer than this code: refused, never written to. */
export class LedgerSchemaError extends Error {}

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

export class PostgresLedger {
  private readonly pool: pg.Pool;
  private migrated = false;
  private up = true;
  private reconnecting: { cancel(): void } | undefined;
  private closed = false;

  private constructor(
    readonly url: string,
    private readonly options: PostgresLedgerOptions,
  ) {
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
    // An idle connection dropped by a server restart must not crash the process; the next query reconnects.
    this.pool.on("error", (error) => this.markDown(error));
  }

  /**
   * Opens the ledger and brings the schema up to date. A database that does not answer yet is not fatal (fires
   * are skipped until it does); a schema newer than this code is ({@link LedgerSchemaError}).
   */
  static async open(url: string, options: PostgresLedgerOptions): Promise<PostgresLedger> {
    const problem = postgresUrlProblem(url);
    if (problem) throw new Error(problem);
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

  /** The URL without a password, for messages. */
  get where(): string {
    return redactUrl(this.url);
  }

  get isUp(): boolean {
    return this.up;
  }

  /** Claims a fire: a row inserted by this process, or nothing. Throws when the database does not answer. */
  async claim(request: ClaimRequest): Promise<ClaimOutcome> {
    return this.guard(async () => {
      const client = await this.pool.connect();
      let released = false;
      const exclusive = request.overlap === "skip" || request.overlap === "replace";
      try {
        let replaced: string[] = [];
        if (exclusive) {
          await client.query("BEGIN");
          await client.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [
            `${this.options.schedule}\n${request.job}`,
          ]);
          const { rows: busy } = await client.query<{ owner: string; run_id: string }>(
            `SELECT owner, run_id FROM tdefer.runs
              WHERE schedule = $1 AND job = $2 AND scheduled_at <> $3
                AND state IN ('claimed', 'running') AND lease_until >= ${DB_NOW}`,
            [this.options.schedule, request.job, request.scheduledMs],
          );
          if (busy.length > 0 && request.overlap === "skip") {
            const owner = busy[0]!.owner;
            const { rowCount } = await client.query(
              `INSERT INTO tdefer.runs (schedule, job, scheduled_at, state, reason, run_id, owner, claimed_at, trigger)
               VALUES ($1, $2, $3, 'skipped', $4, $5, $6, ${DB_NOW}, $7) ON CONFLICT DO NOTHING`,
              [
                this.options.schedule,
                request.job,
                request.scheduledMs,
                `the previous run is still going on ${owner} (overlap: skip)`,
                request.runId,
                this.options.owner,
                request.trigger,
              ],
            );
            await client.query("COMMIT");
            return rowCount ? { kind: "busy", owner } : { kind: "taken" };
          }
          if (busy.length > 0) {
            // The owner finds its lease gone at its next renewal and ends its run (overlap: replace).
            await client.query(
              `UPDATE tdefer.runs SET state = 'killed', reason = 'replaced by a newer fire (overlap: replace)',
                      lease_until = ${DB_NOW}, finished_at = ${DB_NOW}
                WHERE schedule = $1 AND job = $2 AND scheduled_at <> $3 AND state IN ('claimed', 'running')`,
              [this.options.schedule, request.job, request.scheduledMs],
            );
            replaced = busy.map((row) => row.owner);
          }
        }
        const { rows } = await client.query<{ now_ms: number; fence: number | null }>(
          `WITH now AS (SELECT ${DB_NOW} AS ms),
                inserted AS (
                  INSERT INTO tdefer.runs (schedule, job, scheduled_at, state, run_id, owner, lease_until, claimed_at, trigger)
                  SELECT $1, $2, $3, 'claimed', $4, $5, now.ms + $6, now.ms, $7 FROM now
                   WHERE $3 <= now.ms + ${EARLY_TOLERANCE_MS}
                  ON CONFLICT DO NOTHING
                  RETURNING fence)
           SELECT (SELECT ms FROM now) AS now_ms, (SELECT fence FROM inserted) AS fence`,
          [
            this.options.schedule,
            request.job,
            request.scheduledMs,
            request.runId,
            this.options.owner,
            this.options.leaseMs,
            request.trigger,
          ],
        );
        if (exclusive) await client.query("COMMIT");
        const { now_ms: dbNowMs, fence } = rows[0]!;
        if (fence !== null) {
          return {
            kind: "won",
            claim: { job: request.job, scheduledMs: request.scheduledMs, fence, runId: request.runId },
            replaced,
          };
        }
        if (request.scheduledMs > dbNowMs + EARLY_TOLERANCE_MS) return { kind: "early", dbNowMs };
        return { kind: "taken" };
      } catch (error) {
        // A broken connection goes back destroyed; a failed transaction is rolled back first (finally).
        if (isConnectionError(error)) {
          released = true;
          client.release(error as Error);
        } else if (exclusive) {
          await client.query("ROLLBACK").catch(() => {});
        }
        throw error;
      } finally {
        if (!released) client.release();
      }
    });
  }

  /** The claimed run has started. */
  async started(claim: HeldClaim, startedMs: number, lateMs: number, attempt: number): Promise<void> {
    await this.guard(() =>
      this.pool.query(
        `UPDATE tdefer.runs SET state = 'running', started_at = COALESCE(started_at, $5), late_ms = COALESCE(late_ms, $6),
                attempts = $7
          WHERE schedule = $1 AND job = $2 AND scheduled_at = $3 AND fence = $4 AND state IN ('claimed', 'running')`,
        [this.options.schedule, claim.job, claim.scheduledMs, claim.fence, startedMs, lateMs, attempt],
      ),
    );
  }

  /** Extends the lease by leaseMs from the database's now; false when the claim is no longer ours. */
  async renew(claim: HeldClaim): Promise<boolean> {
    const { rowCount } = await this.guard(() =>
      this.pool.query(
        `UPDATE tdefer.runs SET lease_until = ${DB_NOW} + $6
          WHERE schedule = $1 AND job = $2 AND scheduled_at = $3 AND fence = $4 AND owner = $5
            AND state IN ('claimed', 'running')`,
        [
          this.options.schedule,
          claim.job,
          claim.scheduledMs,
          claim.fence,
          this.options.owner,
          this.options.leaseMs,
        ],
      ),
    );
    return (rowCount ?? 0) > 0;
  }

  /** Records how the run ended; a claim taken over meanwhile (another fence) is left to its new owner. */
  async finish(claim: HeldClaim, outcome: RunOutcome): Promise<boolean> {
    const { rowCount } = await this.guard(() =>
      this.pool.query(
        `UPDATE tdefer.runs SET state = $5, reason = $6, exit_code = $7, signal = $8, attempts = $9,
                duration_ms = $10, output_tail = $11, finished_at = ${DB_NOW}, lease_until = NULL
          WHERE schedule = $1 AND job = $2 AND scheduled_at = $3 AND fence = $4 AND state IN ('claimed', 'running')`,
        [
          this.options.schedule,
          claim.job,
          claim.scheduledMs,
          claim.fence,
          outcome.state,
          outcome.reason ?? null,
          outcome.exitCode,
          outcome.signal,
          outcome.attempts,
          Math.round(outcome.durationMs),
          outcome.outputTail ?? null,
        ],
      ),
    );
    return (rowCount ?? 0) > 0;
  }

  /** Records a fire that did not run (skipped, missed) unless some row has it already. */
  async record(
    key: FireKey,
    state: "skipped" | "missed",
    reason: string,
    trigger = "schedule",
  ): Promise<void> {
    await this.guard(() =>
      this.pool.query(
        `INSERT INTO tdefer.runs (schedule, job, scheduled_at, state, reason, owner, claimed_at, trigger)
         VALUES ($1, $2, $3, $4, $5, $6, ${DB_NOW}, $7) ON CONFLICT DO NOTHING`,
        [this.options.schedule, key.job, key.scheduledMs, state, reason, this.options.owner, trigger],
      ),
    );
  }

  /**
   * Runs in flight whose lease expired: those of `rerunJobs` are taken over by this process with a new, higher
   * fence (at least once); all others are marked lost, each once (at most once).
   */
  async sweepLost(rerunJobs: readonly string[], newRunId: () => string): Promise<SweepResult> {
    return this.guard(async () => {
      const { rows: abandoned } = await this.pool.query<LostRun & { scheduledMs: number }>(
        `UPDATE tdefer.runs SET state = 'lost', finished_at = ${DB_NOW},
                reason = 'its owner ' || COALESCE(owner, '?') || ' stopped renewing its lease'
          WHERE schedule = $1 AND state IN ('claimed', 'running') AND lease_until < ${DB_NOW}
            AND NOT (job = ANY($2::text[]))
        RETURNING job, scheduled_at AS "scheduledMs", owner, fence`,
        [this.options.schedule, rerunJobs],
      );
      const rerun: SweepResult["rerun"][number][] = [];
      if (rerunJobs.length > 0) {
        const { rows } = await this.pool.query<{
          job: string;
          scheduledMs: number;
          fence: number;
          previousOwner: string;
          trigger: string;
        }>(
          `UPDATE tdefer.runs AS r SET fence = nextval('tdefer.fence'), owner = $3, state = 'claimed',
                  lease_until = ${DB_NOW} + $4, claimed_at = ${DB_NOW}, started_at = NULL,
                  reason = 're-run: its owner ' || COALESCE(old.owner, '?') || ' stopped renewing its lease'
             FROM (SELECT schedule, job, scheduled_at, owner FROM tdefer.runs
                    WHERE schedule = $1 AND state IN ('claimed', 'running') AND lease_until < ${DB_NOW}
                      AND job = ANY($2::text[])
                    FOR UPDATE SKIP LOCKED) AS old
            WHERE r.schedule = old.schedule AND r.job = old.job AND r.scheduled_at = old.scheduled_at
          RETURNING r.job, r.scheduled_at AS "scheduledMs", r.fence, old.owner AS "previousOwner", r.trigger`,
          [this.options.schedule, rerunJobs, this.options.owner, this.options.leaseMs],
        );
        for (const row of rows) {
          const runId = newRunId();
          await this.pool.query(
            "UPDATE tdefer.runs SET run_id = $5 WHERE schedule = $1 AND job = $2 AND scheduled_at = $3 AND fence = $4",
            [this.options.schedule, row.job, row.scheduledMs, row.fence, runId],
          );
          rerun.push({ ...row, runId });
        }
      }
      return { abandoned, rerun };
    });
  }

  /** The database's clock, UTC ms, and how long asking took (for the skew estimate). */
  async dbNow(): Promise<{ dbNowMs: number; roundTripMs: number }> {
    return this.guard(async () => {
      const sent = performance.now();
      const { rows } = await this.pool.query<{ ms: number }>(`SELECT ${DB_NOW} AS ms`);
      return { dbNowMs: rows[0]!.ms, roundTripMs: performance.now() - sent };
    });
  }

  /** Newest first. */
  async history(query: {
    jobs?: readonly string[];
    sinceMs?: number;
    limit: number;
    failedOnly?: boolean;
  }): Promise<HistoryRow[]> {
    return this.guard(async () => {
      const { rows } = await this.pool.query<HistoryRow>(
        `SELECT * FROM tdefer.runs
          WHERE schedule = $1 AND ($2::text[] IS NULL OR job = ANY($2::text[]))
            AND ($3::bigint IS NULL OR scheduled_at >= $3)
            AND (NOT $4 OR state IN ('failed', 'timed_out', 'killed', 'lost'))
          ORDER BY scheduled_at DESC, job LIMIT $5`,
        [
          this.options.schedule,
          query.jobs?.length ? query.jobs : null,
          query.sinceMs ?? null,
          query.failedOnly ?? false,
          query.limit,
        ],
      );
      return rows;
    });
  }

  /** Deletes finished rows older than `beforeMs`; returns how many. */
  async prune(beforeMs: number): Promise<number> {
    const { rowCount } = await this.guard(() =>
      this.pool.query(
        `DELETE FROM tdefer.runs WHERE schedule = $1 AND scheduled_at < $2
            AND state NOT IN ('claimed', 'running')`,
        [this.options.schedule, beforeMs],
      ),
    );
    return rowCount ?? 0;
  }

  /** For `check`: the server's version and the schema's, or why the database does not answer. */
  async describe(): Promise<{ server: string; schemaVersion: number | undefined }> {
    const { rows } = await this.pool.query<{ server: string; version: string | null }>(
      `SELECT current_setting('server_version') AS server,
              (SELECT value FROM tdefer.meta WHERE key = 'schema_version') AS version`,
    );
    return {
      server: rows[0]!.server,
      schemaVersion: rows[0]!.version ? Number(rows[0]!.version) : undefined,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.reconnecting?.cancel();
    this.reconnecting = undefined;
    await this.pool.end().catch(() => {});
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
          `the ledger at ${this.where} has schema version ${current}, newer than this tdefer knows (${POSTGRES_SCHEMA_VERSION}): upgrade tdefer on this machine, or point --state at another database`,
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

  /** Runs an operation after the migrations; tracks whether the database answers. */
  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      await this.ready();
      const result = await operation();
      this.markUp();
      return result;
    } catch (error) {
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
