import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { fakeIO } from "../helpers/fake-io.js";

describe("tdefer schema", () => {
  it("prints the JSON Schema that the repository ships for editors, so the two never disagree", async () => {
    const { io, stdout, exitCode } = fakeIO();
    await main(["node", "tdefer", "schema"], io);
    expect(exitCode()).toBe(0);
    const shipped = readFileSync(new URL("../../schema/schedule.schema.json", import.meta.url), "utf8");
    expect(stdout()).toBe(shipped); // after a schema change: npx tdefer schema > schema/schedule.schema.json
  });

  it("is draft-07 and describes every trigger kind and job key", async () => {
    const { io, stdout } = fakeIO();
    await main(["node", "tdefer", "schema"], io);
    const schema = JSON.parse(stdout());
    expect(schema.$schema).toBe("http://json-schema.org/draft-07/schema#");
    const job = schema.properties.jobs.additionalProperties;
    expect(Object.keys(job.properties)).toEqual(
      expect.arrayContaining([
        "every",
        "cron",
        "after",
        "at",
        "run",
        "timeout",
        "overlap",
        "retry",
        "jitter",
        "env",
      ]),
    );
    expect(job.properties.every.pattern).toBe("^(\\d+(ms|s|m|h|d))+$");
  });
});
