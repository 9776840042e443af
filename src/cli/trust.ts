import { statSync } from "node:fs";
import type { Schedule } from "../schedule/types.js";
import { ScheduleFileError } from "./config.js";
import { IdentityError, resolveId } from "./identity.js";

/**
 * Checks what a schedule needs from this machine before it runs: as root, a file that only root can change
 * (as cron demands of crontabs: otherwise whoever can write it runs commands as root); users and groups
 * that exist. Throws ScheduleFileError saying why and how to fix it.
 */
export function checkRunnable(schedule: Schedule, path: string, uid = process.getuid?.()): void {
  if (uid === 0) {
    const stat = statSync(path);
    if (stat.uid !== 0) {
      throw new ScheduleFileError(
        `${path}: refusing to run as root a schedule file owned by uid ${stat.uid}: its owner could run any command as root\n  hint: sudo chown root ${path}`,
      );
    }
    if ((stat.mode & 0o022) !== 0) {
      throw new ScheduleFileError(
        `${path}: refusing to run as root a schedule file that group or others can write (mode ${(stat.mode & 0o777).toString(8)})\n  hint: sudo chmod go-w ${path}`,
      );
    }
  }
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
