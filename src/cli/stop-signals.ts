import { constants } from "node:os";

/**
 * The signals whose default action would end tdefer at once, leaving its jobs running without a parent: each is
 * taken as a stop instead (SIGINT and SIGTERM first among them). Left out: SIGHUP (reload, for `run`), SIGUSR1
 * (ignored: see bin/tdefer.js), SIGPIPE (Node ignores it), the signals of a fault in tdefer itself (SIGSEGV,
 * SIGBUS, SIGFPE, SIGILL, SIGSYS, SIGABRT, SIGTRAP: no JavaScript can run safely after a real one), SIGPROF (V8's
 * profiler), and SIGKILL and SIGSTOP, which no process can catch. SIGPOLL is SIGIO under another name.
 */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = (
  [
    "SIGINT",
    "SIGTERM",
    "SIGQUIT",
    "SIGUSR2",
    "SIGALRM",
    "SIGVTALRM",
    "SIGXCPU",
    "SIGXFSZ",
    "SIGIO",
    "SIGPWR",
    "SIGSTKFLT",
  ] as const
).filter((name) => name in constants.signals);
