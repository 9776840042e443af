import { readFileSync } from "node:fs";

/** A user or group name (or numeric id) that cannot be found on this machine. */
export class IdentityError extends Error {
  override name = "IdentityError";
}

/** The numeric id of a user (from /etc/passwd) or group (from /etc/group); numbers pass through. */
export function resolveId(nameOrId: string, kind: "user" | "group"): number {
  if (/^\d+$/.test(nameOrId)) return Number(nameOrId);
  const file = kind === "user" ? "/etc/passwd" : "/etc/group";
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    // fall through to "not found"
  }
  for (const line of text.split("\n")) {
    const [name, , id] = line.split(":");
    if (name === nameOrId && id !== undefined && /^\d+$/.test(id)) return Number(id);
  }
  throw new IdentityError(`no ${kind} named "${nameOrId}" in ${file}`);
}

/** A user's entry in /etc/passwd. */
export interface UserEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

/** The /etc/passwd entry of a user name or numeric id; undefined when there is none (a bare numeric id). */
export function lookupUser(nameOrId: string): UserEntry | undefined {
  let text = "";
  try {
    text = readFileSync("/etc/passwd", "utf8");
  } catch {
    return undefined;
  }
  const byId = /^\d+$/.test(nameOrId);
  for (const line of text.split("\n")) {
    const [name, , uid, gid, , home] = line.split(":");
    if (name === undefined || uid === undefined || gid === undefined || !/^\d+$/.test(uid)) continue;
    if (byId ? uid === nameOrId : name === nameOrId) {
      return {
        name,
        uid: Number(uid),
        gid: /^\d+$/.test(gid) ? Number(gid) : Number(uid),
        home: home || "/",
      };
    }
  }
  return undefined;
}
