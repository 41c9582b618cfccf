/**
 * `syscage run [policy options] [run options] -- COMMAND [ARGS…]`: run a
 * command under the filter, with the kernel enforcing it.
 *
 * Exit status, as `env` and `systemd-nspawn --pipe` users expect: the
 * command's own status; 128+N when a signal N killed it (SIGSYS adds a
 * one-line note that the syscall filter killed it); 125 when the sandbox
 * could not be set up (nothing ran); 126 / 127 when the command cannot be
 * executed / was not found.
 */
import { decodeProgram } from "../../bpf/codec.js";
import { assertValid } from "../../bpf/verify.js";
import { readInputFile } from "../../read-file.js";
import { Command, CommanderError } from "commander";
import { capabilityName } from "../../abi/capabilities.js";
import { SyscageError } from "../../errors.js";
import { FILTER_FLAGS } from "../../policy/model.js";
import { nspawnCapabilities } from "../../policy/nspawn.js";
import { EXIT_SETUP_FAILED, LaunchError, encodeLaunch, planLaunch, type LaunchPlan, type SandboxOptions } from "../../run/launch.js";
import { spawn } from "../../run/spawn.js";
import type { CommandContext } from "../main.js";
import { isClosingRule } from "../../policy/routes.js";
import { addPolicyOptions, loadPolicy, type PolicyOptionValues } from "../policy-options.js";
import { writeEntry, type LaunchCacheSlot } from "../run-cache.js";
import { waitForCommand } from "../run-wait.js";
import { addSandboxOptions, confinementFromCli, type SandboxCliValues } from "../sandbox-options.js";
import { describeSandbox } from "../../run/sandbox.js";

export { exitStatusOf } from "../run-wait.js";

