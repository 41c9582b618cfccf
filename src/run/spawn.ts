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
import { SyscageError, didYouMean, suggest } from "../errors.js";
import { requireHelper } from "./helper.js";
import { LaunchError, encodeLaunch, planLaunch, type LaunchPlan, type SandboxOptions } from "./launch.js";
import { CONFINEMENT_KEYS } from "./sandbox.js";
import { spawnHelper, stdioArray, type StdioEntry } from "./spawn-helper.js";

/**
 * Options of {@link spawn}: the sandbox options, plus the usual
 * child_process options (`stdio`, `env`, `cwd`, `uid`, `gid`, …) except
 * `shell` and `argv0`, which would apply to the helper rather than the command.
 */
export interface SpawnOptions extends SandboxOptions, Omit<NodeSpawnOptions, "shell" | "argv0" | "timeout"> {
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
  "routes",
  "network",
  "allowForeignArch",
  ...CONFINEMENT_KEYS,
  "helper",
  "plan",
  "capture",
  "input",
  "shell",
  "argv0",
] as const;

/** Node's spawn options that reach the helper (and so the command) unchanged. */
const NODE_KEYS = ["cwd", "env", "stdio", "uid", "gid", "detached", "killSignal", "signal", "windowsHide", "windowsVerbatimArguments", "serialization"] as const;
/** Node options with no meaning here, and why. */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  shell: "the command runs directly under the filter; to run a shell line, run \"sh\" with [\"-c\", LINE]",
  argv0: "the native helper execs the command by name",
  maxBuffer: "run() captures all output (capture: true); limit it in your own stdout handling",
  encoding: "captured output is always UTF-8 text",
};

/**
 * Every key of `options` must be one that spawn()/run() know: a typo such as
 * `systemCallFiltr` would otherwise run the command under the default policy.
 */
export function checkRunOptions(options: object, where: string, extra: readonly string[] = []): void {
  const known: readonly string[] = [...SANDBOX_KEYS.filter((k) => k !== "shell" && k !== "argv0"), ...NODE_KEYS, ...extra];
  for (const k of Reflect.ownKeys(options)) {
    const key = String(k);
    if ((options as Record<string, unknown>)[key] === undefined) continue;
    if (UNSUPPORTED[key] !== undefined) throw new SyscageError("BAD_OPTIONS", `${where}: option "${key}" is not supported: ${UNSUPPORTED[key]}`);
    if (known.includes(key)) continue;
    const s = suggest(key, known);
    throw new SyscageError("UNKNOWN_OPTION", `${where}: unknown option "${key}".${didYouMean(s)} Known options: ${known.join(", ")}`, s);
  }
}

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
  if (!Array.isArray(args) || args.some((a) => typeof a !== "string")) throw new SyscageError("BAD_USAGE", "spawn: args must be an array of strings");
  checkRunOptions(options, "spawn", ["capture", "input"]);
  // The extra stdio entries the caller set up (fd 3 and up) reach the command; every other fd is closed.
  const extra = stdioArray(options.stdio ?? "pipe")
    .map((e, fd) => (fd > 2 && e !== "ignore" && e !== null && e !== undefined ? fd : -1))
    .filter((fd) => fd > 2);
  const plan = options.plan ?? planLaunch(extra.length > 0 ? { ...options, keepFds: [...(options.keepFds ?? []), ...extra] } : options);
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
    let child: ChildProcess;
    try {
      checkRunOptions(options, "run", ["capture", "input"]);
      const stdio = commandStdio(options);
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

