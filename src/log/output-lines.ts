// Reading and formatting an `output_lines` event: whole lines of a job's output, kept as the bytes the job wrote.
import { isAscii, isUtf8 } from "node:buffer";
import type { LogEvent } from "./events.js";
import { linesEngine } from "./lines-simd.js";

const LF = 0x0a;
const CR = 0x0d;

/**
 * Appended to every piece of an over-long line except the last, so a reader sees that the line goes on
 * in the next event. The piece is also flagged with `continues: true`, which is the exact signal: the
 * mark alone cannot tell a split line from one that really ends in " ↩".
 */
export const CONTINUATION_MARK = " ↩";

type OutputLines = Extract<LogEvent, { event: "output_lines" }>;

/** Calls `onLine` with each line an output_lines event stands for (the text of its `output` events). */
export function forEachOutputLine(event: OutputLines, onLine: (line: string) => void): void {
  if (event.continues) onLine(pieceText(event.bytes));
  else forEachLine(event.bytes, onLine);
}

/** The last `count` lines an output_lines event stands for, decoding only those. */
export function lastOutputLines(event: OutputLines, count: number): string[] {
  if (!event.continues) return lastLines(event.bytes, count);
  return count > 0 ? [pieceText(event.bytes)] : [];
}

/** How many lines (`output` events) an output_lines event stands for. */
export function outputLineCount(event: OutputLines): number {
  return event.continues ? 1 : countLines(event.bytes);
}

/** The line of a piece of an over-long line: its text, invalid bytes escaped, and the mark. */
export function pieceText(bytes: Buffer): string {
  const text = isUtf8(bytes) ? bytes.toString("utf8") : decodeEscaped(bytes, 0, bytes.length);
  return text + CONTINUATION_MARK;
}

/**
 * Calls `onLine` with each line of `bytes` (whole lines, each ending in "\n"; a "\r" before the "\n" is dropped),
 * decoded as UTF-8 with invalid bytes shown as `\xHH`. The text is exactly what the same bytes give as one
 * `output` event per line.
 */
export function forEachLine(bytes: Buffer, onLine: (line: string) => void): void {
  // Valid characters never straddle a "\n": one check covers every line.
  const valid = isUtf8(bytes);
  let from = 0;
  for (let newline = bytes.indexOf(LF); newline !== -1; newline = bytes.indexOf(LF, from)) {
    const end = newline > from && bytes[newline - 1] === CR ? newline - 1 : newline;
    onLine(valid ? bytes.toString("utf8", from, end) : decodeEscaped(bytes, from, end));
    from = newline + 1;
  }
}

/** The last `count` lines of `bytes` (see {@link forEachLine}), decoding only those: for output tails. */
export function lastLines(bytes: Buffer, count: number): string[] {
  // The "\n" before the first line kept, or -1 to keep them all.
  let boundary = bytes.length - 1;
  for (let found = 0; found < count && boundary !== -1; found++) {
    boundary = boundary === 0 ? -1 : bytes.lastIndexOf(LF, boundary - 1);
  }
  const lines: string[] = [];
  forEachLine(bytes.subarray(boundary + 1), (line) => lines.push(line));
  return lines;
}

/** Whether `bytes` holds at least `count` lines, found without reading more than those lines. */
export function holdsLines(bytes: Buffer, count: number): boolean {
  let newline = bytes.length;
  for (let found = 0; found < count; found++) {
    if (newline === 0) return false;
    newline = bytes.lastIndexOf(LF, newline - 1);
    if (newline === -1) return false;
  }
  return true;
}

/** How many lines `bytes` holds. */
export function countLines(bytes: Buffer): number {
  let count = 0;
  for (let newline = bytes.indexOf(LF); newline !== -1; newline = bytes.indexOf(LF, newline + 1)) count++;
  return count;
}

/** A format: an event as one line of text without its newline (several lines, joined by "\n", for output_lines). */
export interface LogFormatter {
  (event: LogEvent): string;
  /**
   * How the lines of an output_lines event are written as bytes, when none of them needs an escape in this format;
   * undefined when one might (the event is then formatted as text).
   */
  readonly linesLayout?: (event: Extract<LogEvent, { event: "output_lines" }>) => LinesLayout | undefined;
}

/**
 * Each line of job output as bytes: `prefix`, the line as the job wrote it, then `between` or, after the last, `last`.
 * `between` is always `last` followed by `prefix`.
 */
export interface LinesLayout {
  readonly prefix: Buffer;
  /** The suffix, "\n" and the next line's prefix. */
  readonly between: Buffer;
  /** The suffix and "\n". */
  readonly last: Buffer;
  /** After a piece of an over-long line: the mark, the suffix of a line that continues, and "\n". */
  readonly continued: Buffer;
}

/**
 * The layout of `head + opening + line + suffix` per line, for a format whose head changes now and then (time,
 * job, run, stream): its bytes are made again only when `head` is another string than the last time.
 */
export function linesLayoutCache(
  opening: string,
  suffix: string,
  continuedSuffix: string,
): (head: string) => LinesLayout {
  let lastHead: string | undefined;
  let layout: LinesLayout | undefined;
  return (head) => {
    if (head !== lastHead || !layout) {
      lastHead = head;
      layout = {
        prefix: Buffer.from(head + opening),
        between: Buffer.from(`${suffix}\n${head}${opening}`),
        last: Buffer.from(`${suffix}\n`),
        continued: Buffer.from(`${CONTINUATION_MARK}${continuedSuffix}\n`),
      };
    }
    return layout;
  };
}

