import type { Clock, DelayedCall } from "../clock/clock.js";

export interface LeaseKeeperOptions {
  readonly clock: Clock;
  /** How long a renewal holds the claim; renewals go every third of it. */
  readonly leaseMs: number;
  /** Extends the lease in the ledger: false when the claim is no longer ours; throws when the ledger is down. */
  readonly renew: () => Promise<boolean>;
  /** Called once, when the lease is lost: the run must end as on timeout. */
  readonly onLost: (reason: string) => void;
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
    options.renew().then(
      (held) => {
        if (stopped) return;
        if (!held) return lose("another replica took it over, or it was marked lost");
        confirmedAtMs = sentAtMs;
        arm();
      },
      () => {
        if (stopped) return;
        if (clock.now() - confirmedAtMs >= leaseMs) {
          return lose(`the ledger did not confirm it for a whole lease (${leaseMs} ms)`);
        }
        arm();
      },
    );
  };
  const arm = (): void => {
    // Never wait past the lease's end for the next try while the ledger is failing.
    const untilExpiryMs = confirmedAtMs + leaseMs - clock.now();
    timer = clock.callLater(Math.max(0, Math.min(everyMs, untilExpiryMs)), tick);
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
