/**
 * Policy → the OCI runtime-spec `linux.seccomp` object (`oci`: a Kubernetes
 * Localhost profile; runc, crun, CRI-O) and Docker's form of it (`docker`:
 * `archMap` and comments, for `docker run --security-opt seccomp=FILE`);
 * also the base of the SPO form (spo.ts). docs/profiles.md.
 *
 * What a profile cannot express is an error naming the rule and the reason,
 * never a silent change. The exported profile, imported again with
 * `policy/oci.ts`, gives the same decisions as the policy (tested on random
 * policies and on the nspawn default).
 *
 * How syscage's semantics map: rules are grouped into entries (consecutive
 * rules with the same action, conditions and origin share one entry, so the
 * order of rules — which decides between ERRNO rules of different errno — is
 * kept). Rules whose action equals the default action are left out (runc
 * skips them) unless that would change a decision, which is an error. Two
 * conditions on the same argument in one rule cannot be exported: runc ORs
 * them.
 *
 * Argument widths: runtimes compare whole registers. Under `argumentWidth:
 * "kernel"` a condition on a narrow argument is written so that a
 * whole-register reader gives it the same meaning (closing the high-bits
 * bypass in the runtime too): EQ/MASKED_EQ as a MASKED_EQ on the low bits,
 * LT/LE/GT/GE/NE as several entries of prefix MASKED_EQs (at most
 * {@link MAX_ENTRIES_PER_RULE} per rule). What cannot be said exactly (the
 * width differs by ABI, too many entries) is written as is, with a warning
 * that the runtimes keep the hole there; a "u64" policy gets a warning that
 * it and the runtimes keep it (docs/profiles.md).
 */
import { getAbi, type AbiName } from "../abi/arch.js";
import { argType, argWidth } from "../abi/argtypes.js";
import { errnoNumber } from "../abi/errno.js";
import { abisWithSyscall, syscallNumber } from "../abi/tables.js";
import { actionRet } from "../policy/evaluate.js";
import { ACTION_RANK, formatPolicyAction, limitsAbis, ruleAbis, type Action, type Condition, type FilterFlag, type Policy, type Rule } from "../policy/model.js";
import { withRoutes } from "../policy/routes.js";
import { cannot, ruleLabel } from "./unsupported.js";

/** An OCI seccomp argument with exact u64 values. */
export interface OciArg {
  readonly index: number;
  readonly value: bigint;
  readonly valueTwo?: bigint;
  readonly op: string;
}

/** An OCI seccomp rule entry. */
export interface OciSyscall {
  readonly names: string[];
  readonly action: string;
  readonly errnoRet?: number;
  readonly args?: OciArg[];
  readonly comment?: string;
}

/** An OCI `linux.seccomp` object (Docker's `archMap` form when exported as docker). */
export interface OciSeccomp {
  readonly defaultAction: string;
  readonly defaultErrnoRet?: number;
  readonly architectures?: string[];
  readonly archMap?: { architecture: string; subArchitectures: string[] }[];
  readonly flags?: string[];
  readonly listenerPath?: string;
  readonly listenerMetadata?: string;
  readonly syscalls: OciSyscall[];
}

