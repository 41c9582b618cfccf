/**
 * Typed bridge to the libseccomp oracle (test/helpers/libseccomp_gen.py, run by
 * Debian's /usr/bin/python3 with python3-seccomp), plus the reference meaning of
 * the rule sets we hand to it: which action a call should get according to the
 * rules themselves, independent of any compiler.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { DEBIAN_PYTHON } from "./oracles.js";

const SCRIPT = fileURLToPath(new URL("./libseccomp_gen.py", import.meta.url));

export type LsAction =
  | "ALLOW"
  | "KILL_THREAD"
  | "KILL_PROCESS"
  | "TRAP"
  | "LOG"
  | "NOTIFY"
  | { ERRNO: number }
  | { TRACE: number };

export type LsOp = "EQ" | "NE" | "LT" | "LE" | "GT" | "GE" | "MASKED_EQ";

export interface LsCond {
  arg: number;
  op: LsOp;
  value: bigint;
  mask?: bigint;
}

export interface LsRule {
  syscall: string;
  action: LsAction;
  args?: LsCond[];
}

export type LsArch = "x86" | "x86_64" | "x32";

export interface LsSpec {
  default: LsAction;
  badarch?: LsAction;
  arches: LsArch[];
  /** libseccomp's CTL_OPTIMIZE: 1 = linear (default), 2 = binary tree. */
  optimize?: 1 | 2;
  rules: LsRule[];
}

export interface LsResult {
  bpf: Uint8Array;
  /** libseccomp's number for each rule's syscall on each arch (null: absent). */
  numbers: Record<string, Record<string, number | null>>;
  errors: string[];
}

function py(input: unknown): string {
  const text = JSON.stringify(input, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  return execFileSync(DEBIAN_PYTHON, [SCRIPT], { input: text, encoding: "utf8", maxBuffer: 256 << 20 });
}

/** Build every spec with the real libseccomp, in one python process. */
export function libseccompBuild(specs: readonly LsSpec[]): LsResult[] {
  const out = JSON.parse(py(specs)) as { bpf: string; numbers: LsResult["numbers"]; errors: string[] }[];
  return out.map((r) => ({ bpf: Uint8Array.from(Buffer.from(r.bpf, "hex")), numbers: r.numbers, errors: r.errors }));
}

/** libseccomp's own number for each name on each arch (null: unknown there). */
export function libseccompResolve(names: readonly string[], arches: readonly string[]): Record<string, Record<string, number | null>> {
  return JSON.parse(py({ resolve: names, arches })) as Record<string, Record<string, number | null>>;
}

/** The u32 a seccomp filter returns for an action. */
export function actionRet(a: LsAction): number {
  if (typeof a === "object") {
    if ("ERRNO" in a) return (0x00050000 | (a.ERRNO & 0xffff)) >>> 0;
    return (0x7ff00000 | (a.TRACE & 0xffff)) >>> 0;
  }
  switch (a) {
    case "ALLOW":
      return 0x7fff0000;
    case "KILL_THREAD":
      return 0;
    case "KILL_PROCESS":
      return 0x80000000;
    case "TRAP":
      return 0x00030000;
    case "LOG":
      return 0x7ffc0000;
    case "NOTIFY":
      return 0x7fc00000;
  }
}

const U64 = (1n << 64n) - 1n;

/**
 * Does the condition hold for this argument value? `bits` is the width
 * libseccomp compares: 64 on 64-bit ABIs; on 32-bit ABIs (x86, x32) libseccomp
 * tests only the low words of argument and constant
 * (../shared/reference/seccomp-compilers.md §1.3, `_db_rule_gen_32`).
 */
export function condHolds(c: LsCond, arg: bigint, bits: 32 | 64 = 64): boolean {
  const m = bits === 64 ? U64 : 0xffffffffn;
  const a = arg & m;
  const v = c.value & m;
  switch (c.op) {
    case "EQ":
      return a === v;
    case "NE":
      return a !== v;
    case "LT":
      return a < v;
    case "LE":
      return a <= v;
    case "GT":
      return a > v;
    case "GE":
      return a >= v;
    case "MASKED_EQ":
      return (a & (c.mask ?? 0n) & m) === (v & (c.mask ?? 0n));
  }
}

/** The width libseccomp 2.5.4 compares arguments at on each ABI ("size" of its arch). */
export const LIBSECCOMP_ARG_BITS: Readonly<Record<LsArch, 32 | 64>> = { x86: 32, x32: 32, x86_64: 64 };

/**
 * The return value the rules say a call gets on `abi` (undefined abi: an
 * architecture the filter does not cover). Assumes at most one rule per
 * syscall name, which is how the tests build their specs.
 */
export function expectedRet(spec: LsSpec, numbers: LsResult["numbers"], abi: LsArch | undefined, nr: number, args: readonly bigint[]): number {
  if (abi === undefined) return actionRet(spec.badarch ?? "KILL_THREAD");
  for (const r of spec.rules) {
    if (numbers[abi]?.[r.syscall] !== nr) continue;
    if ((r.args ?? []).every((c) => condHolds(c, args[c.arg] ?? 0n, LIBSECCOMP_ARG_BITS[abi]))) return actionRet(r.action);
  }
  return actionRet(spec.default);
}

/** Interesting argument values around a condition's constant. */
export function boundaryValues(c: LsCond, bits: 32 | 64): bigint[] {
  const max = bits === 64 ? U64 : 0xffffffffn;
  const v = c.value;
  const raw = [0n, 1n, v, v - 1n, v + 1n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 1n << 32n, (1n << 32n) + v, v ^ (1n << 32n), v ^ (1n << 63n), 1n << 63n, U64];
  if (c.mask !== undefined) raw.push(c.mask, c.value | ~c.mask, c.value & c.mask);
  const vals = raw.map((x) => x & max);
  return [...new Set(vals)];
}

/** Names that libseccomp multiplexes through socketcall/ipc on x86 (its rules become argument checks there). */
export const MULTIPLEXED_NAMES = new Set([
  "socket", "bind", "connect", "listen", "accept", "getsockname", "getpeername", "socketpair", "send", "recv",
  "sendto", "recvfrom", "shutdown", "setsockopt", "getsockopt", "sendmsg", "recvmsg", "accept4", "recvmmsg",
  "sendmmsg", "semop", "semget", "semctl", "semtimedop", "msgsnd", "msgrcv", "msgget", "msgctl", "shmat",
  "shmdt", "shmget", "shmctl",
]);
