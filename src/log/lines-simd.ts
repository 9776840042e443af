// The byte-level hot path of job output, in WebAssembly with 128-bit SIMD: at pipe speed, laying out lines
// from JavaScript costs two typed-array copies (~100 ns each) per line, and the control-character scan
// several times what it costs sixteen bytes at a time. A chunk is copied into the module's memory once,
// scanned there, laid out there, and copied out once.

/**
 * Checks and lays out chunks of whole lines. Undefined where the runtime has no WebAssembly or no SIMD (for
 * example `node --jitless`): callers then take their JavaScript path, which gives the same bytes.
 */
export interface LinesEngine {
  /**
   * Whether every line of `bytes` may be written as it is: ASCII, no C0 control character but newline and
   * (unless `json`) tab, no DEL, no CR, and for `json` no quote or backslash. Remembers `bytes` for
   * {@link layOut}.
   */
  writableAsIs(bytes: Buffer, json: boolean): boolean;
  /**
   * Writes `prefix`, then the lines of `bytes` (whole lines, each ending in "\n", checked by writableAsIs)
   * with each "\n" replaced by `between`, except the last, replaced by `last`, into `into` at `at`; returns
   * the number of bytes written. `between` must be `last` followed by `prefix`. `into` must have room for
   * {@link laidOutLength} bytes.
   */
  layOut(bytes: Buffer, prefix: Uint8Array, between: Uint8Array, into: Uint8Array, at: number): number;
  /** How many bytes layOut writes for `bytes` (checked by writableAsIs) and `between`. */
  laidOutLength(bytes: Buffer, between: Uint8Array): number;
}

/** The module's memory: `between` at BETWEEN_AT, then the chunk, then its layout; each followed by 16 bytes of slack. */
const BETWEEN_AT = 64;
const PAGE = 64 * 1024;
/** Written after a chunk, so that the last 16-byte step reads nothing that could look like a newline or control. */
const PAD = 0x61;

/** The part of the WebAssembly API used here (the project's type libraries leave it out). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: object };
}

let processEngine: LinesEngine | undefined | null = null;

/** The process's engine, made on first use (one module, one memory: the log is written from one thread). */
export function linesEngine(): LinesEngine | undefined {
  if (processEngine === null) processEngine = createLinesEngine();
  return processEngine;
}

export function createLinesEngine(): LinesEngine | undefined {
  let exports: { scan: ScanFn; layout: LayoutFn; memory: WasmMemory };
  try {
    const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    if (!wasm) return undefined;
    const memory = new wasm.Memory({ initial: 4 });
    const instance = new wasm.Instance(new wasm.Module(moduleBytes()), { m: { memory } });
    exports = { ...(instance.exports as { scan: ScanFn; layout: LayoutFn }), memory };
  } catch {
    return undefined;
  }
  const { scan, layout, memory } = exports;
  let view = new Uint8Array(memory.buffer);
  /** The chunk now in memory, where it starts, and its newlines. */
  let held: Buffer | undefined;
  let json = false;
  let betweenRoom = 256;
  let srcAt = BETWEEN_AT + betweenRoom;
  let newlines = 0;

  const ensure = (bytes: number): void => {
    if (bytes <= memory.buffer.byteLength) return;
    memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE));
    view = new Uint8Array(memory.buffer);
  };
  const load = (bytes: Buffer): void => {
    ensure(srcAt + bytes.length + 16);
    view.set(bytes, srcAt);
    view.fill(PAD, srcAt + bytes.length, srcAt + bytes.length + 16);
    held = bytes;
  };

  const writableAsIs = (bytes: Buffer, asJson: boolean): boolean => {
    load(bytes);
    json = asJson;
    newlines = scan(srcAt, bytes.length, asJson ? 1 : 0);
    return newlines >= 0;
  };
  /** Makes sure `bytes` is the chunk in memory, with room before it for `between`. */
  const hold = (bytes: Buffer, between: Uint8Array): void => {
    if (between.length + 16 > betweenRoom) {
      betweenRoom = Math.max(between.length + 16, betweenRoom * 2);
      srcAt = BETWEEN_AT + betweenRoom;
      held = undefined;
    }
    if (held !== bytes && !writableAsIs(bytes, json))
      throw new RangeError("layOut of bytes that need escaping");
  };
  const laidOutLength = (bytes: Buffer, between: Uint8Array): number => {
    hold(bytes, between);
    return bytes.length + newlines * (between.length - 1);
  };
  return {
    writableAsIs,
    laidOutLength,
    layOut(bytes, prefix, between, into, at) {
      const length = laidOutLength(bytes, between);
      const outAt = srcAt + bytes.length + 16;
      ensure(outAt + length + prefix.length + 32);
      view.set(between, BETWEEN_AT);
      const end = layout(srcAt, bytes.length, outAt, BETWEEN_AT, between.length);
      into.set(prefix, at);
      // The last "\n" became `between`, that is `last` and one prefix too many.
      into.set(view.subarray(outAt, end - prefix.length), at + prefix.length);
      return length;
    },
  };
}