/**
 * Whether the lines of `bytes` may be written as they are: ASCII without control characters (tab aside), no "\r"
 * (a CRLF line end is dropped, a lone CR escaped), and for `json` no quote, backslash or tab. This check runs over
 * every byte of a flood: sixteen bytes a step in WebAssembly where the runtime has it, else native scans and four
 * bytes a step for the controls.
 */
export function writableAsIs(bytes: Buffer, json: boolean): boolean {
  const engine = linesEngine();
  if (engine) return engine.writableAsIs(bytes, json);
  if (!isAscii(bytes) || bytes.indexOf(CR) !== -1) return false;
  if (json) for (const byte of JSON_ESCAPED) if (bytes.indexOf(byte) !== -1) return false;
  return !hasAsciiControl(bytes);
}

/** Besides the control characters, what JSON escapes: quote, backslash and tab. */
const JSON_ESCAPED = [0x22, 0x5c, 0x09];

/** How a format lays out each line of job output: `prefix + escaped text + suffix`. */
export interface LineLayout {
  /** Everything before the line's text (time, job, run, stream…), the same for every line of a chunk. */
  readonly prefix: string;
  /** Everything after it, without the newline. */
  readonly suffix: string;
  /**
   * `text` (several lines joined by "\n") with each line escaped as the format wants, when that can be done to
   * the whole text at once (no "\n" is added or removed); undefined when some line must be escaped on its own.
   * `controlFree`: the text is known to hold no C0 control character but tab and newline, and no DEL.
   */
  escapeAll(text: string, controlFree: boolean): string | undefined;
  /** One line, escaped: the slow path, for chunks that escapeAll refused or that are not valid UTF-8. */
  escapeLine(line: string): string;
}

/**
 * The lines of `bytes` laid out by `layout` and joined by "\n" (no newline at the end). The usual chunk (valid
 * UTF-8 that needs no escape) is decoded once and laid out by one native replaceAll, not a string per line: at
 * pipe speed, per-line strings and per-line copies both cost more than reading the pipe.
 */
export function formatLines(bytes: Buffer, layout: LineLayout): string {
  const { prefix, suffix } = layout;
  const end = bytes.length - 1;
  let text: string | undefined;
  let controlFree = false;
  // ASCII decodes as latin1, a plain copy; valid UTF-8 as itself; anything else line by line, escaped.
  if (isAscii(bytes)) {
    text = bytes.toString("latin1", 0, end);
    controlFree = !hasAsciiControl(bytes);
  } else if (isUtf8(bytes)) {
    text = bytes.toString("utf8", 0, end);
  }
  // "\r\n" ends a line as "\n" does (the control check saw the "\r": the layout looks again).
  if (text?.includes("\r")) {
    text = text.replaceAll("\r\n", "\n");
    if (text.endsWith("\r")) text = text.slice(0, -1);
    controlFree = false;
  }
  const escaped = text === undefined ? undefined : layout.escapeAll(text, controlFree);
  if (escaped !== undefined) return prefix + escaped.replaceAll("\n", `${suffix}\n${prefix}`) + suffix;
  let out = "";
  forEachLine(bytes, (line) => {
    out += `${out === "" ? "" : "\n"}${prefix}${layout.escapeLine(line)}${suffix}`;
  });
  return out;
}

/**
 * Whether ASCII `bytes` hold a C0 control character other than tab and newline, or DEL. Four bytes a step: a
 * regular expression over the decoded text costs several times more, and so does a loop over single bytes.
 */
function hasAsciiControl(bytes: Buffer): boolean {
  const start = bytes.byteOffset;
  const wordStart = (start + 3) & ~3;
  // Whole groups of four aligned words; the bytes around them are looked at one by one.
  const groupBytes = Math.max(0, start + bytes.length - wordStart) & ~15;
  const first = wordStart - start;
  const after = first + groupBytes;
  if (groupBytes === 0) return controlIn(bytes, 0, bytes.length);
  if (controlIn(bytes, 0, first) || controlIn(bytes, after, bytes.length)) return true;
  const words = new Int32Array(bytes.buffer, wordStart, groupBytes >> 2);
  // Every byte b is under 0x80, so b + 1 carries into no other byte, and b is C0 or DEL exactly when (b + 1) & 0x7f
  // is under 0x21: (y - 0x21…) & ~y & 0x80… finds such a byte in a word y. Tab and newline are found too, and
  // cleared by a look at the bytes themselves. Four words a step: the loop's own cost is then shared.
  for (let i = 0; i < words.length; i += 4) {
    const a = (words[i]! + 0x01010101) & 0x7f7f7f7f;
    const b = (words[i + 1]! + 0x01010101) & 0x7f7f7f7f;
    const c = (words[i + 2]! + 0x01010101) & 0x7f7f7f7f;
    const d = (words[i + 3]! + 0x01010101) & 0x7f7f7f7f;
    const low =
      ((a - 0x21212121) & ~a) | ((b - 0x21212121) & ~b) | ((c - 0x21212121) & ~c) | ((d - 0x21212121) & ~d);
    if ((low & 0x80808080) !== 0 && controlIn(bytes, first + 4 * i, first + 4 * i + 16)) return true;
  }
  return false;
}

function controlIn(bytes: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const byte = bytes[i]!;
    if ((byte < 0x20 && byte !== 0x09 && byte !== 0x0a) || byte === 0x7f) return true;
  }
  return false;
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
