/**
 * Argument conditions as tests on 32-bit words. A 64-bit comparison splits
 * into the high and low words of `seccomp_data.args[i]` (their offsets depend
 * on the ABI's byte order); on 32-bit ABIs only the low word takes part.
 */
import type { Endian } from "../abi/arch.js";
import type { Condition } from "../policy/model.js";
import type { Dag, Node, NodeOrigin } from "./dag.js";

const U32 = 0xffffffffn;

/** Offsets of the low and high words of args[i]. */
export function argWords(arg: number, endian: Endian): { lo: number; hi: number } {
  const base = 16 + 8 * arg;
  return endian === "little" ? { lo: base, hi: base + 4 } : { lo: base + 4, hi: base };
}

function isSingleBit(x: number): boolean {
  return x !== 0 && (x & (x - 1)) === 0;
}

/** `(word & m) == v` → t, else f; v ⊆ m. Uses jset where one instruction does. */
function maskedWord(dag: Dag, word: number, m: number, v: number, t: Node, f: Node, o: NodeOrigin): Node {
  if (m === 0) return t; // v ⊆ m, so v is 0: always true
  if (m >>> 0 === 0xffffffff) return dag.test(word, null, "jeq", v, t, f, o);
  if (v === 0) return dag.test(word, null, "jset", m, f, t, o);
  if (isSingleBit(m)) return dag.test(word, null, "jset", m, t, f, o); // v === m
  return dag.test(word, m, "jeq", v, t, f, o);
}

/** Unsigned compare of one 32-bit word: GT or GE, with the constant folded where it decides alone. */
function cmpWord(dag: Dag, word: number, op: "GT" | "GE", v: number, t: Node, f: Node, o: NodeOrigin): Node {
  if (op === "GE" && v === 0) return t;
  if (op === "GT" && v >>> 0 === 0xffffffff) return f;
  return dag.test(word, null, op === "GT" ? "jgt" : "jge", v, t, f, o);
}

/**
 * Nodes that go to `t` when `c` holds and to `f` otherwise, on an ABI with
 * `bits`-wide argument registers and the given byte order.
 */
export function conditionNode(dag: Dag, c: Condition, bits: 32 | 64, endian: Endian, t: Node, f: Node, o: NodeOrigin): Node {
  const { lo, hi } = argWords(c.arg, endian);
  const mask64 = bits === 64 ? (1n << 64n) - 1n : U32;
  const v = c.value & mask64;
  const vl = Number(v & U32);
  const vh = Number(v >> 32n);
  switch (c.op) {
    case "EQ":
    case "NE": {
      const [yes, no] = c.op === "EQ" ? [t, f] : [f, t];
      const low = dag.test(lo, null, "jeq", vl, yes, no, o);
      return bits === 32 ? low : dag.test(hi, null, "jeq", vh, low, no, o);
    }
    case "GT":
    case "GE":
    case "LT":
    case "LE": {
      // LT is "not GE", LE is "not GT".
      const base: "GT" | "GE" = c.op === "GT" || c.op === "LE" ? "GT" : "GE";
      const [yes, no] = c.op === "GT" || c.op === "GE" ? [t, f] : [f, t];
      const low = cmpWord(dag, lo, base, vl, yes, no, o);
      if (bits === 32) return low;
      // Decided by the high word alone when the low word cannot change the answer.
      if ((base === "GE" && vl === 0) || (base === "GT" && vl >>> 0 === 0xffffffff)) {
        return cmpWord(dag, hi, base === "GE" ? "GE" : "GT", vh, yes, no, o);
      }
      const eqHigh = dag.test(hi, null, "jeq", vh, low, no, o);
      return vh >>> 0 === 0xffffffff ? eqHigh : dag.test(hi, null, "jgt", vh, yes, eqHigh, o);
    }
    case "MASKED_EQ": {
      const m = (c.mask ?? 0n) & mask64;
      if ((v & ~m & mask64) !== 0n) return f; // the value has bits the mask clears: never equal
      const ml = Number(m & U32);
      const mh = Number(m >> 32n);
      const low = maskedWord(dag, lo, ml, vl, t, f, o);
      return bits === 32 ? low : maskedWord(dag, hi, mh, vh, low, f, o);
    }
  }
}
