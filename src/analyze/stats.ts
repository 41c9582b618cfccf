/**
 * Statistics of a compiled program per ABI: its size, how many instructions
 * a syscall executes (average and worst case), and how many syscalls the
 * kernel's constant-action cache (Linux ≥ 5.11) would let skip BPF.
 */
import { getAbi, type AbiName } from "../abi/arch.js";
import type { ArgWidth } from "../abi/argtypes.js";
import { syscallNumber, syscallTable } from "../abi/tables.js";
import { SECCOMP_RET_ALLOW, formatAction } from "../bpf/actions.js";
import { isConstAllow } from "../bpf/cache.js";
import type { Insn } from "../bpf/insn.js";
import { evaluateStack, interpret } from "../bpf/interpret.js";
import { conditionWidth, decide, rulesFor } from "../policy/evaluate.js";
import { formatPolicyAction, ruleAbis, type Policy } from "../policy/model.js";

/**
 * ABIs whose calls the kernel never caches: x32 numbers carry bit 30, beyond
 * the native (x86_64) bitmap, so they always run the filter; MIPS (every
 * ABI) and SuperH define no SECCOMP_ARCH_NATIVE, so they have no cache at all.
 * Every other ABI is the native or compat arch of some kernel that has one.
 */
const NOT_CACHED: Readonly<Partial<Record<AbiName, string>>> = {
  x32: "x32 numbers (bit 30 set) are beyond the native x86_64 bitmap; the kernel never caches them",
  mips: "the MIPS kernel has no seccomp action cache",
  mipsel: "the MIPS kernel has no seccomp action cache",
  mips64: "the MIPS kernel has no seccomp action cache",
  mipsel64: "the MIPS kernel has no seccomp action cache",
  mips64n32: "the MIPS kernel has no seccomp action cache",
  mipsel64n32: "the MIPS kernel has no seccomp action cache",
  sh: "the SuperH kernel has no seccomp action cache",
  sheb: "the SuperH kernel has no seccomp action cache",
};

/** Instructions executed per syscall number, over a set of numbers. */
export interface ExecutedStats {
  /** Mean over the numbers measured. */
  readonly avg: number;
  /** Worst case over the numbers measured. */
  readonly max: number;
  /** The number (as in seccomp_data.nr) that takes `max` steps (the lowest such). */
  readonly maxNr: number;
  /**
   * How many numbers were measured: every number from the ABI's first
   * (its offset) to its highest table number, gaps (unknown numbers) included.
   */
  readonly numbers: number;
}

/** The kernel's constant-action cache for one ABI. */
export interface CacheStats {
  /** False when the kernel has no cache for this ABI (then `cacheable` is empty). */
  readonly modelled: boolean;
  /** Why nothing is cached, when `modelled` is false. */
  readonly reason?: string;
  /** Syscalls of the table the kernel would answer ALLOW without running BPF, by name, in number order. */
  readonly cacheable: readonly string[];
  /** Size of the ABI's syscall table (the denominator of `cacheable.length`). */
  readonly tableSize: number;
  /** Every syscall of the table in number order: cacheable or not, and why not. */
  readonly syscalls: readonly CacheEntry[];
}

/** One syscall of the table and the kernel's cache. */
export interface CacheEntry {
  readonly name: string;
  /** As seen in seccomp_data.nr. */
  readonly nr: number;
  readonly cacheable: boolean;
  /**
   * Why it is not cacheable: "decision is ERRNO(EPERM), not ALLOW" (the
   * kernel caches only ALLOW), "argument-dependent (socket: ORIGIN)", or the
   * ABI's reason when the kernel caches nothing for it.
   */
  readonly why?: string;
}

/**
 * The policy's argument conditions on one ABI and how many of them are
 * narrowed: compared on fewer bits than the argument register holds because
 * the argument's declared type is narrower (`argumentWidth: "kernel"`:
 * `int` 32 bits, `umode_t` 16 bits on a 64-bit ABI; 16 bits on a 32-bit one).
 */
