// Start-up cost: each command loads only the modules it uses (measured by `npm run bench`).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const tracer = fileURLToPath(new URL("../helpers/trace-imports.mjs", import.meta.url));
const traceDir = mkdtempSync(join(tmpdir(), "tdefer-startup-"));
afterAll(() => rmSync(traceDir, { recursive: true, force: true }));

let traces = 0;

/**
 * The modules `tdefer ARGS` loads: our own as `dist/…` paths, packages as `pkg:NAME`; `intl:DateTimeFormat` when
 * it made one (ICU's date-time data, ~8 MB).
 */
async function modulesLoadedBy(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  const traceFile = join(traceDir, `${traces++}-${args.join("_").replace(/\W/g, "_").slice(0, 80)}.txt`);
  const result = await runCli(args, {
    cwd: repo,
    env: { ...env, NODE_OPTIONS: `--import=${tracer}`, TRACE_IMPORTS_TO: traceFile },
  });
  expect(result.code, result.stderr).toBe(0);
  const urls = readFileSync(traceFile, "utf8").split("\n").filter(Boolean);
  return [
    ...new Set(
      urls.map((url) => {
        const inPackage = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
        if (inPackage) return `pkg:${inPackage[1]}`;
        const ours = /\/(dist\/.*)$/.exec(url);
        return ours ? ours[1]! : url;
      }),
    ),
  ];
}

const under = (modules: string[], prefixes: string[]) =>
  modules.filter((name) => prefixes.some((prefix) => name.startsWith(prefix)));

