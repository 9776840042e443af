import { Writable } from "node:stream";
import type { CliIO } from "../../src/cli/io.js";

/** A CliIO whose output the test reads back, with a fixed "now". */
export function fakeIO(options: { cwd?: string; nowMs?: number; env?: NodeJS.ProcessEnv } = {}) {
  let stdout = "";
  let stderr = "";
  let exitCode = 0;
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk, _encoding, callback) {
        append(String(chunk));
        callback();
      },
    });
  const io: CliIO = {
    stdout: sink((text) => {
      stdout += text;
    }),
    stderr: sink((text) => {
      stderr += text;
    }),
    cwd: options.cwd ?? process.cwd(),
    env: options.env ?? { NO_COLOR: "1" },
    nowMs: () => options.nowMs ?? Date.UTC(2026, 10, 27, 12, 0, 0),
    setExitCode: (code) => {
      exitCode = code;
    },
  };
  return {
    io,
    stdout: () => stdout,
    stderr: () => stderr,
    exitCode: () => exitCode,
  };
}
