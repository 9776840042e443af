import type { LogEvent } from "../../src/log/events.js";

export type OutputLinesEvent = Extract<LogEvent, { event: "output_lines" }>;

/**
 * An `output_lines` event, as a run logs one read of a job's pipe: `lines` are whole lines, given as the bytes
 * read, as text ("\n"-terminated), or one string a line; with `continues`, a piece of an over-long line.
 */
export function outputLinesEvent(options: {
  readonly job: string;
  readonly run: string;
  readonly stream?: "stdout" | "stderr";
  readonly lines: Buffer | string | readonly string[];
  readonly timeMs?: number;
  readonly continues?: boolean;
}): OutputLinesEvent {
  const { job, run, stream = "stdout", lines, timeMs = 0, continues = false } = options;
  const bytes =
    typeof lines === "string"
      ? Buffer.from(lines)
      : Buffer.isBuffer(lines)
        ? lines
        : Buffer.from(lines.map((line) => `${line}\n`).join(""));
  return {
    timeMs,
    level: "info",
    event: "output_lines",
    job,
    run,
    stream,
    bytes,
    ...(continues ? { continues: true as const } : {}),
  };
}
