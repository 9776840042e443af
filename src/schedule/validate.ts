import { constants as osConstants } from "node:os";
import { basename, dirname, extname, resolve } from "node:path";
import { ScheduleErrors, ScheduleFileError, type ScheduleProblem } from "../errors.js";
import { CronSchedule, CronSyntaxError, cronTrigger } from "./cron.js";
import { formatDuration, MAX_DURATION_MS, parseDuration } from "./duration.js";
import { readScheduleText, type ScheduleData } from "./read.js";
import type { RawJob, RawJobOptions, RawSchedule } from "./schema.js";
import { screenScheduleText } from "./screen.js";
import { checkStructure, isPlainObject } from "./structure.js";
import { closest } from "./suggest.js";
import type {
  CatchUpSpec,
  Command,
  JobSpec,
  NotifySpec,
  NotifyWhen,
  RetrySpec,
  Schedule,
  Trigger,
} from "./types.js";
import { isValidZone, resolveWallTime, suggestZone, WallTimeError } from "./zone.js";

export interface ValidateOptions {
  /** "Now", for `at` times already past and for warnings that look at the next fires. */
  readonly nowMs: number;
  /** The zone of jobs that name none (and of a file that names none). */
  readonly systemZone: string;
  /** Whether tdefer runs as root: `user`/`group` need it when the schedule is to be run. */
  readonly isRoot: boolean;
  /** True for `run` and `trigger`: what cannot run here (user/group without root) is an error, not a warning. */
  readonly forRunning: boolean;
  /** False when nobody will read the warnings (`next`, `trigger`): pointing at them costs a positioned parse. */
  readonly warnings?: boolean;
  /**
   * Given where each path of the file points, for problems the caller finds later (the pre-flight), so that it
   * need not read the file again. Called only for a file read as YAML, once it is read.
   */
  readonly withPositions?: (positionOf: ScheduleData["positionOf"]) => void;
}

type Path = (string | number)[];

const TRIGGER_KEYS = ["every", "cron", "after", "at"] as const;
/** HOST:PORT, [V6]:PORT, :PORT or PORT (the ops server reads it the same way). */
const HTTP_ADDRESS = /^(?:(?:\[[0-9a-fA-F:.]+\]|[^:[\]\s]*):)?\d{1,5}$/;

const DEFAULT_SHELL = "/bin/sh";
const DEFAULT_LEDGER_KEEP_MS = 30 * 86_400_000;
const DEFAULT_KILL_GRACE_MS = 10_000;
const DEFAULT_RETRY_DELAY_MS = 10_000;
const DEFAULT_RETRY_BACKOFF = 2;
const DEFAULT_RETRY_MAX_DELAY_MS = 600_000;
/** The largest user or group id Node.js can pass to the system (it takes int32). */
const MAX_ID = 2_147_483_647;

/** Reads and validates a schedule file's text: a Schedule, or ScheduleErrors listing every mistake. */
export function loadScheduleText(text: string, file: string, options: ValidateOptions): Schedule {
  // Warnings point into the file: `check` notes positions while reading it rather than read it again for them.
  // A daemon reads again only when a warning asks: noting every node's position doubles the reading's peak memory,
  // which a long-running process keeps as RSS.
  const positions = options.warnings !== false && !options.forRunning;
  const { data, problems } = readScheduleText(text, file, { positions });
  if (!data) throw new ScheduleErrors(problems);
  options.withPositions?.(data.positionOf);
  return validateSchedule(data, options);
}

/**
 * Reads and validates the text of a schedule file as read from disk, which may be hostile: the bomb screen
 * first (screen.ts), then loadScheduleText. Throws ScheduleFileError or ScheduleErrors.
 */
export function loadScheduleFileText(text: string, file: string, options: ValidateOptions): Schedule {
  screenScheduleText(text, file);
  try {
    return loadScheduleText(text, file, options);
  } catch (error) {
    // A structure the screen let through may still overflow the parser's stack: a problem with the file.
    if (error instanceof RangeError) {
      throw new ScheduleFileError(
        `${file}: the file is too large or too deeply nested to read (${error.message})\n  hint: a schedule needs only a few levels and short lists`,
      );
    }
    throw error;
  }
}