interface RunOpts extends PolicyOptionValues, SandboxCliValues {
  addFilter?: string[];
  dryRun?: boolean;
  explainSandbox?: boolean;
  allowForeignArch?: boolean;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/**
 * The sandbox the policy options describe: the policy, and for nspawn's
 * filter also nspawn's retained capabilities and private network (from the
 * command line and `--settings`). Other policy sources leave capabilities
 * as they are.
 */
export function sandboxFromOptions(opts: PolicyOptionValues): { sandbox: SandboxOptions; source: string; warnings: readonly string[] } {
  const loaded = loadPolicy(opts);
  const sandbox: SandboxOptions =
    loaded.nspawn !== undefined
      ? { policy: loaded.policy, capabilities: nspawnCapabilities(loaded.nspawn), privateNetwork: loaded.nspawn.privateNetwork === true }
      : { policy: loaded.policy, capabilities: "keep" };
  return { sandbox, source: loaded.source, warnings: loaded.warnings };
}

/** The --add-filter programs, each decoded and verified here so that a bad one is named by its path. */
function readAddedFilters(files: readonly string[]): Uint8Array[] {
  return files.map((f) => {
    const b = readInputFile(f, "program");
    const bytes = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    assertValid(decodeProgram(bytes, `--add-filter ${f}`), `--add-filter ${f}`);
    return bytes;
  });
}

function flagNames(word: number): string {
  const names = Object.entries(FILTER_FLAGS)
    .filter(([, bit]) => (word & bit) !== 0)
    .map(([n]) => n);
  const known = Object.values(FILTER_FLAGS).reduce((a, b) => a | b, 0);
  if ((word & ~known) !== 0) names.push(`0x${(word & ~known).toString(16)}`);
  return names.length === 0 ? "none" : names.join(", ");
}

function capabilityText(caps: ReadonlySet<number> | null): string {
  if (caps === null) return "left as they are";
  const sorted = [...caps].sort((a, b) => a - b);
  const mask = sorted.reduce((m, c) => m | (1n << BigInt(c)), 0n);
  return `${sorted.map((c) => capabilityName(c) ?? String(c)).join(", ") || "none"} (mask 0x${mask.toString(16).padStart(16, "0")}; applied when run as root)`;
}

/** The closed routes of the plan's policy, in a few words. */
function routesText(plan: LaunchPlan): string {
  if (plan.policy.routes === "open") return "open (the rules as written)";
  const closed = [...new Set(plan.policy.rules.filter(isClosingRule).map((r) => r.syscall))].filter((n) => n.startsWith("io_uring") || n === "clone3" || n === "openat2");
  return closed.length === 0 ? "closed (nothing to close for these rules)" : `closed: ${closed.join(", ")}`;
}

/** What `--dry-run` prints: the plan, one fact per line. */
export function describePlan(plan: LaunchPlan, source: string, command: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const r of plan.policy.rules) counts.set(r.action.kind, (counts.get(r.action.kind) ?? 0) + 1);
  const ruleText = [...counts].map(([k, n]) => `${n} ${k}`).join(", ");
  const lines = [
    `command:        ${command.join(" ")}`,
    `policy:         ${source}`,
    `ABIs:           ${plan.compiled.abis.join(", ")}`,
    `rules:          ${plan.policy.rules.length} (${ruleText || "none"})`,
    `program:        ${plan.compiled.insns.length} instructions (${plan.compiled.insns.length * 8} bytes)`,
    `added filters:  ${plan.programs.length - 1}${plan.programs.length > 1 ? ` (${plan.programs.slice(0, -1).map((p) => p.insns.length).join(" + ")} instructions, loaded first)` : ""}`,
    `flags:          ${flagNames(plan.flags)}`,
    `capabilities:   ${capabilityText(plan.capabilities)}`,
    `network:        ${plan.privateNetwork ? "private (new namespace, loopback only)" : "host"}${plan.policy.network === false ? `; no sockets but AF_UNIX (--deny-network)${plan.landlockNoTcp ? ", Landlock denies TCP bind/connect where the kernel has ABI 4" : ""}` : ""}`,
    `routes:         ${routesText(plan)}`,
    `terminal:       ${plan.newSession ? "TIOCSTI/TIOCLINUX denied; a new session when no fd 0-2 is a terminal" : "as the caller's (--routes=open)"}`,
    `no_new_privs:   set`,
    ...describeSandbox(plan.sandbox),
  ];
  return lines.join("\n") + "\n";
}

async function runAction(command: string, args: string[], opts: RunOpts, cache: LaunchCacheSlot | undefined): Promise<number> {
  const { sandbox, source, warnings } = sandboxFromOptions(opts);
  const plan = planLaunch({ ...sandbox, ...confinementFromCli(opts), addFilters: readAddedFilters(opts.addFilter ?? []), ...(opts.allowForeignArch === true ? { allowForeignArch: true } : {}) });
  const allWarnings = [...warnings, ...plan.compiled.warnings, ...plan.sandbox.warnings];
  for (const w of allWarnings) process.stderr.write(`syscage: warning: ${w}\n`);
  if (opts.dryRun === true || opts.explainSandbox === true) {
    process.stdout.write(describePlan(plan, source, [command, ...args]));
    return 0;
  }
  // The plan worked: the fast path may use it next time (docs/run.md, "Launch cache").
  if (cache !== undefined) writeEntry(cache, encodeLaunch(plan), allWarnings);
  // --keep-fd N: this process's fd N, passed on at the same number (the rest of the gaps stay closed).
  const keep = plan.sandbox.keepFds;
  const stdio = keep.length === 0 ? "inherit" : Array.from({ length: Math.max(...keep) + 1 }, (_, fd) => (fd <= 2 || keep.includes(fd) ? fd : "ignore"));
  return waitForCommand(spawn(command, args, { plan, stdio }), command);
}

