/**
 * Policy algebra: is one policy at least as strict as another (`within`),
 * and the policies whose action for every call is the strictest
 * (`intersect`) or the least strict (`union`) of several policies' actions.
 *
 * ## Order
 *
 * Actions are ordered as the kernel orders stacked filters' results:
 * KILL_PROCESS > KILL_THREAD > TRAP > ERRNO > USER_NOTIF > TRACE > LOG >
 * ALLOW ("stricter" is earlier). A value whose action bits the kernel does
 * not know counts as KILL_PROCESS, as the kernel acts on it. ERRNO numbers
 * and TRAP/TRACE data are compared only under `exactData`.
 *
 * ## Within, exactly
 *
 * A is within B when for every `seccomp_data` — every arch value, every
 * number, every argument vector — A's action is at least as strict as B's.
 * An arch a side does not cover gets that side's bad-arch action (that is
 * what its program does), so an ABI that only B covers needs A's bad-arch
 * action to be at least as strict as what B does there.
 *
 * The decision is prove's (prove.ts): both sides are compiled (a policy
 * through `withRoutes`, as every consumer reads it; a raw program is taken
 * as it is), the programs' comparisons cut every word of `seccomp_data` into
 * cells, and one symbolic walk goes through every path of A's program and,
 * on the box each path leaves, every path of B's. At the end of a path both
 * programs return constants on the whole box, so comparing them there decides
 * the box. Nothing is sampled unless a raw program computes on the words
 * (then prove's sampling fallback applies and `method` says so).
 *
 * ## Intersect and union, as policies
 *
 * The semantics of a Policy (model.ts) is "the most restrictive matching
 * rule, else the default". Per syscall name, every input that has rules for it
 * is made *total* by adding its complement: the DNF of "none of its rules
 * match" (negated comparisons; a negated MASKED_EQ is one single-bit test per
 * mask bit), with the input's default action and origin. Then
 *
 * - intersect: max(A(c), B(c)) is the most restrictive of all matching rules
 *   of the total forms, so the result's rules are the union of the total
 *   forms; an input without rules for the name adds its default as a floor;
 *   complements another input's rules always dominate are left out;
 * - union: min(max_i a_i, max_j b_j) = max_{i,j} min(a_i, b_j), so the
 *   result's rules are the products of one rule of each total form, with the
 *   least strict of their actions (and of the defaults of inputs without
 *   rules for the name) and the conjunction of their conditions, simplified
 *   per argument (intervals, combined masks) and dropped when unsatisfiable.
 *
 * Rules keep the origin of the input rule (or default) whose action they
 * carry. Every input is first read through `withRoutes`, so its closed routes
 * and `network: false` become explicit rules and the result has `routes:
 * "open"`. socketcall/ipc are built from the rules each input applies to them
 * (its own and those its unconditional sub-call rules route there). The
 * result is checked by {@link proveMerge} against the inputs with the same
 * exhaustive walk: within each input (intersect) or each input within it
 * (union), and equal to the exact combination.
 *
 * Library code: never prints.
 */
import { argWidth, type ArgWidth } from "../abi/argtypes.js";
import { ABIS, getAbi, type AbiName } from "../abi/arch.js";
import { multiplexedAs, SUBCALL_ARG_MASK, type Multiplexer } from "../abi/multiplex.js";
import { syscallName, syscallNumber } from "../abi/tables.js";
import { ACTION_VALUES, actionPrecedence, decodeAction, formatAction } from "../bpf/actions.js";
import type { Insn } from "../bpf/insn.js";
import { evaluateStack, type SeccompData } from "../bpf/interpret.js";
import { verify } from "../bpf/verify.js";
import { compile } from "../compile/index.js";
import { SyscageError } from "../errors.js";
import { mulberry32 } from "../rng.js";
import { abiForCall, conditionHolds, decide, rulesFor } from "../policy/evaluate.js";
import { ACTION_RANK, formatPolicyAction, limitsAbis, type Action, type ArgIndex, type Condition, type FilterFlag, type OriginAction, type Policy, type Rule } from "../policy/model.js";
import { withRoutes } from "../policy/routes.js";
import { retText } from "./diff.js";
import { explain } from "./explain.js";
import { archName, partitionBox, pointData, SECCOMP_WORDS, stackValue, symbolicWalk, type Box, type ProveOptions } from "./prove.js";

// ---- sources ------------------------------------------------------------------------------

/** A raw program (or a stack of them, oldest first) and the ABIs whose syscall names it is read with. */
export interface ProgramSource {
  readonly kind: "program";
  readonly programs: readonly (readonly Insn[])[];
  readonly abis: readonly AbiName[];
}

/** What `within` compares: a Policy, or raw programs. */
export type RelationSource = Policy | ProgramSource;

function isPolicy(s: RelationSource): s is Policy {
  return "rules" in s;
}

function sourceAbis(s: RelationSource): readonly AbiName[] {
  return s.abis;
}

function sourcePrograms(s: RelationSource): readonly (readonly Insn[])[] {
  if (isPolicy(s)) return [compile(s).insns];
  if (s.programs.length === 0) throw new SyscageError("NO_PROGRAM", "within: a program side has no program");
  s.programs.forEach((p, i) => {
    const f = verify(p);
    if (f.length > 0) throw new SyscageError("BPF_INVALID", `program ${i + 1} would not load: instruction ${f[0]!.index}: ${f[0]!.rule}: ${f[0]!.message}`);
  });
  return s.programs;
}

