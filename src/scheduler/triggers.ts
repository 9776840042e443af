import type { DelayedCall, WallClock } from "../clock/clock.js";
import { LoopingCall } from "../clock/looping-call.js";
import type { Claim, RunTrigger } from "../ledger/ledger.js";
import type { CronSchedule } from "../schedule/cron.js";
import type { JobSpec } from "../schedule/types.js";
import { LATEST_INSTANT_MS } from "../schedule/zone.js";

/** One fire of a job's trigger. */
export interface Fire {
  /** The planned wall-clock instant of this fire (before jitter), ms since the epoch. */
  readonly scheduledMs: number;
  /** Set when a DST rule moved this fire or made it the second pass of a repeated hour. */
  readonly dst?: "moved" | "second-pass";
  /** Wall times a DST rule dropped just before this fire. */
  readonly dropped?: readonly string[];
  /** Grid points of an `every` job passed over before this fire (the process was late). */
  readonly missed?: number;
  /** Why it fires; absent: its schedule. */
  readonly trigger?: RunTrigger;
  /** A run whose owner died, to be claimed again (`on_lost: rerun`). */
  readonly lost?: Claim;
}

/** A job's trigger armed on a clock. */
export interface ArmedTrigger {
  /** The wall-clock time of the next planned fire, if any is left. */
  nextMs(): number | undefined;
  /** Re-plan wall-clock fires (cron, at) after the wall clock jumped; returns fires jumped over. */
  replan(): number;
  /** No more fires. */
  cancel(): void;
}

export interface ArmOptions {
  readonly clock: WallClock;
  /** In [0, 1): jitter draws. */
  readonly random: () => number;
  readonly onFire: (fire: Fire) => void;
  /** Called once when the trigger has no fire left (after/at). */
  readonly onExhausted: () => void;
  /**
   * Where `every` grids start: at the start (one machine, as Twisted's LoopingCall), or at the epoch
   * (floor(now/interval)·interval), so that replicas sharing a ledger compute the same fire keys.
   */
  readonly everyAnchor?: "start" | "epoch";
}

/** Arms a job's trigger: a LoopingCall for every, one callLater for after/at, a re-armed callLater for cron. */
export function armTrigger(job: JobSpec, options: ArmOptions): ArmedTrigger {
  const trigger = job.trigger;
  if (trigger.kind === "every") {
    return options.everyAnchor === "epoch"
      ? armEpochEvery(trigger.intervalMs, trigger.now, job.jitterMs, options)
      : armEvery(trigger.intervalMs, trigger.now, job.jitterMs, options);
  }
  if (trigger.kind === "after") {
    return armInstants([options.clock.wallNow() + trigger.delayMs], job.jitterMs, options, false);
  }
  if (trigger.kind === "at") {
    const nowMs = options.clock.wallNow();
    const future = trigger.times.map((t) => t.timeMs).filter((t) => t > nowMs);
    return armInstants(future, job.jitterMs, options, true);
  }
  return armCron(trigger.recurrence, job.jitterMs, options);
}

/** A random delay in [0, jitterMs), whole ms. */
function drawJitter(jitterMs: number, options: ArmOptions): number {
  return jitterMs > 0 ? Math.floor(options.random() * jitterMs) : 0;
}

function armEvery(intervalMs: number, now: boolean, jitterMs: number, options: ArmOptions): ArmedTrigger {
  const { clock } = options;
  // At most one jittered fire waits: grid points that come meanwhile are folded into it as missed, so a
  // jitter longer than the interval cannot pile up fires (and memory) without bound.
  let waiting: DelayedCall | undefined;
  let ticksWhileWaiting = 0;
  let last: { gridMs: number; scheduledMs: number } | undefined;
  const loop = LoopingCall.withCount(clock, (count) => {
    if (waiting) {
      ticksWhileWaiting += count;
      return;
    }
    // The grid point this tick belongs to, on the wall clock.
    const gridMs = loop.startTimeMs + Math.floor((clock.now() - loop.startTimeMs) / intervalMs) * intervalMs;
    const wallMs = Math.round(clock.wallNow() - (clock.now() - gridMs));
    // Scheduled times never repeat: after a backward wall-clock step they go on in elapsed time from the
    // last one, until the wall clock is ahead of that again.
    const scheduledMs = last
      ? Math.max(wallMs, Math.round(last.scheduledMs + (gridMs - last.gridMs)))
      : wallMs;
    last = { gridMs, scheduledMs };
    if (scheduledMs > LATEST_INSTANT_MS) {
      // Nothing is planned past the last instant the log can write: the grid ends there.
      loop.stop();
      options.onExhausted();
      return;
    }
    const fire = (missed: number): Fire => (missed > 0 ? { scheduledMs, missed } : { scheduledMs });
    if (jitterMs <= 0) {
      options.onFire(fire(count - 1));
      return;
    }
    waiting = clock.callLater(drawJitter(jitterMs, options), () => {
      waiting = undefined;
      const missed = count - 1 + ticksWhileWaiting;
      ticksWhileWaiting = 0;
      options.onFire(fire(missed));
    });
  });
  // A failing onFire is a bug: surface it instead of silently ending the loop.
  loop.start(intervalMs, { now }).catch((error: unknown) => {
    queueMicrotask(() => {
      throw error;
    });
  });
  return {
    nextMs: () => {
      if (!loop.running) return undefined;
      const k = Math.floor((clock.now() - loop.startTimeMs) / intervalMs) + 1;
      const nextMs = clock.wallNow() + (loop.startTimeMs + k * intervalMs - clock.now());
      return nextMs <= LATEST_INSTANT_MS ? nextMs : undefined;
    },
    replan: () => 0, // every lives in elapsed time: its grid keeps its spacing across wall-clock jumps
    cancel: () => {
      if (loop.running) loop.stop();
      waiting?.cancel();
      waiting = undefined;
    },
  };
}

