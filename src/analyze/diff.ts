/**
 * Compare two policies, or a policy and a raw program (or filter stack), or two programs:
 * for each ABI, every syscall whose decision differs, with both decisions
 * and both origins, grouped by systemd group.
 *
 * Decisions are compared by the 32-bit value the filter returns (so
 * ERRNO(EAFNOSUPPORT) and ERRNO(97) on x86_64 are equal). Each syscall of the
 * ABI's table is tried with all arguments zero; a syscall that some policy
 * side tests arguments of is also tried at the boundary values of the
 * constants its conditions use (v-1, v, v+1 and v+2^32 for each constant, the
 * mask and value of MASKED_EQ), combined over the argument indexes tested. One
 * number the tables do not name stands for all unknown numbers.
 *
 * Library code: never prints.
 */
import { getAbi, type AbiName } from "../abi/arch.js";
import { errnoName } from "../abi/errno.js";
import { syscallTable } from "../abi/tables.js";
import { actionPrecedence, decodeAction } from "../bpf/actions.js";
import type { Insn } from "../bpf/insn.js";
import { evaluateStack, interpret } from "../bpf/interpret.js";
import { decide, rulesFor } from "../policy/evaluate.js";
import { expandItem, syscallGroups } from "../policy/groups.js";
import type { Policy } from "../policy/model.js";

/**
 * One side of a diff: a policy, a raw program with the ABIs to check it on,
 * or a filter stack (oldest first; a live process's, `pid:N`) run as the
 * kernel stacks filters.
 */
export type DiffSide =
  | { readonly kind: "policy"; readonly policy: Policy; readonly label: string }
  | { readonly kind: "program"; readonly insns: readonly Insn[]; readonly abis: readonly AbiName[]; readonly label: string }
  | { readonly kind: "stack"; readonly programs: readonly (readonly Insn[])[]; readonly abis: readonly AbiName[]; readonly label: string };

/** A decision of one side, for one call. */
export interface SideDecision {
  /** "ALLOW", "ERRNO(EPERM)" (errno named on the ABI when it has a name). */
  readonly action: string;
  readonly ret: number;
  /** The rule origin, the default's, …; "program" for a raw program. */
  readonly origin: string;
}

/** One syscall whose decision differs on one ABI. */
export interface SyscallDifference {
  readonly name: string;
  readonly nr: number;
  /** The first argument vector where the sides differ (all zero when they differ at zero). */
  readonly args: readonly bigint[];
  /** How many of the argument vectors tried differ, of `tried`. */
  readonly differing: number;
  readonly tried: number;
  readonly a: SideDecision;
  readonly b: SideDecision;
  /** On some differing argument vector B's action is less restrictive than A's (B allows more). */
  readonly bLooser: boolean;
  /** The systemd group it is listed under ({@link mostSpecificGroup}). */
  readonly group: string;
}

/** The differences on one ABI, grouped. */
export interface AbiDiff {
  readonly abi: AbiName;
  /** Syscalls of the ABI's table compared. */
  readonly compared: number;
  readonly differences: readonly SyscallDifference[];
  /** Groups in systemd's order (then "(ungrouped)", "(not in systemd's groups)", "(unknown numbers)"), each with its syscalls in number order. */
  readonly groups: readonly { readonly group: string; readonly syscalls: readonly SyscallDifference[] }[];
}

/** The result of {@link diffPolicies}. */
export interface PolicyDiff {
  readonly abis: readonly AbiDiff[];
  /** Differences over all ABIs. */
  readonly total: number;
  readonly equal: boolean;
}

/** Group label of syscalls in `@known` and in no other group. */
export const UNGROUPED = "(ungrouped)";
/** Group label of syscalls systemd's groups do not name. */
export const NOT_IN_GROUPS = "(not in systemd's groups)";
/** Name and group of the row standing for numbers the tables do not name. */
export const UNKNOWN_NUMBERS = "(unknown numbers)";

