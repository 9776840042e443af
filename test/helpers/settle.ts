/**
 * Lets pending promise callbacks run. Twisted's Deferreds fire synchronously; our promises settle in later
 * microtasks, so a test resolves a promise, awaits settle(), and only then asserts or advances the clock.
 */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** The settlement of a promise, readable synchronously once settle() has run. */
export interface Outcome<T> {
  status: "pending" | "resolved" | "rejected";
  value?: T;
  error?: unknown;
}

/** Watches a promise (and handles its rejection, so Node never reports it as unhandled). */
export function track<T>(promise: Promise<T>): Outcome<T> {
  const outcome: Outcome<T> = { status: "pending" };
  promise.then(
    (value) => {
      outcome.status = "resolved";
      outcome.value = value;
    },
    (error: unknown) => {
      outcome.status = "rejected";
      outcome.error = error;
    },
  );
  return outcome;
}

/** A promise with its resolve and reject functions, for a test to settle when it chooses. */
export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
} {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
