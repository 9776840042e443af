import { createRequire } from "node:module";
import type * as ZodPackage from "zod";
import { DURATION_PATTERN } from "./duration.js";

// The shape of the schedule file, once: it validates the structure and generates the JSON Schema for
// editors, so the two can never disagree. Semantic checks (cron, zones, dates) follow in validate.ts.
// zod is loaded on first use: a well-formed file passes the check of the JSON Schema generated from it
// (shape.ts) and never needs it, and loading zod costs more start-up time than all of `next`'s own work.

export const JOB_NAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_.-]*$";
export const SCHEDULE_NAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$";

function buildSchemas(z: typeof ZodPackage) {
  const describeValue = (input: unknown): string =>
    input === null
      ? "null"
      : Array.isArray(input)
        ? "a list"
        : typeof input === "object"
          ? "a map"
          : JSON.stringify(input);

  const duration = (what: string) =>
    z
      .string({
        error: (issue) =>
          typeof issue.input === "number"
            ? `a bare number is not a duration: add a unit, e.g. ${issue.input}s or ${issue.input}m`
            : `expected a duration like 30s, 5m or 1h30m, got ${describeValue(issue.input)}`,
      })
      .regex(new RegExp(DURATION_PATTERN), {
        error: (issue) =>
          `"${issue.input}" is not a duration: use a number and a unit (ms, s, m, h, d), e.g. 30s, 5m, 1h30m`,
      })
      .describe(what);

  const text = (what: string) =>
    z.string({ error: (issue) => `expected text, got ${describeValue(issue.input)}` }).describe(what);

  const envMap = z
    .record(
      z.string(),
      z.union([z.string(), z.number(), z.boolean()], {
        error: (issue) =>
          `an environment value must be text, a number or true/false, got ${describeValue(issue.input)}`,
      }),
      { error: (issue) => `expected a map of NAME: value, got ${describeValue(issue.input)}` },
    )
    .describe("Environment variables added to the job's environment. Values are never logged.");

  const idOrName = z.union([z.string(), z.number().int().nonnegative()], {
    error: (issue) => `expected a name or a numeric id, got ${describeValue(issue.input)}`,
  });

  /** The options a job can take from `defaults`: everything but the trigger and the command. */
  const jobOptionsShape = {
    timezone: text(
      "IANA zone for cron and at, e.g. Europe/Berlin (default: the file's, then the system's)",
    ).optional(),
    jitter: duration("Add a random delay in [0, jitter) to each fire").optional(),
    cwd: text("Working directory (default: the schedule file's folder); relative to the file").optional(),
    env: envMap.optional(),
    timeout: duration(
      "Stop the run after this long: kill_signal to its process group, SIGKILL after kill_grace",
    ).optional(),
    kill_signal: text("Signal sent on timeout, replace and shutdown (default SIGTERM)").optional(),
    kill_grace: duration("How long to wait after kill_signal before SIGKILL (default 10s)").optional(),
    overlap: z
      .enum(["skip", "queue", "replace", "allow"], {
        error: (issue) => `expected one of skip, queue, replace, allow, got ${describeValue(issue.input)}`,
      })
      .describe("A fire while the previous run still goes: skip (default), queue, replace or allow")
      .optional(),
    retry: z
      .strictObject(
        {
          attempts: z
            .number({ error: (issue) => `expected a whole number >= 1, got ${describeValue(issue.input)}` })
            .int({ error: (issue) => `expected a whole number >= 1, got ${describeValue(issue.input)}` })
            .min(1, { error: (issue) => `expected a whole number >= 1, got ${describeValue(issue.input)}` })
            .describe("Total attempts, the first included"),
          delay: duration("Wait before the first retry (default 10s)").optional(),
          backoff: z
            .number({ error: (issue) => `expected a number >= 1, got ${describeValue(issue.input)}` })
            .min(1, {
              error: (issue) =>
                `expected a number >= 1 (1 = a constant delay), got ${describeValue(issue.input)}`,
            })
            .describe("Multiply the delay by this after each retry (default 2)")
            .optional(),
          max_delay: duration("The longest wait between attempts (default 10m)").optional(),
        },
        {
          error: (issue) =>
            `expected a map with attempts, delay, backoff, max_delay, got ${describeValue(issue.input)}`,
        },
      )
      .describe("Retry a failed run; the retries belong to the same run id")
      .optional(),
    user: idOrName.describe("Run as this user (only when tdefer runs as root)").optional(),
    group: idOrName.describe("Run as this group (only when tdefer runs as root)").optional(),
    enabled: z
      .boolean({ error: (issue) => `expected true or false, got ${describeValue(issue.input)}` })
      .describe("false: validated and shown by next, never fired")
      .optional(),
    description: text("Shown by check and next").optional(),
    notify: z
      .strictObject(
        {
          when: z
            .array(
              z.enum(["failure", "permanent_failure", "timeout", "missed", "lost", "success"], {
                error: (issue) =>
                  `expected one of failure, permanent_failure, timeout, missed, lost, success, got ${describeValue(issue.input)}`,
              }),
              {
                error: (issue) =>
                  `expected a list such as [permanent_failure, timeout], got ${describeValue(issue.input)}`,
              },
            )
            .min(1, { error: "the list is empty: leave `when` out for [permanent_failure]" })
            .describe(
              "Events to notify about: failure (each failed attempt), permanent_failure (default: retries exhausted), timeout, missed, lost, success",
            )
            .optional(),
          run: z
            .union([z.string(), z.array(z.string()).min(1, { error: "the command list is empty" })], {
              error: (issue) =>
                `expected a command: a string (run by the shell) or a list (argv), got ${describeValue(issue.input)}`,
            })
            .describe(
              "A command told of each event: the event as JSON on stdin, TDEFER_EVENT and TDEFER_* set",
            )
            .optional(),
          webhook: text(
            "A URL POSTed the event as JSON (10 s timeout, 3 tries); never logged whole",
          ).optional(),
        },
        { error: (issue) => `expected a map with when, run and webhook, got ${describeValue(issue.input)}` },
      )
      .describe("Tell someone when a run fails: a command, a webhook, or both")
      .optional(),
    catch_up: z
      .union(
        [
          duration("Catch up the latest fire missed within this long before start"),
          z.strictObject(
            {
              within: duration("Only fires missed within this long before start"),
              runs: z
                .enum(["latest", "all"], {
                  error: (issue) => `expected latest or all, got ${describeValue(issue.input)}`,
                })
                .describe(
                  "latest (default): run the newest missed fire once; all: each, in order, at most 100",
                )
                .optional(),
            },
            {
              error: (issue) =>
                `expected a duration like 6h, or a map with within and runs, got ${describeValue(issue.input)}`,
            },
          ),
        ],
        {
          error: (issue) =>
            `expected a duration like 6h, or a map with within and runs, got ${describeValue(issue.input)}`,
        },
      )
      .describe("Fires missed while tdefer was down: run them at start (needs the ledger)")
      .optional(),
    on_lost: z
      .enum(["abandon", "rerun"], {
        error: (issue) => `expected abandon or rerun, got ${describeValue(issue.input)}`,
      })
      .describe("A run in flight when tdefer died: abandon (default; recorded lost) or rerun")
      .optional(),
  };

  const atTime = z.union([z.string(), z.number()]);

  const jobSchema = z
    .strictObject(
      {
        every: duration("Run on the grid start + k·interval (a LoopingCall)").optional(),
        now: z
          .boolean({ error: (issue) => `expected true or false, got ${describeValue(issue.input)}` })
          .describe("With every: also run once at start (default false)")
          .optional(),
        cron: text(
          "Cron expression: 5 fields, or 6 with seconds first; evaluated in the job's zone",
        ).optional(),
        after: duration("Run once, this long after start").optional(),
        at: z
          .union([atTime, z.array(atTime).min(1, { error: "the list of times is empty" })], {
            error: (issue) =>
              `expected a date-time like "2026-12-01 09:00" or a list of them, got ${describeValue(issue.input)}`,
          })
          .describe('Run once at each time: "2026-12-01 09:00" (in the job\'s zone) or with an offset')
          .optional(),
        run: z
          .union(
            [
              z.string(),
              z
                .array(
                  z.string({
                    error: (issue) =>
                      `the items of a command list are text, got ${describeValue(issue.input)}`,
                  }),
                )
                .min(1, { error: "the command list is empty" }),
            ],
            {
              error: (issue) =>
                `expected a command: a string (run by the shell) or a list (argv, no shell), got ${describeValue(issue.input)}`,
            },
          )
          .describe("The command: a string runs through `shell -c`; a list is argv, with no shell"),
        stdin: text(
          "Text written to the command's standard input, which is then closed (default: none; stdin is /dev/null)",
        ).optional(),
        ...jobOptionsShape,
      },
      { error: (issue) => `expected a job: a map with a trigger and run, got ${describeValue(issue.input)}` },
    )
    .describe("A job: exactly one trigger (every, cron, after, at) and a run command");

  const scheduleSchema = z
    .strictObject(
      {
        version: z
          .literal(1, { error: (issue) => `only format version 1 exists, got ${describeValue(issue.input)}` })
          .describe("Format version (only 1)")
          .optional(),
        name: z
          .string({ error: (issue) => `expected a name, got ${describeValue(issue.input)}` })
          .regex(new RegExp(SCHEDULE_NAME_PATTERN), {
            error: "a schedule name is letters, digits, and . _ - after the first character",
          })
          .describe("The schedule's name in the ledger (default: the file's base name without extension)")
          .optional(),
        state: text(
          "Where the ledger is: a path (relative to this file), a postgres:// URL, or none (default: a file in the state folder)",
        ).optional(),
        ledger: z
          .strictObject(
            {
              keep: duration("Delete records older than this (default 30d), at most hourly").optional(),
              lease: duration(
                "How long a claim holds without renewal (default 30s); its owner renews it every third of it",
              ).optional(),
              down: z
                .enum(["skip", "run"], {
                  error: (issue) => `expected skip or run, got ${describeValue(issue.input)}`,
                })
                .describe(
                  "A fire while the ledger does not answer: skip it (the default with PostgreSQL: never a double) or run it unclaimed (the default with SQLite)",
                )
                .optional(),
            },
            {
              error: (issue) => `expected a map with keep, lease or down, got ${describeValue(issue.input)}`,
            },
          )
          .describe("The ledger's retention, lease, and what a fire does while it does not answer")
          .optional(),
        timezone: text("Default IANA zone for cron and at jobs (default: the system zone)").optional(),
        shell: text("Runs string commands as `shell -c STRING` (default /bin/sh)").optional(),
        env: envMap.optional(),
        http: text(
          "Serve the status page, the JSON API and /metrics at HOST:PORT (as run --http, which overrides it)",
        ).optional(),
        max_parallel: z
          .number({ error: (issue) => `expected a whole number >= 1, got ${describeValue(issue.input)}` })
          .int({ error: (issue) => `expected a whole number >= 1, got ${describeValue(issue.input)}` })
          .min(1, { error: (issue) => `expected a whole number >= 1, got ${describeValue(issue.input)}` })
          .describe("At most this many runs at once across all jobs; further fires wait in line")
          .optional(),
        defaults: z
          .strictObject(jobOptionsShape, {
            error: (issue) => `expected a map of job options, got ${describeValue(issue.input)}`,
          })
          .describe("Options every job gets unless it sets its own")
          .optional(),
        jobs: z
          .record(z.string().regex(new RegExp(JOB_NAME_PATTERN)), jobSchema, {
            error: (issue) => `expected a map of job names to jobs, got ${describeValue(issue.input)}`,
          })
          .describe("The jobs, by name"),
      },
      { error: (issue) => `expected a map with a \`jobs:\` key, got ${describeValue(issue.input)}` },
    )
    .describe("A tdefer schedule file");
  return { z, jobOptionsShape, jobSchema, scheduleSchema };
}

