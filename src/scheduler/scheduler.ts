import type { DelayedCall, WallClock } from "../clock/clock.js";
import type { LogEvent, LogEventInput } from "../log/events.js";
import { formatDuration } from "../schedule/duration.js";
import type { JobSpec, Schedule } from "../schedule/types.js";
import { type ArmedTrigger, armTrigger, type Fire } from "./triggers.js";

/** A run in progress, as the scheduler sees it. */
export interface ActiveRun {
  /** Settles when the run (with its retries) is over; `killedHard` when it needed SIGKILL. */
  readonly done: Promise<{ readonly killedHard: boolean }>;
  /** End it as on timeout: kill_signal to its process group, SIGKILL after its kill_grace. */
  stop(reason: string): void;
  /** SIGKILL its process group now. */
  kill(reason: string): void;
}

/** Starts one run of a job (the runner in production, a fake in tests). */
export type StartRun = (
  job: JobSpec,
  context: { readonly runId: string; readonly scheduledMs: number },
) => ActiveRun;

export interface SchedulerDeps {
  readonly clock: WallClock;
  readonly emit: (event: LogEvent) => void;
  readonly startRun: StartRun;
  /** In [0, 1), for jitter. */
  readonly random?: () => number;
  readonly newRunId?: () => string;
  /** Where `every` grids start: "epoch" when replicas share a ledger, so that they agree on fire keys. */
  readonly everyAnchor?: "start" | "epoch";
}

/** A run going on now, as the status page and API show it. */
export interface RunningView {
  readonly runId: string;
  readonly scheduledMs: number;
  /** When the scheduler launched it (wall clock). */
  readonly launchedMs: number;
}

/** One job as the scheduler holds it: a read-only view for the HTTP API, the page and the metrics. */
export interface JobView {
  readonly spec: JobSpec;
  /** Its trigger is paused (`POST /api/v1/jobs/NAME/pause`): no fires until resumed. */
  readonly paused: boolean;
  readonly nextMs: number | undefined;
  readonly running: readonly RunningView[];
}

/** What a manual run request came to, under the job's overlap rule. */
export type ManualRunOutcome =
  | { readonly outcome: "started"; readonly runId: string }
  | { readonly outcome: "queued" }
  | { readonly outcome: "refused"; readonly reason: string };

export interface ReloadSummary {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
}

interface JobState {
  spec: JobSpec;
  trigger: ArmedTrigger | undefined;
  readonly runs: Map<ActiveRun, RunningView>;
  /** A fire waiting for this job's run to end (overlap: queue), or for a replaced run to be gone. */
  waiting: Fire | undefined;
  /** Fires of this job waiting for a max_parallel slot. */
  slotWaits: number;
  retired: boolean;
  /** Its trigger has fired at least once (whether or not a run started; a manual run does not count). */
  fired: boolean;
}

let runCounter = 0;
/** A fresh run id: the same kind for scheduled runs and for `tdefer trigger`. */
export const defaultRunId = (): string =>
  `${Date.now().toString(36).slice(-4)}${(runCounter++).toString(36).padStart(3, "0")}`;

/**
 * Arms every job's trigger on the clock, starts runs under each job's overlap rule and the file's
 * max_parallel, re-arms on reload (unchanged jobs keep their timers), and drains on stop.
 */
export class Scheduler {
  private readonly jobs = new Map<string, JobState>();
  private readonly slotQueue: { state: JobState; fire: Fire; queuedAtMs: number }[] = [];
  private maxParallel: number | undefined;
  private running = 0;
  private stopping = false;
  private readonly random: () => number;
  private readonly newRunId: () => string;
  private readonly idleWaiters: (() => void)[] = [];
  /** Jobs whose trigger is paused; kept by name, so a reload that changes a job keeps it paused. */
  private readonly pausedJobs = new Set<string>();
  private lastLaunchedRunId: string | undefined;
  private readonly stopJumpListening: () => void;

  constructor(private readonly deps: SchedulerDeps) {
    this.random = deps.random ?? Math.random;
    this.newRunId = deps.newRunId ?? defaultRunId;
    this.stopJumpListening = deps.clock.onClockJump((jump) => {
      this.emit({ event: "clock_jump", level: "warn", deltaMs: jump.deltaMs, direction: jump.direction });
      for (const state of this.jobs.values()) {
        const passed = state.trigger?.replan() ?? 0;
        if (passed > 0) {
          this.emit({
            event: "skipped",
            level: "warn",
            job: state.spec.name,
            reason: `the clock jumped past ${passed} fire(s)`,
          });
        }
      }
    });
  }

