/**
 * Commands over raw classic-BPF seccomp programs (`struct sock_filter` arrays,
 * as written by libseccomp's seccomp_export_bpf and `syscage compile`: in the
 * byte order of the machine that loads them; disasm and emulate take either):
 *
 * - `syscage disasm FILE [--arch A]`   readable assembly
 * - `syscage asm FILE.s [-o FILE.bpf] [--arch A]`  assemble that text back (verified as the kernel would)
 * - `syscage verify FILE [--arch A] [--json]`  the kernel's load-time checks, in A's byte order (default the host's)
 * - `syscage emulate FILE [SYSCALL] [--arch A] [--syscall NAME | --nr N] [--args …] [--ip N] [--quiet] [--json]`
 *   (--arch defaults to the host's ABI)
 *   run the program on one syscall, exactly as the kernel would
 */
import type { Command } from "commander";
import { getAbi, hostAbiIfKnown, parseAbi, type AbiName } from "../../abi/arch.js";
import { resolveSyscall } from "../../abi/tables.js";
import { SyscageError } from "../../errors.js";
import { formatAction } from "../../bpf/actions.js";
import { decodeProgram, hostEndian, readProgramFileAnyOrder } from "../../bpf/codec.js";
import { writeFileSync } from "node:fs";
import { assembleProgram } from "../../bpf/asm.js";
import { encodeProgram } from "../../bpf/codec.js";
import { disassemble, formatInsn } from "../../bpf/disasm.js";
import { readInputFile, readInputText } from "../../read-file.js";
import { interpret, type SeccompData } from "../../bpf/interpret.js";
import { assertValid, verify } from "../../bpf/verify.js";
import { printJson } from "../output.js";

interface DisasmOpts {
  arch?: string;
}

interface AsmOpts {
  output?: string;
  arch?: string;
  json?: boolean;
}

interface VerifyOpts {
  arch?: string;
  json?: boolean;
}

interface EmulateOpts {
  arch?: string;
  syscall?: string;
  nr?: string;
  args?: string;
  ip?: string;
  quiet?: boolean;
  json?: boolean;
}

const U64_MAX = (1n << 64n) - 1n;

/**
 * Parse a u64 option value: decimal, 0x hex, or a negative decimal taken as
 * its 64-bit two's complement (-1 → 0xffffffffffffffff). Exact (BigInt).
 */
export function parseU64(text: string, option: string): bigint {
  const t = text.trim();
  let v: bigint;
  if (/^0x[0-9a-f]+$/i.test(t)) v = BigInt(t);
  else if (/^[0-9]+$/.test(t)) v = BigInt(t);
  else if (/^-[0-9]+$/.test(t)) {
    v = BigInt(t);
    if (v < -(1n << 63n)) throw new SyscageError("BAD_VALUE", `${option}: "${text}" is below -2^63 and does not fit in 64 bits.`);
    return BigInt.asUintN(64, v);
  } else {
    throw new SyscageError("BAD_VALUE", `${option}: "${text}" is not a number; write decimal (42), hex (0x2a) or a negative decimal (-1).`);
  }
  if (v > U64_MAX) throw new SyscageError("BAD_VALUE", `${option}: "${text}" does not fit in 64 bits (max 0xffffffffffffffff).`);
  return v;
}

/** Parse `--args a0,a1,…` (at most six u64 values). */
export function parseArgs(text: string): bigint[] {
  const parts = text.split(",");
  if (parts.length > 6) {
    throw new SyscageError("BAD_VALUE", `--args: ${parts.length} values given; a syscall has at most 6 arguments.`);
  }
  return parts.map((p, i) => {
    if (p.trim() === "") throw new SyscageError("BAD_VALUE", `--args: argument ${i} is empty in "${text}"; separate values with commas, e.g. --args 3,0x10,-1.`);
    return parseU64(p, `--args (argument ${i})`);
  });
}

/** Parse `--nr N`: the int seccomp_data.nr (decimal, hex, or negative like -1). */
function parseNr(text: string): number {
  const t = text.trim();
  if (/^-[0-9]+$/.test(t)) {
    const n = Number(t);
    if (n >= -0x80000000) return n >>> 0;
  } else if (/^(?:0x[0-9a-f]+|[0-9]+)$/i.test(t)) {
    const n = Number(t);
    if (Number.isSafeInteger(n) && n <= 0xffffffff) return n;
  } else {
    throw new SyscageError("BAD_VALUE", `--nr: "${text}" is not a syscall number; write decimal (59), hex (0x3b) or -1.`);
  }
  throw new SyscageError("BAD_VALUE", `--nr: "${text}" does not fit in seccomp_data.nr (32 bits).`);
}

