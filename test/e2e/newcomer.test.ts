import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";

// What a new user meets in the first hour, through the built binary: the mistakes of a crontab converted
// by hand, and the places where the CLI's answers used to disagree or say too little.

/** Writes `text` as a schedule file in a new folder; returns its path. */
function scheduleFile(text: string, name = "schedules.yaml"): string {
  const file = join(mkdtempSync(join(tmpdir(), "tdefer-newcomer-")), name);
  writeFileSync(file, text);
  return file;
}

describe("an unquoted cron expression", () => {
  it.each([
    ["*/5 * * * *", "`*`"],
    ["* * * * *", "`*`"],
    ["@daily", "`@`"],
  ])("`cron: %s` is told to quote it, with the quoted line as the hint", async (expression, char) => {
    const file = scheduleFile(`jobs:\n  tick:\n    cron: ${expression}\n    run: "true"\n`);
    const result = await runCli(["check", file]);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain(`${file}:3:11: this cron expression starts with ${char}`);
    expect(result.stderr).toContain(`quote it\n  hint: cron: "${expression}"\n`);
  });
});

describe('cron: "@every 30s" (supercronic\'s syntax)', () => {
  it("points at the every trigger", async () => {
    const file = scheduleFile('jobs:\n  tick:\n    cron: "@every 30s"\n    run: "true"\n');
    const result = await runCli(["check", file]);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain("hint: replace the `cron:` line with `every: 30s`");
  });
});
