// Durations in the schedule file: `500ms`, `30s`, `5m`, `1h30m`, `2d`. A bare number is refused.

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** The accepted grammar; also the `pattern` of durations in the JSON Schema. */
export const DURATION_PATTERN = "^(\\d+(ms|s|m|h|d))+$";
const DURATION_RE = new RegExp(DURATION_PATTERN);

/**
 * The longest duration accepted anywhere (36500d, 100 years): every instant tdefer plans (now plus a
 * duration) then stays far inside what the clock, Date and the log's time formats can hold.
 */
export const MAX_DURATION_MS = 36_500 * UNIT_MS.d;

/** The duration in ms, or undefined when the text is not a duration or is longer than MAX_DURATION_MS. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION_RE.test(text)) return undefined;
  let totalMs = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)(ms|s|m|h|d)/g)) {
    totalMs += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  return totalMs <= MAX_DURATION_MS ? totalMs : undefined;
}

/** `5400000` → `1h30m`; `1500` → `1s500ms`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  let rest = ms;
  let text = "";
  for (const [unit, size] of [
    ["d", UNIT_MS.d],
    ["h", UNIT_MS.h],
    ["m", UNIT_MS.m],
    ["s", UNIT_MS.s],
    ["ms", 1],
  ] as const) {
    const amount = Math.floor(rest / size);
    if (amount > 0) text += `${amount}${unit}`;
    rest -= amount * size;
  }
  return text;
}
