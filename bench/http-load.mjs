// HTTP under load while jobs fire: does serving the API, the metrics and the event streams delay a fire?
//   node bench/http-load.mjs [--seconds 30] [--jobs 100] [--clients 200] [--streams 10]
// Runs the built tdefer twice on the same schedule (JOBS jobs, `every: 1s`, argv ["true"]): once without HTTP,
// once with --http on loopback while CLIENTS keep-alive clients fetch /metrics and /api/v1/jobs in a loop and
// STREAMS clients read /api/v1/events. Prints fire-to-start (the `started` events' late_ms) for both runs, the
// requests answered and failed, the events streamed, and tdefer's RSS over the run. Loopback only.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { Agent, get, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { benchDir, parseArgs, percentile } from "./lib.mjs";

const args = parseArgs();
const SECONDS = Number(args.seconds ?? 30);
const JOBS = Number(args.jobs ?? 100);
const CLIENTS = Number(args.clients ?? 200);
const STREAMS = Number(args.streams ?? 10);
const WARM_UP_MS = 3_000;
const BIN = join(benchDir, "..", "bin", "tdefer.js");

const dir = mkdtempSync(join(tmpdir(), "tdefer-http-load-"));
const file = join(dir, "tdefer.yaml");
let yaml = "jobs:\n";
for (let i = 0; i < JOBS; i++) yaml += `  job-${i}:\n    every: 1s\n    run: ["true"]\n`;
writeFileSync(file, yaml);

function rssKb(pid) {
  try {
    return Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
  } catch {
    return undefined;
  }
}

async function phase(withHttp) {
  const argv = [BIN, "run", file, "--log-format", "json", "--for", `${SECONDS + WARM_UP_MS / 1000}s`];
  if (withHttp) argv.push("--http", "127.0.0.1:0");
  const child = spawn(process.execPath, argv, { stdio: ["ignore", "pipe", "inherit"] });
  const closed = new Promise((resolve) => child.on("close", resolve));
  const startedAt = Date.now();
  const late = [];
  const rss = [];
  let url;
  let urlReady;
  const urlKnown = new Promise((resolve) => {
    urlReady = resolve;
  });
  createInterface({ input: child.stdout }).on("line", (line) => {
    if (line.includes('"event":"started"')) {
      if (Date.now() - startedAt > WARM_UP_MS) late.push(JSON.parse(line).late_ms);
    } else if (line.includes('"event":"http_listening"')) {
      url = new URL(JSON.parse(line).url);
      urlReady();
    }
  });
  const sampler = setInterval(() => {
    if (Date.now() - startedAt > WARM_UP_MS) {
      const kb = rssKb(child.pid);
      if (kb) rss.push(kb);
    }
  }, 1000);
  const load = { ok: 0, failed: 0, statuses: {}, sseEvents: 0, sseBytes: 0 };
  let loading = false;
  const streams = [];
  if (withHttp) {
    await urlKnown;
    loading = true;
    const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
    const paths = ["/metrics", "/api/v1/jobs"];
    const client = async (n) => {
      for (let i = n; loading; i++) {
        await new Promise((resolve) => {
          const req = request({ host: url.hostname, port: url.port, path: paths[i % 2], agent }, (res) => {
            load.statuses[res.statusCode] = (load.statuses[res.statusCode] ?? 0) + 1;
            if (res.statusCode === 200) load.ok++;
            else load.failed++;
            res.resume();
            res.on("end", resolve);
            res.on("error", resolve);
          });
          req.on("error", () => {
            if (loading) load.failed++;
            resolve();
          });
          req.end();
        });
      }
    };
    for (let s = 0; s < STREAMS; s++) {
      streams.push(
        get({ host: url.hostname, port: url.port, path: "/api/v1/events" }, (res) => {
          res.on("data", (chunk) => {
            load.sseBytes += chunk.length;
            load.sseEvents += chunk.toString().match(/^data: /gm)?.length ?? 0;
          });
        }).on("error", () => {}),
      );
    }
    const clients = Array.from({ length: CLIENTS }, (_, n) => client(n));
    // The load ends half a second before tdefer's --for does: a stop closes connections, which is no error.
    setTimeout(
      () => {
        loading = false;
      },
      startedAt + WARM_UP_MS + SECONDS * 1000 - 500 - Date.now(),
    );
    await Promise.all(clients);
    agent.destroy();
  }
  await closed;
  clearInterval(sampler);
  for (const stream of streams) stream.destroy();
  late.sort((a, b) => a - b);
  const third = Math.max(1, Math.floor(rss.length / 3));
  const mean = (list) => Math.round(list.reduce((a, b) => a + b, 0) / list.length);
  return {
    http: withHttp,
    fires: late.length,
    firesPerSecond: Math.round(late.length / SECONDS),
    p50: Math.round(percentile(late, 50) * 10) / 10,
    p99: Math.round(percentile(late, 99) * 10) / 10,
    max: Math.round(late[late.length - 1] * 10) / 10,
    rssFirstThirdMB: Math.round(mean(rss.slice(0, third)) / 1024),
    rssLastThirdMB: Math.round(mean(rss.slice(-third)) / 1024),
    rssMaxMB: Math.round(Math.max(...rss) / 1024),
    ...(withHttp
      ? {
          requests: load.ok + load.failed,
          requestsPerSecond: Math.round((load.ok + load.failed) / SECONDS),
          failed: load.failed,
          statuses: load.statuses,
          sseEvents: load.sseEvents,
        }
      : {}),
  };
}

console.error("running without HTTP…");
const plain = await phase(false);
console.error("running with HTTP load…");
const loaded = await phase(true);
console.log(
  `HTTP load: ${JOBS} jobs every 1s for ${SECONDS} s; ${CLIENTS} clients on /metrics and /api/v1/jobs, ${STREAMS} event streams\n`,
);
console.log("| run | fires | fire-to-start p50 | p99 | max | RSS first third → last third (max) |");
console.log("|---|---|---|---|---|---|");
for (const r of [plain, loaded]) {
  console.log(
    `| ${r.http ? "with HTTP load" : "without HTTP"} | ${r.fires} (${r.firesPerSecond}/s) | ${r.p50} ms | ${r.p99} ms | ${r.max} ms | ${r.rssFirstThirdMB} → ${r.rssLastThirdMB} MB (${r.rssMaxMB}) |`,
  );
}
console.log(
  `\nrequests answered: ${loaded.requests} (${loaded.requestsPerSecond}/s), failed: ${loaded.failed}, statuses: ${JSON.stringify(loaded.statuses)}; events streamed: ${loaded.sseEvents}`,
);
console.log(`p99 ratio (with / without): ${(loaded.p99 / Math.max(1, plain.p99)).toFixed(2)}`);
console.log(JSON.stringify({ bench: "http-load", plain, loaded }));
