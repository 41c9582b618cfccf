/**
 * `prove`: does a seccomp program (or a stack of programs, run as the kernel
 * runs them) implement a policy? Checked EXHAUSTIVELY, not by sampling, for
 * programs whose only operations on `seccomp_data` words are comparisons with
 * constants — what every known seccomp compiler emits (syscage, libseccomp,
 * and therefore systemd, runc, crun, Docker, Podman).
 *
 * ## How
 *
 * A program sees 16 u32 words of `struct seccomp_data`: nr, arch, the two
 * words of the instruction pointer and the low/high words of the six
 * arguments (`ld [k]`, in the ABI's byte order). The method has two parts.
 *
 * 1. **Partition points per word.** A static pass over every program tracks
 *    what the accumulator, X and the scratch cells hold (a constant, or
 *    `(word & m) | o` — loads followed by `and`/`or` with constants) and
 *    collects every test a conditional jump applies to a word. Each test has
 *    one of two shapes:
 *      - an *interval* test `w == k`, `w > k`, `w >= k` (unmasked): its truth
 *        value changes only at the thresholds k and k+1;
 *      - a *cube* test `(w & M) == V` (from `and #m; jeq #k`, and `jset`,
 *        which is the negation of `(w & k) == 0`), or a union of cubes: a
 *        masked `and #m; jgt #k` (narrow C types: `and #0xffff`) holds
 *        exactly on the cubes where the first bit in which the masked value
 *        and k differ is 1 in the value ({@link cmpCubes}).
 *    The policy adds its own tests: for `nr`, every number of each configured
 *    ABI's table (a table number is its own class; the unnamed numbers
 *    between two table numbers all get the unknown action), the x32 boundary
 *    0x40000000 and -1; for `arch`, every AUDIT_ARCH value; for argument
 *    words, each condition's 64-bit constant split into its high and low
 *    words at the offsets each configured ABI's byte order gives, at the
 *    width the reference compares (64 bits, the low word only, or the low
 *    8/16 bits of a narrow C type: cubes as for a masked compare). A 64-bit
 *    unsigned comparison `a OP c` is a function of (hi(a) vs hi(c)) and
 *    (lo(a) vs lo(c)), each of which is an interval test on one word; a
 *    64-bit `(a & m) == v` is the conjunction of one cube test per word.
 *
 *    The tests on one word cut the 2^32 values into *cells* on which every
 *    test has a constant truth value: an interval cell between consecutive
 *    thresholds, intersected with an in/out choice for every cube. We compute
 *    one representative of every non-empty cell exactly (a smallest value
 *    per cell, by a bitwise search; see `solveCell`), so any satisfiable
 *    combination of the word's tests has a representative. This is the
 *    "k-1, k, k+1, and the masked values" rule, made exact for masks: for
 *    `(w & 0xf) == 5` within `0x100 <= w < 0x10f` the representative is
 *    0x105, which no fixed list of neighbours contains.
 *
 * 2. **Symbolic execution over the representatives.** Each program runs on a
 *    *box*: one set of representatives per word (initially all of them).
 *    A conditional jump on a word splits that word's set into the values for
 *    which it holds and those for which it does not, and both paths go on
 *    (an empty side is not taken). At a `ret`, the next program of the stack
 *    runs on the remaining box; after the last one, the kernel's stacking
 *    rule gives the value the stack returns, the same for every point of the
 *    box. The policy is then decided on the box: per (arch, nr); for a
 *    syscall with argument conditions, per argument the distinct truth
 *    vectors of its conditions over the box's (high, low) word pairs, and
 *    every combination of those. A difference is a counterexample with
 *    concrete `seccomp_data`.
 *
 * Why this is exhaustive: the program's result is a function of the truth
 * values of its tests, which are constant on each cell; so are the policy's.
 * Every reachable combination of cells is a box point of some path, and the
 * per-argument truth vectors range over every cell pair of the box.
 *
 * What falls back: a program that computes on words beyond `and`/`or` with
 * constants (add, sub, shifts, neg, mul, div, xor), compares two words
 * (`jeq x` with X holding a word), or returns a word (`ret a`). Such a path is checked on every
 * representative combination when there are at most `samples` of them and
 * otherwise on `samples` random points (seeded); the result says
 * `exhaustive+sampling` and why. A word with more than `maxCellsPerWord`
 * cells is cut off the same way, with a note.
 */
import type { ArgWidth } from "../abi/argtypes.js";
import { mulberry32 } from "../rng.js";
import { ABIS, getAbi, type AbiName } from "../abi/arch.js";
import { syscallName, syscallTable } from "../abi/tables.js";
import { isMoreRestrictive, SECCOMP_RET_ALLOW } from "../bpf/actions.js";
import { classify, type Insn, type JumpOp } from "../bpf/insn.js";
import { evaluateStack, type SeccompData } from "../bpf/interpret.js";
import { verify } from "../bpf/verify.js";
import { SyscageError } from "../errors.js";
import { abiForCall, conditionHolds, conditionWidth, decide, rulesFor, type CallData, type Decision } from "../policy/evaluate.js";
import type { Condition, Policy } from "../policy/model.js";

// ---- public types --------------------------------------------------------------------

/**
 * What a program is compared with. {@link policyReference} makes one from a
 * Policy (the usual case); tests build variants (e.g. a policy as an older
 * libseccomp could express it on one ABI).
 */
export interface ProveReference {
  /** The ABIs whose numbers and arches are checked (their tables give partition points). */
  readonly abis: readonly AbiName[];
  /** The decision for one call. */
  decide(call: CallData): Decision;
  /**
   * Every argument condition `decide` may test for `name` on `abi`, with the
   * number of low bits of the argument it compares. The decision must depend
   * on the arguments only through these.
   */
  conditions(abi: AbiName, name: string): readonly WidthCondition[];
}

/** A condition and how many low bits of its argument it compares (see `conditionWidth`). */
export interface WidthCondition {
  readonly condition: Condition;
  readonly bits: ArgWidth;
}

