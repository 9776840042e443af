import { describe, expect, it } from "vitest";
import { twinRanks, workKey } from "../../src/scheduler/work-key.js";
import { jobSpec } from "../helpers/jobs.js";

const hourly = { kind: "cron", expression: "0 * * * *", zone: "UTC" } as const;
const dump = { kind: "shell", script: "pg_dump app", shell: "/bin/sh" } as const;

describe("a job's work key", () => {
  it("is the same for a job under a new name: a rename is the same work", () => {
    expect(workKey(jobSpec("db-backup", hourly, { command: dump }))).toBe(
      workKey(jobSpec("backup", hourly, { command: dump })),
    );
  });

  it("ignores what does not change what runs when: env, timeout, retries", () => {
    expect(workKey(jobSpec("backup", hourly, { command: dump, env: { A: "1" }, timeoutMs: 5_000 }))).toBe(
      workKey(jobSpec("backup", hourly, { command: dump })),
    );
  });

  it("differs when the command or the trigger differs", () => {
    const keys = [
      jobSpec("a", hourly, { command: dump }),
      jobSpec("b", hourly, { command: { ...dump, script: "pg_dump other" } }),
      jobSpec("c", { ...hourly, expression: "30 * * * *" }, { command: dump }),
      jobSpec("d", { ...hourly, zone: "Europe/Berlin" }, { command: dump }),
    ].map((job) => workKey(job));
    expect(new Set(keys).size).toBe(4);
  });

  it("tells identical jobs of one file apart by their order, so each still runs", () => {
    const jobs = [
      jobSpec("first", hourly, { command: dump }),
      jobSpec("other", hourly),
      jobSpec("second", hourly, { command: dump }),
      jobSpec("third", hourly, { command: dump }),
    ];
    const ranks = twinRanks(jobs);
    expect([...ranks]).toEqual([
      ["second", 1],
      ["third", 2],
    ]);
    const keys = jobs.map((job) => workKey(job, ranks.get(job.name)));
    expect(new Set(keys).size).toBe(4);
    expect(keys[0]).toBe(workKey(jobs[2]!, 0));
  });
});