let groupIndex: Map<string, string> | undefined;

/**
 * The group a syscall is listed under: among systemd's groups other than
 * `@known` that contain it (after recursive expansion), the one with the
 * fewest syscalls — the most specific; on a tie, the first in systemd's
 * order. `mount` is in `@mount` (and in `@privileged`, which is larger), so
 * it is listed under `@mount`. A syscall only in `@known` is
 * {@link UNGROUPED}; one in no group at all is {@link NOT_IN_GROUPS}.
 */
export function mostSpecificGroup(name: string): string {
  if (groupIndex === undefined) {
    const best = new Map<string, { group: string; size: number }>();
    const known = new Set(expandItem("@known"));
    for (const g of syscallGroups()) {
      if (g.name === "@known") continue;
      const members = expandItem(g.name);
      for (const m of members) {
        const cur = best.get(m);
        if (cur === undefined || members.length < cur.size) best.set(m, { group: g.name, size: members.length });
      }
    }
    groupIndex = new Map([...best].map(([n, v]) => [n, v.group]));
    for (const n of known) if (!groupIndex.has(n)) groupIndex.set(n, UNGROUPED);
  }
  return groupIndex.get(name) ?? NOT_IN_GROUPS;
}

const U64 = (1n << 64n) - 1n;

/** Candidate values for each argument index the policy sides test for `name`. */
function argCandidates(sides: readonly DiffSide[], abi: AbiName, name: string): Map<number, bigint[]> {
  const out = new Map<number, Set<bigint>>();
  for (const s of sides) {
    if (s.kind !== "policy") continue;
    for (const { rule: r } of rulesFor(s.policy, abi, name)) {
      for (const c of r.conditions) {
        const set = out.get(c.arg) ?? new Set<bigint>([0n]);
        // v + 2^32 tells a low-word comparison from a 64-bit one.
        for (const v of [c.value, c.value - 1n, c.value + 1n, c.value + (1n << 32n)]) set.add(v & U64);
        if (c.mask !== undefined) {
          set.add(c.mask);
          set.add(c.value | ~c.mask & U64);
        }
        out.set(c.arg, set);
      }
    }
  }
  return new Map([...out].map(([k, v]) => [k, [...v].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))]));
}

const MAX_VECTORS = 4096;

/** Argument vectors to try: zero first, then the product of the candidates (or each index alone if too many). */
function argVectors(cands: Map<number, bigint[]>): bigint[][] {
  const zero = [0n, 0n, 0n, 0n, 0n, 0n];
  const out: bigint[][] = [zero];
  if (cands.size === 0) return out;
  const idx = [...cands.keys()].sort((a, b) => a - b);
  const product = idx.reduce((n, i) => n * cands.get(i)!.length, 1);
  if (product <= MAX_VECTORS) {
    let vecs: bigint[][] = [zero];
    for (const i of idx) {
      const next: bigint[][] = [];
      for (const v of vecs) for (const c of cands.get(i)!) next.push(v.map((x, j) => (j === i ? c : x)));
      vecs = next;
    }
    out.push(...vecs.filter((v) => v.some((x) => x !== 0n)));
  } else {
    for (const i of idx) for (const c of cands.get(i)!) if (c !== 0n) out.push(zero.map((x, j) => (j === i ? c : x)));
  }
  return out;
}

/** "ERRNO(EPERM)" etc. from a filter return value, errno named on `abi`. */
export function retText(ret: number, abi: AbiName): string {
  const d = decodeAction(ret);
  if (d.action === "ERRNO") return `ERRNO(${errnoName(abi, d.data) ?? d.data})`;
  if (d.unknown === true) return `KILL_PROCESS (unknown action 0x${(ret >>> 0).toString(16)})`;
  return d.action === "TRAP" || d.action === "TRACE" ? `${d.action}(${d.data})` : d.action === "USER_NOTIF" ? "NOTIFY" : d.action;
}

