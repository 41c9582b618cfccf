/**
 * Assembler for the text `disassemble` writes (and hand-written variations):
 *
 * ```
 * ; comment                      comments run from ';' to the end of the line
 * start:  ld [4]                 labels end with ':'; several may share a line
 *         jeq #0xc000003e, ok, bad   conditional: #k or x, true label, false label
 *         jne #59, L7            one label: jump there when true, else fall through
 * ok:     ret ALLOW              ret #k, ret a, or an action: ALLOW, ERRNO(1), TRAP(5), KILL_PROCESS …
 * bad:    ret #0x80000000
 * ```
 *
 * Mnemonics: ld/ldh/ldb [k] | [x + k]; ld #k | #len | M[k]; ldx #k | #len |
 * M[k] | 4*([k]&0xf); ldxb 4*([k]&0xf); st/stx M[k]; add sub mul div mod and
 * or xor lsh rsh (#k | x); neg; tax; txa; ja label (also jmp); jeq jgt jge
 * jset (and jne jlt jle, which swap the targets) with #k | x; ret; and
 * `.insn code, jt, jf, k` for any raw instruction. Constants are decimal or
 * 0x hex, at most 0xffffffff (a negative decimal is its 32-bit two's
 * complement). Errors name the line.
 *
 * Constants may also be names: `#AUDIT_ARCH_X86_64` (any ABI's AUDIT_ARCH),
 * `#X32_SYSCALL_BIT`, and syscall names, `#openat` or `#x32:read` (an ABI
 * prefix). An unprefixed syscall name is numbered on `arch` when given, else
 * on the ABI of the last AUDIT_ARCH constant a jump compared against above
 * it (the order in which such programs are written: check the arch, then
 * dispatch on nr); with neither it is an error naming the line. The
 * disassembler prints numbers (names only in comments), so its output
 * assembles to the same bytes whatever the options.
 */
import { ABIS, abisByAuditArch, lookupAbi, X32_SYSCALL_BIT, type AbiName } from "../abi/arch.js";
import { syscallNumber } from "../abi/tables.js";
import { SyscageError } from "../errors.js";
import { parseAction } from "./actions.js";
import {
  ALU_OPS,
  BPF_ABS,
  BPF_ALU,
  BPF_B,
  BPF_H,
  BPF_IND,
  BPF_JMP,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_MSH,
  BPF_W,
  BPF_X,
  JUMP_OPS,
  insn,
  jump,
  loadConst,
  loadLen,
  loadMem,
  loadXConst,
  loadXLen,
  loadXMem,
  neg,
  ret,
  retA,
  store,
  storeX,
  tax,
  txa,
  type AluOp,
  type Insn,
  type JumpOp,
} from "./insn.js";

interface PendingLine {
  line: number;
  mnemonic: string;
  operands: string[];
}

const LABEL_RE = /^([A-Za-z_.$][\w.$]*)\s*:/;

function splitOperands(s: string): string[] {
  const t = s.trim();
  if (t === "") return [];
  return t.split(",").map((x) => x.trim());
}

/** Options of {@link assemble}. */
export interface AssembleOptions {
  /** The ABI unprefixed syscall names are numbered on (else the arch compared last above, see the module doc). */
  arch?: AbiName;
}

/** Instructions and, for each, the 1-based line of the text it came from. */
export interface AssembledProgram {
  readonly insns: Insn[];
  readonly lines: readonly number[];
}

/**
 * Assemble text into instructions. `source` names the input in errors
 * (`source:line: …`). Throws SyscageError BPF_ASM.
 */
export function assemble(text: string, source = "<input>", opts: AssembleOptions = {}): Insn[] {
  return assembleProgram(text, source, opts).insns;
}

/** {@link assemble}, also giving the source line of each instruction (for the verifier's findings). */
export function assembleProgram(text: string, source = "<input>", opts: AssembleOptions = {}): AssembledProgram {
  const labels = new Map<string, number>();
  const pending: PendingLine[] = [];
  const err = (line: number, msg: string): SyscageError => new SyscageError("BPF_ASM", `${source}:${line}: ${msg}`);

  text.split(/\r?\n/).forEach((raw, n) => {
    const line = n + 1;
    const semi = raw.indexOf(";");
    let rest = (semi >= 0 ? raw.slice(0, semi) : raw).trim();
    for (;;) {
      const m = LABEL_RE.exec(rest);
      if (m === null) break;
      const name = m[1]!;
      if (labels.has(name)) throw err(line, `label "${name}" is defined twice; give each label one place`);
      labels.set(name, pending.length);
      rest = rest.slice(m[0].length).trim();
    }
    if (rest === "") return;
    const mm = /^(\S+)\s*(.*)$/.exec(rest)!;
    pending.push({ line, mnemonic: mm[1]!.toLowerCase(), operands: splitOperands(mm[2]!) });
  });

  const insns: Insn[] = [];
  const names: NameState = { ...(opts.arch !== undefined ? { arch: opts.arch } : {}), compared: undefined };
  pending.forEach((p, pc) => {
    insns.push(assembleOne(p, pc, labels, pending.length, names, (msg) => err(p.line, msg)));
  });
  return { insns, lines: pending.map((p) => p.line) };
}

