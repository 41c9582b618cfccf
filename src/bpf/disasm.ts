/**
 * Readable assembly for classic BPF, in the style of Go's x/net/bpf and
 * libseccomp's `scmp_bpf_disasm`: one instruction per line, jump targets as
 * labels `L<index>` (only on instructions that are targets), and comments that
 * name the seccomp_data field a load reads, the AUDIT_ARCH a constant is,
 * the syscall a number is (when the arch on that path is known) and the action
 * a `ret` returns. `assemble` (asm.ts) reads this text back bit-exactly.
 */
import { abisByAuditArch, getAbi, X32_SYSCALL_BIT, type AbiName } from "../abi/arch.js";
import { syscallName } from "../abi/tables.js";
import { formatAction } from "./actions.js";
import { classify, type Insn, type InsnKind } from "./insn.js";

/** Options for {@link disassemble}. */
export interface DisasmOptions {
  /**
   * ABI to assume where the program does not check the arch on a path: used
   * to name syscall numbers and to say which half of a u64 argument a load
   * reads. Without it, such a load takes the byte order of the arches the
   * program checks when they all share one, and is labelled both ways
   * ("args[0] hi (LE) / lo (BE)") otherwise.
   */
  arch?: AbiName;
}

/** One disassembled line. */
export interface DisasmLine {
  /** Instruction index. */
  index: number;
  /** `L<index>` when some jump lands here. */
  label?: string;
  /** The instruction, e.g. `jeq #0xc000003e, L2, L9`. */
  text: string;
  /** Explanation, e.g. `AUDIT_ARCH_X86_64`, or undefined. */
  comment?: string;
}

/** Label name of instruction `index`. */
export function labelName(index: number): string {
  return `L${index}`;
}

/** A constant as `#k`: decimal below 0x1000, hex above. */
function imm(k: number): string {
  const u = k >>> 0;
  return u < 0x1000 ? `#${u}` : `#0x${u.toString(16)}`;
}

function num(k: number): string {
  const u = k >>> 0;
  return u < 0x1000 ? String(u) : `0x${u.toString(16)}`;
}

function rawInsn(i: Insn): string {
  return `.insn 0x${i.code.toString(16)}, ${i.jt}, ${i.jf}, 0x${(i.k >>> 0).toString(16)}`;
}

/**
 * True when a field the instruction ignores is not zero (jt/jf outside
 * conditional jumps, k where only a register is used). The kernel ignores
 * them, but only `.insn` keeps them, so the text assembles to the same bytes.
 */
function hasIgnoredBits(kind: InsnKind, i: Insn): boolean {
  const condJump = kind.kind === "jumpIf" || kind.kind === "jumpIfX";
  if (!condJump && (i.jt !== 0 || i.jf !== 0)) return true;
  switch (kind.kind) {
    case "loadLen":
    case "loadXLen":
    case "aluX":
    case "neg":
    case "tax":
    case "txa":
    case "retA":
    case "jumpIfX":
      return (i.k >>> 0) !== 0;
    default:
      return false;
  }
}