/** Turns a file's data into a Schedule, or throws ScheduleErrors with every problem found. */
export function validateSchedule(data: ScheduleData, options: ValidateOptions): Schedule {
  return new Validator(data, options).run();
}

class Validator {
  private readonly problems: ScheduleProblem[] = [];
  private readonly warnings: ScheduleProblem[] = [];
  /** Each job's working folder, resolved once per text: jobs that share one share its string. */
  private readonly folders = new Map<string, string>();
  /** Cron expressions parsed so far, by zone and text: jobs that share one share its recurrence (it is immutable). */
  private readonly crons = new Map<string, CronSchedule>();
  /** Paths of keys that an unknown key probably meant: their absence is not reported again. */
  private guessed: ReadonlySet<string> = new Set();

  constructor(
    private readonly data: ScheduleData,
    private readonly options: ValidateOptions,
  ) {}

  run(): Schedule {
    const structure = checkStructure(this.data.value, (path, message, hint, at) =>
      this.problem(path, message, hint, at),
    );
    if (structure) this.guessed = structure.guessed;
    const schedule = structure && this.semantics(structure.raw, structure.original);
    if (this.problems.length > 0 || !schedule) throw new ScheduleErrors(this.sorted(this.problems));
    return schedule;
  }

  private problem(path: Path, message: string, hint?: string, at: "value" | "key" = "value"): void {
    const { line, col } = this.data.positionOf(path, at);
    this.problems.push({
      file: this.data.file,
      line,
      col,
      path: path.join("."),
      message,
      ...(hint ? { hint } : {}),
    });
  }

  private warning(path: Path, message: string): void {
    if (this.options.warnings === false) return;
    const { line, col } = this.data.positionOf(path);
    this.warnings.push({ file: this.data.file, line, col, path: path.join("."), message });
  }

  private sorted<T extends { line: number; col: number }>(items: T[]): T[] {
    return items.sort((a, b) => a.line - b.line || a.col - b.col);
  }

  /** The second pass: triggers, zones, cron expressions, dates, durations, defaults. */
  private semantics(raw: RawSchedule, original: Record<string, unknown>): Schedule | undefined {
    // A zone that is wrong (or was left out as malformed) is reported once; the jobs that would use it
    // get no zone, and the checks that need one are skipped rather than run in a zone not meant.
    const fileZone = this.zone(raw.timezone, ["timezone"], original.timezone);
    const defaults = raw.defaults ?? {};
    const defaultsZone = this.zone(
      defaults.timezone,
      ["defaults", "timezone"],
      field(original.defaults, "timezone"),
    );
    this.checkEnv(raw.env, ["env"]);
    this.checkEnv(defaults.env, ["defaults", "env"]);
    for (const [name, job] of Object.entries(raw.jobs ?? {})) this.checkEnv(job.env, ["jobs", name, "env"]);
    const originalJobs = isPlainObject(original.jobs) ? original.jobs : {};
    const jobs: JobSpec[] = [];
    // One object for every job that adds no env of its own: 100,000 jobs must stay small.
    const fileEnv = Object.freeze({ ...stringify(raw.env), ...stringify(defaults.env) });
    for (const [name, job] of Object.entries(raw.jobs ?? {})) {
      const originalJob = isPlainObject(originalJobs[name]) ? originalJobs[name] : job;
      const jobZone = this.zone(job.timezone, ["jobs", name, "timezone"], originalJob.timezone);
      const spec = this.job(name, job, originalJob, defaults, {
        zone: pickZone(jobZone, pickZone(defaultsZone, pickZone(fileZone, this.options.systemZone))),
        shell: raw.shell ?? DEFAULT_SHELL,
        env: job.env === undefined ? fileEnv : { ...fileEnv, ...stringify(job.env) },
      });
      if (spec) jobs.push(spec);
    }
    if (raw.http !== undefined && !HTTP_ADDRESS.test(raw.http.trim())) {
      this.problem(
        ["http"],
        `"${raw.http}" is not an HTTP address`,
        "write HOST:PORT, for example 127.0.0.1:9780, [::1]:9780 or :9780 for every interface",
      );
    }
    const ledgerKeepMs = this.duration({ value: raw.ledger?.keep, path: ["ledger", "keep"] });
    const ledgerLeaseMs = this.duration({ value: raw.ledger?.lease, path: ["ledger", "lease"] });
    if (ledgerLeaseMs !== undefined && ledgerLeaseMs < 1_000) {
      this.problem(
        ["ledger", "lease"],
        "a lease is at least 1s: it is renewed every third of it, over the network",
      );
    }
    if (this.problems.length > 0) return undefined;
    return {
      file: this.data.file,
      name: raw.name ?? scheduleNameOf(this.data.file),
      ...(raw.state !== undefined ? { state: raw.state } : {}),
      ledgerKeepMs: ledgerKeepMs ?? DEFAULT_LEDGER_KEEP_MS,
      ...(ledgerLeaseMs !== undefined ? { ledgerLeaseMs } : {}),
      ...(raw.ledger?.down !== undefined ? { ledgerDown: raw.ledger.down } : {}),
      zone: fileZone ?? this.options.systemZone,
      maxParallel: raw.max_parallel,
      ...(raw.http !== undefined ? { http: raw.http } : {}),
      jobs,
      warnings: this.sorted(this.warnings),
    };
  }