describe("start-up", () => {
  it("--version alone loads neither commander nor anything of the schedule, and prints what commander would", async () => {
    for (const flag of ["--version", "-V"]) {
      const modules = await modulesLoadedBy([flag]);
      expect(under(modules, ["pkg:"]), flag).toEqual([]);
      expect(under(modules, ["dist/"]).sort(), flag).toEqual([
        "dist/cli/defaults.js",
        "dist/cli/io.js",
        "dist/cli/main.js",
        "dist/cli/version.js",
        "dist/errors.js",
      ]);
    }
    const version = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")).version;
    for (const args of [["--version"], ["-V"], ["--no-color", "--version"]]) {
      expect((await runCli(args, { cwd: repo })).stdout, args.join(" ")).toBe(`${version}\n`);
    }
  });

  it("--help, and --version with other options, load commander and no schedule reader, scheduler, runner or log", async () => {
    for (const args of [["--no-color", "--version"], ["--help"], ["run", "--help"]]) {
      const modules = await modulesLoadedBy(args);
      expect(modules).toContain("dist/cli/main.js");
      expect(modules).toContain("pkg:commander");
      expect(
        under(modules, [
          "dist/schedule/validate",
          "dist/schedule/read",
          "dist/scheduler/",
          "dist/runner/",
          "dist/log/",
          "dist/clock/",
          "dist/cli/commands/",
          "pkg:",
        ]).filter((name) => name !== "pkg:commander"),
        args.join(" "),
      ).toEqual([]);
    }
  });

  it("`next FILE` and `check FILE` run without commander; with an option they go through it", async () => {
    for (const command of ["next", "check"]) {
      expect(await modulesLoadedBy([command, "schedules.example.yaml"])).not.toContain("pkg:commander");
      expect(await modulesLoadedBy([command, "--", "schedules.example.yaml"])).toContain("pkg:commander");
    }
  });

  it("a schedule file is read without the crontab reader, which --crontab loads", async () => {
    for (const command of ["next", "check"]) {
      expect(await modulesLoadedBy([command, "schedules.example.yaml"])).not.toContain(
        "dist/schedule/crontab.js",
      );
    }
    const crontab = join(traceDir, "crontab");
    writeFileSync(crontab, "0 3 * * * echo nightly\n");
    expect(await modulesLoadedBy(["next", "--crontab", crontab])).toContain("dist/schedule/crontab.js");
  });

  it("next loads the schedule reader and the preview, and no runner, log or reactor", async () => {
    const modules = await modulesLoadedBy(["next", "schedules.example.yaml"]);
    expect(modules).toContain("dist/schedule/validate.js");
    expect(modules).toContain("dist/scheduler/preview.js");
    expect(
      under(modules, [
        "dist/runner/",
        "dist/log/",
        "dist/clock/reactor",
        "dist/scheduler/scheduler",
        "pkg:chalk",
      ]),
    ).toEqual([]);
  });

  it("a valid file given by name is read without zod, the yaml package or cosmiconfig", async () => {
    for (const args of [
      ["next", "schedules.example.yaml"],
      ["check", "schedules.example.yaml"],
    ]) {
      const modules = await modulesLoadedBy(args);
      expect(modules, args.join(" ")).toContain("pkg:js-yaml");
      expect(under(modules, ["pkg:zod", "pkg:yaml", "pkg:cosmiconfig"]), args.join(" ")).toEqual([]);
    }
  });

  // Also the proof that the trace sees packages loaded with require (zod and yaml are, on first use).
  it("a file with a mistake in its shape loads zod, one js-yaml refuses the yaml package, to say what and where", async () => {
    const cases = [
      {
        text: "jobs:\n  x:\n    every: 1h\n    run: echo x\n    retry: three\n",
        where: ":5:12: jobs.x.retry:",
        loads: "zod",
      },
      {
        text: "jobs:\n  x:\n    every: 1h\n    run: [echo, x\n",
        where: ":5:1: YAML syntax error",
        loads: "yaml",
      },
    ];
    for (const [index, { text, where, loads }] of cases.entries()) {
      const dir = mkdtempSync(join(traceDir, "bad-"));
      const file = join(dir, "schedules.yaml");
      writeFileSync(file, text);
      const traceFile = join(traceDir, `bad-file-${index}.txt`);
      const result = await runCli(["check", file], {
        cwd: repo,
        env: { NODE_OPTIONS: `--import=${tracer}`, TRACE_IMPORTS_TO: traceFile },
      });
      expect(result.code).toBe(78);
      expect(result.stderr).toContain(`${file}${where}`);
      expect(readFileSync(traceFile, "utf8")).toMatch(new RegExp(`node_modules/${loads}/`));
    }
  });

  it("run loads better-sqlite3 only for the SQLite ledger, and node:http only to serve", async () => {
    const dir = mkdtempSync(join(traceDir, "run-"));
    const file = join(dir, "schedules.yaml");
    writeFileSync(file, 'jobs:\n  beat:\n    every: 1h\n    run: ["true"]\n', { mode: 0o600 });
    const run = ["run", file, "--log-format", "json", "--for", "100ms"];
    const withoutLedger = await modulesLoadedBy([...run, "--state", "none"]);
    expect(withoutLedger).toContain("dist/scheduler/scheduler.js");
    expect(under(withoutLedger, ["pkg:better-sqlite3", "dist/ledger/sqlite", "node:http"])).toEqual([]);
    const withLedger = await modulesLoadedBy([...run, "--state", join(dir, "ledger.db")]);
    expect(withLedger).toContain("pkg:better-sqlite3");
    expect(under(withLedger, ["node:http"])).toEqual([]);
    const serving = await modulesLoadedBy([...run, "--state", "none", "--http", "127.0.0.1:0"]);
    expect(serving).toContain("node:http");
  });

  it("`run FILE` with the options a daemon is started with runs without commander; --http goes through it", async () => {
    const dir = mkdtempSync(join(traceDir, "run-commander-"));
    const file = join(dir, "schedules.yaml");
    writeFileSync(file, 'jobs:\n  beat:\n    every: 1h\n    run: ["true"]\n', { mode: 0o600 });
    const run = ["run", file, "--log-format", "json", "--state", "none", "--grace", "5s", "--for", "100ms"];
    expect(await modulesLoadedBy(run)).not.toContain("pkg:commander");
    expect(await modulesLoadedBy([...run, "--http", "127.0.0.1:0"])).toContain("pkg:commander");
  });

  it("run in UTC with a log without colour makes no Intl.DateTimeFormat and loads neither chalk nor the crontab reader", async () => {
    const dir = mkdtempSync(join(traceDir, "run-utc-"));
    const file = join(dir, "schedules.yaml");
    writeFileSync(file, 'jobs:\n  beat:\n    every: 1h\n    run: ["true"]\n', { mode: 0o600 });
    const run = ["run", file, "--state", "none", "--for", "100ms"];
    for (const format of ["json", "plain"]) {
      const modules = await modulesLoadedBy([...run, "--log-format", format], { TZ: "UTC" });
      expect(modules, format).toContain("dist/scheduler/scheduler.js");
      expect(under(modules, ["intl:", "pkg:chalk", "dist/schedule/crontab"]), format).toEqual([]);
    }
    // A file in UTC too; the trace sees Intl and chalk once a zone or colour needs them.
    writeFileSync(file, 'timezone: UTC\njobs:\n  beat:\n    cron: "0 3 * * *"\n    run: ["true"]\n');
    expect(under(await modulesLoadedBy(run, { TZ: "UTC" }), ["intl:"])).toEqual([]);
    expect(await modulesLoadedBy(run, { TZ: "Europe/Berlin" })).toContain("intl:DateTimeFormat");
    expect(await modulesLoadedBy([...run, "--color"], { TZ: "UTC", NO_COLOR: "" })).toContain("pkg:chalk");
  });

  it("check loads no runner, no log sink and no reactor", async () => {
    const modules = await modulesLoadedBy(["check", "schedules.example.yaml"]);
    expect(modules).toContain("dist/cli/commands/check.js");
    expect(under(modules, ["dist/runner/", "dist/log/", "dist/clock/reactor", "pkg:chalk"])).toEqual([]);
  });
});
