import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { fakeIO } from "../helpers/fake-io.js";

// Hostile arguments for the commands that only read (check, next, schema), in-process with a fake CliIO.
// run and trigger are never fuzzed: they start processes.

const dir = mkdtempSync(join(tmpdir(), "tdefer-fuzz-"));
const files = {
  valid: join(dir, "valid.yaml"),
  broken: join(dir, "broken.yaml"),
  missing: join(dir, "missing.yaml"),
  folder: join(dir, "a-folder"),
  empty: join(dir, "empty.yaml"),
};
writeFileSync(
  files.valid,
  `timezone: Europe/Berlin
jobs:
  beat:
    every: 1h
    run: echo beat
  nightly:
    cron: "30 2 * * *"
    run: [echo, nightly]
  once:
    at: "2030-01-01 09:00"
    run: echo once
`,
);
writeFileSync(files.broken, "jobs:\n  x:\n    evry: 5\n    run: [\n");
writeFileSync(files.empty, "");
mkdirSync(files.folder);
const empty = mkdtempSync(join(tmpdir(), "tdefer-fuzz-cwd-"));

/** A line of a JavaScript stack trace: "    at fn (file.js:12:34)". */
const STACK_FRAME = /^\s+at .*:\d+:\d+\)?$/m;

const value = fc.oneof(
  fc.string(),
  fc.string({ unit: "grapheme" }),
  fc.integer({ min: -10, max: 3000 }).map(String),
  fc.double().map(String),
  fc.constantFrom(
    "",
    "0",
    "-1",
    "1e309",
    "NaN",
    "100001",
    "9007199254740993",
    "2026-03-08 02:30",
    "2026-03-29T02:30:00",
    "2026-13-45",
    "2026-11-01T01:30:00-05:00",
    "275760-09-13",
    "-271821-04-20",
    "now",
    "* * * * *",
    "*/0 * * * *",
    "0 0 30 2 *",
    "H H * * *",
    "@reboot",
    "1 2 3 4 5 6 7",
    "Europe/Berlin",
    "Mars/Olympus",
    "UTC",
    "../../etc/passwd",
    "\u0000",
    "%s%n",
    "json",
    "pretty",
  ),
);
const flag = fc.oneof(
  fc.constantFrom("--json", "--help", "-h", "-V", "--version", "--no-color", "--", "-", "-nn"),
  fc
    .tuple(
      fc.constantFrom(
        "-n",
        "--count",
        "--job",
        "--from",
        "--until",
        "--cron",
        "--tz",
        "--log-format",
        "--grace",
      ),
      value,
    )
    .map(([name, v]) => [name, v]),
  fc
    .tuple(fc.constantFrom("--count", "--from", "--tz", "--cron"), value)
    .map(([name, v]) => [`${name}=${v}`]),
  fc.string().map((s) => [`--${s}`]),
  value.map((v) => [v]),
);
const file = fc.constantFrom<(string | undefined)[]>(
  [files.valid],
  [files.broken],
  [files.missing],
  [files.folder],
  [files.empty],
  [],
  [files.valid, files.valid],
);

describe("tdefer check/next/schema with hostile arguments", () => {
  it("always exit 0, 2 or 78, never throw, never print a stack trace", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("check", "next", "schema"),
        fc.array(flag, { maxLength: 5 }),
        file,
        fc.boolean(),
        async (command, flags, fileArgs, fileFirst) => {
          const rest = flags.flat();
          const args = fileFirst
            ? [...(fileArgs as string[]), ...rest]
            : [...rest, ...(fileArgs as string[])];
          const fake = fakeIO({ cwd: empty, nowMs: Date.UTC(2026, 2, 7, 12) });
          await main(["node", "tdefer", command, ...args], fake.io);
          expect([0, 2, 78]).toContain(fake.exitCode());
          expect(fake.stderr()).not.toContain("    at ");
          expect(fake.stdout()).not.toMatch(STACK_FRAME); // stdout may say "    at 2030-01-01 09:00"
        },
      ),
      { numRuns: 200 },
    );
  }, 60_000);
});
