import { readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { resolve } from "node:path";
import { ScheduleFileError } from "../errors.js";
import { type CrontabOptions, isSystemCrontabPath, loadCrontabText } from "../schedule/crontab.js";
import { MAX_CRONTAB_BYTES } from "../schedule/limits.js";
import type { Schedule } from "../schedule/types.js";
import type { ValidateOptions } from "../schedule/validate.js";
import { systemZone } from "../schedule/zone.js";
import { findScheduleFile, loadScheduleFile } from "./config.js";
import { lookupUser } from "./identity.js";

/** The flags `run`, `check`, `next` and `trigger` take to read a crontab instead of a schedule file. */
export interface CrontabFlags {
  crontab?: string;
  system?: boolean;
}

/** Where the schedule comes from: the crontab given with --crontab, or the schedule file (named or searched for). */
export function schedulePath(file: string | undefined, flags: CrontabFlags, cwd: string): string {
  if (flags.crontab !== undefined) {
    if (file !== undefined) {
      throw new ScheduleFileError(
        `give either a schedule file (${file}) or --crontab ${flags.crontab}, not both`,
      );
    }
    return resolve(cwd, flags.crontab);
  }
  return findScheduleFile(file, cwd);
}

/** Loads the schedule from `path`: as a crontab when --crontab was given, else as a schedule file. */
export function loadSchedule(
  path: string,
  flags: CrontabFlags,
  options: Partial<ValidateOptions> & { readonly trusted?: boolean } = {},
): Schedule {
  if (flags.crontab === undefined) return loadScheduleFile(path, options);
  return loadCrontabText(readCrontabFile(path), path, {
    nowMs: options.nowMs ?? Date.now(),
    systemZone: options.systemZone ?? systemZone(),
    isRoot: options.isRoot ?? process.getuid?.() === 0,
    forRunning: options.forRunning ?? false,
    warnings: options.warnings ?? true,
    ...crontabOptions(path, flags.system),
  });
}

/** The crontab format for a path, and where cron would start its jobs (the user's home). */
export function crontabOptions(path: string, system: boolean | undefined): CrontabOptions {
  return {
    system: system === true || isSystemCrontabPath(path),
    homeOf: (user) => (user === undefined ? homedir() : lookupUser(user)?.home),
  };
}

/** A crontab's text; a missing or unreadable file is a configuration problem (exit 78). */
export function readCrontabFile(path: string): string {
  try {
    const size = statSync(path).size;
    if (size > MAX_CRONTAB_BYTES) {
      throw new ScheduleFileError(
        `${path}: the file is ${size} bytes; a crontab may have at most ${MAX_CRONTAB_BYTES}`,
      );
    }
    return readFileSync(path, "utf8");
  } catch (error) {
    if (error instanceof ScheduleFileError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (error as Error).message;
    throw new ScheduleFileError(`${path}: cannot read the crontab: ${why}`);
  }
}
