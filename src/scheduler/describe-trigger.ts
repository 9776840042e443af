// A trigger as people read it, apart from the scheduler so that the preview (`next`) need not load it.
import { formatDuration } from "../schedule/duration.js";
import type { JobSpec } from "../schedule/types.js";

/** `every 30s`, `cron "0 3 * * *" (UTC)`, `after 10s`, `at 2026-12-01 09:00`. */
export function describeTrigger(spec: JobSpec): string {
  const trigger = spec.trigger;
  switch (trigger.kind) {
    case "every":
      return `every ${formatDuration(trigger.intervalMs)}${trigger.now ? " (now)" : ""}`;
    case "after":
      return `after ${formatDuration(trigger.delayMs)}`;
    case "at":
      return `at ${trigger.times.map((t) => t.text).join(", ")}`;
    case "cron":
      return `cron "${trigger.expression}" (${trigger.zone})`;
  }
}
