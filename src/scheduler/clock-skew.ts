import type { DelayedCall, WallClock } from "../clock/clock.js";

/** A replica's wall clock further than this from the database's is reported. */
export const SKEW_WARN_MS = 1_000;
/** How often the skew is measured again after start. */
export const SKEW_CHECK_EVERY_MS = 10 * 60_000;

export interface ClockSkewOptions {
  readonly clock: WallClock;
  /** The database's clock and how long asking took; throws when the database does not answer. */
  readonly measure: () => Promise<{ readonly dbNowMs: number; readonly roundTripMs: number }>;
  /** Called with (our wall clock − the database's), in ms, when it is more than SKEW_WARN_MS either way. */
  readonly onSkew: (skewMs: number) => void;
}

/**
 * Compares this process's wall clock with the database's at start and every ten minutes. The leases never use
 * our clock, so a skew only warns; the claim itself refuses fires ahead of the database's clock.
 */
export function watchClockSkew(options: ClockSkewOptions): { stop(): void } {
  const { clock } = options;
  let timer: DelayedCall | undefined;
  let stopped = false;
  const check = (): void => {
    timer = undefined;
    const sentWallMs = clock.wallNow();
    options.measure().then(
      ({ dbNowMs, roundTripMs }) => {
        if (stopped) return;
        // The database read its clock about halfway through the round trip.
        const skewMs = Math.round(sentWallMs + roundTripMs / 2 - dbNowMs);
        if (Math.abs(skewMs) > SKEW_WARN_MS) options.onSkew(skewMs);
        timer = clock.callLater(SKEW_CHECK_EVERY_MS, check);
      },
      () => {
        if (!stopped) timer = clock.callLater(SKEW_CHECK_EVERY_MS, check);
      },
    );
  };
  check();
  return {
    stop: () => {
      stopped = true;
      if (timer?.active()) timer.cancel();
    },
  };
}
