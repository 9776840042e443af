import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../src/clock/virtual-clock.js";
import type { Trigger } from "../../src/schedule/types.js";
import { type ArmedTrigger, armTrigger } from "../../src/scheduler/triggers.js";
import { jobSpec } from "../helpers/jobs.js";

const FROM = Date.parse("2026-03-07T12:00:00Z");

describe("a trigger cancelled by its own fire", () => {
  const kinds: [string, Trigger | { kind: "cron"; expression: string; zone: string }][] = [
    ["cron", { kind: "cron", expression: "*/5 * * * *", zone: "UTC" }],
    ["every", { kind: "every", intervalMs: 60_000, now: false }],
    [
      "at",
      {
        kind: "at",
        times: [
          { timeMs: FROM + 60_000, text: "a" },
          { timeMs: FROM + 120_000, text: "b" },
        ],
        zone: "UTC",
      },
    ],
  ];
  for (const [kind, trigger] of kinds) {
    it(`${kind}: fires once and leaves nothing armed on the clock`, () => {
      const clock = new VirtualClock(FROM);
      const fired: number[] = [];
      let armed: ArmedTrigger | undefined;
      armed = armTrigger(jobSpec("job", trigger), {
        clock,
        random: () => 0,
        onExhausted: () => {},
        onFire: (fire) => {
          fired.push(fire.scheduledMs);
          armed?.cancel();
        },
      });
      const due = clock.nextCallTime();
      expect(due).toBeDefined();
      clock.runUntil(due!);
      expect(fired).toHaveLength(1);
      expect(clock.nextCallTime()).toBeUndefined();
      expect(armed.nextMs()).toBeUndefined();
    });
  }
});
