import type { DelayedCall, WallClock } from "../clock/clock.js";
import { LoopingCall } from "../clock/looping-call.js";
import type { Claim, RunTrigger } from "../ledger/ledger.js";
import type { CronFire, CronSchedule } from "../schedule/cron.js";
import type { JobSpec } from "../schedule/types.js";
import { LATEST_INSTANT_MS } from "../schedule/zone.js";

/** One fire of a job's trigger; `dst` and `dropped` are a cron fire's DST notes (dropped: never empty). */
export interface Fire extends Pick<CronFire, "dst" | "dropped"> {
  /** The planned wall-clock instant of this fire (before jitter), ms since the epoch. */
  readonly scheduledMs: number;
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

/** What a trigger is armed with, and tells its fires to (called as methods: a job's state can be its own). */
export interface ArmOptions {
  readonly clock: WallClock;
  /** In [0, 1): jitter draws. */
  readonly random: () => number;
  onFire(fire: Fire): void;
  /** Called once when the trigger has no fire left (after/at). */
  onExhausted(): void;
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
      ? new EpochEveryTrigger(trigger.intervalMs, trigger.now, job.jitterMs, options)
      : new EveryTrigger(trigger.intervalMs, trigger.now, job.jitterMs, options, false);
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

/**
 * An `every` job's trigger: a LoopingCall on the grid start + k·interval, in elapsed time. A class rather than
 * closures, so that 100,000 jobs stay small. With `keyOnGrid` each fire's key is rounded to the wall grid
 * (epoch anchoring).
 */
class EveryTrigger implements ArmedTrigger {
  private readonly loop: LoopingCall;
  // At most one jittered fire waits: grid points that come meanwhile are folded into it as missed, so a
  // jitter longer than the interval cannot pile up fires (and memory) without bound.
  private waiting: DelayedCall | undefined;
  private ticksWhileWaiting = 0;
  private waitingFire: Fire | undefined;
  /** Elapsed time of the previous tick: ticks count the grid points crossed since. */
  private lastTickMs: number;
  private lastGridMs = 0;
  private lastScheduledMs: number | undefined;

  constructor(
    private readonly intervalMs: number,
    now: boolean,
    private readonly jitterMs: number,
    private readonly options: ArmOptions,
    private readonly keyOnGrid: boolean,
  ) {
    // A start that runs at once counts that call as one grid point.
    this.lastTickMs = options.clock.now() - (now ? intervalMs : 0);
    this.loop = LoopingCall.calling(options.clock, EveryTrigger.onTick, this);
    // A failing onFire is a bug: run() surfaces it instead of silently ending the loop.
    this.loop.run(intervalMs, { now });
  }

  private static onTick(trigger: EveryTrigger): void {
    trigger.tick();
  }

  private static onJitterOver(trigger: EveryTrigger): void {
    const fire = trigger.waitingFire!;
    const missed = (fire.missed ?? 0) + trigger.ticksWhileWaiting;
    trigger.waiting = trigger.waitingFire = undefined;
    trigger.ticksWhileWaiting = 0;
    trigger.options.onFire(missed > 0 ? { scheduledMs: fire.scheduledMs, missed } : fire);
  }

  private tick(): void {
    const { clock } = this.options;
    const { loop, intervalMs } = this;
    const nowMs = clock.now();
    const start = loop.startTimeMs;
    const count =
      Math.trunc((nowMs - start) / intervalMs) - Math.trunc((this.lastTickMs - start) / intervalMs);
    if (count <= 0) return;
    this.lastTickMs = nowMs;
    if (this.waiting) {
      this.ticksWhileWaiting += count;
      return;
    }
    // The grid point this tick belongs to, on the wall clock.
    const gridMs = start + Math.floor((nowMs - start) / intervalMs) * intervalMs;
    const wallMs = Math.round(clock.wallNow() - (nowMs - gridMs));
    // Scheduled times never repeat: after a backward wall-clock step they go on in elapsed time from the
    // last one, until the wall clock is ahead of that again.
    let scheduledMs =
      this.lastScheduledMs === undefined
        ? wallMs
        : Math.max(wallMs, Math.round(this.lastScheduledMs + (gridMs - this.lastGridMs)));
    this.lastGridMs = gridMs;
    this.lastScheduledMs = scheduledMs;
    if (scheduledMs > LATEST_INSTANT_MS) {
      // Nothing is planned past the last instant the log can write: the grid ends there.
      loop.stop();
      this.options.onExhausted();
      return;
    }
    if (this.keyOnGrid) scheduledMs = Math.round(scheduledMs / intervalMs) * intervalMs;
    const fire: Fire = count > 1 ? { scheduledMs, missed: count - 1 } : { scheduledMs };
    if (this.jitterMs <= 0) {
      this.options.onFire(fire);
      return;
    }
    this.waitingFire = fire;
    this.waiting = clock.callLater(drawJitter(this.jitterMs, this.options), EveryTrigger.onJitterOver, this);
  }

