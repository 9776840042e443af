import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { LogEvent } from "../../src/log/events.js";
import { createFormatter } from "../../src/log/formatter.js";
import { LogSink } from "../../src/log/sink.js";
import { outputLinesEvent } from "../helpers/output-lines.js";
import { settle } from "../helpers/settle.js";

const line = (text: string): LogEvent => ({
  timeMs: 0,
  level: "info",
  event: "output",
  job: "j",
  run: "r",
  stream: "stdout",
  line: text,
});
const format = (event: LogEvent) => (event.event === "output" ? event.line : event.event);

/** A Writable that keeps each write() call and completes it only when told to. */
class SlowStream extends Writable {
  readonly writes: string[] = [];
  private pending: (() => void)[] = [];
  constructor(highWaterMark: number) {
    super({ highWaterMark, decodeStrings: false });
  }
  override _write(chunk: string, _encoding: string, callback: () => void): void {
    this.writes.push(chunk);
    this.pending.push(callback);
  }
  finishAll(): void {
    for (const callback of this.pending.splice(0)) callback();
  }
}

describe("LogSink", () => {
  it("joins the lines written in one turn into one write", async () => {
    const stream = new SlowStream(1 << 20);
    const sink = new LogSink(stream, format);
    sink.write(line("a"));
    sink.write(line("b"));
    expect(stream.writes).toEqual([]);
    await settle(1);
    expect(stream.writes).toEqual(["a\nb\n"]);
  });

  it("needs draining while the stream is full, until it drains", async () => {
    const stream = new SlowStream(4);
    const sink = new LogSink(stream, format);
    let drained = false;
    sink.write(line("hello world"));
    await settle(1);
    expect(sink.needDrain()).toBe(true);
    sink.onceDrained(() => {
      drained = true;
    });
    stream.finishAll();
    await settle();
    expect(sink.needDrain()).toBe(false);
    expect(drained).toBe(true);
  });

  it("writes at once when more than the high-water mark is buffered", () => {
    const stream = new SlowStream(1 << 20);
    const sink = new LogSink(stream, format, { highWaterChars: 10 });
    sink.write(line("0123456789"));
    expect(stream.writes).toEqual(["0123456789\n"]);
  });

  it("hands a stream that would encode strings itself UTF-8 Buffers it encoded, across slabs", async () => {
    const chunks: Buffer[] = [];
    const stream = new Writable({
      write(chunk, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    });
    const sink = new LogSink(stream, format, { highWaterChars: 100_000 });
    const lines: string[] = [];
    for (let i = 0; i < 40; i++) {
      lines.push(`${i} é€😀 ${"x".repeat(i * 1000)}`);
      sink.write(line(lines[i]!));
      if (i % 3 === 0) await settle(1);
    }
    await sink.flush();
    expect(chunks.every((chunk) => Buffer.isBuffer(chunk))).toBe(true);
    expect(Buffer.concat(chunks).toString("utf8")).toBe(`${lines.join("\n")}\n`);
  });

  it("with reusesBuffers, lays output out again only over bytes the stream has finished writing", async () => {
    const held: { chunk: Buffer; copy: Buffer; done: () => void }[] = [];
    const received: Buffer[] = [];
    const stream = new Writable({
      highWaterMark: 1 << 30,
      write(chunk: Buffer, _encoding, callback) {
        held.push({ chunk, copy: Buffer.from(chunk), done: callback });
        received.push(Buffer.from(chunk));
      },
    });
    const formatter = createFormatter("plain", { colorLevel: 0, lineTime: () => "T" });
    const sink = new LogSink(stream, formatter, { highWaterChars: 1000, reusesBuffers: true });
    let expected = "";
    for (let round = 0; round < 8; round++) {
      for (let i = 0; i < 40; i++) {
        const text = `${round}:${i} ${"y".repeat(20_000)}\n${round}:${i} second\n`;
        sink.write(outputLinesEvent({ job: "j", run: "r", lines: text }));
        expected += text.replace(/^/gm, "T j[r] | ").slice(0, -"T j[r] | ".length);
      }
      await settle(1);
      // Until the stream says a part is written, the bytes it was handed must stay as they were.
      expect(held.every((write) => write.chunk.equals(write.copy))).toBe(true);
      if (round % 2 === 1) for (const write of held.splice(0)) write.done();
      await settle();
      expect(held.every((write) => write.chunk.equals(write.copy))).toBe(true);
    }
    // The stream takes one part at a time: the others wait in it until the one before is done.
    while (held.length > 0) {
      for (const write of held.splice(0)) write.done();
      await settle();
      expect(held.every((write) => write.chunk.equals(write.copy))).toBe(true);
    }
    expect(Buffer.concat(received).toString()).toBe(expected);
  });

  it("reports a write error once, then drops output and releases waiting producers", async () => {
    const errors: Error[] = [];
    let writes = 0;
    const stream = new Writable({
      highWaterMark: 1,
      write(_chunk, _encoding, callback) {
        writes++;
        callback(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
      },
    });
    const sink = new LogSink(stream, format, { onError: (error) => errors.push(error) });
    let released = false;
    sink.write(line("one"));
    await settle(1);
    sink.onceDrained(() => {
      released = true;
    });
    await settle();
    for (let i = 0; i < 100; i++) sink.write(line("more"));
    await settle();
    expect(errors.map((e) => e.message)).toEqual(["write EPIPE"]);
    expect(writes).toBe(1);
    expect(released).toBe(true);
    expect(sink.needDrain()).toBe(false);
    await sink.flush();
  });

  it("writes a line saying so for an event it cannot format, instead of throwing", async () => {
    const stream = new SlowStream(1 << 20);
    const sink = new LogSink(stream, createFormatter("plain", { colorLevel: 0, journal: false }));
    // A time past what Date can hold: toISOString() throws RangeError.
    expect(() => sink.write({ ...line("far"), timeMs: 1e20 })).not.toThrow();
    sink.write(line("next"));
    await settle(1);
    expect(stream.writes.join("")).toMatch(
      /^tdefer: internal error: could not format a "output" event \(RangeError: Invalid time value\)\n.*next\n$/,
    );
  });

  it("keeps what is written while the stream drains unformatted, and writes it in order once it drains", async () => {
    const stream = new SlowStream(4);
    let formatted = 0;
    const sink = new LogSink(stream, (event) => {
      formatted++;
      return format(event);
    });
    sink.write(line("first"));
    await settle(1);
    expect(sink.needDrain()).toBe(true);
    for (const text of ["second", "third"]) sink.write(line(text));
    expect(formatted).toBe(1);
    expect(sink.needDrain()).toBe(true);
    stream.finishAll();
    await settle();
    expect(formatted).toBe(3);
    stream.finishAll();
    await sink.flush();
    expect(stream.writes.join("")).toBe("first\nsecond\nthird\n");
  });

  it("flush() resolves once everything is handed over", async () => {
    const stream = new SlowStream(1);
    const sink = new LogSink(stream, format);
    sink.write(line("x"));
    let flushed = false;
    void sink.flush().then(() => {
      flushed = true;
    });
    await settle();
    expect(flushed).toBe(false);
    stream.finishAll();
    await settle();
    expect(flushed).toBe(true);
  });
});
