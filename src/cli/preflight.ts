import { accessSync, constants, readFileSync, statSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import type { ScheduleProblem } from "../errors.js";
import type { LogEventInput } from "../log/events.js";
import { readScheduleText, type ScheduleData } from "../schedule/read.js";
import type { JobSpec, Schedule } from "../schedule/types.js";
import { IdentityError, resolveId } from "./identity.js";

export interface PreflightOptions {
  readonly uid?: number;
  readonly jobs?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Where a path points in the file, as its reading found it; without it the file is read again when needed. */
  readonly positionOf?: (path: (string | number)[]) => { line: number; col: number };
}

/** What this machine says about a schedule before anything runs: what `run` refuses, and what would fail. */
export interface PreflightResult {
  /** `run` and `trigger` refuse to start with these (exit 78); `check` reports them as errors. */
  readonly errors: ScheduleProblem[];
  /** Each would fail a fire, not the start: logged by `run` and `trigger`, warned about by `check`. */
  readonly warnings: ScheduleProblem[];
}

/**
 * The pre-flight that `check`, `run` and `trigger` share, so that `check` agrees with `run`: users and groups
 * that exist (an error as root, where `run` would refuse; a warning otherwise, as `run` refuses `user:` without
 * root anyway), working directories that exist, shells and argv programs that can be executed (warnings: only
 * the fire would fail). `jobs` limits it to some jobs (`trigger` checks only the job it runs). The file's own
 * trust (owner, mode) is the trust check's, not this.
 */
export function preflight(schedule: Schedule, options: PreflightOptions = {}): PreflightResult {
  const uid = options.uid ?? process.getuid?.();
  const errors: ScheduleProblem[] = [];
  const warnings: ScheduleProblem[] = [];
  const where = options.positionOf ?? locator(schedule.file);
  const files = new FileChecks();
  const problem = (path: (string | number)[], message: string, hint: string): ScheduleProblem => ({
    file: schedule.file,
    ...where(path),
    path: path.join("."),
    message,
    hint,
  });
  const jobs = options.jobs ? schedule.jobs.filter((job) => options.jobs!.includes(job.name)) : schedule.jobs;
  for (const job of jobs) {
    for (const kind of ["user", "group"] as const) {
      const name = job[kind];
      if (name === undefined) continue;
      try {
        resolveId(name, kind);
      } catch (error) {
        if (!(error instanceof IdentityError)) throw error;
        const found = problem(
          ["jobs", job.name, kind],
          `${error.message}${uid === 0 ? "" : " (on this machine)"}`,
          `create it, or use an existing ${kind} or a numeric id`,
        );
        (uid === 0 ? errors : warnings).push(found);
      }
    }
    for (const found of fireProblems(job, problem, options.env ?? process.env, files)) {
      // A missing shell is the file's problem, said once, not once per job.
      if (found.path === "shell" && warnings.some((w) => w.path === "shell")) continue;
      warnings.push(found);
    }
  }
  return { errors, warnings };
}

/** Where execvp looks when the environment has no PATH (glibc's and libuv's default). */
const DEFAULT_PATH = "/usr/bin:/bin";

type ProblemAt = (path: (string | number)[], message: string, hint: string) => ScheduleProblem;

/** What would make every fire of the job fail: its working directory, its shell, its program. */
function fireProblems(
  job: JobSpec,
  problem: ProblemAt,
  env: NodeJS.ProcessEnv,
  files: FileChecks,
): ScheduleProblem[] {
  const found: ScheduleProblem[] = [];
  if (!files.isDirectory(job.cwd)) {
    found.push(
      problem(
        ["jobs", job.name, "cwd"],
        `the working directory ${job.cwd} does not exist: every run would fail to start`,
        "create it, or point `cwd` at an existing folder",
      ),
    );
  }
  if (job.command.kind === "shell") {
    const why = files.notExecutable(job.command.shell);
    if (why) {
      found.push(
        problem(
          ["shell"],
          `the shell ${job.command.shell} ${why}: every job with a string command would fail to start`,
          "set `shell:` to an installed shell, such as /bin/sh",
        ),
      );
    }
  } else {
    const [program] = job.command.argv;
    // As execvp does: a name with a slash is a path (relative to the job's cwd), any other is looked up on PATH.
    const why = program.includes("/")
      ? files.notExecutable(isAbsolute(program) ? program : join(job.cwd, program))
      : files.notOnPath(program, job.env.PATH ?? env.PATH ?? DEFAULT_PATH);
    if (why) {
      found.push(
        problem(
          ["jobs", job.name, "run", 0],
          `${program} ${why}: every run would fail to start`,
          "give the program's full path, install it, or set PATH in `env:`",
        ),
      );
    }
  }
  return found;
}

/** The file system's answers for one pre-flight: thousands of jobs share a few folders and programs, asked once each. */
class FileChecks {
  private readonly directories = new Map<string, boolean>();
  private readonly executables = new Map<string, string | undefined>();
  private readonly onPath = new Map<string, string | undefined>();

  isDirectory(path: string): boolean {
    let answer = this.directories.get(path);
    if (answer === undefined) {
      answer = isDirectory(path);
      this.directories.set(path, answer);
    }
    return answer;
  }

  /** Why `path` cannot be executed, or undefined when it can. */
  notExecutable(path: string): string | undefined {
    if (!this.executables.has(path)) this.executables.set(path, notExecutable(path));
    return this.executables.get(path);
  }

  notOnPath(program: string, path: string): string | undefined {
    const key = `${program}\0${path}`;
    if (!this.onPath.has(key)) {
      let why: string | undefined =
        path === "" ? "is not found: PATH is empty" : "is not found in any folder of PATH";
      for (const dir of path.split(delimiter)) {
        if (dir !== "" && this.notExecutable(join(dir, program)) === undefined) {
          why = undefined;
          break;
        }
      }
      this.onPath.set(key, why);
    }
    return this.onPath.get(key);
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function notExecutable(path: string): string | undefined {
  try {
    if (!statSync(path).isFile()) return "is not a file";
    accessSync(path, constants.X_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? "does not exist" : "is not executable";
  }
}

/** Where a path points in the file, read again on first use (the quick way when it can be); 1:1 when it is no YAML. */
function locator(file: string): (path: (string | number)[]) => { line: number; col: number } {
  let data: ScheduleData | null | undefined;
  return (path) => {
    if (data === undefined) {
      try {
        data = readScheduleText(readFileSync(file, "utf8"), file, { positions: true }).data ?? null;
      } catch {
        data = null;
      }
    }
    return data ? data.positionOf(path) : { line: 1, col: 1 };
  };
}

/** A warning about the file for the log: `file:line:col: path: message`. */
export function warningEvent(warning: {
  file: string;
  line: number;
  col: number;
  path: string;
  message: string;
}): LogEventInput {
  return {
    event: "warning",
    level: "warn",
    message: `${warning.file}:${warning.line}:${warning.col}: ${warning.path}: ${warning.message}`,
  };
}