type ScanFn = (src: number, len: number, json: number) => number;
type LayoutFn = (src: number, len: number, out: number, between: number, betweenLen: number) => number;

// ---- The module, assembled here: two functions over an imported memory. ----

/** Unsigned LEB128. */
function u32(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

/** Signed LEB128, for i32.const. */
function s32(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    if ((value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const section = (id: number, body: number[]): number[] => [id, ...u32(body.length), ...body];
const vector = (items: number[][]): number[] => [...u32(items.length), ...items.flat()];
const name = (text: string): number[] => [...u32(text.length), ...Buffer.from(text)];

const I32 = 0x7f;
const V128 = 0x7b;
const EMPTY = 0x40;
// Instructions.
const block = [0x02, EMPTY];
const loop = [0x03, EMPTY];
const ifThen = [0x04, EMPTY];
const end = [0x0b];
const br = (depth: number) => [0x0c, ...u32(depth)];
const brIf = (depth: number) => [0x0d, ...u32(depth)];
const get = (local: number) => [0x20, ...u32(local)];
const set = (local: number) => [0x21, ...u32(local)];
const tee = (local: number) => [0x22, ...u32(local)];
const i32 = (value: number) => [0x41, ...s32(value)];
const add = [0x6a];
const sub = [0x6b];
const ctz = [0x68];
const popcnt = [0x69];
const eqz = [0x45];
const geU = [0x4f];
const ltU = [0x49];
const select = [0x1b];
const simd = (op: number, ...rest: number[]) => [0xfd, ...u32(op), ...rest];
const v128Load = simd(0x00, 0, 0);
const v128Store = simd(0x0b, 0, 0);
const splat8 = simd(0x0f);
const eq8 = simd(0x23);
const ltS8 = simd(0x25);
const not = simd(0x4d);
const and = simd(0x4e);
const andNot = simd(0x4f);
const or = simd(0x50);
const anyTrue = simd(0x53);
const bitmask8 = simd(0x64);

/**
 * scan(src, len, json) → the number of "\n" in [src, src+len), or -1 when a byte needs an escape (see
 * writableAsIs). Reads 16 bytes a step, up to 15 past the end (padding that the caller wrote).
 */
function scanBody(): number[] {
  // params: 0 src, 1 len, 2 json; locals: 3 end, 4 newlines (i32); 5 v, 6 bad, 7 jsonMask, 8 tabOk (v128)
  const [src, len, json, stop, newlines, v, bad, jsonMask, tabOk] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const byteSplat = (byte: number) => [...i32(byte), ...splat8];
  const equals = (byte: number) => [...get(v), ...byteSplat(byte), ...eq8];
  return [
    ...vector([
      [2, I32],
      [4, V128],
    ]),
    ...get(src),
    ...get(len),
    ...add,
    ...set(stop),
    ...i32(0),
    ...get(json),
    ...sub,
    ...splat8,
    ...tee(jsonMask),
    ...not,
    ...set(tabOk),
    ...block,
    ...loop,
    ...get(src),
    ...get(stop),
    ...geU,
    ...brIf(1),
    ...get(src),
    ...v128Load,
    ...set(v),
    // Controls and bytes past ASCII are under 0x20 as signed bytes; newline, and tab outside JSON, are fine.
    ...get(v),
    ...byteSplat(0x20),
    ...ltS8,
    ...equals(0x0a),
    ...equals(0x09),
    ...get(tabOk),
    ...and,
    ...or,
    ...andNot,
    ...equals(0x7f),
    ...or,
    ...equals(0x22),
    ...equals(0x5c),
    ...or,
    ...get(jsonMask),
    ...and,
    ...or,
    ...get(bad),
    ...or,
    ...set(bad),
    ...get(newlines),
    ...equals(0x0a),
    ...bitmask8,
    ...popcnt,
    ...add,
    ...set(newlines),
    ...get(src),
    ...i32(16),
    ...add,
    ...set(src),
    ...br(0),
    ...end,
    ...end,
    ...i32(-1),
    ...get(newlines),
    ...get(bad),
    ...anyTrue,
    ...select,
    ...end,
  ];
}

/**
 * layout(src, len, out, between, betweenLen) → the end of what it wrote from `out`: [src, src+len) with each
 * "\n" replaced by the betweenLen bytes at `between`. Copies 16 bytes a step, writing up to 15 past what it
 * keeps (the caller leaves room).
 */
function layoutBody(): number[] {
  // params: 0 src, 1 len, 2 out, 3 between, 4 betweenLen; locals: 5 stop, 6 mask, 7 at (i32); 8 v, 9 newline (v128)
  const [src, len, out, between, betweenLen, stop, mask, at, v, newline] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  return [
    ...vector([
      [3, I32],
      [2, V128],
    ]),
    ...get(src),
    ...get(len),
    ...add,
    ...set(stop),
    ...i32(0x0a),
    ...splat8,
    ...set(newline),
    ...block,
    ...loop,
    ...get(src),
    ...get(stop),
    ...geU,
    ...brIf(1),
    ...get(out),
    ...get(src),
    ...v128Load,
    ...tee(v),
    ...v128Store,
    ...get(v),
    ...get(newline),
    ...eq8,
    ...bitmask8,
    ...tee(mask),
    ...eqz,
    ...ifThen,
    // No newline in these 16 bytes: all of them are kept (past the end, the caller takes back the excess).
    ...get(src),
    ...i32(16),
    ...add,
    ...set(src),
    ...get(out),
    ...i32(16),
    ...add,
    ...set(out),
    ...br(1),
    ...end,
    // Keep the bytes before the first newline, then write `between` over the rest, 16 bytes a step.
    ...get(mask),
    ...ctz,
    ...set(mask),
    ...get(src),
    ...get(mask),
    ...add,
    ...i32(1),
    ...add,
    ...set(src),
    ...get(out),
    ...get(mask),
    ...add,
    ...set(out),
    ...i32(0),
    ...set(at),
    ...loop,
    ...get(out),
    ...get(at),
    ...add,
    ...get(between),
    ...get(at),
    ...add,
    ...v128Load,
    ...v128Store,
    ...get(at),
    ...i32(16),
    ...add,
    ...tee(at),
    ...get(betweenLen),
    ...ltU,
    ...brIf(0),
    ...end,
    ...get(out),
    ...get(betweenLen),
    ...add,
    ...set(out),
    ...br(0),
    ...end,
    ...end,
    // A last step without a newline kept up to 15 bytes past the end.
    ...get(out),
    ...get(src),
    ...get(stop),
    ...sub,
    ...sub,
    ...end,
  ];
}

function moduleBytes(): Uint8Array {
  const types = vector([
    [0x60, ...vector([[I32], [I32], [I32]]), ...vector([[I32]])],
    [0x60, ...vector([[I32], [I32], [I32], [I32], [I32]]), ...vector([[I32]])],
  ]);
  const imports = vector([[...name("m"), ...name("memory"), 0x02, 0x00, ...u32(1)]]);
  const functions = vector([[0], [1]]);
  const exportsSection = vector([
    [...name("scan"), 0x00, 0],
    [...name("layout"), 0x00, 1],
  ]);
  const code = vector([scanBody(), layoutBody()].map((body) => [...u32(body.length), ...body]));
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, types),
    ...section(2, imports),
    ...section(3, functions),
    ...section(7, exportsSection),
    ...section(10, code),
  ]);
}
