import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

// A real PostgreSQL server for the ledger's tests: Debian's `postgresql` package (.ci/run installs it), a
// fresh cluster in a temporary folder on a free loopback port, no Unix socket, removed after. One server per
// test file; each test takes a database of its own. initdb and postgres refuse to run as root, so as root
// they run as the `postgres` user (or `nobody`) through setpriv, with the folder owned by that user.

/** The newest installed server's bin folder, e.g. /usr/lib/postgresql/15/bin. */
function findPostgresBin() {
  const base = "/usr/lib/postgresql";
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((name) => /^\d+$/.test(name) && existsSync(join(base, name, "bin", "postgres")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(base, versions[0], "bin") : undefined;
}

const POSTGRES_BIN = findPostgresBin();

/** Why the PostgreSQL tests cannot run here, or undefined when they can. */
export const POSTGRES_MISSING = POSTGRES_BIN
  ? undefined
  : "PostgreSQL is not installed (apt-get install postgresql; .ci/run does it)";

/** Shown in test names when they are skipped, so a skip is never silent. */
export const POSTGRES_SKIPPED = POSTGRES_MISSING ? ` [skipped: ${POSTGRES_MISSING}]` : "";

/** The account the server runs as: ourselves, or when we are root an unprivileged user. */
function serverAccount() {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = readFileSync("/etc/passwd", "utf8").split("\n");
  for (const name of ["postgres", "nobody"]) {
    const fields = passwd.find((line) => line.startsWith(`${name}:`))?.split(":");
    if (fields) return { uid: Number(fields[2]), gid: Number(fields[3]) };
  }
  throw new Error("running as root, and neither a postgres nor a nobody user exists to run PostgreSQL");
}

/** A program and its arguments, run as the server's account. */
function asServerAccount(program, args) {
  const account = serverAccount();
  if (!account) return [program, args];
  return [
    "setpriv",
    [`--reuid=${account.uid}`, `--regid=${account.gid}`, "--clear-groups", "--", program, ...args],
  ];
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject()));
    });
  });
}

/** Initialises and starts a throwaway cluster. Takes a second or two. */
export async function startPostgres() {
  if (!POSTGRES_BIN) throw new Error(POSTGRES_MISSING);
  const bin = POSTGRES_BIN;
  const dir = mkdtempSync(join(tmpdir(), "tdefer-pg-"));
  const dataDir = join(dir, "data");
  const passwordFile = join(dir, "password");
  const user = "tdefer_test";
  const password = randomBytes(12).toString("hex");
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  const account = serverAccount();
  if (account) {
    chownSync(dir, account.uid, account.gid);
    chownSync(passwordFile, account.uid, account.gid);
  }
  const [initdb, initdbArgs] = asServerAccount(join(bin, "initdb"), [
    "-D",
    dataDir,
    "-U",
    user,
    `--pwfile=${passwordFile}`,
    "--auth=scram-sha-256",
    "-E",
    "UTF8",
    "--locale=C",
    "--no-sync",
  ]);
  try {
    execFileSync(initdb, initdbArgs, { stdio: ["ignore", "pipe", "pipe"], cwd: dir });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = error.stderr?.toString() ?? "";
    throw new Error(`initdb failed: ${stderr || String(error)}`);
  }

  const host = "127.0.0.1";
  let port = 0;
  /** @type {import("node:child_process").ChildProcess | undefined} */
  let child;
  let serverLog = "";
  const env = { PGPASSWORD: password };
  const url = (database) => `postgres://${user}@${host}:${port}/${database}`;

  const connect = async (database) => {
    const client = new pg.Client({ host, port, user, password, database, connectionTimeoutMillis: 2000 });
    await client.connect();
    return client;
  };

  const launch = async () => {
    const [program, args] = asServerAccount(join(bin, "postgres"), [
      "-D",
      dataDir,
      "-p",
      String(port),
      "-c",
      `listen_addresses=${host}`,
      "-c",
      "unix_socket_directories=",
      "-c",
      "fsync=off",
      "-c",
      "synchronous_commit=off",
      "-c",
      "full_page_writes=off",
      "-c",
      "TimeZone=UTC",
      "-c",
      "max_connections=200",
    ]);
    serverLog = "";
    const started = spawn(program, args, { stdio: ["ignore", "ignore", "pipe"], cwd: dir });
    child = started;
    started.stderr.setEncoding("utf8").on("data", (text) => {
      serverLog = (serverLog + text).slice(-20_000);
    });
    let exited = false;
    started.once("exit", () => {
      exited = true;
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (exited) throw new Error(`PostgreSQL exited at start:\n${serverLog}`);
      try {
        const client = await connect("postgres");
        await client.end();
        return;
      } catch (error) {
        if (Date.now() > deadline)
          throw new Error(`PostgreSQL did not answer in 30 s (${error}):\n${serverLog}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  };

  const stop = async () => {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once("exit", () => resolve()));
    running.kill("SIGINT"); // fast shutdown: disconnect clients, end cleanly
    await exited;
    child = undefined;
  };

  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (error) {
      // Another process may have taken the port between our probe and the server's bind.
      if (attempt >= 3 || !/could not (bind|create)/.test(String(error))) {
        await stop();
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }

  let databases = 0;
  return {
    host,
    get port() {
      return port;
    },
    user,
    password,
    env,
    url,
    async createDatabase() {
      const name = `t${process.pid}_${++databases}`;
      const client = await connect("postgres");
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return name;
    },
    async query(database, text, values) {
      const client = await connect(database);
      try {
        return (await client.query(text, values)).rows;
      } finally {
        await client.end();
      }
    },
    stop,
    start: launch,
    async remove() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
