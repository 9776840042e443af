// Where a command's schedule comes from, and how it is read. A crontab's reader (crontab-source.ts, crontab.ts and
// node:crypto, a tenth of `next`'s start-up) is loaded only for --crontab.

import { findScheduleFile, loadScheduleFile } from "./config.js";
import type { CrontabFlags, loadSchedule, schedulePath } from "./crontab-source.js";

export interface ScheduleSource {
  readonly schedulePath: typeof schedulePath;
  readonly loadSchedule: typeof loadSchedule;
}

/** schedulePath and loadSchedule of crontab-source.ts, for `flags`: a schedule file's without loading a crontab's. */
export async function scheduleSource(flags: CrontabFlags): Promise<ScheduleSource> {
  if (flags.crontab !== undefined) return import("./crontab-source.js");
  return {
    schedulePath: (file, _flags, cwd) => findScheduleFile(file, cwd),
    loadSchedule: (path, _flags, options) => loadScheduleFile(path, options),
  };
}
