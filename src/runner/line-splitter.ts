import { isAscii, isUtf8 } from "node:buffer";

/** The longest line emitted in one piece, in bytes, unless told otherwise. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;

/**
 * Appended to every piece of an over-long line except the last, so a reader sees that the line goes on
 * in the next event. The piece is also flagged with `continues: true`, which is the exact signal: the
 * mark alone cannot tell a split line from one that really ends in " ↩".
 */
export const CONTINUATION_MARK = " ↩";

/** Receives each line (or piece of an over-long line) in order; `continues` is true for every piece but the last. */
export type LineListener = (line: string, continues: boolean) => void;

const LF = 0x0a;
const CR = 0x0d;

/**
 * Turns a byte stream into whole lines. Lines end at "\n" (a "\r" before it is dropped); a final line
 * without a newline comes out at end(). A line longer than `maxLineBytes` comes out in pieces, cut on a
 * UTF-8 character boundary and marked with {@link CONTINUATION_MARK}. Bytes that are not UTF-8 are shown
 * as `\xHH`. A character split across chunks decodes whole, because only the unfinished line is carried.
 * Memory: at most `maxLineBytes` bytes are carried between chunks, whatever the input.
 */
export class LineSplitter {
  /** The unfinished line from earlier chunks; grows on demand up to maxLineBytes. */
  private carry: Buffer = Buffer.alloc(0);
  private carryLength = 0;

  constructor(
    private readonly onLine: LineListener,
    private readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES,
  ) {
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
      this.emitWholeLines(chunk, start, lastNewline);
      start = lastNewline + 1;
    }
    if (start < chunk.length) this.appendToCarry(chunk, start, chunk.length);
  }

  /**
   * Emits the lines of bytes [start, lastNewline), which end at lastNewline's "\n". The usual case (ASCII,
   * or valid UTF-8 no longer than one line may be) is decoded with one toString for the whole run and cut
   * with string indexOf: a decode per line cost more than everything else the log does with the line.
   */
  private emitWholeLines(chunk: Buffer, start: number, lastNewline: number): void {
    const region = chunk.subarray(start, lastNewline);
    // ASCII: string offsets are byte offsets, so an over-long line is still found and cut by bytes.
    if (isAscii(region)) {
      this.emitDecodedLines(chunk.toString("latin1", start, lastNewline), chunk, start);
      return;
    }
    // Valid characters never straddle a "\n", so one check covers every whole line of the chunk.
    const valid = isUtf8(region);
    if (valid && lastNewline - start <= this.maxLineBytes) {
      // No line here can pass the limit, so nothing needs byte offsets.
      this.emitDecodedLines(chunk.toString("utf8", start, lastNewline), chunk, -1);
      return;
    }
    let from = start;
    for (let newline = chunk.indexOf(LF, from); newline !== -1; newline = chunk.indexOf(LF, from)) {
      const end = newline > from && chunk[newline - 1] === CR ? newline - 1 : newline;
      this.emitLine(chunk, from, end, valid);
      from = newline + 1;
      if (from > lastNewline) break;
    }
  }

  /**
   * Emits each "\n"-separated line of `text` ("\r\n" counts as "\n"). `byteBase` is where `text` starts in
   * `chunk` when its offsets are byte offsets (ASCII), or -1 when no line of it can be over the limit.
   */
  private emitDecodedLines(text: string, chunk: Buffer, byteBase: number): void {
    const onLine = this.onLine;
    const limit = this.maxLineBytes;
    let from = 0;
    for (;;) {
      const newline = text.indexOf("\n", from);
      const stop = newline === -1 ? text.length : newline;
      const end = stop > from && text.charCodeAt(stop - 1) === CR ? stop - 1 : stop;
      if (byteBase >= 0 && end - from > limit) this.emitLine(chunk, byteBase + from, byteBase + end, true);
      else onLine(text.slice(from, end), false);
      if (newline === -1) return;
      from = newline + 1;
    }
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
    this.onLine(decode(source, start, end, undefined) + CONTINUATION_MARK, true);
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

/** Decodes UTF-8 with each byte that is not part of a valid character shown as `\xHH`. */
export function decodeEscaped(buffer: Buffer, start: number, end: number): string {
  let text = "";
  let runStart = start;
  let i = start;
  while (i < end) {
    const length = validSequenceLength(buffer, i, end);
    if (length > 0) {
      i += length;
      continue;
    }
    text += `${buffer.toString("utf8", runStart, i)}\\x${buffer[i]!.toString(16).padStart(2, "0")}`;
    i++;
    runStart = i;
  }
  return text + buffer.toString("utf8", runStart, end);
}

/** The length of the valid UTF-8 character at `i` (no overlongs, surrogates or code points past U+10FFFF), or 0. */
function validSequenceLength(buffer: Buffer, i: number, end: number): number {
  const b0 = buffer[i]!;
  if (b0 < 0x80) return 1;
  let length: number;
  let min: number;
  let max = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) return i + 1 < end && isContinuation(buffer[i + 1]!) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    length = 3;
    min = b0 === 0xe0 ? 0xa0 : 0x80;
    if (b0 === 0xed) max = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    length = 4;
    min = b0 === 0xf0 ? 0x90 : 0x80;
    if (b0 === 0xf4) max = 0x8f;
  } else {
    return 0;
  }
  if (i + length > end) return 0;
  const b1 = buffer[i + 1]!;
  if (b1 < min || b1 > max) return 0;
  for (let k = 2; k < length; k++) if (!isContinuation(buffer[i + k]!)) return 0;
  return length;
}

function isContinuation(byte: number): boolean {
  return (byte & 0xc0) === 0x80;
}
