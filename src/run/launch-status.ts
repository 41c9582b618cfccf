/**
 * How the native helper reports that the command was not run: its exit
 * statuses and status line. Kept apart from launch.ts (which loads the
 * compiler) so that the CLI's cached fast path can use it.
 */
import { SyscageError } from "../errors.js";

/** Exit statuses of the helper, as `env` uses them. */
export const EXIT_SETUP_FAILED = 125;
export const EXIT_CANNOT_EXECUTE = 126;
export const EXIT_NOT_FOUND = 127;

/**
 * The command was not run: setting up the sandbox failed (125), or the
 * command could not be executed (126) or found (127). `exitStatus` is the
 * status the helper exited with.
 */
export class LaunchError extends SyscageError {
  readonly exitStatus: 125 | 126 | 127;

  constructor(exitStatus: 125 | 126 | 127, message: string) {
    const code = exitStatus === EXIT_NOT_FOUND ? "COMMAND_NOT_FOUND" : exitStatus === EXIT_CANNOT_EXECUTE ? "COMMAND_NOT_EXECUTABLE" : "LAUNCH_FAILED";
    super(code, message);
    this.name = "LaunchError";
    this.exitStatus = exitStatus;
  }
}

/** The first line the helper writes on its status fd once it has read the launch description (native/syscage-exec.h). */
export const HELPER_HANDSHAKE = "0 syscage-exec";

/**
 * Parse what the helper wrote on its status fd: the handshake line, then
 * nothing (the exec happened: undefined) or "125 reason". Without the
 * handshake the program was not syscage's helper, or died before it read
 * the launch description: nothing may count as launched.
 */
export function parseStatusReport(text: string): LaunchError | undefined {
  const lines = text.split("\n");
  if (lines[0]!.trim() !== HELPER_HANDSHAKE) {
    const what = lines[0]!.trim() === "" ? "said nothing" : `said "${lines[0]!.trim().slice(0, 80)}"`;
    return new LaunchError(EXIT_SETUP_FAILED, `the command was not run: the native helper ${what} instead of its handshake (a file that is not syscage's helper, or a helper killed before it started); rebuild it with \`npm run build:native -- --force\``);
  }
  const line = (lines[1] ?? "").trim();
  if (line === "") return undefined;
  const m = /^(12[567]) (.*)$/.exec(line);
  if (m === null) return new LaunchError(EXIT_SETUP_FAILED, `the native helper reported something unexpected: ${line}`);
  const status = Number(m[1]) as 125 | 126 | 127;
  const reason = m[2]!;
  const text2 = status === EXIT_SETUP_FAILED ? `the command was not run: ${reason}` : reason;
  return new LaunchError(status, text2);
}
