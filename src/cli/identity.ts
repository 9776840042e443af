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