// ---- the order ------------------------------------------------------------------------------

/** Precedence of a filter value as the kernel acts on it (lower is stricter; an unknown action is KILL_PROCESS). */
export function strictnessKey(ret: number): number {
  const d = decodeAction(ret);
  return actionPrecedence(ACTION_VALUES[d.action]);
}

/** Is value `a` at least as strict as `b`? With `exactData`, equal actions must also carry equal data. */
export function atLeastAsStrict(a: number, b: number, exactData = false): boolean {
  const ka = strictnessKey(a);
  const kb = strictnessKey(b);
  if (ka !== kb) return ka < kb;
  return !exactData || decodeAction(a).data === decodeAction(b).data;
}

// ---- the walk over several sources -----------------------------------------------------------

interface WalkStats {
  /** Instructions of every program of every side. */
  readonly instructions: number;
  readonly paths: number;
  readonly nrValues: number;
  readonly archValues: number;
  readonly sampled: number;
  readonly ms: number;
}

/**
 * Walk every path of every side's programs together (prove's symbolic walk
 * over the concatenated programs); `leaf` gets each box with the value each
 * side returns on it.
 */
function walkSides(
  sides: readonly RelationSource[],
  opts: ProveOptions,
  leaf: (box: Box, values: readonly number[]) => void,
): { stats: WalkStats; notes: string[]; method: "exhaustive" | "exhaustive+sampling" } {
  const t0 = performance.now();
  const progs = sides.map(sourcePrograms);
  const all = progs.flat();
  const ranges: [number, number][] = [];
  let at = 0;
  for (const p of progs) {
    ranges.push([at, at + p.length]);
    at += p.length;
  }
  const abis = [...new Set(sides.flatMap(sourceAbis))];
  const notes: string[] = [];
  const note = (n: string): void => {
    if (!notes.includes(n)) notes.push(n);
  };
  const box0 = partitionBox(all, abis, opts, note);
  const valuesOf = (rets: readonly number[]): number[] => ranges.map(([a, b]) => stackValue(rets.slice(a, b)).ret);
  const samples = opts.samples ?? 2000;
  let sampled = 0;
  const paths = symbolicWalk(all, box0, (box, rets) => leaf(box, valuesOf(rets)), (box, why) => {
    note(`a program computes on seccomp_data (${why}): that path is checked on ${samples} sampled points`);
    const r = mulberry32((opts.seed ?? 1) + sampled);
    for (let i = 0; i < samples; i++) {
      const words = box.map((s, w) => (w <= SECCOMP_WORDS.arch || r() < 0.6 ? s[Math.floor(r() * s.length)]! : Math.floor(r() * 4294967296)));
      const data = pointData(words);
      const endian = ABIS_BY_ARCH_ENDIAN.get(data.arch >>> 0) ?? "little";
      sampled++;
      leaf(
        words.map((v) => [v]),
        progs.map((p) => evaluateStack(p, data, endian).ret >>> 0),
      );
    }
  });
  return {
    stats: { instructions: all.reduce((n, p) => n + p.length, 0), paths, nrValues: box0[SECCOMP_WORDS.nr]!.length, archValues: box0[SECCOMP_WORDS.arch]!.length, sampled, ms: performance.now() - t0 },
    notes,
    method: notes.length === 0 ? "exhaustive" : "exhaustive+sampling",
  };
}

const ABIS_BY_ARCH_ENDIAN = new Map<number, "little" | "big">([...ABIS.values()].reverse().map((a) => [a.auditArch, a.endian]));

/** One call, located. */
export interface RelationCall {
  /** The concrete `seccomp_data` (nr as an int). */
  readonly data: SeccompData;
  /** AUDIT_ARCH name of `data.arch`, or hex. */
  readonly archName: string;
  /** The ABI the call belongs to among the sides' ABIs (absent: an arch none covers). */
  readonly abi?: AbiName;
  /** Its syscall name on that ABI (absent: a number the tables do not name). */
  readonly syscall?: string;
}

/** What one side does with a call. */
export interface SideValue {
  /** The 32-bit filter value. */
  readonly ret: number;
  /** "ERRNO(EPERM)", errno named on the call's ABI. */
  readonly action: string;
  /** Why: the explanation of a policy side (explain's summary), or what the program returns. */
  readonly why?: string;
}

/** A call on which A is not within B. */
export interface WithinDifference extends RelationCall {
  readonly a: SideValue;
  readonly b: SideValue;
  /** "looser": A's action is less strict than B's; "data": same action, other data (under exactData). */
  readonly kind: "looser" | "data";
}

/** Options of {@link within}. */
export interface WithinOptions extends ProveOptions {
  /** Compare ERRNO numbers and TRAP/TRACE data too (default: the action only). */
  readonly exactData?: boolean;
  /** Differences reported in full, one per (ABI, syscall) (default 10; Infinity for all). `total` counts every one. */
  readonly limit?: number;
}

/** The outcome of {@link within}. */
export interface WithinResult {
  readonly within: boolean;
  readonly method: "exhaustive" | "exhaustive+sampling";
  readonly notes: readonly string[];
  /** One per differing (ABI, syscall) — numbers no table names count once per ABI, arches no side covers once — up to `limit`, in the sides' ABI order, then by number. */
  readonly differences: readonly WithinDifference[];
  /** Every differing (ABI, syscall). */
  readonly total: number;
  readonly stats: WalkStats;
}

