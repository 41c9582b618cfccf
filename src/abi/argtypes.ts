/**
 * Declared C types of syscall arguments per ABI, and how many low bits of the
 * argument register the kernel keeps when it converts the register to that
 * type (`__SC_CAST` in include/linux/syscalls.h). Generated from Linux
 * v7.3-rc7's SYSCALL_DEFINE declarations by scripts/gen-argtypes.ts.
 *
 * - 64-bit ABIs (including x32 and MIPS n32): the declared type's width on
 *   that ABI's kernel: `int` 32, `umode_t` 16, `unsigned long` and pointers 64.
 * - 32-bit ABIs (x86, arm, mips o32, ppc, s390, m68k, sh, parisc): at most 32
 *   bits (the kernel, and the filter, see 32-bit registers; on x86_64 the ia32
 *   stubs cut every register to 32 bits). 16-bit types stay 16 bits, e.g.
 *   `umode_t`, and `old_uid_t` where the ABI declares it 16 bits.
 * - `clone`'s order follows each architecture's Kconfig (CLONE_BACKWARDS on
 *   arm, arm64, mips, parisc, powerpc, riscv; CLONE_BACKWARDS2 on s390; ia32
 *   through `compat_sys_ia32_clone`).
 * - When the data do not cover a syscall or an argument (calls an arch defines
 *   without SYSCALL_DEFINE, `sys_ni_syscall` slots, a 64-bit scalar passed in
 *   two registers on a 32-bit ABI), {@link argType} returns undefined and
 *   callers use the ABI's register width ({@link argWidth}): never narrower
 *   than what the kernel uses.
 */
import { getAbi, type AbiName } from "./arch.js";
import { ARG_C_TYPES, ARG_TYPES_BASE, ARG_TYPES_BY_ABI, ARG_TYPES_KERNEL_VERSION } from "./generated/argtypes.js";

/** How many low bits of an argument register the kernel uses. */
export type ArgWidth = 8 | 16 | 32 | 64;

/** One syscall argument as the kernel declares it on one ABI. */
export interface ArgType {
  /** Parameter name in the kernel source, e.g. "family". */
  readonly name: string;
  /** Declared C type, e.g. "int", "umode_t", "const char __user *". */
  readonly type: string;
  /** Low bits of the register the kernel keeps (capped at 32 on 32-bit ABIs). */
  readonly bits: ArgWidth;
  /** Whether the type is signed (the kernel sign-extends the kept bits). */
  readonly signed: boolean;
}

/** Kernel version the argument types come from. */
export const ARG_TYPES_VERSION: string = ARG_TYPES_KERNEL_VERSION;

const cache = new Map<string, readonly (ArgType | undefined)[] | undefined>();

function toWidth(n: number): ArgWidth {
  if (n === 8 || n === 16 || n === 32 || n === 64) return n;
  throw new Error(`argtypes: unexpected width ${n}`);
}

function decode(enc: string, cap: 32 | 64): readonly (ArgType | undefined)[] | undefined {
  if (enc === "-") return undefined;
  if (enc === "") return [];
  return enc.split(";").map((part) => {
    if (part === "?") return undefined;
    const [name, ti, bs] = part.split(":") as [string, string, string];
    const bits = Math.min(Number.parseInt(bs, 10), cap);
    return Object.freeze({ name, type: ARG_C_TYPES[Number(ti)]!, bits: toWidth(bits), signed: bs.endsWith("s") });
  });
}

/** Every argument of `syscall` on `abi`, or undefined when the data do not cover the syscall. */
export function syscallArgTypes(abi: AbiName, syscall: string): readonly (ArgType | undefined)[] | undefined {
  const k = `${abi}\0${syscall}`;
  if (cache.has(k)) return cache.get(k);
  const own = ARG_TYPES_BY_ABI[abi];
  const enc = own !== undefined && Object.hasOwn(own, syscall) ? own[syscall] : Object.hasOwn(ARG_TYPES_BASE, syscall) ? ARG_TYPES_BASE[syscall] : undefined;
  const out = enc === undefined ? undefined : decode(enc, getAbi(abi).argBits);
  cache.set(k, out);
  return out;
}

/**
 * Argument `index` (0..5) of `syscall` on `abi` as the kernel declares it, or
 * undefined when unknown (no data, or the syscall takes fewer arguments).
 */
export function argType(abi: AbiName, syscall: string, index: number): ArgType | undefined {
  return syscallArgTypes(abi, syscall)?.[index];
}

/**
 * The width the kernel uses for argument `index` of `syscall` on `abi`: the
 * declared type's width, or the ABI's register width when unknown.
 */
export function argWidth(abi: AbiName, syscall: string, index: number): ArgWidth {
  return argType(abi, syscall, index)?.bits ?? getAbi(abi).argBits;
}
