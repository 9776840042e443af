import { describe, expect, it } from "vitest";
import type { PageData, RunJson } from "../../src/ops/api.js";
import { renderPageContent } from "../../src/ops/page/page.js";

const T0 = Date.UTC(2026, 0, 1);

function run(overrides: Partial<RunJson> = {}): RunJson {
  return {
    job: "backup",
    run: "r1",
    trigger: "schedule",
    result: "succeeded",
    exit_code: 0,
    signal: null,
    scheduled_at: new Date(T0).toISOString(),
    started_at: new Date(T0).toISOString(),
    finished_at: new Date(T0 + 1_000).toISOString(),
    duration_ms: 1_000,
    late_ms: 3,
    attempts: 1,
    ...overrides,
  };
}

function page(runs: RunJson[]): string {
  const data: PageData = {
    info: { version: "0.0.0-test", file: "/etc/tdefer/s.yaml", zone: "UTC", startedMs: T0, ledger: "none" },
    nowMs: T0 + 60_000,
    jobs: [],
    views: [],
    runs,
  };
  return renderPageContent(data);
}

describe("the status page's recent runs", () => {
  it("name the tdefer (host:pid) that ran each run read from the ledger, escaped", () => {
    const html = page([run({ owner: "db1:4242" }), run({ run: "r2", owner: "db2:<b>7" })]);
    expect(html).toContain('<th class="wide">owner</th>');
    expect(html).toContain("<code>db1:4242</code>");
    expect(html).toContain("<code>db2:&lt;b&gt;7</code>");
  });

  it("leave the owner column out when no run has one (no ledger)", () => {
    expect(page([run()])).not.toContain(">owner</th>");
  });
});
