/**
 * Property test of argument widths: for random policies (conditions on
 * arguments of every width, on little/big-endian, 32/64-bit ABIs) and random
 * register values with garbage in the bits above each argument's type:
 *
 * 1. the compiled program's decision equals decide() on the raw registers;
 * 2. … and equals decide() applied to the arguments AS THE KERNEL CASTS THEM
 *    (low `width` bits, sign- or zero-extended by the declared type), so the
 *    bits the kernel drops cannot change a decision;
 * 3. under `argumentWidth: "u64"` the program equals decide() of that policy
 *    (libseccomp's reading) on the same raw registers;
 * 4. on clean inputs (no bits above any narrow argument's width, in the
 *    register or in a condition's constant) both readings agree.
 *
 * Seeded: a failure reproduces, and fast-check shrinks it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { argType, getAbi, syscallArgTypes, syscallNumber, syscallTable, ABI_NAMES, type AbiName } from "../src/abi/index.js";
import { interpret, verify, type SeccompData } from "../src/bpf/index.js";
import { compile } from "../src/compile/index.js";
import { conditionWidth, decide } from "../src/policy/evaluate.js";
import { definePolicy, OPERATORS, type ConditionInput, type Policy, type PolicyInput } from "../src/policy/model.js";
import { hex, rng, show, U64_MAX, valueArb } from "./helpers/compile-diff.js";
import { withRoutes } from "../src/policy/routes.js";

const GROUPS: readonly (readonly AbiName[])[] = [["x86_64", "x86", "x32"], ["x86_64"], ["aarch64", "arm"], ["s390x", "s390"], ["ppc64", "ppc"], ["mips64", "mips64n32", "mips"], ["m68k"], ["sheb", "parisc"], ["riscv64"]];

/** Syscalls with at least one argument narrower than the register on `abi`, and 16-bit ones. */
function narrowNames(abi: AbiName): { any: string[]; sixteen: string[] } {
  const reg = getAbi(abi).argBits;
  const any: string[] = [];
  const sixteen: string[] = [];
  for (const e of syscallTable(abi)) {
    const ts = syscallArgTypes(abi, e.name) ?? [];
    if (ts.some((t) => t !== undefined && t.bits < reg)) any.push(e.name);
    if (ts.some((t) => t !== undefined && t.bits === 16)) sixteen.push(e.name);
  }
  return { any, sixteen };
}

const narrowValueArb: fc.Arbitrary<bigint> = fc.oneof(
  valueArb,
  fc.constantFrom(0o777n, 0o4755n, 0xffffn, 0x10000n, 0x8000n, 0x7fffn, 0xffff_ff9cn, U64_MAX - 99n, 16n, 9n, 38n, 40n),
  fc.tuple(fc.bigInt({ min: 0n, max: 0xffff_ffffn }), fc.bigInt({ min: 0n, max: 0xffffn })).map(([h, l]) => (h << 16n) | l),
);

const conditionArb: fc.Arbitrary<ConditionInput> = fc
  .record({ arg: fc.integer({ min: 0, max: 5 }), op: fc.constantFrom(...OPERATORS), value: narrowValueArb, mask: narrowValueArb, fit: fc.boolean() })
  .map(({ arg, op, value, mask, fit }): ConditionInput => (op === "MASKED_EQ" ? { arg, op, mask, value: fit ? value & mask : value } : { arg, op, value }));

const policyArb: fc.Arbitrary<PolicyInput> = fc.constantFrom(...GROUPS).chain((abis) => {
  const n = narrowNames(abis[0]!);
  const names = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...n.any) }, { weight: 3, arbitrary: fc.constantFrom(...n.sixteen) }, { weight: 1, arbitrary: fc.constantFrom(...syscallTable(abis[0]!).map((e) => e.name)) });
  return fc
    .array(
      fc.record({
        syscall: names,
        action: fc.constantFrom("ALLOW", "ERRNO(1)", "ERRNO(13)", "KILL_PROCESS", "TRAP(2)", "LOG"),
        conditions: fc.array(conditionArb, { minLength: 1, maxLength: 3 }),
      }),
      { minLength: 1, maxLength: 10 },
    )
    .map((rules): PolicyInput => ({ abis: [...abis], default: "ERRNO(1)", unknown: "ERRNO(38)", badArch: "KILL_PROCESS", rules }));
});

const mask = (w: number): bigint => (1n << BigInt(w)) - 1n;

/** The argument as the kernel converts it: the type's low bits, sign- or zero-extended to 64. */
function kernelCast(abi: AbiName, name: string, i: number, raw: bigint): bigint {
  const t = argType(abi, name, i);
  const w = t?.bits ?? getAbi(abi).argBits;
  const low = raw & mask(w);
  if (t?.signed === true && w < 64 && (low >> BigInt(w - 1)) & 1n) return low | (U64_MAX & ~mask(w));
  return low;
}

/** Register values: values that can flip each condition at its width, under random garbage above the width. */
function registers(p: Policy, abi: AbiName, name: string, seed: number): bigint[][] {
  const r = rng(seed);
  const rand64 = (): bigint => (BigInt(Math.floor(r() * 2 ** 32)) << 32n) | BigInt(Math.floor(r() * 2 ** 32));
  const lows: bigint[][] = [[0n], [0n], [0n], [0n], [0n], [0n]];
  for (const rule of p.rules) {
    if (rule.syscall !== name) continue;
    for (const c of rule.conditions) {
      const w = conditionWidth(p, abi, name, c.arg);
      const m = mask(w);
      const v = c.value & m;
      const extra = c.mask === undefined ? [] : [c.mask & m, (c.value & c.mask & m) | (~c.mask & m), (c.value & c.mask & m) ^ ((c.mask & -c.mask) & m)];
      lows[c.arg]!.push(v, (v + 1n) & m, (v - 1n) & m, m, m >> 1n, (m >> 1n) + 1n, ...extra);
    }
  }
  const highs = (w: number): bigint[] => [0n, 1n << BigInt(w), U64_MAX & ~mask(w), 0x8000_0000_0000_0000n, rand64() & ~mask(w), rand64() & ~mask(w)];
  const out: bigint[][] = [];
  for (let k = 0; k < 60; k++) {
    out.push(
      lows.map((l, i) => {
        const w = conditionWidth(p, abi, name, i);
        const low = l[Math.floor(r() * l.length)]!;
        const hs = highs(w);
        return (low | hs[Math.floor(r() * hs.length)]!) & U64_MAX;
      }),
    );
  }
  return out;
}

