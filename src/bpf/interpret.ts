/**
 * An exact interpreter of seccomp classic-BPF programs over `struct seccomp_data`,
 * with the kernel's semantics (as the kernel's classic→eBPF conversion runs them):
 *
 * - A, X and M[0..15] are u32; A and X start at 0 (M is zeroed too; the
 *   verifier guarantees no cell is read before it is written).
 * - ALU wraps at 32 bits; `div x` with X == 0 ends the program returning 0
 *   (SECCOMP_RET_KILL_THREAD), as the kernel's conversion emits that check;
 *   `lsh x`/`rsh x` shift by X & 31 (the eBPF interpreter masks, and x86 does);
 *   `neg` is two's complement.
 * - `ld #len` / `ldx #len` load 64 (seccomp rewrites them to that constant).
 * - `ld [k]` reads the 4 bytes at offset k of seccomp_data as a u32 in the
 *   ABI's byte order: on a big-endian ABI `ld [16]` is the HIGH word of
 *   args[0], on little-endian the LOW word.
 * - Jumps compare unsigned; `jset` tests (A & k) != 0.
 *
 * The interpreter expects a verified program, but never loops or crashes: a
 * jump out of range, falling off the end or an instruction seccomp does not
 * allow throws a SyscageError.
 */
import { SyscageError } from "../errors.js";
import { decodeAction, isMoreRestrictive, SECCOMP_RET_ALLOW, type DecodedAction } from "./actions.js";
import type { Insn } from "./insn.js";

/** `struct seccomp_data` as the kernel fills it in for one syscall. */
export interface SeccompData {
  /** Syscall number as seccomp sees it (an int: -1 is laid out as 0xffffffff). */
  nr: number;
  /** AUDIT_ARCH_* value (u32). */
  arch: number;
  /** User instruction pointer (u64). */
  instructionPointer: bigint;
  /** Six u64 syscall arguments; missing ones are 0, negative values wrap to 64 bits. */
  args: readonly bigint[];
}

/** One executed instruction with the registers AFTER it ran. */
export interface TraceStep {
  pc: number;
  insn: Insn;
  a: number;
  x: number;
}

/** The outcome of running one program. */
export interface RunResult {
  /** The 32-bit value the program returned. */
  ret: number;
  /** `ret` decoded as the kernel acts on it. */
  action: DecodedAction;
  /** Instructions executed, including the final ret. */
  steps: number;
  /** Executed instructions, when asked for with `{ trace: true }`. */
  trace?: TraceStep[];
}

const MASK32 = 0xffffffffn;

/** Word view of seccomp_data: 16 u32 values, word i = bytes 4i..4i+3 in ABI order. */
function fillWords(words: Uint32Array, data: SeccompData, endian: "little" | "big"): void {
  words[0] = data.nr >>> 0;
  words[1] = data.arch >>> 0;
  const put = (w: number, v: bigint): void => {
    const u = BigInt.asUintN(64, v);
    const lo = Number(u & MASK32);
    const hi = Number(u >> 32n);
    if (endian === "little") {
      words[w] = lo;
      words[w + 1] = hi;
    } else {
      words[w] = hi;
      words[w + 1] = lo;
    }
  };
  put(2, data.instructionPointer);
  for (let i = 0; i < 6; i++) put(4 + 2 * i, data.args[i] ?? 0n);
}

/** The 64 bytes of `struct seccomp_data` in the given byte order. */
export function seccompDataBytes(data: SeccompData, endian: "little" | "big"): Uint8Array {
  const out = new Uint8Array(64);
  const view = new DataView(out.buffer);
  const le = endian === "little";
  view.setUint32(0, data.nr >>> 0, le);
  view.setUint32(4, data.arch >>> 0, le);
  view.setBigUint64(8, BigInt.asUintN(64, data.instructionPointer), le);
  for (let i = 0; i < 6; i++) view.setBigUint64(16 + 8 * i, BigInt.asUintN(64, data.args[i] ?? 0n), le);
  return out;
}

// Reused per call (the interpreter is not re-entrant and never yields).
const WORDS = new Uint32Array(16);
const MEM = new Uint32Array(16);

function fail(pc: number, why: string): never {
  throw new SyscageError("BPF_RUNTIME", `instruction ${pc}: ${why}; verify the program first (syscage verify)`);
}

/**
 * Run one program on one syscall. `endian` is the byte order of the ABI the
 * syscall comes from (it decides which half of a u64 `ld [k]` sees).
 */
