// Operations for one running schedule: the run tracker, the metrics, the event stream, the HTTP server and
// the heartbeat that /healthz and systemd's watchdog trust. The CLI builds one and feeds it every log event.
import type { WallClock } from "../clock/clock.js";
import type { LogEvent } from "../log/events.js";
import { createApi, type RunHistory, trackerHistory } from "./api.js";
import { EventStream } from "./event-stream.js";
import { OpsServer } from "./http.js";
import type { HttpAddress } from "./http-address.js";
import { Metrics } from "./metrics.js";
import { Notifier, type PostJson, type RunNotifyCommand } from "./notify.js";
import { RunTracker } from "./run-tracker.js";
import type { DaemonInfo, JobControl } from "./view.js";

/** The heartbeat ticks this often; /healthz fails when it has not ticked for {@link STALL_MS}. */
export const HEARTBEAT_MS = 1_000;
const STALL_MS = 10_000;
/** On stop, notifications under way get this long to finish. */
const NOTIFY_PATIENCE_MS = 10_000;

export interface OpsOptions {
  readonly clock: WallClock;
  readonly control: JobControl;
  readonly info: DaemonInfo;
  /** An event as one line of JSON (the JSON log's formatter), for the event stream. */
  readonly formatEvent: (event: LogEvent) => string;
  /** Recent runs; default: those this process saw end. */
  readonly history?: RunHistory;
  /** Whether the ledger answers (always, without a ledger). */
  readonly ledgerHealth?: () => string | undefined;
  /** Told of a bug in a request handler. */
  readonly onError: (error: unknown) => void;
  /** Notifications (`notify:`): how to run a notifier command, and who this daemon is. */
  readonly notify?: {
    readonly runCommand: RunNotifyCommand;
    readonly post?: PostJson;
    readonly host: string;
    readonly schedule: string;
    readonly warn: (message: string, job: string) => void;
  };
}

export class Ops {
  readonly tracker = new RunTracker();
  readonly metrics: Metrics;
  readonly events: EventStream;
  private server: OpsServer | undefined;
  private ready = false;
  private lastBeatMs: number;
  private beatCall: ReturnType<WallClock["callLater"]> | undefined;
  private readonly beatListeners = new Set<() => void>();
  readonly notifier: Notifier | undefined;

  constructor(private readonly options: OpsOptions) {
    this.metrics = new Metrics({
      control: options.control,
      tracker: this.tracker,
      version: options.info.version,
      zone: options.info.zone,
    });
    this.events = new EventStream(options.clock, options.formatEvent);
    this.lastBeatMs = options.clock.now();
    this.beat();
    const notify = options.notify;
    if (notify) {
      const notifier = new Notifier(
        {
          clock: options.clock,
          runCommand: notify.runCommand,
          ...(notify.post ? { post: notify.post } : {}),
          host: notify.host,
          schedule: notify.schedule,
          warn: notify.warn,
          failed: (job, kind) => this.metrics.notifyFailed(job, kind),
        },
        (name) => options.control.jobViews().find((view) => view.spec.name === name)?.spec,
      );
      this.notifier = notifier;
      this.tracker.onRunEnd((end) => notifier.runEnded(end));
    }
  }

  /** Every log event goes through here: counted, remembered, streamed. */
  observe(event: LogEvent): void {
    this.tracker.observe(event);
    this.metrics.observe(event);
    this.events.publish(event);
    if (this.notifier && event.event === "missed") this.notifier.missed(event.job, event.count);
    if (this.notifier && event.event === "run_lost")
      this.notifier.lost(event.job, event.run ?? null, event.reason);
  }

  /** The schedule is armed (true) or stopping (false): /readyz. */
  setReady(ready: boolean): void {
    this.ready = ready;
  }

  /** Be told at each heartbeat, that is while the event loop and the clock turn (systemd's watchdog). */
  onHeartbeat(listener: () => void): () => void {
    this.beatListeners.add(listener);
    return () => this.beatListeners.delete(listener);
  }

  /** Serves HTTP at `address`; resolves with the address bound. */
  async listen(address: HttpAddress, token: string | undefined): Promise<HttpAddress> {
    const { options } = this;
    const server = new OpsServer({
      address,
      token,
      onError: options.onError,
      handler: createApi({
        control: options.control,
        tracker: this.tracker,
        metrics: this.metrics,
        events: this.events,
        history: options.history ?? trackerHistory(this.tracker),
        info: options.info,
        wallNow: () => options.clock.wallNow(),
        probes: {
          ready: () => this.ready,
          health: () => this.health(),
        },
      }),
    });
    const bound = await server.listen();
    this.server = server;
    return bound;
  }

  /** Ends the event streams, the server and the heartbeat (notifications under way finish first). */
  async close(): Promise<void> {
    if (this.notifier) {
      let timer: ReturnType<WallClock["callLater"]> | undefined;
      const patience = new Promise<void>((resolve) => {
        timer = this.options.clock.callLater(NOTIFY_PATIENCE_MS, resolve);
      });
      await Promise.race([this.notifier.whenIdle(), patience]);
      if (timer?.active()) timer.cancel();
    }
    this.ready = false;
    if (this.beatCall?.active()) this.beatCall.cancel();
    this.beatCall = undefined;
    this.events.close();
    await this.server?.close();
    this.server = undefined;
  }

  private health(): { ok: true } | { ok: false; reason: string } {
    const stalledMs = this.options.clock.now() - this.lastBeatMs;
    if (stalledMs > STALL_MS) {
      return {
        ok: false,
        reason: `the scheduler's clock has not turned for ${Math.round(stalledMs / 1000)} s`,
      };
    }
    const ledgerProblem = this.options.ledgerHealth?.();
    if (ledgerProblem !== undefined)
      return { ok: false, reason: `the ledger does not answer: ${ledgerProblem}` };
    return { ok: true };
  }

  private beat(): void {
    this.beatCall = this.options.clock.callLater(HEARTBEAT_MS, () => {
      this.lastBeatMs = this.options.clock.now();
      for (const listener of this.beatListeners) listener();
      this.beat();
    });
  }
}
