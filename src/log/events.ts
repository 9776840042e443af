// The LogEvent union: the only vocabulary of tdefer's output. Formatting is a pure function of an event.

export type Level = "debug" | "info" | "warn" | "error";

interface Base {
  /** When it happened, ms since the epoch (wall clock). */
  readonly timeMs: number;
  readonly level: Level;
}

export type LogEvent = Base &
  (
    | {
        readonly event: "loaded";
        readonly file: string;
        readonly jobs: number;
        /** Where the ledger is (a path, a URL without password, or none). */
        readonly state?: string;
      }
    | {
        readonly event: "scheduled";
        readonly job: string;
        readonly trigger: string;
        readonly nextMs: number | undefined;
        /** The zone of a cron or at job: the human formats show `next` in it, with its offset. */
        readonly zone?: string;
      }
    | {
        readonly event: "started";
        readonly job: string;
        readonly run: string;
        readonly pid: number;
        readonly scheduledMs: number;
        readonly lateMs: number;
        readonly attempt: number;
      }
    | {
        readonly event: "output";
        readonly job: string;
        readonly run: string;
        readonly stream: "stdout" | "stderr";
        readonly line: string;
        /** True on each piece of an over-long line but the last (the piece also ends with " ↩"). */
        readonly continues?: boolean;
      }
    | {
        /**
         * Several whole lines of one stream, as the bytes the job wrote: each line ends in "\n" (a "\r" before it is
         * dropped) and none is over the runner's line limit. It stands for one `output` event per line, and every
         * format writes it so (see log/output-lines.ts); it spares the log a string and an object per line.
         */
        readonly event: "output_lines";
        readonly job: string;
        readonly run: string;
        readonly stream: "stdout" | "stderr";
        /** Never empty; owned by the event (never changed after it is emitted). */
        readonly bytes: Buffer;
        /**
         * Set when `bytes` is one piece of an over-long line, without a "\n": the event then stands for one `output`
         * event with `continues: true`, whose line is the piece and " ↩".
         */
        readonly continues?: true;
      }
    | {
        readonly event: "finished";
        readonly job: string;
        readonly run: string;
        readonly exitCode: number | null;
        readonly signal: string | null;
        readonly durationMs: number;
        readonly attempt: number;
        /** Why the run could not start (ENOENT, EACCES…), when it could not. */
        readonly error?: string;
        /**
         * On a failed attempt only: true when no attempt follows (retries exhausted, none configured, or a stop
         * came first), false when a retry follows (and the event's level is then warn, not error).
         */
        readonly final?: boolean;
      }
    | { readonly event: "skipped"; readonly job: string; readonly reason: string }
    | { readonly event: "missed"; readonly job: string; readonly count: number }
    | { readonly event: "queued"; readonly job: string; readonly reason: string }
    | {
        readonly event: "timed_out";
        readonly job: string;
        readonly run: string;
        readonly timeoutMs: number;
        readonly signal: string;
      }
    | {
        readonly event: "killed";
        readonly job: string;
        readonly run: string;
        readonly signal: string;
        readonly reason: string;
      }
    | {
        readonly event: "retrying";
        readonly job: string;
        readonly run: string;
        readonly attempt: number;
        readonly delayMs: number;
      }
    | {
        /** A stop came while the run waited to retry: the attempt it waited for never starts. */
        readonly event: "retry_cancelled";
        readonly job: string;
        readonly run: string;
        readonly attempt: number;
        readonly reason: string;
      }
    | { readonly event: "clock_jump"; readonly deltaMs: number; readonly direction: "forward" | "backward" }
    | {
        readonly event: "reload_applied";
        readonly added: readonly string[];
        readonly removed: readonly string[];
        readonly changed: readonly string[];
      }
    | { readonly event: "reload_refused"; readonly errors: readonly string[] }
    | {
        readonly event: "stopping";
        readonly signal: string;
        readonly running: number;
        readonly graceMs: number;
      }
    | {
        readonly event: "stopped";
        readonly killed: number;
        /** Set when tdefer ends by itself, with no signal: why nothing is left to do. */
        readonly reason?: string;
      }
    | { readonly event: "http_listening"; readonly url: string }
    | { readonly event: "paused"; readonly job: string }
    | { readonly event: "resumed"; readonly job: string }
    | {
        /** A run's claim is no longer its own (taken over, or unconfirmed for a whole lease): the run is ended. */
        readonly event: "lease_lost";
        readonly job: string;
        readonly run: string;
        readonly fence: number;
        readonly reason: string;
      }
    | {
        /**
         * A run found in flight whose owner (host:pid) died and whose lease ended, recorded `lost` (on_lost: abandon).
         * `run` is the lost run's id, when the ledger has it.
         */
        readonly event: "run_lost";
        readonly job: string;
        readonly run?: string;
        readonly scheduledMs: number;
        readonly owner: string;
        readonly fence: number;
        readonly reason: string;
      }
    | {
        /** This process won the ledger's claim on a fire (debug): `trigger` is `catch_up` for a fire made up at start. */
        readonly event: "claimed";
        readonly job: string;
        readonly run: string;
        readonly fence: number;
        readonly trigger: string;
      }
    | { readonly event: "ledger_down"; readonly location: string; readonly error: string }
    | { readonly event: "ledger_up"; readonly location: string }
    | {
        /** This process's wall clock minus the ledger database's, beyond a second. */
        readonly event: "clock_skew";
        readonly skewMs: number;
      }
    | { readonly event: "warning"; readonly message: string; readonly job?: string }
    | { readonly event: "error"; readonly message: string; readonly job?: string }
  );

export type EventName = LogEvent["event"];

type WithoutTime<T> = T extends unknown ? Omit<T, "timeMs"> : never;
/** An event before it is stamped with its time. */
export type LogEventInput = WithoutTime<LogEvent>;
