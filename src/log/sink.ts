import type { Writable } from "node:stream";
import type { LogEvent } from "./events.js";
import { linesEngine } from "./lines-simd.js";
import type { LinesLayout, LogFormatter } from "./output-lines.js";

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
  /** Buffered characters (bytes, for job output laid out as bytes) above which the sink writes at once and asks producers to pause. Default 64 Ki. */
  highWaterChars?: number;
  /**
   * The stream is done with a Buffer once its write callback has run (files, pipes, sockets, terminals: not a
   * stream that keeps what it is given, as a PassThrough does): the sink then reuses its buffers, so a flood of
   * output leaves no garbage behind.
   */
  reusesBuffers?: boolean;
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
  private readonly reusesBuffers: boolean;
  /**
   * Bytes for the stream are carved from this, front to back: [bytesStart, slabUsed) is laid out and not yet handed
   * over; what lies before bytesStart was handed over and is not written again, unless `reusesBuffers` and the
   * stream has finished with all of it.
   */
  private slab: Buffer = Buffer.alloc(0);
  private bytesStart = 0;
  private slabUsed = 0;
  /** Parts of the current slab handed to the stream that it has not finished writing. */
  private slabWrites = 0;

  constructor(
    private readonly stream: Writable,
    private readonly format: LogFormatter,
    options: LogSinkOptions = {},
  ) {
    this.highWaterChars = options.highWaterChars ?? 64 * 1024;
    this.onError = options.onError ?? reportToStderr;
    this.encodes = encodesStrings(stream);
    this.reusesBuffers = options.reusesBuffers ?? false;
    stream.on("error", (error) => this.fail(error));
  }

  write(event: LogEvent): void {
    if (this.failed) return;
    if (this.waitingForDrain) this.queued.push(event);
    else this.append(event);
  }

  private append(event: LogEvent): void {
    const layout = event.event === "output_lines" ? this.format.linesLayout?.(event) : undefined;
    if (layout && event.event === "output_lines") {
      if (event.continues) this.layOutPiece(event.bytes, layout);
      else this.layOut(event.bytes, layout);
    }
    // Appending, not an array and join(): V8 then copies each line once, when the batch is written.
    else this.pending += `${this.formatSafely(event)}\n`;
    if (this.pendingSize() >= this.highWaterChars) this.writePending();
    else if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.writePending());
    }
  }

  private pendingSize(): number {
    return this.pending.length + this.slabUsed - this.bytesStart;
  }

  /**
   * Lays the lines of `bytes` out in the slab as `layout` says, copying bytes: no string and no object per line.
   * The text pending before them goes into the slab first, so the order stays.
   */
  private layOut(bytes: Buffer, layout: LinesLayout): void {
    this.pendingToSlab();
    const { prefix, between, last } = layout;
    const engine = linesEngine();
    if (engine) {
      this.roomFor(engine.laidOutLength(bytes, between));
      this.slabUsed += engine.layOut(bytes, prefix, between, this.slab, this.slabUsed);
      return;
    }
    this.roomFor(prefix.length);
    this.slabUsed += prefix.copy(this.slab, this.slabUsed);
    let slab = this.slab;
    let at = this.slabUsed;
    const end = bytes.length - 1;
    const { buffer, byteOffset } = bytes;
    for (let from = 0; ; ) {
      const newline = bytes.indexOf(LF, from);
      const after = newline === end ? last : between;
      const length = newline - from;
      if (at + length + after.length > slab.length) {
        this.slabUsed = at;
        this.roomFor(length + after.length);
        slab = this.slab;
        at = this.slabUsed;
      }
      // A plain Uint8Array view and set(): about half the cost of Buffer's copy(), which checks and converts more.
      slab.set(new Uint8Array(buffer, byteOffset + from, length), at);
      slab.set(after, at + length);
      at += length + after.length;
      if (newline === end) break;
      from = newline + 1;
    }
    this.slabUsed = at;
  }

  /** A piece of an over-long line: its prefix, its bytes, then the mark and what ends a line that continues. */
  private layOutPiece(bytes: Buffer, layout: LinesLayout): void {
    this.pendingToSlab();
    const { prefix, continued } = layout;
    this.roomFor(prefix.length + bytes.length + continued.length);
    const slab = this.slab;
    slab.set(prefix, this.slabUsed);
    slab.set(bytes, this.slabUsed + prefix.length);
    slab.set(continued, this.slabUsed + prefix.length + bytes.length);
    this.slabUsed += prefix.length + bytes.length + continued.length;
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
    return !this.failed && (this.waitingForDrain || this.pendingSize() >= this.highWaterChars);
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
    if (this.failed) return;
    if (this.slabUsed > this.bytesStart || (this.encodes && this.pending.length > 0)) {
      this.pendingToSlab();
      this.handOverBytes();
    } else if (this.pending.length > 0) {
      const text = this.pending;
      this.pending = "";
      this.send(text);
    }
  }

  /** Hands the stream `data`; past its high-water mark, producers wait for its 'drain'. */
  private send(data: string | Buffer, onWritten?: () => void): void {
    if (this.stream.write(data, onWritten) || this.waitingForDrain) return;
    this.waitingForDrain = true;
    this.stream.once("drain", () => {
      this.waitingForDrain = false;
      this.appendQueued();
      if (!this.waitingForDrain) this.releaseWaiters();
    });
  }

  /** Hands over the bytes laid out in the slab and not yet handed over. */
  private handOverBytes(): void {
    if (this.slabUsed === this.bytesStart) return;
    const part = this.slab.subarray(this.bytesStart, this.slabUsed);
    this.bytesStart = this.slabUsed;
    if (!this.reusesBuffers) {
      this.send(part);
      return;
    }
    const slab = this.slab;
    this.slabWrites++;
    this.send(part, () => {
      if (slab === this.slab) this.slabWrites--;
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

  /** The pending text as UTF-8 in the slab: several times faster than the stream's own Buffer.from(). */
  private pendingToSlab(): void {
    if (this.pending.length === 0) return;
    const text = this.pending;
    this.pending = "";
    // At most 3 bytes per UTF-16 unit (a surrogate pair is 4 bytes for 2 units).
    this.roomFor(text.length * 3);
    this.slabUsed += this.slab.write(text, this.slabUsed, "utf8");
  }

  /** Makes room for `bytes` more bytes at slabUsed: the slab again from its start, or a new one. */
  private roomFor(bytes: number): void {
    // Everything handed over is written: with reusesBuffers, the slab starts over.
    if (this.reusesBuffers && this.slabWrites === 0 && this.bytesStart === this.slabUsed) {
      this.bytesStart = this.slabUsed = 0;
    }
    if (this.slab.length - this.slabUsed >= bytes) return;
    this.handOverBytes();
    if (this.reusesBuffers && this.slabWrites === 0 && this.slab.length >= bytes) {
      this.bytesStart = this.slabUsed = 0;
      return;
    }
    this.slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, bytes));
    this.bytesStart = this.slabUsed = 0;
    this.slabWrites = 0;
  }

  private fail(error: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.pending = "";
    this.bytesStart = this.slabUsed;
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

const LF = 0x0a;
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
