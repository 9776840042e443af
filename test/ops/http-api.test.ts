import { request as httpRequest } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { OpsServer } from "../../src/ops/http.js";
import { parseHttpAddress } from "../../src/ops/http-address.js";
import { jobSpec } from "../helpers/jobs.js";
import { settle } from "../helpers/settle.js";
import { opsHarness } from "./harness.js";

const every = (ms: number) => ({ kind: "every" as const, intervalMs: ms, now: false });
const nightly = { kind: "cron" as const, expression: "0 3 * * *", zone: "Europe/Berlin" };

let harness: Awaited<ReturnType<typeof opsHarness>> | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe("the HTTP API of a running schedule", () => {
  it("answers /healthz and /readyz", async () => {
    harness = await opsHarness([jobSpec("tick", every(60_000))]);
    expect(await harness.request("/healthz")).toMatchObject({ status: 200, body: { status: "ok" } });
    expect(await harness.request("/readyz")).toMatchObject({ status: 200, body: { status: "ready" } });
    harness.ops.setReady(false);
    expect(await harness.request("/readyz")).toMatchObject({ status: 503 });
  });

  it("says 503 on /healthz, with the reason, while the ledger does not answer", async () => {
    let problem: string | undefined = "database is locked";
    harness = await opsHarness([jobSpec("tick", every(60_000))], { ledgerProblem: () => problem });
    expect(await harness.request("/healthz")).toMatchObject({
      status: 503,
      body: { status: "unhealthy", reason: "the ledger does not answer: database is locked" },
    });
    problem = undefined;
    expect((await harness.request("/healthz")).status).toBe(200);
  });

  it("lists the jobs with their trigger, zone, next fire and last result", async () => {
    harness = await opsHarness([jobSpec("tick", every(60_000)), jobSpec("backup", nightly)]);
    const { status, body } = await harness.request("/api/v1/jobs");
    expect(status).toBe(200);
    expect(body.jobs.map((job: { name: string }) => job.name)).toEqual(["tick", "backup"]);
    expect(body.jobs[1]).toMatchObject({
      name: "backup",
      trigger: 'cron "0 3 * * *" (Europe/Berlin)',
      zone: "Europe/Berlin",
      enabled: true,
      paused: false,
      next_fire: "2026-01-01T02:00:00.000Z",
      running: [],
      last_result: null,
    });
    expect(body.jobs[0]).toMatchObject({ zone: "UTC", next_fire: "2026-01-01T00:01:00.000Z" });
  });

  it("shows one job, and says 404 in JSON for a job that does not exist", async () => {
    harness = await opsHarness([jobSpec("db.backup-1", every(60_000))]);
    expect((await harness.request("/api/v1/jobs/db.backup-1")).body.name).toBe("db.backup-1");
    const missing = await harness.request("/api/v1/jobs/nope");
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatch(/no job named "nope"/);
    expect((await harness.request("/nothing/here")).status).toBe(404);
  });

  it("starts a manual run: 202 with its id, shown running, then as the last result with trigger manual", async () => {
    harness = await opsHarness([jobSpec("report", nightly)]);
    const started = await harness.request("/api/v1/jobs/report/run", { method: "POST" });
    expect(started).toMatchObject({ status: 202, body: { job: "report", status: "started", run: "r1" } });
    const running = (await harness.request("/api/v1/jobs/report")).body;
    expect(running.running).toEqual([expect.objectContaining({ run: "r1" })]);
    harness.runs[0]!.finish(0, 1500);
    await settle();
    const after = (await harness.request("/api/v1/jobs/report")).body;
    expect(after.running).toEqual([]);
    expect(after.last_result).toMatchObject({
      run: "r1",
      result: "succeeded",
      exit_code: 0,
      duration_ms: 1500,
    });
    expect(after.last_24h).toEqual({ succeeded: 1, failed: 0 });
    const runs = (await harness.request("/api/v1/runs?job=report")).body.runs;
    expect(runs).toEqual([expect.objectContaining({ run: "r1", trigger: "manual", result: "succeeded" })]);
  });

  it("refuses a manual run with 409 while the job runs and its overlap rule is skip", async () => {
    harness = await opsHarness([jobSpec("report", nightly, { overlap: "skip" })]);
    expect((await harness.request("/api/v1/jobs/report/run", { method: "POST" })).status).toBe(202);
    const second = await harness.request("/api/v1/jobs/report/run", { method: "POST" });
    expect(second.status).toBe(409);
    expect(second.body.error).toMatch(/overlap: skip/);
  });

  it("pauses a job's trigger until it is resumed", async () => {
    harness = await opsHarness([jobSpec("tick", every(60_000))]);
    expect(await harness.request("/api/v1/jobs/tick/pause", { method: "POST" })).toMatchObject({
      status: 200,
      body: { job: "tick", paused: true },
    });
    const paused = (await harness.request("/api/v1/jobs/tick")).body;
    expect(paused).toMatchObject({ paused: true, next_fire: null });
    // A paused job can be resumed: tdefer does not stop as if nothing were left to fire.
    let idle = false;
    void harness.scheduler.whenIdle().then(() => {
      idle = true;
    });
    harness.clock.advance(5 * 60_000);
    await settle();
    expect(idle).toBe(false);
    expect(harness.runs).toHaveLength(0);
    await harness.request("/api/v1/jobs/tick/resume", { method: "POST" });
    expect((await harness.request("/api/v1/jobs/tick")).body.paused).toBe(false);
    harness.clock.advance(60_000);
    expect(harness.runs).toHaveLength(1);
  });

  it("lists recent runs newest first, filtered by job and by failure, and checks its query", async () => {
    harness = await opsHarness([jobSpec("a", every(1000)), jobSpec("b", every(1000))]);
    for (let i = 0; i < 3; i++) {
      harness.clock.advance(1000);
      for (const run of harness.runs.slice(-2)) run.finish(run.job === "b" && i === 1 ? 2 : 0);
      await settle();
    }
    const all = (await harness.request("/api/v1/runs")).body.runs;
    expect(all).toHaveLength(6);
    expect(all[0].finished_at >= all[5].finished_at).toBe(true);
    const failed = (await harness.request("/api/v1/runs?failed=true")).body.runs;
    expect(failed).toEqual([expect.objectContaining({ job: "b", result: "failed", exit_code: 2 })]);
    expect((await harness.request("/api/v1/runs?job=a&limit=2")).body.runs).toHaveLength(2);
    const bad = await harness.request("/api/v1/runs?limit=0");
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/limit/);
  });

  it("answers 405 with Allow for a wrong method", async () => {
    harness = await opsHarness([jobSpec("tick", every(60_000))]);
    const wrong = await harness.request("/api/v1/jobs/tick/run");
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST");
    expect((await harness.request("/api/v1/jobs", { method: "DELETE" })).status).toBe(405);
  });

  it("refuses a request body larger than 1 KiB with 413", async () => {
    harness = await opsHarness([jobSpec("tick", every(60_000))]);
    const big = await harness.request("/api/v1/jobs/tick/pause", { method: "POST", body: "x".repeat(5000) });
    expect(big.status).toBe(413);
    expect(harness.scheduler.jobViews()[0]!.paused).toBe(false);
  });

  it("refuses another site's page driving the API, and Host names that are not loopback", async () => {
    harness = await opsHarness([jobSpec("tick", every(60_000))]);
    const crossSite = await harness.request("/api/v1/jobs/tick/pause", {
      method: "POST",
      headers: { origin: "https://evil.example" },
    });
    expect(crossSite.status).toBe(403);
    expect(harness.scheduler.jobViews()[0]!.paused).toBe(false);
    const rebound = await rawGet(harness.base, "/api/v1/jobs", { host: "evil.example:9780" });
    expect(rebound.status).toBe(403);
  });

  it("streams the log events of one job as server-sent events", async () => {
    harness = await opsHarness([jobSpec("a", every(1000)), jobSpec("b", every(1000))]);
    const controller = new AbortController();
    const response = await fetch(`${harness.base}/api/v1/events?job=b`, { signal: controller.signal });
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const reader = response.body!.getReader();
    harness.clock.advance(1000);
    for (const run of harness.runs) run.output(`hello from ${run.job}`);
    let text = "";
    while (!text.includes("hello from b")) text += new TextDecoder().decode((await reader.read()).value);
    const events = text
      .split("\n")
      .filter((line) => line.startsWith("data: "))
      .map((line) => JSON.parse(line.slice(6)));
    expect(events.every((event) => event.job === "b")).toBe(true);
    expect(events.map((event) => event.event)).toEqual(["started", "output"]);
    controller.abort();
  });

  it("streams several lines of output logged at once as one output event each", async () => {
    harness = await opsHarness([jobSpec("a", every(1000))]);
    const controller = new AbortController();
    const response = await fetch(`${harness.base}/api/v1/events`, { signal: controller.signal });
    const reader = response.body!.getReader();
    harness.clock.advance(1000);
    harness.runs[0]!.outputLines('one\n"two"\nthree\n');
    let text = "";
    while (!text.includes("three")) text += new TextDecoder().decode((await reader.read()).value);
    const events = text
      .split("\n\n")
      .filter((message) => message.startsWith("data: "))
      .map((message) => JSON.parse(message.slice(6)));
    expect(events.filter((event) => event.event === "output").map((event) => event.line)).toEqual([
      "one",
      '"two"',
      "three",
    ]);
    controller.abort();
  });
});

