// A crontab (Vixie cron / cronie, as Debian ships them) read into the same raw data the YAML reader gives,
// with each path pointing back into the crontab, so the validator's messages say FILE:LINE:COL of the crontab.
// design/crontab.md is the contract; cron's own rules are quoted where they decide something.
import { createHash } from "node:crypto";
import { ScheduleErrors, type ScheduleProblem } from "../errors.js";
import { formatDuration } from "./duration.js";
import type { ScheduleData } from "./read.js";
import { closest } from "./suggest.js";
import type { Schedule } from "./types.js";
import { type ValidateOptions, validateSchedule } from "./validate.js";

export interface CrontabOptions {
  /** The system format: a user field after the five time fields. Always for /etc/crontab and /etc/cron.d/*. */
  readonly system: boolean;
  /** The home folder of a user (undefined: the user running tdefer); cron starts each job there. */
  readonly homeOf?: (user: string | undefined) => string | undefined;
}

type Path = (string | number)[];
interface Place {
  readonly line: number;
  readonly col: number;
}

/** An environment line: `NAME = VALUE`, where it is, and where its value starts. */
interface Setting {
  readonly name: string;
  readonly value: string;
  readonly line: number;
  readonly col: number;
}

/** One crontab entry, as cron reads it. */
export interface CrontabEntry {
  readonly name: string;
  /** 1-based line, and the line as written. */
  readonly line: number;
  readonly text: string;
  readonly description: string | undefined;
}

/** A crontab read: the data for the validator (when there are entries), and what only the crontab can say. */
export interface CrontabReading {
  readonly data: ScheduleData | undefined;
  readonly entries: readonly CrontabEntry[];
  readonly problems: readonly ScheduleProblem[];
  readonly warnings: readonly ScheduleProblem[];
}

/** cron's nicknames (cronie's and Vixie's); `@every` is supercronic's. Case matters, as in cron. */
const NICKNAMES = [
  "@reboot",
  "@yearly",
  "@annually",
  "@monthly",
  "@weekly",
  "@daily",
  "@midnight",
  "@hourly",
];
const EVERY = "@every";
/** cron's PATH when the crontab sets none (_PATH_DEFPATH in Vixie cron and cronie). */
export const CRON_DEFAULT_PATH = "/usr/bin:/bin";
const CRON_DEFAULT_SHELL = "/bin/sh";
const MAIL_SETTINGS = ["MAILTO", "MAILFROM", "CONTENT_TYPE", "CONTENT_TRANSFER_ENCODING"];
/** cron sets these from the user's /etc/passwd entry and ignores the crontab's. */
const FORCED_SETTINGS = ["LOGNAME", "USER"];
const FIELD_NAMES = ["minute", "hour", "day-of-month", "month", "day-of-week"] as const;
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
/** A user name as cron's getpwnam can know it (Debian allows capitals, e.g. Debian-exim). */
const USER_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*\$?$/;

/** Whether a path is a system crontab by its place: /etc/crontab or a file in /etc/cron.d. */
export function isSystemCrontabPath(path: string): boolean {
  return /(^|\/)etc\/crontab$/.test(path) || /(^|\/)etc\/cron\.d\/[^/]+$/.test(path);
}

/** Reads and validates a crontab: a Schedule, or ScheduleErrors with every problem, crontab's and validator's. */
export function loadCrontabText(
  text: string,
  file: string,
  options: ValidateOptions & CrontabOptions,
): Schedule {
  const reading = readCrontabText(text, file, options);
  let problems = [...reading.problems];
  let schedule: Schedule | undefined;
  if (reading.data) {
    try {
      schedule = validateSchedule(reading.data, options);
    } catch (error) {
      if (!(error instanceof ScheduleErrors)) throw error;
      problems.push(...error.problems);
    }
  }
  problems = uniqueByPlace(problems);
  if (problems.length > 0 || !schedule) throw new ScheduleErrors(byPlace(problems));
  const warnings = options.warnings === false ? [] : [...reading.warnings, ...schedule.warnings];
  return { ...schedule, warnings: byPlace(uniqueByPlace(warnings)) };
}

function byPlace<T extends Place>(items: T[]): T[] {
  return items.sort((a, b) => a.line - b.line || a.col - b.col);
}

