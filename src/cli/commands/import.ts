import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ScheduleFileError } from "../../errors.js";
import { isSystemCrontabPath, loadCrontabText, readCrontabText } from "../../schedule/crontab.js";
import { crontabAsYaml } from "../../schedule/crontab-yaml.js";
import { systemZone } from "../../schedule/zone.js";
import type { ImportCrontabOptions } from "../command-line.js";
import { crontabOptions, readCrontabFile } from "../crontab-source.js";
import type { CliIO } from "../io.js";

/** `tdefer import crontab`: the crontab as a schedule file on stdout; its problems on stderr (exit 78). */
export function importCrontabCommand(file: string, options: ImportCrontabOptions, io: CliIO): number {
  const fromStdin = file === "-";
  const text = fromStdin ? readStdin() : readCrontabFile(resolve(io.cwd, file));
  const source = options.name ?? (fromStdin ? "stdin" : file);
  // The system format goes with the file's place, or with the name it is given (`-` has no place).
  const path = fromStdin ? source : resolve(io.cwd, file);
  const formatOptions = crontabOptions(path, options.system === true || isSystemCrontabPath(source));
  // Validated as `check` would, so that what is printed is a file `check` accepts.
  const schedule = loadCrontabText(text, source, {
    nowMs: io.nowMs(),
    systemZone: systemZone(),
    isRoot: true,
    forRunning: false,
    ...formatOptions,
  });
  for (const warning of schedule.warnings) {
    io.stderr.write(`${warning.file}:${warning.line}:${warning.col}: ${warning.path}: ${warning.message}\n`);
  }
  io.stdout.write(crontabAsYaml(readCrontabText(text, source, formatOptions), source, formatOptions.system));
  return 0;
}

function readStdin(): string {
  try {
    return readFileSync(0, "utf8");
  } catch (error) {
    throw new ScheduleFileError(`cannot read the crontab from standard input: ${(error as Error).message}`);
  }
}
