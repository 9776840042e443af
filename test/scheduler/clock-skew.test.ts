import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../src/clock/virtual-clock.js";
import { watchClockSkew } from "../../src/scheduler/clock-skew.js";
import { settle } from "../helpers/settle.js";

describe("the clock-skew check against the database", () => {
  it("warns at start and every ten minutes while this clock is more than a second off", async () => {
    const clock = new VirtualClock(Date.UTC(2026, 11, 1));
    const skews: number[] = [];
    let dbOffsetMs = -90_000; // the database is 90 s behind us: our clock is fast
    const watch = watchClockSkew({
      clock,
      measure: async () => ({ dbNowMs: clock.wallNow() + dbOffsetMs, roundTripMs: 0 }),
      onSkew: (skewMs) => skews.push(skewMs),
    });
    await settle();
    expect(skews).toEqual([90_000]);
    dbOffsetMs = 400; // within a second: quiet
    clock.advance(10 * 60_000);
    await settle();
    expect(skews).toEqual([90_000]);
    dbOffsetMs = 2_000;
    clock.advance(10 * 60_000);
    await settle();
    expect(skews).toEqual([90_000, -2_000]);
    watch.stop();
    clock.advance(10 * 60_000);
    await settle();
    expect(skews).toHaveLength(2);
  });

  it("counts half the round trip: a slow answer is not a skewed clock", async () => {
    const clock = new VirtualClock(Date.UTC(2026, 11, 1));
    const skews: number[] = [];
    // The database read its clock 1.5 s after we asked, and the answer took 3 s in all.
    let roundTripMs = 3_000;
    const watch = watchClockSkew({
      clock,
      measure: async () => ({ dbNowMs: clock.wallNow() + 1_500, roundTripMs }),
      onSkew: (skewMs) => skews.push(skewMs),
    });
    await settle();
    expect(skews).toEqual([]);
    roundTripMs = 0; // the same reading with an instant answer: 1.5 s behind the database
    clock.advance(10 * 60_000);
    await settle();
    expect(skews).toEqual([-1_500]);
    watch.stop();
  });
});
