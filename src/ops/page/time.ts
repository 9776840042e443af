const formatters = new Map<string, Intl.DateTimeFormat>();

/** "2026-03-08 03:00:00" as the wall clock of `zone` shows `timeMs` (Swedish dates are ISO-like). */
export function wallTimeIn(timeMs: number, zone: string): string {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("sv-SE", {
      timeZone: zone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(zone, formatter);
  }
  return formatter.format(timeMs);
}
