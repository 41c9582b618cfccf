/**
 * The kernel's load-time checks of a seccomp program, in the kernel's order:
 * `bpf_check_classic` with `check_load_and_stores` (net/core/filter.c), then
 * `seccomp_check_filter` (kernel/seccomp.c). A program with no findings is one
 * the kernel accepts; the first finding is the reason the kernel would give
 * EINVAL. Also the stacked-filter size limit of `seccomp_attach_filter`.
 */
import { SyscageError } from "../errors.js";
import {
  BPF_ABS,
  BPF_LD,
  BPF_MAXINSNS,
  BPF_MEMWORDS,
  BPF_W,
  classify,
  type Insn,
  type InsnKind,
} from "./insn.js";

/** Names of the rules a finding can break. */
export type VerifyRule =
  | "length"
  | "opcode"
  | "div-by-zero"
  | "shift-range"
  | "mem-index"
  | "jump-range"
  | "ancillary"
  | "last-not-ret"
  | "mem-uninit"
  | "seccomp-opcode"
  | "seccomp-load"
  | "stack-size";

/** One broken rule: at which instruction, which rule, and what to do. */
export interface Finding {
  /** Instruction index (0-based); for program-wide rules 0 or the last index. */
  index: number;
  /** Rule name, see {@link VerifyRule}. */
  rule: VerifyRule | string;
  /** What is wrong and how to fix it. */
  message: string;
}

/** Size of `struct seccomp_data`; seccomp's `ld [k]` must have k < 64, k % 4 == 0. */
export const SECCOMP_DATA_SIZE = 64;
/** The kernel's limit on instructions along a stacked-filter path (256 KiB / 8). */
export const MAX_INSNS_PER_PATH = 32768;
/** Instructions the kernel adds per earlier filter when checking the path limit. */
export const STACK_PENALTY_INSNS = 4;

/** Offset of the first ancillary load (SKF_AD_OFF = -0x1000 as u32). */
const SKF_AD_OFF = 0xfffff000;
/** Ancillary extensions the kernel knows: SKF_AD_PROTOCOL (0) … SKF_AD_VLAN_TPID (60). */
const SKF_AD_KNOWN_MAX = 60;

function hex(k: number): string {
  return `0x${(k >>> 0).toString(16)}`;
}

/** Checks of `bpf_check_classic` for one instruction (code table and operands). */
function classicInsnFindings(pc: number, i: Insn, kind: InsnKind, len: number, out: Finding[]): void {
  const k = i.k >>> 0;
  switch (kind.kind) {
    case "invalid":
      out.push({
        index: pc,
        rule: "opcode",
        message: `opcode 0x${i.code.toString(16).padStart(2, "0")} is not a classic BPF instruction; the kernel rejects the program (EINVAL)`,
      });
      return;
    case "aluK":
      if ((kind.op === "div" || kind.op === "mod") && k === 0) {
        out.push({ index: pc, rule: "div-by-zero", message: `${kind.op} #0 divides by a zero constant; use a non-zero divisor` });
      } else if ((kind.op === "lsh" || kind.op === "rsh") && k >= 32) {
        out.push({ index: pc, rule: "shift-range", message: `${kind.op} #${k} shifts by 32 or more; the shift amount must be 0..31` });
      }
      return;
    case "loadMem":
    case "loadXMem":
    case "store":
    case "storeX":
      if (k >= BPF_MEMWORDS) {
        out.push({ index: pc, rule: "mem-index", message: `scratch cell M[${k}] does not exist; cells are M[0]..M[${BPF_MEMWORDS - 1}]` });
      }
      return;
    case "jump":
      if (k >= len - pc - 1) {
        out.push({
          index: pc,
          rule: "jump-range",
          message: `ja +${k} jumps to instruction ${pc + 1 + k}, past the last instruction (${len - 1}); jumps must land inside the program`,
        });
      }
      return;
    case "jumpIf":
    case "jumpIfX":
      if (pc + kind.jt + 1 >= len || pc + kind.jf + 1 >= len) {
        const bad = pc + kind.jt + 1 >= len ? `true branch (+${kind.jt}) to ${pc + kind.jt + 1}` : `false branch (+${kind.jf}) to ${pc + kind.jf + 1}`;
        out.push({
          index: pc,
          rule: "jump-range",
          message: `${kind.op} ${bad} is past the last instruction (${len - 1}); jumps must land inside the program`,
        });
      }
      return;
    case "loadAbs":
      if (k >= SKF_AD_OFF && !((k - SKF_AD_OFF) % 4 === 0 && k - SKF_AD_OFF <= SKF_AD_KNOWN_MAX)) {
        out.push({ index: pc, rule: "ancillary", message: `ld [${hex(k)}] is an unknown ancillary (SKF_AD_OFF) load` });
      }
      return;
    default:
      return;
  }
}

/**
 * The kernel's `check_load_and_stores`, replicated exactly: a forward pass
 * with a 16-bit "cells written" mask; jumps narrow their targets' masks and
 * reset the running mask to all ones; RET does not reset it. Requires jumps
 * and cell numbers already in range.
 */
function memFindings(insns: readonly Insn[], kinds: readonly InsnKind[], out: Finding[]): void {
  const len = insns.length;
  const masks = new Uint16Array(len).fill(0xffff);
  let memvalid = 0;
  for (let pc = 0; pc < len; pc++) {
    memvalid &= masks[pc]!;
    const kind = kinds[pc]!;
    switch (kind.kind) {
      case "store":
      case "storeX":
        memvalid |= 1 << kind.k;
        break;
      case "loadMem":
      case "loadXMem":
        if ((memvalid & (1 << kind.k)) === 0) {
          out.push({
            index: pc,
            rule: "mem-uninit",
            message: `M[${kind.k}] may be read before it is written (the kernel's forward check requires a store on every path, with no jump in between that could skip it)`,
          });
          return; // the kernel stops at the first one
        }
        break;
      case "jump":
        masks[pc + 1 + kind.k]! &= memvalid;
        memvalid = 0xffff;
        break;
      case "jumpIf":
      case "jumpIfX":
        masks[pc + 1 + kind.jt]! &= memvalid;
        masks[pc + 1 + kind.jf]! &= memvalid;
        memvalid = 0xffff;
        break;
      default:
        break;
    }
  }
}

