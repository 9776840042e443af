import { isAscii } from "node:buffer";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createLinesEngine } from "../../src/log/lines-simd.js";
import "../helpers/fast-check-setup.js";

const engine = createLinesEngine();

/** What may be written as it is, byte by byte: the rule the sixteen-bytes-a-step scan must keep. */
function writableByRule(bytes: Buffer, json: boolean): boolean {
  if (!isAscii(bytes)) return false;
  for (const byte of bytes) {
    if (byte === 0x0a) continue;
    if (byte === 0x09) {
      if (json) return false;
      continue;
    }
    if (byte < 0x20 || byte === 0x7f) return false;
    if (json && (byte === 0x22 || byte === 0x5c)) return false;
  }
  return true;
}

/** `bytes` at a given distance from an aligned address, inside a larger buffer. */
function atOffset(bytes: Buffer, offset: number): Buffer {
  const backing = Buffer.alloc(bytes.length + 40, 0x0a);
  bytes.copy(backing, offset);
  return backing.subarray(offset, offset + bytes.length);
}

const anyBytes = fc.uint8Array({ maxLength: 90 }).map((array) => Buffer.from(array));
/** Mostly printable ASCII, with now and then a byte that needs an escape. */
const textBytes = fc
  .array(
    fc.oneof(
      { weight: 30, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
      { weight: 4, arbitrary: fc.constant(0x0a) },
      { weight: 1, arbitrary: fc.constantFrom(0x00, 0x09, 0x0d, 0x1b, 0x1f, 0x7f, 0x80, 0xff, 0x22, 0x5c) },
    ),
    { maxLength: 200 },
  )
  .map((array) => Buffer.from(array));
const lines = fc
  .array(
    fc.string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      maxLength: 70,
    }),
    {
      minLength: 1,
      maxLength: 30,
    },
  )
  .map((texts) => Buffer.from(`${texts.join("\n")}\n`));

describe("the WebAssembly lines engine", () => {
  it("is there in this runtime (else every flood takes the slower JavaScript path)", () => {
    expect(engine).toBeDefined();
  });

  it("finds every byte that needs an escape, wherever it sits in the sixteen-byte steps", () => {
    fc.assert(
      fc.property(
        fc.oneof(anyBytes, textBytes),
        fc.integer({ min: 0, max: 31 }),
        fc.boolean(),
        (bytes, offset, json) => {
          expect(engine!.writableAsIs(atOffset(bytes, offset), json)).toBe(writableByRule(bytes, json));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("lays out each line between its prefix and its end, as joining the lines would", () => {
    fc.assert(
      fc.property(
        lines,
        fc.string({ maxLength: 400 }),
        fc.constantFrom("\n", '"}\n'),
        fc.integer({ min: 0, max: 31 }),
        (bytes, head, last, at) => {
          const prefix = Buffer.from(head);
          const between = Buffer.from(last + head);
          const expected = bytes
            .toString("latin1")
            .split("\n")
            .slice(0, -1)
            .map((line) => head + line + last)
            .join("");
          expect(engine!.writableAsIs(bytes, false)).toBe(true);
          const length = engine!.laidOutLength(bytes, between);
          const into = Buffer.alloc(at + length + 8, 0x2e);
          expect(engine!.layOut(bytes, prefix, between, into, at)).toBe(length);
          expect(into.subarray(at, at + length).toString()).toBe(expected);
          // Nothing is written outside its place.
          expect(into.subarray(0, at).every((byte) => byte === 0x2e)).toBe(true);
          expect(into.subarray(at + length).every((byte) => byte === 0x2e)).toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("takes a chunk larger than its memory, growing it", () => {
    const bytes = Buffer.from(`${"x".repeat(99)}\n`.repeat(40_000));
    const prefix = Buffer.from("2026-11-27T04:20:00.123Z backup[r3f2] | ");
    const between = Buffer.concat([Buffer.from("\n"), prefix]);
    expect(engine!.writableAsIs(bytes, true)).toBe(true);
    const into = Buffer.alloc(engine!.laidOutLength(bytes, between));
    engine!.layOut(bytes, prefix, between, into, 0);
    expect(into.toString()).toBe(`${prefix}${"x".repeat(99)}\n`.repeat(40_000));
  });
});
