import type { Writable } from "node:stream";
import { colorForced, colorLevel } from "../log/color-policy.js";
import type { LogEvent, LogEventInput } from "../log/events.js";
import { createFormatter, type LogFormat } from "../log/formatter.js";
import { LogSink } from "../log/sink.js";
import type { CliIO } from "./io.js";

export type { LogFormat };

/** The log of `run` and `trigger`: events formatted for stdout, with backpressure for the runs. */
export interface LogOutput {
  emit(event: LogEvent): void;
  /** Stamps an event with `timeMs` and emits it. */
  emitAt(event: LogEventInput, timeMs: number): void;
  /** Runs pause their pipes while this says so. */
  readonly backpressure: LogSink;
  /** Writes out what is buffered. */
  close(): Promise<void>;
}

/**
 * pretty on a terminal, plain otherwise, unless --log-format says; colours per NO_COLOR / FORCE_COLOR /
 * --color / --no-color, in pretty and plain alike; under systemd (JOURNAL_STREAM) no own timestamps and sd-daemon priority prefixes.
 */
export function createLogOutput(
  io: CliIO,
  format: LogFormat | undefined,
  color: boolean | undefined,
  onError?: (error: Error) => void,
): LogOutput {
  const stdout = io.stdout as Writable & { isTTY?: boolean };
  const isTTY = stdout.isTTY === true;
  const colorInputs = { env: io.env, isTTY, noColorFlag: color === false, colorFlag: color === true };
  const formatter = createFormatter(format ?? (isTTY ? "pretty" : "plain"), {
    colorLevel: colorLevel(colorInputs),
    colorForced: colorForced(colorInputs),
    journal: (io.env.JOURNAL_STREAM ?? "") !== "",
  });
  const sink = new LogSink(stdout, formatter, onError ? { onError } : {});
  return {
    emit: (event) => sink.write(event),
    emitAt: (event, timeMs) => sink.write({ timeMs, ...event } as LogEvent),
    backpressure: sink,
    close: () => sink.flush(),
  };
}
