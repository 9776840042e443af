import { type ChildProcess, spawn } from "node:child_process";
import { stat } from "node:fs/promises";
import type { Readable } from "node:stream";
import { readBufferBound } from "./read-buffers.js";
import type { ChildExit, ChildHandle, ChildOutput, Spawner, SpawnRequest } from "./spawner.js";

/**
 * The real Spawner: each child leads its own process group (detached), stdout/stderr piped, and stdin
 * /dev/null, or a pipe carrying the request's `stdin` text and then closed.
 */
export const nodeSpawner: Spawner = {
  spawn(request: SpawnRequest): ChildHandle {
    let child: ChildProcess;
    try {
      child = spawn(request.file, [...request.args], {
        cwd: request.cwd,
        env: { ...request.env },
        detached: true,
        stdio: [request.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
        uid: request.uid,
        gid: request.gid,
      });
    } catch (error) {
      // Bad arguments (e.g. a NUL byte in an argument) throw synchronously instead of emitting 'error'.
      return failedChild(describeSpawnError(request, error));
    }
    if (child.stdin) {
      // A job that exits without reading its input closes the pipe: EPIPE then is the job's business, not ours.
      child.stdin.on("error", () => {});
      child.stdin.end(request.stdin);
    }
    return new NodeChild(child, request);
  },
};

class NodeChild implements ChildHandle {
  readonly pid: number | undefined;
  readonly stdout: ChildOutput;
  readonly stderr: ChildOutput;
  private exit: ChildExit | undefined;
  private readonly exitListeners: ((exit: ChildExit) => void)[] = [];

  constructor(child: ChildProcess, request: SpawnRequest) {
    this.pid = child.pid;
    this.stdout = new ReadableOutput(child.stdout!);
    this.stderr = new ReadableOutput(child.stderr!);
    child.once("exit", (code, signal) => this.settle({ exitCode: code, signal }));
    child.on("error", (error) => {
      // Only a spawn failure matters; later errors (none are expected: we never use child.kill) are ignored.
      if (this.pid !== undefined || this.exit) return;
      void explainSpawnError(request, error).then((message) =>
        this.settle({ exitCode: null, signal: null, error: message }),
      );
    });
  }

  onExit(listener: (exit: ChildExit) => void): void {
    if (this.exit) listener(this.exit);
    else this.exitListeners.push(listener);
  }

  kill(signal: string): boolean {
    if (this.pid === undefined) return false;
    try {
      // A negative pid addresses the process group that the detached child leads.
      process.kill(-this.pid, signal);
      return true;
    } catch {
      return false; // ESRCH: the whole group is gone already
    }
  }

  private settle(exit: ChildExit): void {
    if (this.exit) return;
    this.exit = exit;
    for (const listener of this.exitListeners.splice(0)) listener(exit);
  }
}

/**
 * A pipe is read in chunks of up to 64 KiB, and one chunk of short lines becomes a megabyte of log; so chunks
 * are handed on in slices of {@link SLICE_BYTES}, and a pause() stops between slices, keeping the rest of
 * the chunk (at most one chunk per output) until resume(): with many jobs flooding at once, what waits for a
 * slow stdout stays small.
 */
const SLICE_BYTES = 8 * 1024;

class ReadableOutput implements ChildOutput {
  private ended = false;
  private streamEnded = false;
  private paused = false;
  private backlog: Buffer | undefined;
  private listener: (chunk: Buffer) => void = () => {};
  private readonly endListeners: (() => void)[] = [];

  constructor(private readonly stream: Readable) {
    const end = () => {
      this.streamEnded = true;
      if (!this.backlog) this.end();
    };
    stream.once("end", end);
    stream.once("close", end);
    stream.on("error", end); // a read error ends the output; it must not become an unhandled 'error'
    // Node resumes a child's paused stdio itself when the child exits (child_process flushStdio): without
    // this, a job that exits with output still in the pipe would be read at full speed, whatever the log.
    stream.on("resume", () => {
      if (this.paused) stream.pause();
    });
  }

  onData(listener: (chunk: Buffer) => void): void {
    this.listener = listener;
    const bound = readBufferBound();
    this.stream.on("data", (chunk: Buffer) => {
      bound?.read(chunk.length);
      this.deliver(chunk);
    });
  }

  onEnd(listener: () => void): void {
    if (this.ended) listener();
    else this.endListeners.push(listener);
  }

  pause(): void {
    this.paused = true;
    this.stream.pause();
  }

  resume(): void {
    this.paused = false;
    const backlog = this.backlog;
    this.backlog = undefined;
    if (backlog) this.deliver(backlog);
    if (this.paused) return;
    if (this.streamEnded) this.end();
    else this.stream.resume();
  }

  close(): void {
    // Bytes already read are still handed on; nothing more is read.
    this.paused = false;
    const backlog = this.backlog;
    this.backlog = undefined;
    if (backlog) this.deliver(backlog, true);
    this.stream.destroy();
    this.end();
  }

  private deliver(chunk: Buffer, ignorePause = false): void {
    // A chunk that still comes after pause() queues behind the backlog.
    if (this.backlog && !ignorePause) {
      this.backlog = Buffer.concat([this.backlog, chunk]);
      return;
    }
    for (let offset = 0; offset < chunk.length; offset += SLICE_BYTES) {
      if (this.paused && !ignorePause) {
        // A copy: the stream may reuse the chunk's memory for its next read.
        this.backlog = Buffer.from(chunk.subarray(offset));
        return;
      }
      this.listener(chunk.subarray(offset, offset + SLICE_BYTES));
    }
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const listener of this.endListeners.splice(0)) listener();
  }
}

/** A handle for a child that never started: no pid, empty outputs, and the error on the next turn. */
function failedChild(error: string): ChildHandle {
  const output: ChildOutput = {
    onData() {},
    onEnd: (listener) => queueMicrotask(listener),
    pause() {},
    resume() {},
    close() {},
  };
  return {
    pid: undefined,
    stdout: output,
    stderr: output,
    onExit: (listener) => queueMicrotask(() => listener({ exitCode: null, signal: null, error })),
    kill: () => false,
  };
}

const REASONS: Record<string, string> = {
  ENOENT: "no such file",
  EACCES: "permission denied (not executable?)",
  ENOEXEC: "not an executable format",
  EPERM: "operation not permitted",
  ENOTDIR: "a part of the path is not a directory",
};

/** A sentence for a spawn failure; ENOENT is told apart from a missing working directory, as Node does not. */
async function explainSpawnError(request: SpawnRequest, error: Error): Promise<string> {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT" || code === "ENOTDIR") {
    const cwdIsDirectory = await stat(request.cwd).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!cwdIsDirectory)
      return `cannot run ${request.file}: working directory ${request.cwd} does not exist (${code})`;
  }
  return describeSpawnError(request, error);
}

function describeSpawnError(request: SpawnRequest, error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reason = (code && REASONS[code]) ?? (error instanceof Error ? error.message : String(error));
  return `cannot run ${request.file}: ${reason}${code ? ` (${code})` : ""}`;
}
