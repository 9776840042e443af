import { readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { resolve } from "node:path";
import { cosmiconfigSync } from "cosmiconfig";
import { ScheduleErrors } from "../errors.js";
import type { Schedule } from "../schedule/types.js";
import { loadScheduleText, type ValidateOptions } from "../schedule/validate.js";
import { systemZone } from "../schedule/zone.js";

/** Where `tdefer` looks for a schedule file when none is named, from the working directory up to home. */
export const SEARCH_PLACES = [
  "tdefer.yaml",
  "tdefer.yml",
  "schedules.yaml",
  ".tdeferrc.yaml",
  ".tdeferrc.yml",
  ".config/tdefer.yaml",
];

/** A schedule file larger than this is refused before it is read (no schedule needs 4 MiB). */
const MAX_FILE_BYTES = 4 * 1024 * 1024;

/** The file could not be found or read: a configuration problem (exit 78), not a bug. */
export class ScheduleFileError extends Error {
  override name = "ScheduleFileError";
}

/** The schedule file to use: the one given, or the first found by cosmiconfig's search. */
export function findScheduleFile(given: string | undefined, cwd = process.cwd()): string {
  if (given) return resolve(cwd, given);
  // The loader only reports the text; parsing with positions happens in loadScheduleFile.
  const textLoader = (_path: string, content: string) => ({ content });
  const explorer = cosmiconfigSync("tdefer", {
    searchPlaces: SEARCH_PLACES,
    searchStrategy: "global",
    stopDir: homedir(),
    loaders: { ".yaml": textLoader, ".yml": textLoader, noExt: textLoader },
  });
  const found = explorer.search(cwd);
  if (!found) {
    throw new ScheduleFileError(
      `no schedule file found: looked for ${SEARCH_PLACES.join(", ")} from ${cwd} up to ${homedir()}, and ~/.config/tdefer/config.yaml\n  hint: name the file, e.g. \`tdefer run schedules.yaml\``,
    );
  }
  return found.filepath;
}

/** Reads and validates a schedule file; throws ScheduleFileError or ScheduleErrors. */
export function loadScheduleFile(file: string, options: Partial<ValidateOptions> = {}): Schedule {
  let text: string;
  try {
    const size = statSync(file).size;
    if (size > MAX_FILE_BYTES) {
      throw new ScheduleFileError(
        `${file}: the file is ${size} bytes; a schedule file may have at most ${MAX_FILE_BYTES}`,
      );
    }
    text = readFileSync(file, "utf8");
  } catch (error) {
    if (error instanceof ScheduleFileError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (error as Error).message;
    throw new ScheduleFileError(`${file}: cannot read the schedule file: ${why}`);
  }
  return loadScheduleText(text, file, {
    nowMs: options.nowMs ?? Date.now(),
    systemZone: options.systemZone ?? systemZone(),
    isRoot: options.isRoot ?? process.getuid?.() === 0,
    forRunning: options.forRunning ?? false,
  });
}

/** Exit status for an invalid or missing schedule file (sysexits EX_CONFIG). */
export const EX_CONFIG = 78;

/** The lines reportConfigError would print, for the log of a refused reload. */
export function configErrorLines(error: unknown): string[] {
  const lines: string[] = [];
  reportConfigError(error, { write: (text: string) => lines.push(...text.trimEnd().split("\n")) });
  return lines;
}

/** Prints a configuration problem to stderr and returns the exit status for it, or rethrows a bug. */
export function reportConfigError(error: unknown, stderr: { write(text: string): unknown }): number {
  if (error instanceof ScheduleErrors) {
    stderr.write(`${error.message}\n`);
    const count = error.problems.length;
    stderr.write(
      `${count} problem${count === 1 ? "" : "s"} in ${error.problems[0]?.file}; nothing was started\n`,
    );
    return EX_CONFIG;
  }
  if (error instanceof ScheduleFileError) {
    stderr.write(`tdefer: ${error.message}\n`);
    return EX_CONFIG;
  }
  throw error;
}
