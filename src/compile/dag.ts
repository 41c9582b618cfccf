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

/** The value A holds after a node's test: the word and the mask applied. */
export interface AState {
  readonly word: number;
  readonly mask: number | null;
}

/** Builds nodes, sharing identical ones. */
export class Dag {
  private readonly byKey = new Map<string, Node>();
  private nextId = 0;

  /** A `ret #k` leaf. */
  ret(k: number, origin: NodeOrigin): RetNode {
    const key = `r${k >>> 0}`;
    const found = this.byKey.get(key);
    if (found !== undefined) return found as RetNode;
    const n: RetNode = { kind: "ret", id: this.nextId++, k: k >>> 0, origin };
    this.byKey.set(key, n);
    return n;
  }

  /** A test `op #k` on `word` (masked), going to t when true and f when false. */
  test(word: number, mask: number | null, op: JumpOp, k: number, t: Node, f: Node, origin: NodeOrigin): Node {
    if (t === f) return t;
    const m = mask === null || mask >>> 0 === 0xffffffff ? null : mask >>> 0;
    const key = `t${word}:${m ?? ""}:${op}:${k >>> 0}:${t.id}:${f.id}`;
    const found = this.byKey.get(key);
    if (found !== undefined) return found;
    const n: TestNode = { kind: "test", id: this.nextId++, word, mask: m, op, k: k >>> 0, t, f, origin };
    this.byKey.set(key, n);
    return n;
  }
}
