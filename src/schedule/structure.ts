// The first pass over a schedule file's data: its shape, by the zod schema, with every issue turned into
// a message a person can act on (unknown keys with a guess, missing keys with what they are for, hints).
import type * as z from "zod";
import { allowedKeys, type RawSchedule, zodSchemas } from "./schema.js";
import { hasScheduleShape } from "./shape.js";
import { closest } from "./suggest.js";

type Path = (string | number)[];

/** Reports one problem at a path; `at: "key"` points at the key instead of its value. */
export type Report = (path: Path, message: string, hint?: string, at?: "value" | "key") => void;

export interface Structure {
  /** The well-formed part of the file (all of it when the shape is right). */
  readonly raw: RawSchedule;
  readonly original: Record<string, unknown>;
  /** Paths of keys that an unknown key probably meant (`evry` → jobs.x.every): not also reported as missing. */
  readonly guessed: ReadonlySet<string>;
}

/**
 * The zod pass: shapes, types, unknown keys. When it finds mistakes, the parts that are well formed
 * are still returned (`raw`, with the broken parts left out) so that the second pass can report
 * their mistakes too: every mistake at once, not one pass at a time.
 */
export function checkStructure(value: unknown, report: Report): Structure | undefined {
  if (value === null || value === undefined) {
    report([], "the file is empty", "add a `jobs:` map; see schedules.example.yaml");
    return undefined;
  }
  if (!isPlainObject(value)) {
    report(
      [],
      `expected a map with a \`jobs:\` key, got ${describe(value)}`,
      "start the file with `jobs:` at the left margin and put each job under it",
    );
    return undefined;
  }
  // The quick check first: a well-formed file never loads zod, which only explains what is wrong.
  if (hasScheduleShape(value)) {
    if (isPlainObject(value.jobs) && Object.keys(value.jobs).length === 0) {
      report(["jobs"], "there are no jobs", "add at least one job under `jobs:`");
    }
    return { raw: value as RawSchedule, original: value, guessed: new Set() };
  }
  const result = zodSchemas().scheduleSchema.safeParse(value, { reportInput: true });
  if (result.success) {
    if (Object.keys(result.data.jobs).length === 0) {
      report(["jobs"], "there are no jobs", "add at least one job under `jobs:`");
    }
    return { raw: result.data, original: value, guessed: new Set() };
  }
  const guessed = fromZod(result.error.issues, value, report);
  return { raw: salvage(value, result.error.issues), original: value, guessed };
}

function fromZod(
  issues: readonly z.core.$ZodIssue[],
  value: Record<string, unknown>,
  report: Report,
): Set<string> {
  // A key the user misspelt is reported once, as unknown with a suggestion, not also as missing.
  const guessed = new Set<string>();
  for (const issue of issues) {
    if (issue.code !== "unrecognized_keys") continue;
    const allowed = allowedKeysAt(issue.path as Path);
    for (const key of issue.keys) {
      const guess = closest(key, allowed);
      if (guess) guessed.add([...issue.path, guess].join("."));
    }
  }
  for (const issue of issues) fromZodIssue(issue, issue.path as Path, value, guessed, report);
  return guessed;
}

function fromZodIssue(
  issue: z.core.$ZodIssue,
  path: Path,
  value: unknown,
  guessed: ReadonlySet<string>,
  report: Report,
): void {
  if (issue.code === "unrecognized_keys") {
    const allowed = allowedKeysAt(path);
    for (const key of issue.keys) {
      if (path.length === 1 && path[0] === "defaults" && allowedKeys().job.includes(key)) {
        report(
          [...path, key],
          key === "run"
            ? "`run` cannot be a default: each job names its own command"
            : `\`${key}\` cannot be a default: each job names its own trigger`,
          `move \`${key}\` into each job that needs it`,
          "key",
        );
        continue;
      }
      const guess = closest(key, allowed);
      report(
        [...path, key],
        `unknown key \`${key}\``,
        guess ? `did you mean \`${guess}\`?` : `the keys here are ${allowed.join(", ")}`,
        "key",
      );
    }
    return;
  }
  if (issue.code === "invalid_key") {
    report(
      path,
      `"${String(path[path.length - 1])}" is not a valid job name`,
      "job names start with a letter or digit and use only letters, digits, _ . and -",
      "key",
    );
    return;
  }
  if (isMissing(value, path)) {
    if (guessed.has(path.join("."))) return;
    const key = String(path[path.length - 1]);
    report(path, `missing \`${key}\`: ${MISSING[key] ?? "it is required"}`, MISSING_HINT[key], "key");
    return;
  }
  if (issue.code === "invalid_union") {
    // A list whose items are wrong: report the items, not the whole value.
    const branch = issue.errors.find((errors) => errors.length > 0 && errors.every((e) => e.path.length > 0));
    if (branch) {
      for (const inner of branch)
        fromZodIssue(inner, [...path, ...(inner.path as Path)], value, guessed, report);
      return;
    }
  }
  const input = "input" in issue ? issue.input : undefined;
  if (issue.code === "invalid_value" && typeof input === "string") {
    const guess = closest(input, issue.values.map(String));
    report(path, issue.message, guess ? `did you mean \`${guess}\`?` : undefined);
    return;
  }
  if (issue.code === "invalid_type" && issue.expected === "boolean" && typeof input === "string") {
    const lower = input.toLowerCase();
    const meant = ["yes", "y", "on"].includes(lower)
      ? "true"
      : ["no", "n", "off"].includes(lower)
        ? "false"
        : undefined;
    report(
      path,
      issue.message,
      meant ? `YAML 1.2 reads \`${input}\` as text: write ${meant}` : "write true or false",
    );
    return;
  }
  report(path, issue.message, hintFor(path, input));
}

