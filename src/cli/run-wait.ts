/**
 * Waiting for the command of `syscage run` and turning how it ended into
 * syscage's exit status, shared by the normal path (commands/run.ts) and the
 * cached fast path (fast-run.ts); it loads no policy or compiler module.
 */
import type { ChildProcess } from "node:child_process";
import { constants as osConstants } from "node:os";
import { EXIT_SETUP_FAILED, LaunchError } from "../run/launch-status.js";

/** The exit status for how the command ended: its code, or 128+N for signal N. */
export function exitStatusOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  if (signal !== null) return 128 + (osConstants.signals[signal] ?? 0);
  return EXIT_SETUP_FAILED;
}

const FORWARDED: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/**
 * Wait for `child` (the helper that becomes `command`), forwarding SIGTERM,
 * SIGHUP and (unless stdin is a terminal) SIGINT to it, and resolve with
 * syscage run's exit status: the command's, 128+N (with a one-line note for
 * SIGSYS), or the helper's 125/126/127 with its message.
 */
export function waitForCommand(child: ChildProcess, command: string): Promise<number> {
  return new Promise<number>((resolve) => {
    let launchError: Error | undefined;
    // A terminal's Ctrl-C reaches the command directly (same process group);
    // forward SIGINT only when it cannot have come from a terminal.
    const forward = (sig: NodeJS.Signals): void => {
      if (sig === "SIGINT" && process.stdin.isTTY === true) return;
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    };
    for (const sig of FORWARDED) process.on(sig, forward);
    const done = (status: number): void => {
      for (const sig of FORWARDED) process.off(sig, forward);
      resolve(status);
    };
    child.on("error", (e: Error) => {
      launchError ??= e;
      if (!(e instanceof LaunchError) && child.pid === undefined) {
        process.stderr.write(`syscage: cannot start the native helper: ${e.message}\n`);
        done(EXIT_SETUP_FAILED);
      }
    });
    child.on("close", (code: number | null, signal: NodeJS.Signals | null) => {
      if (launchError instanceof LaunchError) {
        process.stderr.write(`syscage: ${launchError.message}\n`);
        done(launchError.exitStatus);
        return;
      }
      if (signal === "SIGSYS") process.stderr.write(`syscage: ${command} was killed by the syscall filter (SIGSYS)\n`);
      done(exitStatusOf(code, signal));
    });
  });
}
