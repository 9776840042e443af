import { describe, expect, it } from "vitest";
import { ScheduleErrors } from "../../src/errors.js";
import { loadScheduleText } from "../../src/schedule/validate.js";

const options = {
  nowMs: Date.UTC(2026, 10, 27, 12, 0, 0),
  systemZone: "UTC",
  isRoot: false,
  forRunning: false,
};
const load = (text: string) => loadScheduleText(text, "/etc/tdefer/s.yaml", options);

function problems(text: string): string[] {
  try {
    load(text);
  } catch (error) {
    if (error instanceof ScheduleErrors) {
      return error.problems.map((p) => `${p.line}:${p.col} ${p.path}: ${p.message}`);
    }
    throw error;
  }
  return [];
}

describe("notify: and http: in the schedule file", () => {
  it("reads a job's notify, taking keys it leaves out from defaults", () => {
    const schedule = load(`http: 127.0.0.1:9780
defaults:
  notify:
    webhook: https://hooks.example/T0/secret
jobs:
  backup:
    cron: "0 3 * * *"
    run: backup.sh
    notify:
      when: [failure, timeout]
      run: [/usr/local/bin/alert, --to, ops]
  other:
    every: 1h
    run: other.sh
`);
    expect(schedule.http).toBe("127.0.0.1:9780");
    expect(schedule.jobs[0]!.notify).toEqual({
      when: ["failure", "timeout"],
      command: { kind: "argv", argv: ["/usr/local/bin/alert", "--to", "ops"] },
      webhook: "https://hooks.example/T0/secret",
    });
    expect(schedule.jobs[1]!.notify).toEqual({
      when: ["permanent_failure"],
      webhook: "https://hooks.example/T0/secret",
    });
  });

  it("points at a notify without a target, a webhook that is no URL (without repeating it), a wrong event", () => {
    expect(
      problems(`jobs:
  a:
    every: 1s
    run: x
    notify:
      when: [sucess]
  b:
    every: 1s
    run: x
    notify:
      webhook: hooks.example/secret
`),
    ).toEqual([
      '6:14 jobs.a.notify.when.0: expected one of failure, permanent_failure, timeout, missed, lost, success, got "sucess"',
      "11:16 jobs.b.notify.webhook: the webhook is not an http:// or https:// URL",
    ]);
    expect(problems("jobs:\n  a:\n    every: 1s\n    run: x\n    notify: {}\n")).toEqual([
      "5:5 jobs.a.notify: `notify` has neither `run` nor `webhook`",
    ]);
  });

  it("refuses an http: that is not HOST:PORT", () => {
    expect(problems("http: localhost\njobs:\n  a:\n    every: 1s\n    run: x\n")).toEqual([
      '1:7 http: "localhost" is not an HTTP address',
    ]);
  });
});