function locate(words: readonly number[], abis: readonly AbiName[]): RelationCall {
  const data = pointData(words);
  const abi = abiForCall({ abis }, data.arch, data.nr);
  const name = abi !== undefined ? syscallName(abi, data.nr >>> 0) : undefined;
  return { data, archName: archName(data.arch), ...(abi !== undefined ? { abi } : {}), ...(name !== undefined ? { syscall: name } : {}) };
}

/** "ALLOW", "ERRNO(EPERM)" for a value on a call's ABI (the first covered one for a bad arch). */
function valueText(ret: number, abi: AbiName | undefined): string {
  return abi !== undefined ? retText(ret, abi) : formatAction(ret);
}

/** Why a side returns what it does on a call (see {@link SideValue.why}). */
export function sideWhy(side: RelationSource, call: RelationCall): string {
  if (!isPolicy(side)) return `the program returns ${formatAction(evaluateStack(side.programs, call.data, ABIS_BY_ARCH_ENDIAN.get(call.data.arch >>> 0) ?? "little").ret)}`;
  const d = decide(side, call.data);
  if (d.reason === "badArch") return `${formatPolicyAction(d.action)}: ${d.origin}`;
  if (d.abi === undefined) return d.origin;
  try {
    return explain(side, { syscall: call.data.nr, abi: d.abi, args: call.data.args }).abis[0]!.summary;
  } catch {
    return d.origin;
  }
}

/**
 * Is `a` within `b` (see the module doc)? Exact: decided by the exhaustive
 * walk of both programs, every arch, number and argument region.
 */
export function within(a: RelationSource, b: RelationSource, opts: WithinOptions = {}): WithinResult {
  const limit = opts.limit ?? 10;
  const exact = opts.exactData === true;
  const abis = [...new Set([...sourceAbis(a), ...sourceAbis(b)])];
  const found = new Map<string, { words: number[]; va: number; vb: number }>();
  const walk = walkSides([a, b], opts, (box, [va, vb]) => {
    if (atLeastAsStrict(va!, vb!, exact)) return;
    const words = box.map((s) => s[0]!);
    for (const arch of box[SECCOMP_WORDS.arch]!) {
      words[SECCOMP_WORDS.arch] = arch;
      const covered = abis.some((x) => getAbi(x).auditArch === arch >>> 0);
      for (const nr of covered ? box[SECCOMP_WORDS.nr]! : [box[SECCOMP_WORDS.nr]![0]!]) {
        words[SECCOMP_WORDS.nr] = nr;
        const abi = abiForCall({ abis }, arch, nr | 0);
        const name = abi !== undefined ? syscallName(abi, nr >>> 0) : undefined;
        const key = abi !== undefined ? `${abi}:${name ?? "(unknown numbers)"}` : covered ? `${archName(arch)}: numbers outside the ABIs` : "(arches no side covers)";
        const seen = found.get(key);
        // Keep the smallest (arch, nr) per key, so the report does not depend on the walk's order.
        if (seen === undefined || arch < seen.words[1]! || (arch === seen.words[1]! && nr < seen.words[0]!)) found.set(key, { words: [...words], va: va!, vb: vb! });
      }
    }
  });
  // In the sides' ABI order (native first), then by number; arches no side covers last.
  const rank = (w: readonly number[]): number => {
    const abi = abiForCall({ abis }, w[SECCOMP_WORDS.arch]!, w[SECCOMP_WORDS.nr]! | 0);
    return abi === undefined ? abis.length : abis.indexOf(abi);
  };
  const sorted = [...found.values()].sort((x, y) => rank(x.words) - rank(y.words) || x.words[1]! - y.words[1]! || x.words[0]! - y.words[0]!);
  const differences = sorted.slice(0, limit).map(({ words, va, vb }): WithinDifference => {
    const call = locate(words, abis);
    return {
      ...call,
      a: { ret: va, action: valueText(va, call.abi), why: sideWhy(a, call) },
      b: { ret: vb, action: valueText(vb, call.abi), why: sideWhy(b, call) },
      kind: strictnessKey(va) !== strictnessKey(vb) ? "looser" : "data",
    };
  });
  return { within: found.size === 0, method: walk.method, notes: walk.notes, differences, total: found.size, stats: walk.stats };
}

// ---- intersect and union --------------------------------------------------------------------

/** Which combination. */
export type MergeKind = "intersect" | "union";

const stricter = (a: Action, b: Action): boolean => ACTION_RANK[a.kind] < ACTION_RANK[b.kind];

/** The strictest (intersect) or least strict (union) of several origin-actions; the first on a tie. */
function pick(kind: MergeKind, xs: readonly OriginAction[]): OriginAction {
  let best = xs[0]!;
  for (const x of xs.slice(1)) if (kind === "intersect" ? stricter(x.action, best.action) : stricter(best.action, x.action)) best = x;
  return best;
}

/** A rule body while merging: conditions (ANDed), action and origin. */
interface Term {
  readonly conditions: readonly Condition[];
  readonly action: Action;
  readonly origin: string;
}

const MAX_TERMS = 4096;

/** Compare widths of argument `arg` of `name` over the ABIs that have `name` (the set of bit counts). */
type Widths = (name: string, arg: number) => readonly number[];

