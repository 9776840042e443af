import { readFileSync } from "node:fs";
import { EXIT_FAILURE, EXIT_USAGE, UserError } from "../../errors.js";
import type { JobJson, RunJson } from "../../ops/api.js";
import { parseHttpAddress } from "../../ops/http-address.js";
import type { StatusOptions } from "../command-line.js";
import { type CliIO, columns, relativeTime } from "../io.js";

const REQUEST_TIMEOUT_MS = 5_000;

/** `tdefer status`: asks a running daemon's API and prints one screen; exit 1 when none answers. */
export async function statusCommand(options: StatusOptions, io: CliIO): Promise<number> {
  let base: string;
  let token: string | undefined;
  try {
    const { host, port } = parseHttpAddress(options.http);
    const shownHost = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
    base = `http://${shownHost.includes(":") ? `[${shownHost}]` : shownHost}:${port}`;
    if (options.httpTokenFile !== undefined) token = readFileSync(options.httpTokenFile, "utf8").trim();
  } catch (error) {
    throw new UserError(`tdefer status: ${(error as Error).message}`, EXIT_USAGE);
  }
  const get = async (path: string): Promise<{ status: number; body: unknown }> => {
    const response = await fetch(base + path, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    return { status: response.status, body: await response.json() };
  };
  let jobs: JobJson[];
  let runs: RunJson[];
  let health: { status: number; body: unknown };
  let ready: { status: number; body: unknown };
  try {
    const jobsAnswer = await get("/api/v1/jobs");
    if (jobsAnswer.status !== 200) {
      const error = (jobsAnswer.body as { error?: string }).error ?? `HTTP ${jobsAnswer.status}`;
      throw new UserError(
        `tdefer status: ${base} refused: ${error}${jobsAnswer.status === 401 ? " (give --http-token-file FILE)" : ""}`,
        EXIT_FAILURE,
      );
    }
    jobs = (jobsAnswer.body as { jobs: JobJson[] }).jobs;
    runs = ((await get("/api/v1/runs?failed=true&limit=5")).body as { runs: RunJson[] }).runs;
    health = await get("/healthz");
    ready = await get("/readyz");
  } catch (error) {
    if (error instanceof UserError) throw error;
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new UserError(
      `tdefer status: no tdefer answers at ${base} (${cause}); is one running with --http ${options.http}?`,
      EXIT_FAILURE,
    );
  }
  if (options.json) {
    io.stdout.write(`${JSON.stringify({ jobs, failures: runs })}\n`);
    return 0;
  }
  const nowMs = io.nowMs();
  const running = jobs.reduce((sum, job) => sum + job.running.length, 0);
  const paused = jobs.filter((job) => job.paused).length;
  const healthText =
    health.status === 200 ? "healthy" : `UNHEALTHY: ${(health.body as { reason?: string }).reason ?? "?"}`;
  const lines = [
    `tdefer at ${base}/: ${healthText}, ${ready.status === 200 ? "ready" : "not ready"}; ${jobs.length} ${jobs.length === 1 ? "job" : "jobs"}, ${running} running${paused ? `, ${paused} paused` : ""}`,
    "",
    columns([
      ["JOB", "TRIGGER", "NEXT", "LAST", "24H"],
      ...jobs.map((job) => [
        job.name,
        job.trigger,
        job.paused
          ? "paused"
          : job.next_fire === null
            ? "-"
            : relativeTime(Date.parse(job.next_fire) - nowMs),
        lastText(job, nowMs),
        `${job.last_24h.succeeded} ok, ${job.last_24h.failed} failed`,
      ]),
    ]),
  ];
  if (runs.length > 0) {
    lines.push("", "recent failures:");
    for (const run of runs) {
      const when = run.finished_at ? relativeTime(Date.parse(run.finished_at) - nowMs) : "";
      lines.push(`  ${when}  ${run.job} [${run.run}] ${resultText(run)}`);
    }
  }
  const width = (io.stdout as { columns?: number }).columns;
  const fitted = width
    ? lines.map((line) => (line.length > width ? `${line.slice(0, width - 1)}…` : line))
    : lines;
  io.stdout.write(`${fitted.join("\n")}\n`);
  return 0;
}

function lastText(job: JobJson, nowMs: number): string {
  const running = job.running.length > 0 ? `running (${job.running.map((run) => run.run).join(", ")}) ` : "";
  const last = job.last_result;
  if (!last) return `${running}never ran`.trim();
  const when = last.finished_at ? ` ${relativeTime(Date.parse(last.finished_at) - nowMs)}` : "";
  return `${running}${resultText(last)}${when}`;
}

function resultText(run: Pick<RunJson, "result" | "exit_code" | "signal">): string {
  if (run.result === "succeeded") return "ok";
  const detail =
    run.signal !== null ? ` (${run.signal})` : run.exit_code !== null ? ` (exit ${run.exit_code})` : "";
  return `${run.result.replace("_", " ")}${detail}`;
}
