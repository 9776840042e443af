import type { Clock, DelayedCall } from "../clock/clock.js";

export interface LeaseKeeperOptions {
  readonly clock: Clock;
  /** How long a renewal holds the claim; renewals go every third of it. */
  readonly leaseMs: number;
  /**
   * Extends the lease in the ledger: false when the claim is no longer ours; throws (or rejects) when the ledger is
   * down. A synchronous answer (SQLite) is taken at once, without waiting a turn.
   */
  readonly renew: () => boolean | Promise<boolean>;
  /** Called once, when the lease is lost: the run must end as on timeout. */
  readonly onLost: (reason: string) => void;
  /**
   * Also lose the lease when the ledger has not confirmed it for a whole lease (a shared ledger: another replica
   * may own the fire by then). Without it, a failing ledger leaves the run alone (one machine: the run goes ahead).
   */
  readonly loseUnconfirmed?: boolean;
}

/**
 * Renews a claim's lease every leaseMs/3 while its run goes. A renewal that finds the claim gone, or a ledger
 * that has not confirmed the lease for a whole lease (counted from the last confirmed renewal's sending, on
 * this process's elapsed time), loses it: another replica may take the fire over from then on.
 */
export function keepLease(options: LeaseKeeperOptions): { stop(): void } {
  const { clock, leaseMs } = options;
  const everyMs = Math.max(1, Math.floor(leaseMs / 3));
  let confirmedAtMs = clock.now();
  let timer: DelayedCall | undefined;
  let stopped = false;
  const lose = (reason: string): void => {
    if (stopped) return;
    stopped = true;
    options.onLost(reason);
  };
  const tick = (): void => {
    timer = undefined;
    const sentAtMs = clock.now();
    const answered = (held: boolean): void => {
      if (stopped) return;
      if (!held) {
        lose("another replica took it over, or it was marked lost");
        return;
      }
      confirmedAtMs = sentAtMs;
      arm();
    };
    const failed = (): void => {
      if (stopped) return;
      if (options.loseUnconfirmed === true && clock.now() - confirmedAtMs >= leaseMs) {
        lose(`the ledger did not confirm it for a whole lease (${leaseMs} ms)`);
        return;
      }
      arm();
    };
    let result: boolean | Promise<boolean>;
    try {
      result = options.renew();
    } catch {
      failed();
      return;
    }
    if (result instanceof Promise) result.then(answered, failed);
    else answered(result);
  };
  const arm = (): void => {
    // Never wait past the lease's end for the next try while the ledger is failing.
    const untilExpiryMs = confirmedAtMs + leaseMs - clock.now();
    const delayMs = untilExpiryMs > 0 ? Math.min(everyMs, untilExpiryMs) : everyMs;
    timer = clock.callLater(delayMs, tick);
  };
  arm();
  return {
    stop: () => {
      stopped = true;
      if (timer?.active()) timer.cancel();
      timer = undefined;
    },
  };
}
