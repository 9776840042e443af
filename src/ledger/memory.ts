import {
  type Claim,
  type ClaimRequest,
  FAILED_STATES,
  type FinishUpdate,
  type FireKey,
  type HistoryQuery,
  IN_FLIGHT_STATES,
  type InFlightRecord,
  type JobRecord,
  type Ledger,
  type NotRunRecord,
  type ReclaimRequest,
  type RunRecord,
  type RunTrigger,
  type StartUpdate,
} from "./ledger.js";

type MutableRecord = { -readonly [K in keyof RunRecord]: RunRecord[K] };
type MutableJob = { -readonly [K in keyof JobRecord]: JobRecord[K] };

/**
 * A Ledger in memory, for unit tests of the scheduler on the virtual clock: the same contract as the SQLite
 * ledger (the shared contract tests prove it), nothing kept after the process.
 */
export class MemoryLedger implements Ledger {
  readonly location = ":memory:";
  private readonly records = new Map<string, MutableRecord>();
  private readonly jobRecords = new Map<string, MutableJob>();
  /** The work of each claimed fire (`work@scheduledAt`), as the stores' unique index on it. */
  private readonly claimedWork = new Map<string, string>();
  private lastFence = 0;
  private closed = false;

  private readonly now: () => number;

  constructor(
    readonly schedule: string,
    now: () => number,
  ) {
    // Whole milliseconds, as the SQLite store keeps them.
    this.now = () => Math.round(now());
  }

  claim(unrounded: ClaimRequest): Claim | undefined {
    this.checkOpen();
    const request = { ...unrounded, scheduledAtMs: Math.round(unrounded.scheduledAtMs) };
    const id = keyOf(request);
    if (this.records.has(id)) return undefined;
    const work = request.work === undefined ? undefined : `${request.work}@${request.scheduledAtMs}`;
    if (work !== undefined && this.claimedWork.has(work)) return undefined;
    if (work !== undefined) this.claimedWork.set(work, id);
    const nowMs = this.now();
    const fence = ++this.lastFence;
    this.records.set(id, {
      schedule: this.schedule,
      job: request.job,
      scheduledAtMs: request.scheduledAtMs,
      state: "claimed",
      reason: null,
      runId: request.runId,
      owner: request.owner,
      fence,
      leaseUntilMs: nowMs + Math.round(request.leaseMs),
      claimedAtMs: nowMs,
      startedAtMs: null,
      finishedAtMs: null,
      attempts: 0,
      exitCode: null,
      signal: null,
      durationMs: null,
      lateMs: null,
      trigger: request.trigger,
      outputTail: null,
    });
    this.raiseWatermark(request);
    return { job: request.job, scheduledAtMs: request.scheduledAtMs, fence };
  }

  reclaim(lost: Claim, request: ReclaimRequest): Claim | undefined {
    const record = this.held(lost);
    if (!record) return undefined;
    const nowMs = this.now();
    const fence = ++this.lastFence;
    Object.assign(record, {
      state: "claimed",
      reason: null,
      runId: request.runId,
      owner: request.owner,
      fence,
      leaseUntilMs: nowMs + Math.round(request.leaseMs),
      claimedAtMs: nowMs,
      startedAtMs: null,
      lateMs: null,
    });
    return { job: lost.job, scheduledAtMs: lost.scheduledAtMs, fence };
  }

  renew(claim: Claim, leaseMs: number): boolean {
    const record = this.held(claim);
    if (!record) return false;
    record.leaseUntilMs = this.now() + Math.round(leaseMs);
    return true;
  }

  start(claim: Claim, update: StartUpdate): void {
    const record = this.held(claim);
    if (!record) return;
    record.state = "running";
    record.startedAtMs = Math.round(update.startedAtMs);
    record.lateMs = Math.round(update.lateMs);
  }

  finish(claim: Claim, update: FinishUpdate): boolean {
    const record = this.held(claim);
    if (!record) return false;
    Object.assign(record, {
      state: update.state,
      reason: update.reason ?? null,
      finishedAtMs: Math.round(update.finishedAtMs),
      attempts: update.attempts,
      exitCode: update.exitCode,
      signal: update.signal,
      durationMs: Math.round(update.durationMs),
      outputTail: update.outputTail ?? null,
      leaseUntilMs: null,
    });
    return true;
  }