  /** Names and values the system cannot put in an environment are refused here, not at the first run. */
  private folder(cwd: string): string {
    let folder = this.folders.get(cwd);
    if (folder === undefined) {
      folder = resolve(dirname(this.data.file), cwd);
      this.folders.set(cwd, folder);
    }
    return folder;
  }

  private checkEnv(env: Record<string, string | number | boolean> | undefined, path: Path): void {
    for (const [name, value] of Object.entries(env ?? {})) {
      if (name === "") {
        this.problem([...path, name], "the variable name is empty", "write NAME: value", "key");
      } else if (name.includes("=")) {
        this.problem(
          [...path, name],
          "a variable name cannot contain `=`",
          "the name ends before the `=`: write NAME: value",
          "key",
        );
      } else if (name.includes("\0")) {
        this.problem([...path, name], "a variable name cannot contain a NUL byte", "remove the \\0", "key");
      }
      if (String(value).includes("\0")) {
        this.problem(
          [...path, name],
          "the value contains a NUL byte, which no environment can hold",
          "remove the \\0",
        );
      }
    }
  }

  /** The zone if valid; `null` when one was given but cannot be used (reported), undefined when none was given. */
  private zone(zone: string | undefined, path: Path, given: unknown): string | null | undefined {
    if (zone === undefined) return given === undefined ? undefined : null;
    if (isValidZone(zone)) return zone;
    const guess = suggestZone(zone);
    this.problem(
      path,
      `unknown time zone "${zone}"`,
      guess
        ? `did you mean "${guess}"?`
        : "use an IANA zone name such as Europe/Berlin, America/New_York or UTC",
    );
    return null;
  }