/** One message per place: a bad CRON_TZ line is one mistake, however many entries it applies to. */
function uniqueByPlace<T extends Place & { message: string }>(items: readonly T[]): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const key = `${item.line}:${item.col}:${item.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** A job as the crontab gives it, before the common settings are lifted to the file's level. */
interface ParsedEntry {
  readonly entry: CrontabEntry;
  readonly start: Place;
  readonly fields: Place;
  readonly trigger: { cron: string } | { after: string } | { every: string };
  readonly user: { value: string; col: number } | undefined;
  readonly command: string;
  readonly commandCol: number;
  readonly stdin: { value: string; col: number } | undefined;
  /** The settings in effect, in the order they were made. */
  readonly settings: ReadonlyMap<string, Setting>;
  readonly explicitName: boolean;
}

/** Reads crontab text; never throws for the crontab's sake. */
export function readCrontabText(text: string, file: string, options: CrontabOptions): CrontabReading {
  const system = options.system || isSystemCrontabPath(file);
  return new CrontabReader(text, file, { ...options, system }).read();
}

class CrontabReader {
  private readonly problems: ScheduleProblem[] = [];
  private readonly warnings: ScheduleProblem[] = [];
  private readonly parsed: ParsedEntry[] = [];
  private readonly settings = new Map<string, Setting>();
  private comments: { text: string; line: number }[] = [];
  private lineNumber = 0;

  constructor(
    private readonly text: string,
    private readonly file: string,
    private readonly options: CrontabOptions,
  ) {}

  read(): CrontabReading {
    const lines = this.text.split("\n");
    if (lines[lines.length - 1] === "") lines.pop();
    for (const [index, raw] of lines.entries()) {
      this.lineNumber = index + 1;
      // A Windows line end: the \r would end up in the command, where the shell would choke on it.
      this.readLine(raw.endsWith("\r") ? raw.slice(0, -1) : raw);
    }
    if (this.parsed.length === 0) {
      if (this.problems.length === 0) {
        this.problem(
          { line: 1, col: 1 },
          "the crontab has no entries: only comments, blank lines and settings",
          "an entry is five time fields (or a nickname such as @daily) and a command",
        );
      }
      return { data: undefined, entries: [], problems: this.problems, warnings: this.warnings };
    }
    return this.build();
  }

  private problem(at: Place, message: string, hint?: string): void {
    this.problems.push({ file: this.file, ...at, path: "", message, ...(hint ? { hint } : {}) });
  }

  private warning(at: Place, path: string, message: string): void {
    this.warnings.push({ file: this.file, ...at, path, message });
  }

  private at(col: number): Place {
    return { line: this.lineNumber, col };
  }

  private readLine(line: string): void {
    const start = line.search(/[^ \t]/);
    if (start < 0) {
      this.comments = []; // a blank line ends a comment block: what is above it describes no entry
      return;
    }
    if (line[start] === "#") {
      this.comments.push({ text: line.slice(start + 1), line: this.lineNumber });
      return;
    }
    if (line.includes("\0")) {
      this.problem(this.at(line.indexOf("\0") + 1), "the line contains a NUL byte", "remove it");
      this.comments = [];
      return;
    }
    const setting = /^([^\s=]+)[ \t]*=/.exec(line.slice(start));
    if (setting) {
      this.readSetting(line, start, setting[1]!, start + setting[0].length);
      return;
    }
    if (/^[A-Za-z_]/.test(line.slice(start))) {
      const equals = line.indexOf("=");
      if (equals > 0) {
        const name = line.slice(start, equals).trim();
        this.problem(
          this.at(start + 1),
          `not an environment setting: the name "${name}" has a space in it`,
          "write NAME=value with a one-word name (letters, digits and _); an entry starts with five time fields",
        );
      } else {
        this.problem(
          this.at(start + 1),
          `neither an entry nor a setting: an entry starts with five time fields or a nickname, got "${line.slice(start).split(/\s/)[0]}"`,
          "e.g. `0 3 * * * /usr/local/bin/backup`, or NAME=value for a setting",
        );
      }
      this.comments = [];
      return;
    }
    this.readEntry(line, start);
    this.comments = [];
  }

  /** `NAME = VALUE`: cronie's reading, in which a quoted value must end with its quote. */
  private readSetting(line: string, start: number, name: string, afterEquals: number): void {
    let valueStart = afterEquals;
    while (line[valueStart] === " " || line[valueStart] === "\t") valueStart++;
    const quote = line[valueStart];
    let value: string;
    if (quote === '"' || quote === "'") {
      const end = line.indexOf(quote, valueStart + 1);
      if (end < 0) {
        this.problem(
          this.at(valueStart + 1),
          `${name}: the value's opening ${quote} has no closing ${quote}`,
          `end the value with ${quote}, or remove the quote (cron does not read this line as a setting)`,
        );
        return;
      }
      const rest = line.slice(end + 1);
      if (rest.trim() !== "") {
        this.problem(
          this.at(end + 2),
          `${name}: text after the closing ${quote} of the value`,
          "put the whole value inside the quotes",
        );
        return;
      }
      value = line.slice(valueStart + 1, end);
    } else {
      value = line.slice(valueStart).replace(/[ \t]+$/, "");
    }
    const at = this.at(valueStart + 1);
    const keyAt = this.at(start + 1);
    if (FORCED_SETTINGS.includes(name)) {
      this.warning(keyAt, name, `cron sets ${name} to the job's user and ignores this line; so does tdefer`);
      return;
    }
    if (MAIL_SETTINGS.includes(name)) {
      this.warning(
        keyAt,
        name,
        "tdefer sends no mail: a job's output goes to tdefer's log; for alerts on failure, use `notify:` in a schedule file",
      );
    }
    if (/\$[A-Za-z_{]/.test(value)) {
      this.warning(
        at,
        name,
        `cron does not expand variables in settings: ${name} is the literal text ${JSON.stringify(value)}`,
      );
    }
    if (name === "RANDOM_DELAY" && !/^\d+$/.test(value)) {
      this.problem(
        at,
        `RANDOM_DELAY is a whole number of minutes, got ${JSON.stringify(value)}`,
        "e.g. RANDOM_DELAY=10 delays each fire by up to 10 minutes",
      );
      return;
    }
    this.settings.set(name, { name, value, ...at });
  }

  private readEntry(line: string, start: number): void {
    const tokens = tokenize(line, start);
    const first = tokens[0]!;
    const entryStart = this.at(start + 1);
    let trigger: ParsedEntry["trigger"];
    let next: number; // index of the token after the time part
    let timeText: string;
    if (first.text.startsWith("@")) {
      const nickname = first.text;
      if (nickname === EVERY) {
        const duration = tokens[1];
        if (!duration) {
          this.problem(this.at(line.length + 1), "@every needs a duration, e.g. `@every 5m`");
          return;
        }
        const ms = goDurationMs(duration.text);
        if (ms === undefined) {
          this.problem(
            this.at(duration.col),
            `"${duration.text}" is not a duration`,
            "use a number and a unit (ms, s, m, h), e.g. 30s, 5m, 1h30m",
          );
          return;
        }
        trigger = { every: formatDuration(ms) };
        next = 2;
        timeText = `@every ${duration.text}`;
      } else if (NICKNAMES.includes(nickname)) {
        trigger = nickname === "@reboot" ? { after: "0s" } : { cron: nickname };
        next = 1;
        timeText = nickname;
      } else {
        const guess = closest(nickname.toLowerCase(), [...NICKNAMES, EVERY]);
        this.problem(
          this.at(first.col),
          `unknown nickname "${nickname}"`,
          guess && guess !== nickname
            ? `did you mean ${guess}?`
            : `cron's nicknames are ${NICKNAMES.join(", ")} (and @every DURATION); or write the five time fields`,
        );
        return;
      }
    } else {
      const fields = tokens.slice(0, 5);
      let ok = true;
      fields.forEach((field, i) => {
        if (ok && !this.checkField(field, i)) ok = false;
      });
      if (!ok) return;
      if (fields.length < 5) {
        this.problem(
          this.at(line.length + 1),
          `this entry has ${fields.length} time field${fields.length === 1 ? "" : "s"}; cron needs five (minute hour day-of-month month day-of-week) and then the command`,
        );
        return;
      }
      timeText = fields.map((field) => field.text).join(" ");
      trigger = { cron: timeText };
      next = 5;
    }

    let user: ParsedEntry["user"];
    if (this.options.system) {
      const token = tokens[next];
      if (!token) {
        this.problem(
          this.at(line.length + 1),
          "this entry has no user and no command: in a system crontab the user comes after the time fields, then the command",
          "e.g. `0 3 * * * root /usr/local/bin/backup`",
        );
        return;
      }
      if (!USER_NAME.test(token.text)) {
        this.problem(
          this.at(token.col),
          `expected a user name after the time fields (system crontab format), got "${token.text}"`,
          `write the user first, e.g. \`${timeText} root ${token.text}\`; a user's own crontab has no user field (leave out --system)`,
        );
        return;
      }
      user = { value: token.text, col: token.col };
      next++;
    }
    const commandToken = tokens[next];
    if (!commandToken) {
      this.problem(
        this.at(line.length + 1),
        user ? `this entry has no command after the user "${user.value}"` : "this entry has no command",
        `the command follows the ${user ? "user" : "time fields"} on the same line, e.g. \`${timeText}${user ? ` ${user.value}` : ""} /usr/local/bin/backup\``,
      );
      return;
    }
    let commandCol = commandToken.col;
    let raw = line.slice(commandCol - 1);
    // cronie's "do not log" marks: `-q COMMAND`, and the older leading `-`. tdefer logs every run anyway.
    const dontLog = /^-q[ \t]+/.exec(raw) ?? /^-(?=\S)/.exec(raw);
    if (dontLog) {
      raw = raw.slice(dontLog[0].length);
      commandCol += dontLog[0].length;
    }
    const { command, input, percentAt } = splitPercent(raw);
    if (command.trim() === "") {
      this.problem(
        this.at(percentAt !== undefined ? commandCol + percentAt : commandCol),
        percentAt !== undefined
          ? "the command is empty: an unescaped % ends the command, and what follows it is the command's standard input"
          : "the command is empty",
        "write the command before the %, or write \\% for a literal percent sign",
      );
      return;
    }
    this.addEntry({
      line,
      start: entryStart,
      fieldsCol: first.col,
      trigger,
      timeText,
      user,
      command,
      commandCol,
      stdin:
        input !== undefined && input !== "" && percentAt !== undefined
          ? { value: input, col: commandCol + percentAt }
          : undefined,
    });
  }

  /** The time fields as cron reads them: numbers, names, `*`, ranges, lists, steps; no extensions. */
  private checkField(field: { text: string; col: number }, index: number): boolean {
    const what = FIELD_NAMES[index]!;
    const names = index === 3 ? MONTHS : index === 4 ? DAYS : [];
    for (const item of field.text.split(",")) {
      const shape = /^(\*|([0-9A-Za-z]+)(-([0-9A-Za-z]+))?)(\/([0-9]+))?$/.exec(item);
      if (!shape) {
        const reason = item.includes("~")
          ? "cronie's random `~` ranges are not supported"
          : /[LW#?H]/.test(item)
            ? "L, W, #, ? and H are not cron syntax (cron rejects the line)"
            : "cron's fields take numbers, names (jan, mon), *, ranges a-b, lists a,b and steps /n";
        this.problem(this.at(field.col), `"${field.text}" is not a valid ${what} field: ${reason}`);
        return false;
      }
      const [, star, low, , high, , step] = shape;
      if (star !== "*" && high === undefined && step !== undefined) {
        this.problem(
          this.at(field.col),
          `"${item}" in the ${what} field: cron takes a step only after a range or *`,
          `write ${low}-${index === 0 ? 59 : index === 1 ? 23 : index === 2 ? 31 : index === 3 ? 12 : 7}/${step} for every ${step} from ${low}`,
        );
        return false;
      }
      for (const value of [low, high]) {
        if (value === undefined || /^\d+$/.test(value)) continue;
        if (/^(\d*[LW]|LW|H)$/i.test(value)) {
          this.problem(
            this.at(field.col),
            `"${field.text}" is not a valid ${what} field: L, W, #, ? and H are not cron syntax (cron rejects the line)`,
          );
          return false;
        }
        if (!names.includes(value.toLowerCase())) {
          this.problem(
            this.at(field.col),
            `"${value}" in the ${what} field is not a number${names.length > 0 ? ` nor a ${index === 3 ? "month" : "day"} name` : ""}`,
            names.length > 0
              ? `use ${names.join(", ")} or numbers`
              : `the ${what} field takes numbers; did a field go missing?`,
          );
          return false;
        }
      }
    }
    return true;
  }

  private addEntry(found: {
    line: string;
    start: Place;
    fieldsCol: number;
    trigger: ParsedEntry["trigger"];
    timeText: string;
    user: ParsedEntry["user"];
    command: string;
    commandCol: number;
    stdin: ParsedEntry["stdin"];
  }): void {
    const nameComment = [...this.comments].reverse().find((c) => /^\s*name:/.test(c.text));
    const explicit = nameComment?.text.replace(/^\s*name:/, "").trim();
    const name =
      explicit ??
      uniqueName(
        `${programSlug(found.command)}-${shortHash(`${found.timeText}\n${found.user?.value ?? ""}\n${found.command}`)}`,
        new Set(this.parsed.map((p) => p.entry.name)),
      );
    const clash = this.parsed.find((p) => p.entry.name === name);
    if (clash) {
      this.problem(
        { line: nameComment!.line, col: 1 },
        `the name "${name}" is already used by the entry on line ${clash.entry.line}`,
        "give each entry its own `# name:`",
      );
      return;
    }
    const description = describe(this.comments.filter((c) => c !== nameComment).map((c) => c.text));
    this.parsed.push({
      entry: { name, line: this.lineNumber, text: found.line, description },
      start: found.start,
      fields: this.at(found.fieldsCol),
      trigger: found.trigger,
      user: found.user,
      command: found.command,
      commandCol: found.commandCol,
      stdin: found.stdin,
      settings: new Map(this.settings),
      explicitName: explicit !== undefined,
    });
  }

  /** The raw data: settings common to every entry at the file's level, the rest per job. */
  private build(): CrontabReading {
    const values = new Map<string, Place>();
    const keys = new Map<string, Place>();
    const place = (path: Path, at: Place, key?: Place) => {
      values.set(path.join("\0"), at);
      if (key) keys.set(path.join("\0"), key);
    };
    const environments = this.parsed.map((p) => environmentOf(p.settings));
    const shells = this.parsed.map((p) => p.settings.get("SHELL")?.value ?? CRON_DEFAULT_SHELL);
    const fileShell = mostCommon(shells);
    const common = new Map<string, string>();
    for (const [key, value] of Object.entries(environments[0]!)) {
      if (environments.every((env) => env[key] === value)) common.set(key, value);
    }
    const zones = this.parsed.map((p) => p.settings.get("CRON_TZ"));
    const commonZone = zones.every((z) => z !== undefined && z.value === zones[0]!.value)
      ? zones[0]
      : undefined;

    const value: Record<string, unknown> = {};
    if (commonZone) {
      value.timezone = commonZone.value;
      place(["timezone"], commonZone);
    }
    value.shell = fileShell;
    const shellSetting = this.parsed
      .find((p) => p.settings.get("SHELL")?.value === fileShell)
      ?.settings.get("SHELL");
    if (shellSetting) place(["shell"], shellSetting);
    const fileEnv: Record<string, string> = {};
    for (const [key, envValue] of common) {
      fileEnv[key] = envValue;
      const setting = this.parsed[0]!.settings.get(key);
      if (setting) place(["env", key], setting);
    }
    value.env = fileEnv;
    // cron starts a run even while the previous one of the entry still runs.
    value.defaults = { overlap: "allow" };

    const jobs: Record<string, unknown> = {};
    for (const [index, p] of this.parsed.entries()) {
      const name = p.entry.name;
      const at = (key: string | number, ...rest: (string | number)[]): Path => ["jobs", name, key, ...rest];
      place(["jobs", name], p.start, p.start);
      const job: Record<string, unknown> = {};
      if (p.entry.description !== undefined) {
        job.description = p.entry.description;
        place(at("description"), p.start);
      }
      const [kind] = Object.keys(p.trigger) as ("cron" | "after" | "every")[];
      Object.assign(job, p.trigger);
      place(at(kind!), p.fields, p.fields);
      const zone = p.settings.get("CRON_TZ");
      if (zone && !commonZone) {
        job.timezone = zone.value;
        place(at("timezone"), zone);
      }
      const delay = p.settings.get("RANDOM_DELAY");
      if (delay && delay.value !== "0") {
        job.jitter = `${Number(delay.value)}m`;
        place(at("jitter"), delay);
      }
      if (p.user) {
        job.user = p.user.value;
        place(at("user"), this.placeOf(p, p.user.col));
      }
      const home = p.settings.get("HOME")?.value ?? this.options.homeOf?.(p.user?.value);
      if (home !== undefined) {
        job.cwd = home;
        const homeSetting = p.settings.get("HOME");
        place(at("cwd"), homeSetting ?? p.start);
      }
      const jobEnv: Record<string, string> = {};
      for (const [key, envValue] of Object.entries(environments[index]!)) {
        if (common.get(key) === envValue) continue;
        jobEnv[key] = envValue;
        const setting = p.settings.get(key);
        if (setting) place(at("env", key), setting);
      }
      if (Object.keys(jobEnv).length > 0) job.env = jobEnv;
      const shell = shells[index]!;
      job.run = shell === fileShell ? p.command : [shell, "-c", p.command];
      const commandAt = this.placeOf(p, p.commandCol);
      place(at("run"), commandAt, commandAt);
      for (const i of [0, 1, 2]) place(at("run", i), commandAt);
      if (p.stdin) {
        job.stdin = p.stdin.value;
        place(at("stdin"), this.placeOf(p, p.stdin.col));
      }
      jobs[name] = job;
    }
    value.jobs = jobs;

    const lookup = (path: readonly (string | number)[], map: Map<string, Place>): Place | undefined => {
      for (let length = path.length; length > 0; length--) {
        const found = map.get(path.slice(0, length).join("\0"));
        if (found) return found;
      }
      return undefined;
    };
    const data: ScheduleData = {
      file: this.file,
      value,
      positionOf: (path, mode) =>
        (mode === "key" ? (keys.get(path.join("\0")) ?? lookup(path, values)) : lookup(path, values)) ?? {
          line: 1,
          col: 1,
        },
    };
    return {
      data,
      entries: this.parsed.map((p) => p.entry),
      problems: this.problems,
      warnings: this.warnings,
    };
  }

  private placeOf(p: ParsedEntry, col: number): Place {
    return { line: p.entry.line, col };
  }
}

