/**
 * Statistics of a compiled program per ABI: its size, how many instructions
 * a syscall executes (average and worst case), and how many syscalls the
 * kernel's constant-action cache (Linux ≥ 5.11) would let skip BPF.
 */
import { getAbi, type AbiName } from "../abi/arch.js";
import { syscallTable } from "../abi/tables.js";
import { isConstAllow } from "../bpf/cache.js";
import type { Insn } from "../bpf/insn.js";
import { interpret } from "../bpf/interpret.js";

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
}

/** Statistics of one ABI. */
export interface AbiStats {
  readonly abi: AbiName;
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
 */
export function programStats(insns: readonly Insn[], abis: readonly AbiName[]): AbiStats[] {
  return abis.map((abi) => {
    const info = getAbi(abi);
    const table = syscallTable(abi);
    const first = info.nrOffset;
    const last = table.length > 0 ? table[table.length - 1]!.nr : first;
    let total = 0;
    let max = -1;
    let maxNr = first;
    for (let nr = first; nr <= last; nr++) {
      const r = interpret(insns, { nr, arch: info.auditArch, instructionPointer: 0n, args: [0n, 0n, 0n, 0n, 0n, 0n] }, info.endian);
      total += r.steps;
      if (r.steps > max) {
        max = r.steps;
        maxNr = nr;
      }
    }
    const numbers = last - first + 1;
    const reason = NOT_CACHED[abi];
    const cacheable = reason === undefined ? table.filter((e) => isConstAllow(insns, info.auditArch, e.nr)).map((e) => e.name) : [];
    const cache: CacheStats =
      reason === undefined ? { modelled: true, cacheable, tableSize: table.length } : { modelled: false, reason, cacheable, tableSize: table.length };
    return {
      abi,
      instructions: insns.length,
      executed: { avg: total / numbers, max, maxNr, numbers },
      cache,
    };
  });
}