  recordNotRun(unrounded: NotRunRecord): void {
    this.checkOpen();
    const input = { ...unrounded, scheduledAtMs: Math.round(unrounded.scheduledAtMs) };
    const id = keyOf(input);
    if (this.records.has(id)) return;
    this.records.set(id, {
      schedule: this.schedule,
      job: input.job,
      scheduledAtMs: input.scheduledAtMs,
      state: input.state,
      reason: input.reason,
      runId: null,
      owner: null,
      fence: null,
      leaseUntilMs: null,
      claimedAtMs: null,
      startedAtMs: null,
      finishedAtMs: this.now(),
      attempts: 0,
      exitCode: null,
      signal: null,
      durationMs: null,
      lateMs: null,
      trigger: input.trigger,
      outputTail: null,
    });
    this.raiseWatermark(input);
  }

  inFlight(): readonly InFlightRecord[] {
    this.checkOpen();
    const nowMs = this.now();
    return [...this.records.values()]
      .filter((record) => IN_FLIGHT_STATES.includes(record.state))
      .sort((a, b) => a.scheduledAtMs - b.scheduledAtMs)
      .map((record) => ({
        ...record,
        leaseExpired: record.leaseUntilMs !== null && record.leaseUntilMs < nowMs,
      }));
  }

  markLost(lost: Claim, reason: string): boolean {
    const record = this.held(lost);
    if (!record) return false;
    Object.assign(record, { state: "lost", reason, finishedAtMs: this.now(), leaseUntilMs: null });
    return true;
  }

  history(query: HistoryQuery): readonly RunRecord[] {
    this.checkOpen();
    const jobs = query.jobs?.length ? new Set(query.jobs) : undefined;
    const matching = [...this.records.values()].filter(
      (record) =>
        (!jobs || jobs.has(record.job)) &&
        (query.sinceMs === undefined || record.scheduledAtMs >= query.sinceMs) &&
        (!query.failedOnly || FAILED_STATES.includes(record.state)),
    );
    matching.sort(
      (a, b) => b.scheduledAtMs - a.scheduledAtMs || (a.job < b.job ? -1 : a.job > b.job ? 1 : 0),
    );
    return matching.slice(0, query.limit ?? matching.length).map((record) => ({ ...record }));
  }

  get(key: FireKey): RunRecord | undefined {
    this.checkOpen();
    const record = this.records.get(keyOf(key));
    return record ? { ...record } : undefined;
  }

  noteJobs(jobs: readonly string[]): void {
    this.checkOpen();
    for (const job of jobs) this.jobEntry(job);
  }

  jobs(): readonly JobRecord[] {
    this.checkOpen();
    return [...this.jobRecords.values()].map((job) => ({ ...job })).sort((a, b) => (a.job < b.job ? -1 : 1));
  }

  setPaused(job: string, paused: boolean): void {
    this.checkOpen();
    this.jobEntry(job).pausedAtMs = paused ? this.now() : null;
  }

  prune(beforeMs: number): number {
    this.checkOpen();
    let pruned = 0;
    for (const [id, record] of this.records) {
      if (record.scheduledAtMs < beforeMs && !IN_FLIGHT_STATES.includes(record.state)) {
        this.records.delete(id);
        pruned++;
      }
    }
    for (const [work, id] of this.claimedWork) if (!this.records.has(id)) this.claimedWork.delete(work);
    return pruned;
  }

  close(): void {
    this.closed = true;
  }

  private jobEntry(job: string): MutableJob {
    let entry = this.jobRecords.get(job);
    if (!entry) {
      entry = { job, firstSeenMs: this.now(), lastScheduledAtMs: null, pausedAtMs: null };
      this.jobRecords.set(job, entry);
    }
    return entry;
  }

  private raiseWatermark(fire: FireKey & { readonly trigger: RunTrigger }): void {
    if (fire.trigger === "manual") return;
    const entry = this.jobEntry(fire.job);
    entry.lastScheduledAtMs = Math.max(
      entry.lastScheduledAtMs ?? Number.NEGATIVE_INFINITY,
      fire.scheduledAtMs,
    );
  }

  /** The record if it is still in flight under this claim's fence. */
  private held(claim: Claim): MutableRecord | undefined {
    this.checkOpen();
    const record = this.records.get(keyOf(claim));
    return record && record.fence === claim.fence && IN_FLIGHT_STATES.includes(record.state)
      ? record
      : undefined;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error("the ledger is closed");
  }
}

function keyOf(key: FireKey): string {
  return `${key.job}\u0000${Math.round(key.scheduledAtMs)}`;
}
