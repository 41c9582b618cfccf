/**
 * From the DAG to instructions: a balanced binary search over nr ranges, the
 * arch gate, and the layout. Layout runs backwards from the end, so every
 * jump offset is known when its instruction is placed; a target more than 255
 * instructions away gets a nearby copy of its `ret`, or a `ja` trampoline.
 */
import { BPF_ABS, BPF_ALU, BPF_AND, BPF_JA, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W, JUMP_OPS, insn, type Insn } from "../bpf/insn.js";
import type { Dag, Node, NodeOrigin, TestNode } from "./dag.js";
import type { Segment } from "./table.js";

/** Offsets in struct seccomp_data. */
export const NR_OFFSET = 0;
export const ARCH_OFFSET = 4;

/** At most this many single-number islands are tested with a `jeq` chain in one leaf. */
const MAX_ISLANDS = 4;

/** Up to this many segments, the search tree is chosen by dynamic programming. */
const OPTIMAL_LIMIT = 400;

/**
 * The segments as flat arrays, for the search-tree planning: whether each is
 * a single number, the id of its node, its weight, and the prefix sums of the
 * weights. `total` and `first` are scratch indexed by node id (`total` is
 * all zero between uses).
 */
interface SegArrays {
  readonly n: number;
  readonly single: Uint8Array;
  readonly node: Int32Array;
  readonly weight: Float64Array;
  /** prefix[i] = weight of segments 0..i-1. */
  readonly prefix: Float64Array;
  readonly total: Float64Array;
  readonly first: Int32Array;
}

function segArrays(segs: readonly Segment[]): SegArrays {
  const n = segs.length;
  const single = new Uint8Array(n);
  const node = new Int32Array(n);
  const weight = new Float64Array(n);
  const prefix = new Float64Array(n + 1);
  let maxId = 0;
  for (let k = 0; k < n; k++) {
    const s = segs[k]!;
    single[k] = s.lo === s.hi ? 1 : 0;
    node[k] = s.node.id;
    if (k > 0 && node[k] === node[k - 1]) throw new Error("dispatchNode: neighbouring segments have one decision; merge them");
    weight[k] = s.weight;
    prefix[k + 1] = prefix[k]! + s.weight;
    if (s.node.id > maxId) maxId = s.node.id;
  }
  return { n, single, node, weight, prefix, total: new Float64Array(maxId + 1), first: new Int32Array(maxId + 1) };
}

/** Stretches of at most this many segments can be island chains (neighbours differ, so at most every other segment has the common decision). */
const CHAIN_SPAN = 2 * MAX_ISLANDS + 1;

/**
 * Which stretches of 2 to {@link CHAIN_SPAN} segments can be a `jeq` island
 * chain: every segment that is not a single number has the common decision,
 * and all but at most {@link MAX_ISLANDS} segments have it. When all are
 * single numbers, the common decision is the node with the most weight (each
 * segment counting one more), the first seen on a tie. Worked out a row (all
 * stretches from one segment) at a time, when first asked; the entry of
 * segs[i..j] is at i · CHAIN_SPAN + (j - i).
 */
class IslandChains {
  /** The index of a segment with the common decision, or -1 when the stretch cannot be a chain. */
  readonly common: Int32Array;
  /** Executed comparisons, summed over the syscalls: the heaviest island is tested first, every other syscall runs through the whole chain. */
  readonly cost: Float64Array;
  /** Islands (instructions). */
  readonly islands: Uint8Array;
  private readonly done: Uint8Array;
  /** Island weights of one stretch, heaviest first. */
  private readonly ws = new Float64Array(MAX_ISLANDS + 1);

  constructor(private readonly a: SegArrays) {
    this.common = new Int32Array(a.n * CHAIN_SPAN).fill(-1);
    this.cost = new Float64Array(a.n * CHAIN_SPAN);
    this.islands = new Uint8Array(a.n * CHAIN_SPAN);
    this.done = new Uint8Array(a.n);
  }

  /** The common decision's segment of segs[i..j] as a chain, or -1. */
  commonOf(i: number, j: number): number {
    if (j - i >= CHAIN_SPAN) return -1;
    this.row(i);
    return this.common[i * CHAIN_SPAN + j - i]!;
  }

