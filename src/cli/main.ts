#!/usr/bin/env node
/**
 * The `syscage` command. Each subcommand lives in `commands/<name>.ts` and
 * exports `register(program)`. Errors reach the user as one line on stderr
 * (exit 1), never as a stack trace.
 */
import { VERSION } from "../version.js";
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { createRequire } from "node:module";
import type { Command } from "commander";
import { SyscageError } from "../errors.js";
import { describeFsError } from "../read-file.js";
import { tryFastRun } from "./fast-run.js";
import type { LaunchCacheSlot } from "./run-cache.js";

/** What main() hands to the command modules. */
export interface CommandContext {
  /** `run`: the launch-cache slot to fill after planning (the fast path missed). */
  readonly runCache?: LaunchCacheSlot;
}

type Module = { register(program: Command, context: CommandContext): void };

const require = createRequire(import.meta.url);

/**
 * commander, loaded when first needed, so that the cached fast path of
 * `syscage run` (fast-run.ts) never loads it.
 */
function commander(): typeof import("commander") {
  return require("commander") as typeof import("commander");
}

/**
 * Each command group's module, loaded only when its command runs (or for
 * `--help`), so that `syscage run` does not pay for the report, the prover or
 * the profile tools.
 */
const COMMANDS: readonly { names: readonly string[]; load: () => Promise<Module> }[] = [
  { names: ["resolve"], load: () => import("./commands/resolve.js") },
  { names: ["disasm", "asm", "verify", "emulate"], load: () => import("./commands/bpf.js") },
  { names: ["dump"], load: () => import("./commands/dump.js") },
  { names: ["compile", "stats"], load: () => import("./commands/compile.js") },
  { names: ["groups"], load: () => import("./commands/groups.js") },
  { names: ["run"], load: () => import("./commands/run.js") },
  { names: ["prove"], load: () => import("./commands/prove.js") },
  { names: ["record"], load: () => import("./commands/record.js") },
  { names: ["convert"], load: () => import("./commands/convert.js") },
  { names: ["explain"], load: () => import("./commands/explain.js") },
  { names: ["diff"], load: () => import("./commands/diff.js") },
  { names: ["check"], load: () => import("./commands/check.js") },
  { names: ["merge"], load: () => import("./commands/merge.js") },
  { names: ["report"], load: () => import("./commands/report.js") },
  { names: ["audit"], load: () => import("./commands/audit.js") },
  { names: ["doctor"], load: () => import("./commands/doctor.js") },
];

/**
 * The `syscage` program with the commands `argv` needs: the one it names, or
 * all of them (help, a typo, no command).
 */
export async function buildProgram(argv: readonly string[] = [], context: CommandContext = {}): Promise<Command> {
  const program = new (commander().Command)();
  program
    .name("syscage")
    .description("seccomp syscall-filtering toolkit: nspawn's filter system, a classic-BPF compiler for every Linux ABI, and tools to inspect filters")
    .version(VERSION)
    // commander's own errors (unknown option, missing argument) in syscage's one-line style.
    .configureOutput({ outputError: (text, write) => write(`syscage: ${text.replace(/^error: /, "").trimEnd()} (run with --help for usage)\n`) })
    .exitOverride();
  const first = argv[0];
  const named = COMMANDS.find((c) => first !== undefined && c.names.includes(first));
  const wanted = named !== undefined ? [named] : COMMANDS;
  for (const m of await Promise.all(wanted.map((c) => c.load()))) m.register(program, context);
  return program;
}

/** Print an error the way every syscage command does: one line, no stack. */
export function reportError(err: unknown): number {
  if (err instanceof commander().CommanderError) {
    // Commander already printed its message (or help/version, exit 0).
    return err.exitCode;
  }
  if (err instanceof SyscageError) {
    process.stderr.write(`syscage: ${err.message}\n`);
    return 1;
  }
  const e = err as NodeJS.ErrnoException;
  if (e !== null && typeof e === "object" && typeof e.code === "string" && typeof e.path === "string") {
    // A write (open, mkdir, rename) that fails with ENOENT means a missing directory, not a missing file.
    const writing = e.syscall === "open" && e.code === "ENOENT" && !existsSync(e.path) && !existsSync(dirname(e.path));
    process.stderr.write(`syscage: ${e.path}: ${writing ? `the directory ${dirname(e.path)} does not exist; create it first or give another path` : describeFsError(e.code)}\n`);
    return 1;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`syscage: internal error: ${message} (please report this)\n`);
  return 70;
}

export async function main(argv: string[]): Promise<number> {
  try {
    let context: CommandContext = {};
    if (argv[0] === "run") {
      // The launch cache first: on a hit the command runs without loading the rest of syscage.
      const fast = await tryFastRun(argv);
      if (fast.status !== undefined) return fast.status;
      if (fast.slot !== undefined) context = { runCache: fast.slot };
    }
    await (await buildProgram(argv, context)).parseAsync(argv, { from: "user" });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    return reportError(err);
  }
}

const invokedDirectly = process.argv[1] !== undefined && /(?:^|[/\\])(?:main\.[jt]s|syscage)$/.test(process.argv[1]);
if (invokedDirectly) {
  // `syscage … | head`: a reader that goes away is not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE") process.exit(process.exitCode === undefined ? 0 : Number(process.exitCode));
      throw err;
    });
  }
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.exitCode = reportError(err);
    },
  );
}
