import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadScheduleFile } from "../../src/cli/config.js";
import { preflight } from "../../src/cli/preflight.js";
import { loadScheduleText } from "../../src/schedule/validate.js";

const TEXT = [
  "jobs:",
  "  first:",
  "    every: 1h",
  "    cwd: /nonexistent/folder",
  "    run: [no-such-program-anywhere]",
  "  second:",
  "    every: 1h",
  "    cwd: /nonexistent/folder",
  "    run: [no-such-program-anywhere]",
  "",
].join("\n");

function load(file: string) {
  let positionOf: ((path: (string | number)[]) => { line: number; col: number }) | undefined;
  const schedule = loadScheduleText(TEXT, file, {
    nowMs: 0,
    systemZone: "UTC",
    isRoot: false,
    forRunning: false,
    withPositions: (found) => {
      positionOf = (path) => found(path);
    },
  });
  return { schedule, positionOf };
}

describe("the pre-flight", () => {
  it("points at the file with the positions its reading found, without reading the file again", () => {
    // No file on disk: positions can only come from the reading.
    const { schedule, positionOf } = load("/nonexistent/schedules.yaml");
    expect(positionOf).toBeDefined();
    const { warnings } = preflight(schedule, { uid: 1000, env: { PATH: "/usr/bin:/bin" }, positionOf });
    expect(warnings.map((w) => `${w.line}:${w.col} ${w.path}`)).toEqual([
      "4:10 jobs.first.cwd",
      "5:11 jobs.first.run.0",
      "8:10 jobs.second.cwd",
      "9:11 jobs.second.run.0",
    ]);
    // Without them it reads the file again, and a file it cannot read gives 1:1.
    const reread = preflight(schedule, { uid: 1000, env: { PATH: "/usr/bin:/bin" } }).warnings;
    expect(reread.map((w) => `${w.line}:${w.col}`)).toEqual(["1:1", "1:1", "1:1", "1:1"]);
  });

  it("says the same about every job that shares a folder or a program", () => {
    const { schedule, positionOf } = load("/nonexistent/schedules.yaml");
    const { warnings } = preflight(schedule, { uid: 1000, env: { PATH: "/usr/bin:/bin" }, positionOf });
    expect(warnings.map((w) => w.message)).toEqual([
      "the working directory /nonexistent/folder does not exist: every run would fail to start",
      "no-such-program-anywhere is not found in any folder of PATH: every run would fail to start",
      "the working directory /nonexistent/folder does not exist: every run would fail to start",
      "no-such-program-anywhere is not found in any folder of PATH: every run would fail to start",
    ]);
  });

  it("gets the positions from the reading of the file on disk, which is not read again", () => {
    const dir = mkdtempSync(join(tmpdir(), "tdefer-preflight-"));
    const file = join(dir, "schedules.yaml");
    writeFileSync(file, TEXT);
    let positionOf: ((path: (string | number)[]) => { line: number; col: number }) | undefined;
    const schedule = loadScheduleFile(file, {
      nowMs: 0,
      withPositions: (found) => {
        positionOf = (path) => found(path);
      },
    });
    rmSync(dir, { recursive: true });
    const { warnings } = preflight(schedule, { uid: 1000, env: { PATH: "/usr/bin:/bin" }, positionOf });
    expect(warnings.map((w) => `${w.line}:${w.col}`)).toEqual(["4:10", "5:11", "8:10", "9:11"]);
  });
});
