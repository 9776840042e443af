import { UserError } from "../errors.js";
import { DEFAULT_NEXT_COUNT } from "./defaults.js";
import { type CliIO, processIO } from "./io.js";

/**
 * The CLI entry point: parses argv and runs the command. The one place that sets the exit status: the command's
 * own, 2 for a usage error, or the status a UserError carries (its report on stderr, no stack trace). Any other
 * error is a bug and propagates.
 */
export async function main(argv: string[], io: CliIO = processIO): Promise<void> {
  let status: number;
  try {
    status = await (printVersion(argv, io) ??
      runPlainFileCommand(argv, io) ??
      runPlainRunCommand(argv, io) ??
      runWithCommander(argv, io));
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    io.stderr.write(error.report());
    status = error.exitCode;
  }
  io.setExitCode(status);
}

async function runWithCommander(argv: string[], io: CliIO): Promise<number> {
  const { runProgram } = await import("./program.js");
  return runProgram(argv, io);
}

/** `tdefer --version` (or `-V`) alone prints what commander would, without loading it (most of its start-up). */
function printVersion(argv: string[], io: CliIO): Promise<number> | undefined {
  if (argv.length !== 3 || (argv[2] !== "--version" && argv[2] !== "-V")) return undefined;
  return import("./version.js").then(({ version }) => {
    io.stdout.write(`${version}\n`);
    return 0;
  });
}

/**
 * `tdefer next FILE` and `tdefer check FILE`, the commonest command lines, run without loading commander (a
 * fifth of `next`'s start-up): the same command with the options commander would give it. Any other command
 * line, with an option or without a file, goes through commander; undefined then.
 */
function runPlainFileCommand(argv: string[], io: CliIO): Promise<number> | undefined {
  if (argv.length !== 4) return undefined;
  const [, , command, file] = argv as [string, string, string, string];
  if (file === "" || file.startsWith("-")) return undefined;
  if (command === "next") {
    return import("./commands/next.js").then(({ nextCommand }) =>
      nextCommand(file, { count: DEFAULT_NEXT_COUNT }, io),
    );
  }
  if (command === "check") {
    return import("./commands/check.js").then(({ checkCommand }) => checkCommand(file, {}, io));
  }
  return undefined;
}

/**
 * `tdefer run` with a file and the options a daemon is usually started with (see run-arguments.ts) runs without
 * loading commander, which would stay in an idle daemon's memory; any other `run` command line goes through it.
 */
function runPlainRunCommand(argv: string[], io: CliIO): Promise<number> | undefined {
  if (argv[2] !== "run") return undefined;
  return import("./run-arguments.js").then(async ({ plainRunArguments }) => {
    const parsed = plainRunArguments(argv.slice(3));
    if (parsed === undefined) return runWithCommander(argv, io);
    const [{ runCommand }, { processShell }] = await Promise.all([
      import("./commands/run.js"),
      import("./process-shell.js"),
    ]);
    return runCommand(parsed.file, parsed.options, processShell(io));
  });
}