/** Options of {@link prove}. */
export interface ProveOptions {
  /** Points checked per path that needs sampling (default 2000). */
  readonly samples?: number;
  /** Seed of the sampling PRNG (default 1). */
  readonly seed?: number;
  /** Cells per word beyond which a word's partition is cut off (default 4096). */
  readonly maxCellsPerWord?: number;
}

/** A call on which the program and the policy disagree. */
export interface Counterexample {
  /** The concrete `seccomp_data` (nr as an int: -1, not 0xffffffff). */
  readonly data: SeccompData;
  /** AUDIT_ARCH name of `data.arch`, or hex for an arch no ABI uses. */
  readonly archName: string;
  /** The ABI the policy dispatches the call to (absent: bad arch). */
  readonly abi?: AbiName;
  /** The syscall name on that ABI, when the tables know the number. */
  readonly syscall?: string;
  /** What the program (stack) returns. */
  readonly program: { readonly ret: number; readonly decidedBy: number };
  /** What the policy decides, with its origin. */
  readonly policy: Decision;
}

/** The outcome of {@link prove}. */
export interface ProveResult {
  readonly equivalent: boolean;
  /** `exhaustive`: every cell checked; `exhaustive+sampling`: some paths were sampled (see `notes`). */
  readonly method: "exhaustive" | "exhaustive+sampling";
  /** Why sampling was needed, one line each. */
  readonly notes: readonly string[];
  /** The first difference found (absent when equivalent). */
  readonly counterexample?: Counterexample;
  readonly stats: ProveStats;
}

/** Size of the search, for reports and the benchmark. */
export interface ProveStats {
  /** Program instructions, summed over the stack. */
  readonly instructions: number;
  readonly programs: number;
  /** Representatives of nr, of arch, and the most of any other word. */
  readonly nrValues: number;
  readonly archValues: number;
  readonly maxWordValues: number;
  /** Paths through the stack that reached a final ret (boxes). */
  readonly paths: number;
  /** Policy decisions compared with the program. */
  readonly decisions: number;
  /** Concrete points run on sampled paths. */
  readonly sampled: number;
  readonly ms: number;
}

// ---- the reference from a policy ----------------------------------------------------

/** A {@link ProveReference} for a Policy: `decide()` and the conditions of the rules that apply to the syscall (rulesFor). */
export function policyReference(policy: Policy): ProveReference {
  return {
    abis: policy.abis,
    decide: (call) => decide(policy, call),
    conditions: (abi, name) =>
      rulesFor(policy, abi, name).flatMap((a) => a.rule.conditions.map((condition) => ({ condition, bits: conditionWidth(policy, abi, name, condition.arg) }))),
  };
}

// ---- words and symbolic values --------------------------------------------------------

const FULL = 0xffffffff;
const NWORDS = 16;
const WORD_NR = 0;
const WORD_ARCH = 1;

/** What a register holds: a constant, `(word & m) | o`, or something computed (`why`). */
type Sym = { readonly t: "c"; readonly v: number } | { readonly t: "w"; readonly w: number; readonly m: number; readonly o: number } | { readonly t: "x"; readonly why: string };

const cst = (v: number): Sym => ({ t: "c", v: v >>> 0 });
const wordSym = (w: number): Sym => ({ t: "w", w, m: FULL, o: 0 });

function symKey(s: Sym): string {
  return s.t === "c" ? `c${s.v}` : s.t === "w" ? `w${s.w}:${s.m}:${s.o}` : `x${s.why}`;
}

const bit = (v: number, b: number): number => (v >>> b) & 1;

/** `(w & m) == v`: a set of words with some bits fixed. */
export interface Cube {
  readonly m: number;
  readonly v: number;
}

/** A test on one word: its truth function, and the partition points it adds. */
interface WordTest {
  readonly w: number;
  readonly holds: (v: number) => boolean;
  readonly thresholds: readonly number[];
  readonly cubes: readonly Cube[];
}

type TestResult = { readonly t: "const"; readonly v: boolean } | { readonly t: "word"; readonly test: WordTest } | { readonly t: "unsupported"; readonly why: string };

function concreteJump(op: JumpOp, a: number, k: number): boolean {
  switch (op) {
    case "jeq":
      return a === k;
    case "jgt":
      return a > k;
    case "jge":
      return a >= k;
    case "jset":
      return ((a & k) >>> 0) !== 0;
  }
}

/** Thresholds of an unmasked comparison with k. */
function thresholdsOf(op: JumpOp, k: number): number[] {
  const next = k < FULL ? [k + 1] : [];
  return op === "jge" ? [k] : op === "jgt" ? next : [k, ...next];
}

/**
 * `((w & m) | o) > k` (or `>= k` for jge) as a union of disjoint cubes on w:
 * from the most significant bit, the first bit where the value and k differ
 * decides; bits of o are 1 and bits outside m|o are 0 in the value, the
 * others come from w. An empty list is "never"; a cube with mask 0 is
 * "always". This makes masked and narrow-type comparisons (`and #0xffff;
 * jgt #k`) exact cube tests.
 */
export function cmpCubes(m: number, o: number, op: "jgt" | "jge", k: number): Cube[] {
  const out: Cube[] = [];
  let M = 0;
  let V = 0;
  for (let q = 31; q >= 0; q--) {
    const bq = 2 ** q;
    const kq = bit(k, q);
    if ((o & bq) !== 0 || (m & bq) === 0) {
      const fq = (o & bq) !== 0 ? 1 : 0;
      if (fq > kq) {
        out.push({ m: M, v: V });
        return out;
      }
      if (fq < kq) return out;
      continue;
    }
    if (kq === 0) out.push({ m: (M + bq) >>> 0, v: (V + bq) >>> 0 });
    M = (M + bq) >>> 0;
    if (kq === 1) V = (V + bq) >>> 0;
  }
  if (op === "jge") out.push({ m: M, v: V });
  return out;
}

