import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

let stateFolders = 0;
let stateRoot: string | undefined;
/**
 * A fresh state folder for one tdefer process (its default ledger lands there), so that no test leaves a ledger in
 * the real home nor inherits one from another test. A test that wants a ledger across runs passes its own.
 */
export function freshStateHome(): string {
  if (!stateRoot) {
    const root = mkdtempSync(join(tmpdir(), "tdefer-state-"));
    stateRoot = root;
    process.on("exit", () => rmSync(root, { recursive: true, force: true }));
  }
  return join(stateRoot, String(stateFolders++));
}

export const BIN = fileURLToPath(new URL("../../bin/tdefer.js", import.meta.url));
export const fixture = (name: string): string =>
  fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The built binary as a child process, with its output collected. */
export class CliProcess {
  readonly child: ChildProcess;
  stdout = "";
  stderr = "";
  readonly exited: Promise<CliResult>;

  constructor(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
    this.child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd,
      env: { ...process.env, NO_COLOR: "1", XDG_STATE_HOME: freshStateHome(), ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout!.setEncoding("utf8").on("data", (text: string) => {
      this.stdout += text;
    });
    this.child.stderr!.setEncoding("utf8").on("data", (text: string) => {
      this.stderr += text;
    });
    this.exited = new Promise((resolve) => {
      this.child.on("close", (code, signal) =>
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr }),
      );
    });
  }

  /** Resolves once stdout contains `text` (rejects after `timeoutMs`). */
  async waitFor(text: string | RegExp, timeoutMs = 10_000): Promise<void> {
    const started = Date.now();
    const matches = () => (typeof text === "string" ? this.stdout.includes(text) : text.test(this.stdout));
    while (!matches()) {
      if (Date.now() - started > timeoutMs)
        throw new Error(
          `timed out waiting for ${text}; stdout so far:\n${this.stdout}\nstderr:\n${this.stderr}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** Runs the binary to completion. */
export function runCli(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  return new CliProcess(args, options).exited;
}

/** True while a process with this pid runs; a zombie (dead, not yet reaped by a PID 1 that never reaps) is not. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}