function hex32(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, "0")}`;
}


function runDisasm(file: string, opts: DisasmOpts): void {
  const arch: AbiName | undefined = opts.arch !== undefined ? parseAbi(opts.arch) : undefined;
  // In the byte order of --arch's machine (what `syscage compile` writes for it) or the host's, unless only the other one gives a valid program.
  const insns = readProgramFileAnyOrder(file, arch !== undefined ? getAbi(arch).endian : hostEndian());
  process.stdout.write(disassemble(insns, arch !== undefined ? { arch } : {}));
  // The disassembly is printed either way (it helps to see what is wrong); a program the kernel would refuse also fails the command, so scripts notice.
  const first = verify(insns)[0];
  if (first !== undefined) {
    process.stderr.write(`syscage: warning: ${file}: the program would not load: instruction ${first.index}: ${first.rule}: ${first.message} (syscage verify ${file} lists every problem)\n`);
    process.exitCode = 1;
  }
}

function runAsm(file: string, opts: AsmOpts): void {
  const arch: AbiName | undefined = opts.arch !== undefined ? parseAbi(opts.arch) : undefined;
  const path = file === "-" ? "/dev/stdin" : file;
  const name = file === "-" ? "<stdin>" : file;
  const { insns, lines } = assembleProgram(readInputText(path, "assembly"), name, arch !== undefined ? { arch } : {});
  if (insns.length === 0) throw new SyscageError("BPF_ASM", `${name}: no instructions; a seccomp program needs at least one (e.g. ret ALLOW)`);
  const findings = verify(insns);
  if (findings.length > 0) {
    // The first finding is the one the kernel fails on; name its line.
    const f = findings[0]!;
    const line = lines[Math.min(f.index, lines.length - 1)]!;
    const more = findings.length > 1 ? ` (and ${findings.length - 1} more problem${findings.length > 2 ? "s" : ""}: syscage verify lists them all)` : "";
    throw new SyscageError("BPF_VERIFY", `${name}:${line}: instruction ${f.index}: the kernel would refuse this program: ${f.rule}: ${f.message}${more}`);
  }
  const endian = arch !== undefined ? getAbi(arch).endian : hostEndian();
  const bytes = encodeProgram(insns, endian);
  if (opts.output !== undefined) writeFileSync(opts.output, bytes);
  if (opts.json === true) {
    printJson({
      source: name,
      ...(opts.output !== undefined ? { output: opts.output } : {}),
      byteOrder: endian,
      instructions: insns.map((i, n) => ({ line: lines[n], code: i.code, jt: i.jt, jf: i.jf, k: i.k >>> 0 })),
      program: Buffer.from(bytes).toString("hex"),
    });
    return;
  }
  if (opts.output !== undefined) return;
  if (process.stdout.isTTY === true) throw new SyscageError("BAD_USAGE", "refusing to write a raw BPF program to the terminal; give -o FILE.bpf or pipe the output");
  process.stdout.write(bytes);
}

/** Findings `verify` prints as text before "… and N more findings" (--json has them all). */
export const VERIFY_SHOWN = 20;

/** An ABI of byte order `endian` to suggest for --arch: this host's when it has that order. */
function exampleAbi(endian: "little" | "big"): AbiName {
  const host = hostAbiIfKnown();
  if (host !== undefined && getAbi(host).endian === endian) return host;
  return endian === "little" ? "x86_64" : "s390x";
}

function runVerify(file: string, opts: VerifyOpts): void {
  // Exactly as the kernel of a machine of --arch (default: this one) reads the file.
  const arch: AbiName | undefined = opts.arch !== undefined ? parseAbi(opts.arch) : undefined;
  const endian = arch !== undefined ? getAbi(arch).endian : hostEndian();
  const buf = readInputFile(file, "program");
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const insns = decodeProgram(bytes, file, endian);
  const findings = verify(insns);
  // A file written in the other byte order breaks a rule on (nearly) every instruction; one line says what is wrong instead.
  const other = endian === "little" ? "big" : "little";
  const otherOrder = findings.length > 0 && verify(decodeProgram(bytes, file, other)).length === 0;
  if (findings.length > 0) process.exitCode = 1;
  if (opts.json === true) printJson({ file, valid: findings.length === 0, instructions: insns.length, findings });
  if (otherOrder) {
    const whose = arch !== undefined ? `${arch}'s order` : "this host's order";
    process.stderr.write(
      `syscage: ${file}: read as ${endian}-endian (${whose}) it is not a valid program; read as ${other}-endian it is: the file was written for a ${other}-endian ABI (give --arch ${exampleAbi(other)}, or the ABI it was compiled for)\n`,
    );
    return;
  }
  if (opts.json === true) return;
  if (findings.length === 0) {
    process.stdout.write(`${file}: valid (${insns.length} instructions)\n`);
    return;
  }
  const lines = findings.slice(0, VERIFY_SHOWN).map((f) => `${file}: instruction ${f.index}: ${f.rule}: ${f.message}\n`);
  const more = findings.length - VERIFY_SHOWN;
  if (more > 0) lines.push(`${file}: … and ${more} more finding${more === 1 ? "" : "s"} (--json lists them all)\n`);
  process.stdout.write(lines.join(""));
}

