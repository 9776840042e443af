import { describe, expect, it } from "vitest";
import { colorForced, colorLevel } from "../../src/log/color-policy.js";
import type { LogEvent } from "../../src/log/events.js";
import { formatJson } from "../../src/log/format-json.js";
import { createPrettyFormatter } from "../../src/log/format-pretty.js";
import { createFormatter } from "../../src/log/formatter.js";
import { createOffsetTime } from "../../src/log/time.js";

const T = Date.UTC(2026, 10, 27, 4, 20, 0, 123);
const ids = { job: "backup", run: "r3f2" } as const;
const output = (line: string, stream: "stdout" | "stderr" = "stdout"): LogEvent => ({
  timeMs: T,
  level: "info",
  event: "output",
  ...ids,
  stream,
  line,
});
const started: LogEvent = {
  timeMs: T,
  level: "info",
  event: "started",
  ...ids,
  pid: 123,
  scheduledMs: T - 2,
  lateMs: 2,
  attempt: 1,
};
const finished: LogEvent = {
  timeMs: T,
  level: "info",
  event: "finished",
  ...ids,
  exitCode: 0,
  signal: null,
  durationMs: 1200,
  attempt: 1,
};
const failed: LogEvent = {
  timeMs: T,
  level: "error",
  event: "finished",
  ...ids,
  exitCode: null,
  signal: null,
  durationMs: 0,
  attempt: 2,
  error: "cannot run /x: no such file (ENOENT)",
};

describe("formatJson", () => {
  const parse = (event: LogEvent) => JSON.parse(formatJson(event));

  it("gives output events time, level, event, job, run, stream and line, in that order", () => {
    const text = formatJson(output('say "hi"\t\\ é 😀'));
    expect(Object.keys(JSON.parse(text))).toEqual(["time", "level", "event", "job", "run", "stream", "line"]);
    expect(JSON.parse(text)).toEqual({
      time: "2026-11-27T04:20:00.123Z",
      level: "info",
      event: "output",
      job: "backup",
      run: "r3f2",
      stream: "stdout",
      line: 'say "hi"\t\\ é 😀',
    });
    expect(text).not.toContain("\n");
  });

  it("escapes control characters and lone surrogates like JSON.stringify", () => {
    for (const line of ["a\u0000b\u001fc", "lone \ud800 surrogate", "plain"]) {
      expect(formatJson(output(line))).toBe(
        `{"time":"2026-11-27T04:20:00.123Z","level":"info","event":"output","job":"backup","run":"r3f2","stream":"stdout","line":${JSON.stringify(line)}}`,
      );
    }
  });

  it("changes the keys before the line as soon as time, job, run or stream change", () => {
    const a = output("x");
    const later = { ...a, timeMs: T + 1 } as LogEvent;
    const other = { ...a, job: "other", run: "r9" } as LogEvent;
    const err = output("x", "stderr");
    for (const event of [a, later, other, err, a]) {
      expect(formatJson(event)).toBe(JSON.stringify(JSON.parse(formatJson(event))));
    }
    expect(JSON.parse(formatJson(later)).time).toBe("2026-11-27T04:20:00.124Z");
    expect(JSON.parse(formatJson(other))).toMatchObject({ job: "other", run: "r9", stream: "stdout" });
    expect(JSON.parse(formatJson(err)).stream).toBe("stderr");
    expect(JSON.parse(formatJson(a))).toMatchObject({ time: "2026-11-27T04:20:00.123Z", job: "backup" });
  });

  it("escapes exactly as JSON.stringify, also for DEL and non-ASCII text", () => {
    for (const line of ["plain", "tab\there", "del\u007f", "é€😀", 'q"b\\', "lone\udc00", "\u2028"]) {
      expect(JSON.parse(formatJson(output(line))).line).toBe(line);
      expect(formatJson(output(line))).toContain(`"line":${JSON.stringify(line)}`);
    }
  });

  it("flags the pieces of a split line", () => {
    expect(parse({ ...output("abc ↩"), continues: true } as LogEvent)).toMatchObject({ continues: true });
  });

  it("renders started with pid, scheduled (RFC 3339), late_ms and attempt", () => {
    expect(parse(started)).toEqual({
      time: "2026-11-27T04:20:00.123Z",
      level: "info",
      event: "started",
      job: "backup",
      run: "r3f2",
      pid: 123,
      scheduled: "2026-11-27T04:20:00.121Z",
      late_ms: 2,
      attempt: 1,
    });
  });

  it("renders finished with exit_code, signal, duration_ms, attempt, and error when it could not start", () => {
    expect(parse(finished)).toMatchObject({ exit_code: 0, signal: null, duration_ms: 1200, attempt: 1 });
    expect(parse(finished)).not.toHaveProperty("error");
    expect(parse(failed)).toMatchObject({
      exit_code: null,
      error: "cannot run /x: no such file (ENOENT)",
      level: "error",
    });
  });

  it("renders other events with snake_case keys", () => {
    expect(
      parse({ timeMs: T, level: "warn", event: "skipped", job: "backup", reason: "still running" }),
    ).toEqual({
      time: "2026-11-27T04:20:00.123Z",
      level: "warn",
      event: "skipped",
      job: "backup",
      reason: "still running",
    });
    expect(
      parse({ timeMs: T, level: "error", event: "timed_out", ...ids, timeoutMs: 5000, signal: "SIGTERM" }),
    ).toMatchObject({
      timeout_ms: 5000,
      signal: "SIGTERM",
    });
    expect(
      parse({
        timeMs: T,
        level: "info",
        event: "scheduled",
        job: "b",
        trigger: "every 5m",
        nextMs: undefined,
      }),
    ).toMatchObject({
      next: null,
    });
    expect(
      parse({ timeMs: T, level: "warn", event: "clock_jump", deltaMs: -3000, direction: "backward" }),
    ).toEqual({
      time: "2026-11-27T04:20:00.123Z",
      level: "warn",
      event: "clock_jump",
      delta_ms: -3000,
      direction: "backward",
    });
  });
});