let compared = 0;
let byRule = 0;
let garbage = 0;

function check(input: PolicyInput, seed: number): void {
  const p = definePolicy(input);
  const wide: Policy = { ...p, argumentWidth: "u64" };
  const prog = compile(p).insns;
  const progWide = compile(wide).insns;
  assert.deepEqual(verify(prog), []);
  for (const abi of p.abis) {
    const a = getAbi(abi);
    for (const name of new Set(p.rules.map((x) => x.syscall))) {
      const nr = syscallNumber(abi, name);
      if (nr === undefined) continue;
      for (const args of registers(p, abi, name, seed ^ nr)) {
        const call: SeccompData = { arch: a.auditArch, nr, args, instructionPointer: 0n };
        const cast = args.map((x, i) => kernelCast(abi, name, i, x));
        const got: number = interpret(prog, call, a.endian).ret >>> 0;
        const want = decide(p, call);
        const at = (): string => `${abi} ${name} args [${args.map(hex).join(",")}] policy ${show(p.rules)}`;
        if (got !== want.ret >>> 0) assert.fail(`1: program 0x${got.toString(16)} ≠ decide 0x${(want.ret >>> 0).toString(16)}: ${at()}`);
        const onCast = decide(p, { ...call, args: cast }).ret >>> 0;
        if (got !== onCast) assert.fail(`2: program 0x${got.toString(16)} ≠ decide(kernel cast) 0x${onCast.toString(16)}: ${at()}`);
        const castRun = interpret(prog, { ...call, args: cast }, a.endian).ret >>> 0;
        if (castRun !== got) assert.fail(`2: the program changes with bits the kernel drops: ${at()}`);
        const gotWide = interpret(progWide, call, a.endian).ret >>> 0;
        const wantWide = decide(wide, call).ret >>> 0;
        if (gotWide !== wantWide) assert.fail(`3: u64 program 0x${gotWide.toString(16)} ≠ decide 0x${wantWide.toString(16)}: ${at()}`);
        const clean = p.rules.every((rule) =>
          rule.syscall !== name ||
          rule.conditions.every((c) => {
            const w = conditionWidth(p, abi, name, c.arg);
            const reg = mask(a.argBits);
            return w >= a.argBits || (((args[c.arg] ?? 0n) & reg) >> BigInt(w) === 0n && (c.value & reg) >> BigInt(w) === 0n);
          }),
        );
        if (clean && gotWide !== got) assert.fail(`4: clean high bits but kernel 0x${got.toString(16)} ≠ u64 0x${gotWide.toString(16)}: ${at()}`);
        if (!clean) garbage++;
        if (want.reason === "rule" && withRoutes(p).rules[want.rule!]!.conditions.length > 0) byRule++;
        compared++;
      }
    }
  }
}

test("argument widths: compiled program = decide() = decide(kernel-cast arguments), for random policies and garbage high bits", (t) => {
  fc.assert(
    fc.property(policyArb, fc.integer({ min: 1, max: 0x7fffffff }), (input, seed) => check(input, seed)),
    { seed: 0xa9d7, numRuns: 700 },
  );
  t.diagnostic(`${compared} calls compared, ${garbage} with bits above a narrow argument's width, ${byRule} decided by a conditional rule`);
  assert.ok(compared > 100_000, `only ${compared} calls`);
  assert.ok(garbage > compared / 4, `only ${garbage} calls with garbage high bits`);
  assert.ok(byRule > compared / 20, `only ${byRule} calls decided by a conditional rule`);
});

test("the property catches a compiler that ignores the types (mutation self-test)", () => {
  // A program compiled with u64 semantics, judged against the kernel-width reading: must fail.
  const input: PolicyInput = { abis: ["x86_64"], default: "ALLOW", rules: [{ syscall: "socket", action: "ERRNO(97)", conditions: [{ arg: 0, op: "EQ", value: 16 }] }] };
  const p = definePolicy(input);
  const progWide = compile({ ...p, argumentWidth: "u64" }).insns;
  const call = { arch: getAbi("x86_64").auditArch, nr: syscallNumber("x86_64", "socket")!, args: [0x1_0000_0010n, 3n, 9n], instructionPointer: 0n };
  assert.notEqual(interpret(progWide, call, "little").ret >>> 0, decide(p, call).ret >>> 0);
  assert.equal(interpret(compile(p).insns, call, "little").ret >>> 0, decide(p, call).ret >>> 0);
  // And kernelCast really sign-extends ints and zero-extends unsigned types.
  assert.equal(kernelCast("x86_64", "openat", 0, 0xffff_ff9cn), U64_MAX - 99n);
  assert.equal(kernelCast("x86_64", "dup", 0, 0xffff_ffff_ffff_ffffn), 0xffff_ffffn);
  assert.equal(kernelCast("x86_64", "mkdir", 1, 0x1_0001_01edn), 0x01edn);
  assert.ok(ABI_NAMES.length === 23);
});