function widthsFor(abis: readonly AbiName[], mode: Policy["argumentWidth"]): Widths {
  const cache = new Map<string, number[]>();
  return (name, arg) => {
    const key = `${name}/${arg}`;
    let w = cache.get(key);
    if (w === undefined) {
      const has = abis.filter((a) => syscallNumber(a, name) !== undefined);
      w = [...new Set(has.map((a) => (mode === "u64" ? getAbi(a).argBits : argWidth(a, name, arg))))].sort((x, y) => x - y);
      cache.set(key, w);
    }
    return w;
  };
}

const hexb = (v: bigint): string => `0x${v.toString(16)}`;

function notExpressible(name: string, why: string): never {
  throw new SyscageError("MERGE_UNSUPPORTED", `cannot merge the rules for ${name}: ${why}. Merge policies for fewer ABIs (--arch), or give them the same --argument-width`);
}

/** A MASKED_EQ whose mask keeps every compared bit on every ABI is an EQ. */
function plain(c: Condition, name: string, widths: Widths): Condition {
  if (c.op !== "MASKED_EQ") return c;
  const ws = widths(name, c.arg);
  const m = c.mask ?? 0n;
  return ws.length > 0 && ws.every((w) => (m & ((1n << BigInt(w)) - 1n)) === (1n << BigInt(w)) - 1n) ? { arg: c.arg, op: "EQ", value: c.value } : c;
}

/** ¬c as a DNF (a list of conjunctions; [] is false, [[]] is true). */
function negate(given: Condition, name: string, widths: Widths): Condition[][] {
  const c = plain(given, name, widths);
  switch (c.op) {
    case "EQ":
      return [[{ arg: c.arg, op: "NE", value: c.value }]];
    case "NE":
      return [[{ arg: c.arg, op: "EQ", value: c.value }]];
    case "LT":
      return [[{ arg: c.arg, op: "GE", value: c.value }]];
    case "LE":
      return [[{ arg: c.arg, op: "GT", value: c.value }]];
    case "GT":
      return [[{ arg: c.arg, op: "LE", value: c.value }]];
    case "GE":
      return [[{ arg: c.arg, op: "LT", value: c.value }]];
    case "MASKED_EQ": {
      const ws = widths(name, c.arg);
      if (ws.length === 0) return [];
      const wmin = ws[0]!;
      const wmax = ws[ws.length - 1]!;
      const mask = c.mask ?? 0n;
      const falseAt = ws.map((w) => (c.value & ~mask & ((1n << BigInt(w)) - 1n)) !== 0n);
      if (falseAt.every((x) => x)) return [[]];
      if (falseAt.some((x) => x)) notExpressible(name, `arg${c.arg} & ${hexb(mask)} == ${hexb(c.value)} is never true on some ABIs and can be on others (argument widths ${ws.join("/")} bits)`);
      const out: Condition[][] = [];
      for (let b = 0; b < 64; b++) {
        const bit = 1n << BigInt(b);
        if ((mask & bit) === 0n || b >= wmax) continue;
        if (b >= wmin) notExpressible(name, `the negation of arg${c.arg} & ${hexb(mask)} == ${hexb(c.value)} tests bit ${b}, which is compared on some ABIs and not on others (argument widths ${ws.join("/")} bits)`);
        out.push([{ arg: c.arg, op: "MASKED_EQ", mask: bit, value: ~c.value & bit }]);
      }
      return out;
    }
  }
}

/** Sorted disjoint closed intervals. */
type Intervals = [bigint, bigint][];

function intervalsOf(c: Condition, max: bigint): Intervals {
  const v = c.value & max;
  switch (c.op) {
    case "EQ":
      return [[v, v]];
    case "NE":
      return [...(v > 0n ? [[0n, v - 1n] as [bigint, bigint]] : []), ...(v < max ? [[v + 1n, max] as [bigint, bigint]] : [])];
    case "LT":
      return v > 0n ? [[0n, v - 1n]] : [];
    case "LE":
      return [[0n, v]];
    case "GT":
      return v < max ? [[v + 1n, max]] : [];
    case "GE":
      return [[v, max]];
    case "MASKED_EQ":
      throw new Error("intervalsOf: MASKED_EQ");
  }
}

function intersectIntervals(a: Intervals, b: Intervals): Intervals {
  const out: Intervals = [];
  for (const [lo1, hi1] of a)
    for (const [lo2, hi2] of b) {
      const lo = lo1 > lo2 ? lo1 : lo2;
      const hi = hi1 < hi2 ? hi1 : hi2;
      if (lo <= hi) out.push([lo, hi]);
    }
  return out.sort((x, y) => (x[0] < y[0] ? -1 : 1));
}

/** [lo, hi] as aligned blocks (mask, value): the fewest MASKED_EQ tests that cover it exactly. */
function blocks(lo: bigint, hi: bigint, max: bigint): { mask: bigint; value: bigint }[] {
  const out: { mask: bigint; value: bigint }[] = [];
  while (lo <= hi) {
    let size = 1n;
    while ((lo & (size * 2n - 1n)) === 0n && lo + size * 2n - 1n <= hi && size * 2n - 1n <= max) size *= 2n;
    out.push({ mask: max & ~(size - 1n), value: lo });
    lo += size;
  }
  return out;
}

/**
 * Conditions on `arg` for one interval list and a mask test (M, V) that also
 * holds: alternatives (ORed), each ONE condition or none (container
 * profiles cannot AND two tests of one argument), or [] when unsatisfiable.
 */