  private job(
    name: string,
    job: RawJob,
    original: Record<string, unknown>,
    defaults: RawJobOptions,
    context: { zone: string | null; shell: string; env: Record<string, string> },
  ): JobSpec | undefined {
    const at = (key: string): Path => ["jobs", name, key];
    const option = <K extends keyof RawJobOptions>(key: K): { value: RawJobOptions[K]; path: Path } =>
      job[key] !== undefined
        ? { value: job[key], path: at(key) }
        : { value: defaults[key], path: ["defaults", key] };

    const trigger = this.trigger(name, job, original, context.zone);
    const jitterMs = this.duration(option("jitter")) ?? 0;
    const timeout = option("timeout");
    const timeoutMs = this.duration(timeout);
    if (timeoutMs === 0)
      this.problem(timeout.path, "a timeout of 0 would stop every run at once", "remove it for no timeout");
    const killSignal = this.signal(option("kill_signal"));
    const killGraceMs = this.duration(option("kill_grace")) ?? DEFAULT_KILL_GRACE_MS;
    const overlap = option("overlap").value ?? "skip";
    const retry = this.retry(option("retry"));
    const user = this.identity(option("user"), "user");
    const group = this.identity(option("group"), "group");
    const cwd = this.folder(option("cwd").value ?? ".");
    const command = job.run === undefined ? undefined : this.command(job.run, at("run"), context.shell);
    // A job's notify keys override those of defaults one by one (a job may change `when` and keep the webhook).
    const notify = this.notify(
      job.notify !== undefined && defaults.notify !== undefined
        ? { value: { ...defaults.notify, ...job.notify }, path: at("notify") }
        : option("notify"),
      context.shell,
    );
    if (!trigger || !command) return undefined;

    // The period only feeds the two warnings below, and a cron job's costs two searches for its next fires:
    // worked out only when one of them could apply.
    const mayPileUp = overlap === "allow" && timeoutMs !== undefined;
    const periodMs =
      this.options.warnings === false || (!mayPileUp && jitterMs === 0) ? undefined : this.periodOf(trigger);
    if (periodMs !== undefined && overlap === "allow" && timeoutMs !== undefined && timeoutMs > periodMs) {
      this.warning(
        timeout.path,
        `the timeout (${formatDuration(timeoutMs)}) is longer than the period (${formatDuration(periodMs)}) and overlap is allow: runs can pile up`,
      );
    }
    if (periodMs !== undefined && jitterMs >= periodMs) {
      this.warning(
        option("jitter").path,
        `the jitter (${formatDuration(jitterMs)}) is not shorter than the period (${formatDuration(periodMs)}): fires may bunch up or swap order`,
      );
    }
    return {
      name,
      trigger,
      jitterMs,
      command,
      cwd,
      env: context.env,
      timeoutMs,
      killSignal,
      killGraceMs,
      overlap,
      retry,
      user,
      group,
      enabled: option("enabled").value ?? true,
      description: option("description").value,
      ...(job.stdin !== undefined ? { stdin: job.stdin } : {}),
      ...this.catchUp(option("catch_up")),
      onLost: option("on_lost").value ?? "abandon",
      ...(notify ? { notify } : {}),
    };
  }