/** Register `syscage run`. */
export function register(program: Command, context: CommandContext = {}): void {
  // So that `syscage run ls -la` hands -la to ls; the top level has no options of its own.
  program.enablePositionalOptions();
  const cmd = program
    .command("run")
    .description("run a command under the filter (nspawn default, or the given policy), with the kernel enforcing it")
    .argument("<command>", "the command to run (found on PATH)")
    .argument("[args...]", "its arguments");
  addSandboxOptions(
    addPolicyOptions(cmd)
      .option("--add-filter <file>", "stack a raw seccomp program (loaded before the policy's; repeatable)", collect),
  )
    .option("--dry-run", "print what would be applied and exit")
    .option("--explain-sandbox", "print the whole sandbox (filter, capabilities, Landlock rules, limits, fds) and exit; the same as --dry-run")
    .option("--allow-foreign-arch", "run although the policy does not cover this host's native ABI (the command then gets the bad-arch action at its first syscall)")
    .passThroughOptions()
    .addHelpText(
      "after",
      `
--private-network also runs COMMAND in a new network namespace with only
loopback (root only). The helper sets no_new_privs, applies the retained
capabilities (as root), loads the program(s) and execs COMMAND. Nothing
runs unless all of it worked.

With any --allow-read/--allow-write/--allow-exec/--allow-system/--allow-tmp,
Landlock denies every other path; with --allow-connect/--allow-bind, every
other TCP port. When the kernel's Landlock cannot enforce an option, nothing
runs (exit 125) unless --landlock=best-effort. Only fds 0-2 reach COMMAND
unless --keep-fd. docs/run.md, "The sandbox", has the details.

Exit status: COMMAND's own; 128+N if signal N killed it (SIGSYS: the filter
killed it); 124 if --timeout expired; 125 if the sandbox could not be set up;
126 if COMMAND cannot be executed; 127 if it was not found.

Examples:
  syscage run -- /bin/echo hello
  syscage run --system-call-filter='~@network-io' -- curl example.org
  syscage run --drop-capability=CAP_SYS_BOOT --dry-run -- /bin/true
  syscage run --allow-system --allow-write . --allow-connect 443 --timeout 30s -- ./build.sh
  syscage run --preset node --allow-read . --limit as=2G,nproc=64 -- node script.js`,
    )
    .action(async (command: string, args: string[], opts: RunOpts) =>
      commandAction(() => runAction(command, args, opts, context.runCache), "the command was not run: ", (path, code) => `${path}: cannot read (${code})`),
    );
  exitSetupFailedOnUsageError(cmd);
}

/**
 * Run the action of a command that runs COMMAND (`run`, `record`) and set the
 * exit status: the action's; a {@link LaunchError}'s (125/126/127) with its
 * message; or 125 with one `syscage: PREFIX…` line when COMMAND could not be
 * set up (a SyscageError, or a file `fileMessage` words from its path and
 * errno code).
 */
export async function commandAction(action: () => Promise<number>, prefix: string, fileMessage: (path: string, code: string) => string): Promise<void> {
  try {
    process.exitCode = await action();
  } catch (e) {
    if (e instanceof LaunchError) {
      process.stderr.write(`syscage: ${e.message}\n`);
      process.exitCode = e.exitStatus;
      return;
    }
    if (e instanceof SyscageError) {
      process.stderr.write(`syscage: ${prefix}${e.message}\n`);
      process.exitCode = EXIT_SETUP_FAILED;
      return;
    }
    const err = e as NodeJS.ErrnoException;
    if (err !== null && typeof err === "object" && typeof err.code === "string" && typeof err.path === "string") {
      process.stderr.write(`syscage: ${prefix}${fileMessage(err.path, err.code)}\n`);
      process.exitCode = EXIT_SETUP_FAILED;
      return;
    }
    throw e;
  }
}

/** Usage errors of `run` and `record` exit 125 like `env`'s, so they cannot be mistaken for the command's status. */
export function exitSetupFailedOnUsageError(cmd: Command): void {
  cmd.exitOverride((err: CommanderError) => {
    if (err.exitCode === 0) throw err;
    throw new CommanderError(EXIT_SETUP_FAILED, err.code, err.message);
  });
}
