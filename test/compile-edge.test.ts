/**
 * Edge cases of the compiler: empty and allow-everything policies, every
 * action, every operator on every argument on little-/big-endian 64-bit and
 * 32-bit ABIs, long jumps, the 4096-instruction limit (compiles at the limit,
 * a clear error one step above, the kernel loads the largest program), the
 * kernel's constant-action cache, and deterministic output.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ABI_NAMES, getAbi, syscallName, syscallTable, syscallNumber, X32_SYSCALL_BIT, type AbiName } from "../src/abi/index.js";
import { encodeProgram, interpret, isConstAllow, verify, type Insn } from "../src/bpf/index.js";
import { compile } from "../src/compile/index.js";
import { SyscageError } from "../src/errors.js";
import { definePolicy, OPERATORS, type Action, type ArgIndex, type Policy, type PolicyInput, type RuleInput } from "../src/policy/model.js";
import { decide } from "../src/policy/evaluate.js";
import { needOracle } from "./helpers/oracles.js";
import { runProbes } from "./helpers/probe.js";
import { withoutI386 } from "./helpers/host.js";
import { PLUMBING_NAMES, predict, probeData, probes } from "./helpers/kernel-predict.js";
import { argVectors, hex, show, tableRange, U64_MAX } from "./helpers/compile-diff.js";

const ZERO = [0n, 0n, 0n, 0n, 0n, 0n];

/** Compare a compiled program with decide() on every number of every ABI, strays, foreign arches and argument boundaries. */
function sweep(policy: Policy, insns: readonly Insn[] = compile(policy).insns): number {
  assert.deepEqual(verify(insns), [], "verify() findings");
  assert.ok(insns.length <= 4096);
  let n = 0;
  const bad: string[] = [];
  const one = (arch: number, endian: "little" | "big", nr: number, args: readonly bigint[]): void => {
    n++;
    const data = { arch, nr: nr | 0, instructionPointer: 0n, args };
    const got = interpret(insns, data, endian).ret >>> 0;
    const want = decide(policy, data).ret >>> 0;
    if (got !== want && bad.length < 5) bad.push(`arch ${hex(arch)} nr ${hex(nr)} args [${args.map((a) => hex(a)).join(",")}]: got ${hex(got)} want ${hex(want)}`);
  };
  for (const abi of policy.abis) {
    const a = getAbi(abi);
    for (const nr of tableRange(abi)) one(a.auditArch, a.endian, nr, ZERO);
    for (const nr of [-1, 0x3fffffff, X32_SYSCALL_BIT, X32_SYSCALL_BIT + 5, 0x7fffffff, 0x80000000 | 0, 999999]) one(a.auditArch, a.endian, nr, ZERO);
    const byName = new Map<string, Policy["rules"][number]["conditions"][]>();
    for (const r of policy.rules) if (syscallNumber(abi, r.syscall) !== undefined) byName.set(r.syscall, [...(byName.get(r.syscall) ?? []), r.conditions]);
    for (const [name, conds] of byName) for (const v of argVectors(conds, syscallNumber(abi, name)!, 150, 40)) one(a.auditArch, a.endian, syscallNumber(abi, name)!, v);
  }
  for (const abi of ABI_NAMES) if (!policy.abis.some((p) => getAbi(p).auditArch === getAbi(abi).auditArch)) one(getAbi(abi).auditArch, "little", 1, ZERO);
  one(0x12345678, "little", 0, ZERO);
  assert.deepEqual(bad, [], `program differs from decide() for ${show(policy.rules.slice(0, 3))}…`);
  return n;
}

const ALL_ACTIONS: readonly Action[] = [
  { kind: "ALLOW" },
  { kind: "ERRNO", errno: "EAFNOSUPPORT" },
  { kind: "KILL_PROCESS" },
  { kind: "KILL_THREAD" },
  { kind: "TRAP", data: 0xbeef },
  { kind: "TRACE", data: 7 },
  { kind: "LOG" },
  { kind: "NOTIFY" },
];

