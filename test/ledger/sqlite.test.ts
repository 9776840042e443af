import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { LedgerError } from "../../src/ledger/ledger.js";
import { SQLITE_MIGRATIONS } from "../../src/ledger/migrations/sqlite.js";
import { openSqliteLedger } from "../../src/ledger/sqlite.js";
import { describeLedgerContract } from "./contract.js";

const folder = mkdtempSync(join(tmpdir(), "tdefer-ledger-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
let files = 0;

describeLedgerContract("SqliteLedger", async (now) =>
  openSqliteLedger(join(folder, `ledger-${files++}.db`), { schedule: "nightly", now }),
);

describe("SqliteLedger on disk", () => {
  const now = () => Date.UTC(2026, 11, 1);

  it("creates its folder 0700 and its file 0600, in WAL mode", () => {
    const path = join(folder, "new", "deeper", "nightly.db");
    const ledger = openSqliteLedger(path, { schedule: "nightly", now });
    ledger.claim({ job: "a", scheduledAtMs: 1, trigger: "schedule", runId: "r", owner: "h:1", leaseMs: 1 });
    expect(statSync(join(folder, "new", "deeper")).mode & 0o777).toBe(0o700);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(`${path}-wal`).mode & 0o777).toBe(0o600);
    const db = new Database(path, { readonly: true });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    db.close();
    ledger.close();
  });

  it("keeps its records across a reopen", () => {
    const path = join(folder, "reopen.db");
    const first = openSqliteLedger(path, { schedule: "nightly", now });
    first.claim({ job: "a", scheduledAtMs: 1, trigger: "schedule", runId: "r", owner: "h:1", leaseMs: 1 });
    first.close();
    const second = openSqliteLedger(path, { schedule: "nightly", now });
    expect(second.get({ job: "a", scheduledAtMs: 1 })?.state).toBe("claimed");
    expect(
      second.claim({ job: "a", scheduledAtMs: 1, trigger: "schedule", runId: "r", owner: "h:2", leaseMs: 1 }),
    ).toBeUndefined();
    second.close();
  });

  it("keeps the records of two schedules sharing a file apart", () => {
    const path = join(folder, "shared.db");
    const nightly = openSqliteLedger(path, { schedule: "nightly", now });
    const hourly = openSqliteLedger(path, { schedule: "hourly", now });
    nightly.claim({ job: "a", scheduledAtMs: 1, trigger: "schedule", runId: "r", owner: "h:1", leaseMs: 1 });
    expect(
      hourly.claim({ job: "a", scheduledAtMs: 1, trigger: "schedule", runId: "r", owner: "h:1", leaseMs: 1 }),
    ).toBeDefined();
    expect(nightly.history({})).toHaveLength(1);
    nightly.close();
    hourly.close();
  });

  it("says where it looked when a ledger that must exist does not", () => {
    const path = join(folder, "absent", "x.db");
    expect(() => openSqliteLedger(path, { schedule: "nightly", now, mustExist: true })).toThrow(
      `no ledger at ${path}`,
    );
    expect(existsSync(join(folder, "absent"))).toBe(false);
  });

  it("refuses a file that is not a SQLite database, saying how to start afresh", () => {
    const path = join(folder, "corrupt.db");
    writeFileSync(
      path,
      "this is not a database, just some text that is long enough to have a header\n".repeat(20),
    );
    const error = catchError(() => openSqliteLedger(path, { schedule: "nightly", now }));
    expect(error).toBeInstanceOf(LedgerError);
    expect(error.message).toMatch(/is not a valid SQLite database/);
    expect((error as LedgerError).hint).toContain(`mv ${path} ${path}.corrupt`);
  });

  it("refuses a ledger written by a newer tdefer", () => {
    const path = join(folder, "newer.db");
    openSqliteLedger(path, { schedule: "nightly", now }).close();
    const db = new Database(path);
    db.prepare("UPDATE meta SET value = 99 WHERE key = 'schema_version'").run();
    db.close();
    const error = catchError(() => openSqliteLedger(path, { schedule: "nightly", now }));
    expect(error.message).toBe(`the ledger ${path} has schema version 99, newer than this tdefer knows (2)`);
  });

  it("upgrades a ledger written by the first schema, keeping its records", () => {
    const path = join(folder, "schema-1.db");
    const old = new Database(path);
    old.exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value ANY) STRICT");
    old.exec(SQLITE_MIGRATIONS.find((migration) => migration.version === 1)!.sql);
    old.exec("INSERT INTO meta (key, value) VALUES ('schema_version', 1)");
    old.exec(`INSERT INTO runs (schedule, job, scheduled_at, state, fence, trigger)
              VALUES ('nightly', 'backup', 1, 'succeeded', 1, 'schedule')`);
    old.close();
    const ledger = openSqliteLedger(path, { schedule: "nightly", now });
    expect(ledger.get({ job: "backup", scheduledAtMs: 1 })?.state).toBe("succeeded");
    const claim = { trigger: "schedule", runId: "r", owner: "h:1", leaseMs: 1, work: "w.0" } as const;
    expect(ledger.claim({ job: "backup", scheduledAtMs: 2, ...claim })).toBeDefined();
    expect(ledger.claim({ job: "renamed", scheduledAtMs: 2, ...claim })).toBeUndefined();
    ledger.close();
    const db = new Database(path, { readonly: true });
    expect(db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get()).toBe(2);
    db.close();
  });

  it("says the ledger is locked when another process holds its write lock", () => {
    const path = join(folder, "locked.db");
    openSqliteLedger(path, { schedule: "nightly", now }).close();
    const holder = new Database(path);
    holder.exec("BEGIN EXCLUSIVE");
    try {
      const error = catchError(() => openSqliteLedger(path, { schedule: "nightly", now, busyTimeoutMs: 10 }));
      expect(error.message).toMatch(/is locked by another process/);
    } finally {
      holder.exec("ROLLBACK");
      holder.close();
    }
  });

  it("says so when there is no space left to write it", () => {
    const path = join(folder, "full.db");
    const ledger = openSqliteLedger(path, { schedule: "nightly", now });
    ledger.close();
    // A page limit makes SQLite report SQLITE_FULL exactly as a full disk does.
    const db = new Database(path);
    const pages = db.pragma("page_count", { simple: true }) as number;
    db.close();
    const full = openSqliteLedger(path, { schedule: "nightly", now });
    (full as unknown as { db: Database.Database }).db.pragma(`max_page_count = ${pages}`);
    const error = catchError(() => {
      for (let i = 0; i < 10_000; i++) {
        full.claim({
          job: "a".repeat(500),
          scheduledAtMs: i,
          trigger: "schedule",
          runId: "r",
          owner: "h:1",
          leaseMs: 1,
        });
      }
    });
    expect((error as { code?: string }).code).toBe("SQLITE_FULL");
    full.close();
  });
});

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected an error");
}
