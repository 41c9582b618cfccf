/**
 * From the DAG to instructions: a balanced binary search over nr ranges, the
 * arch gate, and the layout. Layout runs backwards from the end, so every
 * jump offset is known when its instruction is placed; a target more than 255
 * instructions away gets a nearby copy of its `ret`, or a `ja` trampoline.
 */
import { BPF_ABS, BPF_ALU, BPF_AND, BPF_JA, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W, JUMP_OPS, insn, type Insn } from "../bpf/insn.js";
import type { AState, Dag, Node, NodeOrigin, TestNode } from "./dag.js";
import type { Segment } from "./table.js";

/** Offsets in struct seccomp_data. */
export const NR_OFFSET = 0;
export const ARCH_OFFSET = 4;

/** At most this many single-number islands are tested with a `jeq` chain in one leaf. */
const MAX_ISLANDS = 4;

/** Up to this many segments, the search tree is chosen by dynamic programming. */
const OPTIMAL_LIMIT = 400;

/**
 * The tree with the fewest executed comparisons, summed over the syscalls
 * (segment weights), then the fewest instructions: for every stretch of
 * segments, either a `jeq` island chain or the best `jge` split. Split points
 * are searched between those of the two sub-stretches (Knuth's bound for
 * optimal search trees), so the table costs O(n²). Returns, for a stretch,
 * the split index, or -1 for an island chain.
 */
function optimalPlan(
  n: number,
  weight: (i: number, j: number) => number,
  islands: (i: number, j: number) => { isl: readonly Segment[] } | undefined,
): (i: number, j: number) => number {
  const cost = new Float64Array(n * n);
  const size = new Int32Array(n * n);
  const root = new Int32Array(n * n);
  const choice = new Int32Array(n * n);
  for (let i = 0; i < n; i++) root[i * n + i] = i;
  for (let len = 2; len <= n; len++) {
    for (let i = 0; i + len - 1 < n; i++) {
      const j = i + len - 1;
      const w = weight(i, j);
      let bestC = Infinity;
      let bestS = 0;
      let bestK = i + 1;
      const lo = Math.max(i + 1, root[i * n + j - 1]!);
      const hi = Math.min(j, Math.max(lo, root[(i + 1) * n + j]!));
      for (let k = lo; k <= hi; k++) {
        const c = w + cost[i * n + k - 1]! + cost[k * n + j]!;
        const sz = 1 + size[i * n + k - 1]! + size[k * n + j]!;
        if (c < bestC || (c === bestC && sz < bestS)) {
          bestC = c;
          bestS = sz;
          bestK = k;
        }
      }
      root[i * n + j] = bestK;
      let pick = bestK;
      // An island stretch alternates with its common decision: at most 2·MAX_ISLANDS+1 segments.
      const leaf = len <= 2 * MAX_ISLANDS + 1 ? islands(i, j) : undefined;
      if (leaf !== undefined) {
        const ws = leaf.isl.map((s) => s.weight).sort((a, b) => b - a);
        let c = 0;
        ws.forEach((x, idx) => (c += x * (idx + 1)));
        c += (w - ws.reduce((a, b) => a + b, 0)) * ws.length;
        if (c < bestC || (c === bestC && ws.length <= bestS)) {
          bestC = c;
          bestS = ws.length;
          pick = -1;
        }
      }
      cost[i * n + j] = bestC;
      size[i * n + j] = bestS;
      choice[i * n + j] = pick;
    }
  }
  return (i, j) => choice[i * n + j]!;
}

/**
 * Binary search over sorted, gap-free segments. Inner nodes are
 * `nr >= boundary`. A stretch where every segment has one decision except up
 * to {@link MAX_ISLANDS} single numbers can instead be a `jeq` chain over
 * those numbers (heaviest first) falling through to the common decision: one
 * instruction per island instead of two bounds. Up to {@link OPTIMAL_LIMIT}
 * segments the shape minimises the executed comparisons over the syscalls
 * ({@link optimalPlan}); beyond, splits balance the syscall counts.
 */
export function dispatchNode(dag: Dag, segs: readonly Segment[], origin: NodeOrigin): Node {
  const prefix: number[] = [0];
  for (const s of segs) prefix.push(prefix[prefix.length - 1]! + s.weight);
  const weight = (i: number, j: number) => prefix[j + 1]! - prefix[i]!;

  /** The common node of segs[i..j] when all but ≤ MAX_ISLANDS single numbers share it. */
  const islands = (i: number, j: number): { common: Node; isl: Segment[] } | undefined => {
    let common: Node | undefined;
    for (let k = i; k <= j; k++) {
      const s = segs[k]!;
      if (s.lo !== s.hi) {
        if (common === undefined) common = s.node;
        else if (common !== s.node) return undefined;
      }
    }
    if (common === undefined) {
      // Only single numbers: the heaviest kind of node is the fall-through.
      const w = new Map<Node, number>();
      for (let k = i; k <= j; k++) w.set(segs[k]!.node, (w.get(segs[k]!.node) ?? 0) + segs[k]!.weight + 1);
      common = [...w.entries()].sort((a, b) => b[1] - a[1])[0]![0];
    }
    const isl: Segment[] = [];
    for (let k = i; k <= j; k++) if (segs[k]!.node !== common) isl.push(segs[k]!);
    return isl.length <= MAX_ISLANDS ? { common, isl } : undefined;
  };

  const chain = (leaf: { common: Node; isl: Segment[] }): Node => {
    let node = leaf.common;
    const order = [...leaf.isl].sort((a, b) => a.weight - b.weight || b.lo - a.lo);
    for (const s of order) node = dag.test(NR_OFFSET, null, "jeq", s.lo, s.node, node, origin);
    return node;
  };
  const split = (i: number, k: number, j: number, build: (i: number, j: number) => Node): Node =>
    dag.test(NR_OFFSET, null, "jge", segs[k]!.lo, build(k, j), build(i, k - 1), origin);

  const n = segs.length;
  if (n <= OPTIMAL_LIMIT) {
    const plan = optimalPlan(n, weight, islands);
    const build = (i: number, j: number): Node => {
      if (i === j) return segs[i]!.node;
      const k = plan(i, j);
      return k < 0 ? chain(islands(i, j)!) : split(i, k, j, build);
    };
    return build(0, n - 1);
  }

  // Large tables: weight-balanced split, island chains wherever they apply.
  const build = (i: number, j: number): Node => {
    if (i === j) return segs[i]!.node;
    const leaf = islands(i, j);
    if (leaf !== undefined) return chain(leaf);
    // Segment count breaks ties (and decides when weights are 0).
    const total = weight(i, j);
    let best = i + 1;
    let bestScore = Infinity;
    for (let k = i + 1; k <= j; k++) {
      const score = Math.abs(total - 2 * weight(i, k - 1)) * (j - i + 2) + Math.abs(j - k + 1 - (k - i));
      if (score < bestScore) {
        bestScore = score;
        best = k;
      }
    }
    return split(i, best, j, build);
  };
  return build(0, segs.length - 1);
}

