/**
 * Policy → decision table: for each configured ABI, each syscall number's
 * decision as a node of the DAG (a `ret`, or argument tests ending in `ret`s),
 * then the whole 32-bit `nr` space of each AUDIT_ARCH value cut into ranges
 * whose numbers share one decision.
 */
import { getAbi, X32_SYSCALL_BIT, type AbiName, type Endian } from "../abi/arch.js";
import type { Multiplexer } from "../abi/multiplex.js";
import { syscallPositions, syscallRuns, syscallTable } from "../abi/tables.js";
import { actionRet, conditionWidth, rulesFor } from "../policy/evaluate.js";
import { ACTION_RANK, formatPolicyAction, ruleAppliesOn, type Action, type Policy, type Rule } from "../policy/model.js";
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

/**
 * The `ret` of `action` on `abi`, from `rule` (an index, or null for the
 * policy's own actions). Its note, "ACTION: [name: ]origin", is only built
 * when the DAG has no `ret` with that value yet (the first origin stays).
 */
function retFor(dag: Dag, action: Action, abi: AbiName, name: string | null, origin: string, rule: number | null): Node {
  const k = actionRet(action, abi);
  return dag.findRet(k) ?? dag.ret(k, { note: `${formatPolicyAction(action)}: ${name === null ? origin : `${name}: ${origin}`}`, rules: rule === null ? [] : [rule] });
}

/** The default decision of one ABI, made on first use (its note names the syscall that first needed it). */
type DefaultNode = (name: string) => Node;

function defaultNodeOf(dag: Dag, policy: Policy, abi: AbiName): DefaultNode {
  let node: Node | undefined;
  return (name) => (node ??= retFor(dag, policy.default.action, abi, name, policy.default.origin, null));
}

/**
 * The decision node of one syscall: rules in precedence order (most
 * restrictive first, then policy order), each a chain of condition tests
 * leading to its `ret`, falling through to the next rule, then the default.
 */
function syscallNode(
  dag: Dag,
  policy: Policy,
  abi: AbiName,
  endian: Endian,
  name: string,
  ruleIdx: readonly number[],
  defaultNode: DefaultNode,
  routed?: ReadonlyMap<number, Rule>,
): Node {
  // On a multiplexer, `routed` holds the sub-call rules as they apply there (evaluate.ts rulesFor).
  const ruleOf = (i: number): Rule => routed?.get(i) ?? policy.rules[i]!;
  const ordered = ruleIdx.length === 1 ? ruleIdx : [...ruleIdx].sort((x, y) => ACTION_RANK[ruleOf(x).action.kind] - ACTION_RANK[ruleOf(y).action.kind] || x - y);
  // An unconditional rule decides everything that reaches it: rules after it are dead.
  let end = 0;
  while (end < ordered.length && ruleOf(ordered[end]!).conditions.length > 0) end++;
  let node: Node;
  if (end === ordered.length) node = defaultNode(name);
  else {
    const last = ordered[end]!;
    node = retFor(dag, ruleOf(last).action, abi, name, ruleOf(last).origin, last);
  }
  for (let j = end - 1; j >= 0; j--) {
    const i = ordered[j]!;
    const rule = ruleOf(i);
    const origin = { note: `${name}: ${rule.origin}`, rules: [i] };
    let chain: Node = retFor(dag, rule.action, abi, name, rule.origin, i);
    for (let c = rule.conditions.length - 1; c >= 0; c--) {
      const cond = rule.conditions[c]!;
      chain = conditionNode(dag, cond, conditionWidth(policy, abi, name, cond.arg), endian, chain, node, origin);
    }
    node = chain;
  }
  return node;
}

const MULTIPLEXERS: readonly Multiplexer[] = ["socketcall", "ipc"];

/** Policy rule indexes by syscall name, in policy order. */
function rulesByName(policy: Policy): Map<string, number[]> {
  const byName = new Map<string, number[]>();
  policy.rules.forEach((r, i) => {
    const list = byName.get(r.syscall);
    if (list === undefined) byName.set(r.syscall, [i]);
    else list.push(i);
  });
  return byName;
}

/**
 * The decisions of one ABI, sparse: the table positions of the syscalls that
 * have rules (ascending), their nodes and rule indexes, and the node of every
 * other syscall (undefined when all have rules).
 */
interface AbiDecisions {
  readonly abi: AbiName;
  readonly positions: Int32Array;
  readonly nodes: readonly Node[];
  readonly rules: readonly (readonly number[])[];
  readonly plain: Node | undefined;
}

const NO_RULES: readonly number[] = Object.freeze([]);

/**
 * Decisions for every syscall of `abi`'s table. Nodes are made in table
 * order (which fixes each `ret`'s note and every node's id), but only for the
 * syscalls that have rules and for the first that has none: every other one
 * gets that same default node.
 */