export function interpret(
  insns: readonly Insn[],
  data: SeccompData,
  endian: "little" | "big",
  opts?: { trace?: boolean },
): RunResult {
  fillWords(WORDS, data, endian);
  MEM.fill(0);
  const trace: TraceStep[] | undefined = opts?.trace === true ? [] : undefined;
  const len = insns.length;
  let a = 0;
  let x = 0;
  let pc = 0;
  let steps = 0;
  for (;;) {
    if (pc >= len) fail(pc, len === 0 ? "the program is empty" : "execution ran past the last instruction");
    const ins = insns[pc]!;
    const k = ins.k >>> 0;
    const here = pc;
    steps++;
    let result = -1;
    switch (ins.code) {
      // Loads into A.
      case 0x20: // ld [k]
        if (k >= 64 || (k & 3) !== 0) fail(pc, `ld [${k}] is outside struct seccomp_data or unaligned`);
        a = WORDS[k >>> 2]!;
        pc++;
        break;
      case 0x80: // ld #len
        a = 64;
        pc++;
        break;
      case 0x00: // ld #k
        a = k;
        pc++;
        break;
      case 0x60: // ld M[k]
        if (k >= 16) fail(pc, `scratch cell M[${k}] does not exist`);
        a = MEM[k]!;
        pc++;
        break;
      // Loads into X.
      case 0x01: // ldx #k
        x = k;
        pc++;
        break;
      case 0x81: // ldx #len
        x = 64;
        pc++;
        break;
      case 0x61: // ldx M[k]
        if (k >= 16) fail(pc, `scratch cell M[${k}] does not exist`);
        x = MEM[k]!;
        pc++;
        break;
      // Stores.
      case 0x02: // st M[k]
        if (k >= 16) fail(pc, `scratch cell M[${k}] does not exist`);
        MEM[k] = a;
        pc++;
        break;
      case 0x03: // stx M[k]
        if (k >= 16) fail(pc, `scratch cell M[${k}] does not exist`);
        MEM[k] = x;
        pc++;
        break;
      // ALU with K.
      case 0x04: // add #k
        a = (a + k) >>> 0;
        pc++;
        break;
      case 0x14: // sub #k
        a = (a - k) >>> 0;
        pc++;
        break;
      case 0x24: // mul #k
        a = Math.imul(a, k) >>> 0;
        pc++;
        break;
      case 0x34: // div #k
        if (k === 0) fail(pc, "div #0");
        a = Math.floor(a / k) >>> 0;
        pc++;
        break;
      case 0x44: // or #k
        a = (a | k) >>> 0;
        pc++;
        break;
      case 0x54: // and #k
        a = (a & k) >>> 0;
        pc++;
        break;
      case 0xa4: // xor #k
        a = (a ^ k) >>> 0;
        pc++;
        break;
      case 0x64: // lsh #k
        if (k >= 32) fail(pc, `lsh #${k}`);
        a = (a << k) >>> 0;
        pc++;
        break;
      case 0x74: // rsh #k
        if (k >= 32) fail(pc, `rsh #${k}`);
        a = a >>> k;
        pc++;
        break;
      // ALU with X.
      case 0x0c: // add x
        a = (a + x) >>> 0;
        pc++;
        break;
      case 0x1c: // sub x
        a = (a - x) >>> 0;
        pc++;
        break;
      case 0x2c: // mul x
        a = Math.imul(a, x) >>> 0;
        pc++;
        break;
      case 0x3c: // div x: division by zero returns 0 from the program
        if (x === 0) {
          a = 0;
          result = 0;
          break;
        }
        a = Math.floor(a / x) >>> 0;
        pc++;
        break;
      case 0x4c: // or x
        a = (a | x) >>> 0;
        pc++;
        break;
      case 0x5c: // and x
        a = (a & x) >>> 0;
        pc++;
        break;
      case 0xac: // xor x
        a = (a ^ x) >>> 0;
        pc++;
        break;
      case 0x6c: // lsh x
        a = (a << (x & 31)) >>> 0;
        pc++;
        break;
      case 0x7c: // rsh x
        a = a >>> (x & 31);
        pc++;
        break;
      case 0x84: // neg
        a = -a >>> 0;
        pc++;
        break;
      // Register transfers.
      case 0x07: // tax
        x = a;
        pc++;
        break;
      case 0x87: // txa
        a = x;
        pc++;
        break;
      // Returns.
      case 0x06: // ret #k
        result = k;
        break;
      case 0x16: // ret a
        result = a;
        break;
      // Jumps.
      case 0x05: // ja
        pc = pc + 1 + k;
        break;
      case 0x15: // jeq #k
        pc += 1 + (a === k ? ins.jt : ins.jf);
        break;
      case 0x25: // jgt #k
        pc += 1 + (a > k ? ins.jt : ins.jf);
        break;
      case 0x35: // jge #k
        pc += 1 + (a >= k ? ins.jt : ins.jf);
        break;
      case 0x45: // jset #k
        pc += 1 + ((a & k) !== 0 ? ins.jt : ins.jf);
        break;
      case 0x1d: // jeq x
        pc += 1 + (a === x ? ins.jt : ins.jf);
        break;
      case 0x2d: // jgt x
        pc += 1 + (a > x ? ins.jt : ins.jf);
        break;
      case 0x3d: // jge x
        pc += 1 + (a >= x ? ins.jt : ins.jf);
        break;
      case 0x4d: // jset x
        pc += 1 + ((a & x) !== 0 ? ins.jt : ins.jf);
        break;
      default:
        fail(pc, `opcode 0x${ins.code.toString(16)} is not allowed in seccomp filters`);
    }
    if (trace !== undefined) trace.push({ pc: here, insn: ins, a, x });
    if (result >= 0) {
      const r = result >>> 0;
      const res: RunResult = { ret: r, action: decodeAction(r), steps };
      if (trace !== undefined) res.trace = trace;
      return res;
    }
  }
}

/**
 * Run a stack of filters the way `seccomp_run_filters` does: every filter runs
 * (newest first); starting from SECCOMP_RET_ALLOW, a filter's value replaces
 * the current one only when its action is strictly lower in precedence, so on
 * equal actions the NEWEST filter's data wins, and a stack that allows returns
 * exactly SECCOMP_RET_ALLOW (data 0). `programs` are oldest first; `decidedBy`
 * is the index (oldest-first) of the filter whose value was kept, or -1 when
 * none replaced the initial ALLOW.
 */
export function evaluateStack(
  programs: readonly (readonly Insn[])[],
  data: SeccompData,
  endian: "little" | "big",
): { ret: number; action: DecodedAction; decidedBy: number } {
  let ret = SECCOMP_RET_ALLOW;
  let decidedBy = -1;
  for (let i = programs.length - 1; i >= 0; i--) {
    const cur = interpret(programs[i]!, data, endian).ret;
    if (isMoreRestrictive(cur, ret)) {
      ret = cur;
      decidedBy = i;
    }
  }
  return { ret, action: decodeAction(ret), decidedBy };
}
