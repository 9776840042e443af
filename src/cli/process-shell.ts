// The real outside world of `run` and `trigger`: the Reactor, child processes, process groups and this
// process's signals. Loaded only by those two commands.
import { Reactor } from "../clock/reactor.js";
import { nodeSpawner } from "../runner/node-spawner.js";
import { ProcessGroups } from "../runner/process-groups.js";
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
  };
}