/** Jump targets of instruction `pc`, or undefined when out of range / not a jump. */
function targets(kind: InsnKind, pc: number, len: number): number[] | undefined {
  switch (kind.kind) {
    case "jump": {
      const t = pc + 1 + kind.k;
      return t < len ? [t] : undefined;
    }
    case "jumpIf":
    case "jumpIfX": {
      const t = pc + 1 + kind.jt;
      const f = pc + 1 + kind.jf;
      return t < len && f < len ? [t, f] : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * One instruction as text. Jump targets are printed as labels `L<n>` where n
 * is the absolute target index (`pc` is this instruction's index).
 * Instructions that cannot be written otherwise (not in the code table, or a
 * jump out of a `len`-long program) print as `.insn code, jt, jf, k`.
 */
export function formatInsn(i: Insn, pc: number, len = Number.POSITIVE_INFINITY): string {
  const kind = classify(i);
  if (hasIgnoredBits(kind, i)) return rawInsn(i);
  switch (kind.kind) {
    case "loadAbs":
      return `${kind.size === 4 ? "ld" : kind.size === 2 ? "ldh" : "ldb"} [${num(kind.k)}]`;
    case "loadInd":
      return `${kind.size === 4 ? "ld" : kind.size === 2 ? "ldh" : "ldb"} [x + ${num(kind.k)}]`;
    case "loadConst":
      return `ld ${imm(kind.k)}`;
    case "loadLen":
      return "ld #len";
    case "loadMem":
      return `ld M[${num(kind.k)}]`;
    case "loadXConst":
      return `ldx ${imm(kind.k)}`;
    case "loadXLen":
      return "ldx #len";
    case "loadXMem":
      return `ldx M[${num(kind.k)}]`;
    case "loadXMsh":
      return `ldx 4*([${num(kind.k)}]&0xf)`;
    case "store":
      return `st M[${num(kind.k)}]`;
    case "storeX":
      return `stx M[${num(kind.k)}]`;
    case "aluK":
      return `${kind.op} ${imm(kind.k)}`;
    case "aluX":
      return `${kind.op} x`;
    case "neg":
      return "neg";
    case "tax":
      return "tax";
    case "txa":
      return "txa";
    case "ret":
      return kind.k === 0 ? "ret #0" : `ret #0x${kind.k.toString(16)}`;
    case "retA":
      return "ret a";
    case "jump":
      if (pc + 1 + kind.k >= len) return rawInsn(i);
      return `ja ${labelName(pc + 1 + kind.k)}`;
    case "jumpIf":
    case "jumpIfX": {
      if (pc + 1 + kind.jt >= len || pc + 1 + kind.jf >= len) return rawInsn(i);
      const operand = kind.kind === "jumpIf" ? (kind.k < 0x1000 ? `#${kind.k}` : `#0x${kind.k.toString(16)}`) : "x";
      return `${kind.op} ${operand}, ${labelName(pc + 1 + kind.jt)}, ${labelName(pc + 1 + kind.jf)}`;
    }
    case "invalid":
      return rawInsn(i);
  }
}

/** What A holds along a path, as far as naming goes. */
interface PathState {
  /** What A holds: the syscall number, the arch, or something else. */
  a: "nr" | "arch" | "other";
  /** The AUDIT_ARCH value this path has checked, if it has. */
  arch: number | undefined;
}

function merge(x: PathState | undefined, y: PathState): PathState {
  if (x === undefined) return y;
  return { a: x.a === y.a ? x.a : "other", arch: x.arch === y.arch ? x.arch : undefined };
}

/** Whether instruction kind writes A. */
function writesA(kind: InsnKind): boolean {
  switch (kind.kind) {
    case "loadAbs":
    case "loadInd":
    case "loadConst":
    case "loadLen":
    case "loadMem":
    case "aluK":
    case "aluX":
    case "neg":
    case "txa":
      return true;
    default:
      return false;
  }
}

/** The ABI a syscall number belongs to, for an AUDIT_ARCH (x86_64 vs x32 by bit 30). */
function abiFor(auditArch: number | undefined, fallback: AbiName | undefined, nr: number): AbiName | undefined {
  if (auditArch === undefined) return fallback;
  const candidates = abisByAuditArch(auditArch);
  let best: AbiName | undefined;
  let bestOffset = -1;
  for (const c of candidates) {
    if (c.nrOffset <= nr && c.nrOffset > bestOffset) {
      best = c.name;
      bestOffset = c.nrOffset;
    }
  }
  return best;
}

/**
 * The seccomp_data field a 32-bit load at offset `k` reads. The half of a u64
 * (`lo`/`hi`) depends on the byte order; with `undefined` (unknown) both
 * readings are given: "args[0] hi (LE) / lo (BE)".
 */
function fieldName(k: number, endian: "little" | "big" | undefined): string | undefined {
  if (k === 0) return "nr";
  if (k === 4) return "arch";
  if (k >= 64 || k % 4 !== 0) return undefined;
  const what = k < 16 ? "instruction_pointer" : `args[${(k - 16) >> 3}]`;
  const lowIfLittle = k % 8 === 0;
  if (endian === undefined) return `${what} ${lowIfLittle ? "lo" : "hi"} (LE) / ${lowIfLittle ? "hi" : "lo"} (BE)`;
  return `${what} ${lowIfLittle === (endian === "little") ? "lo" : "hi"}`;
}

/**
 * The byte order of the words a load reads: the arch checked on the path;
 * else `--arch`; else the one byte order of every arch the program checks;
 * else unknown.
 */
function endianOf(auditArch: number | undefined, fallback: AbiName | undefined, programEndian: "little" | "big" | undefined): "little" | "big" | undefined {
  if (auditArch !== undefined) {
    const c = abisByAuditArch(auditArch)[0];
    if (c !== undefined) return c.endian;
  }
  if (fallback !== undefined) return getAbi(fallback).endian;
  return programEndian;
}

function safeSyscallName(abi: AbiName, nr: number): string | undefined {
  try {
    return syscallName(abi, nr);
  } catch {
    return undefined;
  }
}

/** Disassemble into structured lines (labels, text, comments). */
export function disassembleLines(insns: readonly Insn[], opts: DisasmOptions = {}): DisasmLine[] {
  const len = insns.length;
  const kinds = insns.map(classify);
  const isTarget = new Uint8Array(len);
  const states: (PathState | undefined)[] = new Array<PathState | undefined>(len).fill(undefined);
  if (len > 0) states[0] = { a: "other", arch: undefined };
  const lines: DisasmLine[] = [];
  for (let pc = 0; pc < len; pc++) {
    const kind = kinds[pc]!;
    const t = targets(kind, pc, len);
    if (t !== undefined) for (const x of t) isTarget[x] = 1;
  }
  // Path states first (jumps only go forward), and the byte orders of the arches the program checks.
  const checked = new Set<"little" | "big">();
  for (let pc = 0; pc < len; pc++) {
    const kind = kinds[pc]!;
    const s = states[pc];
    if (s === undefined) continue;
    let out: PathState = s;
    if (kind.kind === "loadAbs" && kind.size === 4 && (kind.k === 0 || kind.k === 4)) {
      out = { a: kind.k === 0 ? "nr" : "arch", arch: s.arch };
    } else if (writesA(kind)) {
      out = { a: "other", arch: s.arch };
    }
    if (kind.kind === "ret" || kind.kind === "retA") continue;
    const t = targets(kind, pc, len);
    if (t === undefined) {
      if (kind.kind === "jump" || kind.kind === "jumpIf" || kind.kind === "jumpIfX") continue; // out of range
      if (pc + 1 < len) states[pc + 1] = merge(states[pc + 1], out);
      continue;
    }
    if (kind.kind === "jumpIf" && kind.op === "jeq" && s.a === "arch") {
      const abi = abisByAuditArch(kind.k >>> 0)[0];
      if (abi !== undefined) checked.add(abi.endian);
      states[t[0]!] = merge(states[t[0]!], { a: "arch", arch: kind.k >>> 0 });
      states[t[1]!] = merge(states[t[1]!], out);
    } else {
      for (const x of t) states[x] = merge(states[x], out);
    }
  }
  const programEndian = checked.size === 1 ? [...checked][0] : undefined;
  for (let pc = 0; pc < len; pc++) {
    const i = insns[pc]!;
    const kind = kinds[pc]!;
    const s = states[pc];
    let comment: string | undefined;
    switch (kind.kind) {
      case "loadAbs":
        if (kind.size === 4) comment = fieldName(kind.k, endianOf(s?.arch, opts.arch, programEndian));
        break;
      case "ret":
        comment = formatAction(kind.k);
        break;
      case "jumpIf":
        if (s?.a === "arch" && abisByAuditArch(kind.k).length > 0) {
          comment = abisByAuditArch(kind.k)[0]!.auditArchName;
        } else if (s?.a === "nr" && kind.op !== "jset") {
          const abi = abiFor(s.arch, opts.arch, kind.k);
          if (abi !== undefined) {
            if (kind.op !== "jeq" && kind.k === X32_SYSCALL_BIT && (abi === "x86_64" || abi === "x32")) comment = "X32_SYSCALL_BIT";
            else comment = safeSyscallName(abi, kind.k);
          }
        }
        break;
      default:
        break;
    }
    const line: DisasmLine = { index: pc, text: formatInsn(i, pc, len) };
    if (isTarget[pc] === 1) line.label = labelName(pc);
    if (comment !== undefined) line.comment = comment;
    lines.push(line);
  }
  return lines;
}

/** Disassemble a program to text, one instruction per line. */
export function disassemble(insns: readonly Insn[], opts: DisasmOptions = {}): string {
  const lines = disassembleLines(insns, opts);
  let labelWidth = 6;
  for (const l of lines) if (l.label !== undefined) labelWidth = Math.max(labelWidth, l.label.length + 2);
  const out: string[] = [];
  for (const l of lines) {
    const prefix = (l.label !== undefined ? `${l.label}:` : "").padEnd(labelWidth);
    const body = l.comment !== undefined ? `${l.text.padEnd(28)} ; ${l.comment}` : l.text;
    out.push(`${prefix}${body}`.trimEnd());
  }
  return out.join("\n") + (out.length > 0 ? "\n" : "");
}
