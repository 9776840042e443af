import { describe, expect, it } from "vitest";
import { reusedFor } from "../../src/ops/api.js";

describe("an expensive HTTP body (/metrics, /api/v1/jobs)", () => {
  function counted(reuseMs: number) {
    let nowMs = 1_000_000;
    let renders = 0;
    const body = reusedFor(
      reuseMs,
      () => nowMs,
      () => `body ${++renders}`,
    );
    return {
      body,
      renders: () => renders,
      advance: (ms: number) => {
        nowMs += ms;
      },
    };
  }

  it("is rendered once for any number of clients within the reuse time", () => {
    const { body, renders } = counted(1_000);
    for (let i = 0; i < 200; i++) expect(body.get()).toBe("body 1");
    expect(renders()).toBe(1);
  });

  it("is rendered anew once the reuse time has passed", () => {
    const { body, advance } = counted(1_000);
    body.get();
    advance(999);
    expect(body.get()).toBe("body 1");
    advance(1);
    expect(body.get()).toBe("body 2");
  });

  it("is rendered anew after a POST changed what it shows, and after the clock stepped back", () => {
    const { body, advance } = counted(1_000);
    body.get();
    body.forget();
    expect(body.get()).toBe("body 2");
    advance(-5_000);
    expect(body.get()).toBe("body 3");
  });
});
