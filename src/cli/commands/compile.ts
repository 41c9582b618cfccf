/**
 * Commands over policy files (docs/policy-format.md):
 *
 * - `syscage compile [policy options] [--format raw|disasm|c|json] [-o FILE]`
 *   compile a policy to a seccomp program
 * - `syscage stats [policy options] [--json]`, `syscage stats FILE.bpf|pid:N [--arch LIST]`
 *   size, executed instructions and kernel-cacheable syscalls per ABI (of a
 *   policy's program, a raw program, or a running process's filter stack)
 */
import { writeFileSync } from "node:fs";
import { extname } from "node:path";
import type { Command } from "commander";
import { getAbi, localAbis } from "../../abi/arch.js";
import { programStats, stackStats, type AbiStats } from "../../analyze/stats.js";
import { readProgramFileAnyOrder } from "../../bpf/codec.js";
import { assertValid } from "../../bpf/verify.js";
import { compile, type CompiledProgram } from "../../compile/index.js";
import { SyscageError, didYouMean, suggest } from "../../errors.js";
import { PROGRAM_FORMATS, formatProgram, type ProgramFormat } from "../../export/program.js";
import type { Policy } from "../../policy/model.js";
import { formatTable, printJson } from "../output.js";
import { isPidSource, loadPidStack } from "../pid-source.js";
import { POLICY_OPTIONS } from "../policy-option-table.js";
import { addPolicyOptions, loadPolicy, parsePolicyArch, type PolicyOptionValues } from "../policy-options.js";

interface CompileOpts extends PolicyOptionValues {
  format?: string;
  output?: string;
}

interface StatsOpts extends PolicyOptionValues {
  json?: boolean;
  list?: boolean;
}

/**
 * The format to write: `--format` when given; else by the extension of
 * `-o` (.c/.h → c, .json → json, .s/.asm/.txt → disasm, anything else → raw);
 * else disasm on stdout.
 */
export function chooseFormat(format: string | undefined, output: string | undefined): ProgramFormat {
  if (format !== undefined) {
    const f = format.trim().toLowerCase();
    if ((PROGRAM_FORMATS as readonly string[]).includes(f)) return f as ProgramFormat;
    throw new SyscageError("BAD_USAGE", `--format: unknown format "${format}".${didYouMean(suggest(f, PROGRAM_FORMATS))} Formats: ${PROGRAM_FORMATS.join(", ")}`);
  }
  if (output === undefined) return "disasm";
  switch (extname(output).toLowerCase()) {
    case ".c":
    case ".h":
      return "c";
    case ".json":
      return "json";
    case ".s":
    case ".asm":
    case ".txt":
      return "disasm";
    default:
      return "raw";
  }
}

function compilePolicy(opts: PolicyOptionValues): { prog: CompiledProgram; source: string; policy: Policy } {
  const { policy, warnings, source } = loadPolicy(opts);
  for (const w of warnings) process.stderr.write(`syscage: warning: ${w}\n`);
  const prog = compile(policy);
  for (const w of prog.warnings) process.stderr.write(`syscage: warning: ${w}\n`);
  return { prog, source, policy };
}

function runCompile(opts: CompileOpts): void {
  const format = chooseFormat(opts.format, opts.output);
  if (format === "raw" && opts.output === undefined && process.stdout.isTTY === true) {
    throw new SyscageError("BAD_USAGE", "refusing to write a raw BPF program to the terminal; give -o FILE.bpf, pipe the output, or use --format disasm");
  }
  const { prog, source } = compilePolicy(opts);
  const data = formatProgram(prog, format, source);
  if (opts.output !== undefined) writeFileSync(opts.output, data);
  else process.stdout.write(data);
}