function intervalConditions(arg: ArgIndex, iv: Intervals, max: bigint, M: bigint, V: bigint): Condition[][] {
  const masked = (m: bigint, v: bigint): Condition[][] => {
    if (((v ^ V) & m & M) !== 0n) return [];
    const mm = m | M;
    const vv = (v & m) | V;
    return [[mm === max ? { arg, op: "EQ", value: vv } : { arg, op: "MASKED_EQ", mask: mm, value: vv }]];
  };
  if (M === 0n) {
    if (iv.length === 1 && iv[0]![0] === 0n && iv[0]![1] === max) return [[]];
    // The whole range but one value: NE.
    if (iv.length === 2 && iv[0]![0] === 0n && iv[1]![1] === max && iv[1]![0] === iv[0]![1] + 2n) return [[{ arg, op: "NE", value: iv[0]![1] + 1n }]];
    if (iv.length === 1 && iv[0]![0] === 0n && iv[0]![1] === max - 1n) return [[{ arg, op: "NE", value: max }]];
    if (iv.length === 1 && iv[0]![0] === 1n && iv[0]![1] === max) return [[{ arg, op: "NE", value: 0n }]];
  }
  return iv.flatMap(([lo, hi]): Condition[][] => {
    if (M === 0n) {
      if (lo === hi) return [[{ arg, op: "EQ", value: lo }]];
      if (lo === 0n) return [[{ arg, op: "LE", value: hi }]];
      if (hi === max) return [[{ arg, op: "GE", value: lo }]];
    } else if (lo === 0n && hi === max) return masked(0n, 0n);
    return blocks(lo, hi, max).flatMap((b) => masked(b.mask, b.value));
  });
}

/**
 * A conjunction simplified per argument, as a DNF ([] when unsatisfiable):
 * where the argument has one compare width on every ABI, its comparisons
 * become intervals (intersected, written back as EQ/NE/LE/GE, one
 * alternative per interval) and its masked tests one combined mask;
 * otherwise the conditions stay as written.
 */
function simplify(conds: readonly Condition[], name: string, widths: Widths): Condition[][] {
  const byArg = new Map<ArgIndex, Condition[]>();
  for (const c of conds) byArg.set(c.arg, [...(byArg.get(c.arg) ?? []), c]);
  let dnf: Condition[][] = [[]];
  for (const [arg, cs] of [...byArg].sort((x, y) => x[0] - y[0])) {
    const ws = widths(name, arg);
    let alts: Condition[][];
    const dedup = [...new Map(cs.map((g) => plain(g, name, widths)).map((c) => [`${c.op}:${c.value}:${c.mask ?? ""}`, c])).values()];
    if (ws.length !== 1) alts = [dedup];
    else {
      const max = (1n << BigInt(ws[0]!)) - 1n;
      let iv: Intervals = [[0n, max]];
      let M = 0n;
      let V = 0n;
      let dead = false;
      for (const c of dedup) {
        if (c.op !== "MASKED_EQ") {
          iv = intersectIntervals(iv, intervalsOf(c, max));
          continue;
        }
        const m = (c.mask ?? 0n) & max;
        const v = c.value & max;
        if ((v & ~m) !== 0n || ((V ^ v) & M & m) !== 0n) dead = true;
        M |= m;
        V |= v & m;
      }
      if (dead || iv.length === 0) return [];
      alts = intervalConditions(arg, iv, max, M, V);
      if (alts.length === 0) return [];
    }
    const next: Condition[][] = [];
    for (const t of dnf) for (const a of alts) next.push([...t, ...a]);
    if (next.length > MAX_TERMS) notExpressible(name, `more than ${MAX_TERMS} argument cases`);
    dnf = next;
  }
  return dnf;
}

/** "None of these rules match", as a DNF (simplified). */
function complement(rules: readonly Term[], name: string, widths: Widths): Condition[][] {
  let dnf: Condition[][] = [[]];
  for (const r of rules) {
    if (r.conditions.length === 0) return [];
    const neg = r.conditions.flatMap((c) => negate(c, name, widths));
    const next: Condition[][] = [];
    for (const t of dnf) for (const n of neg) next.push(...simplify([...t, ...n], name, widths));
    if (next.length > MAX_TERMS) notExpressible(name, `the complement of its rules has more than ${MAX_TERMS} argument cases`);
    dnf = dedupDnf(next);
    if (dnf.length === 0) return [];
  }
  return dnf;
}

function condKey(c: Condition): string {
  return `${c.arg}${c.op}${c.value}/${c.mask ?? ""}`;
}

function dedupDnf(dnf: readonly Condition[][]): Condition[][] {
  return [...new Map(dnf.map((t) => [[...t].map(condKey).sort().join("&"), t])).values()];
}

/** A normalized input: the policy as enforced, its rules by name. */
interface Input {
  readonly policy: Policy;
  readonly byName: ReadonlyMap<string, readonly Term[]>;
}

/** Always true, on any width: keeps a rule on a sub-call from being routed to socketcall/ipc. */
const ALWAYS: Condition = Object.freeze({ arg: 0, op: "GE", value: 0n });

/**
 * The rules an input applies to a multiplexer on the merged ABIs: its own and
 * those its unconditional sub-call rules route there (rulesFor). They must be
 * the same on every ABI that has the multiplexer.
 */