  /** Arms every enabled job of the schedule. */
  start(schedule: Schedule): void {
    this.maxParallel = schedule.maxParallel;
    for (const spec of schedule.jobs) this.add(spec);
    this.checkIdle();
  }

  /**
   * Applies a new schedule. Unchanged jobs keep their timers and grids. A changed job keeps its running runs
   * (its overlap rule still sees them) and waiting fires; its trigger is re-armed only when the trigger,
   * jitter or `enabled` changed, and an `after` job that already fired stays fired.
   */
  reload(schedule: Schedule): ReloadSummary {
    this.maxParallel = schedule.maxParallel;
    const next = new Map(schedule.jobs.map((spec) => [spec.name, spec]));
    const added: string[] = [];
    const removed: string[] = [];
    const changed: string[] = [];
    for (const [name, state] of this.jobs) {
      const spec = next.get(name);
      if (!spec) {
        removed.push(name);
        this.retire(state);
      } else if (JSON.stringify(spec) !== JSON.stringify(state.spec)) {
        changed.push(name);
        this.change(state, spec);
      }
    }
    for (const [name, spec] of next) {
      if (!this.jobs.has(name)) {
        added.push(name);
        this.add(spec);
      }
    }
    this.pumpSlots();
    this.checkIdle();
    return { added, removed, changed };
  }

  /**
   * Fires one job now, outside its schedule, under its overlap rule and max_parallel (a paused or disabled
   * job too: pausing stops its trigger, not the operator). Undefined when there is no such job.
   */
  runNow(name: string): ManualRunOutcome | undefined {
    const state = this.jobs.get(name);
    if (!state) return undefined;
    if (this.stopping) return { outcome: "refused", reason: "tdefer is stopping" };
    const launchedBefore = this.lastLaunchedRunId;
    this.onFire(state, { scheduledMs: this.deps.clock.wallNow() });
    if (this.lastLaunchedRunId !== launchedBefore && this.lastLaunchedRunId !== undefined) {
      return { outcome: "started", runId: this.lastLaunchedRunId };
    }
    if (state.waiting || state.slotWaits > 0) return { outcome: "queued" };
    return { outcome: "refused", reason: `a run is already going (overlap: ${state.spec.overlap})` };
  }

  /** Stops a job's trigger until resume(); its running runs go on. False when there is no such job. */
  pause(name: string): boolean {
    const state = this.jobs.get(name);
    if (!state) return false;
    if (this.pausedJobs.has(name)) return true;
    this.pausedJobs.add(name);
    state.trigger?.cancel();
    state.trigger = undefined;
    this.emit({ event: "paused", level: "info", job: name });
    this.checkIdle();
    return true;
  }

  /** Re-arms a paused job's trigger from now on (fires missed while paused are not made up). */
  resume(name: string): boolean {
    const state = this.jobs.get(name);
    if (!state) return false;
    if (!this.pausedJobs.delete(name)) return true;
    this.emit({ event: "resumed", level: "info", job: name });
    if (!this.stopping && state.spec.enabled) this.arm(state);
    return true;
  }

  /** Marks jobs paused before start() (the pause state a ledger kept across restarts). */
  setPaused(names: Iterable<string>): void {
    for (const name of names) this.pausedJobs.add(name);
  }

  /** Every job of the running schedule, in file order. */
  jobViews(): JobView[] {
    return [...this.jobs.values()].map((state) => ({
      spec: state.spec,
      paused: this.pausedJobs.has(state.spec.name),
      nextMs: state.trigger?.nextMs(),
      running: [...state.runs.values()],
    }));
  }

  /** Number of runs going on now. */
  get runningCount(): number {
    return this.running;
  }

  /** The next planned wall-clock fire of a job. */
  nextFireMs(name: string): number | undefined {
    return this.jobs.get(name)?.trigger?.nextMs();
  }

