// The quick structure check (shape.ts) lets a file skip zod only when zod would accept it: it must agree
// with zod on every fixture and on random data shaped like schedule files.
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readScheduleText } from "../../src/schedule/read.js";
import { zodSchemas } from "../../src/schedule/schema.js";
import { hasScheduleShape } from "../../src/schedule/shape.js";

const zodAccepts = (value: unknown): boolean => zodSchemas().scheduleSchema.safeParse(value).success;

function fixtureData(folder: string): [string, unknown][] {
  const dir = fileURLToPath(new URL(`../fixtures/${folder}/`, import.meta.url));
  return readdirSync(dir)
    .filter((name) => name.endsWith(".yaml"))
    .map((name) => [name, readScheduleText(readFileSync(dir + name, "utf8"), name).data?.value] as const)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => [name, value]);
}

describe("the quick structure check", () => {
  it("says yes to every good fixture and to the example, as zod does", () => {
    const example = readFileSync(new URL("../../schedules.example.yaml", import.meta.url), "utf8");
    const cases = [...fixtureData("good"), ["example", readScheduleText(example, "x").data?.value] as const];
    for (const [name, value] of cases) {
      expect(zodAccepts(value), name).toBe(true);
      expect(hasScheduleShape(value), name).toBe(true);
    }
  });

  it("agrees with zod on every bad fixture that YAML can read", () => {
    for (const [name, value] of fixtureData("bad"))
      expect(hasScheduleShape(value), name).toBe(zodAccepts(value));
  });

  it("says no to a key named like a property every object has (constructor, toString), as zod does", () => {
    for (const key of ["constructor", "toString", "hasOwnProperty", "valueOf"]) {
      const value = readScheduleText(`jobs:\n  a:\n    every: 1m\n    run: "true"\n    ${key}: 1\n`, "x").data
        ?.value;
      expect(zodAccepts(value), key).toBe(false);
      expect(hasScheduleShape(value), key).toBe(false);
    }
  });

  it("never says yes where zod says no, on random schedule-like data", () => {
    const scalar = fc.oneof(
      fc.constantFrom("1h", "30s", "0 3 * * *", "skip", "latest", "SIGTERM", "", "x y", "2026-12-01 09:00"),
      fc.integer({ min: -2, max: 5 }),
      fc.constantFrom(0.5, Number.POSITIVE_INFINITY, Number.NaN, 2 ** 60),
      fc.boolean(),
      fc.constant(null),
    );
    const value = fc.letrec((tie) => ({
      any: fc.oneof({ depthSize: "small" }, scalar, tie("list"), tie("map")),
      list: fc.array(tie("any"), { maxLength: 3 }),
      map: fc.dictionary(
        fc.constantFrom(
          "every",
          "run",
          "cron",
          "at",
          "retry",
          "attempts",
          "env",
          "PATH",
          "when",
          "within",
          "x",
        ),
        tie("any"),
        { maxKeys: 4 },
      ),
    })).any;
    const job = fc.record(
      {
        every: fc.oneof(fc.constantFrom("1m", "5 minutes", "1h30m"), scalar),
        run: fc.oneof(
          fc.constantFrom("echo hi"),
          fc.array(fc.constantFrom("echo", "hi"), { maxLength: 2 }),
          scalar,
        ),
        retry: value,
        env: value,
        notify: value,
        catch_up: value,
        at: value,
        max_parallel: scalar,
      },
      { requiredKeys: [] },
    );
    const file = fc.record(
      {
        version: scalar,
        jobs: fc.dictionary(fc.constantFrom("a", "b.c", "-x", "d_1"), job, { maxKeys: 3 }),
        defaults: job,
        ledger: value,
        env: value,
      },
      { requiredKeys: ["jobs"] },
    );
    fc.assert(
      fc.property(file, (data) => {
        // A yes must be zod's yes; a no on data zod accepts would only cost time, but it does not happen either.
        expect(hasScheduleShape(data)).toBe(zodAccepts(data));
      }),
      { numRuns: 2000 },
    );
  });
});
