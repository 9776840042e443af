import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const npm = (args: string[], cwd: string) =>
  spawnSync("npm", args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, npm_config_update_notifier: "false" },
  });

describe("the packed package, installed as the README's systemd section says", () => {
  it("carries the LICENSE, installs without an install-script warning, and runs", () => {
    const dir = mkdtempSync(join(tmpdir(), "tdefer-pack-"));
    // --ignore-scripts: `npm test` has built dist already; a rebuild now would pull it from under other tests.
    const packed = npm(["pack", "--ignore-scripts", "--json", "--pack-destination", dir], ROOT);
    expect(packed.status, packed.stderr).toBe(0);
    const [{ filename, files }] = JSON.parse(packed.stdout) as [
      { filename: string; files: { path: string }[] },
    ];
    expect(files.map((file) => file.path)).toContain("LICENSE");
    // --offline: the dependencies come from the npm cache that installing this clone filled. --ignore-scripts:
    // the README's install also runs better-sqlite3's script, which fetches or compiles the native binding
    // (network, or minutes); this test checks the package's contents, and --version loads no binding.
    const installed = npm(
      [
        "install",
        "--prefix",
        join(dir, "opt"),
        "--omit=dev",
        "--ignore-scripts",
        "--offline",
        "--no-audit",
        "--no-fund",
        join(dir, filename),
      ],
      dir,
    );
    expect(installed.status, installed.stderr).toBe(0);
    expect(installed.stderr).not.toMatch(/install-scripts|allowScripts/);
    const version = execFileSync(join(dir, "opt/node_modules/.bin/tdefer"), ["--version"], {
      encoding: "utf8",
    });
    expect(version).toMatch(/^\d+\.\d+\.\d+\n$/);
  }, 120_000);
});
