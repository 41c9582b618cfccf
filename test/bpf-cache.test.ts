import { test } from "node:test";
import assert from "node:assert/strict";
import { aluK, jump, jumpIf, jumpIfX, loadAbs, loadConst, loadXConst, ret, retA, type Insn } from "../src/bpf/insn.js";
import { cachedSyscalls, isConstAllow } from "../src/bpf/cache.js";

const X86_64 = 0xc000003e;
const I386 = 0x40000003;
const ALLOW = 0x7fff0000;
const EPERM = 0x50001;

// arch check; allow read (0) and write (1); openat (257) only with args[0] == 3; else EPERM.
const FILTER: Insn[] = [
  loadAbs(4), // 0
  jumpIf("jeq", X86_64, 1, 0), // 1
  ret(0x80000000), // 2
  loadAbs(0), // 3
  jumpIf("jge", 2, 1, 0), // 4: nr >= 2 → 6
  ret(ALLOW), // 5
  jumpIf("jeq", 257, 0, 3), // 6: openat → 7 else 10
  loadAbs(16), // 7
  jumpIf("jeq", 3, 0, 1), // 8
  ret(ALLOW), // 9
  ret(EPERM), // 10
];

test("allowed without looking at args → constant allow", () => {
  assert.equal(isConstAllow(FILTER, X86_64, 0), true);
  assert.equal(isConstAllow(FILTER, X86_64, 1), true);
});

test("a path that loads an argument is not constant", () => {
  assert.equal(isConstAllow(FILTER, X86_64, 257), false);
});

test("a constant non-ALLOW result is not cached", () => {
  assert.equal(isConstAllow(FILTER, X86_64, 2), false);
  assert.equal(isConstAllow(FILTER, I386, 0), false); // KILL_PROCESS for another arch
});

test("ret #k must be exactly SECCOMP_RET_ALLOW (data included); ret a is not understood", () => {
  assert.equal(isConstAllow([ret(ALLOW + 1)], X86_64, 0), false);
  assert.equal(isConstAllow([ret(ALLOW)], X86_64, 0), true);
  assert.equal(isConstAllow([loadConst(ALLOW), retA()], X86_64, 0), false);
});

test("and #k, ja and jset are emulated; X jumps and other ALU are not", () => {
  // nr & 0x40000000 (x32 bit) → allow only when clear.
  const x32check = [loadAbs(0), aluK("and", 0x40000000), jumpIf("jeq", 0, 0, 1), ret(ALLOW), ret(0)];
  assert.equal(isConstAllow(x32check, X86_64, 5), true);
  assert.equal(isConstAllow(x32check, X86_64, 0x40000005), false);
  const viaJa = [loadAbs(0), jump(1), ret(0), jumpIf("jset", 1, 0, 1), ret(ALLOW), ret(0)];
  assert.equal(isConstAllow(viaJa, X86_64, 3), true);
  assert.equal(isConstAllow(viaJa, X86_64, 2), false);
  assert.equal(isConstAllow([loadXConst(1), loadAbs(0), jumpIfX("jeq", 0, 0), ret(ALLOW)], X86_64, 1), false);
  assert.equal(isConstAllow([loadAbs(0), aluK("add", 1), jumpIf("jeq", 2, 0, 0), ret(ALLOW)], X86_64, 1), false);
  assert.equal(isConstAllow([loadAbs(0), jumpIf("jgt", 9, 0, 0), ret(ALLOW)], X86_64, 1), true);
});

test("running off the end is not constant", () => {
  assert.equal(isConstAllow([loadAbs(0)], X86_64, 0), false);
  assert.equal(isConstAllow([], X86_64, 0), false);
});

test("cachedSyscalls: a number is cached only when every filter const-allows it", () => {
  const allowEven = [loadAbs(0), jumpIf("jset", 1, 1, 0), ret(ALLOW), ret(EPERM)];
  const nrs = [0, 1, 2, 3, 4, 257];
  assert.deepEqual([...cachedSyscalls([FILTER], X86_64, nrs)].sort((a, b) => a - b), [0, 1]);
  assert.deepEqual([...cachedSyscalls([allowEven], X86_64, nrs)].sort((a, b) => a - b), [0, 2, 4]);
  assert.deepEqual([...cachedSyscalls([FILTER, allowEven], X86_64, nrs)], [0]);
  assert.deepEqual([...cachedSyscalls([FILTER, allowEven], I386, nrs)], []);
  assert.deepEqual([...cachedSyscalls([], X86_64, [7])], [7]);
});
