import { ScheduleErrors, type ScheduleProblem } from "../errors.js";
import type { Schedule } from "../schedule/types.js";
import { type PreflightOptions, preflight } from "./preflight.js";

/**
 * Checks what a schedule needs from this machine before it runs, with the pre-flight that `check` shares
 * (preflight.ts), for the `jobs` given (default: all; `trigger` checks only the job it runs). (Who may change
 * the file is checked as it is read: loadScheduleFile with `forRunning` or `trusted`.) Throws ScheduleErrors,
 * with file:line:col, for what `run` refuses; returns the warnings: what would only fail a fire.
 */
export function checkRunnable(schedule: Schedule, options: PreflightOptions = {}): ScheduleProblem[] {
  const { errors, warnings } = preflight(schedule, options);
  if (errors.length > 0) throw new ScheduleErrors(errors);
  return warnings;
}
