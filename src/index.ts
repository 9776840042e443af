// The public library API: `import { VirtualClock, LoopingCall, Reactor } from "tdefer"`.
export type { Clock, ClockJump, DelayedCall, WallClock } from "./clock/clock.js";
export { AlreadyCalled, AlreadyCancelled, StateError } from "./clock/errors.js";
export { LoopingCall, type StartOptions } from "./clock/looping-call.js";
export { Reactor, type ReactorOptions, systemTime, type TimeSource } from "./clock/reactor.js";
export { VirtualClock } from "./clock/virtual-clock.js";
