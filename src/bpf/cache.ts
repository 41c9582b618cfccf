/**
 * A model of the kernel's constant-action cache (Linux ≥ 5.11,
 * `seccomp_is_const_allow` / `seccomp_cache_prepare` in kernel/seccomp.c).
 * When a filter is attached the kernel emulates it for every syscall number
 * with only `nr` and `arch` known; numbers for which every filter in the stack
 * surely returns SECCOMP_RET_ALLOW skip BPF entirely afterwards.
 */
import { SECCOMP_RET_ALLOW } from "./actions.js";
import type { Insn } from "./insn.js";

/**
 * True when the kernel's emulator proves that `insns` returns exactly
 * SECCOMP_RET_ALLOW for this arch and nr. The emulator understands only:
 * `ld [0]` (A = nr), `ld [4]` (A = arch) — any other `ld [k]` gives up —
 * `ret #k` (const-allow iff k == SECCOMP_RET_ALLOW, data included), `ja`,
 * `jeq/jge/jgt/jset #k`, and `and #k`; every other instruction (including
 * `ret a`, comparisons with X, other ALU) gives up, as does running off the end.
 *
 * Not modelled: the uretprobe/uprobe exception of recent kernels, which
 * treats those syscalls on the native arch as always allowed.
 */
export function isConstAllow(insns: readonly Insn[], arch: number, nr: number): boolean {
  const len = insns.length;
  let a = 0;
  const archU = arch >>> 0;
  const nrU = nr >>> 0;
  for (let pc = 0; pc < len; pc++) {
    const ins = insns[pc]!;
    const k = ins.k >>> 0;
    switch (ins.code) {
      case 0x20: // ld [k]
        if (k === 0) a = nrU;
        else if (k === 4) a = archU;
        else return false;
        break;
      case 0x06: // ret #k
        return k === SECCOMP_RET_ALLOW;
      case 0x05: // ja
        pc += k;
        break;
      case 0x15: // jeq #k
        pc += a === k ? ins.jt : ins.jf;
        break;
      case 0x35: // jge #k
        pc += a >= k ? ins.jt : ins.jf;
        break;
      case 0x25: // jgt #k
        pc += a > k ? ins.jt : ins.jf;
        break;
      case 0x45: // jset #k
        pc += (a & k) !== 0 ? ins.jt : ins.jf;
        break;
      case 0x54: // and #k
        a = (a & k) >>> 0;
        break;
      default:
        return false;
    }
  }
  return false; // ran off the end
}

/**
 * The syscall numbers the kernel would cache as always-allowed for `arch`
 * with this filter stack: a number is cached only if EVERY filter const-allows
 * it (each filter's bitmap starts from its predecessor's).
 *
 * The kernel builds bitmaps only for the native arch (SECCOMP_ARCH_NATIVE) and
 * the compat arch (SECCOMP_ARCH_COMPAT), for numbers 0 .. table size - 1
 * (SECCOMP_ARCH_NATIVE_NR / _COMPAT_NR); x32 calls (bit 30) are never cached.
 * Callers pass the numbers that apply; this function does not filter them.
 * An empty stack caches every number given (the kernel's bitmap starts full).
 */
export function cachedSyscalls(stack: readonly (readonly Insn[])[], arch: number, nrs: Iterable<number>): Set<number> {
  const out = new Set<number>();
  for (const nr of nrs) {
    if (stack.every((p) => isConstAllow(p, arch, nr))) out.add(nr);
  }
  return out;
}
