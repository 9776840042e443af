// The clock's own errors: the clock depends on nothing else of ours.
/** A DelayedCall was cancelled or reset after it had already run (Twisted's AlreadyCalled). */
export class AlreadyCalled extends Error {
  override name = "AlreadyCalled";
  constructor() {
    super("the call has already run");
  }
}

/** A DelayedCall was cancelled, reset or delayed after it had been cancelled (Twisted's AlreadyCancelled). */
export class AlreadyCancelled extends Error {
  override name = "AlreadyCancelled";
  constructor() {
    super("the call has already been cancelled");
  }
}

/** An object was used in a state that does not allow it (starting a running loop, stopping a stopped one). */
export class StateError extends Error {
  override name = "StateError";
}
