import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readlinkSync,
  readSync,
  type Stats,
  statSync,
} from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";

/**
 * A file or folder tdefer will not trust: a regular-file check or a trust rule failed. `path` is the one that
 * failed (the file, a folder on the way to it, or a symbolic link), which may differ from the path asked for.
 */
export class UntrustedFileError extends Error {
  override name = "UntrustedFileError";
  constructor(
    readonly path: string,
    message: string,
    /** True when a file was expected and `path` is a folder. */
    readonly isFolder = false,
  ) {
    super(message);
  }
}

/** What is being opened, for messages: `{ noun: "schedule file", risk: "run any command" }`. */
export interface TrustSubject {
  /** What the path is: "schedule file", "ledger folder"… */
  readonly noun: string;
  /** What whoever could change it could do, completing "its owner could … as root". */
  readonly risk: string;
}

const SCHEDULE_FILE: TrustSubject = { noun: "schedule file", risk: "run any command" };

/** The user tdefer runs as (effective uid), whose files it trusts besides root's; undefined where uids do not exist. */
export function runningUid(): number | undefined {
  return process.geteuid?.();
}

/** Symbolic links followed on one path before giving up, as the kernel does (ELOOP). */
const MAX_SYMLINKS = 40;

/**
 * The trust rules cron applies to crontabs, for everything tdefer runs commands from: the file (or folder), every
 * folder on the way to it, and every symbolic link followed, must be owned by root or by `uid` (the user tdefer
 * runs as); the file must not be writable by group or others, nor any folder on the way unless it is sticky (as
 * /tmp is, where only a file's owner may replace it). Otherwise someone else could change, or swap in, what
 * tdefer runs, as `uid`. Walks the path itself, component by component, with lstat (no race with a link changed
 * in between: whatever the walk trusts only root or `uid` can change). Returns the resolved path, free of
 * symbolic links; throws UntrustedFileError naming the path that failed and why, or the file system's error
 * (ENOENT…).
 */
export function checkTrustedPath(
  path: string,
  kind: "file" | "folder",
  uid: number,
  subject: TrustSubject = SCHEDULE_FILE,
): string {
  const target = resolve(path);
  let current = "/";
  checkFolder("/", lstatSync("/"), target, uid, subject);
  const pending = target.split("/").filter((part) => part !== "");
  let links = 0;
  while (pending.length > 0) {
    const name = pending.shift()!;
    if (name === ".") continue;
    if (name === "..") {
      current = dirname(current); // already checked on the way down: `current` never names a link
      continue;
    }
    const next = join(current, name);
    const stats = lstatSync(next);
    if (stats.isSymbolicLink()) {
      if (!isTrustedOwner(stats.uid, uid)) {
        throw new UntrustedFileError(
          next,
          `${next}: refusing to run as ${whom(uid)} the ${subject.noun} ${target} through a symbolic link owned by uid ${stats.uid}: its owner could point it at another file\n  hint: replace the link with one owned by ${ownerHint(uid)} (ln -sfn as that user), or name the file itself`,
        );
      }
      if (++links > MAX_SYMLINKS) {
        throw new UntrustedFileError(next, `${target}: more than ${MAX_SYMLINKS} symbolic links on the way`);
      }
      const link = readlinkSync(next);
      if (isAbsolute(link)) current = "/";
      pending.unshift(...link.split("/").filter((part) => part !== ""));
      continue;
    }
    if (pending.length > 0 || kind === "folder") {
      if (!stats.isDirectory()) {
        throw new UntrustedFileError(next, `${next}: not a folder, on the way to ${target}`);
      }
      checkFolder(next, stats, target, uid, subject);
    } else {
      checkRegularFile(next, stats, subject);
      checkTrustedFileStats(next, stats, uid, subject);
    }
    current = next;
  }
  return current;
}

/**
 * Reads a whole file through one descriptor, never more than `maxBytes`: what is checked is what is read. Refuses
 * what is not a regular file (a FIFO, a device such as /dev/zero, a folder) before reading from it, without
 * blocking (opened with O_NONBLOCK, so a FIFO with no writer does not hang). With `trustUid`, applies
 * checkTrustedPath first and then the same owner and mode rules to the descriptor itself (fstat), so a file
 * swapped in after the walk is never read. Throws UntrustedFileError, or the file system's error (ENOENT…).
 */
