/** How many fires `tdefer next` shows without `-n` (here, not in command-line.ts, so main.ts need not load commander for it). */
export const DEFAULT_NEXT_COUNT = 10;
