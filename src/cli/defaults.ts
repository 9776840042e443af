/** How many fires `tdefer next` shows without `-n` (here, not in command-line.ts, so main.ts need not load commander for it). */
export const DEFAULT_NEXT_COUNT = 10;

/** How long `tdefer run`'s jobs get on SIGINT/SIGTERM before SIGKILL without `--grace` (25s). */
export const DEFAULT_GRACE_MS = 25_000;
