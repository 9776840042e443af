// Bounds the memory that a flood of job output leaves behind in read buffers.
import { v8Collector } from "../v8-gc.js";

/**
 * Node reads a pipe into a new buffer each time (up to 64 KiB), outside V8's heap. Once its bytes are laid out,
 * the buffer is garbage, but V8 frees it only in a collection, and it starts one for such memory only when 64 MB
 * more of it exists than after the last; the byte-level log path allocates too little on the heap for V8 to
 * collect sooner. So a flood held up to 64 MB of dead read buffers (one 50 MB line peaked at 105 MiB on Node 20,
 * 125 MiB on Node 22 and 24). This runs a young-generation collection every {@link everyBytes} read from the pipes
 * of all jobs together, which frees them: the young heap holds little, so it costs well under a millisecond (no
 * more CPU in a 200 MB flood than with a collection every 8 MiB), and only floods pay it.
 */
export class ReadBufferBound {
  private readSinceCollection = 0;

  constructor(
    /** Runs a young-generation collection. */
    private readonly collectYoung: () => void,
    private readonly everyBytes = 2 * 1024 * 1024,
  ) {}

  /** Called with the size of each chunk read from a child's pipe. */
  read(bytes: number): void {
    this.readSinceCollection += bytes;
    if (this.readSinceCollection < this.everyBytes) return;
    this.readSinceCollection = 0;
    this.collectYoung();
  }
}

let processBound: ReadBufferBound | undefined | null = null;

/** The process's one bound, made on first use; undefined when V8's collector cannot be reached. */
export function readBufferBound(): ReadBufferBound | undefined {
  if (processBound === null) {
    const gc = v8Collector();
    processBound = gc ? new ReadBufferBound(() => gc({ type: "minor" })) : undefined;
  }
  return processBound;
}
