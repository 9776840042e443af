import { spawn } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  lchownSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { CliProcess, runCli } from "../helpers/cli.js";
import { jsonEvents, listeningPorts, sleep, writeSchedule } from "../helpers/procs.js";

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

    it.each([
      [0o664, "run"],
      [0o664, "trigger"],
      [0o646, "run"],
      [0o646, "trigger"],
    ])(
      "refuses a group- or other-writable file (mode %o, %s), saying why and how to fix it, exit 78",
      async (mode, command) => {
        const file = writeSchedule(yaml);
        chmodSync(file, mode);
        const result = await runCli(command === "run" ? ["run", file] : ["trigger", "x", file]);
        expect(result.code).toBe(78);
        expect(result.stdout).toBe("");
        expect(result.stderr).toBe(
          `tdefer: ${file}: refusing to run as root a schedule file that group or others can write (mode ${mode.toString(8)})\n  hint: sudo chmod go-w ${file}\n`,
        );
      },
    );

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

  describe.skipIf(!isRoot || !nobody)(
    `the folders and links on the way to the schedule file, when running as root${ROOT_ONLY}`,
    () => {
      const yaml = "jobs:\n  x:\n    after: 0s\n    run: echo ran\n";

      /** A root-owned folder (mode `mode`) in a private temporary folder, holding a root 0644 schedule file. */
      function fileInFolder(mode: number): { folder: string; file: string } {
        const folder = join(dirname(writeSchedule("")), "schedules");
        mkdirSync(folder);
        chmodSync(folder, mode);
        const file = join(folder, "tdefer.yaml");
        writeFileSync(file, yaml, { mode: 0o644 });
        return { folder, file };
      }

      it("refuses a root file in a folder that others can write (0777, not sticky), naming the folder", async () => {
        const { folder, file } = fileInFolder(0o777);
        for (const command of [
          ["run", file],
          ["trigger", "x", file],
        ]) {
          const result = await runCli(command);
          expect(result.code).toBe(78);
          expect(result.stdout).toBe("");
          expect(result.stderr).toBe(
            `tdefer: ${folder}: refusing to run as root the schedule file ${file} from a folder that group or others can write (mode 777): they could replace it\n  hint: sudo chmod go-w ${folder} (or chmod +t, as /tmp has)\n`,
          );
        }
      });

      it("runs a root file in a sticky folder that others can write (as /tmp is)", async () => {
        const { file } = fileInFolder(0o1777);
        const result = await runCli(["trigger", "x", file, "--log-format", "plain"]);
        expect(result.stderr).toBe("");
        expect(result.code).toBe(0);
        expect(result.stdout).toContain("| ran");
      });

      it("refuses a root file in a folder owned by nobody, exit 78", async () => {
        const { folder, file } = fileInFolder(0o755);
        chownSync(folder, nobody!.uid, nobody!.gid);
        const result = await runCli(["run", file]);
        expect(result.code).toBe(78);
        expect(result.stdout).toBe("");
        expect(result.stderr).toBe(
          `tdefer: ${folder}: refusing to run as root the schedule file ${file} from a folder owned by uid ${nobody!.uid}: its owner could replace what is inside\n  hint: keep the schedule file in a folder owned by root, or sudo chown root ${folder}\n`,
        );
      });

      it("refuses a symbolic link owned by nobody that points at a root file, and follows one owned by root", async () => {
        const { folder, file } = fileInFolder(0o755);
        const link = join(folder, "link.yaml");
        symlinkSync(file, link);
        const followed = await runCli(["trigger", "x", link, "--log-format", "plain"]);
        expect(followed.stderr).toBe("");
        expect(followed.stdout).toContain("| ran");
        lchownSync(link, nobody!.uid, nobody!.gid);
        const result = await runCli(["run", link]);
        expect(result.code).toBe(78);
        expect(result.stdout).toBe("");
        expect(result.stderr).toContain(
          `tdefer: ${link}: refusing to run as root the schedule file ${link} through a symbolic link owned by uid ${nobody!.uid}: its owner could point it at another file\n`,
        );
      });

      it("applies the same rules on SIGHUP: refuses the reload, keeps the old schedule, says which path failed", async () => {
        const { folder, file } = fileInFolder(0o755);
        writeFileSync(file, "jobs:\n  ticker:\n    every: 200ms\n    run: echo tick\n");
        const cli = new CliProcess(["run", file, "--log-format", "json"]);
        await cli.waitFor('"line":"tick"');
        writeFileSync(file, "jobs:\n  evil:\n    every: 200ms\n    run: echo evil\n");
        chmodSync(folder, 0o777);
        cli.child.kill("SIGHUP");
        await cli.waitFor("reload_refused");
        const ticks = cli.stdout.split('"line":"tick"').length;
        await cli.waitFor(new RegExp(`("line":"tick"[\\s\\S]*){${ticks}}`));
        cli.child.kill("SIGTERM");
        const result = await cli.exited;
        expect(result.code).toBe(0);
        const refused = jsonEvents(result.stdout).find((e) => e.event === "reload_refused");
        expect(refused.errors[0]).toContain(`${folder}: refusing to run as root the schedule file ${file}`);
        expect(result.stdout).not.toContain("evil");
      });

      it("never runs a file swapped in while reloads arrive: what is checked is what is read", async () => {
        // Root swaps a root-owned file and a nobody-owned one under the same name (rename is atomic) while
        // SIGHUPs arrive: a check by path after the read let the nobody file through.
        const { folder, file } = fileInFolder(0o755);
        writeFileSync(file, "jobs:\n  good:\n    every: 1h\n    run: echo good\n");
        const trusted = join(folder, "trusted.yaml");
        const hostile = join(folder, "hostile.yaml");
        writeFileSync(trusted, "jobs:\n  good:\n    every: 1h\n    run: echo good\n", { mode: 0o644 });
        writeFileSync(hostile, "jobs:\n  evil:\n    every: 1h\n    run: echo evil\n", { mode: 0o644 });
        const cli = new CliProcess(["run", file, "--log-format", "json"]);
        await cli.waitFor('"event":"scheduled"');
        const swapper = spawn(
          "sh",
          [
            "-c",
            `i=0; while [ $i -lt 4000 ]; do cp -p "$1" "$3.a"; mv -f "$3.a" "$3"; cp -p "$2" "$3.b"; chown ${nobody!.uid} "$3.b"; mv -f "$3.b" "$3"; i=$((i+1)); done`,
            "swapper",
            trusted,
            hostile,
            file,
          ],
          { stdio: "ignore" },
        );
        const swapped = new Promise((resolve) => swapper.on("exit", resolve));
        const hups = setInterval(() => cli.child.kill("SIGHUP"), 5);
        await Promise.race([swapped, sleep(4_000)]);
        clearInterval(hups);
        swapper.kill("SIGKILL");
        await swapped;
        cli.child.kill("SIGTERM");
        const result = await cli.exited;
        const events = jsonEvents(result.stdout);
        expect(events.filter((e) => e.event === "reload_refused").length).toBeGreaterThan(0);
        expect(result.stdout).not.toContain("evil");
      }, 30_000); // seconds of swapping and reloading on purpose, on a machine that may be busy
    },
  );

  describe("SIGUSR1 never opens Node's inspector", () => {
    it("a running `tdefer run` ignores SIGUSR1: it lives on, and listens on no port (not 9229)", async () => {
      const file = writeSchedule("jobs:\n  ticker:\n    every: 200ms\n    run: echo tick\n");
      const cli = new CliProcess(["run", file, "--log-format", "plain"]);
      await cli.waitFor("| tick");
      cli.child.kill("SIGUSR1");
      cli.child.kill("SIGUSR1");
      const ticks = cli.stdout.split("| tick").length;
      await cli.waitFor(new RegExp(`(\\| tick[\\s\\S]*){${ticks + 1}}`));
      expect(listeningPorts(cli.child.pid!)).toEqual([]);
      expect(cli.stderr).not.toContain("Debugger");
      cli.child.kill("SIGTERM");
      const result = await cli.exited;
      expect(result.code).toBe(0);
      expect(result.stderr).toBe("");
    });

    it("nor does `tdefer trigger` while its job runs", async () => {
      const file = writeSchedule("jobs:\n  slow:\n    every: 1h\n    run: echo begun; sleep 2; echo done\n");
      const cli = new CliProcess(["trigger", "slow", file, "--log-format", "plain"]);
      await cli.waitFor("| begun");
      cli.child.kill("SIGUSR1");
      await sleep(500);
      expect(listeningPorts(cli.child.pid!)).toEqual([]);
      const result = await cli.exited;
      expect(result.code).toBe(0);
      expect(result.stdout).toContain("| done");
      expect(result.stderr).toBe("");
    });
  });

  describe("job output cannot forge log lines", () => {
    // A job printing NUL (which ends a journal record), a forged priority, a lone CR, ESC sequences, a C1 CSI.
    const hostileJob = `jobs:
  hostile:
    every: 1h
    run: printf 'a\\000<0>forged\\rover\\033[2J\\033[31mred\\302\\233x\\n' >&2; printf 'b\\000<0>forged2\\n'
`;
    // biome-ignore lint/suspicious/noControlCharactersInRegex: no control character but a newline may reach the log
    const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

    it("under the journal (JOURNAL_STREAM), every line carries tdefer's prefix and no control character passes", async () => {
      const file = writeSchedule(hostileJob);
      const result = await runCli(["trigger", "hostile", file], { env: { JOURNAL_STREAM: "8:123" } });
      expect(result.code).toBe(0);
      expect(result.stdout).not.toMatch(CONTROL);
      const lines = result.stdout.trimEnd().split("\n");
      for (const line of lines) expect(line).toMatch(/^<[3-7]>hostile\[/);
      expect(
        lines.filter((line) => line.startsWith("<3>hostile[")).map((line) => line.split("] ")[1]),
      ).toContain("! a\\x00<0>forged\\x0dover\\x1b[2J\\x1b[31mred\\u009bx");
      expect(result.stdout).toMatch(/^<6>hostile\[\w+\] \| b\\x00<0>forged2$/m);
    });

    it("in plain and pretty, the terminal gets no control character from a job; colours are tdefer's own", async () => {
      const file = writeSchedule(hostileJob);
      const [plain, pretty] = await Promise.all([
        runCli(["trigger", "hostile", file, "--log-format", "plain"]),
        runCli(["trigger", "hostile", file, "--log-format", "pretty"], {
          env: { NO_COLOR: "", FORCE_COLOR: "1" },
        }),
      ]);
      expect(plain.stdout).not.toMatch(CONTROL);
      expect(plain.stdout).toContain("| b\\x00<0>forged2\n");
      expect(pretty.stdout).toContain("\u001b[");
      // biome-ignore lint/suspicious/noControlCharactersInRegex: tdefer's own colours (SGR sequences)
      expect(pretty.stdout.replace(/\u001b\[[0-9;]*m/g, "")).not.toMatch(CONTROL);
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
      // Side by side: each is its own process, and one timeout covers them all.
      const [json, plain, check, checkJson, next, trigger] = await Promise.all([
        runCli(["run", file, "--log-format", "json"]),
        runCli(["run", file, "--log-format", "plain"]),
        runCli(["check", file]),
        runCli(["check", file, "--json"]),
        runCli(["next", file, "--json"]),
        runCli(["trigger", "uses-secrets", file, "--log-format", "json"]),
      ]);
      for (const result of [json, plain]) {
        expect(result.stdout).toContain("both set"); // the job saw them
        outputs.push(result.stdout, result.stderr);
      }
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
