// The real outside world of `run`: what cannot be faked, such as V8's garbage collector.
import { describe, expect, it } from "vitest";
import { processShell } from "../../src/cli/process-shell.js";
import { fakeIO } from "../helpers/fake-io.js";

describe("the process shell", () => {
  it("collects garbage on request, without the --expose-gc flag", async () => {
    const { collectGarbage } = processShell(fakeIO().io);
    const garbage = new WeakRef({ reading: new Array(1000).fill("garbage") });
    // A WeakRef holds its target until the turn of the event loop that made or read it ends.
    const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
    await nextTurn();
    expect(garbage.deref()).toBeDefined();
    await nextTurn();
    collectGarbage();
    expect(garbage.deref()).toBeUndefined();
    expect("gc" in globalThis).toBe(false);
  });
});