const OCI_FLAGS: Readonly<Partial<Record<FilterFlag, string>>> = {
  TSYNC: "SECCOMP_FILTER_FLAG_TSYNC",
  LOG: "SECCOMP_FILTER_FLAG_LOG",
  SPEC_ALLOW: "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
  WAIT_KILLABLE_RECV: "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

/** The errno number of an ERRNO action, the same on every ABI of the policy (OCI carries one number). */
function errnoOf(a: Action & { kind: "ERRNO" }, abis: readonly AbiName[], format: string, what: string): number {
  if (typeof a.errno === "number") return a.errno;
  const nums = [...new Set(abis.map((abi) => errnoNumber(abi, a.errno as string)))];
  if (nums.length !== 1 || nums[0] === undefined) {
    cannot(format, what, `errno ${a.errno} has different numbers on ${abis.join(", ")} (${nums.join(" / ")}) and a profile carries one number; export for fewer ABIs (--arch)`);
  }
  return nums[0];
}

/** SCMP_ACT_* and errnoRet of an action. */
function ociAction(a: Action, abis: readonly AbiName[], format: string, what: string): { action: string; errnoRet?: number } {
  switch (a.kind) {
    case "ALLOW":
      return { action: "SCMP_ACT_ALLOW" };
    case "LOG":
      return { action: "SCMP_ACT_LOG" };
    case "NOTIFY":
      return { action: "SCMP_ACT_NOTIFY" };
    case "KILL_PROCESS":
      return { action: "SCMP_ACT_KILL_PROCESS" };
    case "KILL_THREAD":
      return { action: "SCMP_ACT_KILL_THREAD" };
    case "TRAP":
      if (a.data !== 0) cannot(format, what, `TRAP(${a.data}): profiles have no TRAP data (runtimes always use 0)`);
      return { action: "SCMP_ACT_TRAP" };
    case "TRACE":
      return { action: "SCMP_ACT_TRACE", errnoRet: a.data };
    case "ERRNO":
      return { action: "SCMP_ACT_ERRNO", errnoRet: errnoOf(a, abis, format, what) };
  }
}

/** Rules whose alternatives would multiply past this many profile entries keep their ordered conditions as written. */
export const MAX_ENTRIES_PER_RULE = 64;

/** How a condition's argument is narrowed on the policy's ABIs, as far as a profile (whole-register comparisons) is concerned. */
type Narrowing =
  /** No ABI narrows it (u64 policy, or the declared type fills the register): runtimes compare what syscage compares. */
  | { readonly kind: "none" }
  /** Every ABI with the syscall keeps the same low `bits`, narrower than the register on some of them. */
  | { readonly kind: "uniform"; readonly bits: number }
  /** The kept width differs by ABI (e.g. old_uid_t): one profile condition cannot say it. */
  | { readonly kind: "mixed"; readonly widths: string };

function narrowingOf(p: Policy, r: Rule, c: Condition): Narrowing {
  if (p.argumentWidth === "u64") return { kind: "none" };
  const abis = p.abis.filter((a) => abisWithSyscall(r.syscall).includes(a));
  if (!abis.some((a) => argWidth(a, r.syscall, c.arg) < getAbi(a).argBits)) return { kind: "none" };
  const widths = new Set(abis.map((a) => argWidth(a, r.syscall, c.arg)));
  if (widths.size === 1) return { kind: "uniform", bits: [...widths][0]! };
  return { kind: "mixed", widths: abis.map((a) => `${argWidth(a, r.syscall, c.arg)} bits on ${a}`).join(", ") };
}

/** MASKED_EQ conditions whose union is `x < v` for the low `w` bits x (v < 2^w): one per set bit of v, x's higher bits equal to v's. */
function lessThan(arg: Condition["arg"], v: bigint, w: number): Condition[] {
  const low = (1n << BigInt(w)) - 1n;
  const out: Condition[] = [];
  for (let i = w - 1; i >= 0; i--) {
    const bit = 1n << BigInt(i);
    if ((v & bit) === 0n) continue;
    out.push({ arg, op: "MASKED_EQ", mask: low & ~(bit - 1n), value: v & ~(bit * 2n - 1n) });
  }
  return out;
}

/** MASKED_EQ conditions whose union is `x > v` for the low `w` bits x (v < 2^w): one per clear bit of v. */
function greaterThan(arg: Condition["arg"], v: bigint, w: number): Condition[] {
  const low = (1n << BigInt(w)) - 1n;
  const out: Condition[] = [];
  for (let i = w - 1; i >= 0; i--) {
    const bit = 1n << BigInt(i);
    if ((v & bit) !== 0n) continue;
    out.push({ arg, op: "MASKED_EQ", mask: low & ~(bit - 1n), value: (v & ~(bit * 2n - 1n)) | bit });
  }
  return out;
}

/**
 * A condition on a narrowed argument (`bits` low bits kept), said in
 * whole-register terms: a list of conditions whose OR is exactly it (`null`:
 * the condition always holds; an empty list: it never does). EQ and
 * MASKED_EQ become one MASKED_EQ on the low bits; LT/LE/GT/GE/NE become the
 * prefix decomposition of their range, one MASKED_EQ per bit at most (`x <
 * v` ⟺ for some set bit i of v, x agrees with v above i and has bit i clear).
 * With `ordered` false the ordered operators are returned unchanged.
 */
function lowBitsAlternatives(c: Condition, bits: number, ordered: boolean): (Condition | null)[] {
  const low = (1n << BigInt(bits)) - 1n;
  const v = c.value & low;
  switch (c.op) {
    case "EQ":
      return [{ arg: c.arg, op: "MASKED_EQ", mask: low, value: v }];
    case "MASKED_EQ":
      return [{ arg: c.arg, op: "MASKED_EQ", mask: (c.mask ?? 0n) & low, value: v }];
    default:
      break;
  }
  if (!ordered) return [c];
  switch (c.op) {
    case "LT":
      return lessThan(c.arg, v, bits);
    case "LE":
      return v === low ? [null] : lessThan(c.arg, v + 1n, bits);
    case "GT":
      return greaterThan(c.arg, v, bits);
    case "GE":
      return v === 0n ? [null] : greaterThan(c.arg, v - 1n, bits);
    case "NE":
      return [...lessThan(c.arg, v, bits), ...greaterThan(c.arg, v, bits)];
  }
}

/** A rule said for a runtime: its condition sets (the rule's entries, ORed), and whether the high-bits bypass stays open on it. */
interface ExportedRule {
  readonly alternatives: readonly (readonly Condition[])[];
  /** Why a narrowed condition could not be said exactly, when one could not. */
  readonly open?: string;
}

/**
 * The rule in whole-register terms (see {@link lowBitsAlternatives}): every
 * narrowed condition becomes its alternatives, and the rule one entry per
 * combination — exact as long as every ABI agrees on the width and the
 * combinations stay within {@link MAX_ENTRIES_PER_RULE}.
 */
function exportRule(p: Policy, r: Rule): ExportedRule {
  const ns = r.conditions.map((c) => narrowingOf(p, r, c));
  let open: string | undefined;
  ns.forEach((n, j) => {
    if (n.kind === "mixed" && open === undefined) open = `${r.syscall} arg${r.conditions[j]!.arg} keeps ${n.widths}`;
  });
  const expand = (ordered: boolean): (Condition | null)[][] => r.conditions.map((c, j) => (ns[j]!.kind === "uniform" ? lowBitsAlternatives(c, (ns[j] as { bits: number }).bits, ordered) : [c]));
  let per = expand(true);
  const product = per.reduce((n, l) => n * Math.max(1, l.length), 1);
  if (product > MAX_ENTRIES_PER_RULE) {
    per = expand(false);
    const j = r.conditions.findIndex((c, k) => ns[k]!.kind === "uniform" && c.op !== "EQ" && c.op !== "MASKED_EQ");
    open ??= `${r.syscall} arg${r.conditions[j]!.arg} ${r.conditions[j]!.op} would take ${product} entries (more than ${MAX_ENTRIES_PER_RULE})`;
  }
  if (per.some((l) => l.length === 0)) return { alternatives: [], ...(open !== undefined ? { open } : {}) };
  let combos: Condition[][] = [[]];
  for (const list of per) combos = combos.flatMap((done) => list.map((c) => (c === null ? done : [...done, c])));
  return { alternatives: combos, ...(open !== undefined ? { open } : {}) };
}

function ociArgs(r: Rule, conditions: readonly Condition[], i: number, format: string): OciArg[] {
  const seen = new Set<number>();
  for (const c of r.conditions) {
    if (seen.has(c.arg)) {
      cannot(format, ruleLabel(r, i), `two conditions on argument ${c.arg}; a profile rule with several conditions on one argument means OR to runc and crun, not AND`);
    }
    seen.add(c.arg);
  }
  return conditions.map((c) =>
    c.op === "MASKED_EQ" ? { index: c.arg, value: c.mask ?? 0n, valueTwo: c.value, op: "SCMP_CMP_MASKED_EQ" } : { index: c.arg, value: c.value, op: `SCMP_CMP_${c.op}` },
  );
}

function argsKey(args: readonly OciArg[]): string {
  return args.map((a) => `${a.index}:${a.op}:${a.value}:${a.valueTwo ?? ""}`).join("&");
}

/** Who reads each container format, for messages. */
const RUNTIMES: Readonly<Record<string, string>> = {
  oci: "the runtimes that read OCI profiles (runc, crun, CRI-O, through libseccomp)",
  docker: "Docker and Podman (runc, crun, through libseccomp)",
  spo: "the Security Profiles Operator's runtimes (runc, crun, CRI-O, through libseccomp)",
};

/**
 * Check the parts of a policy no profile can carry: the unknown action (only
 * ENOSYS, given by runtimes, or the default), the bad-arch action (runtimes
 * kill), a default rule that matters.
 */
function profileWarnings(p: Policy, format: string): string[] {
  const out: string[] = [];
  const def = p.default.action;
  const abi0 = p.abis[0]!;
  const unknownRet = actionRet(p.unknown.action, abi0);
  const permissive = def.kind === "ALLOW" || def.kind === "LOG" || def.kind === "TRACE";
  const enosys = p.abis.every((a) => actionRet(p.unknown.action, a) === actionRet({ kind: "ERRNO", errno: "ENOSYS" }, a));
  if (unknownRet !== actionRet(def, abi0) && !(enosys && !permissive)) {
    cannot(
      format,
      `unknown action ${formatPolicyAction(p.unknown.action)}`,
      `a profile has no action of its own for syscalls unknown to the tables; they get the default action (${formatPolicyAction(def)}) or, from runc, ENOSYS`,
    );
  }
  if (p.argumentWidth === "u64") {
    const narrow = p.rules.flatMap((r) =>
      r.conditions.flatMap((c) => {
        const abi = p.abis.find((a) => abisWithSyscall(r.syscall).includes(a) && argWidth(a, r.syscall, c.arg) < getAbi(a).argBits);
        return abi === undefined ? [] : [{ r, c, abi }];
      }),
    );
    if (narrow.length > 0) {
      const { r, c, abi } = narrow[0]!;
      const t = argType(abi, r.syscall, c.arg);
      out.push(
        `the policy compares whole registers (argumentWidth "u64"), and so do ${RUNTIMES[format]}: ${new Set(narrow.map((x) => x.r)).size} rule(s) test arguments narrower than their register (e.g. ${r.syscall} arg${c.arg}${t !== undefined ? `, ${t.name} (${t.type})` : ""}), so high bits the kernel drops can slip a call past them; convert with --argument-width kernel to close that`,
      );
    }
  }
  if (p.abis.includes("x32")) {
    // libseccomp 2.5.4 compiles x32 conditions on their low 32 bits only (issue #22): a constant above them changes meaning.
    const high = p.rules.flatMap((r, i) =>
      syscallNumber("x32", r.syscall) === undefined ? [] : r.conditions.filter((c) => c.value > 0xffffffffn || (c.mask ?? 0n) > 0xffffffffn).map((c) => ({ r, i, c })),
    );
    if (high.length > 0) {
      const { r, i, c } = high[0]!;
      out.push(
        `${high.length} condition(s) compare bits above the low 32 on x32 (e.g. ${ruleLabel(r, i)}: arg${c.arg} ${c.op} 0x${c.value.toString(16)}${c.mask !== undefined ? ` mask 0x${c.mask.toString(16)}` : ""}); libseccomp 2.5.4 — and so runc and crun — compares only the low 32 bits on x32, so there the condition tests the low word alone (a GE 0x100000000 becomes always true); export without x32 (--arch) if that matters`,
      );
    }
  }
  if (p.badArch.action.kind !== "KILL_PROCESS" && p.badArch.action.kind !== "KILL_THREAD") {
    out.push(`the bad-arch action ${formatPolicyAction(p.badArch.action)} is not exported: runtimes kill calls of architectures the profile does not cover`);
  }
  return out;
}

/** Rules to export: those whose action differs from the default (an error if dropping one would change a decision). */
function exportedRules(p: Policy, format: string, warnings: string[]): { rule: Rule; index: number }[] {
  const out: { rule: Rule; index: number }[] = [];
  const abi0 = p.abis[0]!;
  const defRet = actionRet(p.default.action, abi0);
  // An unconditional rule with the default's action decides every call of its syscall that no stricter (or
  // earlier same-kind) rule takes: left out together with the rules it makes dead, the default says the same.
  const defaulted = new Map<string, { rank: number; index: number }>();
  p.rules.forEach((r, i) => {
    if (r.conditions.length > 0 || limitsAbis(r, p) || actionRet(r.action, abi0) !== defRet) return;
    const rank = ACTION_RANK[r.action.kind];
    const have = defaulted.get(r.syscall);
    if (have === undefined || rank < have.rank) defaulted.set(r.syscall, { rank, index: i });
  });
  const dead = (r: Rule, i: number): boolean => {
    const d = defaulted.get(r.syscall);
    if (d === undefined) return false;
    const rank = ACTION_RANK[r.action.kind];
    return rank > d.rank || (rank === d.rank && i >= d.index);
  };
  p.rules.forEach((r, i) => {
    // A rule limited to some ABIs: no profile format can say so (Docker's includes.arches names the host's
    // architecture, not the calling ABI), so the rule is left out, and the read-back decides whether that is exact.
    if (limitsAbis(r, p)) {
      warnings.push(`${ruleLabel(r, i)}: applies on ${ruleAbis(r, p).join(", ") || "none of the ABIs"} only, which a profile cannot say (includes.arches names the host, not the calling ABI); left out (export for fewer ABIs with --arch, where the rule then covers them all)`);
      return;
    }
    if (dead(r, i)) return;
    if (actionRet(r.action, abi0) !== defRet) {
      out.push({ rule: r, index: i });
      return;
    }
    // It matters when it overrides a less restrictive rule, or wins a tie (same kind, earlier in policy order) against another ret.
    const weaker = p.rules.find(
      (o, j) =>
        o.syscall === r.syscall &&
        !dead(o, j) &&
        !limitsAbis(o, p) &&
        (ACTION_RANK[o.action.kind] > ACTION_RANK[r.action.kind] || (o.action.kind === r.action.kind && j > i && actionRet(o.action, abi0) !== defRet)),
    );
    if (weaker !== undefined) {
      cannot(
        format,
        ruleLabel(r, i),
        `its action equals the default action, and runtimes skip such rules, but here it overrides ${weaker.action.kind === r.action.kind ? "a later rule of the same kind" : "a less restrictive rule"} of ${r.syscall} (${formatPolicyAction(weaker.action)}, from ${weaker.origin})`,
      );
    }
  });
  return out;
}

/** Each ordered operator's negation. */
const NEGATED: Readonly<Record<Exclude<Condition["op"], "MASKED_EQ">, Condition["op"]>> = { EQ: "NE", NE: "EQ", LT: "GE", LE: "GT", GT: "LE", GE: "LT" };

/** The negation of one condition, as conditions whose OR is exactly it (MASKED_EQ: one entry per bit of its mask). */
function negation(c: Condition): Condition[] {
  switch (c.op) {
    case "MASKED_EQ": {
      const out: Condition[] = [];
      const mask = c.mask ?? 0n;
      for (let b = 0n; b < 64n; b++) {
        const bit = 1n << b;
        if ((mask & bit) !== 0n) out.push({ arg: c.arg, op: "MASKED_EQ", mask: bit, value: ~c.value & bit });
      }
      return out;
    }
    default:
      return [{ arg: c.arg, op: NEGATED[c.op], value: c.value }];
  }
}

/**
 * libseccomp — and so runc and crun — does not let the most restrictive rule
 * win: an unconditional rule added after conditional ones of the same
 * syscall replaces them, one added before makes them redundant, and on a
 * socketcall ABI (i386) both orders refuse the filter (EEXIST). So a syscall
 * with an unconditional rule and conditional rules that override it (the
 * nspawn audit rule beside socket's allow-list entry) is written without
 * the unconditional rule: its action on the complement of the overriding
 * conditions, ¬(c₁ ∧ c₂ …) = ¬c₁ ∨ ¬c₂ …, one entry per negated condition,
 * so no two entries of different actions overlap and any order means the
 * same. Undefined when the syscall needs nothing of the kind, or when more
 * than one rule overrides (the complement would multiply).
 */
function complementOf(rules: readonly { rule: Rule; index: number }[], abi0: AbiName): { drop: Rule; replacement: Rule[] } | undefined {
  const plain = rules.filter((x) => x.rule.conditions.length === 0);
  if (plain.length !== 1) return undefined;
  const u = plain[0]!;
  const overriding = rules.filter(
    (x) =>
      x.rule.conditions.length > 0 &&
      actionRet(x.rule.action, abi0) !== actionRet(u.rule.action, abi0) &&
      (ACTION_RANK[x.rule.action.kind] < ACTION_RANK[u.rule.action.kind] || (ACTION_RANK[x.rule.action.kind] === ACTION_RANK[u.rule.action.kind] && x.index < u.index)),
  );
  if (overriding.length !== 1) return undefined;
  const c = overriding[0]!.rule;
  return { drop: u.rule, replacement: c.conditions.flatMap((k) => negation(k).map((n) => ({ ...u.rule, conditions: [n] }))) };
}

/**
 * The rules that can decide a call, by syscage's rule (the most restrictive
 * matching rule wins, the first on a tie): of a syscall's unconditional
 * rules only the winner, and no conditional rule it outranks. libseccomp
 * would not resolve them so: of two unconditional rules of a syscall it keeps
 * one it chooses (a closed route's ERRNO beside an allow-list entry came out
 * ALLOW under runc).
 */
function liveRules(rules: readonly { rule: Rule; index: number }[], abi0: AbiName): { rule: Rule; index: number }[] {
  const winner = new Map<string, { rule: Rule; index: number }>();
  for (const x of rules) {
    if (x.rule.conditions.length > 0) continue;
    const w = winner.get(x.rule.syscall);
    if (w === undefined || ACTION_RANK[x.rule.action.kind] < ACTION_RANK[w.rule.action.kind]) winner.set(x.rule.syscall, x);
  }
  return rules.filter((x) => {
    const w = winner.get(x.rule.syscall);
    if (w === undefined || x === w) return true;
    if (x.rule.conditions.length === 0) return false;
    const rank = ACTION_RANK[x.rule.action.kind];
    const wRank = ACTION_RANK[w.rule.action.kind];
    return rank < wRank || (rank === wRank && (x.index < w.index || actionRet(x.rule.action, abi0) === actionRet(w.rule.action, abi0)));
  });
}

/** The OCI / Docker object of a policy (see the module doc). */
/**
 * The policy with rules that differ only in their ABIs (Rule.abis) joined
 * where together they cover every ABI that has the syscall: a unit's
 * RestrictAddressFamilies= rules on x86_64 and x32 and their closed route on
 * x86 are one rule for a profile. Only where no rule of the syscall between
 * them has the same kind and another action (whose order against them would
 * matter).
 */
function joinAbiSplits(p: Policy): Policy {
  if (!p.rules.some((r) => limitsAbis(r, p))) return p;
  const rules: (Rule | null)[] = [...p.rules];
  const same = (a: Rule, b: Rule): boolean =>
    a.syscall === b.syscall && formatPolicyAction(a.action) === formatPolicyAction(b.action) && JSON.stringify(a.conditions, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)) === JSON.stringify(b.conditions, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i];
    if (r === null || r === undefined || !limitsAbis(r, p)) continue;
    const abis = new Set(ruleAbis(r, p));
    const joined: number[] = [];
    for (let j = i + 1; j < rules.length; j++) {
      const o = rules[j];
      if (o === null || o === undefined || o.syscall !== r.syscall) continue;
      if (same(o, r) && o.abis !== undefined) {
        ruleAbis(o, p).forEach((a) => abis.add(a));
        joined.push(j);
      } else if (o.action.kind === r.action.kind && formatPolicyAction(o.action) !== formatPolicyAction(r.action)) break;
    }
    const all = p.abis.filter((a) => abisWithSyscall(r.syscall).includes(a));
    if (joined.length === 0 || !all.every((a) => abis.has(a))) continue;
    const { abis: _limited, ...whole } = r;
    void _limited;
    rules[i] = whole;
    for (const j of joined) rules[j] = null;
  }
  // Already with its routes: "open" keeps a later withRoutes from adding them again.
  const { routeRules: _routes, ...rest } = p;
  void _routes;
  return { ...rest, routes: "open", rules: rules.filter((r): r is Rule => r !== null) };
}

