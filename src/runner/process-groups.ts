import { readdirSync, readFileSync } from "node:fs";
import type { Clock, DelayedCall } from "../clock/clock.js";
import type { Spawner } from "./spawner.js";

/** How often a stop looks whether the groups it signalled are empty yet. */
const POLL_MS = 100;

interface Group {
  readonly killSignal: string;
  leaderExited: boolean;
}

/**
 * Every process group tdefer started, remembered until no process is left in it: a finished run's background
 * process (`sleep 100 &`) still lives in its run's group, and must not outlive tdefer. A stop (end()) sends each
 * group whose leader has exited its job's kill signal (the runs still going end their own groups), and SIGKILL to
 * every group still alive when the grace is over. A process that left its group (`setsid`) is not followed.
 */
export class ProcessGroups {
  private readonly groups = new Map<number, Group>();
  private ending: Promise<void> | undefined;

  constructor(private readonly clock: Clock) {}

  /** A spawner that registers the group of every child it starts, to be ended with `killSignal`. */
  tracking(inner: Spawner, killSignal: string): Spawner {
    return {
      spawn: (request) => {
        const child = inner.spawn(request);
        const pgid = child.pid;
        if (pgid !== undefined) {
          const group: Group = { killSignal, leaderExited: false };
          this.groups.set(pgid, group);
          child.onExit(() => {
            group.leaderExited = true;
            // During a stop, a run that ends leaves nothing behind either.
            if (this.ending) signalGroup(pgid, killSignal);
          });
        }
        return child;
      },
    };
  }

  /** Groups of finished runs that still have a live process (after forgetting the empty ones). */
  leftovers(): number {
    this.prune();
    let count = 0;
    for (const group of this.groups.values()) if (group.leaderExited) count++;
    return count;
  }

  /**
   * Ends every group: the kill signal now to those whose leader has exited, SIGKILL to all still alive after
   * `graceMs`. Resolves when every group is empty, or right after that SIGKILL. Calling it again returns the same.
   */
  end(graceMs: number): Promise<void> {
    this.ending ??= new Promise((resolve) => {
      this.prune();
      for (const [pgid, group] of this.groups) if (group.leaderExited) signalGroup(pgid, group.killSignal);
      let poll: DelayedCall | undefined;
      const deadline = this.clock.callLater(graceMs, () => {
        if (poll?.active()) poll.cancel();
        this.killAll();
        resolve();
      });
      const check = (): void => {
        this.prune();
        if (this.groups.size === 0) {
          if (deadline.active()) deadline.cancel();
          resolve();
        } else poll = this.clock.callLater(POLL_MS, check);
      };
      check();
    });
    return this.ending;
  }

  /** SIGKILL to every group now (a second stop signal, or the end of the grace). */
  killAll(): void {
    for (const pgid of this.groups.keys()) signalGroup(pgid, "SIGKILL");
    this.prune();
  }

  private prune(): void {
    for (const pgid of this.groups.keys()) if (!groupIsAlive(pgid)) this.groups.delete(pgid);
  }
}

function signalGroup(pgid: number, signal: string): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: nobody left in the group
  }
}

/**
 * True while the group has a process that is not a zombie. A zombie cannot be signalled away and, where PID 1
 * does not reap orphans (some containers), stays in its group: counting it would hold every stop for the grace.
 */
function groupIsAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  let names: string[];
  try {
    names = readdirSync("/proc");
  } catch {
    return true; // no /proc: trust kill(0)
  }
  for (const name of names) {
    if (name.charCodeAt(0) > 57) continue; // not a pid
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // The command name may hold spaces and parentheses: the fields after the last ')' are fixed.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid && fields[0] !== "Z") return true;
    } catch {
      // gone meanwhile
    }
  }
  return false;
}
