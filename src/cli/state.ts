// Where a schedule's ledger is: --state, TDEFER_STATE, the file's `state:`, or the default path; and opening it.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { homedir, hostname } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { type Ledger, LedgerError } from "../ledger/ledger.js";
import { redactUrl } from "../ledger/redact.js";
import type { Schedule } from "../schedule/types.js";
import { scheduleNameOf } from "../schedule/validate.js";
import { checkTrustedPath, type TrustSubject, UntrustedFileError } from "./trusted-file.js";

/** Where the ledger is, and which setting said so. */
export type StateSelection =
  | { readonly kind: "none"; readonly source: StateSource }
  | { readonly kind: "sqlite"; readonly path: string; readonly source: StateSource }
  | { readonly kind: "postgres"; readonly url: string; readonly source: StateSource };

export type StateSource = "--state" | "TDEFER_STATE" | "state:" | "default";

/** The schedule's name in the ledger. */
export function scheduleName(schedule: Schedule): string {
  return schedule.name ?? scheduleNameOf(schedule.file);
}

/**
 * The ledger selection, first found: `--state VALUE`, env TDEFER_STATE, the file's `state:` (a path relative to the
 * file), the default path. VALUE is a path, a postgres:// or postgresql:// URL, or `none`.
 */
export function selectState(
  schedule: Schedule,
  options: { readonly flag?: string; readonly env: NodeJS.ProcessEnv; readonly cwd: string },
): StateSelection {
  const given: [string | undefined, StateSource, string][] = [
    [options.flag, "--state", options.cwd],
    [options.env.TDEFER_STATE || undefined, "TDEFER_STATE", options.cwd],
    [schedule.state, "state:", dirname(schedule.file)],
  ];
  for (const [value, source, base] of given) {
    if (value === undefined) continue;
    if (value === "none") return { kind: "none", source };
    if (/^postgres(ql)?:\/\//.test(value)) return { kind: "postgres", url: value, source };
    return { kind: "sqlite", path: resolve(base, value), source };
  }
  return { kind: "sqlite", path: defaultStatePath(schedule, options.env), source: "default" };
}

/**
 * `$STATE_DIRECTORY/NAME.db` under systemd (`StateDirectory=tdefer`), else
 * `${XDG_STATE_HOME:-~/.local/state}/tdefer/NAME-HASH.db`, HASH being 8 hex of the schedule file's absolute path
 * (two schedules of one name in different folders keep apart).
 */
export function defaultStatePath(schedule: Schedule, env: NodeJS.ProcessEnv): string {
  const name = scheduleName(schedule);
  // systemd gives a colon-separated list when the unit names several folders; the first is tdefer's.
  const stateDirectory = env.STATE_DIRECTORY?.split(":")[0];
  if (stateDirectory && isAbsolute(stateDirectory)) return join(stateDirectory, `${name}.db`);
  const xdg = env.XDG_STATE_HOME && isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : undefined;
  const base = xdg ?? join(env.HOME || homedir(), ".local", "state");
  const hash = createHash("sha256").update(resolve(schedule.file)).digest("hex").slice(0, 8);
  return join(base, "tdefer", `${name}-${hash}.db`);
}

/** How a selection reads in messages: the path, `none`, or the URL without its password. */
export function describeState(selection: StateSelection): string {
  switch (selection.kind) {
    case "none":
      return "none (nothing is remembered)";
    case "sqlite":
      return selection.path;
    case "postgres":
      return redactUrl(selection.url);
  }
}

/** The ledger as the trust rules name it in their messages. */
const LEDGER_FOLDER: TrustSubject = { noun: "ledger folder", risk: "rewrite what ran and what runs again" };
const LEDGER_FILE: TrustSubject = { noun: "ledger", risk: "rewrite what ran and what runs again" };

/**
 * Opens the selected ledger for `run`, `trigger` or `history`; undefined for `none`. Throws LedgerError. With
 * `trustUid` (tdefer runs as root), the schedule file's trust rules apply to the ledger's folder and file: whoever
 * could replace them could make tdefer run a job again, or never.
 */
export async function openLedger(
  selection: StateSelection,
  schedule: Schedule,
  options: {
    readonly now: () => number;
    readonly mustExist?: boolean;
    readonly trustUid?: number;
    /** The Clock seam, for a networked ledger's reconnects and waits; without it, none. */
    readonly callLater?: (delayMs: number, fn: () => void) => { cancel(): void };
    /** A networked ledger stopped or started answering. */
    readonly onAvailability?: (up: boolean, error?: string) => void;
    /** Refuse a networked ledger that does not answer now (history, trigger); `run` starts anyway and waits. */
    readonly mustAnswer?: boolean;
  },
): Promise<Ledger | undefined> {
  switch (selection.kind) {
    case "none":
      return undefined;
    case "sqlite": {
      if (options.trustUid !== undefined) checkLedgerTrusted(selection.path, options.trustUid);
      // Loaded only for a SQLite ledger: `--state none` never loads better-sqlite3.
      const { openSqliteLedger } = await import("../ledger/sqlite.js");
      return openSqliteLedger(selection.path, {
        schedule: scheduleName(schedule),
        now: options.now,
        ...(options.mustExist ? { mustExist: true } : {}),
      });
    }
    case "postgres": {
      // Loaded only for a PostgreSQL ledger: SQLite users never load pg.
      const { PostgresLedger } = await import("../ledger/postgres.js");
      const ledger = await PostgresLedger.open(selection.url, {
        schedule: scheduleName(schedule),
        callLater: options.callLater ?? (() => ({ cancel: () => {} })),
        ...(options.onAvailability ? { onAvailability: options.onAvailability } : {}),
      });
      if (options.mustAnswer && !ledger.isUp) {
        await ledger.close();
        throw new LedgerError(
          ledger.location,
          "the PostgreSQL ledger does not answer",
          "check that the server runs and that this URL, PGPASSWORD or ~/.pgpass let this user in (tdefer check shows what it says)",
        );
      }
      return ledger;
    }
  }
}

/** `host:pid`: the owner written on this process's claims. */
export function ownerId(pid = process.pid): string {
  return `${hostname()}:${pid}`;
}

/** Whether the owner of a claim may still be alive: another host's may; this host's only if its pid exists. */
export function ownerMayBeAlive(owner: string): boolean {
  const at = owner.lastIndexOf(":");
  const host = owner.slice(0, at);
  const pid = Number(owner.slice(at + 1));
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0) return true;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, as another user.
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

function checkLedgerTrusted(path: string, uid: number): void {
  try {
    // The folder is made here (0700) so that it is checked as it will be used.
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    checkTrustedPath(dirname(path), "folder", uid, LEDGER_FOLDER);
    if (existsSync(path)) checkTrustedPath(path, "file", uid, LEDGER_FILE);
  } catch (error) {
    if (!(error instanceof UntrustedFileError)) {
      const why = error instanceof Error ? error.message : String(error);
      throw new LedgerError(
        path,
        `cannot prepare the ledger's folder ${dirname(path)} (${why})`,
        "point --state at another file",
      );
    }
    const [message = "", hint = "point --state at a folder only root can change"] =
      error.message.split("\n  hint: ");
    throw new LedgerError(path, message, hint);
  }
}
