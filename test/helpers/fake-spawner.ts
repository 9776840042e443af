import type { ChildExit, ChildHandle, ChildOutput, Spawner, SpawnRequest } from "../../src/runner/spawner.js";

/** A ChildOutput driven by the test: push() delivers bytes at once, end() ends it. */
export class FakeOutput implements ChildOutput {
  paused = false;
  closed = false;
  private ended = false;
  private readonly dataListeners: ((chunk: Buffer) => void)[] = [];
  private readonly endListeners: (() => void)[] = [];
  /** Chunks pushed while paused, delivered on resume() as a real pipe would. */
  private readonly held: Buffer[] = [];

  onData(listener: (chunk: Buffer) => void): void {
    this.dataListeners.push(listener);
  }

  onEnd(listener: () => void): void {
    if (this.ended) listener();
    else this.endListeners.push(listener);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    for (const chunk of this.held.splice(0)) this.deliver(chunk);
  }

  close(): void {
    this.closed = true;
    this.end();
  }

  /** Writes text or bytes to the pipe. Ignored once ended, as a closed pipe would be. */
  push(data: string | Buffer): void {
    if (this.ended) return;
    const chunk = typeof data === "string" ? Buffer.from(data) : data;
    if (this.paused) this.held.push(chunk);
    else this.deliver(chunk);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const listener of this.endListeners.splice(0)) listener();
  }

  private deliver(chunk: Buffer): void {
    for (const listener of this.dataListeners) listener(chunk);
  }
}

/** A child driven by the test. exit() reports the end synchronously, so no settle() is needed for it. */
export class FakeChild implements ChildHandle {
  readonly stdout = new FakeOutput();
  readonly stderr = new FakeOutput();
  /** Every signal sent to the group, in order. */
  readonly signals: string[] = [];
  private exitInfo: ChildExit | undefined;
  private readonly exitListeners: ((exit: ChildExit) => void)[] = [];

  constructor(
    readonly request: SpawnRequest,
    readonly pid: number | undefined,
    /** What the child does on a signal; by default it ignores all but SIGKILL, which ends it. */
    private readonly onSignal: (child: FakeChild, signal: string) => void = (child, signal) => {
      if (signal === "SIGKILL") child.exit(null, "SIGKILL");
    },
  ) {}

  get exited(): boolean {
    return this.exitInfo !== undefined;
  }

  onExit(listener: (exit: ChildExit) => void): void {
    if (this.exitInfo) listener(this.exitInfo);
    else this.exitListeners.push(listener);
  }

  kill(signal: string): boolean {
    if (this.pid === undefined) return false;
    this.signals.push(signal);
    if (!this.exitInfo) this.onSignal(this, signal);
    return true;
  }

  /** Ends the child: closes both outputs (unless `keepPipes`, as when a grandchild holds them), then exits. */
  exit(exitCode: number | null, signal: string | null = null, options: { keepPipes?: boolean } = {}): void {
    if (this.exitInfo) return;
    if (!options.keepPipes) {
      this.stdout.end();
      this.stderr.end();
    }
    this.exitInfo = { exitCode, signal };
    for (const listener of this.exitListeners.splice(0)) listener(this.exitInfo);
  }

  /** Reports that the program could not start (pid must be undefined). */
  fail(error: string): void {
    this.stdout.end();
    this.stderr.end();
    this.exitInfo = { exitCode: null, signal: null, error };
    for (const listener of this.exitListeners.splice(0)) listener(this.exitInfo);
  }
}

export interface FakeSpawnerOptions {
  /** Make the nth spawn (from 0) fail to start with this error. */
  failures?: Record<number, string>;
  onSignal?: (child: FakeChild, signal: string) => void;
}

/** A Spawner that starts nothing: each spawn() gives a FakeChild, kept in `children`. */
export class FakeSpawner implements Spawner {
  readonly children: FakeChild[] = [];
  private nextPid = 1000;

  constructor(private readonly options: FakeSpawnerOptions = {}) {}

  spawn(request: SpawnRequest): FakeChild {
    const failure = this.options.failures?.[this.children.length];
    const child = new FakeChild(
      request,
      failure === undefined ? this.nextPid++ : undefined,
      this.options.onSignal,
    );
    this.children.push(child);
    // Like Node, a failure to start is reported on a later turn, never during spawn().
    if (failure !== undefined) queueMicrotask(() => child.fail(failure));
    return child;
  }

  /** The most recent child. */
  get last(): FakeChild {
    const child = this.children.at(-1);
    if (!child) throw new Error("nothing was spawned");
    return child;
  }
}