/** `seccomp_check_filter`: seccomp's own whitelist of classic instructions. */
function seccompInsnFinding(pc: number, i: Insn, kind: InsnKind): Finding | undefined {
  const k = i.k >>> 0;
  switch (kind.kind) {
    case "loadAbs":
      if (i.code !== (BPF_LD | BPF_W | BPF_ABS)) {
        return { index: pc, rule: "seccomp-opcode", message: `${kind.size === 2 ? "ldh" : "ldb"} [${k}]: seccomp allows only 32-bit loads (ld [k]) from seccomp_data` };
      }
      if (k >= SECCOMP_DATA_SIZE || (k & 3) !== 0) {
        return {
          index: pc,
          rule: "seccomp-load",
          message: `ld [${k}] is outside struct seccomp_data or unaligned; the offset must be a multiple of 4 below ${SECCOMP_DATA_SIZE}`,
        };
      }
      return undefined;
    case "loadInd":
      return { index: pc, rule: "seccomp-opcode", message: `indirect load [x + ${k}] is not allowed in seccomp filters` };
    case "loadXMsh":
      return { index: pc, rule: "seccomp-opcode", message: `ldx 4*([${k}]&0xf) is not allowed in seccomp filters` };
    case "aluK":
    case "aluX":
      if (kind.op === "mod") return { index: pc, rule: "seccomp-opcode", message: "mod is not allowed in seccomp filters; compute A - (A / n) * n instead" };
      return undefined;
    case "invalid":
      return undefined; // already reported by the classic check
    default:
      return undefined; // LD/LDX LEN, IMM, MEM, ST, STX, NEG, TAX, TXA, RET, jumps
  }
}

/**
 * Every rule the kernel checks when a seccomp program is loaded, findings in
 * the kernel's order (so `verify(p)[0]` is the reason it gives EINVAL).
 * Empty means the kernel accepts the program.
 *
 * Order: length (1..4096); per instruction in order, the classic code table
 * and operand checks; last instruction must be RET; scratch memory written
 * before read (only when everything before passed, as the kernel runs it
 * last); then seccomp's whitelist (for instructions with a classic opcode).
 */
export function verify(insns: readonly Insn[]): Finding[] {
  const len = insns.length;
  const out: Finding[] = [];
  if (len === 0) {
    return [{ index: 0, rule: "length", message: "the program is empty; it needs at least one instruction (a ret)" }];
  }
  if (len > BPF_MAXINSNS) {
    out.push({
      index: BPF_MAXINSNS,
      rule: "length",
      message: `the program has ${len} instructions; the kernel accepts at most ${BPF_MAXINSNS} (BPF_MAXINSNS)`,
    });
  }
  const kinds = insns.map(classify);
  for (let pc = 0; pc < len; pc++) classicInsnFindings(pc, insns[pc]!, kinds[pc]!, len, out);
  const lastKind = kinds[len - 1]!.kind;
  if (lastKind !== "ret" && lastKind !== "retA") {
    out.push({ index: len - 1, rule: "last-not-ret", message: "the last instruction must be a ret (ret #k or ret a)" });
  }
  if (out.length === 0) memFindings(insns, kinds, out);
  for (let pc = 0; pc < len; pc++) {
    const f = seccompInsnFinding(pc, insns[pc]!, kinds[pc]!);
    if (f !== undefined) out.push(f);
  }
  return out;
}

/**
 * Throw a SyscageError (code BPF_INVALID) naming `what` and the first findings
 * when the kernel would reject the program.
 */
export function assertValid(insns: readonly Insn[], what: string): void {
  const findings = verify(insns);
  if (findings.length === 0) return;
  const shown = findings
    .slice(0, 3)
    .map((f) => `instruction ${f.index}: ${f.rule}: ${f.message}`)
    .join("; ");
  const more = findings.length > 3 ? ` (and ${findings.length - 3} more)` : "";
  throw new SyscageError("BPF_INVALID", `${what}: the kernel would reject this program: ${shown}${more}`);
}

/**
 * The kernel's path-length limit for stacked filters (`seccomp_attach_filter`):
 * attaching a filter of length n on top of filters f1..fm fails with ENOMEM
 * when n + Σ(len(fi) + 4) > 32768. `programLengths` are the filters in the
 * order they are attached (oldest first). A filter that would fail is reported
 * with its index and treated as not attached, as after a failed seccomp(2).
 */
export function checkStackPaths(programLengths: readonly number[]): Finding[] {
  const out: Finding[] = [];
  let installed = 0; // Σ (len + 4) over attached filters
  programLengths.forEach((n, index) => {
    const total = n + installed;
    if (total > MAX_INSNS_PER_PATH) {
      out.push({
        index,
        rule: "stack-size",
        message: `attaching filter ${index} (${n} instructions) brings the path to ${total} instructions (earlier filters count their length + ${STACK_PENALTY_INSNS}); the kernel allows ${MAX_INSNS_PER_PATH} and fails with ENOMEM — merge or shorten filters`,
      });
    } else {
      installed += n + STACK_PENALTY_INSNS;
    }
  });
  return out;
}
