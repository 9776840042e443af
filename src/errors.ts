/** The exit status of a failure at run time: a daemon that does not answer, a job that had to be killed. */
export const EXIT_FAILURE = 1;
/** The exit status of a usage error: an unknown command or option, a wrong argument. */
export const EXIT_USAGE = 2;
/** The exit status of an invalid or unreadable schedule file or ledger (sysexits EX_CONFIG). */
export const EXIT_CONFIG = 78;

/**
 * A mistake the user can fix, which ends a command: `exitCode` is the process's exit status for it, and
 * report() the lines for stderr (never a stack trace). The CLI turns it into the exit status in one place,
 * `main`; every error that is not one of these is a bug.
 */
export class UserError extends Error {
  override name = "UserError";
  constructor(
    message: string,
    readonly exitCode: number,
    options?: { readonly cause?: unknown },
  ) {
    super(message, options);
  }

  /** What stderr shows; `outcome` says what happened because of the mistake. */
  report(_outcome?: string): string {
    return this.message === "" ? "" : `${this.message}\n`;
  }
}

/** A user mistake found by a parser: the message says what is wrong; `hint`, when there is one, how to fix it. */
export class HintedError extends Error {
  readonly hint?: string;
  constructor(message: string, hint?: string) {
    super(message);
    if (hint !== undefined) this.hint = hint;
  }
}

/** One mistake in a schedule file: where it is, what is wrong, and how to fix it. */
export interface ScheduleProblem {
  readonly file: string;
  /** 1-based line and column of the offending key or value. */
  readonly line: number;
  readonly col: number;
  /** Dotted path of the offending key, e.g. `jobs.backup.timeout`; empty for the whole file. */
  readonly path: string;
  readonly message: string;
  readonly hint?: string;
}

/** `file:line:col: path: message`, and the hint on a second line. */
export function formatProblem(problem: ScheduleProblem): string {
  const where = `${problem.file}:${problem.line}:${problem.col}`;
  const head = problem.path
    ? `${where}: ${problem.path}: ${problem.message}`
    : `${where}: ${problem.message}`;
  return problem.hint ? `${head}\n  hint: ${problem.hint}` : head;
}

/** Every mistake found in a schedule file, all at once. Nothing runs from a file that has any. */
export class ScheduleErrors extends UserError {
  override name = "ScheduleErrors";
  constructor(readonly problems: readonly ScheduleProblem[]) {
    super(problems.map(formatProblem).join("\n"), EXIT_CONFIG);
  }

  /** Every problem, then how many there were and `outcome`. */
  override report(outcome = "nothing was started"): string {
    const count = this.problems.length;
    return `${this.message}\n${count} problem${count === 1 ? "" : "s"} in ${this.problems[0]?.file}; ${outcome}\n`;
  }
}

/**
 * The schedule file cannot be found or read, or is refused before parsing (a YAML bomb): a configuration
 * problem. `problem` says where, when the refusal points into the file.
 */
export class ScheduleFileError extends UserError {
  override name = "ScheduleFileError";
  constructor(
    message: string,
    readonly problem?: ScheduleProblem,
  ) {
    super(message, EXIT_CONFIG);
  }

  /** A refusal at a place in the file. */
  static at(problem: ScheduleProblem): ScheduleFileError {
    return new ScheduleFileError(formatProblem(problem), problem);
  }

  override report(): string {
    return `tdefer: ${this.message}\n`;
  }
}