/** A job's environment as cron builds it: the settings above it, SHELL and PATH defaulted. */
function environmentOf(settings: ReadonlyMap<string, Setting>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, setting] of settings) env[key] = setting.value;
  env.SHELL ??= CRON_DEFAULT_SHELL;
  env.PATH ??= CRON_DEFAULT_PATH;
  return env;
}

function mostCommon(values: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]![0];
}

/** Whitespace-separated words and their 1-based columns. */
function tokenize(line: string, start: number): { text: string; col: number }[] {
  const tokens: { text: string; col: number }[] = [];
  const pattern = /[^ \t]+/g;
  pattern.lastIndex = start;
  for (let match = pattern.exec(line); match; match = pattern.exec(line)) {
    tokens.push({ text: match[0], col: match.index + 1 });
  }
  return tokens;
}

/**
 * cron's `%` rule (Vixie cron's do_command, kept by cronie): in the command, `\%` is a literal `%` and the
 * first unescaped `%` ends it; in what follows, the standard input, an unescaped `%` is a newline and `\%`
 * a `%`, other backslashes staying as they are. `percentAt` is the offset of that first `%`.
 */
export function splitPercent(raw: string): { command: string; input?: string; percentAt?: number } {
  let command = "";
  let escaped = false;
  let i = 0;
  for (; i < raw.length; i++) {
    const ch = raw[i]!;
    if (escaped) {
      escaped = false;
      if (ch === "%") {
        command = `${command.slice(0, -1)}%`;
        continue;
      }
    } else if (ch === "\\") {
      escaped = true;
    } else if (ch === "%") {
      break;
    }
    command += ch;
  }
  if (i >= raw.length) return { command };
  let input = "";
  escaped = false;
  for (const ch of raw.slice(i + 1)) {
    let out = ch;
    if (escaped) {
      if (ch !== "%") input += "\\";
    } else if (ch === "%") {
      out = "\n";
    }
    escaped = out === "\\";
    if (!escaped) input += out;
  }
  return { command, input, percentAt: i };
}

