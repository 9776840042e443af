// Types of postgres-server.mjs (plain JavaScript, so that the benchmarks start the same server as the tests).
import type pg from "pg";

/** Why the PostgreSQL tests cannot run here, or undefined when they can. */
export const POSTGRES_MISSING: string | undefined;
/** Shown in test names when they are skipped, so a skip is never silent. */
export const POSTGRES_SKIPPED: string;

export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  /** The superuser's name and password (the password goes in PGPASSWORD, never in a URL). */
  readonly user: string;
  readonly password: string;
  /** The environment a client needs besides the URL: PGPASSWORD. */
  readonly env: Readonly<Record<string, string>>;
  /** A URL without a password. */
  url(database: string): string;
  /** A new, empty database; returns its name. */
  createDatabase(): Promise<string>;
  /** Runs one query in a database (for assertions). */
  query<Row extends pg.QueryResultRow = pg.QueryResultRow>(
    database: string,
    text: string,
    values?: unknown[],
  ): Promise<Row[]>;
  /** Fast shutdown (clients are disconnected); resolves when the server has exited. */
  stop(): Promise<void>;
  /** Starts the stopped server again on the same port. */
  start(): Promise<void>;
  /** Stops the server and deletes its folder. */
  remove(): Promise<void>;
}

/** Initialises and starts a throwaway cluster. Takes a second or two. */
export function startPostgres(): Promise<PostgresServer>;