/**
 * The OCI form of a policy, its warnings, and `decided`: the syscalls the
 * document decides for every argument (an unconditional entry, or the
 * complement entries that stand for one); the SPO form needs it.
 */
export function policyToOci(given: Policy, format: "oci" | "docker" | "spo" = "oci"): { seccomp: OciSeccomp; warnings: string[]; decided: ReadonlySet<string> } {
  const p = joinAbiSplits(withRoutes(given));
  const warnings = profileWarnings(p, format);
  const def = ociAction(p.default.action, p.abis, format, `default action ${formatPolicyAction(p.default.action)}`);
  const syscalls: OciSyscall[] = [];
  const open: string[] = [];
  let lastKey = "";
  const chosen = liveRules(exportedRules(p, format, warnings), p.abis[0]!);
  // Each syscall with an unconditional rule that conditional rules override: the unconditional rule said on their complement, first.
  const bySyscall = new Map<string, { rule: Rule; index: number }[]>();
  for (const x of chosen) bySyscall.set(x.rule.syscall, [...(bySyscall.get(x.rule.syscall) ?? []), x]);
  const replaced = new Map<Rule, Rule[]>();
  for (const rules of bySyscall.values()) {
    const c = complementOf(rules, p.abis[0]!);
    if (c !== undefined) replaced.set(c.drop, c.replacement);
  }
  // libseccomp takes the allowing complement before the deny on i386 (the other order is refused): it goes where the syscall's first rule was.
  let ordered: { rule: Rule; index: number }[] = chosen.filter((x) => !replaced.has(x.rule));
  for (const [u, rep] of replaced) {
    const index = chosen.find((x) => x.rule === u)!.index;
    const at = ordered.findIndex((x) => x.rule.syscall === u.syscall);
    const entries = rep.map((rule) => ({ rule, index }));
    ordered = at < 0 ? [...ordered, ...entries] : [...ordered.slice(0, at), ...entries, ...ordered.slice(at)];
  }
  for (const { rule: r, index: i } of ordered) {
    const a = ociAction(r.action, p.abis, format, ruleLabel(r, i));
    const x = exportRule(p, r);
    if (x.open !== undefined) open.push(x.open);
    for (const conditions of x.alternatives) {
      const args = ociArgs(r, conditions, i, format);
      const key = `${a.action}|${a.errnoRet ?? ""}|${argsKey(args)}|${r.origin}`;
      const prev = syscalls[syscalls.length - 1];
      if (prev !== undefined && key === lastKey && !prev.names.includes(r.syscall)) {
        prev.names.push(r.syscall);
        continue;
      }
      lastKey = key;
      syscalls.push({
        names: [r.syscall],
        action: a.action,
        ...(a.errnoRet !== undefined ? { errnoRet: a.errnoRet } : {}),
        ...(args.length > 0 ? { args } : {}),
        ...(format === "docker" ? { comment: r.origin } : {}),
      });
    }
  }
  if (open.length > 0) {
    warnings.push(
      `${open.length} rule(s) test arguments narrower than their register in a way a profile cannot state exactly (e.g. ${open[0]}): ${RUNTIMES[format]} compare whole registers, so on those rules high bits the kernel drops can still slip a call past them (the high-bits bypass; syscage's own program closes it)`,
    );
  }
  const scmp = p.abis.map((a) => getAbi(a).scmpName);
  const flags = p.flags.map((f) => OCI_FLAGS[f]).filter((f): f is string => f !== undefined);
  const seccomp: OciSeccomp = {
    defaultAction: def.action,
    ...(def.errnoRet !== undefined ? { defaultErrnoRet: def.errnoRet } : {}),
    ...(format === "docker" ? { archMap: [{ architecture: scmp[0]!, subArchitectures: scmp.slice(1) }] } : { architectures: scmp }),
    ...(flags.length > 0 ? { flags } : {}),
    ...(p.listener !== undefined ? { listenerPath: p.listener.path } : {}),
    ...(p.listener?.metadata !== undefined ? { listenerMetadata: p.listener.metadata } : {}),
    syscalls,
  };
  const decided = new Set([...ordered.filter((x) => x.rule.conditions.length === 0).map((x) => x.rule.syscall), ...[...replaced.keys()].map((r) => r.syscall)]);
  return { seccomp, warnings, decided };
}
