import { Writable } from "node:stream";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { LogEvent } from "../../src/log/events.js";
import { formatJson } from "../../src/log/format-json.js";
import { createPrettyFormatter } from "../../src/log/format-pretty.js";
import { countLines, forEachLine, holdsLines, lastLines } from "../../src/log/output-lines.js";
import { LogSink } from "../../src/log/sink.js";
import "../helpers/fast-check-setup.js";
import { outputLinesEvent } from "../helpers/output-lines.js";
import { settle } from "../helpers/settle.js";

const T = Date.UTC(2026, 10, 27, 4, 20, 0, 123);

function outputLines(bytes: Buffer, stream: "stdout" | "stderr" = "stdout"): LogEvent {
  return outputLinesEvent({ timeMs: T, job: "backup", run: "r3f2", stream, lines: bytes });
}

function outputLine(line: string, stream: "stdout" | "stderr" = "stdout"): LogEvent {
  return { timeMs: T, level: "info", event: "output", job: "backup", run: "r3f2", stream, line };
}

function linesOf(bytes: Buffer): string[] {
  const lines: string[] = [];
  forEachLine(bytes, (line) => lines.push(line));
  return lines;
}

const formats: Record<string, (event: LogEvent) => string> = {
  json: formatJson,
  plain: createPrettyFormatter({ colorLevel: 0 }),
  pretty: createPrettyFormatter({ colorLevel: 1 }),
  journal: createPrettyFormatter({ colorLevel: 0, journal: true }),
};

/** The same bytes at a given distance from an aligned address: the four-byte scan must not care where they start. */
function atOffset(bytes: Buffer, offset: number): Buffer {
  const backing = Buffer.alloc(bytes.length + 8);
  bytes.copy(backing, offset);
  return backing.subarray(offset, offset + bytes.length);
}

/** Bytes of output that hit every escape: controls, DEL, C1, quotes, backslashes, CRLF, invalid UTF-8, emoji. */
const piece = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("plain text ", "abc", "x", "0123456789", " ") },
  { weight: 3, arbitrary: fc.constantFrom("\n", "\r\n") },
  {
    weight: 2,
    arbitrary: fc.constantFrom('"', "\\", "\t", "\r", "\x00", "\x1b[31m", "\x7f", "\x08", "\x1f", "\x0c"),
  },
  { weight: 1, arbitrary: fc.constantFrom("é", "€", "😀", "\u0085", "\u009f", "\u2028", "\u00a0") },
);
const invalidByte = fc.constantFrom(0xff, 0xc3, 0x80, 0xed, 0xf4, 0xc0);
const chunkBytes = fc
  .array(
    fc.oneof(
      { weight: 10, arbitrary: piece.map((text) => Buffer.from(text)) },
      {
        weight: 1,
        arbitrary: invalidByte.map((byte) => Buffer.from([byte])),
      },
    ),
    { maxLength: 60 },
  )
  .map((parts) => Buffer.concat([...parts, Buffer.from("\n")]));