/** The test a conditional jump applies, in terms of one word (see the module doc). */
function jumpTest(a: Sym, op: JumpOp, k: number): TestResult {
  k = k >>> 0;
  if (a.t === "c") return { t: "const", v: concreteJump(op, a.v, k) };
  if (a.t === "x") return { t: "unsupported", why: a.why };
  const { w, m, o } = a;
  if (m === FULL && o === 0) {
    if (op === "jset") {
      if (k === 0) return { t: "const", v: false };
      return { t: "word", test: { w, holds: (v) => ((v & k) >>> 0) !== 0, thresholds: [], cubes: [{ m: k, v: 0 }] } };
    }
    return { t: "word", test: { w, holds: (v) => concreteJump(op, v, k), thresholds: thresholdsOf(op, k), cubes: [] } };
  }
  const f = (v: number): number => ((v & m) | o) >>> 0;
  if (op === "jeq") {
    // Bits of o are 1, bits outside m|o are 0; the rest come from the word.
    if (((o & ~k) >>> 0) !== 0 || ((k & ~m & ~o) >>> 0) !== 0) return { t: "const", v: false };
    const cm = (m & ~o) >>> 0;
    if (cm === 0) return { t: "const", v: true };
    return { t: "word", test: { w, holds: (v) => f(v) === k, thresholds: [], cubes: [{ m: cm, v: (k & cm) >>> 0 }] } };
  }
  if (op === "jset") {
    if (((o & k) >>> 0) !== 0) return { t: "const", v: true };
    const cm = (m & k) >>> 0;
    if (cm === 0) return { t: "const", v: false };
    return { t: "word", test: { w, holds: (v) => ((f(v) & k) >>> 0) !== 0, thresholds: [], cubes: [{ m: cm, v: 0 }] } };
  }
  // jgt / jge on a masked word: a union of cubes (see cmpCubes).
  const cubes = cmpCubes(m, o, op, k);
  if (cubes.length === 0) return { t: "const", v: false };
  if (cubes.some((c) => c.m === 0)) return { t: "const", v: true };
  const gt = op === "jgt";
  return { t: "word", test: { w, holds: (v) => (gt ? f(v) > k : f(v) >= k), thresholds: [], cubes } };
}

/** An ALU op applied to a symbolic accumulator. */
function aluSym(a: Sym, op: string, k: Sym, pc: number): Sym {
  if (a.t === "c" && k.t === "c") return cst(aluConst(op, a.v, k.v));
  if (a.t === "x") return a;
  if (k.t !== "c") return { t: "x", why: `instruction ${pc}: ${op} with X holding a word` };
  if (a.t === "w") {
    if (op === "and") return { t: "w", w: a.w, m: (a.m & k.v) >>> 0, o: (a.o & k.v) >>> 0 };
    if (op === "or") return { t: "w", w: a.w, m: a.m, o: (a.o | k.v) >>> 0 };
    if ((op === "add" || op === "sub" || op === "xor" || op === "lsh" || op === "rsh") && k.v === 0) return a;
    if ((op === "mul" || op === "div") && k.v === 1) return a;
    return { t: "x", why: `instruction ${pc}: ${op} on a word of seccomp_data` };
  }
  return a;
}

function aluConst(op: string, a: number, k: number): number {
  switch (op) {
    case "add":
      return (a + k) >>> 0;
    case "sub":
      return (a - k) >>> 0;
    case "mul":
      return Math.imul(a, k) >>> 0;
    case "div":
      return k === 0 ? 0 : Math.floor(a / k) >>> 0;
    case "mod":
      return k === 0 ? 0 : a % k >>> 0;
    case "and":
      return (a & k) >>> 0;
    case "or":
      return (a | k) >>> 0;
    case "xor":
      return (a ^ k) >>> 0;
    case "lsh":
      return (a << (k & 31)) >>> 0;
    case "rsh":
      return a >>> (k & 31);
    default:
      return 0;
  }
}

// ---- static pass: every test on every word ------------------------------------------------

interface WordPoints {
  readonly thresholds: Set<number>;
  readonly cubes: Map<string, Cube>;
}

function newPoints(): WordPoints[] {
  return Array.from({ length: NWORDS }, () => ({ thresholds: new Set<number>([0]), cubes: new Map<string, Cube>() }));
}

function addTest(points: WordPoints[], test: WordTest): void {
  const p = points[test.w]!;
  for (const t of test.thresholds) p.thresholds.add(t >>> 0);
  for (const c of test.cubes) addCube(p, c);
}

function addCube(p: WordPoints, c: Cube): void {
  const m = c.m >>> 0;
  const v = c.v >>> 0;
  if (m === 0 || ((v & ~m) >>> 0) !== 0) return; // constant truth value: no partition
  if (m === FULL) {
    p.thresholds.add(v);
    if (v < FULL) p.thresholds.add(v + 1);
    return;
  }
  p.cubes.set(`${m}:${v}`, { m, v });
}

/** Abstract register content: a few possible Syms, or anything. */
type AbsVal = readonly Sym[] | "top";
const ABS_CAP = 16;

function joinAbs(a: AbsVal | undefined, b: AbsVal): AbsVal {
  if (a === undefined) return b;
  if (a === "top" || b === "top") return "top";
  const m = new Map<string, Sym>();
  for (const s of [...a, ...b]) m.set(symKey(s), s);
  return m.size > ABS_CAP ? "top" : [...m.values()];
}

interface AbsState {
  a: AbsVal;
  x: AbsVal;
  mem: AbsVal[];
}

function joinState(s: AbsState | undefined, t: AbsState): AbsState {
  if (s === undefined) return { a: t.a, x: t.x, mem: [...t.mem] };
  return { a: joinAbs(s.a, t.a), x: joinAbs(s.x, t.x), mem: s.mem.map((v, i) => joinAbs(v, t.mem[i]!)) };
}

