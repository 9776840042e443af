import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { ScheduleErrors } from "../../src/errors.js";
import type { Schedule } from "../../src/schedule/types.js";
import { loadScheduleText, type ValidateOptions } from "../../src/schedule/validate.js";

// Whatever the text, the loader returns a Schedule or throws ScheduleErrors whose problems all have a
// position and a message: never a TypeError, a RangeError or a library's own exception.

const OPTIONS: ValidateOptions = {
  nowMs: Date.UTC(2026, 10, 27, 12, 0, 0),
  systemZone: "UTC",
  isRoot: false,
  forRunning: false,
};

function checkLoads(text: string): void {
  let result: Schedule | undefined;
  try {
    result = loadScheduleText(text, "prop.yaml", OPTIONS);
  } catch (error) {
    if (!(error instanceof ScheduleErrors)) {
      throw new Error(`threw ${String(error)} for ${JSON.stringify(text)}`, { cause: error });
    }
    expect(error.problems.length).toBeGreaterThan(0);
    for (const problem of error.problems) {
      expect(problem.file).toBe("prop.yaml");
      expect(Number.isInteger(problem.line) && problem.line >= 1, JSON.stringify(problem)).toBe(true);
      expect(Number.isInteger(problem.col) && problem.col >= 1, JSON.stringify(problem)).toBe(true);
      expect(problem.message.trim(), JSON.stringify(problem)).not.toBe("");
      expect(problem.message).not.toMatch(/\bundefined\b|\[object Object\]/);
    }
    return;
  }
  expect(result.jobs.length).toBeGreaterThan(0);
  for (const warning of result.warnings) {
    expect(warning.line).toBeGreaterThanOrEqual(1);
    expect(warning.col).toBeGreaterThanOrEqual(1);
  }
}

const FRAGMENTS = [
  "jobs:",
  "  a:",
  "  b:",
  "    every: ",
  "    cron: ",
  "    after: ",
  "    at: ",
  "    run: ",
  "    retry: ",
  "    env: ",
  "defaults:",
  "timezone: ",
  "*",
  "&x ",
  "*x",
  "<<: ",
  "[",
  "]",
  "{",
  "}",
  ":",
  "\t",
  "- ",
  "\n",
  "\n",
  "\n",
  " ",
  "  ",
  '"',
  "'",
  "#",
  "---",
  "30s",
  "0",
  "-1",
  "1e400",
  "null",
  "~",
  "true",
  "yes",
  '"0 3 * * *"',
  "@reboot",
  "Europe/Berlin",
  "2026-03-29 02:30",
  "2026-12-01 09:00",
  "!!binary ",
  "!tag ",
  "? ",
  "|",
  ">",
  "%YAML 1.2\n",
  "\u0000",
  "\ufeff",
  "é",
  "__proto__",
  "constructor",
];

const yamlish = fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 40 }).map((parts) => parts.join(""));

/** Job-shaped values, some right and most a little wrong. */
const jobLike = fc.record(
  {
    every: fc.oneof(fc.constantFrom("30s", "0s", "1h30m", "5 minutes", ""), fc.integer(), fc.constant(null)),
    cron: fc.oneof(
      fc.constantFrom("0 3 * * *", "*/0 * * * *", "0 0 30 2 *", "@daily", "H * * * *", "* * *"),
      fc.string(),
    ),
    after: fc.constantFrom("1s", "0s", "x"),
    at: fc.oneof(
      fc.constantFrom("2027-01-01 09:00", "2026-03-29 02:30", "bad"),
      fc.array(fc.string(), { maxLength: 3 }),
    ),
    now: fc.oneof(fc.boolean(), fc.string()),
    run: fc.oneof(fc.string(), fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 3 })),
    timezone: fc.constantFrom("UTC", "Europe/Berlin", "Nowhere/City", ""),
    timeout: fc.constantFrom("1m", "0s", "90"),
    kill_signal: fc.constantFrom("TERM", "SIGKILL", "NOPE", ""),
    retry: fc.oneof(
      fc.record({ attempts: fc.integer({ min: -1, max: 4 }), backoff: fc.double() }, { requiredKeys: [] }),
      fc.anything(),
    ),
    env: fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null))),
    overlap: fc.constantFrom("skip", "queue", "replace", "allow", "skp"),
    jitter: fc.constantFrom("0s", "1h"),
    user: fc.oneof(fc.string(), fc.integer()),
    extra: fc.anything(),
  },
  { requiredKeys: [] },
);

const scheduleLike = fc.record(
  {
    version: fc.oneof(fc.constant(1), fc.anything()),
    timezone: fc.constantFrom("UTC", "America/New_York", "Europe/Berln"),
    env: fc.anything(),
    max_parallel: fc.oneof(fc.integer(), fc.anything()),
    defaults: fc.oneof(jobLike, fc.anything()),
    jobs: fc.oneof(
      fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.oneof(jobLike, fc.anything())),
      fc.anything(),
    ),
  },
  { requiredKeys: [] },
);

describe("loadScheduleText never fails in another way", () => {
  it("arbitrary strings", () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), checkLoads), { numRuns: 500 });
  });

  it("arbitrary full-Unicode strings", () => {
    fc.assert(fc.property(fc.string({ unit: "grapheme", maxLength: 200 }), checkLoads), { numRuns: 300 });
  });

  it("YAML-ish text built from fragments", () => {
    fc.assert(fc.property(yamlish, checkLoads), { numRuns: 600 });
  });

  it("arbitrary JSON values, written as YAML", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), (value) => checkLoads(stringify(value))),
      { numRuns: 300 },
    );
  });

  it("schedule-shaped values, mostly a little wrong, written as YAML", () => {
    fc.assert(
      fc.property(scheduleLike, (value) => {
        let text: string;
        try {
          text = stringify(value);
        } catch {
          return; // values yaml cannot write (e.g. symbols or functions inside fc.anything)
        }
        checkLoads(text);
      }),
      { numRuns: 100 },
    );
  });

  it("deeply nested brackets, at any depth", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.constantFrom("[", "{", "- "), (depth, open) => {
        const close = open === "[" ? "]" : open === "{" ? "}" : "";
        checkLoads(`jobs:\n  a:\n    run: ${open.repeat(depth)}x${close.repeat(depth)}\n`);
      }),
      { numRuns: 12 },
    );
  });
});
