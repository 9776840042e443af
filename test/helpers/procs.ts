import { mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Writes a schedule file into a fresh temporary folder (mode 0644, owned by us) and returns its path. */
export function writeSchedule(text: string, name = "tdefer.yaml"): string {
  const dir = mkdtempSync(join(tmpdir(), "tdefer-test-"));
  const file = join(dir, name);
  writeFileSync(file, text, { mode: 0o644 });
  return file;
}

/** The lines of a `--log-format json` log, parsed. */
// biome-ignore lint/suspicious/noExplicitAny: log events are checked field by field by the tests
export function jsonEvents(stdout: string): any[] {
  return stdout
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line));
}

/** A field of /proc/PID/status in kB (VmRSS, VmHWM…), or undefined once the process is gone. */
export function statusKb(pid: number, field: string): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(
      readFileSync(`/proc/${pid}/status`, "utf8"),
    );
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

interface ProcStat {
  pid: number;
  state: string;
  ppid: number;
  pgrp: number;
}

/** Every process in /proc, with its state, parent and process group. */
export function processes(): ProcStat[] {
  const result: ProcStat[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const text = readFileSync(`/proc/${name}/stat`, "utf8");
      // The command name may contain spaces and parentheses: the fields after the last ')' are fixed.
      const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
      result.push({ pid: Number(name), state: rest[0]!, ppid: Number(rest[1]), pgrp: Number(rest[2]) });
    } catch {
      // gone meanwhile
    }
  }
  return result;
}

/** The live (not zombie) processes of a process group. */
export function liveInGroup(pgid: number): number[] {
  return processes()
    .filter((p) => p.pgrp === pgid && p.state !== "Z")
    .map((p) => p.pid);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The TCP ports a process listens on (IPv4 and IPv6), from its socket descriptors and /proc/net/tcp{,6}. */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is HEX_IP:HEX_PORT; state 0A is LISTEN; the inode is the 10th field.
      if (fields[3] === "0A" && inodes.has(fields[9]!))
        ports.push(Number.parseInt(fields[1]!.split(":")[1]!, 16));
    }
  }
  return ports;
}
