/**
 * Classic BPF instructions (`struct sock_filter`): opcode constants as in
 * `include/uapi/linux/bpf_common.h` / `filter.h`, the {@link Insn} value type,
 * constructors that read like Go's `golang.org/x/net/bpf`, and a classifier
 * that tells which instruction kind a raw opcode is.
 */

/** One classic BPF instruction: u16 code, u8 jt, u8 jf, u32 k (unsigned). */
export interface Insn {
  readonly code: number;
  readonly jt: number;
  readonly jf: number;
  readonly k: number;
}

// Instruction classes (code & 0x07).
/** Class: load into A. */
export const BPF_LD = 0x00;
/** Class: load into X. */
export const BPF_LDX = 0x01;
/** Class: store A into scratch memory. */
export const BPF_ST = 0x02;
/** Class: store X into scratch memory. */
export const BPF_STX = 0x03;
/** Class: arithmetic on A. */
export const BPF_ALU = 0x04;
/** Class: jumps. */
export const BPF_JMP = 0x05;
/** Class: return. */
export const BPF_RET = 0x06;
/** Class: register transfers (TAX, TXA). */
export const BPF_MISC = 0x07;

// Load sizes (code & 0x18).
/** Size: 32-bit word. */
export const BPF_W = 0x00;
/** Size: 16-bit half word. */
export const BPF_H = 0x08;
/** Size: byte. */
export const BPF_B = 0x10;

// Load modes (code & 0xe0).
/** Mode: immediate constant k. */
export const BPF_IMM = 0x00;
/** Mode: absolute offset k into the data. */
export const BPF_ABS = 0x20;
/** Mode: offset X + k into the data. */
export const BPF_IND = 0x40;
/** Mode: scratch memory cell M[k]. */
export const BPF_MEM = 0x60;
/** Mode: length of the data (64 for seccomp). */
export const BPF_LEN = 0x80;
/** Mode: IP header length trick, `4*([k]&0xf)`. */
export const BPF_MSH = 0xa0;

// ALU / jump operations (code & 0xf0).
export const BPF_ADD = 0x00;
export const BPF_SUB = 0x10;
export const BPF_MUL = 0x20;
export const BPF_DIV = 0x30;
export const BPF_OR = 0x40;
export const BPF_AND = 0x50;
export const BPF_LSH = 0x60;
export const BPF_RSH = 0x70;
export const BPF_NEG = 0x80;
export const BPF_MOD = 0x90;
export const BPF_XOR = 0xa0;

export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;

// Operand source (code & 0x08).
/** Source: the constant k. */
export const BPF_K = 0x00;
/** Source: the X register. */
export const BPF_X = 0x08;
/** RET source: the A register (RET uses 0x10 for A). */
export const BPF_A = 0x10;

// MISC operations (code & 0xf8).
export const BPF_TAX = 0x00;
export const BPF_TXA = 0x80;

/** Maximum number of instructions in one classic program (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;
/** Number of 32-bit scratch memory cells (BPF_MEMWORDS). */
export const BPF_MEMWORDS = 16;

/** Instruction class of an opcode. */
export function bpfClass(code: number): number {
  return code & 0x07;
}
/** Load size field of an opcode. */
export function bpfSize(code: number): number {
  return code & 0x18;
}
/** Load mode field of an opcode. */
export function bpfMode(code: number): number {
  return code & 0xe0;
}
/** ALU / jump operation field of an opcode. */
export function bpfOp(code: number): number {
  return code & 0xf0;
}
/** Operand source field (BPF_K or BPF_X) of an opcode. */
export function bpfSrc(code: number): number {
  return code & 0x08;
}

/** Build an instruction, normalising fields to their C widths. */
export function insn(code: number, k = 0, jt = 0, jf = 0): Insn {
  return { code: code & 0xffff, jt: jt & 0xff, jf: jf & 0xff, k: k >>> 0 };
}

// ---------------------------------------------------------------------------
// Constructors (Go x/net/bpf style).

/** ALU operations usable with {@link alu}. */
export type AluOp = "add" | "sub" | "mul" | "div" | "mod" | "and" | "or" | "xor" | "lsh" | "rsh";
/** Conditional jump operations as encoded (the kernel has no jne/jlt/jle). */
export type JumpOp = "jeq" | "jgt" | "jge" | "jset";
/** Load sizes for packet-style loads. */
export type LoadSize = 1 | 2 | 4;

/** Opcode op-field for each ALU operation name. */
export const ALU_OPS: Readonly<Record<AluOp, number>> = {
  add: BPF_ADD,
  sub: BPF_SUB,
  mul: BPF_MUL,
  div: BPF_DIV,
  mod: BPF_MOD,
  and: BPF_AND,
  or: BPF_OR,
  xor: BPF_XOR,
  lsh: BPF_LSH,
  rsh: BPF_RSH,
};

