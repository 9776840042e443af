import { chmodSync, chownSync, existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { writeSchedule } from "../helpers/procs.js";

// What tdefer promises about privileges, trust, secrets and shells, checked against the built binary.

const isRoot = process.getuid?.() === 0;
const nobody = (() => {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((entry) => entry.startsWith("nobody:"));
  const [, , uid, gid, , home] = line?.split(":") ?? [];
  return line ? { uid: Number(uid), gid: Number(gid), home: home! } : undefined;
})();
const ROOT_ONLY = isRoot ? "" : " [skipped: needs root]";

// Every test here starts its own processes and mostly waits: they run side by side.
describe.concurrent("security", () => {
  describe.skipIf(!isRoot || !nobody)(`user and group, as root${ROOT_ONLY}`, () => {
    it("a job with `user: nobody` runs as nobody, in nobody's group, with nobody's HOME, USER and LOGNAME", async () => {
      const file = writeSchedule(`jobs:
  whoami:
    every: 1h
    user: nobody
    run: echo "uid=$(id -u) gid=$(id -g) groups=$(id -G) home=$HOME user=$USER logname=$LOGNAME"
`);
      chmodSync(dirname(file), 0o755); // the job's working directory: nobody must be able to enter it
      const result = await runCli(["trigger", "whoami", file, "--log-format", "plain"]);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      const g = nobody!.gid;
      expect(result.stdout).toContain(
        `| uid=${nobody!.uid} gid=${g} groups=${g} home=${nobody!.home} user=nobody logname=nobody`,
      );
    });

    it("`group` sets the group, and `run` as well as `trigger` drops to the user", async () => {
      const file = writeSchedule(`jobs:
  whoami:
    after: 0s
    user: "${nobody!.uid}"
    group: "12345"
    run: [sh, -c, 'echo "$(id -u) $(id -g)"']
`);
      chmodSync(dirname(file), 0o755);
      const uid = await runCli(["run", file, "--log-format", "json"]);
      expect(uid.code).toBe(0);
      const lines = uid.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line))
        .filter((e) => e.event === "output");
      expect(lines.map((e) => e.line)).toEqual([`${nobody!.uid} 12345`]);
      const trigger = await runCli(["trigger", "whoami", file, "--log-format", "plain"]);
      expect(trigger.stdout).toContain(`| ${nobody!.uid} 12345`);
    });
  });

  describe.skipIf(!isRoot)(`a schedule file only root may change, when running as root${ROOT_ONLY}`, () => {
    const yaml = "jobs:\n  x:\n    after: 0s\n    run: echo ran\n";

    it("refuses a group- or other-writable file, saying why and how to fix it, exit 78", async () => {
      for (const mode of [0o664, 0o646]) {
        const file = writeSchedule(yaml);
        chmodSync(file, mode);
        for (const command of [
          ["run", file],
          ["trigger", "x", file],
        ]) {
          const result = await runCli(command);
          expect(result.code).toBe(78);
          expect(result.stdout).toBe("");
          expect(result.stderr).toBe(
            `tdefer: ${file}: refusing to run as root a schedule file that group or others can write (mode ${mode.toString(8)})\n  hint: sudo chmod go-w ${file}\n`,
          );
        }
      }
    });

    it("refuses a file owned by another user (chowned to nobody), exit 78", async () => {
      const file = writeSchedule(yaml);
      chownSync(file, nobody!.uid, nobody!.gid);
      const result = await runCli(["run", file]);
      expect(result.code).toBe(78);
      expect(result.stdout).toBe("");
      expect(result.stderr).toBe(
        `tdefer: ${file}: refusing to run as root a schedule file owned by uid ${nobody!.uid}: its owner could run any command as root\n  hint: sudo chown root ${file}\n`,
      );
    });
  });

  describe("environment values never reach the log", () => {
    it("neither in json nor in plain output of run and trigger, nor in check or next", async () => {
      const file = writeSchedule(`env:
  FILE_TOKEN: file-secret-7f3a9
jobs:
  uses-secrets:
    after: 0s
    env:
      JOB_TOKEN: job-secret-51c2e
    run: |
      # The values are checked by length: the command itself must not contain them (check prints it).
      test "\${#FILE_TOKEN}" = 17 && test "\${#JOB_TOKEN}" = 16 && echo "both set"
      exit 3
`);
      const outputs: string[] = [];
      for (const format of ["json", "plain"]) {
        const result = await runCli(["run", file, "--log-format", format]);
        expect(result.stdout).toContain("both set"); // the job saw them
        outputs.push(result.stdout, result.stderr);
      }
      const check = await runCli(["check", file]);
      const checkJson = await runCli(["check", file, "--json"]);
      const next = await runCli(["next", file, "--json"]);
      const trigger = await runCli(["trigger", "uses-secrets", file, "--log-format", "json"]);
      expect(trigger.code).toBe(3);
      outputs.push(check.stdout, checkJson.stdout, next.stdout, trigger.stdout, trigger.stderr);
      for (const text of outputs) {
        expect(text).not.toContain("secret-");
      }
    });
  });

  describe("commands and shells", () => {
    it("a list runs without a shell: shell syntax in an argument is printed, not run", async () => {
      const file = writeSchedule(`jobs:
  literal:
    after: 0s
    run: [echo, "$HOME; touch ./pwned; $(id -u) \`id\` *"]
`);
      const result = await runCli(["run", file, "--log-format", "json"]);
      const lines = result.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line))
        .filter((e) => e.event === "output")
        .map((e) => e.line);
      expect(lines).toEqual(["$HOME; touch ./pwned; $(id -u) `id` *"]);
      expect(existsSync(join(dirname(file), "pwned"))).toBe(false);
    });

    it("a string runs through the shell", async () => {
      const file = writeSchedule(`jobs:
  shell:
    after: 0s
    run: echo "$((6 * 7))"; touch ./made
`);
      const result = await runCli(["run", file, "--log-format", "plain"]);
      expect(result.stdout).toContain("| 42");
      expect(existsSync(join(dirname(file), "made"))).toBe(true);
    });
  });
});