/** --arch, or this host's native ABI (the program's own AUDIT_ARCH checks then decide what a call of it gets). */
function emulateAbi(opts: EmulateOpts): AbiName {
  if (opts.arch !== undefined) return parseAbi(opts.arch);
  const host = hostAbiIfKnown();
  if (host === undefined) throw new SyscageError("BAD_USAGE", `emulate: this machine's architecture "${process.arch}" has no seccomp ABI in syscage; give --arch (e.g. --arch x86_64).`);
  return host;
}

function runEmulate(file: string, syscall: string | undefined, opts: EmulateOpts): void {
  const abiName = emulateAbi(opts);
  const abi = getAbi(abiName);
  const given = [syscall !== undefined ? `the syscall argument "${syscall}"` : "", opts.syscall !== undefined ? "--syscall" : "", opts.nr !== undefined ? "--nr" : ""].filter((g) => g !== "");
  if (given.length > 1) {
    throw new SyscageError("BAD_USAGE", `give the syscall once: ${given.join(" and ")} both name one; keep one of them.`);
  }
  let nr: number;
  if (syscall !== undefined) nr = /^\s*(?:-?[0-9]+|0x[0-9a-f]+)\s*$/i.test(syscall) ? parseNr(syscall) : resolveSyscall(abiName, syscall.trim());
  else if (opts.syscall !== undefined) nr = resolveSyscall(abiName, opts.syscall.trim());
  else if (opts.nr !== undefined) nr = parseNr(opts.nr);
  else throw new SyscageError("BAD_USAGE", "say which syscall to emulate: a name after the file (syscage emulate FILE openat), --syscall NAME or --nr N.");
  const args = opts.args !== undefined ? parseArgs(opts.args) : [];
  while (args.length < 6) args.push(0n);
  const ip = opts.ip !== undefined ? parseU64(opts.ip, "--ip") : 0n;

  const insns = readProgramFileAnyOrder(file, abi.endian);
  assertValid(insns, file);
  const data: SeccompData = { nr, arch: abi.auditArch, instructionPointer: ip, args };
  const r = interpret(insns, data, abi.endian, { trace: true });
  const trace = r.trace ?? [];

  if (opts.json === true) {
    printJson({
      action: r.action.action,
      data: r.action.data,
      ret: r.ret,
      steps: r.steps,
      trace: trace.map((s) => ({ pc: s.pc, insn: formatInsn(s.insn, s.pc, insns.length), a: s.a, x: s.x })),
    });
    return;
  }
  const lines = [formatAction(r.action)];
  if (opts.quiet !== true) {
    const width = String(insns.length - 1).length;
    for (const s of trace) {
      const text = formatInsn(s.insn, s.pc, insns.length);
      lines.push(`  ${String(s.pc).padStart(width)}: ${text.padEnd(28)} A=${hex32(s.a)} X=${hex32(s.x)}`);
    }
    lines.push(`${r.steps} instructions executed, returned ${hex32(r.ret)}`);
  }
  process.stdout.write(lines.join("\n") + "\n");
}

