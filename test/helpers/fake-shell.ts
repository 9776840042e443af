import type { ProcessGroupTracker, ShellDeps, SignalSource } from "../../src/cli/shell.js";
import { VirtualClock } from "../../src/clock/virtual-clock.js";
import { fakeIO } from "./fake-io.js";
import { FakeSpawner, type FakeSpawnerOptions } from "./fake-spawner.js";

/** Signals the test sends itself: send("SIGTERM") calls what `run` or `trigger` listens with. */
export class FakeSignals implements SignalSource {
  private readonly stops = new Set<(signal: string) => void>();
  private readonly hangUpStops = new Set<(signal: string) => void>();
  private readonly reloads = new Set<() => void>();
  private readonly uncaught = new Set<(error: unknown) => void>();

  onStop(stop: (signal: string) => void, options: { readonly hangUpStops?: boolean } = {}): () => void {
    this.stops.add(stop);
    if (options.hangUpStops) this.hangUpStops.add(stop);
    return () => {
      this.stops.delete(stop);
      this.hangUpStops.delete(stop);
    };
  }

  onReload(reload: () => void): () => void {
    this.reloads.add(reload);
    return () => this.reloads.delete(reload);
  }

  onUncaught(listener: (error: unknown) => void): () => void {
    this.uncaught.add(listener);
    return () => this.uncaught.delete(listener);
  }

  /** Delivers a signal as the process would: SIGHUP reloads (or stops `trigger`), the others stop. */
  send(signal: string): void {
    if (signal === "SIGHUP") {
      for (const reload of [...this.reloads]) reload();
      for (const stop of [...this.hangUpStops]) stop(signal);
    } else for (const stop of [...this.stops]) stop(signal);
  }

  /** Reports an exception nobody caught. */
  throwUncaught(error: unknown): void {
    for (const listener of [...this.uncaught]) listener(error);
  }

  /** Whether anything still listens (a command that ended must have removed its listeners). */
  get listening(): boolean {
    return this.stops.size + this.reloads.size + this.uncaught.size > 0;
  }
}

/** Process groups that are never left behind: the fake children have no real group to signal. */
const noLeftoverGroups: ProcessGroupTracker = {
  tracking: (inner) => inner,
  leftovers: () => 0,
  end: async () => {},
  killAll: () => {},
};

/** `run` and `trigger` wired to a VirtualClock, a FakeSpawner, FakeSignals and a fake stdout/stderr. */
export function fakeShell(options: { startMs?: number; cwd?: string; spawner?: FakeSpawnerOptions } = {}) {
  const clock = new VirtualClock(options.startMs ?? Date.UTC(2026, 10, 27, 12, 0, 0));
  const spawner = new FakeSpawner(options.spawner);
  const signals = new FakeSignals();
  /** When (the clock's now()) `run` asked for a garbage collection. */
  const collections: number[] = [];
  const io = fakeIO({
    nowMs: clock.wallNow(),
    env: { NO_COLOR: "1", PATH: process.env.PATH ?? "/usr/bin:/bin" },
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
  });
  const deps: ShellDeps = {
    io: { ...io.io, nowMs: () => clock.wallNow() },
    clock: () => clock,
    spawner,
    processGroups: () => noLeftoverGroups,
    signals,
    pid: 4242,
    collectGarbage: () => collections.push(clock.now()),
  };
  return { deps, clock, spawner, signals, collections, stdout: io.stdout, stderr: io.stderr };
}
