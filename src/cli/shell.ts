// What `run` and `trigger` take from the world, in one object: production passes the real ones
// (process-shell.ts), a test a VirtualClock, a fake spawner and signals it sends itself, so that the
// whole daemon runs in-process and in virtual time.
import type { Clock, WallClock } from "../clock/clock.js";
import type { Spawner } from "../runner/spawner.js";
import type { CliIO } from "./io.js";

/** The clock the whole command waits on; closed when the command ends. */
export interface ShellClock extends WallClock {
  close?(): void;
}

/**
 * Every process group the runs start, remembered until it is empty, so that a stop also ends what a finished
 * run left behind (runner/process-groups.ts is the real one).
 */
export interface ProcessGroupTracker {
  /** A spawner that registers the group of every child `inner` starts, to be ended with `killSignal`. */
  tracking(inner: Spawner, killSignal: string): Spawner;
  /** Groups of finished runs that still have a live process. */
  leftovers(): number;
  /** The kill signal now to the groups of finished runs, SIGKILL to all still alive after `graceMs`. */
  end(graceMs: number): Promise<void>;
  /** SIGKILL to every group now. */
  killAll(): void;
}

/** The process's signals and last-resort errors, as `run` and `trigger` listen to them. */
export interface SignalSource {
  /** Calls `stop(signal)` on each stop signal (SIGINT, SIGTERM…), and on SIGHUP too with `hangUpStops`. */
  onStop(stop: (signal: string) => void, options?: { readonly hangUpStops?: boolean }): () => void;
  /** Calls `reload()` on SIGHUP. Returns the function that stops the listening. */
  onReload(reload: () => void): () => void;
  /** Calls `listener` with each exception nobody caught. Returns the function that stops the listening. */
  onUncaught(listener: (error: unknown) => void): () => void;
}

/** The outside world of `run` and `trigger`. */
export interface ShellDeps {
  readonly io: CliIO;
  /** Makes the clock; `onError` is told of an exception thrown by a timed call. */
  readonly clock: (onError: (error: unknown) => void) => ShellClock;
  readonly spawner: Spawner;
  readonly processGroups: (clock: Clock) => ProcessGroupTracker;
  readonly signals: SignalSource;
  /** This process's id: the owner written on ledger claims, and systemd's watchdog check. */
  readonly pid: number;
  /**
   * One full garbage collection, now. After reading a schedule, `run` asks for it so that the reading's garbage
   * is given back: an idle daemon allocates too little for V8 ever to collect it by itself.
   */
  readonly collectGarbage: () => void;
}
