// `tdefer run`'s command line as commander reads it, for the command lines a daemon is usually started with, so
// that `run` need not load commander (~2 MB of a daemon's idle memory, and start-up time). Anything else (an
// unknown or repeated option, `--opt=value`, `--`, `--http`, `--crontab`, a value commander would refuse) is left to
// commander, which says what is wrong as it always did.
import { parseDuration } from "../schedule/duration.js";
import type { RunOptions } from "./command-line.js";
import { DEFAULT_GRACE_MS } from "./defaults.js";
import type { LogFormat } from "./log-output.js";

const LOG_FORMATS: readonly string[] = ["pretty", "plain", "json"] satisfies LogFormat[];

/** What each option read here sets, given its value (undefined: commander must say why it is refused). */
const OPTIONS: Record<string, (value: string) => Partial<RunOptions> | undefined> = {
  "--state": (value) => ({ state: value }),
  "--log-format": (value) => (LOG_FORMATS.includes(value) ? { logFormat: value as LogFormat } : undefined),
  "--grace": (value) => {
    const ms = parseDuration(value);
    return ms === undefined ? undefined : { grace: ms };
  },
  "--for": (value) => {
    const ms = parseDuration(value);
    return ms === undefined ? undefined : { for: ms };
  },
  "--http-token-file": (value) => ({ httpTokenFile: value }),
};

const FLAGS: Record<string, Partial<RunOptions>> = {
  "--color": { color: true },
  "--no-color": { color: false },
};

/** The options of `tdefer run` this module reads; the test holds it to commander's definition of the command. */
export const PLAIN_RUN_OPTIONS: readonly string[] = [...Object.keys(OPTIONS), ...Object.keys(FLAGS)];

/**
 * The file and options commander would give `run`'s action for `args` (what follows `run`), or undefined to
 * let commander read them. Each option at most once, a value as the next argument, at most one file.
 */
export function plainRunArguments(
  args: readonly string[],
): { file: string | undefined; options: RunOptions } | undefined {
  let file: string | undefined;
  const options: RunOptions = { grace: DEFAULT_GRACE_MS };
  const seen = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith("-")) {
      if (file !== undefined || arg === "") return undefined;
      file = arg;
      continue;
    }
    // --color and --no-color set one option: the two together are left to commander as well.
    const name = arg === "--no-color" ? "--color" : arg;
    if (seen.has(name)) return undefined;
    seen.add(name);
    const flag = FLAGS[arg];
    if (flag !== undefined) {
      Object.assign(options, flag);
      continue;
    }
    const read = OPTIONS[arg];
    const value = args[i + 1];
    if (read === undefined || value === undefined || value === "" || value.startsWith("-")) return undefined;
    const set = read(value);
    if (set === undefined) return undefined;
    Object.assign(options, set);
    i++;
  }
  return { file, options };
}
