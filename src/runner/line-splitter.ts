import { isUtf8 } from "node:buffer";
import { CONTINUATION_MARK, decodeEscaped, forEachLine } from "../log/output-lines.js";

/** The longest line emitted in one piece, in bytes, unless told otherwise. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;

export { CONTINUATION_MARK };

/** Receives each line (or piece of an over-long line) in order; `continues` is true for every piece but the last. */
export type LineListener = (line: string, continues: boolean) => void;

/**
 * Receives whole lines as bytes: each ends in "\n" (a "\r" before it is not removed) and none is over the limit;
 * or, with `continues`, one piece of an over-long line (no "\n"), which stands for the piece, marked. `bytes` is
 * never changed by the splitter afterwards.
 */
export type LinesListener = (bytes: Buffer, continues: boolean) => void;

const LF = 0x0a;
const CR = 0x0d;

/**
 * Turns a byte stream into whole lines. Lines end at "\n" (a "\r" before it is dropped); a final line
 * without a newline comes out at end(). A line longer than `maxLineBytes` comes out in pieces, cut on a
 * UTF-8 character boundary and marked with {@link CONTINUATION_MARK}. Bytes that are not UTF-8 are shown
 * as `\xHH`. A character split across chunks decodes whole, because only the unfinished line is carried.
 * With `onLines`, the whole lines found in a chunk go to it as one view of their bytes, not decoded (see
 * log/output-lines.ts for their text); a line begun in an earlier chunk, and the pieces of an over-long line,
 * still come to `onLine`. Memory: at most `maxLineBytes` bytes are carried between chunks, whatever the input.
 */
export class LineSplitter {
  /** The unfinished line from earlier chunks; grows on demand up to maxLineBytes. */
  private carry: Buffer = Buffer.alloc(0);
  private carryLength = 0;
  private readonly onLines: LinesListener;
  /** With an `onLines` of the caller's, pieces of over-long lines go to it too, as bytes. */
  private readonly piecesAsBytes: boolean;

  constructor(
    private readonly onLine: LineListener,
    private readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES,
    onLines?: LinesListener,
  ) {
    this.onLines = onLines ?? ((bytes) => forEachLine(bytes, (line) => onLine(line, false)));
    this.piecesAsBytes = onLines !== undefined;
    // A limit under 4 bytes could not hold one UTF-8 character, and the boundary search would loop.
    if (!(maxLineBytes >= 4)) throw new RangeError(`maxLineBytes must be at least 4, got ${maxLineBytes}`);
  }

  /** Feeds the next chunk of bytes. */
  push(chunk: Buffer): void {
    let start = 0;
    if (this.carryLength > 0) {
      const newline = chunk.indexOf(LF);
      if (newline === -1) {
        this.appendToCarry(chunk, 0, chunk.length);
        return;
      }
      this.finishCarriedLine(chunk, newline);
      start = newline + 1;
    }
    const lastNewline = chunk.lastIndexOf(LF);
    if (lastNewline >= start) {
      this.emitWholeLines(chunk, start, lastNewline + 1);
      start = lastNewline + 1;
    }
    if (start < chunk.length) this.appendToCarry(chunk, start, chunk.length);
  }

  /** Emits the lines of bytes [start, end), which ends just after a "\n": runs of lines within the limit as they are. */
  private emitWholeLines(chunk: Buffer, start: number, end: number): void {
    // No line of a region this short can be over the limit (a pipe reads 64 KiB, the default limit).
    if (end - start - 1 <= this.maxLineBytes) {
      this.onLines(chunk.subarray(start, end), false);
      return;
    }
    let runStart = start;
    for (let from = start; from < end; ) {
      const newline = chunk.indexOf(LF, from);
      const lineEnd = newline > from && chunk[newline - 1] === CR ? newline - 1 : newline;
      if (lineEnd - from > this.maxLineBytes) {
        if (runStart < from) this.onLines(chunk.subarray(runStart, from), false);
        this.emitLine(chunk, from, lineEnd, undefined);
        runStart = newline + 1;
      }
      from = newline + 1;
    }
    if (runStart < end) this.onLines(chunk.subarray(runStart, end), false);
  }

