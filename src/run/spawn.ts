/**
 * Run a command under a seccomp policy, with the real kernel enforcing it.
 *
 *   import { run } from "syscage/run";
 *   const r = await run("node", ["untrusted.js"], { systemCallFilter: ["~@network-io"], capture: true });
 *
 * The policy is compiled and verified here; then the native helper is spawned
 * with the launch description on an extra pipe (nothing touches disk). The
 * helper sets no_new_privs, applies the capabilities, loads the programs and
 * execs the command in place, so the returned ChildProcess IS the command.
 */
import type { ChildProcess, SpawnOptions as NodeSpawnOptions, StdioOptions } from "node:child_process";
import { SyscageError } from "../errors.js";
import { requireHelper } from "./helper.js";
import { LaunchError, encodeLaunch, planLaunch, type LaunchPlan, type SandboxOptions } from "./launch.js";
import { spawnHelper, stdioArray, type StdioEntry } from "./spawn-helper.js";

/**
 * Options of {@link spawn}: the sandbox options, plus the usual
 * child_process options (`stdio`, `env`, `cwd`, `uid`, `gid`, …) except
 * `shell` and `argv0`, which would apply to the helper rather than the command.
 */
export interface SpawnOptions extends SandboxOptions, Omit<NodeSpawnOptions, "shell" | "argv0"> {
  /** Path of the native helper (default: the package's `native/build/syscage-exec`). */
  readonly helper?: string;
  /** A plan from {@link planLaunch}, to skip planning (the sandbox options are then ignored). */
  readonly plan?: LaunchPlan;
}

/** The I/O options of a command that is waited for: {@link run}, and record's startRecording. */
export interface CommandIoOptions {
  readonly stdio?: StdioOptions | undefined;
  readonly capture?: boolean | undefined;
  readonly input?: string | Uint8Array | undefined;
}

/** The command's stdio: `stdio` (default "inherit"), with pipes for captured output and for `input`. */
export function commandStdio(options: CommandIoOptions): StdioEntry[] {
  const stdio = stdioArray(options.stdio ?? "inherit");
  if (options.capture === true) {
    stdio[1] = "pipe";
    stdio[2] = "pipe";
  }
  if (options.input !== undefined) stdio[0] = "pipe";
  return stdio;
}

/**
 * Collect the child's stdout and stderr when `capture` is set, and write
 * `input` to its stdin, then close it. Returns the output captured so far.
 */
export function captureAndFeed(child: ChildProcess, options: CommandIoOptions): () => { stdout: string; stderr: string } {
  let stdout = "";
  let stderr = "";
  if (options.capture === true) {
    child.stdout?.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr?.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  }
  if (options.input !== undefined && child.stdin !== null) {
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input);
  }
  return () => ({ stdout, stderr });
}

const SANDBOX_KEYS = [
  "policy",
  "capability",
  "dropCapability",
  "systemCallFilter",
  "abis",
  "privateNetwork",
  "capabilities",
  "addFilters",
  "flags",
  "helper",
  "plan",
  "capture",
  "input",
  "shell",
  "argv0",
] as const;

/** `options` without `own` keys: what goes to Node's spawn of the helper. */
export function nodeOptions(options: object, own: readonly string[] = SANDBOX_KEYS): NodeSpawnOptions {
  const rest: Record<string, unknown> = { ...options };
  for (const k of own) delete rest[k];
  return rest as NodeSpawnOptions;
}

/**
 * Spawn `command` (found on PATH) with `args` under the sandbox. Returns a
 * normal ChildProcess for the command itself: its pid, stdio, signals and
 * exit status are the command's.
 *
 * Fails closed: a policy that cannot be built, compiled or verified, a bad
 * added program or a stack over the kernel's path limit throws a
 * SyscageError before anything is spawned. When the helper cannot apply the
 * sandbox or exec the command, the child exits with 125 (setup), 126 (cannot
 * execute) or 127 (not found) without running the command, and the
 * ChildProcess emits `error` with a {@link LaunchError} saying why (as Node
 * does for a command that does not exist: listen for `error`).
 */
export function spawn(command: string, args: readonly string[] = [], options: SpawnOptions = {}): ChildProcess {
  if (typeof command !== "string" || command === "") throw new SyscageError("BAD_USAGE", "spawn: no command given");
  const plan = options.plan ?? planLaunch(options);
  const helper = requireHelper(options.helper);
  return spawnHelper(helper, encodeLaunch(plan), command, args, { ...nodeOptions(options), stdio: options.stdio ?? "pipe" });
}

/** Options of {@link run}. */
export interface RunOptions extends SpawnOptions {
  /**
   * Capture stdout and stderr as strings (default false: they follow
   * `stdio`, which defaults to "inherit" for run()).
   */
  readonly capture?: boolean;
  /** Written to the command's stdin, which is then closed (stdin becomes a pipe). */
  readonly input?: string | Uint8Array;
}

/** How the command ended: `code` or `signal`, and the captured output when asked. */
export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout?: string;
  readonly stderr?: string;
}

/**
 * Run `command` under the sandbox (see {@link spawn}) and wait for it.
 * Resolves with how it ended, including death by a signal (SIGSYS when the
 * filter killed it). Rejects with a SyscageError when the sandbox cannot be
 * built, or a {@link LaunchError} (exitStatus 125/126/127) when the command
 * was not run.
 */
export function run(command: string, args: readonly string[] = [], options: RunOptions = {}): Promise<RunResult> {
  return new Promise<RunResult>((resolve, reject) => {
    const stdio = commandStdio(options);
    let child: ChildProcess;
    try {
      child = spawn(command, args, { ...options, stdio });
    } catch (e) {
      reject(e);
      return;
    }
    const output = captureAndFeed(child, options);
    let failure: Error | undefined;
    child.on("error", (e: Error) => {
      failure ??= e;
      // The helper itself could not be spawned: there will be no exit.
      if (!(e instanceof LaunchError) && child.pid === undefined) reject(e);
    });
    child.on("close", (code: number | null, signal: NodeJS.Signals | null) => {
      if (failure instanceof LaunchError) {
        reject(failure);
        return;
      }
      if (failure !== undefined) {
        reject(failure);
        return;
      }
      const result: RunResult = options.capture === true ? { code, signal, ...output() } : { code, signal };
      resolve(result);
    });
  });
}