function abiDecisions(dag: Dag, policy: Policy, abi: AbiName, byName: ReadonlyMap<string, readonly number[]>): AbiDecisions {
  const table = syscallTable(abi);
  const positionOf = syscallPositions(abi);
  const rulesAt = new Array<readonly number[] | undefined>(table.length);
  let count = 0;
  byName.forEach((all, name) => {
    const p = positionOf.get(name);
    if (p === undefined) return;
    // Rules limited to other ABIs (Rule.abis) do not exist here.
    const idx = all.some((i) => policy.rules[i]!.abis !== undefined) ? all.filter((i) => ruleAppliesOn(policy.rules[i]!, abi)) : all;
    if (idx.length === 0) return;
    rulesAt[p] = idx;
    count++;
  });
  // socketcall / ipc: also the unconditional rules of their sub-calls, as arg0 rules (evaluate.ts rulesFor).
  const routed = new Map<number, ReadonlyMap<number, Rule>>();
  for (const via of MULTIPLEXERS) {
    const p = positionOf.get(via);
    if (p === undefined) continue;
    const applied = rulesFor(policy, abi, via);
    if (!applied.some((a) => a.route !== undefined)) continue;
    if (rulesAt[p] === undefined) count++;
    rulesAt[p] = applied.map((a) => a.index);
    routed.set(p, new Map(applied.map((a) => [a.index, a.rule])));
  }
  const positions = new Int32Array(count);
  for (let p = 0, q = 0; q < count; p++) if (rulesAt[p] !== undefined) positions[q++] = p;
  // The first syscall without rules.
  let firstPlain = 0;
  while (firstPlain < count && positions[firstPlain] === firstPlain) firstPlain++;
  const defaultNode = defaultNodeOf(dag, policy, abi);
  const endian = getAbi(abi).endian;
  const nodes: Node[] = [];
  const rules: (readonly number[])[] = [];
  for (const p of positions) {
    if (firstPlain < p) defaultNode(table[firstPlain]!.name);
    const ruleIdx = rulesAt[p]!;
    nodes.push(syscallNode(dag, policy, abi, endian, table[p]!.name, ruleIdx, defaultNode, routed.get(p)));
    rules.push(ruleIdx);
  }
  const plain = firstPlain < table.length ? defaultNode(table[firstPlain]!.name) : undefined;
  return { abi, positions, nodes, rules, plain };
}

/** An ABI's decisions, for the part [lo, hi] of the nr space that it owns in a section. */
interface RegionDecisions {
  readonly d: AbiDecisions;
  readonly lo: number;
  readonly hi: number;
}

/** The decision of every syscall of `d`'s ABI numbered within [lo, hi], in number order. */
function listDecisions({ d, lo, hi }: RegionDecisions): SyscallDecision[] {
  const out: SyscallDecision[] = [];
  const { abi, positions, nodes, rules, plain } = d;
  let q = 0;
  syscallTable(abi).forEach((e, p) => {
    const ruled = q < positions.length && positions[q] === p;
    if (e.nr >= lo && e.nr <= hi) out.push({ abi, name: e.name, nr: e.nr, node: ruled ? nodes[q]! : plain!, rules: ruled ? rules[q]! : NO_RULES });
    if (ruled) q++;
  });
  return out;
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

/**
 * Build the sections, one per distinct AUDIT_ARCH, in the policy's ABI order.
 * Each region's nr space is cut at the syscalls that have rules; between
 * them, the table's runs of consecutive numbers get the default node and the
 * gaps the unknown one (neighbouring ranges with one node merge). A section's
 * `decisions` list is only made when read.
 */
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
  const byName = rulesByName(policy);
  /** Each ABI's decisions, made once (a second region of the ABI would only find the same nodes). */
  const decided = new Map<AbiName, AbiDecisions>();
  return order.map((auditArch): ArchSection => {
    const sectionAbis = byArch.get(auditArch)!;
    const parts: RegionDecisions[] = [];
    const segs: { lo: number; hi: number; node: Node; weight: number }[] = [];
    const push = (lo: number, hi: number, node: Node, weight: number) => {
      const last = segs[segs.length - 1];
      if (last !== undefined && last.node === node && last.hi + 1 === lo) {
        last.hi = hi;
        last.weight += weight;
      } else segs.push({ lo, hi, node, weight });
    };
    for (const region of regions(sectionAbis)) {
      if (region.abi === null) {
        push(region.lo, region.hi, badArch, 0);
        continue;
      }
      const abi = region.abi;
      const unknown = retFor(dag, policy.unknown.action, abi, null, policy.unknown.origin, null);
      let d = decided.get(abi);
      if (d === undefined) {
        d = abiDecisions(dag, policy, abi, byName);
        decided.set(abi, d);
      }
      parts.push({ d, lo: region.lo, hi: region.hi });
      const { positions, nodes, plain } = d;
      const table = syscallTable(abi);
      const runs = syscallRuns(abi);
      let run = 0;
      /** [lo, hi] holds no syscall with rules: runs of the table get `plain`, gaps `unknown`. */
      const background = (lo: number, hi: number): void => {
        let next = lo;
        while (run < runs.length && runs[run]!.hi < lo) run++;
        for (let r = run; r < runs.length && runs[r]!.lo <= hi; r++) {
          const from = Math.max(runs[r]!.lo, next);
          const to = Math.min(runs[r]!.hi, hi);
          if (from > next) push(next, from - 1, unknown, 0);
          push(from, to, plain!, to - from + 1);
          next = to + 1;
        }
        if (next <= hi) push(next, hi, unknown, 0);
      };
      let next = region.lo;
      for (let q = 0; q < positions.length; q++) {
        const nr = table[positions[q]!]!.nr;
        if (nr < region.lo || nr > region.hi) continue;
        if (nr > next) background(next, nr - 1);
        push(nr, nr, nodes[q]!, 1);
        next = nr + 1;
      }
      if (next <= region.hi) background(next, region.hi);
    }
    return section(auditArch, sectionAbis, segs, parts);
  });
}

/** A section whose `decisions` list is made from `parts` when first read. */
function section(auditArch: number, abis: readonly AbiName[], segments: readonly Segment[], parts: readonly RegionDecisions[]): ArchSection {
  let decisions: SyscallDecision[] | undefined;
  return {
    auditArch,
    abis,
    segments,
    get decisions(): SyscallDecision[] {
      return (decisions ??= parts.flatMap(listDecisions));
    },
  };
}