/** A Go duration (supercronic's @every): `1h30m`, `90s`, `1.5h`, `500ms`; whole milliseconds only. */
function goDurationMs(text: string): number | undefined {
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(text)) return undefined;
  const unitMs: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
  };
  let total = 0;
  for (const [, amount, , unit] of text.matchAll(/(\d+(\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(amount) * unitMs[unit!]!;
  }
  const ms = Math.round(total * 1e6) / 1e6;
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** Shell words that test or set something up; the program a job is about comes after them. */
const NOT_THE_PROGRAM = new Set([
  "test",
  "[",
  "[[",
  "cd",
  "true",
  "false",
  ":",
  "sleep",
  "echo",
  "printf",
  "exit",
  "fi",
  "done",
  "esac",
  ".",
  "source",
  "export",
  "umask",
  "set",
  "cat",
]);
/** Words that run the program named after them (and their options). */
const WRAPPERS = new Set([
  "nice",
  "ionice",
  "nohup",
  "exec",
  "command",
  "env",
  "sudo",
  "timeout",
  "chronic",
  "flock",
  "time",
  "xargs",
]);
/** Interpreters given their script inline (`perl -e '…'`): a helper, not what the job is about. */
const INLINE_INTERPRETERS = new Set(["perl", "python", "python3", "ruby", "sh", "bash", "awk"]);
const KEYWORDS = new Set(["if", "then", "else", "elif", "do", "while", "until", "!", "{", "}", "(", ")"]);

/**
 * The name of the program an entry is about, as a slug: the first simple command of the line that is not a
 * test or a set-up word (test, [, cd, echo, …) nor inline code (`perl -e`), looking through wrappers such as
 * nice or timeout, and never inside a substitution (`$(date)`).
 */
export function programSlug(command: string): string {
  // What a substitution runs ($(date +%d) in a test) is never the program, nor what a quoted string says.
  const withoutSubstitutions = command.replace(/\$\([^)]*\)|`[^`]*`|'[^']*'|"[^"]*"/g, " _ ");
  const simpleCommands = withoutSubstitutions.split(/&&|\|\||[;|&(){}\n]/);
  for (const simple of simpleCommands) {
    const words = simple
      .trim()
      .split(/\s+/)
      .filter((word) => word !== "");
    let i = 0;
    while (i < words.length && (KEYWORDS.has(words[i]!) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]!))) i++;
    let program = words[i];
    if (program === undefined || NOT_THE_PROGRAM.has(program)) continue;
    if (INLINE_INTERPRETERS.has(program) && /^-[ec]$/.test(words[i + 1] ?? "")) continue;
    if (WRAPPERS.has(program)) {
      program = words.slice(i + 1).find((word) => !word.startsWith("-") && !/^[\d.]+[smhd]?$/.test(word));
      if (program === undefined) continue;
    }
    const base =
      program
        .replace(/^["']|["']$/g, "")
        .split("/")
        .pop() ?? "";
    const slug = base
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 24)
      .replace(/-+$/, "");
    if (/^[a-z0-9]/.test(slug)) return slug;
  }
  return "job";
}

function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 4);
}

/** Two entries with the same time, user and command (cron runs both) get -2, -3… */
function uniqueName(name: string, taken: ReadonlySet<string>): string {
  if (!taken.has(name)) return name;
  let n = 2;
  while (taken.has(`${name}-${n}`)) n++;
  return `${name}-${n}`;
}

/**
 * A comment block as a description: the text of its lines, without the field legends crontabs carry
 * (`# m h dom mon dow user command`, the `.---- minute` drawing) and without blank comment lines at its ends.
 */
function describe(lines: readonly string[]): string | undefined {
  const kept = lines
    .map((line) => line.replace(/^ ?/, "").trimEnd())
    .filter((line) => !/^\s*[.|*]/.test(line) && !/\bm\s+h\s+dom\s+mon\s+dow\b/.test(line));
  while (kept.length > 0 && kept[0]!.trim() === "") kept.shift();
  while (kept.length > 0 && kept[kept.length - 1]!.trim() === "") kept.pop();
  // "Example of job definition:" introduced the legend just dropped.
  if (kept.length === 1 && kept[0]!.endsWith(":")) return undefined;
  return kept.length > 0 ? kept.join("\n") : undefined;
}