  private notify(
    option: { value: RawJobOptions["notify"]; path: Path },
    shell: string,
  ): NotifySpec | undefined {
    const { value, path } = option;
    if (value === undefined) return undefined;
    if (value.run === undefined && value.webhook === undefined) {
      this.problem(
        path,
        "`notify` has neither `run` nor `webhook`",
        "add run: COMMAND or webhook: URL",
        "key",
      );
      return undefined;
    }
    const command = value.run === undefined ? undefined : this.command(value.run, [...path, "run"], shell);
    if (value.webhook !== undefined) {
      let url: URL | undefined;
      try {
        url = new URL(value.webhook);
      } catch {
        url = undefined;
      }
      if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) {
        // The URL often holds a token: the message does not repeat it.
        this.problem(
          [...path, "webhook"],
          "the webhook is not an http:// or https:// URL",
          "write the full URL",
        );
        return undefined;
      }
    }
    return {
      when: [...new Set<NotifyWhen>(value.when ?? ["permanent_failure"])],
      ...(command ? { command } : {}),
      ...(value.webhook !== undefined ? { webhook: value.webhook } : {}),
    };
  }

  private trigger(
    name: string,
    job: RawJob,
    original: Record<string, unknown>,
    zone: string | null,
  ): Trigger | undefined {
    // What the user wrote counts, even a trigger whose value was malformed (and is reported already).
    const present = TRIGGER_KEYS.filter((key) => original[key] !== undefined);
    const at = (key: string): Path => ["jobs", name, key];
    if (present.length === 0) {
      // `evry: 30s` is reported as an unknown key with its suggestion; that is enough.
      if (TRIGGER_KEYS.some((key) => this.guessed.has(`jobs.${name}.${key}`))) return undefined;
      this.problem(["jobs", name], "this job has no trigger", "add one of every, cron, after or at", "key");
      return undefined;
    }
    if (present.length > 1) {
      this.problem(
        at(present[1]!),
        `a job has exactly one trigger, but this one has ${present.join(" and ")}`,
        `keep one; for two schedules, make two jobs`,
        "key",
      );
      return undefined;
    }
    if (original.now !== undefined && original.every === undefined) {
      this.problem(
        at("now"),
        "`now` goes with `every` only",
        "remove it; to also run once at start, add a job with `after: 0s`",
        "key",
      );
    }
    const kind = present[0]!;
    if (job[kind] === undefined) return undefined;
    if (kind === "every") {
      const intervalMs = this.duration({ value: job.every, path: at("every") });
      if (intervalMs === undefined) return undefined;
      if (intervalMs === 0) {
        this.problem(
          at("every"),
          "an interval of 0 would run the job without pause",
          "use a positive duration such as 30s",
        );
        return undefined;
      }
      return { kind, intervalMs, now: job.now ?? false };
    }
    if (kind === "after") {
      const delayMs = this.duration({ value: job.after, path: at("after") });
      return delayMs === undefined ? undefined : { kind, delayMs };
    }
    if (kind === "cron") {
      let cron: CronSchedule;
      try {
        // Without a usable zone the expression is still checked (in UTC), but gives no trigger.
        cron = this.cron(job.cron!, zone ?? "UTC", name);
      } catch (error) {
        if (!(error instanceof CronSyntaxError)) throw error;
        this.problem(at("cron"), error.message, error.hint);
        return undefined;
      }
      for (const warning of cron.warnings) this.warning(at("cron"), warning);
      return zone === null ? undefined : cronTrigger(job.cron!, cron);
    }
    return this.atTrigger(name, job.at!, zone);
  }

  /** The parsed expression; throws CronSyntaxError. `H` depends on the job's name: such an expression is the job's own. */
  private cron(expression: string, zone: string, jobName: string): CronSchedule {
    if (/h/i.test(expression)) return CronSchedule.parse(expression, { zone, hashSeed: jobName });
    const key = `${zone}\n${expression}`;
    let cron = this.crons.get(key);
    if (cron === undefined) {
      cron = CronSchedule.parse(expression, { zone, hashSeed: jobName });
      this.crons.set(key, cron);
    }
    return cron;
  }

  private atTrigger(
    name: string,
    rawTimes: string | number | (string | number)[],
    zone: string | null,
  ): Trigger | undefined {
    const list = Array.isArray(rawTimes) ? rawTimes : [rawTimes];
    const times: { timeMs: number; text: string }[] = [];
    let ok = true;
    list.forEach((value, index) => {
      const path: Path = Array.isArray(rawTimes) ? ["jobs", name, "at", index] : ["jobs", name, "at"];
      if (typeof value !== "string") {
        this.problem(path, `expected a date-time as text, got ${value}`, 'write it like "2026-12-01 09:00"');
        ok = false;
        return;
      }
      if (zone === null) {
        ok = false;
        return;
      }
      try {
        const timeMs = resolveWallTime(value, zone);
        if (timeMs <= this.options.nowMs) this.warning(path, `${value} is already past; it will not run`);
        times.push({ timeMs, text: value });
      } catch (error) {
        if (!(error instanceof WallTimeError)) throw error;
        this.problem(path, error.message, error.hint);
        ok = false;
      }
    });
    return ok && zone !== null
      ? { kind: "at", times: times.sort((a, b) => a.timeMs - b.timeMs), zone }
      : undefined;
  }

  private catchUp({ value, path }: { value: RawJobOptions["catch_up"]; path: Path }): {
    catchUp?: CatchUpSpec;
  } {
    if (value === undefined) return {};
    const spec = typeof value === "string" ? { within: value, runs: undefined } : value;
    const withinMs = this.duration({
      value: spec.within,
      path: typeof value === "string" ? path : [...path, "within"],
    });
    if (withinMs === undefined) return {};
    return { catchUp: { withinMs, runs: spec.runs ?? "latest" } };
  }

  private duration({ value, path }: { value: string | undefined; path: Path }): number | undefined {
    if (value === undefined) return undefined;
    const ms = parseDuration(value);
    if (ms === undefined) {
      this.problem(
        path,
        `"${value}" is too long: durations go up to ${formatDuration(MAX_DURATION_MS)} (100 years)`,
        "for a date far ahead, use `at:` with the date",
      );
    }
    return ms;
  }

  private signal({ value, path }: { value: string | undefined; path: Path }): NodeJS.Signals {
    if (value === undefined) return "SIGTERM";
    const name = (
      value.toUpperCase().startsWith("SIG") ? value.toUpperCase() : `SIG${value.toUpperCase()}`
    ) as NodeJS.Signals;
    if (name in osConstants.signals) return name;
    const bare = value.toUpperCase().replace(/^SIG/, "");
    const guess = closest(
      bare,
      Object.keys(osConstants.signals).map((signal) => signal.replace(/^SIG/, "")),
    );
    this.problem(
      path,
      `unknown signal "${value}"`,
      guess ? `did you mean SIG${guess}?` : "use a signal name such as SIGTERM, SIGINT, SIGHUP or SIGQUIT",
    );
    return "SIGTERM";
  }

  private retry({ value, path }: { value: RawJobOptions["retry"]; path: Path }): RetrySpec | undefined {
    if (value === undefined) return undefined;
    const delayMs = this.duration({ value: value.delay, path: [...path, "delay"] }) ?? DEFAULT_RETRY_DELAY_MS;
    const maxDelayMs =
      this.duration({ value: value.max_delay, path: [...path, "max_delay"] }) ?? DEFAULT_RETRY_MAX_DELAY_MS;
    return { attempts: value.attempts, delayMs, backoff: value.backoff ?? DEFAULT_RETRY_BACKOFF, maxDelayMs };
  }

  private identity(
    { value, path }: { value: string | number | undefined; path: Path },
    what: string,
  ): string | undefined {
    if (value === undefined) return undefined;
    if (/^\d+$/.test(String(value)) && Number(value) > MAX_ID) {
      this.problem(
        path,
        `${value} is too large for a ${what} id (at most ${MAX_ID})`,
        `use the ${what}'s name, or its id from ${what === "user" ? "/etc/passwd" : "/etc/group"}`,
      );
      return undefined;
    }
    if (!this.options.isRoot) {
      const message = `running as another ${what} needs tdefer to run as root`;
      if (this.options.forRunning) this.problem(path, message, `remove \`${what}\`, or run tdefer as root`);
      else this.warning(path, message);
    }
    return String(value);
  }

  private command(run: string | string[], path: Path, shell: string): Command | undefined {
    if (typeof run === "string") {
      if (run.trim() === "") {
        this.problem(path, "the command is empty", "write the command to run");
        return undefined;
      }
      return { kind: "shell", script: run, shell };
    }
    const [file, ...args] = run;
    if (!file) {
      this.problem(
        [...path, 0],
        "the program name is empty",
        "the first item of the list is the program to run",
      );
      return undefined;
    }
    return { kind: "argv", argv: [file, ...args] };
  }

  /** The time between fires, where there is one, for the warnings. */
  private periodOf(trigger: Trigger): number | undefined {
    if (trigger.kind === "every") return trigger.intervalMs;
    if (trigger.kind !== "cron") return undefined;
    const cron = trigger.recurrence;
    const first = cron.nextAfter(this.options.nowMs);
    const second = first && cron.nextAfter(first.timeMs);
    return first && second ? second.timeMs - first.timeMs : undefined;
  }
}

function field(value: unknown, key: string): unknown {
  return isPlainObject(value) ? value[key] : undefined;
}

/** A zone given (valid or null for broken) wins over the fallback; undefined means "not given". */
function pickZone(zone: string | null | undefined, fallback: string | null): string | null {
  return zone === undefined ? fallback : zone;
}

function stringify(env: Record<string, string | number | boolean> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(env ?? {}).map(([key, value]) => [key, String(value)]));
}

/** The default schedule name: the file's base name without its extension, made safe for a file name. */
export function scheduleNameOf(file: string): string {
  const base = basename(file, extname(file))
    .replace(/[^A-Za-z0-9_.-]/g, "_")
    .replace(/^[._-]+/, "");
  return base.slice(0, 100) || "schedule";
}