/**
 * An `every` grid anchored at the epoch: fires at k·interval of the wall clock, keyed by that instant, so every
 * replica computes the same keys whenever it started. `now` fires the grid point just passed at start. The
 * loop runs in elapsed time like the start-anchored one; each fire's key is rounded to the wall grid.
 */
function armEpochEvery(
  intervalMs: number,
  now: boolean,
  jitterMs: number,
  options: ArmOptions,
): ArmedTrigger {
  const { clock } = options;
  const onGrid = (wallMs: number) => Math.round(wallMs / intervalMs) * intervalMs;
  const startWallMs = clock.wallNow();
  const firstMs = Math.floor(startWallMs / intervalMs) * intervalMs + intervalMs;
  let inner: ArmedTrigger | undefined;
  const anchored: ArmOptions = {
    ...options,
    onFire: (fire) => options.onFire({ ...fire, scheduledMs: onGrid(fire.scheduledMs) }),
  };
  let nowCall: DelayedCall | undefined;
  if (now) {
    const passedMs = firstMs - intervalMs;
    const jitter = drawJitter(jitterMs, options);
    if (jitter === 0) options.onFire({ scheduledMs: passedMs });
    else nowCall = clock.callLater(jitter, () => options.onFire({ scheduledMs: passedMs }));
  }
  let pending: DelayedCall | undefined = clock.callLater(firstMs - startWallMs, () => {
    pending = undefined;
    inner = armEvery(intervalMs, true, jitterMs, anchored);
  });
  return {
    nextMs: () => (pending ? firstMs : inner?.nextMs()),
    replan: () => 0,
    cancel: () => {
      if (nowCall?.active()) nowCall.cancel();
      pending?.cancel();
      pending = undefined;
      inner?.cancel();
    },
  };
}

/** Fixed wall-clock instants (at, after): one pending callLater for the earliest not yet fired. */
function armInstants(
  instantsMs: number[],
  jitterMs: number,
  options: ArmOptions,
  wallClock: boolean,
): ArmedTrigger {
  const { clock } = options;
  const remaining = instantsMs.filter((t) => t <= LATEST_INSTANT_MS).sort((a, b) => a - b);
  let pending: DelayedCall | undefined;
  let exhausted = false;
  const armNext = (): void => {
    const next = remaining[0];
    if (next === undefined) {
      if (!exhausted) {
        exhausted = true;
        options.onExhausted();
      }
      return;
    }
    const jitter = drawJitter(jitterMs, options);
    pending = clock.callLater(Math.max(0, next - clock.wallNow()) + jitter, () => {
      pending = undefined;
      remaining.shift();
      options.onFire({ scheduledMs: next });
      armNext();
    });
  };
  // Defer the first arming decision so that onExhausted is never called during armTrigger itself.
  if (remaining.length === 0) queueMicrotask(armNext);
  else armNext();
  return {
    nextMs: () => remaining[0],
    replan: () => {
      if (!wallClock || !pending) return 0;
      pending.cancel();
      pending = undefined;
      // Instants the jump carried us past are not run in a burst: they are reported and dropped.
      const nowMs = clock.wallNow();
      let passed = 0;
      while (remaining.length > 0 && remaining[0]! < nowMs) {
        remaining.shift();
        passed++;
      }
      armNext();
      return passed;
    },
    cancel: () => {
      pending?.cancel();
      pending = undefined;
      remaining.length = 0;
      exhausted = true;
    },
  };
}

/** replan() counts the cron fires a forward jump passed over up to this many. */
const MAX_COUNTED_JUMPED_FIRES = 1000;

function armCron(cron: CronSchedule, jitterMs: number, options: ArmOptions): ArmedTrigger {
  const { clock } = options;
  let pending: DelayedCall | undefined;
  let planned: ReturnType<CronSchedule["nextAfter"]>;
  // Never plan a fire at or before the last one: a backward clock step must not repeat a run.
  let lastFiredMs = Number.NEGATIVE_INFINITY;
  let exhausted = false;
  const armNext = (): void => {
    planned = cron.nextAfter(Math.max(lastFiredMs, clock.wallNow()));
    if (planned && planned.timeMs > LATEST_INSTANT_MS) planned = undefined;
    const fire = planned;
    if (!fire) {
      if (!exhausted) {
        exhausted = true;
        queueMicrotask(options.onExhausted);
      }
      return;
    }
    const jitter = drawJitter(jitterMs, options);
    pending = clock.callLater(Math.max(0, fire.timeMs - clock.wallNow()) + jitter, () => {
      pending = undefined;
      lastFiredMs = fire.timeMs;
      options.onFire({
        scheduledMs: fire.timeMs,
        ...(fire.dst ? { dst: fire.dst } : {}),
        ...(fire.dropped?.length ? { dropped: fire.dropped } : {}),
      });
      armNext();
    });
  };
  armNext();
  return {
    nextMs: () => planned?.timeMs,
    replan: () => {
      if (!pending || !planned) return 0;
      pending.cancel();
      pending = undefined;
      // Every fire from the planned one up to the new wall time was jumped over (counted up to a limit, so
      // that a per-second job and a jump of days cost little).
      const nowMs = clock.wallNow();
      let passed = 0;
      for (
        let fire: ReturnType<CronSchedule["nextAfter"]> = planned;
        fire && fire.timeMs < nowMs && passed < MAX_COUNTED_JUMPED_FIRES;
        fire = cron.nextAfter(fire.timeMs)
      ) {
        passed++;
      }
      armNext();
      return passed;
    },
    cancel: () => {
      pending?.cancel();
      pending = undefined;
      planned = undefined;
      exhausted = true;
    },
  };
}
