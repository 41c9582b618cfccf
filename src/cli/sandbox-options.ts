/**
 * `run`'s sandbox options (Landlock, limits, timeout, clean start): their
 * registration with commander and their translation into
 * {@link ConfinementOptions}, with errors that name the option. The option
 * names are listed as data in run-option-table.ts for the launch cache.
 */
import type { Command } from "commander";
import { SyscageError } from "../errors.js";
import { parseDuration, parseLimits, SCOPE_NAMES, type ConfinementOptions, type ScopeName } from "../run/sandbox.js";

export interface SandboxCliValues {
  allowRead?: string[];
  allowWrite?: string[];
  allowExec?: string[];
  allowSystem?: boolean;
  allowTmp?: boolean;
  allowConnect?: string[];
  allowBind?: string[];
  scope?: string[];
  landlock?: string;
  limit?: string[];
  timeout?: string;
  killAfter?: string;
  nice?: string;
  keepFd?: string[];
  clearEnv?: boolean;
  env?: string[];
  cwd?: string;
  preset?: string;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Register the sandbox options on `cmd`. */
export function addSandboxOptions(cmd: Command): Command {
  return cmd
    .option("--allow-read <path>", "Landlock: the command may read PATH (a directory: its tree); every other path is denied (repeatable)", collect)
    .option("--allow-write <path>", "Landlock: read, write, create and remove beneath PATH (repeatable)", collect)
    .option("--allow-exec <path>", "Landlock: read and execute beneath PATH (repeatable)", collect)
    .option("--allow-system", "Landlock: read+exec of /usr, /lib*, /bin, /sbin and the loader's files; /dev/null, /dev/urandom, /proc/self")
    .option("--allow-tmp", "Landlock: a private writable temp dir for this run (TMPDIR), removed after it")
    .option("--allow-connect <ports>", "Landlock (ABI 4): TCP connect only to these ports (comma list, repeatable); every other TCP connect and bind is denied", collect)
    .option("--allow-bind <ports>", "Landlock (ABI 4): TCP bind only to these ports (comma list, repeatable)", collect)
    .option("--scope <list>", `Landlock (ABI 6): ${SCOPE_NAMES.join(", ")}: no connecting to abstract unix sockets / no signals outside the sandbox (comma list)`, collect)
    .option("--landlock <mode>", "enforce (default): refuse to run when the kernel's Landlock cannot enforce every --allow-*/--scope option; best-effort: run with what it can and say what was left out")
    .option("--limit <list>", "resource limits: cpu=SECONDS,as=BYTES,nproc=N,nofile=N,fsize=BYTES,core=BYTES,stack=BYTES (sizes like 512M; repeatable)", collect)
    .option("--timeout <duration>", "after DURATION (10s, 1.5m, 200ms) send SIGTERM to every process of the command, then SIGKILL; exit 124")
    .option("--kill-after <duration>", "with --timeout: wait this long between SIGTERM and SIGKILL (default 2s)")
    .option("--nice <n>", "add N to the command's niceness (use --nice=-N for a negative N)")
    .option("--keep-fd <n>", "let fd N (above 2) reach the command; every other fd above 2 is closed (repeatable)", collect)
    .option("--clear-env", "start the command with an empty environment (then --env)")
    .option("--env <key=value>", "set KEY=VALUE in the command's environment (repeatable)", collect)
    .option("--cwd <dir>", "run the command in DIR")
    .option("--preset <name>", "node: what a Node script needs to start under the other options (system files, node's own install; io_uring answered with EPERM)");
}

function fail(message: string): never {
  throw new SyscageError("BAD_OPTIONS", message);
}

function ports(values: readonly string[] | undefined, option: string): number[] | undefined {
  if (values === undefined) return undefined;
  return values.flatMap((v) =>
    v.split(",").map((p) => {
      const t = p.trim();
      if (!/^\d{1,5}$/.test(t) || Number(t) > 65535) fail(`${option} ${v}: "${t}" is not a TCP port (0..65535); give port numbers separated by commas`);
      return Number(t);
    }),
  );
}

function integer(v: string, option: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(v.trim()) || Number(v) < min || Number(v) > max) fail(`${option} ${v}: expected a whole number ${min}..${max}`);
  return Number(v);
}

/** The ConfinementOptions the CLI values describe. */
export function confinementFromCli(v: SandboxCliValues): ConfinementOptions {
  const scope = v.scope?.flatMap((s) => s.split(",").map((x) => x.trim()).filter((x) => x !== "")) as ScopeName[] | undefined;
  if (v.landlock !== undefined && v.landlock !== "enforce" && v.landlock !== "best-effort") fail(`--landlock ${v.landlock}: expected enforce or best-effort`);
  if (v.killAfter !== undefined && v.timeout === undefined) fail("--kill-after needs --timeout");
  const out: ConfinementOptions = {
    ...(v.allowRead !== undefined ? { allowRead: v.allowRead } : {}),
    ...(v.allowWrite !== undefined ? { allowWrite: v.allowWrite } : {}),
    ...(v.allowExec !== undefined ? { allowExec: v.allowExec } : {}),
    ...(v.allowSystem === true ? { allowSystem: true } : {}),
    ...(v.allowTmp === true ? { allowTmp: true } : {}),
    ...(v.allowConnect !== undefined ? { allowConnect: ports(v.allowConnect, "--allow-connect") } : {}),
    ...(v.allowBind !== undefined ? { allowBind: ports(v.allowBind, "--allow-bind") } : {}),
    ...(scope !== undefined ? { scope } : {}),
    ...(v.landlock !== undefined ? { landlock: v.landlock as "enforce" | "best-effort" } : {}),
    ...(v.limit !== undefined ? { limits: parseLimits(v.limit) } : {}),
    ...(v.timeout !== undefined ? { timeout: parseDuration(v.timeout, "--timeout") } : {}),
    ...(v.killAfter !== undefined ? { killAfter: parseDuration(v.killAfter, "--kill-after") } : {}),
    ...(v.nice !== undefined ? { nice: integer(v.nice, "--nice", -40, 40) } : {}),
    ...(v.keepFd !== undefined ? { keepFds: v.keepFd.map((fd) => integer(fd, "--keep-fd", 3, 1 << 20)) } : {}),
    ...(v.clearEnv === true ? { clearEnv: true } : {}),
    ...(v.env !== undefined ? { setEnv: v.env } : {}),
    ...(v.cwd !== undefined ? { chdir: v.cwd } : {}),
    ...(v.preset !== undefined ? { preset: v.preset as "node" } : {}),
  };
  return out;
}