/** The stats as printed by `--json` (counts, and `cache.syscalls`: every syscall, cacheable or not and why). */
function statsJson(policy: string, stats: readonly AbiStats[]): unknown {
  return {
    policy,
    args: "zero",
    abis: stats.map((s) => ({
      abi: s.abi,
      instructions: s.instructions,
      ...(s.conditions !== undefined ? { conditions: s.conditions } : {}),
      executed: { avg: Math.round(s.executed.avg * 100) / 100, max: s.executed.max, maxNr: s.executed.maxNr, numbers: s.executed.numbers },
      cache: {
        modelled: s.cache.modelled,
        ...(s.cache.reason !== undefined ? { reason: s.cache.reason } : {}),
        cacheable: s.cache.cacheable.length,
        tableSize: s.cache.tableSize,
        syscalls: s.cache.syscalls.map((e) => ({ name: e.name, nr: e.nr, cacheable: e.cacheable, ...(e.why !== undefined ? { why: e.why } : {}) })),
      },
    })),
  };
}

/** `stats FILE.bpf|pid:N`: the stack's statistics on --arch's ABIs (default the host's). */
function sourceStats(source: string, opts: StatsOpts): { stats: AbiStats[]; label: string } {
  const given = POLICY_OPTIONS.filter((o) => o.attr !== "arch" && opts[o.attr] !== undefined).map((o) => `--${o.name}`);
  if (given.length > 0) throw new SyscageError("BAD_USAGE", `stats of ${source}: ${given.join(", ")} cannot apply to a program (only --arch); drop them, or drop ${source} for the stats of the policy they make`);
  const abis = opts.arch !== undefined ? parsePolicyArch(opts.arch) : [...localAbis()];
  if (isPidSource(source)) {
    const s = loadPidStack(source);
    return { stats: stackStats(s.programs, abis), label: s.label };
  }
  const insns = readProgramFileAnyOrder(source, getAbi(abis[0]!).endian);
  assertValid(insns, source);
  return { stats: programStats(insns, abis), label: `${source} (raw program)` };
}

function runStats(source: string | undefined, opts: StatsOpts): void {
  let stats: AbiStats[];
  let label: string;
  if (source !== undefined) ({ stats, label } = sourceStats(source, opts));
  else {
    const { prog, source: policySource, policy } = compilePolicy(opts);
    stats = programStats(prog.insns, prog.abis, policy);
    label = policySource;
  }
  const source_ = label;
  if (opts.json === true) {
    printJson(statsJson(source_, stats));
    return;
  }
  const rows: string[][] = [["ABI", "instructions", "executed avg", "executed max", "kernel-cacheable"]];
  for (const s of stats) {
    rows.push([
      s.abi,
      String(s.instructions),
      s.executed.avg.toFixed(1),
      String(s.executed.max),
      s.cache.modelled ? `${s.cache.cacheable.length} of ${s.cache.tableSize}` : `0 of ${s.cache.tableSize} (no kernel cache)`,
    ]);
  }
  const notes = stats.filter((s) => !s.cache.modelled).map((s) => `${s.abi}: ${s.cache.reason ?? ""}`);
  const narrowed = stats
    .filter((s) => s.conditions !== undefined && s.conditions.conditions > 0)
    .map((s) => {
      const c = s.conditions!;
      const by = Object.entries(c.byWidth).map(([w, n]) => `${n} on ${w} bits`).join(", ");
      return `${s.abi} ${c.narrowed} of ${c.conditions}${by === "" ? "" : ` (${by})`}`;
    });
  process.stdout.write(
    formatTable(rows) +
      "\n\nexecuted: instructions run per syscall number (every table number and the unknown numbers between), arguments all zero\n" +
      "kernel-cacheable: syscalls the kernel's action cache (Linux >= 5.11) allows without running BPF\n" +
      notes.map((n) => `${n}\n`).join("") +
      (narrowed.length > 0 ? `narrowed conditions (compare only the bits the argument's C type keeps): ${narrowed.join("; ")}\n` : "") +
      (opts.list === true ? stats.map(cacheList).join("") : ""),
  );
}

/** `--list`: the cacheable syscalls of one ABI, then each one that is not, with why. */
function cacheList(s: AbiStats): string {
  const yes = s.cache.syscalls.filter((e) => e.cacheable);
  const no = s.cache.syscalls.filter((e) => !e.cacheable);
  const out = [`\n${s.abi}: ${yes.length} cacheable, ${no.length} not cacheable`];
  if (!s.cache.modelled) {
    out.push(`  not cacheable: all ${no.length}: ${s.cache.reason ?? ""}`);
    return out.join("\n") + "\n";
  }
  if (yes.length > 0) {
    out.push("  cacheable:");
    let line = "   ";
    for (const e of yes) {
      if (line.length + e.name.length + 1 > 100) {
        out.push(line);
        line = "   ";
      }
      line += ` ${e.name}`;
    }
    out.push(line);
  }
  if (no.length > 0) {
    out.push("  not cacheable:");
    out.push(formatTable(no.map((e) => [`    ${e.name}`, e.why ?? ""])));
  }
  return out.join("\n") + "\n";
}

