/**
 * The search tree as a hash-consed DAG: identical `ret` leaves and identical
 * subtrees exist once, and a test whose branches agree collapses to the
 * branch. Each test names the 32-bit word it needs in A (and an optional
 * mask to AND it with); whether a load is emitted is decided at layout, from
 * what all predecessors leave in A.
 */
import type { JumpOp } from "../bpf/insn.js";

/** Where a node came from, for the program's source map. */
export interface NodeOrigin {
  readonly note: string;
  readonly rules: readonly number[];
}

export interface RetNode {
  readonly kind: "ret";
  readonly id: number;
  readonly k: number;
  readonly origin: NodeOrigin;
}

export interface TestNode {
  readonly kind: "test";
  readonly id: number;
  /** Offset in struct seccomp_data of the word A must hold. */
  readonly word: number;
  /** AND mask applied to the word before the test, or null. */
  readonly mask: number | null;
  readonly op: JumpOp;
  readonly k: number;
  readonly t: Node;
  readonly f: Node;
  readonly origin: NodeOrigin;
}

export type Node = RetNode | TestNode;

function sameTest(n: TestNode, word: number, mask: number | null, op: JumpOp, k: number, t: Node, f: Node): boolean {
  return n.t === t && n.f === f && n.word === word && n.mask === mask && n.op === op && n.k === k;
}

/** Builds nodes, sharing identical ones. */
export class Dag {
  /** `ret` leaves by value. */
  private readonly rets = new Map<number, RetNode>();
  /**
   * Tests by a number made from their branches' ids (a small integer while
   * ids are below 2^15); the few tests that share one are told apart by
   * comparing them.
   */
  private readonly tests = new Map<number, TestNode | TestNode[]>();
  private nextId = 0;

  /** How many nodes there are: every node's id is below it. */
  get size(): number {
    return this.nextId;
  }

  /** The `ret #k` leaf, if there is one already. */
  findRet(k: number): RetNode | undefined {
    return this.rets.get(k >>> 0);
  }

  /** A `ret #k` leaf. */
  ret(k: number, origin: NodeOrigin): RetNode {
    const found = this.rets.get(k >>> 0);
    if (found !== undefined) return found;
    const n: RetNode = { kind: "ret", id: this.nextId++, k: k >>> 0, origin };
    this.rets.set(n.k, n);
    return n;
  }

  /** A test `op #k` on `word` (masked), going to t when true and f when false. */
  test(word: number, mask: number | null, op: JumpOp, k: number, t: Node, f: Node, origin: NodeOrigin): Node {
    if (t === f) return t;
    const m = mask === null || mask >>> 0 === 0xffffffff ? null : mask >>> 0;
    const u = k >>> 0;
    const pair = t.id * 0x8000 + f.id;
    const found = this.tests.get(pair);
    if (found !== undefined) {
      if (!Array.isArray(found)) {
        if (sameTest(found, word, m, op, u, t, f)) return found;
      } else {
        for (const x of found) if (sameTest(x, word, m, op, u, t, f)) return x;
      }
    }
    const n: TestNode = { kind: "test", id: this.nextId++, word, mask: m, op, k: u, t, f, origin };
    if (found === undefined) this.tests.set(pair, n);
    else if (Array.isArray(found)) found.push(n);
    else this.tests.set(pair, [found, n]);
    return n;
  }
}
