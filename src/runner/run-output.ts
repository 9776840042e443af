import type { DelayedCall } from "../clock/clock.js";
import { LineSplitter } from "./line-splitter.js";
import type { RunDeps } from "./run-job.js";
import type { ChildHandle, ChildOutput } from "./spawner.js";

/**
 * After the child exits, its pipes are read on until they close, or until no byte arrived for this long.
 * Why: a grandchild that inherited the pipes (a daemon, a `sleep &`) may hold them open indefinitely, and
 * Node's 'exit' can come before the last output is read. Quiet, not total, time is counted so a busy event
 * loop loses nothing, and time spent paused for the log's backpressure does not count.
 */
export const POST_EXIT_QUIET_MS = 100;
/** A grandchild printing without pause still cannot keep a finished run open longer than this. */
export const POST_EXIT_MAX_MS = 5_000;

/** What the output of a run needs from the outside world (see RunDeps). */
export type OutputDeps = Pick<
  RunDeps,
  "clock" | "emit" | "wallNow" | "writable" | "outputLines" | "maxLineBytes" | "postExitQuietMs"
>;

/**
 * The output of one run, across its attempts: each pipe's bytes become line events, the child's pipes pause
 * while the log needs draining, and after the child's exit the pipes are read on until they are done.
 */
export class RunOutput {
  private current: AttemptOutput | undefined;
  private readonly logPause: LogPause;
  /** Lines of one chunk share its arrival time, read once per chunk rather than per line. */
  private chunkWallMs = 0;

  constructor(
    private readonly job: string,
    private readonly run: string,
    private readonly deps: OutputDeps,
  ) {
    this.logPause = new LogPause(deps.clock);
  }

  /** Starts reading an attempt's stdout and stderr (paused at once if the log is still draining). */
  follow(child: ChildHandle): AttemptOutput {
    const attempt = new AttemptOutput(child, this.deps, this.logPause);
    this.current = attempt;
    this.read(attempt, child.stdout, "stdout");
    this.read(attempt, child.stderr, "stderr");
    if (this.logPause.paused) attempt.pause();
    return attempt;
  }

  private read(attempt: AttemptOutput, output: ChildOutput, stream: "stdout" | "stderr"): void {
    const { job, run } = this;
    const emit = this.deps.emit;
    const splitter = new LineSplitter(
      (line, continues) => {
        const timeMs = this.chunkWallMs;
        emit(
          continues
            ? { timeMs, level: "info", event: "output", job, run, stream, line, continues }
            : { timeMs, level: "info", event: "output", job, run, stream, line },
        );
      },
      this.deps.maxLineBytes,
      this.deps.outputLines
        ? (bytes, continues) => {
            const timeMs = this.chunkWallMs;
            emit(
              continues
                ? { timeMs, level: "info", event: "output_lines", job, run, stream, bytes, continues }
                : { timeMs, level: "info", event: "output_lines", job, run, stream, bytes },
            );
          }
        : undefined,
    );
    output.onData((chunk) => {
      attempt.bytesRead += chunk.length;
      this.chunkWallMs = this.deps.wallNow();
      splitter.push(chunk);
      this.applyBackpressure();
    });
    output.onEnd(() => {
      this.chunkWallMs = this.deps.wallNow();
      splitter.end();
      attempt.pipeEnded();
    });
  }

  private applyBackpressure(): void {
    const writable = this.deps.writable;
    if (!writable || this.logPause.paused || !writable.needDrain()) return;
    this.logPause.begin();
    this.current?.pause();
    writable.onceDrained(() => {
      this.logPause.end();
      this.current?.resume();
    });
  }
}

/** The log's hold on a run's pipes: whether they are paused for it now, and for how long they were. */
export class LogPause {
  paused = false;
  /** Counts pauses and resumes: a post-exit drain check that saw one must wait another quiet period. */
  flips = 0;
  private totalMs = 0;
  private sinceMs = 0;

  constructor(private readonly clock: OutputDeps["clock"]) {}

  begin(): void {
    this.paused = true;
    this.flips++;
    this.sinceMs = this.clock.now();
  }

  end(): void {
    this.paused = false;
    this.flips++;
    this.totalMs += this.clock.now() - this.sinceMs;
  }

  /** Clock ms spent paused so far, the current pause included. */
  pausedMs(): number {
    return this.totalMs + (this.paused ? this.clock.now() - this.sinceMs : 0);
  }

  /** Whether the pipes were paused or resumed since `flips` was read, or are paused now. */
  changedSince(flips: number): boolean {
    return this.paused || this.flips !== flips;
  }
}

/** One attempt's two pipes, read until both have ended and the child has exited. */
export class AttemptOutput {
  /** Bytes read so far, to tell whether the pipes were quiet since the drain check was armed. */
  bytesRead = 0;
  private openPipes = 2;
  private exitMs = 0;
  private pausedMsAtExit = 0;
  private drainCall: DelayedCall | undefined;
  private whenDone: (() => void) | undefined;
  private done = false;

  constructor(
    private readonly child: ChildHandle,
    private readonly deps: Pick<OutputDeps, "clock" | "postExitQuietMs">,
    private readonly logPause: LogPause,
  ) {}

  /**
   * The child has exited: read on until both pipes end, closing them once they were quiet for
   * POST_EXIT_QUIET_MS, or POST_EXIT_MAX_MS after the exit (time paused for the log not counted); at once when
   * `closeNow` (the child never started). Then calls `done`, once.
   */
  afterExit(closeNow: boolean, done: () => void): void {
    this.whenDone = done;
    this.exitMs = this.deps.clock.now();
    this.pausedMsAtExit = this.logPause.pausedMs();
    if (closeNow) this.close();
    if (this.openPipes === 0) this.finish();
    else this.armDrainCheck();
  }

  pause(): void {
    this.child.stdout.pause();
    this.child.stderr.pause();
  }

  resume(): void {
    this.child.stdout.resume();
    this.child.stderr.resume();
  }

  /** One of the two pipes ended. */
  pipeEnded(): void {
    this.openPipes--;
    if (this.openPipes === 0 && this.whenDone) this.finish();
  }

  private armDrainCheck(): void {
    const { clock, postExitQuietMs } = this.deps;
    const bytesAtArm = this.bytesRead;
    const flipsAtArm = this.logPause.flips;
    const decide = (): void => {
      if (this.done) return;
      // Time paused for the log does not count: a slow stdout must not cut off the job's own last output.
      const overdue =
        clock.now() - this.exitMs - (this.logPause.pausedMs() - this.pausedMsAtExit) >= POST_EXIT_MAX_MS;
      // Paused (or resumed) for the log at any time in the period: the pipes were not quiet, only unread.
      const stillFlowing = this.bytesRead !== bytesAtArm || this.logPause.changedSince(flipsAtArm);
      if (stillFlowing && !overdue) this.armDrainCheck();
      else this.close();
    };
    this.drainCall = clock.callLater(postExitQuietMs ?? POST_EXIT_QUIET_MS, () => {
      this.drainCall = undefined;
      // Output that came while the loop was busy is read before the period counts as quiet.
      if (clock.afterPendingIo) clock.afterPendingIo(decide);
      else decide();
    });
  }

  private close(): void {
    this.child.stdout.close();
    this.child.stderr.close();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.drainCall?.cancel();
    this.drainCall = undefined;
    this.whenDone!();
  }
}
