import { test } from "node:test";
import assert from "node:assert/strict";
import { SyscageError } from "../src/errors.js";
import {
  aluK,
  aluX,
  jump,
  jumpIf,
  jumpIfX,
  loadAbs,
  loadConst,
  loadLen,
  loadMem,
  loadXConst,
  loadXLen,
  loadXMem,
  neg,
  ret,
  retA,
  store,
  storeX,
  tax,
  txa,
  type Insn,
} from "../src/bpf/insn.js";
import { decodeAction, formatAction, isMoreRestrictive } from "../src/bpf/actions.js";
import { evaluateStack, interpret, seccompDataBytes, type SeccompData } from "../src/bpf/interpret.js";

const X86_64 = 0xc000003e;
const S390X = 0x80000016;
const DATA: SeccompData = {
  nr: 59,
  arch: X86_64,
  instructionPointer: 0x00007fff_12345678n,
  args: [0x11223344_55667788n, 0xffffffff_fffffffen, 0n, 1n, 0x80000000_00000000n, 42n],
};

function A(p: Insn[], data: SeccompData = DATA, endian: "little" | "big" = "little"): number {
  return interpret([...p, retA()], data, endian).ret;
}

test("ld [k] reads seccomp_data words: nr, arch, ip and args halves (little-endian)", () => {
  assert.equal(A([loadAbs(0)]), 59);
  assert.equal(A([loadAbs(4)]), X86_64);
  assert.equal(A([loadAbs(8)]), 0x12345678);
  assert.equal(A([loadAbs(12)]), 0x00007fff);
  assert.equal(A([loadAbs(16)]), 0x55667788);
  assert.equal(A([loadAbs(20)]), 0x11223344);
  assert.equal(A([loadAbs(24)]), 0xfffffffe);
  assert.equal(A([loadAbs(28)]), 0xffffffff);
  assert.equal(A([loadAbs(48)]), 0);
  assert.equal(A([loadAbs(52)]), 0x80000000);
  assert.equal(A([loadAbs(56)]), 42);
  assert.equal(A([loadAbs(60)]), 0);
});

test("on a big-endian ABI ld [16] is the HIGH word of args[0]", () => {
  const d = { ...DATA, arch: S390X };
  assert.equal(A([loadAbs(0)], d, "big"), 59);
  assert.equal(A([loadAbs(4)], d, "big"), S390X);
  assert.equal(A([loadAbs(8)], d, "big"), 0x00007fff);
  assert.equal(A([loadAbs(12)], d, "big"), 0x12345678);
  assert.equal(A([loadAbs(16)], d, "big"), 0x11223344);
  assert.equal(A([loadAbs(20)], d, "big"), 0x55667788);
  assert.equal(A([loadAbs(48)], d, "big"), 0x80000000);
  assert.equal(A([loadAbs(52)], d, "big"), 0);
  assert.equal(A([loadAbs(60)], d, "big"), 42);
});

test("nr -1 is laid out as 0xffffffff; negative BigInt args wrap to 64 bits; missing args are 0", () => {
  const d: SeccompData = { nr: -1, arch: X86_64, instructionPointer: 0n, args: [-1n] };
  assert.equal(A([loadAbs(0)], d), 0xffffffff);
  assert.equal(A([loadAbs(16)], d), 0xffffffff);
  assert.equal(A([loadAbs(20)], d), 0xffffffff);
  assert.equal(A([loadAbs(24)], d), 0);
});

test("seccompDataBytes lays out the 64-byte struct in the given byte order", () => {
  const le = seccompDataBytes(DATA, "little");
  const be = seccompDataBytes(DATA, "big");
  assert.equal(le.length, 64);
  assert.deepEqual([...le.subarray(0, 8)], [59, 0, 0, 0, 0x3e, 0x00, 0x00, 0xc0]);
  assert.deepEqual([...be.subarray(0, 8)], [0, 0, 0, 59, 0xc0, 0x00, 0x00, 0x3e]);
  assert.deepEqual([...le.subarray(16, 24)], [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]);
  assert.deepEqual([...be.subarray(16, 24)], [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]);
});

