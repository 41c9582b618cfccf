import { test } from "node:test";
import assert from "node:assert/strict";
import { SyscageError } from "../src/errors.js";
import {
  aluK,
  aluX,
  insn,
  jump,
  jumpIf,
  jumpIfX,
  loadAbs,
  loadConst,
  loadInd,
  loadLen,
  loadMem,
  loadXConst,
  loadXLen,
  loadXMem,
  loadXMsh,
  neg,
  ret,
  retA,
  store,
  storeX,
  tax,
  txa,
  type Insn,
} from "../src/bpf/insn.js";
import { assertValid, checkStackPaths, verify } from "../src/bpf/verify.js";

const ALLOW = 0x7fff0000;

function first(p: readonly Insn[]): { index: number; rule: string } | undefined {
  const f = verify(p)[0];
  return f === undefined ? undefined : { index: f.index, rule: f.rule };
}

// Each malformed program breaks exactly one kernel rule; expected (rule, index)
// follow from bpf_check_classic / check_load_and_stores / seccomp_check_filter.
const MALFORMED: { name: string; p: Insn[]; rule: string; index: number }[] = [
  { name: "empty program", p: [], rule: "length", index: 0 },
  { name: "4097 instructions", p: Array.from({ length: 4097 }, () => ret(ALLOW)), rule: "length", index: 4096 },
  { name: "opcode not in table (0xff)", p: [loadAbs(0), insn(0xff), ret(ALLOW)], rule: "opcode", index: 1 },
  { name: "neg with the X bit (0x8c)", p: [insn(0x8c), ret(ALLOW)], rule: "opcode", index: 0 },
  { name: "eBPF jne (0x55)", p: [insn(0x55), ret(ALLOW)], rule: "opcode", index: 0 },
  { name: "ja with the X bit (0x0d)", p: [insn(0x0d), ret(ALLOW)], rule: "opcode", index: 0 },
  { name: "ret with X source (0x0e)", p: [insn(0x0e)], rule: "opcode", index: 0 },
  { name: "st with a size bit (0x0a)", p: [insn(0x0a), ret(ALLOW)], rule: "opcode", index: 0 },
  { name: "div #0", p: [loadConst(1), aluK("div", 0), retA()], rule: "div-by-zero", index: 1 },
  { name: "mod #0 (classic check comes before seccomp's)", p: [aluK("mod", 0), retA()], rule: "div-by-zero", index: 0 },
  { name: "lsh #32", p: [aluK("lsh", 32), retA()], rule: "shift-range", index: 0 },
  { name: "rsh #0xffffffff", p: [aluK("rsh", 0xffffffff), retA()], rule: "shift-range", index: 0 },
  { name: "st M[16]", p: [store(16), retA()], rule: "mem-index", index: 0 },
  { name: "stx M[16]", p: [storeX(16), retA()], rule: "mem-index", index: 0 },
  { name: "ld M[16]", p: [loadMem(16), retA()], rule: "mem-index", index: 0 },
  { name: "ldx M[99]", p: [loadXMem(99), retA()], rule: "mem-index", index: 0 },
  { name: "ja past the end (k = len - pc - 1)", p: [jump(1), ret(ALLOW)], rule: "jump-range", index: 0 },
  { name: "ja with huge k", p: [loadAbs(0), jump(0xffffffff), ret(ALLOW)], rule: "jump-range", index: 1 },
  { name: "jeq true branch past the end", p: [jumpIf("jeq", 1, 1, 0), ret(ALLOW)], rule: "jump-range", index: 0 },
  { name: "jset x false branch past the end", p: [loadAbs(0), jumpIfX("jset", 0, 2), ret(ALLOW), ret(0)], rule: "jump-range", index: 1 },
  { name: "last instruction not ret", p: [ret(ALLOW), loadAbs(0)], rule: "last-not-ret", index: 1 },
  { name: "last instruction is a jump", p: [jumpIf("jeq", 0, 0, 0)], rule: "jump-range", index: 0 },
  { name: "M[0] read, never written", p: [loadMem(0), retA()], rule: "mem-uninit", index: 0 },
  { name: "ldx M[3] read, M[2] written", p: [store(2), loadXMem(3), retA()], rule: "mem-uninit", index: 1 },
  {
    // pc0 jumps over the store straight to the load: masks[2] loses bit 0.
    name: "store skipped by a jump",
    p: [jumpIf("jeq", 1, 1, 0), store(0), loadMem(0), retA()],
    rule: "mem-uninit",
    index: 2,
  },
  {
    // Every real path to pc4 passes the store at pc1, but the kernel's check is
    // forward-only and RET does not reset memvalid: pc3 (ret) runs with the
    // mask from pc0's jump (bit 0 clear), and pc4 inherits it.
    name: "kernel's conservative check: ret does not reset memvalid",
    p: [jumpIf("jeq", 1, 2, 0), store(0), jumpIf("jeq", 2, 1, 0), ret(0), loadMem(0), retA()],
    rule: "mem-uninit",
    index: 4,
  },
  { name: "unknown ancillary load", p: [loadAbs(0xfffff100), retA()], rule: "ancillary", index: 0 },
  { name: "known ancillary load passes classic, fails seccomp", p: [loadAbs(0xfffff000), retA()], rule: "seccomp-load", index: 0 },
  { name: "ld [64] beyond seccomp_data", p: [loadAbs(64), retA()], rule: "seccomp-load", index: 0 },
  { name: "ld [2] unaligned", p: [loadAbs(2), retA()], rule: "seccomp-load", index: 0 },
  { name: "ldh [0]", p: [loadAbs(0, 2), retA()], rule: "seccomp-opcode", index: 0 },
  { name: "ldb [0]", p: [loadAbs(0, 1), retA()], rule: "seccomp-opcode", index: 0 },
  { name: "ld [x + 0]", p: [loadInd(0), retA()], rule: "seccomp-opcode", index: 0 },
  { name: "ldh [x + 4]", p: [loadInd(4, 2), retA()], rule: "seccomp-opcode", index: 0 },
  { name: "ldx 4*([0]&0xf)", p: [loadXMsh(0), retA()], rule: "seccomp-opcode", index: 0 },
  { name: "mod #3", p: [loadAbs(0), aluK("mod", 3), retA()], rule: "seccomp-opcode", index: 1 },
  { name: "mod x", p: [loadXConst(3), aluX("mod"), retA()], rule: "seccomp-opcode", index: 1 },
];