describe("pretty and plain formats", () => {
  const plain = createPrettyFormatter({ colorLevel: 0 });
  const journal = createPrettyFormatter({ colorLevel: 0, journal: true });

  it("shows output lines with time, job, run and stream mark", () => {
    expect(plain(output("line text"))).toBe("2026-11-27T04:20:00.123Z backup[r3f2] | line text");
    expect(plain(output("bad thing", "stderr"))).toBe("2026-11-27T04:20:00.123Z backup[r3f2] ! bad thing");
  });

  it("updates the time and the job of output lines from one line to the next", () => {
    const plain = createFormatter("plain", { colorLevel: 0 });
    expect(plain(output("a"))).toBe("2026-11-27T04:20:00.123Z backup[r3f2] | a");
    expect(plain({ ...output("b"), timeMs: T + 1000 } as LogEvent)).toBe(
      "2026-11-27T04:20:01.123Z backup[r3f2] | b",
    );
    expect(plain({ ...output("c", "stderr"), job: "sync", run: "q1" } as LogEvent)).toBe(
      "2026-11-27T04:20:00.123Z sync[q1] ! c",
    );
  });

  it("tells the lifecycle in sentences", () => {
    expect(plain(started)).toBe("2026-11-27T04:20:00.123Z backup[r3f2] started (pid 123, 2 ms late)");
    expect(plain(finished)).toBe("2026-11-27T04:20:00.123Z backup[r3f2] finished: exit 0 in 1.2s");
    expect(plain(failed)).toBe(
      "2026-11-27T04:20:00.123Z backup[r3f2] could not start: cannot run /x: no such file (ENOENT) (attempt 2)",
    );
    expect(plain({ ...finished, exitCode: null, signal: "SIGKILL", durationMs: 65_000 } as LogEvent)).toBe(
      "2026-11-27T04:20:00.123Z backup[r3f2] finished: killed by SIGKILL in 1m05s",
    );
    expect(plain({ timeMs: T, level: "warn", event: "retrying", ...ids, attempt: 2, delayMs: 2000 })).toBe(
      "2026-11-27T04:20:00.123Z backup[r3f2] retrying in 2.0s (attempt 2)",
    );
    expect(
      plain({ timeMs: T, level: "warn", event: "skipped", job: "backup", reason: "still running" }),
    ).toBe("2026-11-27T04:20:00.123Z backup skipped: still running");
  });

  it("has no colour at level 0 and colour above it", () => {
    expect(plain(output("x"))).not.toContain("\u001b[");
    expect(createPrettyFormatter({ colorLevel: 1 })(output("x", "stderr"))).toContain("\u001b[");
    expect(createFormatter("plain", { colorLevel: 3 })(failed)).not.toContain("\u001b[");
    expect(createFormatter("json", { colorLevel: 3, journal: true })(failed)).toBe(formatJson(failed));
  });

  it("for the journal drops timestamps and prefixes sd-daemon priorities", () => {
    expect(journal(output("fine"))).toBe("<6>backup[r3f2] | fine");
    expect(journal(output("oops", "stderr"))).toBe("<3>backup[r3f2] ! oops");
    expect(journal(started)).toBe("<6>backup[r3f2] started (pid 123, 2 ms late)");
    expect(journal(failed)).toMatch(/^<3>backup\[r3f2\] could not start/);
    expect(journal({ timeMs: T, level: "warn", event: "warning", message: "odd" })).toBe("<4>warning: odd");
    expect(journal({ timeMs: T, level: "error", event: "error", message: "bad" })).toBe("<3>error: bad");
  });
});