/** Add `compile` and `stats` to the program. */
export function register(program: Command): void {
  addPolicyOptions(program.command("compile"))
    .description("compile a policy (default: the nspawn default for this host's ABIs) into a seccomp BPF program")
    .option("--format <format>", "raw | disasm | c | json (default: disasm on stdout; with -o, chosen by the file extension)")
    .option("-o, --output <file>", "write to FILE instead of stdout")
    .addHelpText(
      "after",
      `
Formats:
  raw     the program as struct sock_filter[] bytes, in the byte order of the
          first ABI (the machine that loads it) — what seccomp(2) takes
  disasm  readable assembly (syscage disasm's syntax; assembles back)
  c       a C array struct sock_filter filter[] of BPF_STMT/BPF_JUMP, a
          struct sock_fprog, and SYSCAGE_FILTER_FLAGS
  json    {policy, abis, flags, flagsValue, instructions: [{code, jt, jf, k}],
          sourceMap, warnings}

Without --format: disasm on stdout; with -o the extension decides: .c/.h → c,
.json → json, .s/.asm/.txt → disasm, anything else (.bpf) → raw. Raw bytes
are never written to a terminal. Compiler warnings go to stderr.

Examples:
  syscage compile --format raw -o nspawn.bpf        (the nspawn default)
  syscage compile --system-call-filter='~@clock' --drop-capability=CAP_SYS_BOOT
  syscage compile -p 'SystemCallFilter=@system-service' -p 'SystemCallErrorNumber=EPERM'
  syscage compile --policy policy.json
  syscage compile --policy policy.json --arch x86_64,x86,x32 -o filter.bpf
  syscage compile --policy policy.json --format c -o filter.h`,
    )
    .action((opts: CompileOpts) => runCompile(opts));

  addPolicyOptions(program.command("stats"))
    .description("compile a policy (or take a raw program, or a running process's filter stack) and show, per ABI, its size, instructions executed per syscall, and kernel-cacheable syscalls")
    .argument("[source]", "instead of a policy: FILE.bpf (a raw program) or pid:N (the filter stack of running process N; executed counts add up over its filters, a syscall is cacheable only if every filter allows it)")
    .option("--list", "also list, per ABI, the cacheable syscalls and each one that is not, with why")
    .option("--json", "print {policy, args, abis: [{abi, instructions, executed: {avg, max, maxNr, numbers}, cache: {modelled, reason?, cacheable, tableSize, syscalls: [{name, nr, cacheable, why?}]}}]}")
    .addHelpText(
      "after",
      `
executed: the program is run by syscage's interpreter on every syscall number
of the ABI from its first to its highest table number (unknown numbers in
between included), with all arguments zero — for argument-dependent rules that
is the zero-argument path. avg and max are over those numbers.

kernel-cacheable: the syscalls of the ABI's table for which the kernel's
action cache (Linux >= 5.11) proves the filter returns ALLOW from nr and arch
alone, so they skip BPF. x32 calls are never cached (their numbers lie beyond
the x86_64 bitmap); MIPS and SuperH kernels have no cache.

--list (and cache.syscalls in --json) says why each other syscall is not
cacheable: its decision is not ALLOW ("decision is ERRNO(EPERM), not ALLOW":
the kernel caches only ALLOW), it is argument-dependent ("argument-dependent
(socket: nspawn audit rule …)": the filter must read the arguments), or the
ABI has no cache at all.

Examples:
  syscage stats --list
  syscage stats --json --arch x86_64 | jq '.abis[0].cache.syscalls[] | select(.cacheable | not)'
  syscage stats pid:4242                    (the stack a running process really has)`,
    )
    .action((source: string | undefined, opts: StatsOpts) => runStats(source, opts));
}