/** Nodes reachable from root, parents before children (reverse post-order; false branch first). */
function topoOrder(root: Node): Node[] {
  const seen = new Set<number>();
  const post: Node[] = [];
  const stack: { n: Node; state: number }[] = [{ n: root, state: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const n = top.n;
    if (top.state === 0) {
      if (seen.has(n.id)) {
        stack.pop();
        continue;
      }
      seen.add(n.id);
      top.state = 1;
      if (n.kind === "test") {
        // Visit t first so that f ends up right after its parent.
        stack.push({ n: n.f, state: 0 });
        stack.push({ n: n.t, state: 0 });
      }
    } else {
      stack.pop();
      post.push(n);
    }
  }
  return post.reverse();
}

/** What A holds on entry to each node: a state when all predecessors agree, else null. */
function entryStates(order: readonly Node[]): Map<number, AState | null> {
  const states = new Map<number, AState | null>();
  const same = (a: AState, b: AState) => a.word === b.word && a.mask === b.mask;
  states.set(order[0]!.id, null);
  for (const n of order) {
    if (n.kind !== "test") continue;
    const out: AState = { word: n.word, mask: n.mask };
    for (const child of [n.t, n.f]) {
      if (!states.has(child.id)) states.set(child.id, out);
      else {
        const cur = states.get(child.id)!;
        if (cur !== null && !same(cur, out)) states.set(child.id, null);
      }
    }
  }
  return states;
}

/** The instructions that put the node's word into A, given what A holds. */
function prologue(n: TestNode, entry: AState | null): Insn[] {
  const out: Insn[] = [];
  const loaded = entry !== null && entry.word === n.word;
  if (loaded && entry.mask === n.mask) return out;
  if (!loaded || entry.mask !== null) out.push(insn(BPF_LD | BPF_W | BPF_ABS, n.word));
  if (n.mask !== null) out.push(insn(BPF_ALU | BPF_AND | BPF_K, n.mask));
  return out;
}

export interface Layout {
  readonly insns: Insn[];
  readonly origins: NodeOrigin[];
}

/** Lay the DAG out as a program (see module comment). */
export function layout(root: Node): Layout {
  const order = topoOrder(root);
  const states = entryStates(order);
  // Built in reverse: rev[0] is the last instruction. A jump at rev index r to
  // rev index q has offset r - q - 1.
  const rev: Insn[] = [];
  const revOrigins: NodeOrigin[] = [];
  /** Nearest rev index where each node (or a trampoline to it) starts. */
  const nearest = new Map<number, number>();
  const put = (i: Insn, o: NodeOrigin): number => {
    rev.push(i);
    revOrigins.push(o);
    return rev.length - 1;
  };
  /** Place a nearer entry to `target`: a copy of its `ret`, or a `ja` to it. */
  const trampoline = (target: Node, o: NodeOrigin): void => {
    const q = nearest.get(target.id)!;
    const i = target.kind === "ret" ? insn(BPF_RET | BPF_K, target.k) : insn(BPF_JMP | BPF_JA, rev.length - q - 1);
    nearest.set(target.id, put(i, target.kind === "ret" ? target.origin : o));
  };
  for (let idx = order.length - 1; idx >= 0; idx--) {
    const n = order[idx]!;
    if (n.kind === "ret") {
      nearest.set(n.id, put(insn(BPF_RET | BPF_K, n.k), n.origin));
      continue;
    }
    // Conditional offsets are 8 bits: bring far targets within 255.
    for (;;) {
      const dt = rev.length - nearest.get(n.t.id)! - 1;
      const df = rev.length - nearest.get(n.f.id)! - 1;
      if (dt <= 255 && df <= 255) break;
      trampoline(dt > 255 ? n.t : n.f, n.origin);
    }
    const r = rev.length;
    const jt = r - nearest.get(n.t.id)! - 1;
    const jf = r - nearest.get(n.f.id)! - 1;
    put(insn(BPF_JMP | JUMP_OPS[n.op] | BPF_K, n.k, jt, jf), n.origin);
    let start = r;
    const pro = prologue(n, states.get(n.id) ?? null);
    for (let p = pro.length - 1; p >= 0; p--) start = put(pro[p]!, n.origin);
    nearest.set(n.id, start);
  }
  return { insns: rev.reverse(), origins: revOrigins.reverse() };
}