function multiplexerTerms(p: Policy, via: Multiplexer, abis: readonly AbiName[]): Term[] | undefined {
  let seen: { key: string; terms: Term[] } | undefined;
  for (const abi of abis) {
    if (syscallNumber(abi, via) === undefined) continue;
    const terms = rulesFor(p, abi, via).map((a): Term => ({ conditions: a.rule.conditions, action: a.rule.action, origin: a.rule.origin }));
    const key = JSON.stringify(terms.map((t) => [t.conditions.map(condKey), formatPolicyAction(t.action)]));
    if (seen === undefined) seen = { key, terms };
    else if (seen.key !== key) notExpressible(via, `its sub-calls are routed differently on ${abis.filter((a) => syscallNumber(a, via) !== undefined).join(", ")}`);
  }
  return seen?.terms;
}

/** Settings the inputs must share, or combine: ABIs, argument width, flags. */
function commonSettings(kind: MergeKind, inputs: readonly Policy[]): { abis: AbiName[]; argumentWidth: NonNullable<Policy["argumentWidth"]>; flags: FilterFlag[] } {
  const first = inputs[0]!;
  let abis: AbiName[];
  if (kind === "intersect") {
    abis = first.abis.filter((a) => inputs.every((p) => p.abis.includes(a)));
    if (abis.length === 0) throw new SyscageError("MERGE_UNSUPPORTED", `intersect: the policies cover no ABI in common (${inputs.map((p) => p.abis.join("+")).join(" / ")})`);
  } else {
    const key = (p: Policy): string => [...p.abis].sort().join(",");
    const odd = inputs.find((p) => key(p) !== key(first));
    if (odd !== undefined) {
      throw new SyscageError("MERGE_UNSUPPORTED", `union: the policies cover different ABIs (${first.abis.join(", ")} / ${odd.abis.join(", ")}); a union cannot say "as the one policy that covers it" per ABI. Give every input the same ABIs (--arch)`);
    }
    abis = [...first.abis];
  }
  const modes = [...new Set(inputs.map((p) => p.argumentWidth ?? "kernel"))];
  let argumentWidth = modes[0]!;
  if (modes.length > 1) {
    // Allowed when no condition compares differently under the two modes.
    const k = widthsFor(abis, "kernel");
    const u = widthsFor(abis, "u64");
    for (const p of inputs)
      for (const r of withRoutes(p).rules)
        for (const c of r.conditions)
          if (k(r.syscall, c.arg).join() !== u(r.syscall, c.arg).join()) {
            throw new SyscageError(
              "MERGE_UNSUPPORTED",
              `the policies read arguments differently (argumentWidth ${modes.join(" vs ")}) and ${r.origin} (${r.syscall} arg${c.arg}) compares ${k(r.syscall, c.arg).join("/")} bits under one and ${u(r.syscall, c.arg).join("/")} under the other; give them the same --argument-width`,
            );
          }
    argumentWidth = "kernel";
  }
  const all = [...new Set(inputs.flatMap((p) => p.flags))];
  // SPEC_ALLOW turns a mitigation off: an intersection keeps it only when every input has it.
  const flags = kind === "intersect" ? all.filter((f) => f !== "SPEC_ALLOW" || inputs.every((p) => p.flags.includes(f))) : all;
  return { abis, argumentWidth, flags };
}

function normalize(p: Policy): Input {
  const q = withRoutes(p);
  const limited = q.rules.find((r) => limitsAbis(r, q));
  if (limited !== undefined) {
    throw new SyscageError(
      "MERGE_UNSUPPORTED",
      `${limited.origin} applies on ${limited.abis!.join(", ")} only, and merge does not combine rules limited to some ABIs yet; merge policies for one ABI each (--arch), or compare with check --within, which reads the programs`,
    );
  }
  const byName = new Map<string, Term[]>();
  for (const r of q.rules) byName.set(r.syscall, [...(byName.get(r.syscall) ?? []), { conditions: r.conditions, action: r.action, origin: r.origin }]);
  return { policy: q, byName };
}

/** Is `name` a socket/IPC call routed through a multiplexer on one of `abis`? */
function isSubcall(name: string, abis: readonly AbiName[]): boolean {
  return abis.some((a) => multiplexedAs(a, name) !== undefined);
}

/**
 * One input's rules for a name as a partition: each rule minus the rules
 * whose different action would win over it (stricter, or the same kind
 * earlier), and the complement with the input's default. Every call matches
 * exactly one member's action (members with the same action may overlap, and
 * so may a rule whose action `keepsOverlap` says always dominates the products
 * it is part of).
 */
function partition(rules: readonly Term[], def: OriginAction, name: string, widths: Widths, keepsOverlap: (a: Action) => boolean): Term[] {
  const order = rules.map((r, i) => ({ r, i })).sort((x, y) => ACTION_RANK[x.r.action.kind] - ACTION_RANK[y.r.action.kind] || x.i - y.i);
  const out: Term[] = [];
  order.forEach(({ r }, k) => {
    const above = order
      .slice(0, k)
      .map((o) => o.r)
      .filter((o) => formatPolicyAction(o.action) !== formatPolicyAction(r.action) && !keepsOverlap(o.action));
    const comp = complement(above, name, widths);
    for (const c of comp) for (const t of simplify([...r.conditions, ...c], name, widths)) out.push({ ...r, conditions: t });
  });
  for (const c of complement(rules, name, widths)) out.push({ conditions: c, action: def.action, origin: def.origin });
  return out;
}

