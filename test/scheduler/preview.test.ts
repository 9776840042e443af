import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../src/clock/virtual-clock.js";
import { loadScheduleText } from "../../src/schedule/validate.js";
import { firstFires, previewFires } from "../../src/scheduler/preview.js";
import { Scheduler } from "../../src/scheduler/scheduler.js";
import { settle } from "../helpers/settle.js";

const FROM = Date.parse("2026-03-07T12:00:00Z");

const schedule = loadScheduleText(
  `
timezone: America/New_York
defaults: { overlap: allow }
jobs:
  tick:
    every: 7h
    run: "true"
  tick-now:
    every: 11h
    now: true
    run: "true"
  soon:
    after: 90m
    run: "true"
  release:
    at: ["2026-03-08 02:30-05:00", "2026-03-09 09:00"]
    run: "true"
  nightly:
    cron: "30 2 * * *"
    run: "true"
  quarter:
    cron: "*/15 1-3 * * *"
    timezone: Europe/London
    run: "true"
  off:
    every: 5h
    enabled: false
    run: "true"
`,
  "/tmp/preview.yaml",
  { nowMs: FROM, systemZone: "UTC", isRoot: false, forRunning: false },
);

describe("tdefer next", () => {
  it("shows exactly the fires that run, started at --from, would start, for every trigger kind", async () => {
    const preview = previewFires(schedule, { fromMs: FROM, count: 40 });
    const clock = new VirtualClock(FROM);
    const started: { job: string; timeMs: number }[] = [];
    const scheduler = new Scheduler({
      clock,
      emit: () => {},
      startRun: (job, context) => {
        started.push({ job: job.name, timeMs: context.scheduledMs });
        return { done: Promise.resolve({ killedHard: false }), stop: () => {}, kill: () => {} };
      },
    });
    scheduler.start(schedule);
    const lastMs = preview.at(-1)!.timeMs;
    for (let due = clock.nextCallTime(); due !== undefined && due <= lastMs; due = clock.nextCallTime()) {
      clock.runUntil(due);
      await settle(1);
    }
    const enabled = preview.filter((fire) => !fire.disabled).map(({ job, timeMs }) => ({ job, timeMs }));
    expect(started).toEqual(enabled);
    expect(new Set(preview.map((fire) => fire.job))).toEqual(
      new Set(["tick", "tick-now", "soon", "release", "nightly", "quarter", "off"]),
    );
  });

  it("marks a fire that daylight-saving time moved, and a disabled job's fires", () => {
    const preview = previewFires(schedule, { fromMs: FROM, count: 40, jobs: ["nightly", "off"] });
    expect(preview.find((fire) => fire.job === "nightly" && fire.dst)).toMatchObject({
      timeMs: Date.parse("2026-03-08T07:00:00Z"), // 03:00 EDT: the 02:30 wall time does not exist that day
      dst: "moved",
    });
    expect(preview.filter((fire) => fire.job === "off").every((fire) => fire.disabled)).toBe(true);
  });

  it("stops at --until and at the count", () => {
    const untilMs = FROM + 6 * 3_600_000;
    const preview = previewFires(schedule, { fromMs: FROM, untilMs, count: 100 });
    expect(preview.every((fire) => fire.timeMs <= untilMs)).toBe(true);
    expect(previewFires(schedule, { fromMs: FROM, count: 3 })).toHaveLength(3);
  });

  it("plans no fire after 9999-12-31 23:59:59 UTC, the last instant the log can write", () => {
    const far = loadScheduleText(
      `
jobs:
  century: { every: 36500d, now: true, run: "true" }
  daily: { cron: "0 0 * * *", timezone: UTC, run: "true" }
  later: { after: 36500d, run: "true" }
`,
      "/tmp/far.yaml",
      { nowMs: FROM, systemZone: "UTC", isRoot: false, forRunning: false },
    );
    const fromMs = Date.parse("9999-12-30T00:00:00Z");
    const preview = previewFires(far, { fromMs, count: 100_000 });
    expect(preview.map((fire) => [fire.job, new Date(fire.timeMs).toISOString()])).toEqual([
      ["century", "9999-12-30T00:00:00.000Z"],
      ["daily", "9999-12-31T00:00:00.000Z"],
    ]);
  });
});

describe("each job's first fire (tdefer check)", () => {
  it("is what the preview of that job alone gives first, for every trigger kind, DST moves and jobs with none left", () => {
    const withEnds = loadScheduleText(
      `
timezone: America/New_York
jobs:
  tick-now:
    every: 11h
    now: true
    run: "true"
  jittery:
    every: 3h
    jitter: 10m
    run: "true"
  soon:
    after: 90m
    run: "true"
  release:
    at: ["2026-03-08 02:30-05:00", "2026-03-09 09:00"]
    run: "true"
  past:
    at: "2026-03-01 09:00"
    run: "true"
  spring:
    cron: "30 2 8 3 *"
    run: "true"
  quarter:
    cron: "*/15 1-3 * * *"
    timezone: Europe/London
    run: "true"
  off:
    every: 5h
    enabled: false
    run: "true"
`,
      "/tmp/first-fires.yaml",
      { nowMs: FROM, systemZone: "UTC", isRoot: false, forRunning: false },
    );
    const first = firstFires(withEnds, FROM);
    for (const job of withEnds.jobs) {
      const [alone] = previewFires({ ...withEnds, jobs: [job] }, { fromMs: FROM, count: 1 });
      expect(first.get(job.name), job.name).toEqual(alone);
    }
    expect(first.has("past")).toBe(false);
    expect(first.get("spring")?.dst).toBe("moved");
    expect([...first.keys()].sort()).toEqual(
      withEnds.jobs
        .map((job) => job.name)
        .filter((name) => name !== "past")
        .sort(),
    );
  });
});