/** Opcode op-field for each conditional jump name. */
export const JUMP_OPS: Readonly<Record<JumpOp, number>> = {
  jeq: BPF_JEQ,
  jgt: BPF_JGT,
  jge: BPF_JGE,
  jset: BPF_JSET,
};

function sizeBits(size: LoadSize): number {
  return size === 4 ? BPF_W : size === 2 ? BPF_H : BPF_B;
}

/** `ld [k]` (or `ldh`/`ldb` with size 2/1): A = data[k]. */
export function loadAbs(k: number, size: LoadSize = 4): Insn {
  return insn(BPF_LD | sizeBits(size) | BPF_ABS, k);
}
/** `ld [x + k]`: A = data[X + k]. Not allowed in seccomp. */
export function loadInd(k: number, size: LoadSize = 4): Insn {
  return insn(BPF_LD | sizeBits(size) | BPF_IND, k);
}
/** `ld #k`: A = k. */
export function loadConst(k: number): Insn {
  return insn(BPF_LD | BPF_IMM, k);
}
/** `ld #len`: A = length of the data (64 for seccomp). */
export function loadLen(): Insn {
  return insn(BPF_LD | BPF_W | BPF_LEN);
}
/** `ld M[k]`: A = M[k]. */
export function loadMem(k: number): Insn {
  return insn(BPF_LD | BPF_MEM, k);
}
/** `ldx #k`: X = k. */
export function loadXConst(k: number): Insn {
  return insn(BPF_LDX | BPF_W | BPF_IMM, k);
}
/** `ldx #len`: X = length of the data. */
export function loadXLen(): Insn {
  return insn(BPF_LDX | BPF_W | BPF_LEN);
}
/** `ldx M[k]`: X = M[k]. */
export function loadXMem(k: number): Insn {
  return insn(BPF_LDX | BPF_MEM, k);
}
/** `ldx 4*([k]&0xf)`: not allowed in seccomp. */
export function loadXMsh(k: number): Insn {
  return insn(BPF_LDX | BPF_B | BPF_MSH, k);
}
/** `st M[k]`: M[k] = A. */
export function store(k: number): Insn {
  return insn(BPF_ST, k);
}
/** `stx M[k]`: M[k] = X. */
export function storeX(k: number): Insn {
  return insn(BPF_STX, k);
}
/** `<op> #k`: A = A op k. */
export function aluK(op: AluOp, k: number): Insn {
  return insn(BPF_ALU | ALU_OPS[op] | BPF_K, k);
}
/** `<op> x`: A = A op X. */
export function aluX(op: AluOp): Insn {
  return insn(BPF_ALU | ALU_OPS[op] | BPF_X);
}
/** `neg`: A = -A. */
export function neg(): Insn {
  return insn(BPF_ALU | BPF_NEG);
}
/** `tax`: X = A. */
export function tax(): Insn {
  return insn(BPF_MISC | BPF_TAX);
}
/** `txa`: A = X. */
export function txa(): Insn {
  return insn(BPF_MISC | BPF_TXA);
}
/** `ja +k`: skip k instructions. */
export function jump(k: number): Insn {
  return insn(BPF_JMP | BPF_JA, k);
}
/** `<op> #k, +jt, +jf`: compare A with k; skip jt when true, jf when false. */
export function jumpIf(op: JumpOp, k: number, jt: number, jf: number): Insn {
  return insn(BPF_JMP | JUMP_OPS[op] | BPF_K, k, jt, jf);
}
/** `<op> x, +jt, +jf`: compare A with X. */
export function jumpIfX(op: JumpOp, jt: number, jf: number): Insn {
  return insn(BPF_JMP | JUMP_OPS[op] | BPF_X, 0, jt, jf);
}
/** `ret #k`: return the constant k. */
export function ret(k: number): Insn {
  return insn(BPF_RET | BPF_K, k);
}
/** `ret a`: return A. */
export function retA(): Insn {
  return insn(BPF_RET | BPF_A);
}

// ---------------------------------------------------------------------------
// Classifier.

