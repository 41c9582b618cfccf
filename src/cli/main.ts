#!/usr/bin/env node
/**
 * The `syscage` command. Each subcommand lives in `commands/<name>.ts` and
 * exports `register(program)`. Errors reach the user as one line on stderr
 * (exit 1), never as a stack trace.
 */
import { Command, CommanderError } from "commander";
import { SyscageError } from "../errors.js";
import { register as registerResolve } from "./commands/resolve.js";
import { register as registerBpf } from "./commands/bpf.js";
import { register as registerCompile } from "./commands/compile.js";
import { register as registerGroups } from "./commands/groups.js";
import { register as registerRun } from "./commands/run.js";
import { register as registerProve } from "./commands/prove.js";
import { register as registerRecord } from "./commands/record.js";
import { register as registerConvert } from "./commands/convert.js";
import { register as registerExplain } from "./commands/explain.js";
import { register as registerDiff } from "./commands/diff.js";
import { register as registerReport } from "./commands/report.js";

export function buildProgram(): Command {
  const program = new Command();
  program
    .name("syscage")
    .description("seccomp syscall-filtering toolkit: nspawn's filter system, a classic-BPF compiler for every Linux ABI, and tools to inspect filters")
    .version("0.1.0")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  registerResolve(program);
  registerBpf(program);
  registerCompile(program);
  registerGroups(program);
  registerRun(program);
  registerProve(program);
  registerRecord(program);
  registerConvert(program);
  registerExplain(program);
  registerDiff(program);
  registerReport(program);
  return program;
}

/** Print an error the way every syscage command does: one line, no stack. */
export function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // Commander already printed its message (or help/version, exit 0).
    return err.exitCode;
  }
  if (err instanceof SyscageError) {
    process.stderr.write(`syscage: ${err.message}\n`);
    return 1;
  }
  const e = err as NodeJS.ErrnoException;
  if (e !== null && typeof e === "object" && typeof e.code === "string" && typeof e.path === "string") {
    process.stderr.write(`syscage: ${e.path}: ${describeFsError(e.code)}\n`);
    return 1;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`syscage: internal error: ${message} (please report this)\n`);
  return 70;
}

function describeFsError(code: string): string {
  switch (code) {
    case "ENOENT":
      return "no such file; check the path";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "is a directory; give a file";
    default:
      return `cannot read (${code})`;
  }
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: "user" });
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
