import type { DelayedCall, WallClock } from "../clock/clock.js";
import {
  type Awaitable,
  type Claim,
  type FinishUpdate,
  type JobRecord,
  type Ledger,
  type RunTrigger,
  whenReady,
} from "../ledger/ledger.js";
import type { LogEvent, LogEventInput } from "../log/events.js";
import type { JobSpec, Schedule } from "../schedule/types.js";
import { firesBetween, MAX_CAUGHT_UP, MAX_RECORDED_MISSED } from "./catch-up.js";
import { describeTrigger } from "./describe-trigger.js";
import { keepLease } from "./lease.js";
import { type ArmedTrigger, type ArmOptions, armTrigger, type Fire } from "./triggers.js";
import { twinRanks, workKey } from "./work-key.js";

/** How a run ended, as the scheduler records it. */
export interface RunOutcome {
  /** It needed SIGKILL. */
  readonly killedHard: boolean;
  /** The ledger's record of the result (absent: recorded as succeeded, or killed when killedHard). */
  readonly record?: Omit<FinishUpdate, "finishedAtMs">;
}

/** A run in progress, as the scheduler sees it. */
export interface ActiveRun {
  /** Settles when the run (with its retries) is over. */
  readonly done: Promise<RunOutcome>;
  /** End it as on timeout: kill_signal to its process group, SIGKILL after its kill_grace. */
  stop(reason: string): void;
  /** SIGKILL its process group now. */
  kill(reason: string): void;
}

/** Starts one run of a job (the runner in production, a fake in tests). */
export type StartRun = (job: JobSpec, context: RunContext) => ActiveRun;

/** What a run is told of its fire. */
export interface RunContext {
  readonly runId: string;
  /** The nominal instant (for a catch-up or a rerun, the original one). */
  readonly scheduledMs: number;
  readonly trigger: RunTrigger;
  /** The ledger's fence of this run's claim (TDEFER_FENCE); absent without a ledger. */
  readonly fence?: number;
}

export interface SchedulerDeps {
  readonly clock: WallClock;
  readonly emit: (event: LogEvent) => void;
  readonly startRun: StartRun;
  /** In [0, 1), for jitter. */
  readonly random?: () => number;
  readonly newRunId?: () => string;
  /** Where `every` grids start: "epoch" when replicas share a ledger, so that they agree on fire keys. */
  readonly everyAnchor?: "start" | "epoch";
  /** Where fires are claimed and runs recorded; none: nothing is remembered. */
  readonly ledger?: Ledger;
  /** `host:pid` of this process, written as the owner of its claims. */
  readonly owner?: string;
  /** A claim's lease; renewed every third of it while the run goes. Default 30 s. */
  readonly leaseMs?: number;
  /**
   * Whether the process that claimed a record (`host:pid`) may still be alive. A record in flight whose owner is
   * gone is lost at once instead of when its lease ends. Default: always (only the lease counts).
   */
  readonly ownerAlive?: (owner: string) => boolean;
  /** The ledger failed at a fire: run it unclaimed (default; one machine) or skip it. */
  readonly ledgerDown?: "run" | "skip";
  /**
   * The ledger is shared by replicas (PostgreSQL): look for runs lost by any replica every lease, and end a run
   * whose lease the ledger has not confirmed for a whole lease (another replica may own the fire by then).
   */
  readonly sharedLedger?: boolean;
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

/** The default claim lease. */
export const DEFAULT_LEASE_MS = 30_000;
/** Old records are pruned this often (and at start); a `keep` shorter than 10 h prunes every tenth of it. */
const PRUNE_EVERY_MS = 3_600_000;

export interface ReloadSummary {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
}

/** What every job's state shares: the scheduler's clock and randomness, and where its trigger's fires go. */
interface TriggerHost {
  readonly clock: WallClock;
  readonly random: () => number;
  readonly everyAnchor: "start" | "epoch";
  onFire(state: JobState, fire: Fire): void;
  onExhausted(): void;
}

/** No runs, no caught-up fires: shared by every job until it has some (100,000 jobs must stay small). */
const NO_RUNS: ReadonlyMap<ActiveRun, RunningView> = new Map();
const NO_FIRES: readonly Fire[] = [];

/**
 * One job in the scheduler. It hears its own trigger (it is the trigger's ArmOptions): a class with methods
 * rather than closures per job, so that 100,000 jobs stay small.
 */
class JobState implements ArmOptions {
  trigger: ArmedTrigger | undefined = undefined;
  /** Runs going on; the shared empty map until the first one. */
  runs: Map<ActiveRun, RunningView> = NO_RUNS as Map<ActiveRun, RunningView>;
  /** A fire waiting for this job's run to end (overlap: queue), or for a replaced run to be gone. */
  waiting: Fire | undefined = undefined;
  /** Fires of this job waiting for a max_parallel slot. */
  slotWaits = 0;
  /** Fires being claimed in the ledger (a networked ledger answers later). */
  claiming = 0;
  /** Caught-up fires (catch_up runs: all) waiting to run one after another. */
  catchUps: Fire[] = NO_FIRES as Fire[];
  retired = false;
  /** Its trigger has fired at least once (whether or not a run started; a manual run does not count). */
  fired = false;
  /** While its trigger is being armed: fires that came at once (every, now: true), held until "scheduled" is logged. */
  heldFires: Fire[] | undefined = undefined;

