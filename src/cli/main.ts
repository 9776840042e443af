import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { EXIT_USAGE, UserError } from "../errors.js";
import { addCommands } from "./command-line.js";
import { type CliIO, processIO } from "./io.js";

const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

/**
 * Builds the commander program; a command's module is loaded only when that command runs. `exitWith` is told
 * the exit status a command ended with.
 */
export function createProgram(io: CliIO = processIO, exitWith: (status: number) => void = () => {}): Command {
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

/**
 * The CLI entry point: parses argv and runs the command. The one place that sets the exit status: the command's
 * own, 2 for a usage error, or the status a UserError carries (its report on stderr, no stack trace). Any other
 * error is a bug and propagates.
 */
export async function main(argv: string[], io: CliIO = processIO): Promise<void> {
  let status = 0;
  const program = createProgram(io, (code) => {
    status = code;
  });
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) status = error.exitCode === 0 ? 0 : EXIT_USAGE;
    else if (error instanceof UserError) {
      io.stderr.write(error.report());
      status = error.exitCode;
    } else throw error;
  }
  io.setExitCode(status);
}