function hintFor(path: Path, input: unknown): string | undefined {
  const key = String(path[path.length - 1]);
  const parent = path[path.length - 2];
  if (path.length === 2 && path[0] === "jobs") {
    return input === null
      ? "indent the job's keys under its name: a trigger such as `every: 1h` and `run:`"
      : "put the command under `run:` and add a trigger, e.g. `every: 1h`";
  }
  if (parent === "env")
    return input === null ? 'write "" for an empty value' : "write the value as one piece of text";
  if (parent === "run" && typeof input === "number") return `quote it: "${input}"`;
  return HINTS[key]?.(input);
}

function allowedKeysAt(path: Path): string[] {
  const keys = allowedKeys();
  if (path.length === 0) return keys.topLevel;
  if (path[0] === "defaults" && path.length === 1) return keys.jobOption;
  if (path[path.length - 1] === "retry") return keys.retry;
  if (path[path.length - 1] === "notify") return keys.notify;
  return keys.job;
}

const describe = (value: unknown): string =>
  value === null
    ? "null"
    : Array.isArray(value)
      ? "a list"
      : typeof value === "object"
        ? "a map"
        : JSON.stringify(value);

/** Whether the issue at `path` is about a key that is not there at all. */
function isMissing(value: unknown, path: Path): boolean {
  if (path.length === 0) return false;
  let parent: unknown = value;
  for (const part of path.slice(0, -1)) {
    if (!isPlainObject(parent) && !Array.isArray(parent)) return false;
    parent = (parent as Record<string, unknown>)[String(part)];
  }
  return isPlainObject(parent) && parent[String(path[path.length - 1])] === undefined;
}

/** What a required key is for, when it is missing. */
const MISSING: Readonly<Record<string, string>> = {
  jobs: "the map of jobs",
  run: "the command to run (a string, or a list for argv)",
  attempts: "how many attempts in all, the first included",
};
const MISSING_HINT: Readonly<Record<string, string | undefined>> = {
  jobs: "add `jobs:` with at least one job under it",
  run: "e.g. `run: ./backup.sh`, or `run: [/usr/bin/backup, --full]` for argv without a shell",
  attempts: "e.g. `retry: { attempts: 3 }`",
};

/** Hints for wrong values, by key. */
const HINTS: Readonly<Record<string, ((input: unknown) => string | undefined) | undefined>> = {
  version: () => "write `version: 1`, or leave the line out",
  retry: (input) =>
    typeof input === "number"
      ? `write \`retry: { attempts: ${input} }\``
      : "e.g. `retry: { attempts: 3, delay: 30s }`",
  env: () => "write one `NAME: value` per line",
  shell: () => "name one program, e.g. /bin/bash; string commands run as `shell -c COMMAND`",
  cron: () => 'quote the expression, e.g. cron: "0 3 * * *"',
  run: (input) => (typeof input === "number" ? `quote it: run: "${input}"` : undefined),
  at: () => 'write it like "2026-12-01 09:00", or a list of them',
};

/**
 * The well-formed part of a file that failed the zod pass: known keys whose values had no issue, and
 * jobs that are maps with valid names. Cast to RawSchedule: the second pass treats every key as optional.
 */
function salvage(value: Record<string, unknown>, issues: readonly z.core.$ZodIssue[]): RawSchedule {
  const broken = issues
    .filter((issue) => issue.code !== "unrecognized_keys")
    .map((issue) => issue.path.map(String));
  const brokenAt = (path: string[]) =>
    broken.some((p) => p.length === path.length && path.every((k, i) => p[i] === k));
  const brokenUnder = (path: string[]) =>
    broken.some((p) => p.length >= path.length && path.every((k, i) => p[i] === k));
  const map = (
    object: unknown,
    path: string[],
    keys: readonly string[],
  ): Record<string, unknown> | undefined => {
    if (!isPlainObject(object) || brokenAt(path)) return undefined;
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      if (object[key] !== undefined && !brokenUnder([...path, key])) out[key] = object[key];
    }
    return out;
  };
  const raw =
    map(
      value,
      [],
      allowedKeys().topLevel.filter((key) => key !== "defaults" && key !== "jobs"),
    ) ?? {};
  const defaults = map(value.defaults, ["defaults"], allowedKeys().jobOption);
  if (defaults) raw.defaults = defaults;
  const jobs: Record<string, unknown> = {};
  if (isPlainObject(value.jobs) && !brokenAt(["jobs"])) {
    for (const [name, job] of Object.entries(value.jobs)) {
      const salvaged = map(job, ["jobs", name], allowedKeys().job);
      if (salvaged) jobs[name] = salvaged;
    }
  }
  raw.jobs = jobs;
  return raw as RawSchedule;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
