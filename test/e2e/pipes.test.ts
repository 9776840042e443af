import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { BIN, fixture, freshStateHome } from "../helpers/cli.js";

/** Runs the binary with its stdout read by a reader that stops after the first chunk, as `| head -1` does. */
function readFirstChunkOnly(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, XDG_STATE_HOME: freshStateHome() },
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (text: string) => {
      stderr += text;
    });
    child.stdout.once("data", () => child.stdout.destroy());
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

describe("output read only in part (`tdefer next | head -1`)", () => {
  it.each([
    ["next", fixture("../../schedules.example.yaml"), "-n", "20000"],
    ["check", fixture("../../schedules.example.yaml")],
    ["schema"],
  ])("%s ends quietly with exit 0 when its reader goes away", async (...args) => {
    const { code, stderr } = await readFirstChunkOnly(args);
    expect(stderr).toBe("");
    expect(code).toBe(0);
  });
});
