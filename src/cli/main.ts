import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";

const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

/** Builds the commander program; commands are added by their modules. */
export function createProgram(): Command {
  const program = new Command("tdefer")
    .description("Run every/after/at/cron jobs from a YAML schedule file, with live logs.")
    .version(version, "-V, --version")
    .showHelpAfterError("(run `tdefer --help` for usage)")
    .exitOverride();
  return program;
}

/** The CLI entry point: parses argv, runs the command, sets the exit status. */
export async function main(argv: string[]): Promise<void> {
  const program = createProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    throw error;
  }
}