/**
 * Collect the tests of one program into `points` (a sound over-approximation:
 * where the accumulator's content is unknown, the constant becomes a
 * threshold of every word).
 */
function collectTests(insns: readonly Insn[], points: WordPoints[]): void {
  const states: (AbsState | undefined)[] = new Array<AbsState | undefined>(insns.length);
  states[0] = { a: [cst(0)], x: [cst(0)], mem: Array.from({ length: 16 }, (): AbsVal => [cst(0)]) };
  const flow = (to: number, s: AbsState): void => {
    if (to < insns.length) states[to] = joinState(states[to], s);
  };
  const everyWord = (op: JumpOp, k: number): void => {
    for (let w = 0; w < NWORDS; w++) {
      if (op === "jset") addCube(points[w]!, { m: k, v: 0 });
      else for (const t of thresholdsOf(op, k >>> 0)) points[w]!.thresholds.add(t);
    }
  };
  const mapAbs = (v: AbsVal, f: (s: Sym) => Sym): AbsVal => (v === "top" ? "top" : v.map(f));
  for (let pc = 0; pc < insns.length; pc++) {
    const s = states[pc];
    if (s === undefined) continue;
    const ins = insns[pc]!;
    const kind = classify(ins);
    const next = (st: AbsState): void => flow(pc + 1, st);
    switch (kind.kind) {
      case "loadAbs":
        next({ ...s, a: [wordSym(kind.k >>> 2)] });
        break;
      case "loadConst":
        next({ ...s, a: [cst(kind.k)] });
        break;
      case "loadLen":
        next({ ...s, a: [cst(64)] });
        break;
      case "loadMem":
        next({ ...s, a: s.mem[kind.k & 15]! });
        break;
      case "loadXConst":
        next({ ...s, x: [cst(kind.k)] });
        break;
      case "loadXLen":
        next({ ...s, x: [cst(64)] });
        break;
      case "loadXMem":
        next({ ...s, x: s.mem[kind.k & 15]! });
        break;
      case "store": {
        const mem = [...s.mem];
        mem[kind.k & 15] = s.a;
        next({ ...s, mem });
        break;
      }
      case "storeX": {
        const mem = [...s.mem];
        mem[kind.k & 15] = s.x;
        next({ ...s, mem });
        break;
      }
      case "aluK":
        next({ ...s, a: mapAbs(s.a, (v) => aluSym(v, kind.op, cst(kind.k), pc)) });
        break;
      case "aluX": {
        const xs = s.x;
        const a: AbsVal = s.a === "top" || xs === "top" ? "top" : s.a.flatMap((av) => xs.map((xv) => aluSym(av, kind.op, xv, pc)));
        next({ ...s, a: a === "top" || a.length > ABS_CAP ? "top" : a });
        break;
      }
      case "neg":
        next({ ...s, a: mapAbs(s.a, (v) => (v.t === "c" ? cst(-v.v) : v.t === "x" ? v : { t: "x", why: `instruction ${pc}: neg on a word` })) });
        break;
      case "tax":
        next({ ...s, x: s.a });
        break;
      case "txa":
        next({ ...s, a: s.x });
        break;
      case "jump":
        flow(pc + 1 + kind.k, s);
        break;
      case "jumpIf":
      case "jumpIfX": {
        const ks: number[] | "top" =
          kind.kind === "jumpIf" ? [kind.k] : s.x === "top" ? "top" : s.x.every((x) => x.t === "c") ? s.x.map((x) => (x as { v: number }).v) : "top";
        if (ks !== "top") {
          for (const k of ks) {
            if (s.a === "top") everyWord(kind.op, k);
            else
              for (const av of s.a) {
                const r = jumpTest(av, kind.op, k);
                if (r.t === "word") addTest(points, r.test);
                // A computed value compared with k: k is a partition point of every word (sampling covers the rest).
                else if (r.t === "unsupported") everyWord(kind.op, k);
              }
          }
        }
        flow(pc + 1 + kind.jt, s);
        flow(pc + 1 + kind.jf, s);
        break;
      }
      default:
        break; // ret, or an instruction verify() rejected
    }
  }
}

/** Partition points of one reference condition (see the module doc). */
function conditionPoints(points: WordPoints[], wc: WidthCondition, endian: "little" | "big"): void {
  const { condition: c, bits } = wc;
  const [lo, hi] = argWords(c.arg, endian);
  const width = (1n << BigInt(bits)) - 1n;
  const v = BigInt.asUintN(64, c.value) & width;
  const vh = Number(v >> 32n);
  const vl = Number(v & 0xffffffffn);
  const L = Number(width & 0xffffffffn);
  if (c.op === "MASKED_EQ") {
    const m = BigInt.asUintN(64, c.mask ?? 0n) & width;
    if (bits === 64) addCube(points[hi]!, { m: Number(m >> 32n), v: vh });
    addCube(points[lo]!, { m: Number(m & 0xffffffffn), v: vl });
    return;
  }
  if (bits === 64) addTest(points, { w: hi, holds: () => true, thresholds: thresholdsOf("jeq", vh), cubes: [] });
  if (bits >= 32) {
    addTest(points, { w: lo, holds: () => true, thresholds: thresholdsOf("jeq", vl), cubes: [] });
    return;
  }
  // Narrow type: the low `bits` bits of the low word, compared as a number.
  addCube(points[lo]!, { m: L, v: vl });
  for (const cube of cmpCubes(L, 0, "jgt", vl)) addCube(points[lo]!, cube);
}

// ---- cells of one word ----------------------------------------------------------------------


/**
 * The smallest w in [lo, hi] with (w & M) == V that lies in none of `neg`,
 * or undefined. A search over the bits from the most significant: a branch
 * is cut when it leaves [lo, hi], contradicts (M, V), or lies wholly inside a
 * negated cube. Once both bounds are left behind, only the bits some live
 * negated cube tests are branched on (0 first, so the first hit is the
 * smallest); the others are filled from V or 0. `budget.n` counts steps.
 */