test("ld/ldx #len load 64; ld/ldx #k; tax/txa; scratch memory", () => {
  assert.equal(A([loadLen()]), 64);
  assert.equal(A([loadXLen(), txa()]), 64);
  assert.equal(A([loadConst(0xdeadbeef)]), 0xdeadbeef);
  assert.equal(A([loadXConst(9), txa()]), 9);
  assert.equal(A([loadConst(5), tax(), loadConst(0), txa()]), 5);
  assert.equal(A([loadConst(7), store(3), loadConst(0), loadMem(3)]), 7);
  assert.equal(A([loadXConst(8), storeX(15), loadXConst(0), loadXMem(15), txa()]), 8);
});

test("ALU with K wraps at 32 bits", () => {
  assert.equal(A([loadConst(0xffffffff), aluK("add", 2)]), 1);
  assert.equal(A([loadConst(1), aluK("sub", 2)]), 0xffffffff);
  assert.equal(A([loadConst(0x10000), aluK("mul", 0x10000)]), 0);
  assert.equal(A([loadConst(0xffffffff), aluK("mul", 0xffffffff)]), 1); // (2^32-1)^2 mod 2^32
  assert.equal(A([loadConst(0xffffffff), aluK("div", 2)]), 0x7fffffff);
  assert.equal(A([loadConst(7), aluK("div", 0xffffffff)]), 0);
  assert.equal(A([loadConst(0xf0f0), aluK("and", 0xff00)]), 0xf000);
  assert.equal(A([loadConst(0xf0f0), aluK("or", 0x0f0f)]), 0xffff);
  assert.equal(A([loadConst(0xffffffff), aluK("xor", 0x0000ffff)]), 0xffff0000);
  assert.equal(A([loadConst(3), aluK("lsh", 31)]), 0x80000000);
  assert.equal(A([loadConst(0x80000000), aluK("rsh", 31)]), 1); // logical, not arithmetic
  assert.equal(A([loadConst(1), neg()]), 0xffffffff);
  assert.equal(A([loadConst(0), neg()]), 0);
  assert.equal(A([loadConst(0x80000000), neg()]), 0x80000000);
});

test("ALU with X; shifts by X use X & 31", () => {
  const x = (v: number): Insn => loadXConst(v);
  assert.equal(A([x(2), loadConst(0xffffffff), aluX("add")]), 1);
  assert.equal(A([x(2), loadConst(1), aluX("sub")]), 0xffffffff);
  assert.equal(A([x(0x10001), loadConst(0x10001), aluX("mul")]), 0x00020001); // 2^32 + 2^17 + 1 mod 2^32
  assert.equal(A([x(10), loadConst(99), aluX("div")]), 9);
  assert.equal(A([x(0xff00), loadConst(0xf0f0), aluX("and")]), 0xf000);
  assert.equal(A([x(0x0f0f), loadConst(0xf0f0), aluX("or")]), 0xffff);
  assert.equal(A([x(0xffffffff), loadConst(0x0f0f0f0f), aluX("xor")]), 0xf0f0f0f0);
  assert.equal(A([x(4), loadConst(1), aluX("lsh")]), 16);
  assert.equal(A([x(33), loadConst(1), aluX("lsh")]), 2);
  assert.equal(A([x(32), loadConst(0x80000000), aluX("rsh")]), 0x80000000);
  assert.equal(A([x(35), loadConst(0x80000000), aluX("rsh")]), 0x10000000);
});

test("div by X == 0 ends the program returning 0 (KILL_THREAD)", () => {
  const r = interpret([loadXConst(0), loadConst(5), aluX("div"), ret(0x7fff0000)], DATA, "little");
  assert.equal(r.ret, 0);
  assert.equal(r.action.action, "KILL_THREAD");
  assert.equal(r.steps, 3);
});

