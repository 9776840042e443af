// `tdefer run FILE [options]` is read without commander (src/cli/run-arguments.ts); these hold it to commander.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createProgram } from "../../src/cli/program.js";
import { PLAIN_RUN_OPTIONS, plainRunArguments } from "../../src/cli/run-arguments.js";
import { fakeIO } from "../helpers/fake-io.js";

/** The file and options commander gives `run`'s action for `args`, or "refused" when it says the line is wrong. */
function commanderRunArguments(
  args: readonly string[],
): { file: string | undefined; options: object } | "refused" {
  const program = createProgram(fakeIO().io);
  const run = program.commands.find((command) => command.name() === "run")!;
  let seen: { file: string | undefined; options: object } | undefined;
  run.hook("preAction", (_program, action) => {
    seen = { file: action.processedArgs[0] as string | undefined, options: { ...action.opts() } };
    throw new Error("read, not run");
  });
  try {
    program.parse(["node", "tdefer", "run", ...args]);
  } catch {
    if (seen) return seen;
    return "refused";
  }
  throw new Error("the action ran");
}

describe("`tdefer run` read without commander", () => {
  it("gives the command the file and options commander gives it", () => {
    for (const args of [
      [],
      ["schedules.yaml"],
      ["schedules.yaml", "--log-format", "json", "--state", "none"],
      ["--state", "/var/lib/tdefer/ledger.db", "schedules.yaml", "--grace", "1m30s"],
      ["--for", "5s", "--log-format", "plain", "--no-color", "schedules.yaml"],
      ["schedules.yaml", "--color", "--http-token-file", "token"],
      ["--log-format", "pretty"],
    ]) {
      expect(plainRunArguments(args), args.join(" ")).toEqual(commanderRunArguments(args));
    }
  });

  it("leaves to commander what it refuses or reads differently", () => {
    for (const args of [
      ["a.yaml", "b.yaml"],
      ["--log-format", "xml", "a.yaml"],
      ["--grace", "5", "a.yaml"],
      ["--state=none", "a.yaml"],
      ["--state", "none", "--state", "x", "a.yaml"],
      ["--color", "--no-color", "a.yaml"],
      ["--http", "a.yaml"],
      ["--crontab", "/etc/crontab"],
      ["--", "a.yaml"],
      ["--help"],
      ["a.yaml", "--state"],
      ["--state", "", "a.yaml"],
      [""],
    ]) {
      expect(plainRunArguments(args), args.join(" ")).toBeUndefined();
    }
  });

  it("agrees with commander on any command line of run's words that it reads", () => {
    const word = fc.constantFrom(
      "a.yaml",
      "b.yaml",
      "--state",
      "none",
      "--log-format",
      "json",
      "plain",
      "xml",
      "--grace",
      "--for",
      "5s",
      "1h30m",
      "5",
      "--color",
      "--no-color",
      "--http",
      "--http-token-file",
      "--crontab",
      "--system",
      "--",
      "-h",
      "",
      "--state=none",
    );
    fc.assert(
      fc.property(fc.array(word, { maxLength: 7 }), (args) => {
        const plain = plainRunArguments(args);
        if (plain !== undefined) expect(plain).toEqual(commanderRunArguments(args));
      }),
      { numRuns: 500 },
    );
  });

  it("knows every option of run, or leaves the command line with it to commander", () => {
    const run = createProgram(fakeIO().io).commands.find((command) => command.name() === "run")!;
    const options = run.options.map((option) => option.long!);
    expect(options.filter((option) => !PLAIN_RUN_OPTIONS.includes(option)).sort()).toEqual([
      "--crontab",
      "--http",
      "--system",
    ]);
    for (const option of ["--crontab", "--http", "--system"]) {
      expect(plainRunArguments(["a.yaml", option, "x"]), option).toBeUndefined();
    }
  });
});
