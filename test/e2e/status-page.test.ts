// The status page in a real browser: Debian's chromium, driven by playwright-core (never Playwright's own
// browser download). Skipped, loudly, where chromium is missing; .ci/run installs it.
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliProcess } from "../helpers/cli.js";
import { jsonEvents, writeSchedule } from "../helpers/procs.js";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(
    `\n*** ${CHROMIUM} is missing (Debian package chromium): the status page tests are SKIPPED ***\n`,
  );
}

const SCHEDULE = `timezone: Europe/Berlin
jobs:
  heartbeat:
    every: 2s
    run: echo "ping $TDEFER_RUN_ID"
    description: says it is alive
  nightly-backup:
    cron: "30 2 * * *"
    run: echo "dumping <db> & friends"; sleep 0.2; echo done
  report:
    cron: "0 */6 * * *"
    run: echo report; exit 3
  cleanup:
    cron: "15 * * * *"
    run: "true"
`;

describe.skipIf(!hasChromium)("the status page in Chromium", () => {
  let browser: Browser;
  let cli: CliProcess;
  let url: string;

  beforeAll(async () => {
    cli = new CliProcess(["run", writeSchedule(SCHEDULE), "--http", "127.0.0.1:0", "--log-format", "json"]);
    await cli.waitFor(/"event":"http_listening"/);
    url = jsonEvents(cli.stdout).find((event) => event.event === "http_listening").url;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    cli?.child.kill("SIGTERM");
    await cli?.exited;
  });

  it("loads with no console error, shows the jobs, and reflects a finished run within 2 s without a reload", async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const problems: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(message.text());
    });
    page.on("pageerror", (error) => problems.push(error.message));
    await page.goto(url);
    await page.waitForSelector("#live.on", { timeout: 10_000 });
    const names = await page.locator("table.jobs .job-name").allTextContents();
    expect(names).toEqual(["heartbeat", "nightly-backup", "report", "cleanup"]);
    await expect.poll(() => page.locator("svg.timeline rect.fire").count()).toBeGreaterThan(10);

    const row = page.locator('tr[data-job="nightly-backup"]');
    expect(await row.locator("td.last").textContent()).toMatch(/not run yet/);
    await row.locator('button[data-action="run"]').click();
    await row.locator("td.last").filter({ hasText: "succeeded" }).waitFor({ timeout: 15_000 });
    const shownAt = Date.now();
    // The page must show the run's end within 2 s of it: of tdefer's own finished event, not of the click (the
    // job's start, a process, takes seconds on a loaded machine).
    await cli.waitFor('"event":"finished","job":"nightly-backup"');
    const finished = jsonEvents(cli.stdout).find((e) => e.event === "finished" && e.job === "nightly-backup");
    expect(shownAt - Date.parse(finished.time)).toBeLessThan(2_000);
    expect(await page.locator("#log").textContent()).toMatch(/dumping <db> & friends/);

    await page.locator('tr[data-job="report"] button[data-action="run"]').click();
    await page.waitForSelector("h2.bad", { timeout: 15_000 });
    await page.locator('tr[data-job="cleanup"] button[data-action="pause"]').click();
    await page.waitForSelector('tr[data-job="cleanup"] .badge.paused', { timeout: 15_000 });
    await page.waitForSelector('tr[data-job="heartbeat"] .badge.ok', { timeout: 15_000 });
    const shot =
      process.env.TDEFER_SCREENSHOT ?? join(mkdtempSync(join(tmpdir(), "tdefer-shot-")), "status-page.png");
    await page.screenshot({ path: shot, fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  }, 40_000);

  it("stays readable at phone width: nothing wider than the screen but the tables' own scroll boxes", async () => {
    const page = await browser.newPage({ viewport: { width: 375, height: 812 }, isMobile: true });
    await page.goto(url);
    await page.waitForSelector("table.jobs");
    const overflow = await page.evaluate(() => {
      // Runs in the page; this project's TypeScript has no DOM types.
      const page = globalThis as unknown as {
        innerWidth: number;
        document: { documentElement: { scrollWidth: number } };
      };
      return page.document.documentElement.scrollWidth - page.innerWidth;
    });
    expect(overflow).toBeLessThanOrEqual(0);
    expect(await page.locator("table.jobs th.wide").first().isVisible()).toBe(false);
    await page.close();
  });
});
