import { describe, expect, it } from "vitest";
import { workKeys } from "../../src/scheduler/work-key.js";
import { jobSpec } from "../helpers/jobs.js";

const hourly = { kind: "cron", expression: "0 * * * *", zone: "UTC" } as const;
const dump = { kind: "shell", script: "pg_dump app", shell: "/bin/sh" } as const;

describe("a job's work key", () => {
  it("is the same for a job under a new name: a rename is the same work", () => {
    const before = workKeys([jobSpec("backup", hourly, { command: dump })]);
    const after = workKeys([jobSpec("db-backup", hourly, { command: dump })]);
    expect(after.get("db-backup")).toBe(before.get("backup"));
  });

  it("ignores what does not change what runs when: env, timeout, retries", () => {
    const plain = workKeys([jobSpec("backup", hourly, { command: dump })]);
    const tuned = workKeys([jobSpec("backup", hourly, { command: dump, env: { A: "1" }, timeoutMs: 5_000 })]);
    expect(tuned.get("backup")).toBe(plain.get("backup"));
  });

  it("differs when the command or the trigger differs", () => {
    const keys = workKeys([
      jobSpec("a", hourly, { command: dump }),
      jobSpec("b", hourly, { command: { ...dump, script: "pg_dump other" } }),
      jobSpec("c", { ...hourly, expression: "30 * * * *" }, { command: dump }),
      jobSpec("d", { ...hourly, zone: "Europe/Berlin" }, { command: dump }),
    ]);
    expect(new Set(keys.values()).size).toBe(4);
  });

  it("tells identical jobs of one file apart by their order, so each still runs", () => {
    const keys = workKeys([
      jobSpec("first", hourly, { command: dump }),
      jobSpec("second", hourly, { command: dump }),
    ]);
    expect(keys.get("first")).not.toBe(keys.get("second"));
    expect(keys.get("first")).toMatch(/\.0$/);
    expect(keys.get("second")).toMatch(/\.1$/);
  });
});
