import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { loadCrontabText, readCrontabText } from "../../schedule/crontab.js";
import { crontabAsYaml } from "../../schedule/crontab-yaml.js";
import { systemZone } from "../../schedule/zone.js";
import { reportConfigError, ScheduleFileError } from "../config.js";
import { crontabOptions, readCrontabFile } from "../crontab-source.js";
import type { CliIO } from "../io.js";

export function addImportCommand(program: Command, io: CliIO): void {
  const importCommand = program
    .command("import")
    .description("convert another scheduler's table into a schedule file (printed on stdout)");
  importCommand
    .command("crontab")
    .description(
      "convert a crontab: each entry a job, with its line as a comment; problems to stderr (exit 78)",
    )
    .argument("[file]", "the crontab, or - for standard input", "-")
    .option("--system", "the system format, with a user field (assumed for /etc/crontab and /etc/cron.d/*)")
    .option("--name <name>", "what to call the crontab in comments and messages (default: the file as given)")
    .action((file: string, options: { system?: boolean; name?: string }) => {
      try {
        const fromStdin = file === "-";
        const text = fromStdin ? readStdin() : readCrontabFile(resolve(io.cwd, file));
        const source = options.name ?? (fromStdin ? "stdin" : file);
        const formatOptions = crontabOptions(fromStdin ? source : resolve(io.cwd, source), options.system);
        // Validated as `check` would, so that what is printed is a file `check` accepts.
        const schedule = loadCrontabText(text, source, {
          nowMs: io.nowMs(),
          systemZone: systemZone(),
          isRoot: true,
          forRunning: false,
          ...formatOptions,
        });
        for (const warning of schedule.warnings) {
          io.stderr.write(
            `${warning.file}:${warning.line}:${warning.col}: ${warning.path}: ${warning.message}\n`,
          );
        }
        io.stdout.write(
          crontabAsYaml(readCrontabText(text, source, formatOptions), source, formatOptions.system),
        );
      } catch (error) {
        io.setExitCode(reportConfigError(error, io.stderr));
      }
    });
}

function readStdin(): string {
  try {
    return readFileSync(0, "utf8");
  } catch (error) {
    throw new ScheduleFileError(`cannot read the crontab from standard input: ${(error as Error).message}`);
  }
}
