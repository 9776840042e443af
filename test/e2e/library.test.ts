import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

describe('import { VirtualClock, LoopingCall, Reactor } from "tdefer"', () => {
  it("works from the package root after a build, as the README's example shows", () => {
    const program = `
      import { LoopingCall, Reactor, VirtualClock } from "tdefer";
      const clock = new VirtualClock();
      const calls = [];
      const loop = new LoopingCall(clock, () => calls.push(clock.now()));
      loop.start(1000, { now: true });
      clock.advance(3500);
      loop.stop();
      console.log(JSON.stringify({ calls, reactor: typeof new Reactor().callLater }));`;
    const output = execFileSync(process.execPath, ["--input-type=module", "-e", program], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(JSON.parse(output)).toEqual({ calls: [0, 3500], reactor: "function" });
  });
});
