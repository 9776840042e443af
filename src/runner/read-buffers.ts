// Bounds the memory that a flood of job output leaves behind in read buffers.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/**
 * Node reads a pipe into a new buffer each time (up to 64 KiB), outside V8's heap. Once its bytes are laid out,
 * the buffer is garbage, but V8 frees it only in a collection, and it starts one for such memory only when 64 MB
 * more of it exists than after the last. A flood that allocates little on the heap itself (one long line, cut
 * into pieces) thus held up to 64 MB of dead read buffers. This counts the bytes read and, every
 * {@link checkEveryBytes}, looks at the memory held in ArrayBuffers: when it has grown by {@link slackBytes}
 * since the last collection, a young-generation collection (about a millisecond: the young heap is small) frees
 * the dead buffers. A flood of short lines allocates enough on the heap that V8 collects by itself, and the
 * check then finds nothing to do.
 */
export class ReadBufferBound {
  private readSinceCheck = 0;
  private heldAfterCollection: number;

  constructor(
    /** Bytes held in ArrayBuffers and Buffers now (process.memoryUsage().arrayBuffers). */
    private readonly heldBytes: () => number,
    /** Runs a young-generation collection. */
    private readonly collectYoung: () => void,
    private readonly checkEveryBytes = 1024 * 1024,
    private readonly slackBytes = 8 * 1024 * 1024,
  ) {
    this.heldAfterCollection = heldBytes();
  }

  /** Called with the size of each chunk read from a child's pipe. */
  read(bytes: number): void {
    this.readSinceCheck += bytes;
    if (this.readSinceCheck < this.checkEveryBytes) return;
    this.readSinceCheck = 0;
    const held = this.heldBytes();
    // Collections V8 made by itself lower what is held: follow them down, so the slack counts from there.
    if (held < this.heldAfterCollection) this.heldAfterCollection = held;
    if (held - this.heldAfterCollection < this.slackBytes) return;
    this.collectYoung();
    this.heldAfterCollection = this.heldBytes();
  }
}

/**
 * V8's gc(), taken from a fresh context made after the flag that defines it is set: the process's own global
 * object never gets it. Undefined when the runtime refuses (the bound then does nothing).
 */
function youngCollector(): (() => void) | undefined {
  try {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as unknown;
    if (typeof gc !== "function") return undefined;
    return () => (gc as (options: { type: "minor" }) => void)({ type: "minor" });
  } catch {
    return undefined;
  }
}

let processBound: ReadBufferBound | undefined | null = null;

/** The process's one bound, made on first use; undefined when V8's collector cannot be reached. */
export function readBufferBound(): ReadBufferBound | undefined {
  if (processBound === null) {
    const collect = youngCollector();
    processBound = collect
      ? new ReadBufferBound(() => process.memoryUsage().arrayBuffers, collect)
      : undefined;
  }
  return processBound;
}