export interface ConditionWidthStats {
  /** Conditions of the rules whose syscall exists on the ABI. */
  readonly conditions: number;
  /** Those compared on fewer bits than the register width. */
  readonly narrowed: number;
  /** Narrowed conditions by the width compared. */
  readonly byWidth: Readonly<Partial<Record<ArgWidth, number>>>;
}

/** Statistics of one ABI. */
export interface AbiStats {
  readonly abi: AbiName;
  /** The policy's conditions and how many are narrowed (only with the policy). */
  readonly conditions?: ConditionWidthStats;
  /** Instructions in the whole program (all ABIs share one program). */
  readonly instructions: number;
  /** Executed instructions, each syscall run with all six arguments and the IP zero. */
  readonly executed: ExecutedStats;
  readonly cache: CacheStats;
}

/**
 * Statistics of `insns` for each ABI in `abis`.
 *
 * Executed counts run our interpreter on every number from the ABI's offset
 * to its highest table number (so unknown numbers in that range count too),
 * with arch = the ABI's AUDIT_ARCH and **all arguments zero**: for a
 * syscall whose decision depends on its arguments this is the path for
 * zero arguments, not necessarily the longest one.
 *
 * Cacheable syscalls: those numbers of the table for which the kernel's
 * emulator ({@link isConstAllow}) proves the program returns ALLOW; none on
 * ABIs the kernel does not cache (x32, MIPS, SuperH; see {@link CacheStats}).
 * With the `policy` the program was compiled from, each syscall that is not
 * cacheable says why in policy terms (its decision, or the rules whose
 * conditions make it argument-dependent); without it, in program terms.
 */
export function programStats(insns: readonly Insn[], abis: readonly AbiName[], policy?: Policy): AbiStats[] {
  return statsOf([insns], abis, policy);
}

/**
 * Statistics of a filter stack (oldest first), as the kernel runs it: every
 * filter runs on every syscall, so the executed counts add up over the
 * filters; a syscall is cacheable only when every filter const-allows it
 * (each filter's bitmap starts from its predecessor's, {@link cachedSyscalls}).
 * `instructions` is the total over the filters. Reasons are in program terms
 * (the filter that decides, or the one that reads more than nr and arch).
 */
export function stackStats(programs: readonly (readonly Insn[])[], abis: readonly AbiName[]): AbiStats[] {
  return statsOf(programs, abis, undefined);
}

function statsOf(programs: readonly (readonly Insn[])[], abis: readonly AbiName[], policy: Policy | undefined): AbiStats[] {
  return abis.map((abi) => {
    const info = getAbi(abi);
    const table = syscallTable(abi);
    const first = info.nrOffset;
    const last = table.length > 0 ? table[table.length - 1]!.nr : first;
    let total = 0;
    let max = -1;
    let maxNr = first;
    for (let nr = first; nr <= last; nr++) {
      let steps = 0;
      for (const insns of programs) steps += interpret(insns, { nr, arch: info.auditArch, instructionPointer: 0n, args: [0n, 0n, 0n, 0n, 0n, 0n] }, info.endian).steps;
      total += steps;
      if (steps > max) {
        max = steps;
        maxNr = nr;
      }
    }
    const numbers = last - first + 1;
    const reason = NOT_CACHED[abi];
    const syscalls: CacheEntry[] = table.map((e) => {
      if (reason !== undefined) return { name: e.name, nr: e.nr, cacheable: false, why: reason };
      if (programs.every((insns) => isConstAllow(insns, info.auditArch, e.nr))) return { name: e.name, nr: e.nr, cacheable: true };
      return { name: e.name, nr: e.nr, cacheable: false, why: programs.length === 1 ? notCacheableWhy(programs[0]!, abi, e.name, e.nr, policy) : stackNotCacheableWhy(programs, abi, e.nr) };
    });
    const cacheable = syscalls.filter((e) => e.cacheable).map((e) => e.name);
    const cache: CacheStats =
      reason === undefined
        ? { modelled: true, cacheable, tableSize: table.length, syscalls }
        : { modelled: false, reason, cacheable, tableSize: table.length, syscalls };
    return {
      abi,
      ...(policy !== undefined ? { conditions: conditionWidthStats(policy, abi) } : {}),
      instructions: programs.reduce((n, p) => n + p.length, 0),
      executed: { avg: total / numbers, max, maxNr, numbers },
      cache,
    };
  });
}

