import type { Writable } from "node:stream";
import type { LogEvent } from "./events.js";

/** Where events go. Also tells producers when to wait (the Backpressure shape that runJob accepts). */
export interface EventSink {
  write(event: LogEvent): void;
  /** True while more is buffered than the sink wants: producers should pause. */
  needDrain(): boolean;
  /** Calls `callback` once when needDrain() is false again (at once, on a later turn, if it already is). */
  onceDrained(callback: () => void): void;
  /** Resolves when everything written so far has been handed to the stream (or the stream has failed). */
  flush(): Promise<void>;
}

export interface LogSinkOptions {
  /** Told once of the first write error (EPIPE when the reader went away…); later output is dropped. */
  onError?: (error: Error) => void;
  /** Buffered characters above which the sink writes at once and asks producers to pause. Default 64 Ki. */
  highWaterChars?: number;
}

/**
 * Formats events into lines and writes them to a stream. Lines written in the same turn of the event loop
 * (the lines of one chunk of job output) are joined into one stream write, made on the next microtask.
 * When the stream's write() returns false, needDrain() stays true until its 'drain'. After a write error
 * the sink reports it once and drops further output, rather than failing or retrying forever.
 */
export class LogSink implements EventSink {
  private pending: string[] = [];
  private pendingChars = 0;
  private flushQueued = false;
  private waitingForDrain = false;
  private failed = false;
  private drainCallbacks: (() => void)[] = [];
  private readonly highWaterChars: number;
  private readonly onError: (error: Error) => void;

  constructor(
    private readonly stream: Writable,
    private readonly format: (event: LogEvent) => string,
    options: LogSinkOptions = {},
  ) {
    this.highWaterChars = options.highWaterChars ?? 64 * 1024;
    this.onError = options.onError ?? reportToStderr;
    stream.on("error", (error) => this.fail(error));
  }

  write(event: LogEvent): void {
    if (this.failed) return;
    const line = this.format(event);
    this.pending.push(line);
    this.pendingChars += line.length + 1;
    if (this.pendingChars >= this.highWaterChars) this.writePending();
    else if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.writePending());
    }
  }

  needDrain(): boolean {
    return !this.failed && (this.waitingForDrain || this.pendingChars >= this.highWaterChars);
  }

  onceDrained(callback: () => void): void {
    if (this.needDrain()) this.drainCallbacks.push(callback);
    else queueMicrotask(callback);
  }

  flush(): Promise<void> {
    this.writePending();
    return new Promise((resolve) => this.onceDrained(resolve));
  }

  private writePending(): void {
    this.flushQueued = false;
    if (this.pending.length === 0 || this.failed) return;
    const text = `${this.pending.join("\n")}\n`;
    this.pending = [];
    this.pendingChars = 0;
    if (this.stream.write(text) || this.waitingForDrain) return;
    this.waitingForDrain = true;
    this.stream.once("drain", () => {
      this.waitingForDrain = false;
      this.releaseWaiters();
    });
  }

  private fail(error: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.pending = [];
    this.pendingChars = 0;
    this.onError(error);
    // Producers paused for a drain that will never come must carry on (their output is dropped).
    this.releaseWaiters();
  }

  private releaseWaiters(): void {
    for (const callback of this.drainCallbacks.splice(0)) callback();
  }
}

function reportToStderr(error: Error): void {
  try {
    process.stderr.write(`tdefer: cannot write the log any more, dropping it: ${error.message}\n`);
  } catch {
    // stderr is gone too: there is nobody left to tell.
  }
}

/** A sink that keeps events in memory, for tests; it never needs draining. */
export class MemorySink implements EventSink {
  readonly events: LogEvent[] = [];

  write(event: LogEvent): void {
    this.events.push(event);
  }

  needDrain(): boolean {
    return false;
  }

  onceDrained(callback: () => void): void {
    queueMicrotask(callback);
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  /** The events of one kind, typed. */
  ofType<E extends LogEvent["event"]>(name: E): Extract<LogEvent, { event: E }>[] {
    return this.events.filter((event): event is Extract<LogEvent, { event: E }> => event.event === name);
  }

  /** The text lines of job output, optionally of one stream. */
  outputLines(stream?: "stdout" | "stderr"): string[] {
    return this.ofType("output")
      .filter((event) => stream === undefined || event.stream === stream)
      .map((event) => event.line);
  }
}
