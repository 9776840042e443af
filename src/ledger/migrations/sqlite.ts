// The SQLite ledger's schema, as numbered migrations run in order at open. Never edit a released migration: add
// the next number. `meta.schema_version` says which have run; a file of a higher version than the last here is
// refused (it was written by a newer tdefer).

export interface Migration {
  readonly version: number;
  readonly sql: string;
}

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE runs (
        schedule     TEXT    NOT NULL,
        job          TEXT    NOT NULL,
        scheduled_at INTEGER NOT NULL,
        state        TEXT    NOT NULL,
        reason       TEXT,
        run_id       TEXT,
        owner        TEXT,
        fence        INTEGER,
        lease_until  INTEGER,
        claimed_at   INTEGER,
        started_at   INTEGER,
        finished_at  INTEGER,
        attempts     INTEGER NOT NULL DEFAULT 0,
        exit_code    INTEGER,
        signal       TEXT,
        duration_ms  INTEGER,
        late_ms      INTEGER,
        trigger      TEXT    NOT NULL,
        output_tail  TEXT,
        PRIMARY KEY (schedule, job, scheduled_at)
      ) STRICT;
      -- history of all jobs, newest first
      CREATE INDEX runs_by_time ON runs (schedule, scheduled_at);
      -- history --failed without walking every success
      CREATE INDEX runs_failed ON runs (schedule, scheduled_at)
        WHERE state IN ('failed', 'timed_out', 'killed', 'lost');
      -- the lost-run sweep at start and every lease
      CREATE INDEX runs_in_flight ON runs (schedule, scheduled_at) WHERE state IN ('claimed', 'running');
      CREATE TABLE jobs (
        schedule          TEXT    NOT NULL,
        job               TEXT    NOT NULL,
        first_seen        INTEGER NOT NULL,
        last_scheduled_at INTEGER,
        paused_at         INTEGER,
        PRIMARY KEY (schedule, job)
      ) STRICT;
      INSERT INTO meta (key, value) VALUES ('last_fence', 0);
    `,
  },
  {
    version: 2,
    sql: `
      -- A fire is also unique by its work (command and trigger): the same contract as PostgreSQL's, where a job
      -- renamed on one replica before another is still one fire. Null for records that are not claims.
      ALTER TABLE runs ADD COLUMN work TEXT;
      CREATE UNIQUE INDEX runs_same_work ON runs (schedule, work, scheduled_at) WHERE work IS NOT NULL;
    `,
  },
];

export const LATEST_SQLITE_SCHEMA = SQLITE_MIGRATIONS.at(-1)!.version;
