import { describe, expect, it } from "vitest";
import { OUTPUT_TAIL_BYTES, OUTPUT_TAIL_LINES, OutputTail } from "../../src/ledger/ledger.js";

describe("OutputTail", () => {
  it("is empty until a line is written", () => {
    expect(new OutputTail().text()).toBeUndefined();
  });

  it("keeps the last 50 lines", () => {
    const tail = new OutputTail();
    for (let i = 1; i <= 120; i++) tail.push(`line ${i}`);
    const lines = tail.text()!.split("\n");
    expect(lines).toHaveLength(OUTPUT_TAIL_LINES);
    expect(lines[0]).toBe("line 71");
    expect(lines.at(-1)).toBe("line 120");
  });

  it("keeps at most 8 KiB, dropping the oldest lines first", () => {
    const tail = new OutputTail();
    for (let i = 0; i < 20; i++) tail.push(`${i}`.padEnd(1000, "x"));
    const text = tail.text()!;
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(OUTPUT_TAIL_BYTES);
    expect(text.split("\n").at(-1)).toMatch(/^19x/);
  });

  it("keeps the end of one over-long line, never splitting a character", () => {
    const tail = new OutputTail();
    tail.push(`start${"é".repeat(10_000)}end`);
    const text = tail.text()!;
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(OUTPUT_TAIL_BYTES);
    expect(text.endsWith("éend")).toBe(true);
    expect(text).not.toContain("\uFFFD");
  });
});