describe("job output cannot forge log lines or drive the terminal (pretty, plain, journal)", () => {
  const formats = {
    plain: createPrettyFormatter({ colorLevel: 0 }),
    pretty: createPrettyFormatter({ colorLevel: 3 }),
    journal: createPrettyFormatter({ colorLevel: 0, journal: true }),
  };
  // NUL splits a journal record; ESC starts a colour or cursor move; a lone CR overwrites the line on a
  // terminal; BS erases; U+009B is a one-character CSI to some terminals; DEL.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: what must never reach a line
  const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: tdefer's own colours (SGR sequences)
  const SGR = /\u001b\[[0-9;]*m/g;
  const hostile = "ok\u0000<0>forged\rover\u001b[2J\u001b[31mred\bx\u009b1m\u007f\u0007end";

  for (const [name, format] of Object.entries(formats)) {
    it(`${name}: escapes NUL, CR, ESC, BS, BEL, DEL and C1 controls in output as \\xNN (\\u00NN for C1); a tab stays`, () => {
      const text = format(output(`${hostile}\tcol`));
      const line = text.slice(text.indexOf("ok"));
      expect(text.slice(0, text.indexOf("ok")).replace(SGR, "")).toMatch(/\| $/);
      expect(line).toBe("ok\\x00<0>forged\\x0dover\\x1b[2J\\x1b[31mred\\x08x\\u009b1m\\x7f\\x07end\tcol");
      expect(line).not.toMatch(CONTROL);
    });

    it(`${name}: escapes controls in every other text that reaches a line (messages, reasons, job names)`, () => {
      for (const event of [
        { timeMs: T, level: "warn", event: "warning", message: `w${hostile}` },
        { timeMs: T, level: "error", event: "reload_refused", errors: [`e${hostile}`] },
        { timeMs: T, level: "info", event: "skipped", job: `j${hostile}`, reason: `r${hostile}` },
        { ...started, job: `j${hostile}`, run: `r${hostile}` },
      ] as LogEvent[]) {
        const text = format(event);
        // Only tdefer's own colours may remain: strip those SGR sequences, then nothing may be left.
        const own = name === "pretty" ? text.replace(SGR, "") : text;
        expect(own).not.toMatch(CONTROL);
        expect(own).toContain("\\x00<0>forged");
      }
    });
  }

  it("pretty: the only ANSI sequences are tdefer's own colours", () => {
    const text = formats.pretty(output(hostile, "stderr"));
    // grey time, cyan job, red "!": each on and off.
    expect(text.match(SGR)).toEqual([
      "\u001b[90m",
      "\u001b[39m",
      "\u001b[36m",
      "\u001b[39m",
      "\u001b[31m",
      "\u001b[39m",
    ]);
  });
});

describe("colorLevel", () => {
  const tty = { isTTY: true };
  it("turns colour off for NO_COLOR and --no-color, even on a terminal or when forced", () => {
    expect(colorLevel({ ...tty, env: { NO_COLOR: "1" } })).toBe(0);
    expect(colorLevel({ ...tty, env: { NO_COLOR: "1", FORCE_COLOR: "1" } })).toBe(0);
    expect(colorLevel({ ...tty, env: {}, noColorFlag: true })).toBe(0);
  });

  it("ignores an empty NO_COLOR", () => {
    expect(colorLevel({ ...tty, env: { NO_COLOR: "" } })).toBe(1);
  });

  it("follows FORCE_COLOR, also when piped", () => {
    expect(colorLevel({ isTTY: false, env: { FORCE_COLOR: "1" } })).toBe(1);
    expect(colorLevel({ isTTY: false, env: { FORCE_COLOR: "" } })).toBe(1);
    expect(colorLevel({ isTTY: false, env: { FORCE_COLOR: "3" } })).toBe(3);
    expect(colorLevel({ ...tty, env: { FORCE_COLOR: "0" } })).toBe(0);
    expect(colorLevel({ ...tty, env: { FORCE_COLOR: "false" } })).toBe(0);
  });

  it("colours a terminal only, at the depth it announces, and never TERM=dumb", () => {
    expect(colorLevel({ isTTY: false, env: {} })).toBe(0);
    expect(colorLevel({ isTTY: false, env: { CI: "true" } })).toBe(0);
    expect(colorLevel({ ...tty, env: { TERM: "dumb" } })).toBe(0);
    expect(colorLevel({ ...tty, env: { TERM: "xterm-256color" } })).toBe(2);
    expect(colorLevel({ ...tty, env: { COLORTERM: "truecolor" } })).toBe(3);
  });

  it("--color colours when piped, wins over FORCE_COLOR=0, and loses to NO_COLOR", () => {
    expect(colorLevel({ isTTY: false, env: {}, colorFlag: true })).toBe(1);
    expect(colorLevel({ isTTY: false, env: { FORCE_COLOR: "0" }, colorFlag: true })).toBe(1);
    expect(colorLevel({ isTTY: false, env: { NO_COLOR: "1" }, colorFlag: true })).toBe(0);
  });
});

describe("colorForced: colour asked for explicitly colours the plain format too", () => {
  it("is true for FORCE_COLOR and --color, unless something turns colour off", () => {
    expect(colorForced({ isTTY: false, env: { FORCE_COLOR: "1" } })).toBe(true);
    expect(colorForced({ isTTY: false, env: {}, colorFlag: true })).toBe(true);
    expect(colorForced({ isTTY: true, env: {} })).toBe(false); // a terminal alone colours pretty, not plain
    expect(colorForced({ isTTY: false, env: { FORCE_COLOR: "0" } })).toBe(false);
    expect(colorForced({ isTTY: false, env: { FORCE_COLOR: "1", NO_COLOR: "1" } })).toBe(false);
  });

  it("makes createFormatter colour plain, and never json", () => {
    const event = { timeMs: T, level: "error", event: "error", message: "bad" } as const;
    expect(createFormatter("plain", { colorLevel: 1 })(event)).not.toContain("\u001b[");
    expect(createFormatter("plain", { colorLevel: 1, colorForced: true })(event)).toContain("\u001b[31m");
    expect(createFormatter("json", { colorLevel: 1, colorForced: true })(event)).not.toContain("\u001b[");
  });
});

describe("times in the human formats", () => {
  const scheduled = {
    timeMs: T,
    level: "info",
    event: "scheduled",
    job: "nightly",
    trigger: 'cron "0 3 * * *" (Europe/Berlin)',
    nextMs: Date.UTC(2026, 10, 28, 2, 0, 0),
    zone: "Europe/Berlin",
  } as const;
  const berlin = (timeMs: number, zone: string) => `${new Date(timeMs).toISOString()} in ${zone}`;

  it("show a job's next fire in its own zone, and the line's time as lineTime says", () => {
    const format = createPrettyFormatter({
      colorLevel: 0,
      lineTime: createOffsetTime(() => -5 * 3_600_000),
      timeInZone: berlin,
    });
    expect(format(scheduled)).toBe(
      `2026-11-26T23:20:00.123-05:00 nightly scheduled: cron "0 3 * * *" (Europe/Berlin), next 2026-11-28T02:00:00.000Z in Europe/Berlin`,
    );
  });

  it("stay RFC 3339 in UTC in json, with the zone as a key", () => {
    expect(JSON.parse(formatJson(scheduled))).toMatchObject({
      time: "2026-11-27T04:20:00.123Z",
      next: "2026-11-28T02:00:00.000Z",
      zone: "Europe/Berlin",
    });
  });

  it("write a zero offset as Z, and odd offsets in hours and minutes", () => {
    expect(createOffsetTime(() => 0)(T)).toBe("2026-11-27T04:20:00.123Z");
    expect(createOffsetTime(() => 5.75 * 3_600_000)(T)).toBe("2026-11-27T10:05:00.123+05:45");
  });
});
