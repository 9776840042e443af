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
export class ScheduleErrors extends Error {
  override name = "ScheduleErrors";
  constructor(readonly problems: readonly ScheduleProblem[]) {
    super(problems.map(formatProblem).join("\n"));
  }
}
