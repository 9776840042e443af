// An HTTP address as --http and `http:` give it, and whether it is loopback only: what `run` checks at start,
// without loading node:http for a run that serves nothing.
import { isIP } from "node:net";

export const DEFAULT_HTTP_ADDRESS = "127.0.0.1:9780";

export interface HttpAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * `HOST:PORT`, `[V6]:PORT`, `:PORT` (every interface) or `PORT` (loopback). Throws a message that says what
 * was wrong and what to write instead.
 */
export function parseHttpAddress(text: string): HttpAddress {
  const trimmed = text.trim();
  const fix = "write HOST:PORT, for example 127.0.0.1:9780, [::1]:9780 or :9780 for every interface";
  // A bare port is a loopback port: listening on every interface must be asked for (":PORT").
  const match = /^\d+$/.test(trimmed)
    ? ["", undefined, "127.0.0.1", trimmed]
    : /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d+)$/.exec(trimmed);
  if (!match) throw new Error(`"${text}" is not an HTTP address; ${fix}`);
  const port = Number(match[3]);
  if (port > 65535) throw new Error(`port ${match[3]} is out of range (0-65535); ${fix}`);
  if (match[1] !== undefined) {
    if (isIP(match[1]) !== 6) throw new Error(`"${match[1]}" is not an IPv6 address; ${fix}`);
    return { host: match[1], port };
  }
  return { host: match[2] === "" ? "0.0.0.0" : match[2]!, port };
}

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  const bare = host.toLowerCase();
  return (
    bare === "localhost" ||
    bare === "::1" ||
    bare === "::ffff:127.0.0.1" ||
    (isIP(bare) === 4 && bare.startsWith("127."))
  );
}