function sideDecision(side: DiffSide, abi: AbiName, nr: number, args: readonly bigint[]): SideDecision {
  const info = getAbi(abi);
  if (side.kind === "policy") {
    const d = decide(side.policy, { arch: info.auditArch, nr, args });
    return { action: retText(d.ret, abi), ret: d.ret >>> 0, origin: d.origin };
  }
  const data = { nr, arch: info.auditArch, instructionPointer: 0n, args };
  if (side.kind === "stack") {
    const r = evaluateStack(side.programs, data, info.endian);
    const origin = r.decidedBy < 0 ? `every filter of the stack allows it` : `filter ${r.decidedBy + 1} of ${side.programs.length}`;
    return { action: retText(r.ret, abi), ret: r.ret >>> 0, origin };
  }
  const r = interpret(side.insns, data, info.endian);
  return { action: retText(r.ret, abi), ret: r.ret >>> 0, origin: "program" };
}

function sideAbis(side: DiffSide): readonly AbiName[] {
  return side.kind === "policy" ? side.policy.abis : side.abis;
}

/**
 * Compare two sides on the union of their ABIs (an ABI one side does not
 * cover gets that side's bad-arch decision there). See the module doc for
 * what is tried.
 */
export function diffPolicies(a: DiffSide, b: DiffSide): PolicyDiff {
  const abis = [...new Set([...sideAbis(a), ...sideAbis(b)])];
  const order = new Map<string, number>(syscallGroups().map((g, i) => [g.name, i]));
  const groupRank = (g: string): number => order.get(g) ?? (g === UNGROUPED ? 1e6 : g === NOT_IN_GROUPS ? 1e6 + 1 : 1e6 + 2);
  const result: AbiDiff[] = abis.map((abi) => {
    const table = syscallTable(abi);
    const diffs: SyscallDifference[] = [];
    for (const e of table) {
      const vectors = argVectors(argCandidates([a, b], abi, e.name));
      let first: { args: bigint[]; a: SideDecision; b: SideDecision } | undefined;
      let differing = 0;
      let bLooser = false;
      for (const v of vectors) {
        const da = sideDecision(a, abi, e.nr, v);
        const db = sideDecision(b, abi, e.nr, v);
        if (da.ret !== db.ret) {
          differing++;
          first ??= { args: v, a: da, b: db };
          if (actionPrecedence(db.ret) > actionPrecedence(da.ret)) bLooser = true;
        }
      }
      if (first !== undefined) {
        diffs.push({ name: e.name, nr: e.nr, args: first.args, differing, tried: vectors.length, a: first.a, b: first.b, group: mostSpecificGroup(e.name), bLooser });
      }
    }
    // One number beyond the table stands for the unknown numbers.
    const last = table.length > 0 ? table[table.length - 1]!.nr : getAbi(abi).nrOffset;
    const unknownNr = last + 1;
    const zero = [0n, 0n, 0n, 0n, 0n, 0n];
    const ua = sideDecision(a, abi, unknownNr, zero);
    const ub = sideDecision(b, abi, unknownNr, zero);
    if (ua.ret !== ub.ret) diffs.push({ name: UNKNOWN_NUMBERS, nr: unknownNr, args: zero, differing: 1, tried: 1, a: ua, b: ub, group: UNKNOWN_NUMBERS, bLooser: actionPrecedence(ub.ret) > actionPrecedence(ua.ret) });
    const byGroup = new Map<string, SyscallDifference[]>();
    for (const d of diffs) {
      const list = byGroup.get(d.group) ?? [];
      list.push(d);
      byGroup.set(d.group, list);
    }
    const groups = [...byGroup]
      .sort(([x], [y]) => groupRank(x) - groupRank(y))
      .map(([group, syscalls]) => ({ group, syscalls }));
    return { abi, compared: table.length, differences: diffs, groups };
  });
  const total = result.reduce((n, r) => n + r.differences.length, 0);
  return { abis: result, total, equal: total === 0 };
}
