// The commander program: every command, option and help text (see command-line.ts). main.ts loads it for every
// command line but the commonest, which it runs without commander.
import { Command, CommanderError } from "commander";
import { EXIT_USAGE } from "../errors.js";
import { addCommands } from "./command-line.js";
import type { CliIO } from "./io.js";
import { version } from "./version.js";

/**
 * Builds the commander program; a command's module is loaded only when that command runs. `exitWith` is told
 * the exit status a command ended with.
 */
export function createProgram(io: CliIO, exitWith: (status: number) => void = () => {}): Command {
  const program = new Command("tdefer")
    .description("Run every/after/at/cron jobs from a YAML schedule file, with live logs.")
    .version(version, "-V, --version")
    .showHelpAfterError("(run `tdefer --help` for usage)")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .addHelpText(
      "after",
      "\nWithout a file, tdefer looks for tdefer.yaml, tdefer.yml, schedules.yaml, .tdeferrc.yaml, .tdeferrc.yml\nor .config/tdefer.yaml from here up to your home folder, then ~/.config/tdefer/config.yaml.\nExit status: 0 ok, 1 runtime failure, 2 usage error, 78 invalid schedule file.",
    );
  addCommands(program, io, exitWith);
  return program;
}

/** Parses argv with commander and runs the command: its exit status, or 2 for a usage error (said on stderr). */
export async function runProgram(argv: string[], io: CliIO): Promise<number> {
  let status = 0;
  const program = createProgram(io, (code) => {
    status = code;
  });
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    status = error.exitCode === 0 ? 0 : EXIT_USAGE;
  }
  return status;
}