test("conditional jumps compare unsigned; jset tests A & k", () => {
  const cond = (pre: Insn[], j: Insn): number => interpret([...pre, j, ret(1), ret(2)], DATA, "little").ret; // 2 = true
  assert.equal(cond([loadConst(5)], jumpIf("jeq", 5, 1, 0)), 2);
  assert.equal(cond([loadConst(5)], jumpIf("jeq", 6, 1, 0)), 1);
  assert.equal(cond([loadConst(0x80000000)], jumpIf("jgt", 1, 1, 0)), 2);
  assert.equal(cond([loadConst(5)], jumpIf("jgt", 5, 1, 0)), 1);
  assert.equal(cond([loadConst(5)], jumpIf("jge", 5, 1, 0)), 2);
  assert.equal(cond([loadConst(4)], jumpIf("jge", 0xffffffff, 1, 0)), 1);
  assert.equal(cond([loadConst(6)], jumpIf("jset", 2, 1, 0)), 2);
  assert.equal(cond([loadConst(6)], jumpIf("jset", 9, 1, 0)), 1);
  assert.equal(cond([loadXConst(5), loadConst(5)], jumpIfX("jeq", 1, 0)), 2);
  assert.equal(cond([loadXConst(4), loadConst(5)], jumpIfX("jeq", 1, 0)), 1);
  assert.equal(cond([loadXConst(1), loadConst(0xffffffff)], jumpIfX("jgt", 1, 0)), 2);
  assert.equal(cond([loadXConst(0xffffffff), loadConst(1)], jumpIfX("jge", 1, 0)), 1);
  assert.equal(cond([loadXConst(7), loadConst(7)], jumpIfX("jge", 1, 0)), 2);
  assert.equal(cond([loadXConst(8), loadConst(7)], jumpIfX("jset", 1, 0)), 1);
  assert.equal(cond([loadXConst(0x80000000), loadConst(0x80000001)], jumpIfX("jset", 1, 0)), 2);
  // ja skips exactly k instructions.
  assert.equal(interpret([jump(2), ret(1), ret(2), ret(3)], DATA, "little").ret, 3);
});

test("a typical filter: arch check then syscall dispatch; steps and trace", () => {
  const p = [loadAbs(4), jumpIf("jeq", X86_64, 0, 3), loadAbs(0), jumpIf("jeq", 59, 1, 0), ret(0x7fff0000), ret(0x50001)];
  const r = interpret(p, DATA, "little", { trace: true });
  assert.equal(r.ret, 0x50001);
  assert.deepEqual(r.action, { action: "ERRNO", data: 1, raw: 0x50001 });
  assert.equal(r.steps, 5);
  assert.deepEqual(
    r.trace?.map((s) => [s.pc, s.a, s.x]),
    [
      [0, X86_64, 0],
      [1, X86_64, 0],
      [2, 59, 0],
      [3, 59, 0],
      [5, 59, 0],
    ],
  );
  assert.equal(interpret(p, { ...DATA, nr: 0 }, "little").ret, 0x7fff0000);
  // Wrong arch falls to pc 5 as written (jf = 3 from pc 1).
  assert.equal(interpret(p, { ...DATA, arch: 0x40000003 }, "little").ret, 0x50001);
  assert.equal(interpret(p, DATA, "little").trace, undefined);
});

test("never loops or crashes: running off the end or jumping out throws SyscageError", () => {
  assert.throws(() => interpret([loadAbs(0)], DATA, "little"), SyscageError);
  assert.throws(() => interpret([jump(5), ret(0)], DATA, "little"), SyscageError);
  assert.throws(() => interpret([jumpIf("jeq", 0, 9, 9), ret(0)], DATA, "little"), SyscageError);
  assert.throws(() => interpret([loadAbs(64), retA()], DATA, "little"), SyscageError);
  assert.throws(() => interpret([], DATA, "little"), SyscageError);
});

