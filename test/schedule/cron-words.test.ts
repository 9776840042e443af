import { describe, expect, it } from "vitest";
import { cronInWords } from "../../src/schedule/cron-words.js";

const FROM_MS = Date.UTC(2026, 11, 1); // a year ahead holds one spring-forward and one fall-back per zone
const words = (expression: string, zone = "UTC", job = "backup") =>
  cronInWords(expression, { zone, hashSeed: job, fromMs: FROM_MS });

describe("a cron expression in words", () => {
  it("says the times and days in 24-hour time, in the job's zone", () => {
    expect(words("30 2 * * 1-5", "Europe/Berlin")).toBe("at 02:30, Monday through Friday (Europe/Berlin)");
    expect(words("*/5 * * * *")).toBe("every 5 minutes (UTC)");
    expect(words("0 0 L * *")).toBe("at 00:00, on the last day of the month (UTC)");
  });

  it("expands nicknames and leaves out a zero seconds field", () => {
    expect(words("@daily")).toBe("at 00:00 (UTC)");
    expect(words("0 30 2 * * *")).toBe("at 02:30 (UTC)");
  });

  it("shows what H stands for in this job, as it runs", () => {
    expect(words("H 3 * * *", "UTC", "backup")).toMatch(/^at 03:\d\d \(UTC\)$/);
    expect(words("H 3 * * *", "UTC", "backup")).toBe(words("H 3 * * *", "UTC", "backup"));
  });

  describe("with the DST note where cronie's policy moves fires", () => {
    it("a fixed time in the spring-forward gap runs at the jump", () => {
      expect(words("30 2 * * *", "America/New_York")).toBe(
        "at 02:30 (America/New_York); DST: at the jump when skipped",
      );
    });

    it("a fixed time in the repeated hour runs once", () => {
      expect(words("30 1 * * *", "America/New_York")).toBe(
        "at 01:30 (America/New_York); DST: once when repeated",
      );
      expect(words("30 2 * * *", "Europe/Berlin")).toBe(
        "at 02:30 (Europe/Berlin); DST: at the jump when skipped, once when repeated",
      );
    });

    it("a wildcard job loses its gap times and runs twice in the repeated hour", () => {
      expect(words("*/15 2 * * *", "America/New_York")).toBe(
        "every 15 minutes, between 02:00 and 02:59 (America/New_York); DST: skipped times are lost",
      );
      expect(words("0 * * * *", "Europe/Berlin")).toBe(
        "every hour (Europe/Berlin); DST: skipped times are lost, repeated times run twice",
      );
    });

    it("says nothing when no transition touches the job's times or days", () => {
      expect(words("30 12 * * *", "Europe/Berlin")).toBe("at 12:30 (Europe/Berlin)");
      // Berlin's clocks change on Sundays.
      expect(words("30 2 * * 1-5", "Europe/Berlin")).toBe("at 02:30, Monday through Friday (Europe/Berlin)");
      expect(words("0 * * * *", "UTC")).toBe("every hour (UTC)");
    });

    it("handles a 30-minute shift (Lord Howe)", () => {
      expect(words("0 2 * * *", "Australia/Lord_Howe")).toBe(
        "at 02:00 (Australia/Lord_Howe); DST: at the jump when skipped",
      );
      expect(words("45 2 * * *", "Australia/Lord_Howe")).toBe("at 02:45 (Australia/Lord_Howe)");
    });
  });
});
