// The seam between a run and the operating system: run-job.ts sees only these interfaces.

/** What to start. The environment is given whole: nothing is inherited implicitly. */
export interface SpawnRequest {
  /** The program: a path, or a name looked up in `env.PATH`. */
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** Run as this user / group id (only when tdefer runs as root). */
  readonly uid?: number;
  readonly gid?: number;
  /** Written to the child's standard input, which is then closed; without it stdin is /dev/null. */
  readonly stdin?: string;
}

/** One output pipe of a child, as a flow of byte chunks that the reader can pause. */
export interface ChildOutput {
  /** Called with each chunk, in order. Register once, before the first turn of the event loop. */
  onData(listener: (chunk: Buffer) => void): void;
  /** Called once when no more chunks will come: end of file, an error, or close(). */
  onEnd(listener: () => void): void;
  /** Stop delivering chunks until resume(); the pipe fills up and the child blocks when it is full. */
  pause(): void;
  resume(): void;
  /** Stop reading for good and release the pipe; onEnd follows if it has not fired yet. */
  close(): void;
}

/** How a child ended. Exactly one of: an exit code, a signal, or an error saying why it never started. */
export interface ChildExit {
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** Why the program could not be started (e.g. "cannot run /x: no such file (ENOENT)"). */
  readonly error?: string;
}

/** A started (or failed-to-start) child process, leader of its own process group. */
export interface ChildHandle {
  /** Undefined when the program could not be started; onExit then reports the error. */
  readonly pid: number | undefined;
  readonly stdout: ChildOutput;
  readonly stderr: ChildOutput;
  /**
   * Called once when the child itself has ended (Node's 'exit', not 'close': a grandchild still holding
   * the pipes does not delay it), or could not start. Output may still be arriving on the pipes after it.
   */
  onExit(listener: (exit: ChildExit) => void): void;
  /** Sends `signal` to the child's whole process group. False when no process was left to receive it. */
  kill(signal: string): boolean;
}

/** Starts processes. The real one is nodeSpawner; tests use a fake. */
export interface Spawner {
  /** Never throws for a program that cannot start: that is reported through the handle's onExit. */
  spawn(request: SpawnRequest): ChildHandle;
}