/** What unprefixed syscall names are numbered on: the option, or the last AUDIT_ARCH compared. */
interface NameState {
  arch?: AbiName;
  compared: AbiName | undefined;
}

const AUDIT_ARCH_NAMES: ReadonlyMap<string, number> = new Map([...ABIS.values()].map((a) => [a.auditArchName.toUpperCase(), a.auditArch >>> 0]));

/** The value of a named constant (`AUDIT_ARCH_…`, `X32_SYSCALL_BIT`, a syscall, `abi:syscall`), or undefined when `t` is not a name. */
function namedConstant(t: string, names: NameState, fail: (msg: string) => SyscageError): number | undefined {
  const m = /^(?:([A-Za-z][\w]*):)?([A-Za-z_][\w]*)$/.exec(t);
  if (m === null) return undefined;
  const [, prefix, name] = m;
  if (prefix === undefined) {
    const arch = AUDIT_ARCH_NAMES.get(name!.toUpperCase());
    if (arch !== undefined) return arch;
    if (name!.toUpperCase() === "X32_SYSCALL_BIT") return X32_SYSCALL_BIT;
  }
  let abi: AbiName | undefined;
  if (prefix !== undefined) {
    abi = lookupAbi(prefix);
    if (abi === undefined) throw fail(`"${prefix}" in "#${t}" is not an ABI; write e.g. #x86_64:${name} or #x32:${name}`);
  } else {
    abi = names.arch ?? names.compared;
  }
  if (abi === undefined) {
    throw fail(`"#${t}" is not a number, and a syscall name needs an ABI: give --arch, write #x86_64:${name}, or compare the arch above this line (jne #AUDIT_ARCH_X86_64, …)`);
  }
  const nr = syscallNumber(abi, name!);
  if (nr === undefined) throw fail(`"#${t}": ${abi} has no syscall "${name}"`);
  return nr >>> 0;
}

function parseNumber(s: string, what: string, fail: (msg: string) => SyscageError): number {
  const t = s.trim();
  let v: number;
  if (/^0x[0-9a-f]+$/i.test(t)) v = Number.parseInt(t.slice(2), 16);
  else if (/^\d+$/.test(t)) v = Number(t);
  else if (/^-\d+$/.test(t)) {
    v = Number(t);
    if (v < -0x80000000) throw fail(`${what} "${s}" is below -2147483648`);
    return v >>> 0;
  } else throw fail(`${what} "${s}" is not a number; write decimal (59) or hex (0x3b)`);
  if (!Number.isSafeInteger(v) || v > 0xffffffff) throw fail(`${what} "${s}" does not fit in 32 bits (max 0xffffffff)`);
  return v;
}

function parseImm(s: string, fail: (msg: string) => SyscageError, names?: NameState): number {
  if (!s.startsWith("#")) throw fail(`expected a constant "#k", got "${s}"`);
  if (names !== undefined) {
    const v = namedConstant(s.slice(1).trim(), names, fail);
    if (v !== undefined) return v;
  }
  return parseNumber(s.slice(1), "constant", fail);
}

