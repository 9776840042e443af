// The real outside world of `run` and `trigger`: the Reactor, child processes, process groups and this
// process's signals. Loaded only by those two commands.
import { Reactor } from "../clock/reactor.js";
import { nodeSpawner } from "../runner/node-spawner.js";
import { ProcessGroups } from "../runner/process-groups.js";
import { v8Collector } from "../v8-gc.js";
import type { CliIO } from "./io.js";
import type { ShellDeps, SignalSource } from "./shell.js";
import { STOP_SIGNALS } from "./stop-signals.js";

/** This process's signals: stop signals, SIGHUP, and exceptions nobody caught. */
export const processSignals: SignalSource = {
  onStop(stop, options = {}) {
    const signals: readonly NodeJS.Signals[] = options.hangUpStops
      ? [...STOP_SIGNALS, "SIGHUP"]
      : STOP_SIGNALS;
    for (const signal of signals) process.on(signal, stop);
    return () => {
      for (const signal of signals) process.off(signal, stop);
    };
  },
  onReload(reload) {
    process.on("SIGHUP", reload);
    return () => process.off("SIGHUP", reload);
  },
  onUncaught(listener) {
    process.on("uncaughtException", listener);
    process.on("unhandledRejection", listener);
    return () => {
      process.off("uncaughtException", listener);
      process.off("unhandledRejection", listener);
    };
  },
};

/** `run` and `trigger` as the binary runs them. */
export function processShell(io: CliIO): ShellDeps {
  return {
    io,
    clock: (onError) => new Reactor({ onError }),
    spawner: nodeSpawner,
    processGroups: (clock) => new ProcessGroups(clock),
    signals: processSignals,
    pid: process.pid,
    collectGarbage: fullGarbageCollection,
  };
}

/** A full collection that returns what it frees; the collector is asked for each time, so no context stays. */
function fullGarbageCollection(): void {
  const gc = v8Collector();
  if (!gc) return;
  // V8 12 and later (Node 22, 24): the last-resort collection also shrinks the young generation and returns the
  // freed pages at once, where a plain one keeps them pooled. V8 11 (Node 20) has no such option.
  if (V8_MAJOR >= 12) gc({ type: "major", execution: "sync", flavor: "last-resort" });
  else gc();
}

const V8_MAJOR = Number(process.versions.v8.split(".")[0]);
