// V8's own collector for the two places that give memory back on purpose (after reading a schedule, during a
// flood of job output), reached one way.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** V8's gc(): a full collection by default; V8 12 and later (Node 22, 24) also take the options. */
export type V8Collect = (options?: {
  readonly type?: "major" | "minor";
  readonly execution?: "sync" | "async";
  readonly flavor?: "regular" | "last-resort";
}) => void;

/**
 * V8's gc() without the --expose-gc command-line flag: a context made while the flag is on has the function (Node
 * 20, 22 and 24 alike), and the flag is turned off again at once. The function keeps its context alive: a caller
 * that collects rarely asks each time. Undefined when the runtime refuses.
 */
export function v8Collector(): V8Collect | undefined {
  try {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as unknown;
    return typeof gc === "function" ? (gc as V8Collect) : undefined;
  } catch {
    return undefined;
  } finally {
    setFlagsFromString("--no-expose-gc");
  }
}
