import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { cosmiconfigSync } from "cosmiconfig";
import { ScheduleFileError, UserError } from "../errors.js";
import type { Schedule } from "../schedule/types.js";
import { loadScheduleText, type ValidateOptions } from "../schedule/validate.js";
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

/** A schedule file larger than this is refused before it is read (no schedule needs 4 MiB). */
const MAX_FILE_BYTES = 4 * 1024 * 1024;

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
  screenText(text, file);
  try {
    return loadScheduleText(text, file, {
      nowMs: options.nowMs ?? Date.now(),
      systemZone: options.systemZone ?? systemZone(),
      isRoot: options.isRoot ?? process.getuid?.() === 0,
      forRunning: options.forRunning ?? false,
      warnings: options.warnings ?? true,
    });
  } catch (error) {
    // A structure the screen let through may still overflow the parser's stack: a problem with the file.
    if (error instanceof RangeError) {
      throw new ScheduleFileError(
        `${file}: the file is too large or too deeply nested to read (${error.message})\n  hint: a schedule needs only a few levels and short lists`,
      );
    }
    throw error;
  }
}

/** Flow brackets (`[`, `{`) nested deeper than this are refused before parsing (the data's own limit is 64 too). */
const MAX_FLOW_DEPTH = 64;
/** Alias references (`*name`) beyond this are refused before parsing: aliases may expand to 1000 nodes at most. */
const MAX_ALIASES = 1000;

/**
 * Refuses YAML bombs in one linear pass over the text, before the parser (which spends time and memory on
 * every node) sees them: runaway flow nesting, and more alias references than the expansion limit allows.
 * Quoted text and comments are skipped; brackets and stars inside plain or block scalars are counted, which
 * can only make a pathological file fail here rather than in the parser.
 */
function screenText(text: string, file: string): void {
  let depth = 0;
  let aliases = 0;
  let line = 1;
  let lineStart = 0;
  let quote = "";
  let comment = false;
  // The last character that was not blank: an alias can only start a value (after `:`, `-`, `?`, `[`, `,`, `{`
  // or at the start of a line); a `*` inside a plain scalar such as `0 */2 * * *` is text.
  let last = 10;
  const refuse = (at: number, message: string, hint: string): never => {
    throw new ScheduleFileError(`${file}:${line}:${at - lineStart + 1}: ${message}\n  hint: ${hint}`);
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      line++;
      lineStart = i + 1;
      comment = false;
      last = 10;
      continue;
    }
    if (comment) continue;
    if (quote !== "") {
      if (quote === '"' && c === 92)
        i++; // a backslash escape inside double quotes
      else if (text[i] === quote) quote = "";
      continue;
    }
    const startsValue = last === 10 || last === 58 || last === 45 || last === 63 || isFlowChar(last);
    if (c !== 32 && c !== 9 && c !== 13) last = c;
    const before = i === 0 ? 32 : text.charCodeAt(i - 1);
    const atTokenStart =
      before === 32 || before === 9 || before === 10 || before === 13 || isFlowChar(before);
    switch (c) {
      case 35: // #
        if (atTokenStart) comment = true;
        break;
      case 34: // "
      case 39: // '
        if (atTokenStart || before === 58) quote = text[i]!;
        break;
      case 91: // [
      case 123: // {
        if (++depth > MAX_FLOW_DEPTH)
          refuse(
            i,
            `the data is nested more than ${MAX_FLOW_DEPTH} levels deep`,
            "a schedule needs only a few levels (jobs, a job, its keys); check for runaway brackets",
          );
        break;
      case 93: // ]
      case 125: // }
        if (depth > 0) depth--;
        break;
      case 42: // *
        if (
          atTokenStart &&
          startsValue &&
          i + 1 < text.length &&
          !/[\s,[\]{}]/.test(text[i + 1]!) &&
          ++aliases > MAX_ALIASES
        )
          refuse(
            i,
            `more than ${MAX_ALIASES} aliases (*name)`,
            "use aliases only for small shared blocks such as job defaults",
          );
        break;
    }
  }
}

/** `,`, `[`, `]`, `{`, `}` and `:` end or start a token in flow style. */
function isFlowChar(c: number): boolean {
  return c === 44 || c === 91 || c === 93 || c === 123 || c === 125 || c === 58;
}

/** The lines a refused reload logs: the problems and what happens because of them. */
export function configErrorLines(error: unknown): string[] {
  if (!(error instanceof UserError)) throw error;
  return error.report("the running schedule stays").trimEnd().split("\n");
}
