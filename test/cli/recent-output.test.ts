import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RecentOutput } from "../../src/cli/job-run.js";
import { OUTPUT_TAIL_LINES, OutputTail } from "../../src/ledger/ledger.js";
import { forEachOutputLine } from "../../src/log/output-lines.js";
import "../helpers/fast-check-setup.js";
import { outputLinesEvent } from "../helpers/output-lines.js";

const outputLines = (lines: string | readonly string[], continues: boolean) =>
  outputLinesEvent({ job: "j", run: "r", lines, continues });

describe("a run's output on its way to the ledger's tail", () => {
  it("leaves the same tail as every line handed to it one by one, whatever mix of lines, chunks and pieces came", () => {
    const line = fc.oneof(
      fc.constantFrom("", "x", "é😀"),
      fc.string({ maxLength: 300 }).map((s) => s.replace(/[\r\n]/g, " ")),
    );
    const output = fc.oneof(
      line,
      fc
        .array(line, { minLength: 1, maxLength: 2 * OUTPUT_TAIL_LINES })
        .map((lines) => outputLines(lines, false)),
      line.filter((text) => text !== "").map((text) => outputLines(text, true)),
      // Around the tail's byte budget: a piece that fills it alone, or just not.
      fc.integer({ min: 8180, max: 8200 }).map((n) => outputLines(`é${"y".repeat(n)}`, true)),
    );
    fc.assert(
      fc.property(fc.array(output, { maxLength: 12 }), (outputs) => {
        const direct = new OutputTail();
        const lazy = new OutputTail();
        const recent = new RecentOutput(lazy);
        for (const item of outputs) {
          if (typeof item === "string") direct.push(item);
          else forEachOutputLine(item, (text) => direct.push(text));
          recent.push(item);
        }
        recent.flush();
        expect(lazy.text()).toBe(direct.text());
      }),
    );
  });
});
