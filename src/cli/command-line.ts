// What each command accepts: names, arguments, options and help. A command's work lives in
// commands/<name>.ts and is imported only when that command runs, so `--version`, `--help` and a
// command's own help load none of the schedule reader, the scheduler, the runner or the log.
import { type Command, InvalidArgumentError, Option } from "commander";
import { parseDuration } from "../schedule/duration.js";
import type { CrontabFlags } from "./crontab-source.js";
import { DEFAULT_GRACE_MS, DEFAULT_NEXT_COUNT } from "./defaults.js";
import type { CliIO } from "./io.js";
import type { LogFormat } from "./log-output.js";

export interface RunOptions extends CrontabFlags {
  state?: string;
  logFormat?: LogFormat;
  color?: boolean;
  grace: number;
  for?: number;
  http?: string | true;
  httpTokenFile?: string;
}

export interface StatusOptions {
  http: string;
  httpTokenFile?: string;
  json?: boolean;
}

export interface TriggerOptions extends CrontabFlags {
  state?: string;
  logFormat?: LogFormat;
  color?: boolean;
}

export interface CheckOptions extends CrontabFlags {
  json?: boolean;
  state?: string;
}

export interface HistoryOptions {
  file?: string;
  since?: string;
  count: number;
  failed?: boolean;
  json?: boolean;
  state?: string;
}

/** More records than a terminal shows; JSON readers can page with --since. */
export const MAX_HISTORY_COUNT = 1_000_000;

const historyCount = (value: string): number => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_HISTORY_COUNT)
    throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_HISTORY_COUNT}`);
  return n;
};

export interface NextOptions extends CrontabFlags {
  count: number;
  job?: string[];
  from?: string;
  until?: string;
  json?: boolean;
  cron?: string;
  tz?: string;
}

export interface ImportCrontabOptions {
  system?: boolean;
  name?: string;
}

/** More fires than anyone reads; a bigger -n would only make `next` run (and print) for a very long time. */
export const MAX_NEXT_COUNT = 100_000;

const durationArgument = (value: string): number => {
  const ms = parseDuration(value);
  if (ms === undefined)
    throw new InvalidArgumentError("expected a duration like 25s, 2m or 1h30m, at most 36500d");
  return ms;
};

const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_NEXT_COUNT)
    throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_NEXT_COUNT}`);
  return n;
};

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function logFormatOption(): Option {
  return new Option(
    "--log-format <format>",
    "pretty (colours on a terminal), plain, or json (one object per line)",
  ).choices(["pretty", "plain", "json"]);
}

function stateOption(): Option {
  return new Option(
    "--state <value>",
    "the ledger: a file path, a postgres://USER@HOST/DB URL (password in PGPASSWORD or ~/.pgpass), or none to remember nothing (default: $TDEFER_STATE, the file's state:, then a file in the state folder)",
  );
}

function crontabOption(): Option {
  return new Option(
    "--crontab <file>",
    "use this crontab directly instead of a schedule file (see `import crontab`)",
  );
}

function systemFormatOption(): Option {
  return new Option(
    "--system",
    "with --crontab: the system format, with a user field (assumed for /etc/crontab and /etc/cron.d/*)",
  );
}

/** Where `run --http` listens when given no address (and where `status` asks). */
const DEFAULT_HTTP_ADDRESS = "127.0.0.1:9780";

