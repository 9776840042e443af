import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { forEachLine, pieceText } from "../../src/log/output-lines.js";
import { CONTINUATION_MARK, LineSplitter } from "../../src/runner/line-splitter.js";
import "../helpers/fast-check-setup.js";

interface Line {
  line: string;
  continues: boolean;
}

/** Feeds `chunks` to a splitter and returns what came out, after end(). */
function split(chunks: readonly (Buffer | string)[], maxLineBytes?: number): Line[] {
  const lines: Line[] = [];
  const splitter = new LineSplitter((line, continues) => lines.push({ line, continues }), maxLineBytes);
  for (const chunk of chunks) splitter.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  splitter.end();
  return lines;
}

const texts = (lines: Line[]) => lines.map((l) => l.line);

describe("LineSplitter", () => {
  it("splits one chunk into lines", () => {
    expect(texts(split(["a\nbb\n\nccc\n"]))).toEqual(["a", "bb", "", "ccc"]);
  });

  it("gives the same lines wherever the chunks are cut", () => {
    const input = Buffer.from("alpha\nbeta\r\ngamma é ü 😀\n\ndelta");
    const expected = ["alpha", "beta", "gamma é ü 😀", "", "delta"];
    for (let a = 0; a <= input.length; a++) {
      for (let b = a; b <= input.length; b += 3) {
        const chunks = [input.subarray(0, a), input.subarray(a, b), input.subarray(b)];
        expect(texts(split(chunks))).toEqual(expected);
      }
    }
  });

  it("flushes a last line without a newline at end()", () => {
    expect(texts(split(["one\ntwo"]))).toEqual(["one", "two"]);
    expect(texts(split(["one\n"]))).toEqual(["one"]);
    expect(split([])).toEqual([]);
  });

  it("strips the \\r of CRLF, also when the \\r ends one chunk and the \\n starts the next", () => {
    expect(texts(split(["a\r\nb\r", "\nc\r\n"]))).toEqual(["a", "b", "c"]);
    expect(texts(split(["x\ry\n"]))).toEqual(["x\ry"]);
  });

  it("decodes a multibyte character split across chunks", () => {
    const bytes = Buffer.from("€😀\n");
    for (let cut = 1; cut < bytes.length; cut++) {
      expect(texts(split([bytes.subarray(0, cut), bytes.subarray(cut)]))).toEqual(["€😀"]);
    }
    expect(texts(split([...bytes].map((b) => Buffer.from([b]))))).toEqual(["€😀"]);
  });

  it("shows invalid UTF-8 escaped instead of failing", () => {
    const bad = Buffer.from([0x61, 0xff, 0x62, 0xc3, 0x0a, 0xed, 0xa0, 0x80, 0x0a, 0xe2, 0x82, 0xac, 0xfe]);
    expect(texts(split([bad]))).toEqual(["a\\xffb\\xc3", "\\xed\\xa0\\x80", "€\\xfe"]);
  });

  it("cuts a line longer than the limit into marked pieces, losing nothing", () => {
    const lines = split(["abcdefghij\nxy\n"], 4);
    expect(lines).toEqual([
      { line: `abcd${CONTINUATION_MARK}`, continues: true },
      { line: `efgh${CONTINUATION_MARK}`, continues: true },
      { line: "ij", continues: false },
      { line: "xy", continues: false },
    ]);
  });

  it("cuts a long line arriving in small chunks the same way", () => {
    const input = "abcdefghij\nxy";
    const chunks = [...input].map((c) => c);
    expect(split(chunks, 4)).toEqual(split([input], 4));
  });

  it("never cuts inside a UTF-8 character", () => {
    const line = "ab€€€€";
    for (const chunks of [[`${line}\n`], [...line, "\n"]]) {
      const pieces = texts(split(chunks, 4));
      expect(pieces.join("").replaceAll(CONTINUATION_MARK, "")).toBe(line);
      expect(pieces.every((p) => !p.includes("\ufffd") && !p.includes("\\x"))).toBe(true);
    }
  });

  it("delivers a 5 MB line in complete pieces while carrying at most the limit", () => {
    const big = Buffer.alloc(5 * 1024 * 1024, "x");
    const chunks: Buffer[] = [];
    for (let i = 0; i < big.length; i += 65_536) chunks.push(big.subarray(i, i + 65_536));
    chunks.push(Buffer.from("\nafter\n"));
    const lines = split(chunks);
    expect(lines.length).toBe(5 * 16 + 1);
    expect(
      lines.slice(0, -2).every((l) => l.continues && l.line.length === 65_536 + CONTINUATION_MARK.length),
    ).toBe(true);
    const rebuilt = lines
      .slice(0, -1)
      .map((l) => (l.continues ? l.line.slice(0, -CONTINUATION_MARK.length) : l.line))
      .join("");
    expect(rebuilt.length).toBe(big.length);
    expect(lines.at(-1)).toEqual({ line: "after", continues: false });
  });

  describe("decodes a chunk's whole lines at once, as line by line would", () => {
    it("cuts an over-long ASCII line inside a chunk by bytes", () => {
      const lines = split(["ab\r\n0123456789\r\ncd\n"], 4);
      expect(texts(lines)).toEqual(["ab", "0123 ↩", "4567 ↩", "89", "cd"]);
      expect(lines.map((l) => l.continues)).toEqual([false, true, true, false, false]);
    });

    it("decodes UTF-8 lines, keeping CRLF and empty lines apart", () => {
      expect(texts(split(["é\r\n\n€x\r\n\r\nz"]))).toEqual(["é", "", "€x", "", "z"]);
    });

    it("still cuts by bytes when a run of UTF-8 lines is longer than the limit", () => {
      const lines = split(["éé\néééé\nx\n"], 4);
      expect(texts(lines)).toEqual(["éé", "éé ↩", "éé", "x"]);
    });

    it("escapes invalid bytes in a chunk of several lines", () => {
      expect(texts(split([Buffer.from([0x61, 0x0a, 0xff, 0x0d, 0x0a, 0x62, 0x0a])]))).toEqual([
        "a",
        "\\xff",
        "b",
      ]);
    });
  });

  it("hands whole lines over as bytes when asked, giving the same lines in the same order", () => {
    const text = fc.array(fc.constantFrom("ab", "c", "\n", "\r\n", "\r", "é", "😀", "\xff", "0123456789"), {
      maxLength: 40,
    });
    const input = text.map((parts) => Buffer.from(parts.join("")));
    fc.assert(
      fc.property(
        input,
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.integer({ min: 4, max: 24 }),
        (bytes, cuts, max) => {
          const chunks: Buffer[] = [];
          let from = 0;
          for (const cut of [...cuts.map((c) => c % (bytes.length + 1))].sort((a, b) => a - b)) {
            chunks.push(bytes.subarray(from, Math.max(from, cut)));
            from = Math.max(from, cut);
          }
          chunks.push(bytes.subarray(from));
          const viaBytes: Line[] = [];
          let longest = 0;
          const splitter = new LineSplitter(
            (line, continues) => viaBytes.push({ line, continues }),
            max,
            (lines, continues) => {
              if (continues) {
                expect(lines.includes(10)).toBe(false);
                viaBytes.push({ line: pieceText(lines), continues: true });
                return;
              }
              for (
                let start = 0, end = lines.indexOf(10);
                end !== -1;
                start = end + 1, end = lines.indexOf(10, start)
              ) {
                longest = Math.max(longest, end - start - (lines[end - 1] === 13 ? 1 : 0));
              }
              forEachLine(lines, (line) => viaBytes.push({ line, continues: false }));
            },
          );
          for (const chunk of chunks) splitter.push(chunk);
          splitter.end();
          expect(viaBytes).toEqual(split(chunks, max));
          expect(longest).toBeLessThanOrEqual(max);
        },
      ),
    );
  });
});
