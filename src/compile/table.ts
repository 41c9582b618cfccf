/**
 * Policy → decision table: for each configured ABI, each syscall number's
 * decision as a node of the DAG (a `ret`, or argument tests ending in `ret`s),
 * then the whole 32-bit `nr` space of each AUDIT_ARCH value cut into ranges
 * whose numbers share one decision.
 */
import { getAbi, X32_SYSCALL_BIT, type AbiName } from "../abi/arch.js";
import { syscallTable } from "../abi/tables.js";
import { actionRet, conditionWidth } from "../policy/evaluate.js";
import { ACTION_RANK, formatPolicyAction, type Action, type Policy, type Rule } from "../policy/model.js";
import { conditionNode } from "./conditions.js";
import type { Dag, Node } from "./dag.js";

/** One syscall's decision on one ABI. */
export interface SyscallDecision {
  readonly abi: AbiName;
  readonly name: string;
  readonly nr: number;
  readonly node: Node;
  /** Policy rule indexes that can decide this syscall. */
  readonly rules: readonly number[];
}

/** A range [lo, hi] of `nr` values (unsigned) that share one decision node. */
export interface Segment {
  readonly lo: number;
  readonly hi: number;
  readonly node: Node;
  /** How many syscalls of the tables the range holds (the dispatch balances on it). */
  readonly weight: number;
}

/** The dispatch of one AUDIT_ARCH value: its ABIs and the nr ranges. */
export interface ArchSection {
  readonly auditArch: number;
  readonly abis: readonly AbiName[];
  readonly segments: readonly Segment[];
  readonly decisions: readonly SyscallDecision[];
}

function retFor(dag: Dag, action: Action, abi: AbiName, note: string, rules: readonly number[]): Node {
  return dag.ret(actionRet(action, abi), { note: `${formatPolicyAction(action)}: ${note}`, rules });
}

/**
 * The decision node of one syscall: rules in precedence order (most
 * restrictive first, then policy order), each a chain of condition tests
 * leading to its `ret`, falling through to the next rule, then the default.
 */
function syscallNode(dag: Dag, policy: Policy, abi: AbiName, name: string, ruleIdx: readonly number[]): Node {
  const a = getAbi(abi);
  const ordered = [...ruleIdx].sort((x, y) => ACTION_RANK[policy.rules[x]!.action.kind] - ACTION_RANK[policy.rules[y]!.action.kind] || x - y);
  // An unconditional rule decides everything that reaches it.
  const cut = ordered.findIndex((i) => policy.rules[i]!.conditions.length === 0);
  const live = cut === -1 ? ordered : ordered.slice(0, cut + 1);
  let node: Node =
    cut === -1
      ? retFor(dag, policy.default.action, abi, `${name}: ${policy.default.origin}`, [])
      : retFor(dag, policy.rules[live[live.length - 1]!]!.action, abi, `${name}: ${policy.rules[live[live.length - 1]!]!.origin}`, [live[live.length - 1]!]);
  for (let j = (cut === -1 ? live.length : live.length - 1) - 1; j >= 0; j--) {
    const i = live[j]!;
    const rule: Rule = policy.rules[i]!;
    const origin = { note: `${name}: ${rule.origin}`, rules: [i] };
    let chain: Node = retFor(dag, rule.action, abi, `${name}: ${rule.origin}`, [i]);
    for (let c = rule.conditions.length - 1; c >= 0; c--) {
      const cond = rule.conditions[c]!;
      chain = conditionNode(dag, cond, conditionWidth(policy, abi, name, cond.arg), a.endian, chain, node, origin);
    }
    node = chain;
  }
  return node;
}

/** Decisions for every syscall of `abi`'s table. */
export function abiDecisions(dag: Dag, policy: Policy, abi: AbiName): SyscallDecision[] {
  const byName = new Map<string, number[]>();
  policy.rules.forEach((r, i) => {
    const list = byName.get(r.syscall);
    if (list === undefined) byName.set(r.syscall, [i]);
    else list.push(i);
  });
  return syscallTable(abi).map((e) => {
    const rules = byName.get(e.name) ?? [];
    const node = rules.length === 0 ? retFor(dag, policy.default.action, abi, `${e.name}: ${policy.default.origin}`, []) : syscallNode(dag, policy, abi, e.name, rules);
    return { abi, name: e.name, nr: e.nr, node, rules };
  });
}

/** Which configured ABI owns each part of the nr space of one AUDIT_ARCH value. */
function regions(abis: readonly AbiName[]): { lo: number; hi: number; abi: AbiName | null }[] {
  const has64 = abis.includes("x86_64");
  const hasX32 = abis.includes("x32");
  const top = 0xffffffff;
  if (has64 && hasX32) return [{ lo: 0, hi: X32_SYSCALL_BIT - 1, abi: "x86_64" }, { lo: X32_SYSCALL_BIT, hi: top, abi: "x32" }];
  if (has64) {
    // x32 calls are bad-arch; nr = -1 (a tracer skipping the call) stays reachable.
    return [{ lo: 0, hi: X32_SYSCALL_BIT - 1, abi: "x86_64" }, { lo: X32_SYSCALL_BIT, hi: top - 1, abi: null }, { lo: top, hi: top, abi: "x86_64" }];
  }
  if (hasX32) return [{ lo: 0, hi: X32_SYSCALL_BIT - 1, abi: null }, { lo: X32_SYSCALL_BIT, hi: top, abi: "x32" }];
  return [{ lo: 0, hi: top, abi: abis[0]! }];
}

/** Build the sections, one per distinct AUDIT_ARCH, in the policy's ABI order. */
export function buildSections(dag: Dag, policy: Policy, abis: readonly AbiName[], badArch: Node): ArchSection[] {
  const order: number[] = [];
  const byArch = new Map<number, AbiName[]>();
  for (const abi of abis) {
    const arch = getAbi(abi).auditArch;
    if (!byArch.has(arch)) {
      byArch.set(arch, []);
      order.push(arch);
    }
    byArch.get(arch)!.push(abi);
  }
  return order.map((auditArch) => {
    const sectionAbis = byArch.get(auditArch)!;
    const decisions: SyscallDecision[] = [];
    const segs: Segment[] = [];
    const push = (lo: number, hi: number, node: Node, weight = 0) => {
      const last = segs[segs.length - 1];
      if (last !== undefined && last.node === node && last.hi + 1 === lo) segs[segs.length - 1] = { lo: last.lo, hi, node, weight: last.weight + weight };
      else segs.push({ lo, hi, node, weight });
    };
    for (const region of regions(sectionAbis)) {
      if (region.abi === null) {
        push(region.lo, region.hi, badArch);
        continue;
      }
      const abi = region.abi;
      const unknown = retFor(dag, policy.unknown.action, abi, policy.unknown.origin, []);
      const ds = abiDecisions(dag, policy, abi).filter((d) => d.nr >= region.lo && d.nr <= region.hi);
      decisions.push(...ds);
      let next = region.lo;
      for (const d of ds) {
        if (d.nr > next) push(next, d.nr - 1, unknown);
        push(d.nr, d.nr, d.node, 1);
        next = d.nr + 1;
      }
      if (next <= region.hi) push(next, region.hi, unknown);
    }
    return { auditArch, abis: sectionAbis, segments: segs, decisions };
  });
}