export function solveCell(lo: number, hi: number, M: number, V: number, neg: readonly Cube[], budget: { n: number } = { n: 1e6 }): number | undefined {
  if (((V & ~M) >>> 0) !== 0 || lo > hi) return undefined;
  const assign = (negs: readonly Cube[], base: number): number | undefined => {
    if (negs.length === 0) return base;
    if (--budget.n < 0) return undefined;
    const relevant = negs.reduce((a, n) => (a | n.m) >>> 0, 0);
    const q = 31 - Math.clz32(relevant);
    const bq = 2 ** q;
    for (let x = 0; x <= 1; x++) {
      const nn: Cube[] = [];
      let dead = false;
      for (const n of negs) {
        if ((n.m & bq) !== 0 && bit(n.v, q) !== x) continue; // this cube is avoided
        const m = (n.m & ~bq) >>> 0;
        if (m === 0) {
          dead = true; // every remaining value is inside this cube
          break;
        }
        nn.push({ m, v: (n.v & m) >>> 0 });
      }
      if (dead) continue;
      const r = assign(nn, x === 1 ? (base + bq) >>> 0 : base);
      if (r !== undefined) return r;
    }
    return undefined;
  };
  const free = (below: number, prefix: number, alive: readonly Cube[]): number | undefined => {
    const negs: Cube[] = [];
    for (const n of alive) {
      if ((((n.m & M & below) >>> 0) & ((n.v ^ V) >>> 0)) !== 0) continue; // V's fixed bits avoid it
      const m = (n.m & below & ~M) >>> 0;
      if (m === 0) return undefined;
      negs.push({ m, v: (n.v & m) >>> 0 });
    }
    return assign(negs, (prefix | (V & below)) >>> 0);
  };
  const rec = (b: number, prefix: number, tLo: boolean, tHi: boolean, alive: readonly Cube[]): number | undefined => {
    if (--budget.n < 0) return undefined;
    const below = b >= 31 ? FULL : b < 0 ? 0 : (2 ** (b + 1) - 1) >>> 0;
    for (const n of alive) if (((n.m & below) >>> 0) === 0) return undefined;
    if (b < 0) return prefix;
    if (!tLo && !tHi) return free(below, prefix, alive);
    const bm = 2 ** b;
    for (let x = 0; x <= 1; x++) {
      if ((M & bm) !== 0 && bit(V, b) !== x) continue;
      if (tLo && x < bit(lo, b)) continue;
      if (tHi && x > bit(hi, b)) continue;
      const nAlive = alive.filter((n) => (n.m & bm) === 0 || bit(n.v, b) === x);
      const r = rec(b - 1, x === 1 ? (prefix + bm) >>> 0 : prefix, tLo && x === bit(lo, b), tHi && x === bit(hi, b), nAlive);
      if (r !== undefined) return r;
    }
    return undefined;
  };
  return rec(31, 0, true, true, neg);
}

interface Cell {
  readonly lo: number;
  readonly hi: number;
  readonly M: number;
  readonly V: number;
  readonly neg: readonly Cube[];
  readonly rep: number;
}

/** One representative of every non-empty cell of a word's tests (plus `extra`). */
function wordRepresentatives(p: WordPoints, extra: readonly number[], maxCells: number): { reps: number[]; cut: boolean } {
  const th = [...p.thresholds].sort((a, b) => a - b);
  let cells: Cell[] = th.map((lo, i) => {
    const hi = i + 1 < th.length ? th[i + 1]! - 1 : FULL;
    return { lo, hi, M: 0, V: 0, neg: [], rep: lo };
  });
  let cut = false;
  const budget = { n: 5e6 };
  for (const c of p.cubes.values()) {
    if (cut) break;
    const next: Cell[] = [];
    for (const cell of cells) {
      const inside = ((cell.rep & c.m) >>> 0) === c.v;
      // The cell split by c: the part inside c and the part outside.
      const conflict = (((cell.V ^ c.v) & cell.M & c.m) >>> 0) !== 0;
      const M2 = (cell.M | c.m) >>> 0;
      const V2 = (cell.V | c.v) >>> 0;
      const inRep = inside ? cell.rep : conflict ? undefined : solveCell(cell.lo, cell.hi, M2, V2, cell.neg, budget);
      const outRep = !inside ? cell.rep : solveCell(cell.lo, cell.hi, cell.M, cell.V, [...cell.neg, c], budget);
      if (inRep !== undefined) next.push({ ...cell, M: M2, V: V2, rep: inRep });
      if (outRep !== undefined) next.push({ ...cell, neg: [...cell.neg, c], rep: outRep });
    }
    if (budget.n < 0 || next.length > maxCells) {
      cut = true;
      break;
    }
    cells = next;
  }
  const reps = new Set<number>(cells.map((c) => c.rep));
  for (const e of extra) reps.add(e >>> 0);
  return { reps: [...reps].sort((a, b) => a - b), cut };
}

// ---- the search ----------------------------------------------------------------------------------

export type Box = readonly (readonly number[])[];

interface Frame {
  prog: number;
  pc: number;
  a: Sym;
  x: Sym;
  mem: Sym[];
  box: Box;
  rets: number[];
}

const rng = mulberry32;

const ARCH_ENDIAN = new Map<number, "little" | "big">([...ABIS.values()].reverse().map((a) => [a.auditArch, a.endian]));

function endianOf(arch: number): "little" | "big" {
  return ARCH_ENDIAN.get(arch >>> 0) ?? "little";
}

/** Words of argument i: [low, high] for a byte order. */
function argWords(i: number, endian: "little" | "big"): [number, number] {
  return endian === "little" ? [4 + 2 * i, 5 + 2 * i] : [5 + 2 * i, 4 + 2 * i];
}

