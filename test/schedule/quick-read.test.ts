// Positions in a file read the quick way (js-yaml) are the ones the careful reading (the yaml package) gives.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { parseScheduleText, positionOf } from "../../src/schedule/positions.js";
import { QuickPositions } from "../../src/schedule/quick-read.js";

/** Every path of a plain value, the root included. */
function pathsOf(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  const paths = [path];
  const items: [string | number, unknown][] = Array.isArray(value)
    ? value.map((item, i) => [i, item])
    : value !== null && typeof value === "object"
      ? Object.entries(value)
      : [];
  for (const [key, item] of items) paths.push(...pathsOf(item, [...path, key]));
  return paths;
}

function expectSamePositions(text: string, value: unknown): void {
  const careful = parseScheduleText(text, "f.yaml").source;
  const quick = new QuickPositions(text);
  for (const path of [...pathsOf(value), ["jobs", "missing", "key"]]) {
    for (const mode of ["value", "key"] as const) {
      expect(quick.positionOf(path, mode), `${mode} of ${path.join(".")} in\n${text}`).toEqual(
        positionOf(careful, path, mode),
      );
    }
  }
}

describe("positions of a file read the quick way", () => {
  it("are the careful reading's, for block and flow styles, comments, quoting and empty values", () => {
    const text = [
      "\ufeff# a schedule",
      "version: 1",
      "timezone: Europe/Berlin   # the zone",
      "env:",
      "  PATH: /usr/bin",
      "  \"QUOTED\": 'x'",
      "jobs:",
      "  # the backup",
      "  backup:",
      '    cron: "0 3 * * *"',
      "    empty:",
      "    run: [/bin/backup, --full]",
      "    retry: { attempts: 3, delay: 30s }",
      "    env:",
      "",
      "      A: 1",
      "  'two words':",
      "    at:",
      "      - 2026-12-01 09:00",
      "      -   2027-01-01 09:00",
      "    run: |",
      "      echo one",
      "      echo two",
      "  list-of-maps:",
      "    every: 1m",
      "    notify:",
      "    - when: [failure]",
      "      command: x",
      "    - {webhook: 'http://x'}",
      "    run: >-",
      "      folded",
      "",
    ].join("\r\n");
    const { doc } = parseScheduleText(text, "f.yaml").source;
    expectSamePositions(text, doc.toJS());
  });

  it("point at the file's start when it holds only comments", () => {
    for (const text of ["# nothing\n# yet\n", "", "\n\n", "---\n# c\n", "# c\n--- # d\n"]) {
      expectSamePositions(text, null);
    }
  });

  it("point past a document start marker", () => {
    const text = "# c\n---\njobs:\n  a:\n    every: 1m\n";
    expectSamePositions(text, { jobs: { a: { every: "1m" } } });
  });

  it("are the careful reading's for any data written as YAML", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.boolean(), (value, flow) => {
        const text = stringify({ jobs: value }, { collectionStyle: flow ? "flow" : "block" });
        const { source, problems } = parseScheduleText(text, "f.yaml");
        fc.pre(problems.length === 0 && !text.includes("&") && !text.includes("?") && !text.includes("<<"));
        expectSamePositions(text, source.doc.toJS());
      }),
      { numRuns: 300 },
    );
  });
});