test("an empty policy (no rules) compiles to a small program that gives default/unknown/badArch", () => {
  for (const abis of [["x86_64", "x86", "x32"], ["s390x"], ["mips64", "mips", "mips64n32"]] as AbiName[][]) {
    const p = definePolicy({ abis, default: "ERRNO(EPERM)", unknown: "ERRNO(ENOSYS)", badArch: "KILL_PROCESS" });
    const prog = compile(p);
    sweep(p, prog.insns);
    // Known/unknown alternate along each table: a search over those runs is all that is needed.
    let runs = 0;
    for (const abi of abis) {
      const r = tableRange(abi, 1);
      r.forEach((nr, i) => {
        if (i > 0 && (syscallName(abi, nr) === undefined) !== (syscallName(abi, r[i - 1]!) === undefined)) runs++;
      });
    }
    assert.ok(prog.insns.length <= runs + 10 * abis.length, `empty policy: ${prog.insns.length} instructions for ${runs} known/unknown boundaries`);
  }
  // Default = unknown: no dispatch at all is needed.
  const p = definePolicy({ abis: ["x86_64"], default: "ERRNO(EPERM)", unknown: "ERRNO(EPERM)" });
  const prog = compile(p);
  sweep(p, prog.insns);
  assert.ok(prog.insns.length <= 7, `default==unknown, no rules (arch gate, x32 guard, two rets): ${prog.insns.length} instructions`);
});

test("a policy that allows everything: every known and unknown number is ALLOW and kernel-cacheable", () => {
  const p = definePolicy({ abis: ["x86_64", "x86", "x32"], default: "ALLOW", unknown: "ALLOW", badArch: "KILL_PROCESS" });
  const prog = compile(p);
  sweep(p, prog.insns);
  for (const abi of ["x86_64", "x86"] as const) {
    const arch = getAbi(abi).auditArch;
    for (const nr of tableRange(abi)) assert.ok(isConstAllow(prog.insns, arch, nr), `${abi} nr ${nr} not const-allow`);
  }
  assert.ok(prog.insns.length <= 8, `allow-all needs ${prog.insns.length} instructions`);
});

test("all eight actions, as rule actions and as default/unknown/badArch, on x86_64, mips and parisc", () => {
  const names = ["read", "write", "close", "dup", "getpid", "mkdir", "chdir", "kill"];
  for (const abis of [["x86_64", "x86", "x32"], ["mips"], ["parisc"], ["ppc64"]] as AbiName[][]) {
    for (const def of ALL_ACTIONS) {
      const p = definePolicy({ abis, default: def, unknown: def, badArch: def, rules: names.map((s, i): RuleInput => ({ syscall: s, action: ALL_ACTIONS[i]! })) });
      sweep(p);
      const rets = new Set(compile(p).insns.filter((i) => i.code === 0x06).map((i) => i.k >>> 0));
      for (const a of ALL_ACTIONS) {
        const d = decide(p, { arch: getAbi(abis[0]!).auditArch, nr: syscallNumber(abis[0]!, names[ALL_ACTIONS.indexOf(a)]!)!, args: ZERO });
        assert.ok(rets.has(d.ret >>> 0), `no ret ${hex(d.ret)} for ${a.kind} on ${abis[0]}`);
      }
    }
  }
});

test("all seven operators on every argument index, on x86_64 (LE 64), s390x and ppc64 (BE 64), x86 and mips (32-bit)", () => {
  const values = [0n, 5n, 0xffffffffn, 0x1_0000_0005n, 0x8000_0000_0000_0000n, U64_MAX, 0xdead_beef_0000_0000n];
  let calls = 0;
  for (const abi of ["x86_64", "s390x", "ppc64", "x86", "mips"] as AbiName[]) {
    for (const op of OPERATORS) {
      for (let arg = 0; arg < 6; arg++) {
        const rules: RuleInput[] = values.map((v, i) => ({
          syscall: ["read", "write", "close", "dup", "getpid", "kill", "chdir"][i]!,
          action: { kind: "ERRNO", errno: i + 1 },
          conditions: [op === "MASKED_EQ" ? { arg, op, mask: v | 0xff00n, value: v & (v | 0xff00n) } : { arg, op, value: v }],
        }));
        // Two conditions on the same rule: this arg and the next one (ANDed), plus an opposite rule.
        rules.push({ syscall: "mkdir", action: "KILL_PROCESS", conditions: [{ arg, op, value: 0x1_0000_0005n, ...(op === "MASKED_EQ" ? { mask: 0xffff_ffff_0000_00ffn } : {}) }, { arg: ((arg + 1) % 6) as ArgIndex, op: "NE", value: 0xffff_ffffn }] });
        const p = definePolicy({ abis: [abi], default: "ALLOW", rules });
        calls += sweep(p);
      }
    }
  }
  assert.ok(calls > 100000, `${calls} calls`);
});

/** Does the program contain a jump reaching ≥ `min` instructions ahead? */
function longestJump(insns: readonly Insn[]): number {
  let max = 0;
  for (const i of insns) {
    if ((i.code & 0x07) !== 0x05) continue;
    max = Math.max(max, i.code === 0x05 ? i.k >>> 0 : Math.max(i.jt, i.jf));
  }
  return max;
}