test("decodeAction follows the kernel: unknown → KILL_PROCESS, ERRNO capped at 4095", () => {
  assert.deepEqual(decodeAction(0x7fff0000), { action: "ALLOW", data: 0, raw: 0x7fff0000 });
  assert.deepEqual(decodeAction(0x80000000), { action: "KILL_PROCESS", data: 0, raw: 0x80000000 });
  assert.deepEqual(decodeAction(0), { action: "KILL_THREAD", data: 0, raw: 0 });
  assert.deepEqual(decodeAction(0x00030005), { action: "TRAP", data: 5, raw: 0x00030005 });
  assert.deepEqual(decodeAction(0x0005ffff), { action: "ERRNO", data: 4095, raw: 0x0005ffff });
  assert.deepEqual(decodeAction(0x7fc00000), { action: "USER_NOTIF", data: 0, raw: 0x7fc00000 });
  assert.deepEqual(decodeAction(0x7ff00007), { action: "TRACE", data: 7, raw: 0x7ff00007 });
  assert.deepEqual(decodeAction(0x7ffc0000), { action: "LOG", data: 0, raw: 0x7ffc0000 });
  assert.deepEqual(decodeAction(0x00010000), { action: "KILL_PROCESS", data: 0, raw: 0x00010000, unknown: true });
  assert.deepEqual(decodeAction(0x7fff0001).action, "ALLOW");
  assert.equal(formatAction(0x50001), "ERRNO(1)");
  assert.equal(formatAction(0x30005), "TRAP(5)");
  assert.equal(formatAction(0x7ff00007), "TRACE(7)");
  assert.equal(formatAction(0x7fff0000), "ALLOW");
  assert.equal(formatAction(0x80000000), "KILL_PROCESS");
  assert.equal(formatAction(0), "KILL_THREAD");
  assert.equal(formatAction(0x7ffc0000), "LOG");
  assert.equal(formatAction(0x7fc00000), "USER_NOTIF");
});

test("precedence: signed compare of the action bits, KILL_PROCESS lowest", () => {
  const order = [0x80000000, 0, 0x30000, 0x50000, 0x7fc00000, 0x7ff00000, 0x7ffc0000, 0x7fff0000];
  for (let i = 0; i + 1 < order.length; i++) {
    assert.ok(isMoreRestrictive(order[i]!, order[i + 1]!), `${order[i]!.toString(16)} < ${order[i + 1]!.toString(16)}`);
    assert.ok(!isMoreRestrictive(order[i + 1]!, order[i]!));
  }
  assert.ok(!isMoreRestrictive(0x50001, 0x50002)); // data ignored
});

test("stack: most restrictive wins; on equal actions the newest filter's data wins", () => {
  const r = (k: number): Insn[] => [ret(k)];
  const s1 = evaluateStack([r(0x7fff0000), r(0x50001)], DATA, "little");
  assert.deepEqual([s1.ret, s1.decidedBy], [0x50001, 1]);
  const s2 = evaluateStack([r(0x50001), r(0x50002), r(0x7fff0000)], DATA, "little");
  assert.deepEqual([s2.ret, s2.decidedBy, s2.action.data], [0x50002, 1, 2]);
  const s3 = evaluateStack([r(0x80000000), r(0x30000), r(0)], DATA, "little");
  assert.deepEqual([s3.ret, s3.decidedBy, s3.action.action], [0x80000000, 0, "KILL_PROCESS"]);
  const s4 = evaluateStack([r(0x7ffc0000), r(0x7fff0000)], DATA, "little");
  assert.equal(s4.action.action, "LOG");
  // All allow: the kernel returns SECCOMP_RET_ALLOW itself, no filter "decides".
  const s5 = evaluateStack([r(0x7fff0001), r(0x7fff0002)], DATA, "little");
  assert.deepEqual([s5.ret, s5.decidedBy], [0x7fff0000, -1]);
  // An unknown action value 0x00010000 sorts between KILL_THREAD and TRAP.
  const s6 = evaluateStack([r(0x00010000), r(0x30001)], DATA, "little");
  assert.deepEqual([s6.ret, s6.action.action, s6.action.unknown], [0x00010000, "KILL_PROCESS", true]);
});

test("is fast enough for property tests (1e6 runs)", () => {
  const p = [loadAbs(4), jumpIf("jeq", X86_64, 0, 5), loadAbs(0), jumpIf("jge", 100, 2, 0), jumpIf("jeq", 59, 1, 0), ret(0x7fff0000), ret(0x50001), ret(0)];
  const t0 = Date.now();
  let sum = 0;
  const d = { ...DATA };
  for (let i = 0; i < 1_000_000; i++) {
    d.nr = i & 127;
    sum += interpret(p, d, "little").steps;
  }
  assert.ok(sum > 0);
  assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
});