  /** Work out the stretches from segment i. */
  row(i: number): void {
    if (this.done[i] === 1) return;
    this.done[i] = 1;
    const { n, single, node, weight, prefix, total, first } = this.a;
    const ws = this.ws;
    const end = Math.min(n - 1, i + CHAIN_SPAN - 1);
    let wide = -1;
    // The heaviest node so far (its first segment) and its weight.
    let heavy = -1;
    let heavyTotal = -1;
    for (let j = i; j <= end; j++) {
      if (single[j] === 0) {
        if (wide < 0) wide = j;
        // Two wide segments with different decisions: no stretch from i on is a chain.
        else if (node[j] !== node[wide]) break;
      }
      const x = node[j]!;
      if (total[x] === 0) first[x] = j;
      const t = (total[x] += weight[j]! + 1);
      if (t > heavyTotal || (t === heavyTotal && first[x]! < heavy)) {
        heavyTotal = t;
        heavy = first[x]!;
      }
      if (j === i) continue;
      const c = wide >= 0 ? wide : heavy;
      let count = 0;
      let sum = 0;
      for (let k = i; k <= j && count <= MAX_ISLANDS; k++) {
        if (node[k] === node[c]) continue;
        const w = weight[k]!;
        let p = count++;
        for (; p > 0 && ws[p - 1]! < w; p--) ws[p] = ws[p - 1]!;
        ws[p] = w;
        sum += w;
      }
      if (count > MAX_ISLANDS) continue;
      let executed = (prefix[j + 1]! - prefix[i]! - sum) * count;
      for (let p = 0; p < count; p++) executed += ws[p]! * (p + 1);
      const at = i * CHAIN_SPAN + j - i;
      this.common[at] = c;
      this.cost[at] = executed;
      this.islands[at] = count;
    }
    for (let k = i; k <= end; k++) total[node[k]!] = 0;
  }
}

/** Tables of {@link optimalPlan}, reused (grown, never shrunk) so that planning allocates nothing once warm. */
let planKeys = new Float64Array(0);
let planRoot = new Int32Array(0);
let planChoice = new Int32Array(0);

/**
 * The tree with the fewest executed comparisons, summed over the syscalls
 * (segment weights), then the fewest instructions: for every stretch of
 * segments, either a `jeq` island chain or the best `jge` split. Split points
 * are searched between those of the two sub-stretches (Knuth's bound for
 * optimal search trees), so the table costs O(n²).
 *
 * Both criteria are integers, compared as one key `cost · span + size`: a
 * stretch of m segments takes at most m - 1 instructions (a split adds one to
 * its halves', a chain has one per island and at least one segment is not an
 * island), so sizes stay below span = n; the keys must stay below 2^53.
 *
 * Returns, for the stretch i..j at index i·n + j, the split index, or -1 for
 * an island chain. The array is shared: valid until the next call.
 */
function optimalPlan(a: SegArrays, chains: IslandChains): Int32Array {
  const n = a.n;
  const span = n;
  if (a.prefix[n]! * (n + 1) * span >= Number.MAX_SAFE_INTEGER) throw new Error("optimalPlan: weights too large for exact keys");
  if (planKeys.length < n * n) {
    planKeys = new Float64Array(n * n);
    planRoot = new Int32Array(n * n);
    planChoice = new Int32Array(n * n);
  }
  const keys = planKeys;
  const root = planRoot;
  const choice = planChoice;
  const prefix = a.prefix;
  const { common, cost, islands } = chains;
  // Row by row from the bottom: cell (i, j) reads cells (i, k - 1) of its own
  // row, computed before it, and cells (k, j) of later rows.
  for (let i = n - 1; i >= 0; i--) {
    const row = i * n;
    keys[row + i] = 0;
    root[row + i] = i;
    const before = prefix[i]!;
    chains.row(i);
    // Knuth's window for the split of (i, j): from the split of (i, j - 1) to that of (i + 1, j).
    let lo = i + 1;
    for (let j = i + 1; j < n; j++) {
      const w = prefix[j + 1]! - before;
      const upper = root[row + n + j]!;
      // Split at k: the `jge` itself (weight w, one instruction) plus both halves.
      let best = keys[row + lo - 1]! + keys[lo * n + j]!;
      let bestK = lo;
      if (upper > lo) {
        const hi = upper < j ? upper : j;
        for (let k = lo + 1; k <= hi; k++) {
          const key = keys[row + k - 1]! + keys[k * n + j]!;
          if (key < best) {
            best = key;
            bestK = k;
          }
        }
      }
      best += w * span + 1;
      root[row + j] = bestK;
      lo = bestK;
      let pick = bestK;
      if (j - i < CHAIN_SPAN) {
        const at = i * CHAIN_SPAN + j - i;
        const chain = common[at]! < 0 ? Infinity : cost[at]! * span + islands[at]!;
        if (chain <= best) {
          best = chain;
          pick = -1;
        }
      }
      keys[row + j] = best;
      choice[row + j] = pick;
    }
  }
  return choice;
}