/**
 * N syscalls of `abi`, each with its own EQ rule on a 64-bit constant (4
 * instructions each: two loads, two jeq); the first `masked` of them use
 * MASKED_EQ on the low word instead (3: load, and, jeq), which gives steps
 * of one instruction. Default EPERM; the probe child's plumbing is allowed.
 */
function eqFamily(abi: AbiName, n: number, masked = 0): PolicyInput {
  const names = syscallTable(abi).map((e) => e.name).filter((s) => !(PLUMBING_NAMES as readonly string[]).includes(s) && s !== "getpid");
  const rules: RuleInput[] = [];
  for (let i = 0; i < n; i++) {
    const value = (BigInt(i + 1) << 32n) | BigInt(1000 + i);
    rules.push({
      syscall: names[i % names.length]!,
      action: "ALLOW",
      conditions: [i < masked ? { arg: i % 6, op: "MASKED_EQ", mask: 0xfffffff0n, value: value & 0xfffffff0n } : { arg: i % 6, op: "EQ", value }],
    });
  }
  for (const s of [...PLUMBING_NAMES, "getpid"]) rules.push({ syscall: s, action: "ALLOW" });
  // "u64": every EQ costs the same (two words) whatever the argument's type, so one
  // MASKED_EQ → EQ step adds exactly one instruction (argument widths: test/argwidth-*.test.ts).
  return { abis: [abi], default: "ERRNO(EPERM)", unknown: "ERRNO(ENOSYS)", badArch: "KILL_PROCESS", argumentWidth: "u64", rules };
}

test("long jumps: programs with offsets ≥ 255 (ja) still verify and match decide()", () => {
  for (const [abi, n] of [["x86_64", 300], ["s390x", 300], ["x86", 300]] as [AbiName, number][]) {
    const p = definePolicy(eqFamily(abi, n));
    const prog = compile(p);
    const far = longestJump(prog.insns);
    assert.ok(far >= 256, `${abi}: longest jump only ${far} in ${prog.insns.length} instructions`);
    assert.ok(prog.insns.some((i) => i.code === 0x05 && i.k >>> 0 >= 255), `${abi}: no ja with offset ≥ 255`);
    sweep(p, prog.insns);
  }
  // A multi-ABI policy whose arch gates must jump over whole sections.
  const p = definePolicy({ ...eqFamily("x86_64", 200, 20), abis: ["x86_64", "x86", "x32"] });
  sweep(p);
});

/** Length of the compiled program, or the error when it does not compile. */
function tryLen(input: PolicyInput): number | SyscageError {
  try {
    return compile(definePolicy(input)).insns.length;
  } catch (e) {
    if (e instanceof SyscageError) return e;
    throw e;
  }
}

/**
 * The member of the family with exactly 4096 instructions (or the largest
 * ≤ 4096 when none has exactly 4096) and the member one step above it.
 */
function findLimit(): { atLimit: PolicyInput; len: number; over: PolicyInput; overLen: number | SyscageError; exact: boolean } {
  const abi: AbiName = "x86_64";
  const len = (n: number, k = 0): number => {
    const r = tryLen(eqFamily(abi, n, k));
    return typeof r === "number" ? r : Number.POSITIVE_INFINITY;
  };
  let lo = 1;
  let hi = 1;
  while (len(hi) <= 4096) hi *= 2;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (len(mid) <= 4096) lo = mid;
    else hi = mid;
  }
  // len(lo) ≤ 4096 < len(lo + 1). Turning EQ rules into MASKED_EQ ones removes one instruction each.
  let best = { n: lo, k: 0, l: len(lo) };
  for (const n of [lo, lo + 1, lo + 2]) {
    for (let k = 0; k <= 16 && best.l !== 4096; k++) {
      const l = len(n, k);
      if (l <= 4096 && l > best.l) best = { n, k, l };
    }
  }
  // One step above: one MASKED_EQ rule back to EQ (or one more EQ rule).
  const over = best.k > 0 ? eqFamily(abi, best.n, best.k - 1) : eqFamily(abi, best.n + 1, 0);
  return { atLimit: eqFamily(abi, best.n, best.k), len: best.l, over, overLen: tryLen(over), exact: best.l === 4096 };
}

let limitCache: ReturnType<typeof findLimit> | undefined;
const limit = (): ReturnType<typeof findLimit> => (limitCache ??= findLimit());

