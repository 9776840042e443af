import type { Schedule } from "../schedule/types.js";
import { ScheduleFileError } from "./config.js";
import { IdentityError, resolveId } from "./identity.js";

/**
 * Checks what a schedule needs from this machine before it runs: users and groups that exist. (Who may change
 * the file is checked as it is read: loadScheduleFile with `forRunning`.) Throws ScheduleFileError saying why
 * and how to fix it.
 */
export function checkRunnable(schedule: Schedule, path: string): void {
  for (const job of schedule.jobs) {
    for (const kind of ["user", "group"] as const) {
      const name = job[kind];
      if (name === undefined) continue;
      try {
        resolveId(name, kind);
      } catch (error) {
        if (!(error instanceof IdentityError)) throw error;
        throw new ScheduleFileError(
          `${path}: jobs.${job.name}.${kind}: ${error.message}\n  hint: create it, or use an existing ${kind} or a numeric id`,
        );
      }
    }
  }
}
