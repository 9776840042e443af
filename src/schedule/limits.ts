// The limits on what a schedule file may be, written once: the screen before parsing (screen.ts), the
// positioned parse (positions.ts) and the file reader in the CLI all refuse with these numbers and hints.

/** A schedule file larger than this is refused before it is read (no schedule needs 4 MiB). */
export const MAX_FILE_BYTES = 4 * 1024 * 1024;
/** A crontab larger than this is refused before it is read (cron's own tables are a few kB). */
export const MAX_CRONTAB_BYTES = 4 * 1024 * 1024;
/** Nesting deeper than this is refused: a schedule needs a handful of levels. */
export const MAX_DEPTH = 64;
/** Aliases (`*name`) beyond this, as references or as values they expand to, are refused (the "billion laughs"). */
export const MAX_ALIASES = 1000;

export const DEPTH_HINT =
  "a schedule needs only a few levels (jobs, a job, its keys); check for runaway brackets";
export const ALIAS_HINT = "use aliases only for small shared blocks such as job defaults";