  constructor(
    private readonly host: TriggerHost,
    public spec: JobSpec,
  ) {}

  get clock(): WallClock {
    return this.host.clock;
  }

  get random(): () => number {
    return this.host.random;
  }

  get everyAnchor(): "start" | "epoch" {
    return this.host.everyAnchor;
  }

  onFire(fire: Fire): void {
    this.fired = true;
    if (this.heldFires) this.heldFires.push(fire);
    else this.host.onFire(this, fire);
  }

  onExhausted(): void {
    this.host.onExhausted();
  }
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
  private readonly host: TriggerHost;
  /** With a shared ledger: jobs identical to an earlier one of the file, with their rank (see work-key.ts). */
  private twinRanks = new Map<string, number>();

  constructor(private readonly deps: SchedulerDeps) {
    this.random = deps.random ?? Math.random;
    this.newRunId = deps.newRunId ?? defaultRunId;
    this.host = {
      clock: deps.clock,
      random: this.random,
      everyAnchor: deps.everyAnchor ?? "start",
      onFire: (state, fire) => this.onFire(state, fire),
      onExhausted: () => this.checkIdle(),
    };
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

  /**
   * Arms every enabled job of the schedule. With a ledger, first: runs in flight when tdefer last stopped are
   * recorded lost (or run again, `on_lost: rerun`); fires missed while it was down are caught up (`catch_up`) or
   * recorded missed. Synchronous when there is no ledger or the ledger is.
   */
  async start(schedule: Schedule): Promise<void> {
    this.maxParallel = schedule.maxParallel;
    this.keepMs = schedule.ledgerKeepMs;
    if (this.deps.sharedLedger) this.twinRanks = twinRanks(schedule.jobs);
    const ledger = this.deps.ledger;
    let backlog: Map<string, Fire[]> = new Map();
    if (ledger) {
      try {
        backlog = await this.recover(ledger, schedule);
      } catch (error) {
        this.ledgerFailed("reading what happened while tdefer was down", error);
      }
    }
    for (const spec of schedule.jobs) this.add(spec);
    for (const [name, fires] of backlog) {
      const state = this.jobs.get(name);
      if (!state || fires.length === 0) continue;
      state.catchUps = fires.slice(1);
      this.onFire(state, fires[0]!);
    }
    if (ledger) {
      this.prune();
      this.sweepLater();
    }
    this.checkIdle();
  }

  /**
   * Applies a new schedule. Unchanged jobs keep their timers and grids. A changed job keeps its running runs
   * (its overlap rule still sees them) and waiting fires; its trigger is re-armed only when the trigger,
   * jitter or `enabled` changed, and an `after` job that already fired stays fired.
   */
  reload(schedule: Schedule): ReloadSummary {
    this.maxParallel = schedule.maxParallel;
    if (this.deps.sharedLedger) this.twinRanks = twinRanks(schedule.jobs);
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
    if (added.length > 0 && this.deps.ledger) {
      const ledger = this.deps.ledger;
      this.ledgerCall(
        () => ledger.noteJobs(added),
        () => {},
        "noting the jobs a reload added",
      );
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
    this.onFire(state, { scheduledMs: this.deps.clock.wallNow(), trigger: "manual" });
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

  /** Resolves when every ledger write begun so far is over (a networked ledger's writes end after the runs). */
  async ledgerSettled(): Promise<void> {
    while (this.pendingWrites.size > 0) await Promise.allSettled([...this.pendingWrites]);
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
    this.cancelLedgerTimers();
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
    const state = new JobState(this.host, spec);
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
    state.heldFires = heldFires;
    state.trigger = armTrigger(spec, state);
    state.heldFires = undefined;
    this.emit({
      event: "scheduled",
      level: "info",
      job: spec.name,
      trigger: describeTrigger(spec),
      nextMs: heldFires[0]?.scheduledMs ?? state.trigger.nextMs(),
      ...(spec.trigger.kind === "cron" || spec.trigger.kind === "at" ? { zone: spec.trigger.zone } : {}),
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
    state.catchUps = NO_FIRES as Fire[];
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
    const busy = state.runs.size + state.slotWaits + state.claiming > 0;
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

  /** Takes a slot, claims the fire in the ledger (when there is one), and starts the run if the claim is ours. */
  private launch(state: JobState, fire: Fire): void {
    this.running++;
    const runId = this.newRunId();
    // Known at once, even while a networked ledger answers the claim: a manual run reports this id.
    this.lastLaunchedRunId = runId;
    const ledger = this.deps.ledger;
    if (!ledger) {
      this.begin(state, fire, runId, undefined);
      return;
    }
    const request = { runId, owner: this.owner, leaseMs: this.leaseMs };
    const key = { job: state.spec.name, scheduledAtMs: fire.scheduledMs };
    state.claiming++;
    this.ledgerCall(
      () =>
        fire.lost
          ? ledger.reclaim(fire.lost, request)
          : ledger.claim({
              ...key,
              ...request,
              trigger: fire.trigger ?? "schedule",
              overlap: state.spec.overlap,
              // Only replicas see one fire under two names (a rename reaches them one by one).
              ...(this.deps.sharedLedger
                ? { work: workKey(state.spec, this.twinRanks.get(state.spec.name)) }
                : {}),
            }),
      (claim) => {
        state.claiming--;
        if (!claim) {
          this.emit({
            event: "skipped",
            level: "info",
            job: state.spec.name,
            reason:
              "claimed elsewhere: the ledger already has this fire (it ran before, or another tdefer claimed it)",
          });
          this.release(state);
        } else if (this.stopping || state.retired) {
          this.ledgerCall(
            () => ledger.finish(claim, notStarted(this.deps.clock.wallNow())),
            () => {},
            "recording a fire claimed as tdefer stopped",
          );
          this.release(state);
        } else {
          this.emit({
            event: "claimed",
            level: "debug",
            job: state.spec.name,
            run: runId,
            fence: claim.fence,
            trigger: fire.trigger ?? "schedule",
          });
          this.begin(state, fire, runId, claim);
        }
      },
      "claiming a fire",
      () => {
        state.claiming--;
        if (this.deps.ledgerDown === "skip" || this.stopping || state.retired) {
          this.emit({
            event: "skipped",
            level: "error",
            job: state.spec.name,
            reason: "the ledger did not answer, and a fire is never run unclaimed (ledger.down: skip)",
          });
          this.release(state);
        } else {
          this.begin(state, fire, runId, undefined);
        }
      },
    );
  }

  private begin(state: JobState, fire: Fire, runId: string, claim: Claim | undefined): void {
    const { clock, ledger } = this.deps;
    this.lastLaunchedRunId = runId;
    const run = this.deps.startRun(state.spec, {
      runId,
      scheduledMs: fire.scheduledMs,
      trigger: fire.trigger ?? "schedule",
      ...(claim ? { fence: claim.fence } : {}),
    });
    if (state.runs === NO_RUNS) state.runs = new Map();
    state.runs.set(run, { runId, scheduledMs: fire.scheduledMs, launchedMs: clock.wallNow() });
    let lease: { stop(): void } | undefined;
    if (ledger && claim) {
      const startedAtMs = clock.wallNow();
      this.ledgerCall(
        () => ledger.start(claim, { startedAtMs, lateMs: Math.max(0, startedAtMs - fire.scheduledMs) }),
        () => {},
        "recording a start",
      );
      lease = keepLease({
        clock,
        leaseMs: this.leaseMs,
        loseUnconfirmed: this.deps.sharedLedger ?? false,
        renew: () => {
          const failed = (error: unknown): never => {
            this.ledgerFailed("renewing a lease", error);
            throw error;
          };
          try {
            const renewed = ledger.renew(claim, this.leaseMs);
            return renewed instanceof Promise ? renewed.catch(failed) : renewed;
          } catch (error) {
            return failed(error);
          }
        },
        onLost: (reason) => {
          if (!state.runs.has(run)) return;
          this.emit({
            event: "lease_lost",
            level: "error",
            job: state.spec.name,
            run: runId,
            fence: claim.fence,
            reason,
          });
          run.stop(`its lease in the ledger was lost (${reason})`);
        },
      });
    }
    const finished = (outcome: RunOutcome | undefined): void => {
      lease?.stop();
      if (ledger && claim) {
        const record = outcome?.record ?? {
          state: outcome?.killedHard ? ("killed" as const) : ("succeeded" as const),
          attempts: 1,
          exitCode: null,
          signal: null,
          durationMs: 0,
        };
        const finishedAtMs = clock.wallNow();
        this.ledgerCall(
          () => ledger.finish(claim, { ...record, finishedAtMs }),
          (held) => {
            if (!held) {
              this.emit({
                event: "error",
                level: "error",
                job: state.spec.name,
                message:
                  "the ledger no longer held this run's claim when it finished; its result is not recorded",
              });
            }
          },
          "recording a result",
        );
      }
      state.runs.delete(run);
      this.release(state);
    };
    run.done.then(finished, () => finished(undefined));
  }

  /** A slot is free again: start what waits for it. */
  private release(state: JobState): void {
    this.running--;
    if (state.retired && state.runs.size === 0) this.retiredRuns.delete(state);
    if (state.runs.size === 0 && state.claiming === 0 && !this.stopping && !state.retired) {
      const next = state.catchUps.shift() ?? state.waiting;
      if (next) {
        if (next === state.waiting) state.waiting = undefined;
        this.requestSlot(state, next);
      }
    }
    this.pumpSlots();
    this.checkIdle();
  }

  // --- the ledger ---

  private keepMs: number | undefined;
  private pruneTimer: DelayedCall | undefined;
  private sweepTimer: DelayedCall | undefined;
  private readonly pendingWrites = new Set<Promise<unknown>>();

  private get owner(): string {
    return this.deps.owner ?? "tdefer";
  }

  private get leaseMs(): number {
    return this.deps.leaseMs ?? DEFAULT_LEASE_MS;
  }

  /**
   * Calls the ledger; a failure is logged at error level (what was being done, and why) and goes to `onError`,
   * never thrown: a write error while running must not stop the schedule.
   */
  private ledgerCall<T>(
    call: () => Awaitable<T>,
    then: (value: T) => void,
    doing: string,
    onError: (error: unknown) => void = () => {},
  ): void {
    let value: Awaitable<T>;
    const failed = (error: unknown): void => {
      this.ledgerFailed(doing, error);
      onError(error);
    };
    try {
      value = call();
    } catch (error) {
      failed(error);
      return;
    }
    if (value instanceof Promise) {
      const pending = value.then(then, failed).finally(() => this.pendingWrites.delete(pending));
      this.pendingWrites.add(pending);
      return;
    }
    whenReady(value, then, failed);
  }

  private ledgerFailed(doing: string, error: unknown): void {
    const why = error instanceof Error ? error.message : String(error);
    this.emit({
      event: "error",
      level: "error",
      message: `the ledger (${this.deps.ledger?.location}) failed ${doing}: ${why}`,
    });
  }

  /** Lost runs and missed fires since the last run of tdefer; returns the fires to run now, per job, in order. */
  private async recover(ledger: Ledger, schedule: Schedule): Promise<Map<string, Fire[]>> {
    // With replicas, the latest fires may be being claimed by another replica right now: only fires older than
    // a lease are counted missed (recording one missed would take it from the replica about to run it).
    const nowMs = this.deps.clock.wallNow() - (this.deps.sharedLedger ? this.leaseMs : 0);
    const known = new Map<string, JobRecord>();
    for (const job of await ledger.jobs()) known.set(job.job, job);
    const backlog = new Map<string, Fire[]>();
    const specs = new Map(schedule.jobs.map((spec) => [spec.name, spec]));
    for (const lost of await this.lostRuns(ledger)) {
      const spec = specs.get(lost.job);
      if (spec?.enabled && spec.onLost === "rerun") {
        backlog.set(lost.job, [...(backlog.get(lost.job) ?? []), lost.fire]);
      } else {
        await this.markLost(ledger, lost);
      }
    }
    for (const spec of schedule.jobs) {
      const job = known.get(spec.name);
      // A paused job's missed fires are not made up (resume does not make them up either).
      if (!spec.enabled || !job || this.pausedJobs.has(spec.name)) continue;
      const fires = await this.missedFires(ledger, spec, job, nowMs);
      if (fires.length > 0) backlog.set(spec.name, [...(backlog.get(spec.name) ?? []), ...fires]);
    }
    const newJobs = schedule.jobs.map((spec) => spec.name).filter((name) => !known.has(name));
    if (newJobs.length > 0) await ledger.noteJobs(newJobs);
    return backlog;
  }

  /** Records in flight whose owner is gone: its lease ended, or it was this host's and its process is gone. */
  private async lostRuns(
    ledger: Ledger,
  ): Promise<{ job: string; fire: Fire; claim: Claim; owner: string; runId: string | null }[]> {
    const lost: { job: string; fire: Fire; claim: Claim; owner: string; runId: string | null }[] = [];
    let waiting = false;
    for (const record of await ledger.inFlight()) {
      if (record.owner === this.owner || record.fence === null) continue;
      const gone =
        record.leaseExpired || (record.owner !== null && !(this.deps.ownerAlive?.(record.owner) ?? true));
      if (!gone) {
        waiting = true;
        continue;
      }
      const claim = { job: record.job, scheduledAtMs: record.scheduledAtMs, fence: record.fence };
      lost.push({
        job: record.job,
        claim,
        owner: record.owner ?? "?",
        runId: record.runId,
        fire: { scheduledMs: record.scheduledAtMs, trigger: record.trigger, lost: claim },
      });
    }
    this.othersInFlight = waiting;
    return lost;
  }

  private othersInFlight = false;

  private async markLost(
    ledger: Ledger,
    lost: { job: string; claim: Claim; owner: string; runId: string | null },
  ): Promise<void> {
    const reason = `tdefer (${lost.owner}) stopped while the run was going`;
    const marked = await ledger.markLost(lost.claim, reason);
    if (!marked) return;
    this.emit({
      event: "run_lost",
      level: "warn",
      job: lost.job,
      ...(lost.runId !== null ? { run: lost.runId } : {}),
      scheduledMs: lost.claim.scheduledAtMs,
      owner: lost.owner,
      fence: lost.claim.fence,
      reason,
    });
  }

  /** Catch-up fires to run now; the other fires missed while tdefer was down are recorded `missed`. */
  private async missedFires(ledger: Ledger, spec: JobSpec, job: JobRecord, nowMs: number): Promise<Fire[]> {
    const sinceMs = Math.max(job.lastScheduledAtMs ?? Number.NEGATIVE_INFINITY, job.firstSeenMs);
    const catchUp = spec.catchUp;
    const { fires, count } = firesBetween(spec, sinceMs, nowMs, Math.max(MAX_RECORDED_MISSED, MAX_CAUGHT_UP));
    if (count === 0) return [];
    const windowStartMs = catchUp ? Math.max(sinceMs, nowMs - catchUp.withinMs) : nowMs;
    const inWindow = fires.filter((t) => t > windowStartMs);
    const toRun = catchUp?.runs === "all" ? inWindow.slice(-MAX_CAUGHT_UP) : inWindow.slice(-1);
    const missed = fires.filter((t) => !toRun.includes(t)).slice(-MAX_RECORDED_MISSED);
    const missedCount = count - toRun.length;
    for (const scheduledAtMs of missed) {
      await ledger.recordNotRun({
        job: spec.name,
        scheduledAtMs,
        state: "missed",
        reason: catchUp ? "missed while tdefer was down, outside catch_up" : "missed while tdefer was down",
        trigger: "schedule",
      });
    }
    if (missedCount > 0) this.emit({ event: "missed", level: "warn", job: spec.name, count: missedCount });
    return toRun.map((scheduledMs) => ({ scheduledMs, trigger: "catch_up" as const }));
  }

  /** While another process's records are in flight, looks again every lease for those whose owner died. */
  private sweepLater(): void {
    if ((!this.othersInFlight && !this.deps.sharedLedger) || this.stopping) return;
    // Replicas look more often: a dead replica's run is found within about a lease and a third.
    const everyMs = this.deps.sharedLedger ? this.leaseMs / 3 : this.leaseMs;
    this.sweepTimer = this.deps.clock.callLater(everyMs, () => {
      this.sweepTimer = undefined;
      const ledger = this.deps.ledger;
      if (!ledger || this.stopping) return;
      const sweep = async (): Promise<void> => {
        for (const run of await this.lostRuns(ledger)) {
          const state = this.jobs.get(run.job);
          if (state?.spec.onLost === "rerun" && !this.stopping) this.onFire(state, run.fire);
          else await this.markLost(ledger, run);
        }
      };
      sweep().then(
        () => this.sweepLater(),
        (error: unknown) => {
          this.ledgerFailed("looking for lost runs", error);
          this.sweepLater();
        },
      );
    });
  }

  /** Deletes records older than `ledger.keep`, now and every hour. */
  private prune(): void {
    const ledger = this.deps.ledger;
    if (!ledger || this.keepMs === undefined || this.stopping) return;
    const beforeMs = this.deps.clock.wallNow() - this.keepMs;
    this.ledgerCall(
      () => ledger.prune(beforeMs),
      () => {},
      "pruning old records",
    );
    const everyMs = Math.min(PRUNE_EVERY_MS, Math.max(1_000, this.keepMs / 10));
    this.pruneTimer = this.deps.clock.callLater(everyMs, () => this.prune());
  }

  private cancelLedgerTimers(): void {
    if (this.pruneTimer?.active()) this.pruneTimer.cancel();
    if (this.sweepTimer?.active()) this.sweepTimer.cancel();
  }

  private pumpSlots(): void {
    while (this.slotQueue.length > 0 && (this.maxParallel === undefined || this.running < this.maxParallel)) {
      const { state, fire } = this.slotQueue.shift()!;
      state.slotWaits--;
      this.launch(state, fire);
    }
  }

  /** A paused job that has fires ahead once resumed keeps tdefer running (it can be resumed over HTTP). */
  private wouldFireWhenResumed(state: JobState): boolean {
    if (!this.pausedJobs.has(state.spec.name) || !state.spec.enabled) return false;
    const trigger = state.spec.trigger;
    switch (trigger.kind) {
      case "every":
      case "cron":
        return true;
      case "after":
        return !state.fired;
      case "at":
        return trigger.times.some((time) => time.timeMs > this.deps.clock.wallNow());
    }
  }

  private checkIdle(): void {
    if (this.idleWaiters.length === 0) return;
    const armed = [...this.jobs.values()].some(
      (state) =>
        state.trigger?.nextMs() !== undefined ||
        state.catchUps.length > 0 ||
        this.wouldFireWhenResumed(state),
    );
    if (armed || this.running > 0 || this.slotQueue.length > 0) return;
    this.cancelLedgerTimers();
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}

/** A record for a fire claimed just as tdefer stopped: it never started. */
function notStarted(nowMs: number): FinishUpdate {
  return {
    state: "skipped",
    reason: "tdefer stopped before the run started",
    finishedAtMs: nowMs,
    attempts: 0,
    exitCode: null,
    signal: null,
    durationMs: 0,
  };
}
