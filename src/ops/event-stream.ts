import type { ServerResponse } from "node:http";
import type { Clock, DelayedCall } from "../clock/clock.js";
import type { LogEvent } from "../log/events.js";

/** A stream whose client has not read this much (bytes queued in tdefer) is dropped: memory, not a wait. */
export const MAX_QUEUED_BYTES = 1024 * 1024;
/** At most this many streams at once; more get 503. */
export const MAX_STREAMS = 32;
const HEARTBEAT_MS = 15_000;

interface Subscriber {
  readonly res: ServerResponse;
  readonly job: string | undefined;
}

/**
 * Server-sent events: every log event, as the JSON log line, to each subscribed response. An event is
 * formatted once however many listen, and not at all when nobody does. A client that stops reading is
 * disconnected once 1 MiB waits for it (EventSource reconnects by itself), so a slow reader costs bounded
 * memory and never delays a fire.
 */
export class EventStream {
  private readonly subscribers = new Set<Subscriber>();
  private heartbeat: DelayedCall | undefined;
  /** Streams dropped because their client did not keep up. */
  dropped = 0;

  /** `formatEvent`: the JSON log's formatter, so that the stream says what `--log-format json` says. */
  constructor(
    private readonly clock: Clock,
    private readonly formatEvent: (event: LogEvent) => string,
  ) {}

  get size(): number {
    return this.subscribers.size;
  }

  /** Starts a stream on `res`; false (nothing written) when too many are open. */
  subscribe(res: ServerResponse, job: string | undefined): boolean {
    if (this.subscribers.size >= MAX_STREAMS) return false;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      // Proxies such as nginx would otherwise buffer the stream.
      "x-accel-buffering": "no",
    });
    res.write(": tdefer events\n\n");
    const subscriber = { res, job };
    this.subscribers.add(subscriber);
    res.on("close", () => {
      this.subscribers.delete(subscriber);
      if (this.subscribers.size === 0) this.stopHeartbeat();
    });
    if (!this.heartbeat) this.beat();
    return true;
  }

  publish(event: LogEvent): void {
    if (this.subscribers.size === 0) return;
    const job = "job" in event ? event.job : undefined;
    let data: string | undefined;
    for (const subscriber of this.subscribers) {
      if (subscriber.job !== undefined && subscriber.job !== job) continue;
      // Several lines of output (one event of the log) are one message each, as the `output` events they stand for.
      data ??= `data: ${this.formatEvent(event).replaceAll("\n", "\n\ndata: ")}\n\n`;
      this.send(subscriber, data);
    }
  }

  /** Ends every stream (on stop). */
  close(): void {
    this.stopHeartbeat();
    for (const subscriber of this.subscribers) subscriber.res.end();
    this.subscribers.clear();
  }

  private send(subscriber: Subscriber, data: string): void {
    const { res } = subscriber;
    if (res.writableLength > MAX_QUEUED_BYTES) {
      this.dropped++;
      this.subscribers.delete(subscriber);
      res.destroy();
      return;
    }
    res.write(data);
  }

  private beat(): void {
    this.heartbeat = this.clock.callLater(HEARTBEAT_MS, () => {
      this.heartbeat = undefined;
      if (this.subscribers.size === 0) return;
      // A comment line: keeps idle proxies from closing the stream, and finds clients that went away.
      for (const subscriber of this.subscribers) this.send(subscriber, ": keep-alive\n\n");
      this.beat();
    });
  }

  private stopHeartbeat(): void {
    if (this.heartbeat?.active()) this.heartbeat.cancel();
    this.heartbeat = undefined;
  }
}
