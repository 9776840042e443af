import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { Reactor } from "../../src/clock/reactor.js";
import type { LogEvent } from "../../src/log/events.js";
import { CONTINUATION_MARK } from "../../src/runner/line-splitter.js";
import { nodeSpawner } from "../../src/runner/node-spawner.js";
import { type RunSpec, runJob } from "../../src/runner/run-job.js";

const BIN = fileURLToPath(new URL("../fixtures/bin/", import.meta.url));
const reactors: Reactor[] = [];

afterEach(() => {
  for (const reactor of reactors.splice(0)) reactor.close();
});

/** Runs a fixture script for real and collects its events. */
function run(script: string, overrides: Partial<RunSpec> = {}) {
  const clock = new Reactor();
  reactors.push(clock);
  const events: LogEvent[] = [];
  const spec: RunSpec = {
    job: "real",
    runId: "r1",
    scheduledMs: Date.now(),
    file: script.startsWith("/") ? script : `${BIN}${script}`,
    args: [],
    cwd: BIN,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    killSignal: "SIGTERM",
    killGraceMs: 2000,
    ...overrides,
  };
  const handle = runJob(spec, {
    clock,
    spawner: nodeSpawner,
    emit: (e) => events.push(e),
    wallNow: () => Date.now(),
  });
  const output = (stream = "stdout") =>
    events.flatMap((e) => (e.event === "output" && e.stream === stream ? [e.line] : []));
  return { handle, events, output };
}

/** Gone: no such process, or a zombie (dead, only waiting for a parent that may never reap it). */
function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.startsWith("Z") ?? false;
  } catch {
    return true;
  }
}

async function waitUntil(condition: () => boolean, timeoutMs = 2000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!condition() && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 10));
  return condition();
}

describe("runJob with real processes", () => {
  it("passes tdefer's variables and the working directory", async () => {
    const { handle, output } = run("print-env.sh", { scheduledMs: Date.UTC(2026, 0, 2, 3, 4, 5, 6) });
    expect(await handle.done).toMatchObject({ ok: true, exitCode: 0 });
    expect(output()).toEqual([`real r1 2026-01-02T03:04:05.006Z 1 ${BIN.replace(/\/$/, "")}`]);
  });

  it("kills the whole process group on timeout, grandchild included", async () => {
    const { handle, output, events } = run("grandchild.sh", { timeoutMs: 300 });
    const leader = await waitUntil(() => handle.pid !== undefined && output().length > 0);
    expect(leader).toBe(true);
    const pid = handle.pid!;
    const grandchild = Number(output()[0]);
    const result = await handle.done;
    expect(result).toMatchObject({ ok: false, timedOut: true, signal: "SIGTERM", killedHard: false });
    expect(events.map((e) => e.event)).toEqual(["started", "output", "timed_out", "finished"]);
    expect(await waitUntil(() => isGone(grandchild) && isGone(pid))).toBe(true);
  });

  it("escalates to SIGKILL when the job ignores SIGTERM", async () => {
    const { handle, output } = run("ignore-term.sh", { killGraceMs: 200 });
    await waitUntil(() => output().length > 0);
    handle.stop("test");
    expect(await handle.done).toMatchObject({
      ok: false,
      stopped: true,
      killedHard: true,
      signal: "SIGKILL",
    });
  });

  it("writes the stdin text to the job's standard input and closes it", async () => {
    const { handle, output } = run("/bin/sh", { args: ["-c", "cat; echo end"], stdin: "one\ntwo %\n" });
    expect((await handle.done).ok).toBe(true);
    expect(output()).toEqual(["one", "two %", "end"]);
  });

  it("gives a job without stdin an empty standard input", async () => {
    const { handle, output } = run("/bin/sh", { args: ["-c", "wc -c"] });
    expect((await handle.done).ok).toBe(true);
    expect(output().map((line) => line.trim())).toEqual(["0"]);
  });

  it("runs a job that exits without reading its stdin as usual", async () => {
    const { handle } = run("/bin/sh", { args: ["-c", "exit 3"], stdin: "x".repeat(1 << 20) });
    expect((await handle.done).exitCode).toBe(3);
  });

  it("logs a last line that has no newline", async () => {
    const { handle, output } = run("partial-line.sh");
    await handle.done;
    expect(output()).toEqual(["one", "two"]);
  });

  it("delivers a 5 MB line split into marked pieces, complete", async () => {
    const { handle, events } = run("big-line.sh");
    expect(await handle.done).toMatchObject({ ok: true });
    const lines = events.flatMap((e) => (e.event === "output" ? [e] : []));
    expect(lines.at(-1)?.line).toBe("end");
    const pieces = lines.slice(0, -1);
    expect(pieces.length).toBe(80);
    const text = pieces
      .map((p) => (p.continues ? p.line.slice(0, -CONTINUATION_MARK.length) : p.line))
      .join("");
    expect(text.length).toBe(5 * 1024 * 1024);
    expect(/^x+$/.test(text)).toBe(true);
  });

  it("delivers 100,000 numbered lines complete and in order", async () => {
    const { handle, output } = run("numbered.sh");
    expect(await handle.done).toMatchObject({ ok: true });
    const lines = output();
    expect(lines.length).toBe(100_000);
    expect(lines.every((line, i) => line === String(i + 1))).toBe(true);
  });

  it("shows invalid UTF-8 escaped, and stderr as its own stream", async () => {
    const { handle, output } = run("invalid-utf8.sh");
    expect(await handle.done).toMatchObject({ ok: false, exitCode: 3 });
    expect(output()).toEqual(["a\\xffb"]);
    expect(output("stderr")).toEqual(["err"]);
  });

  it("does not wait for a grandchild that holds the pipes after the job exits", async () => {
    const started = Date.now();
    const { handle, output, events } = run("leaves-holder.sh");
    const result = await handle.done;
    expect(Date.now() - started).toBeLessThan(4000); // the grandchild holds the pipes for 5 s
    expect(result).toMatchObject({ ok: true });
    expect(output()).toEqual(["done"]);
    const pid = events.find((e) => e.event === "started")?.pid;
    process.kill(-pid!, "SIGKILL"); // the sleeping grandchild, still in the job's group
  });

  it("turns a missing program into a failed run (ENOENT)", async () => {
    const { handle, events } = run("/nonexistent/tdefer-job");
    const result = await handle.done;
    expect(result).toMatchObject({ ok: false, exitCode: null, signal: null });
    expect(result.error).toMatch(/nonexistent.*no such file.*ENOENT/);
    expect(events.map((e) => e.event)).toEqual(["finished"]);
  });

  it("turns a file that is not executable into a failed run (EACCES)", async () => {
    const { handle } = run("not-executable.sh");
    expect((await handle.done).error).toMatch(/permission denied.*EACCES/);
  });

  it("says when the working directory does not exist", async () => {
    const { handle } = run("print-env.sh", { cwd: "/nonexistent-dir" });
    expect((await handle.done).error).toMatch(/working directory \/nonexistent-dir does not exist/);
  });
});