for (const c of MALFORMED) {
  test(`rejects: ${c.name} → ${c.rule} at ${c.index}`, () => {
    assert.deepEqual(first(c.p), { index: c.index, rule: c.rule });
  });
}

const EVERY_ALLOWED: Insn[] = [
  loadAbs(0),
  loadAbs(4),
  loadAbs(8),
  loadAbs(60),
  loadLen(),
  loadXLen(),
  loadConst(5),
  loadXConst(7),
  store(0),
  storeX(15),
  loadMem(0),
  loadXMem(15),
  ...(["add", "sub", "mul", "div", "and", "or", "xor", "lsh", "rsh"] as const).flatMap((op) => [aluK(op, 3), aluX(op)]),
  neg(),
  tax(),
  txa(),
  jump(0),
  ...(["jeq", "jgt", "jge", "jset"] as const).flatMap((op) => [jumpIf(op, 1, 0, 0), jumpIfX(op, 0, 0)]),
  retA(),
  ret(ALLOW),
];

test("accepts a program using every instruction seccomp allows", () => {
  assert.deepEqual(verify(EVERY_ALLOWED), []);
});

test("accepts a typical arch + syscall filter and the longest legal program", () => {
  const p = [loadAbs(4), jumpIf("jeq", 0xc000003e, 0, 3), loadAbs(0), jumpIf("jeq", 59, 1, 0), ret(ALLOW), ret(0x50001)];
  assert.deepEqual(verify(p), []);
  assert.deepEqual(verify(Array.from({ length: 4096 }, () => ret(0))), []);
});

test("a store on every path (and a store reached by a jump landing after it) is accepted", () => {
  // st M[0]; jeq +0,+1 → both targets get memvalid = {0}; ld M[0] at pc 2 and 3.
  assert.deepEqual(verify([store(0), jumpIf("jeq", 1, 0, 1), loadMem(0), loadMem(0), retA()]), []);
  // Both branches store before the join.
  assert.deepEqual(verify([jumpIf("jeq", 1, 0, 2), store(1), jump(1), store(1), loadMem(1), retA()]), []);
});

test("jump offsets at the exact limit are accepted", () => {
  assert.deepEqual(verify([jump(1), ret(0), ret(0)]), []);
  assert.deepEqual(verify([jumpIf("jeq", 0, 1, 1), ret(0), ret(0)]), []);
});

test("findings come in the kernel's order (first = the EINVAL reason)", () => {
  // pc0 mod (seccomp), pc1 bad opcode (classic), last not ret: classic first.
  const f = verify([aluK("mod", 3), insn(0xff), loadAbs(0)]);
  assert.deepEqual(
    f.map((x) => [x.rule, x.index]),
    [
      ["opcode", 1],
      ["last-not-ret", 2],
      ["seccomp-opcode", 0],
    ],
  );
});

test("assertValid throws BPF_INVALID naming the program and the instruction", () => {
  assert.doesNotThrow(() => assertValid([ret(ALLOW)], "p"));
  assert.throws(
    () => assertValid([loadAbs(0), loadAbs(2), retA()], "my.bpf"),
    (e: unknown) =>
      e instanceof SyscageError && e.code === "BPF_INVALID" && e.message.startsWith("my.bpf:") && e.message.includes("instruction 1"),
  );
});

test("stacked filters: path limit 32768 with 4 instructions per earlier filter", () => {
  // 7 x 4096 → last total 4096 + 6*4100 = 28696; 8th → 4096 + 7*4100 = 32796 > 32768.
  assert.deepEqual(checkStackPaths(Array.from({ length: 7 }, () => 4096)), []);
  const f = checkStackPaths(Array.from({ length: 8 }, () => 4096));
  assert.equal(f.length, 1);
  assert.equal(f[0]!.index, 7);
  assert.equal(f[0]!.rule, "stack-size");
  // Exactly at the limit passes: 32763 + 4 + 1 = 32768; one more fails.
  assert.deepEqual(checkStackPaths([32763, 1]), []);
  assert.equal(checkStackPaths([32764, 1])[0]?.index, 1);
  assert.deepEqual(checkStackPaths([32768]), []);
});