function u64(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** seccomp_data of one point, from word values. */
function dataOf(words: readonly number[], endian: "little" | "big"): SeccompData {
  const args: bigint[] = [];
  for (let i = 0; i < 6; i++) {
    const [lo, hi] = argWords(i, endian);
    args.push(u64(words[hi]!, words[lo]!));
  }
  const ip = endian === "little" ? u64(words[3]!, words[2]!) : u64(words[2]!, words[3]!);
  return { nr: words[WORD_NR]! | 0, arch: words[WORD_ARCH]! >>> 0, instructionPointer: ip, args };
}

function stackRet(rets: readonly number[]): { ret: number; decidedBy: number } {
  let ret = SECCOMP_RET_ALLOW;
  let decidedBy = -1;
  for (let i = rets.length - 1; i >= 0; i--) {
    if (isMoreRestrictive(rets[i]!, ret)) {
      ret = rets[i]! >>> 0;
      decidedBy = i;
    }
  }
  return { ret: ret >>> 0, decidedBy };
}

class Found extends Error {
  constructor(readonly cex: Counterexample) {
    super("counterexample");
  }
}

/**
 * Check that `programs` (a stack, oldest first, run as the kernel runs
 * stacked filters; one program for a single filter) implement `policy` on
 * every syscall number, every arch and every region of argument space their
 * constants delimit (see the module doc). `policy` may be a Policy or a
 * {@link ProveReference}.
 * @throws SyscageError BPF_INVALID when a program would not load, NO_PROGRAM for an empty stack.
 */
export function prove(programs: readonly (readonly Insn[])[], policy: Policy | ProveReference, opts: ProveOptions = {}): ProveResult {
  const t0 = performance.now();
  if (programs.length === 0) throw new SyscageError("NO_PROGRAM", "prove: no program given");
  programs.forEach((p, i) => {
    const f = verify(p);
    if (f.length > 0) {
      const which = programs.length > 1 ? `program ${i + 1} of the stack` : "the program";
      throw new SyscageError("BPF_INVALID", `${which} would not load: instruction ${f[0]!.index}: ${f[0]!.rule}: ${f[0]!.message}`);
    }
  });
  const ref: ProveReference = "rules" in policy ? policyReference(policy) : policy;
  const samples = opts.samples ?? 2000;
  const notes: string[] = [];
  const note = (n: string): void => {
    if (!notes.includes(n)) notes.push(n);
  };

  // Partition points: the programs' tests, then the policy's.
  const endians = new Set(ref.abis.map((a) => getAbi(a).endian));
  const box0 = partitionBox(programs, ref.abis, opts, note, (points) => {
    for (const abi of ref.abis) {
      const names = new Set(syscallTable(abi).map((e) => e.name));
      for (const name of names) {
        for (const c of ref.conditions(abi, name)) for (const endian of endians) conditionPoints(points, c, endian);
      }
    }
  });

  // ---- deciding a box ----
  let paths = 0;
  let decisions = 0;
  let sampled = 0;
  const condCache = new Map<string, readonly WidthCondition[]>();
  const condsOf = (abi: AbiName, name: string): readonly WidthCondition[] => {
    const key = `${abi}:${name}`;
    let c = condCache.get(key);
    if (c === undefined) {
      c = ref.conditions(abi, name);
      condCache.set(key, c);
    }
    return c;
  };
  const configured = new Set(ref.abis.map((a) => getAbi(a).auditArch));

  const mismatch = (words: number[], got: { ret: number; decidedBy: number }): never => {
    const endian = endianOf(words[WORD_ARCH]!);
    const data = dataOf(words, endian);
    const d = ref.decide(data);
    // The program's value at the concrete point (it equals `got` unless the search has a bug).
    const real = evaluateStack(programs, data, endian);
    const abi = abiForCall({ abis: ref.abis }, data.arch, data.nr);
    const name = abi !== undefined ? syscallName(abi, data.nr >>> 0) : undefined;
    throw new Found({
      data,
      archName: ABIS_BY_ARCH.get(data.arch >>> 0) ?? `0x${(data.arch >>> 0).toString(16)}`,
      ...(abi !== undefined ? { abi } : {}),
      ...(name !== undefined ? { syscall: name } : {}),
      program: real.ret >>> 0 === got.ret ? got : { ret: real.ret >>> 0, decidedBy: real.decidedBy },
      policy: d,
    });
  };

  const check = (words: number[], got: { ret: number; decidedBy: number }): void => {
    decisions++;
    const d = ref.decide(dataOf(words, endianOf(words[WORD_ARCH]!)));
    if (d.ret >>> 0 !== got.ret) mismatch(words, got);
  };

  const decideBox = (box: Box, got: { ret: number; decidedBy: number }): void => {
    const words = box.map((s) => s[0]!);
    for (const arch of box[WORD_ARCH]!) {
      words[WORD_ARCH] = arch;
      words[WORD_NR] = box[WORD_NR]![0]!;
      if (!configured.has(arch)) {
        check(words, got);
        continue;
      }
      const endian = endianOf(arch);
      for (const nr of box[WORD_NR]!) {
        words[WORD_NR] = nr;
        const abi = abiForCall({ abis: ref.abis }, arch, nr);
        const name = abi !== undefined ? syscallName(abi, nr) : undefined;
        const conds = abi !== undefined && name !== undefined ? condsOf(abi, name) : [];
        if (conds.length === 0) {
          check(words, got);
          continue;
        }
        // Per argument: one (hi, lo) pair for each distinct truth vector of its conditions.
        const perArg: { lo: number; hi: number; pairs: [number, number][] }[] = [];
        for (let i = 0; i < 6; i++) {
          const ci = conds.filter((c) => c.condition.arg === i);
          if (ci.length === 0) continue;
          const [lo, hi] = argWords(i, endian);
          const his = ci.every((c) => c.bits <= 32) ? [box[hi]![0]!] : box[hi]!;
          const seen = new Map<string, [number, number]>();
          for (const h of his)
            for (const l of box[lo]!) {
              const v = u64(h, l);
              const sig = ci.map((c) => (conditionHolds(c.condition, v, c.bits) ? "1" : "0")).join("");
              if (!seen.has(sig)) seen.set(sig, [h, l]);
            }
          perArg.push({ lo, hi, pairs: [...seen.values()] });
        }
        const rec = (j: number): void => {
          if (j === perArg.length) {
            check(words, got);
            return;
          }
          const pa = perArg[j]!;
          for (const [h, l] of pa.pairs) {
            words[pa.hi] = h;
            words[pa.lo] = l;
            rec(j + 1);
          }
          words[pa.hi] = box[pa.hi]![0]!;
          words[pa.lo] = box[pa.lo]![0]!;
        };
        rec(0);
      }
    }
  };

  // ---- sampling fallback for one path ----
  const sampleBox = (box: Box, why: string): void => {
    note(`program uses arithmetic on seccomp_data (${why}): exhaustive over partition points for comparisons; that path is also checked by random sampling (${samples} points)`);
    const r = rng((opts.seed ?? 1) + sampled);
    const run = (words: number[]): void => {
      sampled++;
      const endian = endianOf(words[WORD_ARCH]!);
      const data = dataOf(words, endian);
      const res = evaluateStack(programs, data, endian);
      decisions++;
      if (ref.decide(data).ret >>> 0 !== res.ret >>> 0) mismatch(words, { ret: res.ret >>> 0, decidedBy: res.decidedBy });
    };
    // Every combination of the box's values when there are few; then random points: a box value,
    // a box value ± 1 or 2 (the partition points of the computed value's operands), or any u32.
    const size = box.reduce((n, s) => n * s.length, 1);
    if (size <= samples) {
      const words = box.map((s) => s[0]!);
      const rec = (w: number): void => {
        if (w === NWORDS) return run([...words]);
        for (const v of box[w]!) {
          words[w] = v;
          rec(w + 1);
        }
      };
      rec(0);
    }
    const pick = (s: readonly number[]): number => s[Math.floor(r() * s.length)]!;
    for (let i = 0; i < samples; i++) {
      run(
        box.map((s, w) => {
          const x = r();
          if (w <= WORD_ARCH || x < 0.4) return pick(s);
          if (x < 0.8) return (pick(s) + [1, 2, -1, -2][Math.floor(r() * 4)]!) >>> 0;
          return Math.floor(r() * 4294967296);
        }),
      );
    }
  };

  let result: Counterexample | undefined;
  try {
    paths = symbolicWalk(programs, box0, (box, rets) => decideBox(box, stackRet(rets)), sampleBox);
  } catch (e) {
    if (!(e instanceof Found)) throw e;
    result = e.cex;
  }
  const maxWordValues = Math.max(...box0.slice(2).map((s) => s.length));
  return {
    equivalent: result === undefined,
    method: notes.length === 0 ? "exhaustive" : "exhaustive+sampling",
    notes,
    ...(result !== undefined ? { counterexample: result } : {}),
    stats: {
      instructions: programs.reduce((n, p) => n + p.length, 0),
      programs: programs.length,
      nrValues: box0[WORD_NR]!.length,
      archValues: box0[WORD_ARCH]!.length,
      maxWordValues,
      paths,
      decisions,
      sampled,
      ms: performance.now() - t0,
    },
  };
}

const ABIS_BY_ARCH = new Map<number, string>([...ABIS.values()].reverse().map((a) => [a.auditArch, a.auditArchName]));

/**
 * Run `programs` (a stack, oldest first) symbolically from `box0`: every
 * path through every program, each program running on the box its
 * predecessors' paths left. `leaf` gets each final box with the value every
 * program returned on it (constant over the box); `unsupported` gets a box
 * on which some program computes on seccomp_data words (the caller samples
 * it). Returns the number of leaves. Exceptions thrown by the callbacks
 * propagate (that is how a search stops early).
 */
export function symbolicWalk(
  programs: readonly (readonly Insn[])[],
  box0: Box,
  leaf: (box: Box, rets: readonly number[]) => void,
  unsupported: (box: Box, why: string) => void,
): number {
  let paths = 0;
  const sampleBox = unsupported;
  const stack: Frame[] = [{ prog: 0, pc: 0, a: cst(0), x: cst(0), mem: Array.from({ length: 16 }, () => cst(0)), box: box0, rets: [] }];
  const split = (f: Frame, w: number, keep: readonly number[]): Box => {
    const b = [...f.box];
    b[w] = keep;
    return b;
  };
  while (stack.length > 0) {
    const f = stack.pop()!;
    let sampledPath = false;
    for (;;) {
      const insns = programs[f.prog]!;
      const ins = insns[f.pc]!;
      const kind = classify(ins);
      let retVal: number | undefined;
      switch (kind.kind) {
        case "loadAbs":
          f.a = wordSym(kind.k >>> 2);
          f.pc++;
          break;
        case "loadConst":
          f.a = cst(kind.k);
          f.pc++;
          break;
        case "loadLen":
          f.a = cst(64);
          f.pc++;
          break;
        case "loadMem":
          f.a = f.mem[kind.k & 15]!;
          f.pc++;
          break;
        case "loadXConst":
          f.x = cst(kind.k);
          f.pc++;
          break;
        case "loadXLen":
          f.x = cst(64);
          f.pc++;
          break;
        case "loadXMem":
          f.x = f.mem[kind.k & 15]!;
          f.pc++;
          break;
        case "store":
          f.mem = [...f.mem];
          f.mem[kind.k & 15] = f.a;
          f.pc++;
          break;
        case "storeX":
          f.mem = [...f.mem];
          f.mem[kind.k & 15] = f.x;
          f.pc++;
          break;
        case "aluK":
          f.a = aluSym(f.a, kind.op, cst(kind.k), f.pc);
          f.pc++;
          break;
        case "aluX":
          if (kind.op === "div" && f.x.t === "c" && f.x.v === 0) {
            retVal = 0; // division by zero ends the program with 0
            break;
          }
          f.a = aluSym(f.a, kind.op, f.x, f.pc);
          f.pc++;
          break;
        case "neg":
          f.a = f.a.t === "c" ? cst(-f.a.v) : f.a.t === "x" ? f.a : { t: "x", why: `instruction ${f.pc}: neg on a word` };
          f.pc++;
          break;
        case "tax":
          f.x = f.a;
          f.pc++;
          break;
        case "txa":
          f.a = f.x;
          f.pc++;
          break;
        case "jump":
          f.pc += 1 + kind.k;
          break;
        case "jumpIf":
        case "jumpIfX": {
          let r: TestResult;
          if (kind.kind === "jumpIf") r = jumpTest(f.a, kind.op, kind.k);
          else if (f.x.t === "c") r = jumpTest(f.a, kind.op, f.x.v);
          else if (f.a.t === "c" && f.x.t === "w" && kind.op !== "jset") {
            r = { t: "unsupported", why: `instruction ${f.pc}: a constant compared with X holding a word` };
          } else r = { t: "unsupported", why: `program ${f.prog + 1} instruction ${f.pc}: ${kind.op} x compares two computed values` };
          if (r.t === "const") {
            f.pc += 1 + (r.v ? kind.jt : kind.jf);
            break;
          }
          if (r.t === "unsupported") {
            sampleBox(f.box, r.why);
            sampledPath = true;
            break;
          }
          const { w, holds } = r.test;
          const yes: number[] = [];
          const no: number[] = [];
          for (const v of f.box[w]!) (holds(v) ? yes : no).push(v);
          if (yes.length === 0) f.pc += 1 + kind.jf;
          else if (no.length === 0) f.pc += 1 + kind.jt;
          else {
            stack.push({ ...f, mem: f.mem, rets: [...f.rets], box: split(f, w, no), pc: f.pc + 1 + kind.jf });
            f.box = split(f, w, yes);
            f.pc += 1 + kind.jt;
          }
          break;
        }
        case "ret":
          retVal = kind.k >>> 0;
          break;
        case "retA":
          if (f.a.t === "c") retVal = f.a.v;
          else {
            sampleBox(f.box, `program ${f.prog + 1} instruction ${f.pc}: ret a returns a value computed from seccomp_data`);
            sampledPath = true;
          }
          break;
        default:
          throw new SyscageError("BPF_INVALID", `program ${f.prog + 1} instruction ${f.pc}: opcode 0x${ins.code.toString(16)} is not allowed in seccomp filters`);
      }
      if (sampledPath) break;
      if (retVal !== undefined) {
        f.rets.push(retVal >>> 0);
        if (f.prog + 1 < programs.length) {
          f.prog++;
          f.pc = 0;
          f.a = cst(0);
          f.x = cst(0);
          f.mem = Array.from({ length: 16 }, () => cst(0));
          continue;
        }
        paths++;
        leaf(f.box, f.rets);
        break;
      }
    }
  }
  return paths;
}

/** Per-word partition points, for {@link partitionBox}'s `more`. */
export type PartitionPoints = WordPoints[];

/**
 * The initial box of a search over `programs`: one representative of every
 * cell of every word that the programs' tests (and `more`) delimit, with every
 * number of each ABI's table its own class of `nr`, every AUDIT_ARCH value its
 * own class of `arch`. A word with more than `opts.maxCellsPerWord` cells is
 * cut off and gets 64 random values (reported through `note`).
 */
export function partitionBox(
  programs: readonly (readonly Insn[])[],
  abis: readonly AbiName[],
  opts: ProveOptions,
  note: (n: string) => void,
  more?: (points: PartitionPoints) => void,
): number[][] {
  const maxCells = opts.maxCellsPerWord ?? 4096;
  const points = newPoints();
  for (const p of programs) collectTests(p, points);
  for (const abi of abis) {
    for (const e of syscallTable(abi)) addTest(points, { w: WORD_NR, holds: () => true, thresholds: [e.nr, e.nr + 1], cubes: [] });
  }
  more?.(points);
  for (const t of [0x40000000, FULL]) points[WORD_NR]!.thresholds.add(t);
  for (const a of ABIS.values()) addTest(points, { w: WORD_ARCH, holds: () => true, thresholds: [a.auditArch, a.auditArch + 1], cubes: [] });
  const box0: number[][] = [];
  const cutRng = rng(opts.seed ?? 1);
  for (let w = 0; w < NWORDS; w++) {
    const extra = w === WORD_NR ? [0x3fffffff, 0x7fffffff, 0x80000000, 0xfffffffe, FULL] : [FULL];
    const { reps, cut } = wordRepresentatives(points[w]!, extra, maxCells);
    if (cut) {
      for (let i = 0; i < 64; i++) reps.push(Math.floor(cutRng() * 4294967296));
      note(`word ${w} of seccomp_data has more than ${maxCells} cells (many masked tests): its partition was cut off, and 64 random values were added (sampling)`);
    }
    box0.push([...new Set(reps)]);
  }
  return box0;
}

/** The concrete `seccomp_data` of one point of a box (word values), in the byte order of its arch. */
export function pointData(words: readonly number[]): SeccompData {
  return dataOf(words, endianOf(words[WORD_ARCH]!));
}

/** The byte order of an AUDIT_ARCH value (little for one no ABI uses). */
export function archEndian(arch: number): "little" | "big" {
  return endianOf(arch);
}

/** AUDIT_ARCH name of an arch value, or hex for one no ABI uses. */
export function archName(arch: number): string {
  return ABIS_BY_ARCH.get(arch >>> 0) ?? `0x${(arch >>> 0).toString(16)}`;
}

/** The value a stack returns, given each filter's value (oldest first), and which filter decided (-1: all allowed). */
export function stackValue(rets: readonly number[]): { ret: number; decidedBy: number } {
  return stackRet(rets);
}

/** Word indexes of seccomp_data: nr 0, arch 1, then ip and the arguments. */
export const SECCOMP_WORDS = { nr: WORD_NR, arch: WORD_ARCH, count: NWORDS } as const;