  /** Resolves when no job has a fire left and no run is going or waiting. */
  whenIdle(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.checkIdle();
    });
  }

  /**
   * The drain: no more fires; waiting fires are dropped; every running run gets its kill_signal at once;
   * runs still alive after `graceMs` are SIGKILLed. Resolves with how many had to be killed that way.
   */
  async stop(graceMs: number, signal: string): Promise<{ killed: number }> {
    this.stopping = true;
    this.stopJumpListening();
    for (const state of this.jobs.values()) this.disarm(state);
    for (const { state } of this.slotQueue.splice(0)) {
      state.slotWaits--;
      this.emit({ event: "skipped", level: "info", job: state.spec.name, reason: "tdefer is stopping" });
    }
    const runs = this.allRuns();
    this.emit({ event: "stopping", level: "info", signal, running: runs.length, graceMs });
    for (const run of runs) run.stop("tdefer is stopping");
    let graceTimer: DelayedCall | undefined;
    const graceOver = new Promise<void>((resolve) => {
      graceTimer = this.deps.clock.callLater(graceMs, resolve);
    });
    const allDone = Promise.all(runs.map((run) => run.done));
    const finishedInTime = await Promise.race([allDone.then(() => true), graceOver.then(() => false)]);
    if (graceTimer?.active()) graceTimer.cancel();
    if (!finishedInTime) for (const run of runs) run.kill("the shutdown grace period is over");
    const results = await allDone;
    const killed = results.filter((result) => result.killedHard).length;
    this.emit({ event: "stopped", level: killed > 0 ? "warn" : "info", killed });
    return { killed };
  }

  /** Skips the rest of the grace: SIGKILL every run now (a second signal). */
  killAll(): void {
    for (const run of this.allRuns()) run.kill("a second stop signal");
  }

  /** Every run going on, those of jobs a reload removed included. */
  private allRuns(): ActiveRun[] {
    return [...this.jobs.values(), ...this.retiredRuns].flatMap((state) => [...state.runs.keys()]);
  }

  private emit(event: LogEventInput): void {
    this.deps.emit({ timeMs: this.deps.clock.wallNow(), ...event } as LogEvent);
  }

  private add(spec: JobSpec): void {
    const state: JobState = {
      spec,
      trigger: undefined,
      runs: new Map(),
      waiting: undefined,
      slotWaits: 0,
      retired: false,
      fired: false,
    };
    this.jobs.set(spec.name, state);
    if (!spec.enabled) return;
    if (this.pausedJobs.has(spec.name)) {
      this.emit({ event: "paused", level: "info", job: spec.name });
      return;
    }
    this.arm(state);
  }

  /** A reload changed this job's definition: new runs use the new one; the trigger moves only if it changed. */
  private change(state: JobState, spec: JobSpec): void {
    const previous = state.spec;
    state.spec = spec;
    const timing = (job: JobSpec) => JSON.stringify([job.trigger, job.jitterMs, job.enabled]);
    if (timing(previous) === timing(spec)) return;
    if (!spec.enabled) {
      this.disarm(state);
      return;
    }
    state.trigger?.cancel();
    state.trigger = undefined;
    // A one-shot that fired stays fired: a new delay would run it a second time.
    if (spec.trigger.kind === "after" && previous.trigger.kind === "after" && state.fired) return;
    // A paused job stays paused; resume() arms the new trigger.
    if (!this.pausedJobs.has(spec.name)) this.arm(state);
  }

  private arm(state: JobState): void {
    const spec = state.spec;
    // An `every` job with now: true fires inside armTrigger; hold that fire until "scheduled" is logged.
    const heldFires: Fire[] = [];
    let arming = true;
    state.trigger = armTrigger(spec, {
      clock: this.deps.clock,
      random: this.random,
      onFire: (fire) => {
        state.fired = true;
        if (arming) heldFires.push(fire);
        else this.onFire(state, fire);
      },
      onExhausted: () => this.checkIdle(),
      ...(this.deps.everyAnchor ? { everyAnchor: this.deps.everyAnchor } : {}),
    });
    arming = false;
    this.emit({
      event: "scheduled",
      level: "info",
      job: spec.name,
      trigger: describeTrigger(spec),
      nextMs: heldFires[0]?.scheduledMs ?? state.trigger.nextMs(),
    });
    for (const fire of heldFires) this.onFire(state, fire);
  }

  /** No more fires for this job; its running runs finish on their own. */
  private retire(state: JobState): void {
    this.disarm(state);
    state.retired = true;
    this.jobs.delete(state.spec.name);
    if (state.runs.size > 0) this.retiredRuns.add(state);
  }

  /** Jobs a reload removed whose runs are still going: a stop must still end them. */
  private readonly retiredRuns = new Set<JobState>();

  private disarm(state: JobState): void {
    state.trigger?.cancel();
    state.trigger = undefined;
    if (state.waiting) {
      this.emit({
        event: "skipped",
        level: "info",
        job: state.spec.name,
        reason: "the job was stopped or changed",
      });
      state.waiting = undefined;
    }
    for (let i = this.slotQueue.length - 1; i >= 0; i--) {
      if (this.slotQueue[i]!.state === state) {
        this.slotQueue.splice(i, 1);
        state.slotWaits--;
      }
    }
  }

  private onFire(state: JobState, fire: Fire): void {
    if (this.stopping || state.retired) return;
    const { spec } = state;
    if (fire.missed) this.emit({ event: "missed", level: "warn", job: spec.name, count: fire.missed });
    if (fire.dropped?.length) {
      this.emit({
        event: "skipped",
        level: "info",
        job: spec.name,
        reason: `daylight-saving time dropped ${fire.dropped.join(", ")}`,
      });
    }
    const busy = state.runs.size + state.slotWaits > 0;
    if (busy) {
      switch (spec.overlap) {
        case "skip":
          this.emit({
            event: "skipped",
            level: "warn",
            job: spec.name,
            reason: "the previous run is still going (overlap: skip)",
          });
          return;
        case "queue":
          if (state.waiting) {
            this.emit({
              event: "skipped",
              level: "warn",
              job: spec.name,
              reason: "a run is already queued (overlap: queue)",
            });
          } else {
            state.waiting = fire;
            this.emit({
              event: "queued",
              level: "info",
              job: spec.name,
              reason: "the previous run is still going (overlap: queue)",
            });
          }
          return;
        case "replace":
          state.waiting = fire;
          for (const run of state.runs.keys()) run.stop("replaced by a newer fire (overlap: replace)");
          return;
        case "allow":
          break;
      }
    }
    this.requestSlot(state, fire);
  }

  private requestSlot(state: JobState, fire: Fire): void {
    if (this.maxParallel !== undefined && this.running >= this.maxParallel) {
      state.slotWaits++;
      this.slotQueue.push({ state, fire, queuedAtMs: this.deps.clock.wallNow() });
      this.emit({
        event: "queued",
        level: "info",
        job: state.spec.name,
        reason: `max_parallel (${this.maxParallel}) runs are going`,
      });
      return;
    }
    this.launch(state, fire);
  }

  private launch(state: JobState, fire: Fire): void {
    this.running++;
    const runId = this.newRunId();
    this.lastLaunchedRunId = runId;
    const run = this.deps.startRun(state.spec, { runId, scheduledMs: fire.scheduledMs });
    state.runs.set(run, { runId, scheduledMs: fire.scheduledMs, launchedMs: this.deps.clock.wallNow() });
    const finished = (): void => {
      state.runs.delete(run);
      this.running--;
      if (state.retired && state.runs.size === 0) this.retiredRuns.delete(state);
      const waiting = state.waiting;
      if (waiting && state.runs.size === 0 && !this.stopping && !state.retired) {
        state.waiting = undefined;
        this.requestSlot(state, waiting);
      }
      this.pumpSlots();
      this.checkIdle();
    };
    run.done.then(finished, finished);
  }

  private pumpSlots(): void {
    while (this.slotQueue.length > 0 && (this.maxParallel === undefined || this.running < this.maxParallel)) {
      const { state, fire } = this.slotQueue.shift()!;
      state.slotWaits--;
      this.launch(state, fire);
    }
  }

  private checkIdle(): void {
    if (this.idleWaiters.length === 0) return;
    const armed = [...this.jobs.values()].some((state) => state.trigger?.nextMs() !== undefined);
    if (armed || this.running > 0 || this.slotQueue.length > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}

/** `every 30s`, `cron "0 3 * * *" (UTC)`, `after 10s`, `at 2026-12-01 09:00`. */
export function describeTrigger(spec: JobSpec): string {
  const trigger = spec.trigger;
  switch (trigger.kind) {
    case "every":
      return `every ${formatDuration(trigger.intervalMs)}${trigger.now ? " (now)" : ""}`;
    case "after":
      return `after ${formatDuration(trigger.delayMs)}`;
    case "at":
      return `at ${trigger.times.map((t) => t.text).join(", ")}`;
    case "cron":
      return `cron "${trigger.expression}" (${trigger.zone})`;
  }
}
