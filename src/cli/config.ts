import { createRequire } from "node:module";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import type * as Cosmiconfig from "cosmiconfig";
import { ScheduleFileError, UserError } from "../errors.js";
import { MAX_FILE_BYTES } from "../schedule/limits.js";
import type { Schedule } from "../schedule/types.js";
import { loadScheduleFileText, type ValidateOptions } from "../schedule/validate.js";
import { systemZone } from "../schedule/zone.js";
import { readRegularFile, runningUid, UntrustedFileError } from "./trusted-file.js";

/** Where `tdefer` looks for a schedule file when none is named, from the working directory up to home. */
export const SEARCH_PLACES = [
  "tdefer.yaml",
  "tdefer.yml",
  "schedules.yaml",
  ".tdeferrc.yaml",
  ".tdeferrc.yml",
  ".config/tdefer.yaml",
];

/** The schedule file to use: the one given, or the first found by cosmiconfig's search. */
export function findScheduleFile(given: string | undefined, cwd = process.cwd()): string {
  if (given) return resolve(cwd, given);
  // Loaded only to search: a command given its file never pays cosmiconfig's start-up time.
  const { cosmiconfigSync } = createRequire(import.meta.url)("cosmiconfig") as typeof Cosmiconfig;
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

/**
 * Reads and validates a schedule file; throws ScheduleFileError or ScheduleErrors. Only a regular file is read,
 * through one descriptor and at most MAX_FILE_BYTES of it. With `trusted` (the default when `forRunning`), the
 * file, the folders on the way and any symbolic link must pass the trust rules (checkTrustedPath), checked on
 * the descriptor that is read.
 */
export function loadScheduleFile(
  file: string,
  options: Partial<ValidateOptions> & { readonly trusted?: boolean } = {},
): Schedule {
  const trustUid = (options.trusted ?? options.forRunning ?? false) ? runningUid() : undefined;
  let text: string;
  try {
    text = readRegularFile(file, {
      maxBytes: MAX_FILE_BYTES,
      ...(trustUid !== undefined ? { trustUid } : {}),
    }).toString("utf8");
  } catch (error) {
    if (error instanceof UntrustedFileError && error.isFolder) {
      throw new ScheduleFileError(
        `${file} is a directory, not a schedule file\n  hint: name the file in it, e.g. ${join(file, "schedules.yaml")}`,
      );
    }
    if (error instanceof UntrustedFileError) throw new ScheduleFileError(error.message);
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "no such file"
        : code === "EACCES"
          ? "permission denied"
          : code === "ENOTDIR"
            ? "a part of the path is not a folder"
            : code === "ELOOP"
              ? "too many symbolic links"
              : (error as Error).message;
    throw new ScheduleFileError(`${file}: cannot read the schedule file: ${why}`);
  }
  return loadScheduleFileText(text, file, {
    nowMs: options.nowMs ?? Date.now(),
    systemZone: options.systemZone ?? systemZone(),
    isRoot: options.isRoot ?? process.getuid?.() === 0,
    forRunning: options.forRunning ?? false,
    warnings: options.warnings ?? true,
    ...(options.withPositions ? { withPositions: options.withPositions } : {}),
  });
}

/** The lines a refused reload logs: the problems and what happens because of them. */
export function configErrorLines(error: unknown): string[] {
  if (!(error instanceof UserError)) throw error;
  return error.report("the running schedule stays").trimEnd().split("\n");
}
