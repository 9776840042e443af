// The throwaway PostgreSQL server of the tests; the code is JavaScript so that bench/ can use it too.
export {
  POSTGRES_MISSING,
  POSTGRES_SKIPPED,
  type PostgresServer,
  startPostgres,
} from "./postgres-server.mjs";
