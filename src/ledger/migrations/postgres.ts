// The PostgreSQL ledger's schema, one numbered step per entry, run in order at start inside one transaction
// under an advisory lock (replicas starting together migrate once). The logical schema is SQLite's: one row
// per fire keyed by (schedule, job, scheduled_at), times as UTC ms. Everything lives in the `tdefer` schema so
// that a shared database keeps its own tables apart.

export interface Migration {
  readonly version: number;
  readonly sql: string;
}

export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
CREATE SCHEMA IF NOT EXISTS tdefer;
CREATE TABLE IF NOT EXISTS tdefer.meta (
  key text PRIMARY KEY,
  value text NOT NULL
);
-- One fence sequence for the whole database: a take-over always gets a higher fence than any before it.
CREATE SEQUENCE IF NOT EXISTS tdefer.fence;
CREATE TABLE IF NOT EXISTS tdefer.runs (
  schedule     text    NOT NULL,
  job          text    NOT NULL,
  scheduled_at bigint  NOT NULL,
  state        text    NOT NULL CHECK (state IN ('claimed', 'running', 'succeeded', 'failed', 'timed_out',
                                                 'killed', 'skipped', 'missed', 'lost')),
  reason       text,
  run_id       text,
  owner        text,
  fence        bigint,
  lease_until  bigint,
  claimed_at   bigint,
  started_at   bigint,
  finished_at  bigint,
  attempts     integer NOT NULL DEFAULT 0,
  exit_code    integer,
  signal       text,
  duration_ms  bigint,
  late_ms      bigint,
  trigger      text    NOT NULL DEFAULT 'schedule' CHECK (trigger IN ('schedule', 'catch_up', 'manual')),
  output_tail  text,
  PRIMARY KEY (schedule, job, scheduled_at)
);
-- The lost-run sweep looks only at rows still in flight.
CREATE INDEX IF NOT EXISTS runs_in_flight ON tdefer.runs (schedule, lease_until)
  WHERE state IN ('claimed', 'running');
-- history: newest first across jobs.
CREATE INDEX IF NOT EXISTS runs_by_time ON tdefer.runs (schedule, scheduled_at DESC);
-- What the ledger knows of each job: when it was first seen (never caught up before), the newest scheduled
-- fire recorded (catch-up's watermark), and whether it is paused.
CREATE TABLE IF NOT EXISTS tdefer.jobs (
  schedule          text   NOT NULL,
  job               text   NOT NULL,
  first_seen     bigint NOT NULL,
  last_scheduled_at bigint,
  paused_at         bigint,
  PRIMARY KEY (schedule, job)
);
`,
  },
  {
    version: 2,
    sql: `
-- A fire is also unique by its work (command and trigger): a job renamed on one replica before another is still
-- one fire. Null for records that are not claims.
ALTER TABLE tdefer.runs ADD COLUMN IF NOT EXISTS work text;
CREATE UNIQUE INDEX IF NOT EXISTS runs_same_work ON tdefer.runs (schedule, work, scheduled_at)
  WHERE work IS NOT NULL;
`,
  },
];

/** The newest schema this code knows. */
export const POSTGRES_SCHEMA_VERSION = POSTGRES_MIGRATIONS.at(-1)!.version;
