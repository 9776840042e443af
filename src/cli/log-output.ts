import type { Writable } from "node:stream";
import { colorForced, colorLevel } from "../log/color-policy.js";
import type { LogEvent, LogEventInput } from "../log/events.js";
import { createFormatter, type LogFormat } from "../log/formatter.js";
import { LogSink } from "../log/sink.js";
import { createOffsetTime, rfc3339 } from "../log/time.js";
import { formatInZone, systemZone, zoneOffsetMs } from "../schedule/zone.js";
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
  const localZone = systemZone();
  const colorInputs = { env: io.env, isTTY, noColorFlag: color === false, colorFlag: color === true };
  const formatter = createFormatter(format ?? (isTTY ? "pretty" : "plain"), {
    colorLevel: colorLevel(colorInputs),
    colorForced: colorForced(colorInputs),
    // Human formats show times where people are: lines in the system's zone, a job's times in its own.
    lineTime: alwaysUtc(localZone, io.nowMs())
      ? rfc3339
      : createOffsetTime((timeMs) => zoneOffsetMs(localZone, timeMs)),
    timeInZone: formatInZone,
    journal: (io.env.JOURNAL_STREAM ?? "") !== "",
  });
  const sink = new LogSink(stdout, formatter, {
    ...(onError ? { onError } : {}),
    // Our own stdout (a file, pipe, socket or terminal) is done with a Buffer once its write callback ran.
    reusesBuffers: io.stdout === process.stdout,
  });
  // Debug events (a won claim, one per fire) are for the metrics and the status page, not the log, in any format:
  // one per fire would double every run's lines (and change the json stream that programs already read).
  const write = (event: LogEvent) => {
    if (event.level !== "debug") sink.write(event);
  };
  return {
    emit: write,
    emitAt: (event, timeMs) => write({ timeMs, ...event } as LogEvent),
    backpressure: sink,
    close: () => sink.flush(),
  };
}

/** A zone at offset 0 now and half a year on: its log lines take the fast UTC path. */
function alwaysUtc(zone: string, nowMs: number): boolean {
  return zoneOffsetMs(zone, nowMs) === 0 && zoneOffsetMs(zone, nowMs + 182 * 86_400_000) === 0;
}
