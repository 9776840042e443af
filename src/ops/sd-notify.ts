// systemd's notification protocol (sd_notify): the only importer of node-unix-socket, as Node has no
// AF_UNIX datagram socket of its own. Without that optional package, notifications are off and the log says so.
import type { Clock, DelayedCall } from "../clock/clock.js";
import type { JobControl } from "./view.js";

/** A datagram socket connected to systemd's notification socket. */
export interface NotifySocket {
  send(message: string): void;
  close(): void;
}

/**
 * Opens `NOTIFY_SOCKET` (a path, or `@name` for the abstract namespace). Resolves undefined when it is not set;
 * otherwise rejects with a message that says why notifications are off.
 */
export async function openNotifySocket(
  env: NodeJS.ProcessEnv,
  onSendError: (error: Error) => void,
): Promise<NotifySocket | undefined> {
  const address = env.NOTIFY_SOCKET;
  if (address === undefined || address === "") return undefined;
  if (!address.startsWith("/") && !address.startsWith("@")) {
    throw new Error(`NOTIFY_SOCKET=${address} is neither a path nor an abstract socket (@name)`);
  }
  let DgramSocket: typeof import("node-unix-socket").DgramSocket;
  try {
    ({ DgramSocket } = await import("node-unix-socket"));
  } catch (error) {
    throw new Error(
      `the optional package node-unix-socket could not be loaded (${(error as Error).message.split("\n")[0]}); reinstall tdefer with its optional dependencies`,
    );
  }
  const target = address.startsWith("@") ? `\0${address.slice(1)}` : address;
  const socket = new DgramSocket();
  let reported = false;
  socket.on("error", (error: Error) => {
    if (!reported) onSendError(error);
    reported = true;
  });
  return {
    send(message) {
      const bytes = Buffer.from(message);
      socket.sendTo(bytes, 0, bytes.length, target, (error) => {
        if (error && !reported) {
          reported = true;
          onSendError(error);
        }
      });
    },
    close: () => socket.close(),
  };
}

/** The watchdog period systemd asks for (WATCHDOG_USEC), in ms, when it is meant for this process. */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv, pid: number): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isInteger(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== "" && Number(env.WATCHDOG_PID) !== pid) {
    return undefined;
  }
  return usec / 1000;
}

/** The current time of CLOCK_MONOTONIC in µs, as RELOADING=1 must carry it (libuv's hrtime reads that clock). */
export function monotonicUsec(): bigint {
  return process.hrtime.bigint() / 1000n;
}

export interface SystemdOptions {
  readonly socket: NotifySocket;
  readonly clock: Clock;
  readonly control: Pick<JobControl, "jobViews">;
  /** The zone to show the next fire's time in (the file's). */
  readonly zone: string;
  /** WATCHDOG=1 every half of this, while the clock turns. */
  readonly watchdogMs: number | undefined;
  readonly wallNow: () => number;
}

const STATUS_EVERY_MS = 5_000;

/**
 * Tells systemd where tdefer is: READY=1 once armed, STATUS= a one-line summary (kept current every 5 s),
 * WATCHDOG=1 every WATCHDOG_USEC/2 from the scheduler's own clock (so a stuck loop stops the pings),
 * RELOADING=1 on SIGHUP and READY=1 after it, STOPPING=1 on stop.
 */
export class SystemdNotifier {
  private watchdogCall: DelayedCall | undefined;
  private statusCall: DelayedCall | undefined;
  private lastStatus = "";

  constructor(private readonly options: SystemdOptions) {}

  ready(): void {
    this.lastStatus = statusLine(this.options.control, this.options.zone, this.options.wallNow());
    this.options.socket.send(`READY=1\nSTATUS=${this.lastStatus}`);
    if (this.options.watchdogMs !== undefined && !this.watchdogCall) this.pingWatchdog();
    if (!this.statusCall) this.keepStatus();
  }

  reloading(): void {
    this.options.socket.send(`RELOADING=1\nMONOTONIC_USEC=${monotonicUsec()}\nSTATUS=reloading the schedule`);
  }

  stopping(): void {
    this.cancel();
    this.options.socket.send("STOPPING=1\nSTATUS=stopping: waiting for running jobs");
  }

  close(): void {
    this.cancel();
    this.options.socket.close();
  }

  private cancel(): void {
    for (const call of [this.watchdogCall, this.statusCall]) if (call?.active()) call.cancel();
    this.watchdogCall = undefined;
    this.statusCall = undefined;
  }

  private pingWatchdog(): void {
    this.options.socket.send("WATCHDOG=1");
    this.watchdogCall = this.options.clock.callLater(this.options.watchdogMs! / 2, () => this.pingWatchdog());
  }

  private keepStatus(): void {
    this.statusCall = this.options.clock.callLater(STATUS_EVERY_MS, () => {
      const status = statusLine(this.options.control, this.options.zone, this.options.wallNow());
      if (status !== this.lastStatus) this.options.socket.send(`STATUS=${status}`);
      this.lastStatus = status;
      this.keepStatus();
    });
  }
}

/** "4 jobs, 1 running, next backup at 03:00" (the time in the file's zone; with the date when not today). */
export function statusLine(control: Pick<JobControl, "jobViews">, zone: string, nowMs: number): string {
  const views = control.jobViews();
  const running = views.reduce((sum, view) => sum + view.running.length, 0);
  const paused = views.filter((view) => view.paused).length;
  let next: { name: string; timeMs: number } | undefined;
  for (const view of views) {
    if (view.nextMs !== undefined && (next === undefined || view.nextMs < next.timeMs)) {
      next = { name: view.spec.name, timeMs: view.nextMs };
    }
  }
  const parts = [`${views.length} ${views.length === 1 ? "job" : "jobs"}`, `${running} running`];
  if (paused > 0) parts.push(`${paused} paused`);
  parts.push(next ? `next ${next.name} at ${shortTime(next.timeMs, zone, nowMs)}` : "nothing left to fire");
  return parts.join(", ");
}

function shortTime(timeMs: number, zone: string, nowMs: number): string {
  const format = (t: number) =>
    new Intl.DateTimeFormat("sv-SE", {
      timeZone: zone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    }).format(t);
  const when = format(timeMs);
  return when.slice(0, 10) === format(nowMs).slice(0, 10) ? when.slice(11) : when;
}