function assembleOne(
  p: PendingLine,
  pc: number,
  labels: ReadonlyMap<string, number>,
  count: number,
  names: NameState,
  fail: (msg: string) => SyscageError,
): Insn {
  const ops = p.operands;
  const m = p.mnemonic;
  const want = (n: number | readonly number[]): void => {
    const ok = typeof n === "number" ? ops.length === n : n.includes(ops.length);
    if (!ok) {
      const expected = typeof n === "number" ? String(n) : n.join(" or ");
      throw fail(`${m} takes ${expected} operand(s), got ${ops.length}`);
    }
  };
  const target = (name: string): number => {
    const t = labels.get(name);
    if (t === undefined) throw fail(`unknown label "${name}"`);
    if (t <= pc) throw fail(`jump to "${name}" goes backwards (instruction ${t} from ${pc}); BPF jumps only go forward`);
    if (t >= count) throw fail(`label "${name}" is at the end of the program, past the last instruction`);
    return t - pc - 1;
  };
  const mem = (s: string): number => {
    const mm = /^M\s*\[\s*(.+?)\s*\]$/i.exec(s);
    if (mm === null) throw fail(`expected a scratch cell "M[k]", got "${s}"`);
    return parseNumber(mm[1]!, "cell", fail);
  };
  const msh = (s: string): number | undefined => {
    const mm = /^4\s*\*\s*\(\s*\[\s*(.+?)\s*\]\s*&\s*0xf\s*\)$/i.exec(s);
    return mm === null ? undefined : parseNumber(mm[1]!, "offset", fail);
  };

  switch (m) {
    case "ld":
    case "ldh":
    case "ldb": {
      want(1);
      const o = ops[0]!;
      const size = m === "ld" ? BPF_W : m === "ldh" ? BPF_H : BPF_B;
      const ind = /^\[\s*x\s*\+\s*(.+?)\s*\]$/i.exec(o);
      if (ind !== null) return insn(BPF_LD | size | BPF_IND, parseNumber(ind[1]!, "offset", fail));
      const abs = /^\[\s*(.+?)\s*\]$/.exec(o);
      if (abs !== null) return insn(BPF_LD | size | BPF_ABS, parseNumber(abs[1]!, "offset", fail));
      if (m !== "ld") throw fail(`${m} takes "[k]" or "[x + k]", got "${o}"`);
      if (/^#?len$/i.test(o)) return loadLen();
      if (/^M\s*\[/i.test(o)) return loadMem(mem(o));
      return loadConst(parseImm(o, fail, names));
    }
    case "ldx":
    case "ldxb": {
      want(1);
      const o = ops[0]!;
      const s = msh(o);
      if (s !== undefined) return insn(BPF_LDX | BPF_B | BPF_MSH, s);
      if (m === "ldxb") throw fail(`ldxb takes "4*([k]&0xf)", got "${o}"`);
      if (/^#?len$/i.test(o)) return loadXLen();
      if (/^M\s*\[/i.test(o)) return loadXMem(mem(o));
      return loadXConst(parseImm(o, fail, names));
    }
    case "st":
      want(1);
      return store(mem(ops[0]!));
    case "stx":
      want(1);
      return storeX(mem(ops[0]!));
    case "neg":
      want(0);
      return neg();
    case "tax":
      want(0);
      return tax();
    case "txa":
      want(0);
      return txa();
    case "ret": {
      want(1);
      const o = ops[0]!;
      if (/^a$/i.test(o)) return retA();
      if (o.startsWith("#")) return ret(parseImm(o, fail));
      const v = parseAction(o);
      if (v === undefined) throw fail(`ret takes "#k", "a" or an action (ALLOW, ERRNO(1), KILL_PROCESS, …), got "${o}"`);
      return ret(v);
    }
    case "ja":
    case "jmp":
      want(1);
      return jump(target(ops[0]!));
    case ".insn": {
      want(4);
      const code = parseNumber(ops[0]!, "code", fail);
      const jt = parseNumber(ops[1]!, "jt", fail);
      const jf = parseNumber(ops[2]!, "jf", fail);
      if (code > 0xffff) throw fail(`code ${ops[0]} does not fit in 16 bits`);
      if (jt > 255 || jf > 255) throw fail("jt and jf must be 0..255");
      return insn(code, parseNumber(ops[3]!, "k", fail), jt, jf);
    }
    default:
      break;
  }
  if (m in ALU_OPS) {
    want(1);
    const o = ops[0]!;
    const op = ALU_OPS[m as AluOp];
    if (/^x$/i.test(o)) return insn(BPF_ALU | op | BPF_X);
    return insn(BPF_ALU | op | BPF_K, parseImm(o, fail, names));
  }
  const swapped: Readonly<Record<string, JumpOp>> = { jne: "jeq", jlt: "jge", jle: "jgt" };
  if (m in JUMP_OPS || m in swapped) {
    want([2, 3]);
    const base: JumpOp = m in JUMP_OPS ? (m as JumpOp) : swapped[m]!;
    const o = ops[0]!;
    const isX = /^x$/i.test(o);
    const k = isX ? 0 : parseImm(o, fail, names);
    if (!isX && base !== "jset") {
      const abi = abisByAuditArch(k)[0];
      if (abi !== undefined) names.compared = abi.name;
    }
    let jt = target(ops[1]!);
    let jf = ops.length === 3 ? target(ops[2]!) : 0;
    if (m in swapped) [jt, jf] = [jf, jt];
    const check = (off: number): void => {
      if (off > 255) throw fail(`conditional jump of ${off} instructions; jt/jf reach at most 255 forward (use ja for longer jumps)`);
    };
    check(jt);
    check(jf);
    return insn(BPF_JMP | JUMP_OPS[base] | (isX ? BPF_X : BPF_K), k, jt, jf);
  }
  throw fail(`unknown instruction "${m}"`);
}