type Schemas = ReturnType<typeof buildSchemas>;
let schemas: Schemas | undefined;

/** The zod schemas of the file, built (and zod loaded) on the first call. */
export function zodSchemas(): Schemas {
  schemas ??= buildSchemas(createRequire(import.meta.url)("zod") as typeof ZodPackage);
  return schemas;
}

export type RawSchedule = ZodPackage.infer<Schemas["scheduleSchema"]>;
export type RawJob = ZodPackage.infer<Schemas["jobSchema"]>;
export type RawJobOptions = ZodPackage.infer<ZodPackage.ZodObject<Schemas["jobOptionsShape"]>>;

/** The keys allowed at each level, for "did you mean" hints. */
export function allowedKeys(): {
  readonly topLevel: string[];
  readonly job: string[];
  readonly jobOption: string[];
  readonly retry: string[];
  readonly notify: string[];
} {
  const { scheduleSchema, jobSchema, jobOptionsShape } = zodSchemas();
  return {
    topLevel: Object.keys(scheduleSchema.shape),
    job: Object.keys(jobSchema.shape),
    jobOption: Object.keys(jobOptionsShape),
    retry: ["attempts", "delay", "backoff", "max_delay"],
    notify: ["when", "run", "webhook"],
  };
}

/** The JSON Schema (draft-07) of the file, for editors through yaml-language-server. */
export function scheduleJsonSchema(): Record<string, unknown> {
  return {
    ...zodSchemas().z.toJSONSchema(zodSchemas().scheduleSchema, { io: "input", target: "draft-07" }),
    title: "tdefer schedule file",
  };
}