  nextMs(): number | undefined {
    const { clock } = this.options;
    const { loop, intervalMs } = this;
    if (!loop.running) return undefined;
    const k = Math.floor((clock.now() - loop.startTimeMs) / intervalMs) + 1;
    const nextMs = clock.wallNow() + (loop.startTimeMs + k * intervalMs - clock.now());
    return nextMs <= LATEST_INSTANT_MS ? nextMs : undefined;
  }

  replan(): number {
    return 0; // every lives in elapsed time: its grid keeps its spacing across wall-clock jumps
  }

  cancel(): void {
    if (this.loop.running) this.loop.stop();
    this.waiting?.cancel();
    this.waiting = this.waitingFire = undefined;
  }
}

/**
 * An `every` grid anchored at the epoch: fires at k·interval of the wall clock, keyed by that instant, so every
 * replica computes the same keys whenever it started. `now` fires the grid point just passed at start. Until the
 * first grid point a callLater waits; from there an {@link EveryTrigger} runs in elapsed time and rounds each
 * fire's key to the wall grid.
 */
class EpochEveryTrigger implements ArmedTrigger {
  private readonly firstMs: number;
  private nowCall: DelayedCall | undefined;
  private pending: DelayedCall | undefined;
  private inner: EveryTrigger | undefined;

  constructor(
    private readonly intervalMs: number,
    now: boolean,
    private readonly jitterMs: number,
    private readonly options: ArmOptions,
  ) {
    const { clock } = options;
    const startWallMs = clock.wallNow();
    this.firstMs = Math.floor(startWallMs / intervalMs) * intervalMs + intervalMs;
    if (now) {
      const jitter = drawJitter(jitterMs, options);
      if (jitter === 0) options.onFire({ scheduledMs: this.firstMs - intervalMs });
      else this.nowCall = clock.callLater(jitter, EpochEveryTrigger.firePassed, this);
    }
    this.pending = clock.callLater(this.firstMs - startWallMs, EpochEveryTrigger.startGrid, this);
  }

  private static firePassed(trigger: EpochEveryTrigger): void {
    trigger.options.onFire({ scheduledMs: trigger.firstMs - trigger.intervalMs });
  }

  private static startGrid(trigger: EpochEveryTrigger): void {
    trigger.pending = undefined;
    trigger.inner = new EveryTrigger(trigger.intervalMs, true, trigger.jitterMs, trigger.options, true);
  }

  nextMs(): number | undefined {
    return this.pending ? this.firstMs : this.inner?.nextMs();
  }

  replan(): number {
    return 0;
  }

  cancel(): void {
    if (this.nowCall?.active()) this.nowCall.cancel();
    this.pending?.cancel();
    this.pending = undefined;
    this.inner?.cancel();
  }
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
  let cancelled = false;
  const armNext = (): void => {
    planned = cron.nextAfter(Math.max(lastFiredMs, clock.wallNow()));
    if (planned && planned.timeMs > LATEST_INSTANT_MS) planned = undefined;
    const fire = planned;
    if (!fire) {
      if (!exhausted) {
        exhausted = true;
        queueMicrotask(() => options.onExhausted());
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
      // A trigger cancelled by its own fire plans no next one.
      if (!cancelled) armNext();
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
      cancelled = true;
    },
  };
}