/**
 * The rules of the merged policy for one syscall name (see the module doc):
 * the products of one member of each input's partition, with the strictest
 * (intersect) or least strict (union) action of the members and of the
 * defaults of the inputs without rules for the name. The products are
 * disjoint, so those with the merged default's action are left out (unless
 * `keepDefault` says one may overlap a rule routed to a multiplexer).
 * `terms[i]` is input i's rules for the name (undefined: none), `defaults[i]` its default.
 */
function mergeName(
  kind: MergeKind,
  name: string,
  terms: readonly (readonly Term[] | undefined)[],
  defaults: readonly OriginAction[],
  result: OriginAction,
  abis: readonly AbiName[],
  widths: Widths,
  keepDefault: (t: Term) => boolean,
): Term[] {
  const F = terms.map((t, i) => (t !== undefined && t.length > 0 ? i : -1)).filter((i) => i >= 0);
  const G = terms.map((_t, i) => i).filter((i) => !F.includes(i));
  if (F.length === 0) return [];
  // The floor (intersect) or ceiling (union) of the inputs without rules for the name.
  const bound = G.length > 0 ? pick(kind, G.map((i) => defaults[i]!)) : undefined;
  const wins = (x: Action, y: Action): boolean => (kind === "intersect" ? stricter(x, y) : stricter(y, x));
  let products: Term[] | undefined;
  for (const i of F) {
    // Intersect: a product with a member stricter than the merged default is stricter than it too, so
    // it is never left out, and where it overlaps a weaker member's product it wins, as in its input.
    const fam = partition(terms[i]!, defaults[i]!, name, widths, (a) => kind === "intersect" && stricter(a, result.action));
    if (products === undefined) {
      products = fam;
      continue;
    }
    const next: Term[] = [];
    for (const p of products)
      for (const t of fam)
        for (const c of simplify([...p.conditions, ...t.conditions], name, widths)) {
          const w = wins(t.action, p.action) ? t : p;
          next.push({ conditions: c, action: w.action, origin: w.origin });
        }
    if (next.length > MAX_TERMS) notExpressible(name, `merging its rules gives more than ${MAX_TERMS} argument cases`);
    products = dedupTerms(next);
  }
  let out = products!;
  if (bound !== undefined) out = out.map((p) => (wins(bound.action, p.action) ? { conditions: p.conditions, action: bound.action, origin: bound.origin } : p));
  out = out.filter((t) => formatPolicyAction(t.action) !== formatPolicyAction(result.action) || keepDefault(t));
  // An unconditional rule on socket, semop, … is also routed to socketcall/ipc (rulesFor); where an input
  // without rules for the name decided its action, that route is not what the inputs do there.
  const sub = isSubcall(name, abis) && G.length > 0;
  return dedupTerms(out.map((p) => (sub && p.conditions.length === 0 ? { ...p, conditions: [ALWAYS] } : p)));
}

function dedupTerms(ts: readonly Term[]): Term[] {
  return [...new Map(ts.map((t) => [`${[...t.conditions].map(condKey).sort().join("&")}|${formatPolicyAction(t.action)}`, t])).values()];
}

function mergePolicies(kind: MergeKind, given: readonly Policy[]): Policy {
  if (given.length === 0) throw new SyscageError("BAD_USAGE", `${kind}: no policy given`);
  const inputs = given.map(normalize);
  const { abis, argumentWidth, flags } = commonSettings(kind, inputs.map((i) => i.policy));
  const widths = widthsFor(abis, argumentWidth);
  const defaults = inputs.map((i) => i.policy.default);
  const def = pick(kind, defaults);
  const names = new Set(inputs.flatMap((i) => [...i.byName.keys()]));
  const muxes: Multiplexer[] = ["socketcall", "ipc"];
  const rules: Rule[] = [];
  const add = (name: string, ts: readonly Term[]): void => {
    for (const t of ts) rules.push({ syscall: name, action: t.action, conditions: t.conditions, origin: t.origin });
  };
  for (const name of names) {
    if ((muxes as string[]).includes(name)) continue;
    add(name, mergeName(kind, name, inputs.map((i) => i.byName.get(name)), defaults, def, abis, widths, () => false));
  }
  for (const mux of muxes) {
    const terms = inputs.map((i) => multiplexerTerms(i.policy, mux, abis));
    if (terms.every((t) => t === undefined || t.length === 0)) continue;
    // The merged policy's own unconditional sub-call rules are routed here too (rulesFor): a case with the
    // default's action stays explicit where such a route can reach it, or the route would decide there.
    const routes = rules.filter((r) => r.conditions.length === 0).flatMap((r) => abis.map((a) => multiplexedAs(a, r.syscall)).filter((m) => m?.via === mux).slice(0, 1)).map((m) => BigInt(m!.subcall));
    const ws = widths(mux, 0);
    const exact = ws.length === 1 && (BigInt(SUBCALL_ARG_MASK[mux]) & ((1n << BigInt(ws[0]!)) - 1n)) === (1n << BigInt(ws[0]!)) - 1n;
    const reached = (t: Term): boolean =>
      routes.length > 0 && (!exact || routes.some((k) => t.conditions.filter((c) => c.arg === 0).every((c) => conditionHolds(c, k, ws[0]! as ArgWidth))));
    add(mux, mergeName(kind, mux, terms, defaults, def, abis, widths, reached));
  }
  const listener = inputs.map((i) => i.policy.listener).find((l) => l !== undefined);
  return {
    rules,
    default: def,
    unknown: pick(kind, inputs.map((i) => i.policy.unknown)),
    badArch: pick(kind, inputs.map((i) => i.policy.badArch)),
    abis,
    flags,
    argumentWidth,
    routes: "open",
    ...(listener !== undefined ? { listener } : {}),
  };
}

