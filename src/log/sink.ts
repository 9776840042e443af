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
 * When the stream's write() returns false, needDrain() stays true until its 'drain' and events written meanwhile
 * wait unformatted (a chunk of job output as its bytes, not as the several times longer text it becomes); they
 * are formatted when the stream has room. After a write error the sink reports it once and drops further output,
 * rather than failing or retrying forever.
 */
export class LogSink implements EventSink {
  /** The lines not yet written, each with its "\n", as one string built by appending (a rope in V8). */
  private pending = "";
  private flushQueued = false;
  private waitingForDrain = false;
  private failed = false;
  private drainCallbacks: (() => void)[] = [];
  /** Events written while the stream drains, formatted once it has room; `queuedFrom` is the first not yet done. */
  private queued: LogEvent[] = [];
  private queuedFrom = 0;
  private readonly highWaterChars: number;
  private readonly onError: (error: Error) => void;
  /** Whether writes are handed over as Buffers that the sink encodes itself; see {@link encodesStrings}. */
  private readonly encodes: boolean;
  /** Encoded batches are carved from this, front to back; a handed-over part is never written again. */
  private slab: Buffer = Buffer.alloc(0);
  private slabUsed = 0;

  constructor(
    private readonly stream: Writable,
    private readonly format: (event: LogEvent) => string,
    options: LogSinkOptions = {},
  ) {
    this.highWaterChars = options.highWaterChars ?? 64 * 1024;
    this.onError = options.onError ?? reportToStderr;
    this.encodes = encodesStrings(stream);
    stream.on("error", (error) => this.fail(error));
  }

  write(event: LogEvent): void {
    if (this.failed) return;
    if (this.waitingForDrain) this.queued.push(event);
    else this.append(event);
  }

  private append(event: LogEvent): void {
    // Appending, not an array and join(): V8 then copies each line once, when the batch is written.
    this.pending += `${this.formatSafely(event)}\n`;
    if (this.pending.length >= this.highWaterChars) this.writePending();
    else if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.writePending());
    }
  }

  /** An event that cannot be formatted (a bug) becomes a line saying so: logging must never throw. */
  private formatSafely(event: LogEvent): string {
    try {
      return this.format(event);
    } catch (error) {
      return `tdefer: internal error: could not format a "${String(event.event)}" event (${String(error)})`;
    }
  }

  needDrain(): boolean {
    return !this.failed && (this.waitingForDrain || this.pending.length >= this.highWaterChars);
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
    const text = this.pending;
    this.pending = "";
    if (this.stream.write(this.encodes ? this.encode(text) : text) || this.waitingForDrain) return;
    this.waitingForDrain = true;
    this.stream.once("drain", () => {
      this.waitingForDrain = false;
      this.appendQueued();
      if (!this.waitingForDrain) this.releaseWaiters();
    });
  }

  /** Formats the events that waited for the drain, in order, until the stream is full again. */
  private appendQueued(): void {
    while (this.queuedFrom < this.queued.length && !this.waitingForDrain && !this.failed) {
      this.append(this.queued[this.queuedFrom++]!);
    }
    if (this.queuedFrom === this.queued.length) {
      this.queued = [];
      this.queuedFrom = 0;
    }
  }

  /** `text` as UTF-8, written into the slab: several times faster than the stream's own Buffer.from(). */
  private encode(text: string): Buffer {
    // At most 3 bytes per UTF-16 unit (a surrogate pair is 4 bytes for 2 units).
    const room = text.length * 3;
    if (this.slab.length - this.slabUsed < room) {
      this.slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, room));
      this.slabUsed = 0;
    }
    const start = this.slabUsed;
    this.slabUsed += this.slab.write(text, start, "utf8");
    return this.slab.subarray(start, this.slabUsed);
  }

  private fail(error: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.pending = "";
    this.queued = [];
    this.queuedFrom = 0;
    this.onError(error);
    // Producers paused for a drain that will never come must carry on (their output is dropped).
    this.releaseWaiters();
  }

  private releaseWaiters(): void {
    for (const callback of this.drainCallbacks.splice(0)) callback();
  }
}

const SLAB_BYTES = 1024 * 1024;

/**
 * Whether `stream` turns the strings it is given into Buffers itself (files, fs streams: their default
 * `decodeStrings`). The sink then hands it Buffers it encoded: the stream's Buffer.from() costs several times
 * more. Streams that take strings as they are (sockets, pipes, streams made with `decodeStrings: false`) get
 * strings.
 */
function encodesStrings(stream: Writable): boolean {
  const state = (stream as { _writableState?: { decodeStrings?: boolean; objectMode?: boolean } })
    ._writableState;
  return state?.decodeStrings === true && state.objectMode !== true;
}

function reportToStderr(error: Error): void {
  try {
    process.stderr.write(`tdefer: cannot write the log any more, dropping it: ${error.message}\n`);
  } catch {
    // stderr is gone too: there is nobody left to tell.
  }
}
