import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { addCommands } from "./command-line.js";
import { type CliIO, processIO } from "./io.js";

const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

/** Builds the commander program; a command's module is loaded only when that command runs. */
export function createProgram(io: CliIO = processIO): Command {
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
  addCommands(program, io);
  return program;
}

/** The CLI entry point: parses argv, runs the command, sets the exit status. */
export async function main(argv: string[], io: CliIO = processIO): Promise<void> {
  const program = createProgram(io);
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      io.setExitCode(error.exitCode === 0 ? 0 : 2);
      return;
    }
    throw error;
  }
}
