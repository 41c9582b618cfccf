/**
 * `syscage resolve [--arch A] [--json] NAME|NUMBER`: syscall name ↔ number,
 * like libseccomp's `scmp_sys_resolver`, for one ABI or all of them.
 */
import type { Command } from "commander";
import { ABI_NAMES, hostAbi, parseAbi, type AbiName } from "../../abi/arch.js";
import {
  TABLES_KERNEL_VERSION,
  abisWithSyscall,
  knownSyscallNames,
  parseSyscallNumber,
  resolveSyscall,
  resolveSyscallName,
  syscallName,
  syscallNumber,
} from "../../abi/tables.js";
import { SyscageError, didYouMean, suggest } from "../../errors.js";
import { formatTable, printJson } from "../output.js";

interface ResolveOptions {
  arch?: string;
  json?: boolean;
}

/** One row of the answer: `name` or `nr` is null when the ABI lacks it. */
interface Resolved {
  arch: AbiName;
  name: string | null;
  nr: number | null;
}

/** A query is a number when it starts with a digit (no syscall name does). */
function isNumberQuery(query: string): boolean {
  return /^\s*[0-9]/.test(query);
}

function resolveOne(abi: AbiName, query: string): Resolved {
  if (isNumberQuery(query)) {
    const nr = parseSyscallNumber(query);
    return { arch: abi, name: resolveSyscallName(abi, nr), nr };
  }
  return { arch: abi, name: query, nr: resolveSyscall(abi, query) };
}

function resolveAll(query: string): Resolved[] {
  if (isNumberQuery(query)) {
    const nr = parseSyscallNumber(query);
    const rows = ABI_NAMES.map((arch) => ({ arch, name: syscallName(arch, nr) ?? null, nr }));
    if (rows.every((r) => r.name === null)) {
      throw new SyscageError(
        "UNKNOWN_SYSCALL_NUMBER",
        `no syscall number ${query.trim()} on any ABI (tables from Linux ${TABLES_KERNEL_VERSION}).`,
      );
    }
    return rows;
  }
  if (abisWithSyscall(query).length === 0) {
    const near = suggest(query, knownSyscallNames());
    throw new SyscageError(
      "UNKNOWN_SYSCALL",
      `unknown syscall "${query}" on every ABI (tables from Linux ${TABLES_KERNEL_VERSION}).${didYouMean(near)}`,
      near,
    );
  }
  return ABI_NAMES.map((arch) => ({ arch, name: query, nr: syscallNumber(arch, query) ?? null }));
}

function run(query: string, opts: ResolveOptions): void {
  const archText = opts.arch ?? hostAbi();
  if (archText.trim().toLowerCase() === "all") {
    const rows = resolveAll(query);
    if (opts.json === true) {
      printJson(rows);
      return;
    }
    const byNumber = isNumberQuery(query);
    const body = rows.map((r) => [r.arch, byNumber ? (r.name ?? "-") : r.nr === null ? "-" : String(r.nr)]);
    process.stdout.write(formatTable([["ABI", byNumber ? "NAME" : "NR"], ...body]) + "\n");
    return;
  }
  const r = resolveOne(parseAbi(archText), query);
  if (opts.json === true) printJson(r);
  else process.stdout.write(`${isNumberQuery(query) ? r.name : String(r.nr)}\n`);
}

/** Registers `syscage resolve` on `program`. */
export function register(program: Command): void {
  program
    .command("resolve")
    .summary("syscall name → number, or number → name")
    .description(
      "Resolve a syscall name to its number, or a number to its name, on one ABI\n" +
        "(default: this machine's native ABI) or on all of them. Numbers are as seen in\n" +
        "seccomp_data.nr: x32 numbers include 0x40000000, MIPS o32/n64/n32 add 4000/5000/6000.\n" +
        `Tables come from Linux ${TABLES_KERNEL_VERSION}.`,
    )
    .argument("<syscall>", "a syscall name (openat) or number, decimal (257) or hex (0x101)")
    .option("-a, --arch <abi>", `ABI name (${ABI_NAMES.join(", ")}; also uname/Go/systemd spellings), or "all"`)
    .option("--json", "print JSON: {arch, name, nr}; an array for --arch all, null where absent")
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  syscage resolve openat                 # 257 on x86_64\n" +
        "  syscage resolve --arch aarch64 56      # openat\n" +
        "  syscage resolve --arch x32 openat      # 1073742081 (0x40000101)\n" +
        "  syscage resolve --arch all open        # one row per ABI, - where absent\n" +
        "  syscage resolve --json read\n",
    )
    .action((query: string, opts: ResolveOptions) => run(query, opts));
}