export function readRegularFile(
  path: string,
  options: { readonly maxBytes: number; readonly trustUid?: number; readonly subject?: TrustSubject },
): Buffer {
  const subject = options.subject ?? SCHEDULE_FILE;
  const trustUid = options.trustUid;
  let real = path;
  if (trustUid !== undefined) {
    real = checkTrustedPath(path, "file", trustUid, subject);
  } else {
    // Refused by its type before it is even opened: opening some devices has effects of its own.
    checkRegularFile(path, statSync(path), subject);
  }
  const noFollow = trustUid !== undefined ? constants.O_NOFOLLOW : 0;
  const fd = openSync(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY | noFollow);
  try {
    const stats = fstatSync(fd);
    checkRegularFile(path, stats, subject);
    if (trustUid !== undefined) checkTrustedFileStats(path, stats, trustUid, subject);
    if (stats.size > options.maxBytes)
      throw tooLarge(path, `is ${stats.size} bytes`, options.maxBytes, subject);
    return readAtMost(fd, path, options.maxBytes, subject);
  } finally {
    closeSync(fd);
  }
}

/** Reads until end of file, refusing the file as soon as it proves longer than `maxBytes` (it may grow). */
function readAtMost(fd: number, path: string, maxBytes: number, subject: TrustSubject): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, maxBytes + 1 - total));
    const read = readSync(fd, chunk, 0, chunk.length, null);
    if (read === 0) return Buffer.concat(chunks, total);
    chunks.push(chunk.subarray(0, read));
    total += read;
    if (total > maxBytes) throw tooLarge(path, `has more than ${maxBytes} bytes`, maxBytes, subject);
  }
}

function tooLarge(path: string, size: string, maxBytes: number, subject: TrustSubject): UntrustedFileError {
  return new UntrustedFileError(
    path,
    `${path}: the file ${size}; a ${subject.noun} may have at most ${maxBytes}`,
  );
}

function checkRegularFile(path: string, stats: Stats, subject: TrustSubject): void {
  if (stats.isFile()) return;
  throw new UntrustedFileError(
    path,
    `${path}: not a regular file but ${kindOf(stats)}; a ${subject.noun} must be a regular file\n  hint: name the file itself`,
    stats.isDirectory(),
  );
}

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return "a folder";
  if (stats.isFIFO()) return "a FIFO (named pipe)";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  if (stats.isSocket()) return "a socket";
  if (stats.isSymbolicLink()) return "a symbolic link";
  return "a special file";
}

function checkTrustedFileStats(path: string, stats: Stats, uid: number, subject: TrustSubject): void {
  if (!isTrustedOwner(stats.uid, uid)) {
    throw new UntrustedFileError(
      path,
      `${path}: refusing to run as ${whom(uid)} a ${subject.noun} owned by uid ${stats.uid}: its owner could ${subject.risk} as ${whom(uid)}\n  hint: ${sudo(uid)}chown ${ownerHint(uid)} ${path}`,
    );
  }
  if ((stats.mode & 0o022) !== 0) {
    throw new UntrustedFileError(
      path,
      `${path}: refusing to run as ${whom(uid)} a ${subject.noun} that group or others can write (mode ${(stats.mode & 0o777).toString(8)})\n  hint: ${sudo(uid)}chmod go-w ${path}`,
    );
  }
}

function checkFolder(folder: string, stats: Stats, target: string, uid: number, subject: TrustSubject): void {
  if (!isTrustedOwner(stats.uid, uid)) {
    throw new UntrustedFileError(
      folder,
      `${folder}: refusing to run as ${whom(uid)} the ${subject.noun} ${target} from a folder owned by uid ${stats.uid}: its owner could replace what is inside\n  hint: keep the ${subject.noun} in a folder owned by ${ownerHint(uid)}, or ${sudo(uid)}chown ${ownerHint(uid)} ${folder}`,
    );
  }
  const sticky = (stats.mode & 0o1000) !== 0;
  if ((stats.mode & 0o022) !== 0 && !sticky) {
    throw new UntrustedFileError(
      folder,
      `${folder}: refusing to run as ${whom(uid)} the ${subject.noun} ${target} from a folder that group or others can write (mode ${(stats.mode & 0o777).toString(8)}): they could replace it\n  hint: ${sudo(uid)}chmod go-w ${folder} (or chmod +t, as /tmp has)`,
    );
  }
}

function isTrustedOwner(owner: number, uid: number): boolean {
  return owner === 0 || owner === uid;
}

const whom = (uid: number): string => (uid === 0 ? "root" : `uid ${uid}`);
const ownerHint = (uid: number): string => (uid === 0 ? "root" : String(uid));
const sudo = (uid: number): string => (uid === 0 ? "sudo " : "");