/** Add `disasm`, `verify` and `emulate` to the program. */
export function register(program: Command): void {
  program
    .command("disasm")
    .description("print a raw seccomp BPF program (struct sock_filter array) as readable assembly")
    .argument("<file>", "raw BPF program file (8 bytes per instruction, in either byte order)")
    .option("--arch <abi>", "the program's ABI: when the program has no arch check it names syscall numbers and argument halves (e.g. x86_64, aarch64, s390x)")
    .addHelpText(
      "after",
      `
Jump targets are labels L<index>; comments name the seccomp_data field a load
reads, the AUDIT_ARCH a constant is, syscalls (when the arch on that path is
known) and the action a ret returns. The output assembles back bit-exactly.

Exit status: 0 a valid program; 1 an error, or a program the kernel would
refuse at load time (its disassembly is still printed, and one warning line
on stderr names the first problem, as syscage verify would).

Example:
  syscage disasm filter.bpf --arch x86_64`,
    )
    .action((file: string, opts: DisasmOpts) => runDisasm(file, opts));

  program
    .command("asm")
    .description("assemble the text syscage disasm prints (labels, names, comments) into a raw seccomp BPF program, verified with the kernel's rules")
    .argument("<file.s>", "assembly text (- for standard input)")
    .option("-o, --output <file.bpf>", "write the raw program here (default: standard output, never a terminal)")
    .option("--arch <abi>", "write in this ABI's byte order (default: this host's), and number unprefixed syscall names (#openat) on it")
    .option("--json", "print {source, output?, byteOrder, instructions: [{line, code, jt, jf, k}], program (hex)} instead of the raw bytes")
    .addHelpText(
      "after",
      `
The language is disasm's: one instruction per line, labels "NAME:", comments
from ";". Constants are #decimal, #0xhex, or names: #AUDIT_ARCH_X86_64,
#X32_SYSCALL_BIT, syscalls (#openat: numbered on --arch, or on the ABI of the
last AUDIT_ARCH compared above; #x32:read names the ABI). ret takes #k, a, or
an action: ALLOW, ERRNO(1), KILL_PROCESS, TRAP(5), LOG, …; jne/jlt/jle swap
the targets of jeq/jge/jgt; .insn CODE, JT, JF, K writes any raw instruction.

The program is checked as the kernel checks it at load time (syscage verify);
a program the kernel would refuse is an error naming the line. disasm's
output assembles back to the same bytes.

Exit status: 0 written; 1 an error (its line is named).

Examples:
  syscage disasm filter.bpf | syscage asm - -o same.bpf
  syscage asm filter.s -o filter.bpf --arch x86_64`,
    )
    .action((file: string, opts: AsmOpts) => runAsm(file, opts));

  program
    .command("verify")
    .description("check a raw seccomp BPF program with the kernel's load-time rules (bpf_check_classic + seccomp_check_filter)")
    .argument("<file>", "raw BPF program file (8 bytes per instruction; host byte order, or --arch's)")
    .option("--arch <abi>", "read the file in the byte order of this ABI's machine (e.g. s390x for a program compiled for it)")
    .option("--json", "print {file, valid, instructions, findings} as JSON")
    .addHelpText(
      "after",
      `
Prints "FILE: valid (N instructions)" and exits 0, or one line per problem
"FILE: instruction I: RULE: MESSAGE" and exits 1. The first problem listed is
the one the kernel would fail on (EINVAL). At most ${VERIFY_SHOWN} problems are listed,
then "FILE: … and N more findings"; --json has every one.

A file that is a valid program only in the other byte order (written for a
machine of the other endianness) gets one line on stderr saying so and which
--arch reads it, and exits 1.

Exit status: 0 valid; 1 invalid, or an error.`,
    )
    .action((file: string, opts: VerifyOpts) => runVerify(file, opts));

  program
    .command("emulate")
    .description("run a raw seccomp BPF program on one syscall, exactly as the kernel would, and print the action")
    .argument("<file>", "raw BPF program file (8 bytes per instruction, in either byte order)")
    .argument("[syscall]", "the syscall: a name numbered for --arch (openat), or a number as seen in seccomp_data.nr (257, 0x101, -1); the same as --syscall / --nr")
    .option(
      "--arch <abi>",
      `ABI of the syscall: sets seccomp_data.arch and the byte order of seccomp_data and of the file (e.g. x86_64, x86, x32, aarch64, s390x; default: this host's ABI${hostAbiIfKnown() !== undefined ? `, ${hostAbiIfKnown()}` : ""})`,
    )
    .option("--syscall <name>", "syscall by name, numbered for --arch (e.g. openat)")
    .option("--nr <n>", "syscall number as seen in seccomp_data.nr (decimal, 0x hex, or -1)")
    .option(
      "--args <list>",
      "up to 6 comma-separated u64 arguments; decimal, 0x hex, or negative decimal meaning 64-bit two's complement (-1 = 0xffffffffffffffff); missing ones are 0",
    )
    .option("--ip <n>", "instruction pointer (u64, same syntax as --args; default 0)")
    .option("--quiet", "print only the action")
    .option("--json", "print {action, data, ret, steps, trace} as JSON")
    .addHelpText(
      "after",
      `
The first line is the action: ALLOW, ERRNO(1), KILL_PROCESS, KILL_THREAD,
TRAP(n), TRACE(n), LOG or USER_NOTIF; then the executed instructions with A and
X after each. The program is verified first; an invalid program is an error.

Without --arch the call is one of this host's native ABI; a program that
checks seccomp_data.arch and does not list that ABI decides what it gets, as
the kernel would (usually its bad-arch action).

Examples:
  syscage emulate filter.bpf read
  syscage emulate filter.bpf --arch x86_64 --syscall openat --args -100,0x7ffd0000,0
  syscage emulate filter.bpf --arch x32 --nr 0x40000002 --quiet`,
    )
    .action((file: string, syscall: string | undefined, opts: EmulateOpts) => runEmulate(file, syscall, opts));
}
