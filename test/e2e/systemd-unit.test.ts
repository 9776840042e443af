import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const UNIT = join(ROOT, "contrib/systemd/tdefer.service");
const BIN = join(ROOT, "bin/tdefer.js");

const analyzer = spawnSync("systemd-analyze", ["--version"], { encoding: "utf8" });
const hasAnalyzer = analyzer.status === 0;
if (!hasAnalyzer) {
  console.warn("SKIPPED: systemd-analyze is missing (Debian package systemd; .ci/run installs it)");
}

/** The shipped unit, with the installed launcher's path pointed at this clone's, in a folder of its own. */
function unitHere(): string {
  const dir = mkdtempSync(join(tmpdir(), "tdefer-unit-"));
  const file = join(dir, "tdefer.service");
  writeFileSync(file, readFileSync(UNIT, "utf8").replaceAll("/opt/tdefer/node_modules/.bin/tdefer", BIN));
  return file;
}

describe("contrib/systemd/tdefer.service", () => {
  const text = readFileSync(UNIT, "utf8");

  it("runs the installed launcher, checks the file before a reload, and keeps state in a StateDirectory", () => {
    expect(text).toMatch(/^ExecStart=\/opt\/tdefer\/node_modules\/\.bin\/tdefer run /m);
    expect(text).not.toMatch(/\/usr\/bin\/node/);
    const reloads = text.match(/^ExecReload=.*$/gm);
    expect(reloads).toEqual([
      "ExecReload=/opt/tdefer/node_modules/.bin/tdefer check /etc/tdefer/schedules.yaml",
      "ExecReload=/bin/kill -HUP $MAINPID",
    ]);
    expect(text).toMatch(/^StateDirectory=tdefer$/m);
    expect(text).not.toMatch(/^ReadWritePaths=/m);
    expect(text).not.toMatch(/^Documentation=https?:/m);
  });

  it.skipIf(!hasAnalyzer)("passes systemd-analyze verify", () => {
    const result = spawnSync("systemd-analyze", ["verify", unitHere()], { encoding: "utf8" });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it.skipIf(!hasAnalyzer)("scores an exposure of at most 5.0 in systemd-analyze security", () => {
    const output = execFileSync("systemd-analyze", ["security", "--offline=yes", unitHere()], {
      encoding: "utf8",
    });
    const [, exposure] = /Overall exposure level for tdefer\.service: (\d+\.\d)/.exec(output) ?? [];
    expect(Number(exposure)).toBeLessThanOrEqual(5.0);
  });
});
