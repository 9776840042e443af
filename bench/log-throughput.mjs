// Log throughput: a child (`cat` of a pre-generated file) writes lines, and one subject carries them to a
// file in a temp dir. Subjects, each its own process started from here:
//   --subject tdefer-plain|tdefer-json  the built binary: `tdefer run` of a schedule with one `after: 0s` job
//                                       (`run` exits by itself when nothing is left), stdout to the file
//   --subject cat                       `cat FILE | cat > out`: the pipe and the disk alone
//   --subject node-pipe                 Node's bare child.stdout.pipe(fs.createWriteStream(out))
//   --subject twisted-raw|twisted-lines bench/peers/twisted_process.py: a ProcessProtocol whose outReceived
//                                       writes each chunk as is (raw), or cuts it into lines and writes
//                                       "<time> job | line" for each (lines: the work tdefer's plain does)
// Stream time: from spawning the producer to its last byte written, measured by each subject itself (tdefer:
// the `started` and `finished` events of its own log), so start-up costs (tdefer loads its CLI, Python
// imports Twisted) are out of the MB/s; wall time and peak RSS (/usr/bin/time, else VmHWM polled) are of
// the whole process. `--make FILE --mb N --line BYTES` writes the input (BYTES per line, "\n" included;
// --line 0: one line of N MB) and exits. Prints one JSON line.
import { spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { benchDir, emit, parseArgs } from "./lib.mjs";

const args = parseArgs();
const PYTHON = "/usr/bin/python3";
const TIME = "/usr/bin/time";
// --bin: another build's bin/tdefer.js, to set two builds side by side in one run.
const tdeferBin = args.bin ? String(args.bin) : join(benchDir, "..", "bin", "tdefer.js");
/** Printable ASCII without `"` and `\\`: log text that JSON needs not escape (a line that does costs ~1 µs more). */
const TEXT = Buffer.from(
  "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 .,:;=-+_/()[]{}<>#@%&*!?'",
);

if (args.make) {
  makeInput(String(args.make), Number(args.mb ?? 200), Number(args.line ?? 100));
  emit({ bench: "log-input", file: args.make, bytes: statSync(String(args.make)).size });
  process.exit(0);
}

if (args.passthrough) {
  // The node-pipe subject itself: spawn → the write stream's 'finish', printed to stderr in ms.
  const { createWriteStream } = await import("node:fs");
  const started = performance.now();
  const child = spawn("cat", [String(args.passthrough)], { stdio: ["ignore", "pipe", "inherit"] });
  const sink = createWriteStream(String(args.to));
  child.stdout.pipe(sink);
  sink.on("finish", () => process.stderr.write(`${performance.now() - started}\n`));
  await new Promise((resolve) => sink.on("close", resolve));
  process.exit(0);
}

const subject = String(args.subject ?? "tdefer-plain");
const data = String(args.data);
const dir = String(args.dir);
const out = join(dir, `out-${subject}`);
const bytes = statSync(data).size;

/** `mb` MB of `line`-byte lines (varied text, so nothing compresses to a pattern), or one line (--line 0). */
function makeInput(file, mb, line) {
  const total = Math.round(mb * 1e6);
  const block = Buffer.alloc(line > 0 ? Math.max(line, Math.floor((1 << 20) / line) * line) : 1 << 20);
  for (let i = 0; i < block.length; i++) block[i] = TEXT[(i * 7 + (i >> 8)) % TEXT.length];
  if (line > 0) for (let i = line - 1; i < block.length; i += line) block[i] = 0x0a;
  const fd = openSync(file, "w");
  for (let written = 0; written < total; ) {
    const n = Math.min(block.length, total - written);
    written += writeFileSync(fd, block.subarray(0, n)) ?? n;
  }
  if (line <= 0) writeFileSync(fd, "\n");
  closeSync(fd);
}

/**
 * Runs `command` with stdout to `stdoutFile` (or inherited), under /usr/bin/time when present; resolves with
 * wall ms, peak RSS KiB and stderr.
 */
function measured(command, argv, stdoutFile, env = process.env) {
  return new Promise((resolve, reject) => {
    const timeFile = join(dir, `time-${subject}`);
    const useTime = existsSync(TIME);
    const [file, fileArgs] = useTime
      ? [TIME, ["-f", "%M", "-o", timeFile, command, ...argv]]
      : [command, argv];
    const fd = stdoutFile ? openSync(stdoutFile, "w") : "ignore";
    const started = performance.now();
    const proc = spawn(file, fileArgs, { stdio: ["ignore", fd, "pipe"], env });
    if (typeof fd === "number") closeSync(fd);
    let stderr = "";
    proc.stderr.on("data", (d) => {
      stderr += d;
    });
    let hwmKiB = 0;
    // Without /usr/bin/time: the process's own high-water mark, read until it exits.
    const poll = useTime ? undefined : setInterval(() => (hwmKiB = Math.max(hwmKiB, vmHwm(proc.pid))), 20);
    proc.on("error", reject);
    proc.on("close", (code) => {
      const wallMs = performance.now() - started;
      if (poll) clearInterval(poll);
      if (code !== 0) return reject(new Error(`${command} exited ${code}: ${stderr.trim().slice(-300)}`));
      const rssKiB = useTime ? Number(readFileSync(timeFile, "utf8").trim().split("\n").pop()) : hwmKiB;
      resolve({ wallMs, rssKiB, stderr, rssBy: useTime ? "/usr/bin/time" : "VmHWM polled" });
    });
  });
}

function vmHwm(pid) {
  try {
    const match = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** The first and the last `size` bytes of a file, as text. */
function headAndTail(file, size = 64 * 1024) {
  const fd = openSync(file, "r");
  const length = statSync(file).size;
  const head = Buffer.alloc(Math.min(size, length));
  readSync(fd, head, 0, head.length, 0);
  const tail = Buffer.alloc(Math.min(size, length));
  readSync(fd, tail, 0, tail.length, length - tail.length);
  closeSync(fd);
  return { head: head.toString("utf8"), tail: tail.toString("utf8"), length };
}

/** Started → finished of the one run, from tdefer's own log (the event times, ms). */
function tdeferStreamMs(format) {
  const { head, tail } = headAndTail(out);
  if (format === "json") {
    const started = head.split("\n").find((l) => l.includes('"event":"started"'));
    const finished = tail.split("\n").find((l) => l.includes('"event":"finished"'));
    if (!started || !finished) throw new Error("no started/finished event in the log");
    return Date.parse(JSON.parse(finished).time) - Date.parse(JSON.parse(started).time);
  }
  const started = head.split("\n").find((l) => / started \(pid /.test(l));
  const finished = tail.split("\n").find((l) => / finished: /.test(l));
  if (!started || !finished) throw new Error("no started/finished line in the log");
  return Date.parse(finished.split(" ")[0]) - Date.parse(started.split(" ")[0]);
}

async function runSubject() {
  if (subject === "tdefer-plain" || subject === "tdefer-json") {
    const format = subject.slice("tdefer-".length);
    const schedule = join(dir, "log-throughput.yaml");
    writeFileSync(schedule, `jobs:\n  log:\n    after: 0s\n    run: [cat, ${JSON.stringify(data)}]\n`);
    // A ledger of its own in the temp dir: the user's is not touched, and two builds never share one.
    const env = { ...process.env, XDG_STATE_HOME: mkdtempSync(join(dir, "state-")) };
    const m = await measured(
      process.execPath,
      [tdeferBin, "run", schedule, "--log-format", format],
      out,
      env,
    );
    return { ...m, streamMs: tdeferStreamMs(format) };
  }
  if (subject === "cat") {
    const m = await measured("/bin/sh", ["-c", 'cat "$1" | cat > "$2"', "sh", data, out]);
    return { ...m, streamMs: m.wallMs };
  }
  if (subject === "node-pipe") {
    const m = await measured(process.execPath, [
      join(benchDir, "log-throughput.mjs"),
      "--passthrough",
      data,
      "--to",
      out,
    ]);
    return { ...m, streamMs: Number(m.stderr.trim().split("\n").pop()) };
  }
  if (subject === "twisted-raw" || subject === "twisted-lines") {
    const mode = subject.slice("twisted-".length);
    const peer = join(benchDir, "peers", "twisted_process.py");
    const m = await measured(PYTHON, [peer, "--data", data, "--out", out, "--mode", mode]);
    return { ...m, streamMs: Number(m.stderr.trim().split("\n").pop()) };
  }
  throw new Error(`unknown subject ${subject}`);
}

{
  const r = await runSubject();
  const outBytes = statSync(out).size;
  emit({
    bench: "log-throughput",
    subject,
    bytes,
    outBytes,
    streamMs: r.streamMs,
    wallMs: r.wallMs,
    mbPerS: bytes / 1e6 / (r.streamMs / 1000),
    wallMbPerS: bytes / 1e6 / (r.wallMs / 1000),
    rssMiB: r.rssKiB / 1024,
    rssBy: r.rssBy,
  });
}