/** Why a stack does not let the kernel cache `nr`: the first filter (oldest first) that is not const-ALLOW for it. */
function stackNotCacheableWhy(programs: readonly (readonly Insn[])[], abi: AbiName, nr: number): string {
  const info = getAbi(abi);
  const zero = [0n, 0n, 0n, 0n, 0n, 0n];
  const r = evaluateStack(programs, { nr, arch: info.auditArch, instructionPointer: 0n, args: zero }, info.endian);
  if (r.ret >>> 0 !== SECCOMP_RET_ALLOW) return `decision is ${formatAction(r.ret)} (filter ${r.decidedBy + 1} of ${programs.length}), not ALLOW`;
  const k = programs.findIndex((p) => !isConstAllow(p, info.auditArch, nr));
  return `argument-dependent (filter ${k + 1} of ${programs.length} reads more than nr and arch before allowing it)`;
}

/** How many of the policy's conditions on `abi` compare fewer bits than the register (see {@link ConditionWidthStats}). */
export function conditionWidthStats(policy: Policy, abi: AbiName): ConditionWidthStats {
  const reg = getAbi(abi).argBits;
  let conditions = 0;
  let narrowed = 0;
  const byWidth: Partial<Record<ArgWidth, number>> = {};
  for (const r of policy.rules) {
    if (syscallNumber(abi, r.syscall) === undefined || (r.abis !== undefined && !r.abis.includes(abi))) continue;
    for (const c of r.conditions) {
      conditions++;
      const w = conditionWidth(policy, abi, r.syscall, c.arg);
      if (w >= reg) continue;
      narrowed++;
      byWidth[w] = (byWidth[w] ?? 0) + 1;
    }
  }
  return { conditions, narrowed, byWidth };
}

/** Why the kernel cannot cache `name` (which it does not): in policy terms when the policy is known. */
function notCacheableWhy(insns: readonly Insn[], abi: AbiName, name: string, nr: number, policy: Policy | undefined): string {
  const info = getAbi(abi);
  const zero = [0n, 0n, 0n, 0n, 0n, 0n];
  if (policy === undefined) {
    const r = interpret(insns, { nr, arch: info.auditArch, instructionPointer: 0n, args: zero }, info.endian);
    if (r.ret >>> 0 !== SECCOMP_RET_ALLOW) return `decision is ${formatAction(r.ret)}, not ALLOW`;
    return "argument-dependent (the program reads more than nr and arch before allowing it)";
  }
  const onAbi = { ...policy, abis: [abi] };
  const rules = rulesFor(policy, abi, name)
    .map((a) => a.rule)
    .filter((r) => ruleAbis(r, onAbi).length > 0);
  const d = decide(policy, { arch: info.auditArch, nr, args: zero });
  const canAllow = rules.some((r) => r.action.kind === "ALLOW") || (policy.default.action.kind === "ALLOW" && !rules.some((r) => r.conditions.length === 0));
  if (d.action.kind !== "ALLOW" && !canAllow) return `decision is ${formatPolicyAction(d.action)}, not ALLOW`;
  const conditional = [...new Set(rules.filter((r) => r.conditions.length > 0).map((r) => r.origin))];
  if (conditional.length > 0) return `argument-dependent (${name}: ${conditional.join("; ")})`;
  if (d.action.kind === "ALLOW") return "the program reads more than nr and arch on the path to its ALLOW";
  return `decision is ${formatPolicyAction(d.action)}, not ALLOW`;
}
