import type { Clock } from "../clock/clock.js";
import type { RunNotifyCommand } from "../ops/notify.js";
import type { Spawner } from "../runner/spawner.js";

const DETAIL_CHARS = 300;

/**
 * Runs a notifier command with tdefer's spawner: the event on stdin, the environment of tdefer plus the
 * TDEFER_* values; killed (its whole process group) after its timeout. Its output is read, and its end kept
 * for the warning when it fails.
 */
export function notifyCommandRunner(
  clock: Clock,
  spawner: Spawner,
  baseEnv: NodeJS.ProcessEnv,
): RunNotifyCommand {
  return (command, options) =>
    new Promise((resolve) => {
      const [file, ...args] = command.kind === "shell" ? [command.shell, "-c", command.script] : command.argv;
      const env: Record<string, string> = {};
      for (const [key, value] of Object.entries(baseEnv)) if (value !== undefined) env[key] = value;
      Object.assign(env, options.env);
      const child = spawner.spawn({ file, args, cwd: options.cwd, env, stdin: options.stdin });
      let tail = "";
      const keep = (chunk: Buffer) => {
        tail = (tail + chunk.toString("utf8")).slice(-DETAIL_CHARS);
      };
      child.stdout.onData(keep);
      child.stderr.onData(keep);
      const timer = clock.callLater(options.timeoutMs, () => child.kill("SIGKILL"));
      child.onExit((exit) => {
        if (timer.active()) timer.cancel();
        const said = tail.trim() === "" ? "" : `: ${tail.trim().split("\n").slice(-3).join(" / ")}`;
        resolve({
          ok: exit.exitCode === 0,
          detail:
            exit.error ??
            (exit.signal !== null ? `killed by ${exit.signal}${said}` : `exit ${exit.exitCode}${said}`),
        });
      });
    });
}
