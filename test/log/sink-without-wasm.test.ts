import { Writable } from "node:stream";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import type { LogEvent } from "../../src/log/events.js";
import { formatJson } from "../../src/log/format-json.js";
import { createPrettyFormatter } from "../../src/log/format-pretty.js";
import { forEachLine } from "../../src/log/output-lines.js";
import { LogSink } from "../../src/log/sink.js";
import "../helpers/fast-check-setup.js";

// A runtime without WebAssembly (node --jitless): the JavaScript scan and layout.
vi.mock("../../src/log/lines-simd.js", () => ({ linesEngine: () => undefined }));

const T = Date.UTC(2026, 10, 27, 4, 20, 0, 123);
const base = { timeMs: T, level: "info", job: "backup", run: "r3f2", stream: "stdout" } as const;

function written(events: LogEvent[], format: (event: LogEvent) => string): Promise<string> {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(Buffer.from(chunk));
      callback();
    },
  });
  const sink = new LogSink(stream, format, { highWaterChars: 1000 });
  for (const event of events) sink.write(event);
  return sink.flush().then(() => Buffer.concat(chunks).toString("latin1"));
}

const chunk = fc
  .array(
    fc.constantFrom("plain text", "", "x".repeat(70), "tab\there", 'a "quote"', "ctl\x1b[0m", "é", "cr\r"),
    {
      minLength: 1,
      maxLength: 20,
    },
  )
  .map((lines) => Buffer.from(`${lines.join("\n")}\n`));

describe("job output without WebAssembly", () => {
  for (const [name, format] of Object.entries({
    plain: createPrettyFormatter({ colorLevel: 0 }),
    json: formatJson,
  })) {
    it(`reaches the stream in ${name} as the same bytes as one output event per line`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(chunk, { minLength: 1, maxLength: 8 }), async (chunks) => {
          const chunked: LogEvent[] = chunks.map((bytes) => ({ ...base, event: "output_lines", bytes }));
          const perLine: LogEvent[] = [];
          for (const bytes of chunks)
            forEachLine(bytes, (line) => perLine.push({ ...base, event: "output", line }));
          expect(await written(chunked, format)).toBe(await written(perLine, format));
        }),
        { numRuns: 100 },
      );
    });
  }
});
