import { readdirSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { parseScheduleText, toPlainValue } from "../../src/schedule/positions.js";
import { readScheduleText } from "../../src/schedule/read.js";

const positioned = (text: string) => toPlainValue(parseScheduleText(text, "f.yaml").source);
const quick = (text: string) => readScheduleText(text, "f.yaml").data?.value;
const asJson = (value: unknown) => JSON.parse(JSON.stringify(value ?? null));

const fixtures = (dir: string) =>
  readdirSync(new URL(`../fixtures/${dir}/`, import.meta.url)).map((name) => ({
    name,
    text: readFileSync(new URL(`../fixtures/${dir}/${name}`, import.meta.url), "utf8"),
  }));

describe("reading a schedule file", () => {
  it.each([
    ...fixtures("good"),
    { name: "schedules.example.yaml", text: readFileSync("schedules.example.yaml", "utf8") },
  ])("gives the same data on the quick path as on the positioned one: $name", ({ text }) => {
    expect(quick(text)).toEqual(positioned(text));
  });

  it("gives the same data for any YAML the quick path accepts", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (value, flow) => {
        const text = stringify({ jobs: value }, { collectionStyle: flow ? "flow" : "block" });
        const { data } = readScheduleText(text, "f.yaml");
        fc.pre(data !== undefined); // a text with problems (a `<<` that merges no map…) has no data to compare
        // JSON round trip: -0 is read as 0 by js-yaml and as -0 by yaml; no schedule value can be -0.
        expect(asJson(data!.value)).toEqual(asJson(positioned(text)));
      }),
      { numRuns: 1000, examples: [[{ "<<": 0 }, false]] },
    );
  });

  it("points at a path of a file read the quick way", () => {
    const { data } = readScheduleText("jobs:\n  a:\n    every: 1m\n", "f.yaml");
    expect(data!.value).toEqual({ jobs: { a: { every: "1m" } } });
    expect(data!.positionOf(["jobs", "a", "every"])).toEqual({ line: 3, col: 12 });
    expect(data!.positionOf(["jobs", "a", "every"], "key")).toEqual({ line: 3, col: 5 });
  });

  it("leaves files with anchors, merges or errors to the positioned parser", () => {
    expect(readScheduleText("a: &x 1\nb: *x\n", "f.yaml").data?.value).toEqual({ a: 1, b: 1 });
    expect(readScheduleText("a: 1\na: 2\n", "f.yaml").problems[0]).toMatchObject({
      line: 2,
      col: 1,
      path: "a",
    });
  });
});