/** Adds run, status, trigger, check, next, schema and import; each loads its module when it runs. */
export function addCommands(program: Command, io: CliIO, exitWith: (status: number) => void): void {
  program
    .command("run")
    .description("run the schedule: every job on one event loop, output streamed line by line")
    .argument("[file]", "the schedule file (default: searched for)")
    .addOption(stateOption())
    .addOption(logFormatOption())
    .option("--color", "colour the log even when it is not a terminal (as FORCE_COLOR=1)")
    .option("--no-color", "never colour the log")
    .addOption(
      new Option("--grace <duration>", "on SIGINT/SIGTERM, how long running jobs get before SIGKILL")
        .argParser(durationArgument)
        .default(DEFAULT_GRACE_MS, "25s"),
    )
    .option(
      "--for <duration>",
      "stop (as on SIGTERM) after this long; for trying a schedule out",
      durationArgument,
    )
    .addOption(crontabOption())
    .addOption(systemFormatOption())
    .option(
      "--http [address]",
      `serve the status page, the JSON API and /metrics at HOST:PORT (default ${DEFAULT_HTTP_ADDRESS})`,
    )
    .option(
      "--http-token-file <file>",
      "the token HTTP clients must send (Authorization: Bearer TOKEN); required off loopback",
    )
    .action(async (file: string | undefined, options: RunOptions) => {
      const [{ runCommand }, { processShell }] = await Promise.all([
        import("./commands/run.js"),
        import("./process-shell.js"),
      ]);
      exitWith(await runCommand(file, options, processShell(io)));
    });

  program
    .command("status")
    .description("a one-screen summary of a running tdefer, from its HTTP API (run --http)")
    .option("--http <address>", "where the daemon serves its API", DEFAULT_HTTP_ADDRESS)
    .option("--http-token-file <file>", "the token the daemon asks for (off loopback)")
    .option("--json", "print the API's jobs and recent failures as JSON")
    .action(async (options: StatusOptions) => {
      const { statusCommand } = await import("./commands/status.js");
      exitWith(await statusCommand(options, io));
    });

  program
    .command("trigger")
    .description("run one job now, in the foreground, with the same logging; exit with its status")
    .argument("<job>", "the job's name")
    .argument("[file]", "the schedule file (default: searched for)")
    .addOption(stateOption())
    .addOption(logFormatOption())
    .option("--color", "colour the log even when it is not a terminal (as FORCE_COLOR=1)")
    .option("--no-color", "never colour the log")
    .addOption(crontabOption())
    .addOption(systemFormatOption())
    .action(async (name: string, file: string | undefined, options: TriggerOptions) => {
      const [{ triggerCommand }, { processShell }] = await Promise.all([
        import("./commands/trigger.js"),
        import("./process-shell.js"),
      ]);
      exitWith(await triggerCommand(name, file, options, processShell(io)));
    });

  program
    .command("check")
    .description("validate the schedule file and summarise each job (exit 78 when invalid)")
    .argument("[file]", "the schedule file (default: searched for)")
    .option("--json", "print the summary, or the problems, as one JSON object")
    .addOption(stateOption())
    .addOption(crontabOption())
    .addOption(systemFormatOption())
    .action(async (file: string | undefined, options: CheckOptions) => {
      const { checkCommand } = await import("./commands/check.js");
      exitWith(await checkCommand(file, options, io));
    });

  program
    .command("history")
    .description("what ran, newest first: each fire's result from the ledger (readable while `run` runs)")
    .argument("[jobs...]", "only these jobs (a path to a schedule file is taken as the file)")
    .option("-f, --file <file>", "the schedule file (default: searched for)")
    .option("--since <when>", "only fires since this long ago (6h, 2d) or this time (2026-12-01 09:00)")
    .option("-n, --count <n>", "at most this many records", historyCount, 20)
    .option("--failed", "only failed, timed out, killed and lost runs")
    .option("--json", "one JSON object per line, the record's columns in snake_case")
    .addOption(stateOption())
    .action(async (jobs: string[], options: HistoryOptions) => {
      const { historyCommand } = await import("./commands/history.js");
      exitWith(await historyCommand(jobs, options, io));
    });

  program
    .command("next")
    .description("preview the upcoming fire times of all jobs, merged in time order")
    .argument("[file]", "the schedule file (default: searched for, see --help of the main command)")
    .option("-n, --count <n>", "how many fires in total", positiveInt, DEFAULT_NEXT_COUNT)
    .option("--job <name>", "only this job (repeatable)", collect)
    .option("--from <time>", "start the preview at this time, as `run` started then would (default: now)")
    .option("--until <time>", "stop the preview at this time")
    .option("--json", "print one JSON array")
    .option("--cron <expr>", "preview one cron expression instead of a file")
    .option(
      "--tz <zone>",
      "the zone of --cron, and of --from/--until times without an offset (default: the system zone)",
    )
    .addOption(crontabOption())
    .addOption(systemFormatOption())
    .action(async (file: string | undefined, options: NextOptions) => {
      const { nextCommand } = await import("./commands/next.js");
      exitWith(await nextCommand(file, options, io));
    });

  program
    .command("schema")
    .description(
      "print the JSON Schema of the schedule file (draft-07, for editors via yaml-language-server)",
    )
    .action(async () => {
      const { schemaCommand } = await import("./commands/schema.js");
      schemaCommand(io);
    });

  program
    .command("import")
    .description("convert another scheduler's table into a schedule file (printed on stdout)")
    .command("crontab")
    .description(
      "convert a crontab: each entry a job, with its line as a comment; problems to stderr (exit 78)",
    )
    .argument("[file]", "the crontab, or - for standard input", "-")
    .option("--system", "the system format, with a user field (assumed for /etc/crontab and /etc/cron.d/*)")
    .option("--name <name>", "what to call the crontab in comments and messages (default: the file as given)")
    .action(async (file: string, options: ImportCrontabOptions) => {
      const { importCrontabCommand } = await import("./commands/import.js");
      exitWith(await importCrontabCommand(file, options, io));
    });
}
