/**
 * Argument conditions as tests on 32-bit words. A 64-bit comparison splits
 * into the high and low words of `seccomp_data.args[i]` (their offsets depend
 * on the ABI's byte order). A comparison on fewer bits (32-bit ABIs, or an
 * argument whose declared type is narrower under `argumentWidth: "kernel"`)
 * tests the low word only, ANDed with 0xffff for a 16-bit type (0xff for 8).
 */
import type { ArgWidth } from "../abi/argtypes.js";
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
export function maskedWord(dag: Dag, word: number, m: number, v: number, t: Node, f: Node, o: NodeOrigin): Node {
  if (m === 0) return t; // v ⊆ m, so v is 0: always true
  if (m >>> 0 === 0xffffffff) return dag.test(word, null, "jeq", v, t, f, o);
  if (v === 0) return dag.test(word, null, "jset", m, f, t, o);
  if (isSingleBit(m)) return dag.test(word, null, "jset", m, t, f, o); // v === m
  return dag.test(word, m, "jeq", v, t, f, o);
}

/**
 * Unsigned compare of one 32-bit word (ANDed with `wm` when not null): GT or
 * GE, with the constant folded where it decides alone; `max` is the largest
 * value the (masked) word can hold.
 */
function cmpWord(dag: Dag, word: number, wm: number | null, max: number, op: "GT" | "GE", v: number, t: Node, f: Node, o: NodeOrigin): Node {
  if (op === "GE" && v === 0) return t;
  if (op === "GT" && v >>> 0 >= max >>> 0) return f;
  if (op === "GE" && v >>> 0 > max >>> 0) return f;
  return dag.test(word, wm, op === "GT" ? "jgt" : "jge", v, t, f, o);
}

/**
 * Nodes that go to `t` when `c` holds and to `f` otherwise, when the low
 * `bits` bits of the argument count (the register width, or the declared
 * type's width: see `conditionWidth` in src/policy/evaluate.ts), on an ABI
 * with the given byte order.
 */
export function conditionNode(dag: Dag, c: Condition, bits: ArgWidth, endian: Endian, t: Node, f: Node, o: NodeOrigin): Node {
  const { lo, hi } = argWords(c.arg, endian);
  const mask64 = (1n << BigInt(bits)) - 1n;
  const v = c.value & mask64;
  const vl = Number(v & U32);
  const vh = Number(v >> 32n);
  const narrow = bits !== 64;
  /** Mask applied to the low word before a test: null for 32 and 64 bits. */
  const wm = bits < 32 ? Number(mask64) : null;
  const max = Number(mask64 & U32);
  switch (c.op) {
    case "EQ":
    case "NE": {
      const [yes, no] = c.op === "EQ" ? [t, f] : [f, t];
      const low = dag.test(lo, wm, "jeq", vl, yes, no, o);
      return narrow ? low : dag.test(hi, null, "jeq", vh, low, no, o);
    }
    case "GT":
    case "GE":
    case "LT":
    case "LE": {
      // LT is "not GE", LE is "not GT".
      const base: "GT" | "GE" = c.op === "GT" || c.op === "LE" ? "GT" : "GE";
      const [yes, no] = c.op === "GT" || c.op === "GE" ? [t, f] : [f, t];
      const low = cmpWord(dag, lo, wm, max, base, vl, yes, no, o);
      if (narrow) return low;
      // Decided by the high word alone when the low word cannot change the answer.
      if ((base === "GE" && vl === 0) || (base === "GT" && vl >>> 0 === 0xffffffff)) {
        return cmpWord(dag, hi, null, 0xffffffff, base === "GE" ? "GE" : "GT", vh, yes, no, o);
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
      return narrow ? low : maskedWord(dag, hi, mh, vh, low, f, o);
    }
  }
}