/** The instruction kinds of classic BPF, one per family. */
export type InsnKind =
  | { kind: "loadAbs"; size: LoadSize; k: number }
  | { kind: "loadInd"; size: LoadSize; k: number }
  | { kind: "loadConst"; k: number }
  | { kind: "loadLen" }
  | { kind: "loadMem"; k: number }
  | { kind: "loadXConst"; k: number }
  | { kind: "loadXLen" }
  | { kind: "loadXMem"; k: number }
  | { kind: "loadXMsh"; k: number }
  | { kind: "store"; k: number }
  | { kind: "storeX"; k: number }
  | { kind: "aluK"; op: AluOp; k: number }
  | { kind: "aluX"; op: AluOp }
  | { kind: "neg" }
  | { kind: "tax" }
  | { kind: "txa" }
  | { kind: "jump"; k: number }
  | { kind: "jumpIf"; op: JumpOp; k: number; jt: number; jf: number }
  | { kind: "jumpIfX"; op: JumpOp; jt: number; jf: number }
  | { kind: "ret"; k: number }
  | { kind: "retA" }
  | { kind: "invalid"; code: number };

const ALU_BY_CODE = new Map<number, AluOp>(Object.entries(ALU_OPS).map(([n, v]) => [v, n as AluOp]));
const JUMP_BY_CODE = new Map<number, JumpOp>(Object.entries(JUMP_OPS).map(([n, v]) => [v, n as JumpOp]));

/**
 * Which kind of instruction `i` is, or "invalid" when its opcode is not in
 * the kernel's classic BPF code table (`chk_code_allowed` in net/core/filter.c).
 * Exact: a single stray bit (e.g. BPF_X on NEG, a size on ST) makes it invalid.
 */
export function classify(i: Insn): InsnKind {
  const c = i.code;
  const k = i.k >>> 0;
  switch (c) {
    case BPF_LD | BPF_W | BPF_ABS:
      return { kind: "loadAbs", size: 4, k };
    case BPF_LD | BPF_H | BPF_ABS:
      return { kind: "loadAbs", size: 2, k };
    case BPF_LD | BPF_B | BPF_ABS:
      return { kind: "loadAbs", size: 1, k };
    case BPF_LD | BPF_W | BPF_IND:
      return { kind: "loadInd", size: 4, k };
    case BPF_LD | BPF_H | BPF_IND:
      return { kind: "loadInd", size: 2, k };
    case BPF_LD | BPF_B | BPF_IND:
      return { kind: "loadInd", size: 1, k };
    case BPF_LD | BPF_W | BPF_LEN:
      return { kind: "loadLen" };
    case BPF_LD | BPF_IMM:
      return { kind: "loadConst", k };
    case BPF_LD | BPF_MEM:
      return { kind: "loadMem", k };
    case BPF_LDX | BPF_W | BPF_IMM:
      return { kind: "loadXConst", k };
    case BPF_LDX | BPF_W | BPF_LEN:
      return { kind: "loadXLen" };
    case BPF_LDX | BPF_MEM:
      return { kind: "loadXMem", k };
    case BPF_LDX | BPF_B | BPF_MSH:
      return { kind: "loadXMsh", k };
    case BPF_ST:
      return { kind: "store", k };
    case BPF_STX:
      return { kind: "storeX", k };
    case BPF_ALU | BPF_NEG:
      return { kind: "neg" };
    case BPF_MISC | BPF_TAX:
      return { kind: "tax" };
    case BPF_MISC | BPF_TXA:
      return { kind: "txa" };
    case BPF_RET | BPF_K:
      return { kind: "ret", k };
    case BPF_RET | BPF_A:
      return { kind: "retA" };
    case BPF_JMP | BPF_JA:
      return { kind: "jump", k };
  }
  if (c < 0x100 && bpfClass(c) === BPF_ALU) {
    const op = ALU_BY_CODE.get(bpfOp(c));
    if (op !== undefined && (c & ~0xf8) === BPF_ALU) {
      return bpfSrc(c) === BPF_K ? { kind: "aluK", op, k } : { kind: "aluX", op };
    }
  }
  if (c < 0x100 && bpfClass(c) === BPF_JMP) {
    const op = JUMP_BY_CODE.get(bpfOp(c));
    if (op !== undefined && (c & ~0xf8) === BPF_JMP) {
      return bpfSrc(c) === BPF_K ? { kind: "jumpIf", op, k, jt: i.jt, jf: i.jf } : { kind: "jumpIfX", op, jt: i.jt, jf: i.jf };
    }
  }
  return { kind: "invalid", code: c };
}

/** True for the conditional jumps (JEQ/JGT/JGE/JSET with K or X). */
export function isCondJump(code: number): boolean {
  const k = classify({ code, jt: 0, jf: 0, k: 0 }).kind;
  return k === "jumpIf" || k === "jumpIfX";
}

/** True when two instructions are bit-for-bit equal. */
export function insnEquals(a: Insn, b: Insn): boolean {
  return a.code === b.code && a.jt === b.jt && a.jf === b.jf && a.k >>> 0 === b.k >>> 0;
}
