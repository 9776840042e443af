/** What a command may touch of the outside world; tests pass their own. */
export interface CliIO {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** The current wall-clock time, ms since the epoch. */
  readonly nowMs: () => number;
  /** Sets the process exit status. */
  readonly setExitCode: (code: number) => void;
}

export const processIO: CliIO = {
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
  env: process.env,
  nowMs: () => Date.now(),
  setExitCode: (code) => {
    process.exitCode = code;
  },
};

/** Lays out rows as left-aligned columns separated by two spaces. */
export function columns(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** "in 4m10s", "in 3d2h", "now", "2m ago": the two largest units. */
export function relativeTime(deltaMs: number): string {
  const abs = Math.abs(deltaMs);
  if (abs < 1000) return "now";
  const units: [string, number][] = [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ];
  let rest = abs;
  const parts: string[] = [];
  for (const [unit, size] of units) {
    const amount = Math.floor(rest / size);
    if (amount > 0 && parts.length < 2) parts.push(`${amount}${unit}`);
    if (parts.length > 0 && amount === 0) break;
    rest -= amount * size;
  }
  const text = parts.join("");
  return deltaMs > 0 ? `in ${text}` : `${text} ago`;
}

/** An RFC 3339 time for people: a space for the T, whole seconds (JSON output keeps the exact value). */
export function displayTime(rfc3339: string): string {
  return rfc3339.replace("T", " ").replace(/\.\d+/, "");
}

/**
 * For output a reader may stop reading early (`tdefer next | head`): a closed pipe ends the output
 * quietly, as for cat or ls, instead of an unhandled EPIPE with a stack trace.
 */
export function endQuietlyOnClosedPipe(stream: NodeJS.WritableStream): void {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
  });
}
