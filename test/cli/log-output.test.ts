import { describe, expect, it } from "vitest";
import { createLogOutput } from "../../src/cli/log-output.js";
import type { LogEventInput } from "../../src/log/events.js";
import { fakeIO } from "../helpers/fake-io.js";

const claimed = { event: "claimed", level: "debug", job: "backup", run: "r1", fence: 7, trigger: "schedule" };
const started = {
  event: "started",
  level: "info",
  job: "backup",
  run: "r1",
  pid: 42,
  scheduledMs: 0,
  lateMs: 0,
};

async function logged(format: "plain" | "pretty" | "json"): Promise<string> {
  const out = fakeIO({ env: { NO_COLOR: "1" } });
  const log = createLogOutput(out.io, format, undefined);
  log.emitAt(claimed as LogEventInput, Date.UTC(2026, 11, 1));
  log.emitAt(started as LogEventInput, Date.UTC(2026, 11, 1));
  await log.close();
  return out.stdout();
}

describe("the log of run and trigger", () => {
  it("leaves a won claim (a debug event, one per fire) out of every format; the metrics still count it", async () => {
    for (const format of ["plain", "pretty", "json"] as const) {
      const text = await logged(format);
      expect(text).not.toContain("claimed");
      expect(text).toContain("backup");
    }
  });
});