describe("the token rule", () => {
  it("refuses to listen off loopback without a token", () => {
    expect(
      () =>
        new OpsServer({
          address: parseHttpAddress(":9780"),
          token: undefined,
          handler: () => {},
          onError: () => {},
        }),
    ).toThrow(/--http-token-file/);
  });

  it("asks every path but /healthz for the token, as Bearer or as a Basic password", async () => {
    harness = await opsHarness([jobSpec("tick", every(60_000))], { token: "s3cret", host: "0.0.0.0" });
    expect((await harness.request("/healthz")).status).toBe(200);
    const refused = await harness.request("/api/v1/jobs");
    expect(refused.status).toBe(401);
    expect(refused.body.error).toMatch(/Bearer/);
    expect((await harness.request("/metrics", { headers: { authorization: "Bearer wrong" } })).status).toBe(
      401,
    );
    expect(
      (await harness.request("/api/v1/jobs", { headers: { authorization: "Bearer s3cret" } })).status,
    ).toBe(200);
    const basic = `Basic ${Buffer.from("me:s3cret").toString("base64")}`;
    expect((await harness.request("/", { headers: { authorization: basic } })).status).toBe(200);
  });
});

describe("HTTP addresses", () => {
  it("reads HOST:PORT, [V6]:PORT, :PORT and PORT", () => {
    expect(parseHttpAddress("127.0.0.1:9780")).toEqual({ host: "127.0.0.1", port: 9780 });
    expect(parseHttpAddress("[::1]:80")).toEqual({ host: "::1", port: 80 });
    expect(parseHttpAddress(":9780")).toEqual({ host: "0.0.0.0", port: 9780 });
    expect(parseHttpAddress("9780")).toEqual({ host: "127.0.0.1", port: 9780 });
    expect(() => parseHttpAddress("localhost")).toThrow(/HOST:PORT/);
    expect(() => parseHttpAddress("1.2.3.4:99999")).toThrow(/out of range/);
  });
});

/** A GET with headers fetch() will not send (Host). */
function rawGet(base: string, path: string, headers: Record<string, string>): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { headers }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on("error", reject);
    req.end();
  });
}
