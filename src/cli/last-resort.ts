import type { SignalSource } from "./shell.js";

/**
 * While `run` or `trigger` has jobs going, an exception nobody caught (a bug in reload, in formatting, in
 * logging) must not end the process and leave its jobs running without a parent. This says so on stderr and
 * calls `stop` (a drain, as on SIGTERM; a second failure calls it again, which skips the grace); the command
 * then exits 1. Returns the function that removes the handler.
 */
export function stopOnInternalError(
  stderr: { write(text: string): unknown },
  stop: () => void,
  signals: SignalSource,
): () => void {
  let reported = false;
  const onError = (error: unknown): void => {
    // Said once only: when stderr itself is what fails (its reader is gone), each write would raise
    // another error here, for ever.
    if (!reported) {
      reported = true;
      try {
        const detail = error instanceof Error ? (error.stack ?? String(error)) : String(error);
        stderr.write(`tdefer: internal error; stopping every job, then exiting 1: ${detail}\n`);
      } catch {
        // stderr is gone too: stopping the jobs is what matters.
      }
    }
    try {
      stop();
    } catch (stopError) {
      // Nothing more can be done from here; leave the process to Node's own handling.
      remove();
      throw stopError;
    }
  };
  const remove = signals.onUncaught(onError);
  return remove;
}