describe("an output_lines event", () => {
  for (const [name, format] of Object.entries(formats)) {
    it(`is written in ${name} exactly as one output event per line would be, whatever the bytes`, () => {
      fc.assert(
        fc.property(chunkBytes, fc.integer({ min: 0, max: 7 }), fc.boolean(), (bytes, offset, stderr) => {
          const stream = stderr ? "stderr" : "stdout";
          const expected = linesOf(bytes)
            .map((line) => format(outputLine(line, stream)))
            .join("\n");
          expect(format(outputLines(atOffset(bytes, offset), stream))).toBe(expected);
        }),
        { numRuns: 400 },
      );
    });
  }

  it("escapes a control character wherever it sits among long runs of plain text", () => {
    const plain = "a".repeat(61);
    for (const control of ["\x00", "\x01", "\x1f", "\x7f", "\r", "\x1b"]) {
      for (let at = 0; at < 40; at++) {
        const text = `${plain.slice(0, at)}${control}${plain.slice(at)}\nnext\n`;
        for (let offset = 0; offset < 4; offset++) {
          const formatted = formats.plain!(outputLines(atOffset(Buffer.from(text), offset)));
          expect(formatted).toContain(`\\x${control.charCodeAt(0).toString(16).padStart(2, "0")}`);
          expect(formatted.split("\n")).toHaveLength(2);
        }
      }
    }
  });

  it("reads as its lines: CRLF as LF, invalid UTF-8 escaped, an empty line kept", () => {
    expect(linesOf(Buffer.from("one\r\n\ntwo\r\r\n"))).toEqual(["one", "", "two\r"]);
    expect(linesOf(Buffer.from([0x61, 0xff, 0x0a, 0xe2, 0x82, 0xac, 0x0a]))).toEqual(["a\\xff", "€"]);
  });

  it("gives its last lines, its line count, and whether it holds at least so many lines", () => {
    const bytes = Buffer.from("a\nbb\n\nccc\n");
    expect(lastLines(bytes, 2)).toEqual(["", "ccc"]);
    expect(lastLines(bytes, 4)).toEqual(["a", "bb", "", "ccc"]);
    expect(lastLines(bytes, 10)).toEqual(["a", "bb", "", "ccc"]);
    expect(lastLines(bytes, 0)).toEqual([]);
    expect(lastLines(Buffer.from("\n"), 1)).toEqual([""]);
    expect(countLines(bytes)).toBe(4);
    expect(holdsLines(bytes, 4)).toBe(true);
    expect(holdsLines(bytes, 5)).toBe(false);
    expect(holdsLines(Buffer.from("\n\n"), 2)).toBe(true);
  });

  it("gives the same last lines as reading all of them", () => {
    fc.assert(
      fc.property(chunkBytes, fc.integer({ min: 0, max: 70 }), (bytes, count) => {
        const all = linesOf(bytes);
        expect(lastLines(bytes, count)).toEqual(count === 0 ? [] : all.slice(-count));
        expect(countLines(bytes)).toBe(all.length);
        expect(holdsLines(bytes, count)).toBe(all.length >= count);
      }),
    );
  });

  for (const [name, format] of Object.entries(formats)) {
    for (const decodeStrings of [true, false]) {
      it(`reaches a ${decodeStrings ? "file" : "pipe"} in ${name} as the same bytes as one output event per line`, async () => {
        const written = (events: LogEvent[], highWaterChars: number) => {
          const chunks: Buffer[] = [];
          const stream = new Writable({
            decodeStrings,
            write(chunk: Buffer | string, _encoding, callback) {
              chunks.push(Buffer.from(chunk));
              callback();
            },
          });
          const sink = new LogSink(stream, format, { highWaterChars });
          for (const event of events) sink.write(event);
          return sink.flush().then(() => Buffer.concat(chunks).toString("latin1"));
        };
        const started: LogEvent = {
          timeMs: T,
          level: "info",
          event: "started",
          job: "backup",
          run: "r3f2",
          pid: 7,
          scheduledMs: T,
          lateMs: 0,
          attempt: 1,
        };
        const plainAscii = fc
          .array(fc.constantFrom("ab", "c d", "0123456789", "x".repeat(300)), { minLength: 1, maxLength: 40 })
          .map((lines) => Buffer.from(`${lines.join("\n")}\n`));
        const item = fc.oneof(
          plainAscii.map((bytes) => ({ bytes })),
          chunkBytes.map((bytes) => ({ bytes })),
          fc.constantFrom({ line: "single é" }, { line: "" }, { started: true }),
        );
        await fc.assert(
          fc.asyncProperty(
            fc.array(item, { maxLength: 12 }),
            fc.integer({ min: 1, max: 5000 }),
            async (items, highWater) => {
              const chunked: LogEvent[] = [];
              const perLine: LogEvent[] = [];
              for (const entry of items) {
                if ("bytes" in entry) {
                  chunked.push(outputLines(entry.bytes));
                  forEachLine(entry.bytes, (line) => perLine.push(outputLine(line)));
                } else {
                  const event =
                    "line" in entry && entry.line !== undefined ? outputLine(entry.line) : started;
                  chunked.push(event);
                  perLine.push(event);
                }
              }
              expect(await written(chunked, highWater)).toBe(await written(perLine, highWater));
            },
          ),
          { numRuns: 60 },
        );
        await settle();
      });
    }
  }
});
