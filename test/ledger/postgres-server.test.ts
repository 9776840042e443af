import { describe, expect, it } from "vitest";
import { POSTGRES_MISSING, POSTGRES_SKIPPED, startPostgres } from "../helpers/postgres.js";

// The harness the PostgreSQL ledger tests stand on: if it lies, they prove nothing.
describe.skipIf(POSTGRES_MISSING)(`the test PostgreSQL server${POSTGRES_SKIPPED}`, () => {
  it("starts on a loopback port, gives each test a database, restarts on the same port, and is removed", async () => {
    const server = await startPostgres();
    try {
      const database = await server.createDatabase();
      await server.query(database, "CREATE TABLE t (n int)");
      await server.query(database, "INSERT INTO t VALUES (1)");
      const port = server.port;
      await server.stop();
      await expect(server.query(database, "SELECT 1")).rejects.toThrow();
      await server.start();
      expect(server.port).toBe(port);
      expect(await server.query(database, "SELECT n FROM t")).toEqual([{ n: 1 }]);
      expect(server.url(database)).not.toContain(server.password);
    } finally {
      await server.remove();
    }
    await expect(server.query("postgres", "SELECT 1")).rejects.toThrow();
  });
});
