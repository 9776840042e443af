import { createHash } from "node:crypto";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeState, ownerMayBeAlive, selectState } from "../../src/cli/state.js";
import { scheduleOf } from "../helpers/jobs.js";

const hashOf = (file: string) => createHash("sha256").update(file).digest("hex").slice(0, 8);

describe("where the ledger is", () => {
  const schedule = scheduleOf([], { file: "/etc/tdefer/nightly.yaml" });

  it("is --state first, then TDEFER_STATE, then the file's state:, then the default", () => {
    const withState = { ...schedule, state: "ledgers/n.db" };
    const env = { TDEFER_STATE: "/var/env.db", HOME: "/home/u" };
    expect(selectState(withState, { flag: "x.db", env, cwd: "/work" })).toEqual({
      kind: "sqlite",
      path: "/work/x.db",
      source: "--state",
    });
    expect(selectState(withState, { env, cwd: "/work" })).toMatchObject({
      path: "/var/env.db",
      source: "TDEFER_STATE",
    });
    expect(selectState(withState, { env: { HOME: "/home/u" }, cwd: "/work" })).toMatchObject({
      path: "/etc/tdefer/ledgers/n.db",
      source: "state:",
    });
    expect(selectState(schedule, { env: { HOME: "/home/u" }, cwd: "/work" })).toMatchObject({
      source: "default",
    });
  });

  it("defaults to $STATE_DIRECTORY/NAME.db under systemd, the first of several folders", () => {
    const env = { STATE_DIRECTORY: "/var/lib/tdefer:/var/lib/other", HOME: "/root" };
    expect(selectState(schedule, { env, cwd: "/" })).toMatchObject({ path: "/var/lib/tdefer/nightly.db" });
    expect(selectState({ ...schedule, name: "backups" }, { env, cwd: "/" })).toMatchObject({
      path: "/var/lib/tdefer/backups.db",
    });
  });

  it("defaults to the XDG state folder, NAME-HASH.db, HASH from the file's absolute path", () => {
    const hash = hashOf("/etc/tdefer/nightly.yaml");
    expect(
      selectState(schedule, { env: { XDG_STATE_HOME: "/xdg", HOME: "/home/u" }, cwd: "/" }),
    ).toMatchObject({
      path: `/xdg/tdefer/nightly-${hash}.db`,
    });
    expect(selectState(schedule, { env: { HOME: "/home/u" }, cwd: "/" })).toMatchObject({
      path: join("/home/u/.local/state/tdefer", `nightly-${hash}.db`),
    });
    // A relative XDG_STATE_HOME is ignored, as the XDG specification says.
    expect(
      selectState(schedule, { env: { XDG_STATE_HOME: "rel", HOME: "/home/u" }, cwd: "/" }),
    ).toMatchObject({
      path: join("/home/u/.local/state/tdefer", `nightly-${hash}.db`),
    });
  });

  it("takes none to mean no ledger, and a postgres URL as one, shown without its password", () => {
    expect(selectState(schedule, { flag: "none", env: {}, cwd: "/" })).toEqual({
      kind: "none",
      source: "--state",
    });
    const pg = selectState(schedule, { flag: "postgres://u:secret@db/tdefer", env: {}, cwd: "/" });
    expect(pg).toMatchObject({ kind: "postgres" });
    expect(describeState(pg)).toBe("postgres://u:***@db/tdefer");
  });

  it("counts a claim's owner on this host as alive only while its process exists", () => {
    expect(ownerMayBeAlive(`other-host-that-is-not-this-one:1`)).toBe(true);
    const host = hostname();
    expect(ownerMayBeAlive(`${host}:${process.pid}`)).toBe(true);
    expect(ownerMayBeAlive(`${host}:2147483646`)).toBe(false);
  });
});