  /** Emits the last line if it had no newline. Call once, when the stream has ended. */
  end(): void {
    if (this.carryLength === 0) return;
    const length = this.carryLength;
    this.carryLength = 0;
    this.emitLine(this.carry, 0, length, undefined);
  }

  private finishCarriedLine(chunk: Buffer, newline: number): void {
    let end = newline;
    if (end > 0 && chunk[end - 1] === CR) end--;
    else if (end === 0 && this.carry[this.carryLength - 1] === CR) this.carryLength--;
    this.appendToCarry(chunk, 0, end);
    const length = this.carryLength;
    this.carryLength = 0;
    this.emitLine(this.carry, 0, length, undefined);
  }

  /** Copies bytes into the carry; whenever it would pass the limit, a piece is emitted from its front. */
  private appendToCarry(source: Buffer, start: number, end: number): void {
    while (this.carryLength + (end - start) > this.maxLineBytes) {
      const take = this.maxLineBytes - this.carryLength;
      this.ensureCarryCapacity(this.maxLineBytes);
      source.copy(this.carry, this.carryLength, start, start + take);
      start += take;
      // The next byte is known (start < end), so a cut before it is never the end of the line.
      const cut = characterBoundary(this.carry, this.maxLineBytes, 0, source[start]!);
      this.emitPiece(this.carry, 0, cut);
      this.carry.copy(this.carry, 0, cut, this.maxLineBytes);
      this.carryLength = this.maxLineBytes - cut;
    }
    if (end > start) {
      this.ensureCarryCapacity(this.carryLength + (end - start));
      source.copy(this.carry, this.carryLength, start, end);
      this.carryLength += end - start;
    }
  }

  private ensureCarryCapacity(bytes: number): void {
    if (this.carry.length >= bytes) return;
    const grown = Buffer.allocUnsafe(
      Math.min(this.maxLineBytes, Math.max(bytes, this.carry.length * 2, 256)),
    );
    this.carry.copy(grown, 0, 0, this.carryLength);
    this.carry = grown;
  }

  /** Emits bytes [start, end) of `source` as one line, in pieces when it is over the limit. */
  private emitLine(source: Buffer, start: number, end: number, valid: boolean | undefined): void {
    while (end - start > this.maxLineBytes) {
      const cut = characterBoundary(
        source,
        start + this.maxLineBytes,
        start,
        source[start + this.maxLineBytes]!,
      );
      this.emitPiece(source, start, cut);
      start = cut;
    }
    this.onLine(decode(source, start, end, valid), false);
  }

  private emitPiece(source: Buffer, start: number, end: number): void {
    // The carry is written over next: its bytes are copied; a chunk's are never changed, and a view does.
    if (this.piecesAsBytes) {
      const piece = source.subarray(start, end);
      this.onLines(source === this.carry ? Buffer.from(piece) : piece, true);
    } else {
      this.onLine(decode(source, start, end, undefined) + CONTINUATION_MARK, true);
    }
  }
}

/**
 * Where to cut `buffer` at `index` (or a little before) so that no UTF-8 character is split: `nextByte`
 * is the byte at `index`. When no character boundary lies within 3 bytes (invalid input), cut at `index`.
 */
function characterBoundary(buffer: Buffer, index: number, floor: number, nextByte: number): number {
  if ((nextByte & 0xc0) !== 0x80) return index;
  for (let cut = index - 1; cut > floor && cut >= index - 3; cut--) {
    const byte = buffer[cut]!;
    if ((byte & 0xc0) !== 0x80) return byte >= 0xc0 ? cut : index;
  }
  return index;
}

/** Bytes [start, end) as a string; `valid` says whether they are known to be UTF-8 (undefined: check). */
function decode(buffer: Buffer, start: number, end: number, valid: boolean | undefined): string {
  if (valid ?? isUtf8(buffer.subarray(start, end))) return buffer.toString("utf8", start, end);
  return decodeEscaped(buffer, start, end);
}