/**
 * Binary search over sorted, gap-free segments, neighbours with different
 * decisions (as buildSections makes them). Inner nodes are
 * `nr >= boundary`. A stretch where every segment has one decision except up
 * to {@link MAX_ISLANDS} single numbers can instead be a `jeq` chain over
 * those numbers (heaviest first) falling through to the common decision: one
 * instruction per island instead of two bounds. Up to {@link OPTIMAL_LIMIT}
 * segments the shape minimises the executed comparisons over the syscalls
 * ({@link optimalPlan}); beyond, splits balance the syscall counts.
 */
export function dispatchNode(dag: Dag, segs: readonly Segment[], origin: NodeOrigin): Node {
  const a = segArrays(segs);
  const chains = new IslandChains(a);
  const prefix = a.prefix;
  const weight = (i: number, j: number) => prefix[j + 1]! - prefix[i]!;

  /** The island chain of segs[i..j], whose common decision is segs[c]'s. */
  const chain = (i: number, j: number, c: number): Node => {
    const common = segs[c]!.node;
    // The islands, lightest (then highest) first: the chain is built from its end.
    const isl: Segment[] = [];
    for (let k = i; k <= j; k++) {
      const s = segs[k]!;
      if (s.node === common) continue;
      let p = isl.push(s) - 1;
      for (; p > 0 && (isl[p - 1]!.weight > s.weight || (isl[p - 1]!.weight === s.weight && isl[p - 1]!.lo < s.lo)); p--) isl[p] = isl[p - 1]!;
      isl[p] = s;
    }
    let node = common;
    for (const s of isl) node = dag.test(NR_OFFSET, null, "jeq", s.lo, s.node, node, origin);
    return node;
  };
  const split = (i: number, k: number, j: number, build: (i: number, j: number) => Node): Node =>
    dag.test(NR_OFFSET, null, "jge", segs[k]!.lo, build(k, j), build(i, k - 1), origin);

  const n = segs.length;
  if (n <= OPTIMAL_LIMIT) {
    const plan = optimalPlan(a, chains);
    const build = (i: number, j: number): Node => {
      if (i === j) return segs[i]!.node;
      const k = plan[i * n + j]!;
      return k < 0 ? chain(i, j, chains.commonOf(i, j)) : split(i, k, j, build);
    };
    return build(0, n - 1);
  }

  // Large tables: weight-balanced split, island chains wherever they apply.
  const build = (i: number, j: number): Node => {
    if (i === j) return segs[i]!.node;
    const c = chains.commonOf(i, j);
    if (c >= 0) return chain(i, j, c);
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

/**
 * Nodes reachable from root, parents before children (reverse post-order;
 * false branch first). Node ids are below `size`.
 */
function topoOrder(root: Node, size: number): Node[] {
  const seen = new Uint8Array(size);
  const post: Node[] = [];
  // Depth-first; a node's second visit (expanded = 1) is its post-order place.
  const stack: Node[] = [root];
  const expanded: number[] = [0];
  while (stack.length > 0) {
    const top = stack.length - 1;
    const n = stack[top]!;
    if (expanded[top] === 0) {
      if (seen[n.id] === 1) {
        stack.pop();
        expanded.pop();
        continue;
      }
      seen[n.id] = 1;
      expanded[top] = 1;
      if (n.kind === "test") {
        // Visit t first so that f ends up right after its parent.
        stack.push(n.f, n.t);
        expanded.push(0, 0);
      }
    } else {
      stack.pop();
      expanded.pop();
      post.push(n);
    }
  }
  return post.reverse();
}

// What is known of A on entry to a node (EntryStates.kind).
/** No predecessor seen yet. */
const UNSEEN = 0;
/** All predecessors leave one word, masked alike, in A. */
const KNOWN = 1;
/** Predecessors disagree, or the node is the program's entry. */
const MIXED = 2;

/**
 * What A holds on entry to each node, by node id: a state when all
 * predecessors agree (word, and mask or -1 for none), else MIXED.
 */
interface EntryStates {
  readonly kind: Uint8Array;
  readonly word: Int32Array;
  readonly mask: Float64Array;
}

function entryStates(order: readonly Node[], size: number): EntryStates {
  const kind = new Uint8Array(size);
  const word = new Int32Array(size);
  const mask = new Float64Array(size);
  kind[order[0]!.id] = MIXED;
  const reach = (child: Node, w: number, m: number): void => {
    const id = child.id;
    if (kind[id] === UNSEEN) {
      kind[id] = KNOWN;
      word[id] = w;
      mask[id] = m;
    } else if (kind[id] === KNOWN && (word[id] !== w || mask[id] !== m)) kind[id] = MIXED;
  };
  for (const n of order) {
    if (n.kind !== "test") continue;
    const m = n.mask ?? -1;
    reach(n.t, n.word, m);
    reach(n.f, n.word, m);
  }
  return { kind, word, mask };
}

/** Append the instructions that put the node's word into A, given what A holds on entry. */
function prologue(n: TestNode, states: EntryStates, out: Insn[]): void {
  const known = states.kind[n.id] === KNOWN;
  const entryMask = states.mask[n.id]!;
  const loaded = known && states.word[n.id] === n.word;
  if (loaded && entryMask === (n.mask ?? -1)) return;
  if (!loaded || entryMask !== -1) out.push(insn(BPF_LD | BPF_W | BPF_ABS, n.word));
  if (n.mask !== null) out.push(insn(BPF_ALU | BPF_AND | BPF_K, n.mask));
}

export interface Layout {
  readonly insns: Insn[];
  readonly origins: NodeOrigin[];
}

/** Lay the DAG out as a program (see module comment). Node ids are below `size` ({@link Dag.size}). */
export function layout(root: Node, size: number): Layout {
  const order = topoOrder(root, size);
  const states = entryStates(order, size);
  // Built in reverse: rev[0] is the last instruction. A jump at rev index r to
  // rev index q has offset r - q - 1.
  const rev: Insn[] = [];
  const revOrigins: NodeOrigin[] = [];
  /** Nearest rev index where each node (or a trampoline to it) starts, by node id. */
  const nearest = new Int32Array(size);
  const put = (i: Insn, o: NodeOrigin): number => {
    rev.push(i);
    revOrigins.push(o);
    return rev.length - 1;
  };
  /** Place a nearer entry to `target`: a copy of its `ret`, or a `ja` to it. */
  const trampoline = (target: Node, o: NodeOrigin): void => {
    const q = nearest[target.id]!;
    const i = target.kind === "ret" ? insn(BPF_RET | BPF_K, target.k) : insn(BPF_JMP | BPF_JA, rev.length - q - 1);
    nearest[target.id] = put(i, target.kind === "ret" ? target.origin : o);
  };
  const pro: Insn[] = [];
  for (let idx = order.length - 1; idx >= 0; idx--) {
    const n = order[idx]!;
    if (n.kind === "ret") {
      nearest[n.id] = put(insn(BPF_RET | BPF_K, n.k), n.origin);
      continue;
    }
    // Conditional offsets are 8 bits: bring far targets within 255.
    for (;;) {
      const dt = rev.length - nearest[n.t.id]! - 1;
      const df = rev.length - nearest[n.f.id]! - 1;
      if (dt <= 255 && df <= 255) break;
      trampoline(dt > 255 ? n.t : n.f, n.origin);
    }
    const r = rev.length;
    const jt = r - nearest[n.t.id]! - 1;
    const jf = r - nearest[n.f.id]! - 1;
    put(insn(BPF_JMP | JUMP_OPS[n.op] | BPF_K, n.k, jt, jf), n.origin);
    let start = r;
    pro.length = 0;
    prologue(n, states, pro);
    for (let p = pro.length - 1; p >= 0; p--) start = put(pro[p]!, n.origin);
    nearest[n.id] = start;
  }
  return { insns: rev.reverse(), origins: revOrigins.reverse() };
}