test("4096 instructions compile; one step more fails with a clear SyscageError", (t) => {
  const l = limit();
  const err = l.overLen;
  t.diagnostic(`at the limit: ${l.len} instructions (${(l.atLimit.rules ?? []).length} rules); one step more: ${err instanceof SyscageError ? `${err.code}: ${err.message}` : `${err} instructions`}`);
  assert.ok(l.exact, `no member of the family compiles to exactly 4096 instructions (largest ${l.len})`);
  sweep(definePolicy(l.atLimit));
  assert.ok(err instanceof SyscageError, `one step above 4096 compiled to ${String(err)} instructions`);
  assert.equal(err.code, "PROGRAM_TOO_LARGE");
  assert.match(err.message, /4096/);
  assert.match(err.message, /4097 instructions/, "the message names the size (one instruction over)");
});

test("the kernel loads the 4096-instruction program and enforces it", (t) => {
  if (!needOracle(t, "cc", "seccomp-kernel")) return;
  const l = limit();
  const policy = definePolicy(l.atLimit);
  const prog = compile(policy);
  const ps = withoutI386(t, probes().filter((p) => p.via === "native" || p.label.startsWith("i386")), (p) => p.via === "i386");
  const baseline = runProbes(null, ps);
  const out = runProbes(encodeProgram(prog.insns), ps);
  ps.forEach((p, i) => {
    assert.ok(!out[i]!.startsWith("load-failed"), `kernel rejects the ${prog.insns.length}-instruction program: ${out[i]}`);
    assert.equal(out[i], predict(interpret(prog.insns, probeData(p), "little").ret >>> 0, baseline[i]!), p.label);
  });
  // And the kernel rejects one instruction more (our limit is the kernel's).
  const tooLong = [{ code: 0x06, jt: 0, jf: 0, k: 0x7fff0000 }, ...prog.insns];
  if (tooLong.length > 4096) assert.match(runProbes(encodeProgram(tooLong), ps.slice(0, 1))[0]!, /^load-failed 22/);
});

test("unconditionally allowed syscalls are kernel-cacheable, and no others (native x86_64 and compat x86)", () => {
  for (const def of ["ERRNO(EPERM)", "ALLOW"]) {
    const input: PolicyInput = {
      abis: ["x86_64", "x86", "x32"],
      default: def,
      unknown: "ERRNO(ENOSYS)",
      rules: [
        ...["read", "write", "close", "fstat", "mmap", "brk", "exit_group", "getpid", "futex", "openat"].map((s): RuleInput => ({ syscall: s, action: "ALLOW" })),
        { syscall: "dup", action: "ALLOW", conditions: [{ arg: 0, op: "LT", value: 100 }] },
        { syscall: "ioctl", action: "ERRNO(ENOTTY)", conditions: [{ arg: 1, op: "EQ", value: 0x5401 }] },
        { syscall: "ioctl", action: "ALLOW" },
        { syscall: "kill", action: "KILL_PROCESS" },
        { syscall: "mkdir", action: "LOG" },
        { syscall: "socket", action: "ALLOW", conditions: [{ arg: 0, op: "EQ", value: 1 }] },
        { syscall: "socket", action: "ALLOW" },
        { syscall: "personality", action: "ALLOW", conditions: [{ arg: 0, op: "EQ", value: 0xffffffff }] },
      ],
    };
    const p = definePolicy(input);
    const prog = compile(p);
    let cached = 0;
    for (const abi of ["x86_64", "x86"] as const) {
      const arch = getAbi(abi).auditArch;
      for (const nr of tableRange(abi)) {
        const name = syscallTable(abi).find((e) => e.nr === nr)?.name;
        const rules = p.rules.filter((r) => r.syscall === name);
        const unconditional =
          name === undefined
            ? false
            : rules.every((r) => r.action.kind === "ALLOW") && (p.default.action.kind === "ALLOW" || rules.some((r) => r.conditions.length === 0));
        assert.equal(isConstAllow(prog.insns, arch, nr), unconditional, `default ${def}: ${abi} nr ${nr} (${name ?? "unknown"}): isConstAllow should be ${unconditional}`);
        if (unconditional) cached++;
      }
    }
    assert.ok(cached >= 20);
  }
});

test("output is deterministic: compiling twice, or an equal policy built anew, gives identical bytes", () => {
  const make = (): PolicyInput => ({ ...eqFamily("x86_64", 120, 10), abis: ["x86_64", "x86", "x32"] });
  const a = compile(definePolicy(make()));
  const b = compile(definePolicy(make()));
  const p = definePolicy(make());
  const c = compile(p);
  const d = compile(p);
  const bytes = Buffer.from(encodeProgram(a.insns)).toString("hex");
  for (const x of [b, c, d]) assert.equal(Buffer.from(encodeProgram(x.insns)).toString("hex"), bytes);
  assert.deepEqual(a.sourceMap, d.sourceMap);
  assert.deepEqual(a.warnings, d.warnings);
});