/**
 * The policy whose action for every call is the strictest of the inputs'
 * (see the module doc), on the ABIs they all cover. Check it with
 * {@link proveMerge} (the CLI does before writing it).
 * @throws SyscageError MERGE_UNSUPPORTED when the inputs' rules cannot be combined into one policy.
 */
export function intersect(...policies: Policy[]): Policy {
  return mergePolicies("intersect", policies);
}

/**
 * The policy whose action for every call is the least strict of the inputs'
 * (see the module doc). The inputs must cover the same ABIs.
 * @throws SyscageError MERGE_UNSUPPORTED as {@link intersect}, and for different ABIs.
 */
export function union(...policies: Policy[]): Policy {
  return mergePolicies("union", policies);
}

/** A call where a merged policy is not what it should be. */
export interface MergeFailure extends RelationCall {
  /** The merged policy's value. */
  readonly merged: SideValue;
  /** Each input's value, in input order. */
  readonly inputs: readonly SideValue[];
  /** "bound": not within an input (intersect) or an input not within it (union); "inexact": stricter (intersect) or looser (union) than needed, though bounded. */
  readonly kind: "bound" | "inexact";
}

/** The outcome of {@link proveMerge}. */
export interface MergeProof {
  /** Intersect: within every input; union: every input within it. */
  readonly bounded: boolean;
  /** Its action is, on every call, exactly the strictest (least strict) of the inputs' actions. */
  readonly exact: boolean;
  readonly method: "exhaustive" | "exhaustive+sampling";
  readonly notes: readonly string[];
  /** The first few failures (bound failures first). */
  readonly failures: readonly MergeFailure[];
  readonly stats: WalkStats;
}

/**
 * Check a merged policy against its inputs, exhaustively (one walk over the
 * merged program and every input's): bounded (the relation the merge must
 * satisfy) and exact (the actions are the strictest / least strict, data
 * aside).
 */
export function proveMerge(kind: MergeKind, merged: Policy, inputs: readonly Policy[], opts: ProveOptions & { limit?: number } = {}): MergeProof {
  const limit = opts.limit ?? 5;
  const abis = [...new Set([merged, ...inputs].flatMap((p) => p.abis))];
  const bound: number[][] = [];
  const inexact: number[][] = [];
  let nBound = 0;
  let nInexact = 0;
  const walk = walkSides([merged, ...inputs], opts, (box, values) => {
    const m = values[0]!;
    const xs = values.slice(1);
    const ok = kind === "intersect" ? xs.every((x) => atLeastAsStrict(m, x)) : xs.every((x) => atLeastAsStrict(x, m));
    const keys = xs.map(strictnessKey);
    const want = kind === "intersect" ? Math.min(...keys) : Math.max(...keys);
    const words = [box.map((s) => s[0]!)];
    if (!ok) {
      nBound++;
      if (bound.length < limit) bound.push(...words);
    } else if (strictnessKey(m) !== want) {
      nInexact++;
      if (inexact.length < limit) inexact.push(...words);
    }
  });
  const failures = [...bound.map((w) => ({ w, kind: "bound" as const })), ...inexact.map((w) => ({ w, kind: "inexact" as const }))].slice(0, limit).map(({ w, kind: k }): MergeFailure => {
    const call = locate(w, abis);
    const val = (p: Policy): SideValue => {
      const ret = evaluateStack([compile(p).insns], call.data, ABIS_BY_ARCH_ENDIAN.get(call.data.arch >>> 0) ?? "little").ret >>> 0;
      return { ret, action: valueText(ret, call.abi), why: sideWhy(p, call) };
    };
    return { ...call, merged: val(merged), inputs: inputs.map(val), kind: k };
  });
  return { bounded: nBound === 0, exact: nBound === 0 && nInexact === 0, method: walk.method, notes: walk.notes, failures, stats: walk.stats };
}

/**
 * {@link intersect} or {@link union}, proven before it is returned: the
 * merged policy and its proof.
 * @throws SyscageError MERGE_UNPROVEN when the proof fails (a bug: please report it), naming the call.
 */
export function merge(kind: MergeKind, policies: readonly Policy[], opts: ProveOptions = {}): { policy: Policy; proof: MergeProof } {
  const policy = kind === "intersect" ? intersect(...policies) : union(...policies);
  const proof = proveMerge(kind, policy, policies, opts);
  if (!proof.exact) {
    const f = proof.failures[0];
    const where = f === undefined ? "" : `: on ${f.abi ?? f.archName} ${f.syscall ?? `nr ${f.data.nr}`} args [${f.data.args.map((a) => hexb(a)).join(", ")}] the merged policy gives ${f.merged.action}, the inputs ${f.inputs.map((x) => x.action).join(", ")}`;
    throw new SyscageError(
      "MERGE_UNPROVEN",
      `${kind}: the merged policy is ${!proof.bounded ? (kind === "intersect" ? "not within every input" : "not above every input") : "not exact"}${where} (please report this)`,
    );
  }
  return { policy, proof };
}
