/**
 * RFC 3339 in UTC with milliseconds ("2026-11-27T04:20:00.123Z"). The last answer is cached: the lines of one
 * chunk of output share their time, and formatting a Date per line would dominate the log's cost.
 */
export function rfc3339(timeMs: number): string {
  if (timeMs !== cachedMs) {
    cachedMs = timeMs;
    cachedText = new Date(timeMs).toISOString();
  }
  return cachedText;
}

let cachedMs = Number.NaN;
let cachedText = "";

/**
 * RFC 3339 with milliseconds at the offset `offsetOf` gives for each instant ("2026-11-27T05:20:00.123+01:00"),
 * "Z" for a zero offset: a log line's time in the system's zone. Caches the last answer, as rfc3339 does.
 */
export function createOffsetTime(offsetOf: (timeMs: number) => number): (timeMs: number) => string {
  let lastMs = Number.NaN;
  let lastText = "";
  return (timeMs) => {
    if (timeMs !== lastMs) {
      lastMs = timeMs;
      const offsetMs = offsetOf(timeMs);
      lastText =
        offsetMs === 0
          ? rfc3339(timeMs)
          : new Date(timeMs + offsetMs).toISOString().slice(0, -1) + formatOffset(offsetMs);
    }
    return lastText;
  };
}

function formatOffset(offsetMs: number): string {
  const minutes = Math.round(Math.abs(offsetMs) / 60_000);
  return `${offsetMs < 0 ? "-" : "+"}${pad2(Math.floor(minutes / 60))}:${pad2(minutes % 60)}`;
}

/** A duration for people: "850 ms", "1.2s", "2m05s", "3h04m". */
export function humanDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const totalSeconds = Math.round(ms / 1000);
  if (totalSeconds < 3600) return `${Math.floor(totalSeconds / 60)}m${pad2(totalSeconds % 60)}s`;
  const totalMinutes = Math.floor(totalSeconds / 60);
  return `${Math.floor(totalMinutes / 60)}h${pad2(totalMinutes % 60)}m`;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
