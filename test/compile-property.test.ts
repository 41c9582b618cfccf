/**
 * Property tests of the compiler against the reference semantics: for random
 * policies over random ABI sets (all 23 ABIs, big- and little-endian, 32- and
 * 64-bit), the compiled program verifies, fits in 4096 instructions, and for
 * every syscall number of every configured ABI, numbers outside the tables,
 * x32-range numbers, foreign arches and the argument values around every
 * constant returns exactly what `decide` says.
 *
 * Seeded: a failure reproduces, and fast-check shrinks it to a small policy.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ABI_NAMES, LOCAL_ABIS, getAbi, syscallTable, syscallNumber, errnoNumber, X32_SYSCALL_BIT, type AbiName } from "../src/abi/index.js";
import { interpret, verify, type Insn } from "../src/bpf/index.js";
import { compile } from "../src/compile/index.js";
import { definePolicy, OPERATORS, type Action, type ConditionInput, type Policy, type PolicyInput, type RuleInput } from "../src/policy/model.js";
import { decide } from "../src/policy/evaluate.js";
import { argVectors, hex, rng, show, tableRange, U64_MAX, valueArb } from "./helpers/compile-diff.js";
import { withRoutes } from "../src/policy/routes.js";

// ---- arbitraries ---------------------------------------------------------------

/** Errno names that exist on every ABI (their numbers differ: MIPS, PA-RISC, Alpha-less PowerPC). */
const ERRNO_NAMES = ["EPERM", "ENOENT", "EACCES", "ENOSYS", "EAFNOSUPPORT", "EDEADLK", "EOPNOTSUPP", "ENOTSUP", "ECANCELED", "EDQUOT", "ENOMSG", "ELOOP", "ENAMETOOLONG", "ETIMEDOUT", "EHWPOISON"].filter((e) =>
  ABI_NAMES.every((a) => errnoNumber(a, e) !== undefined),
);

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  fc.constant<Action>({ kind: "ALLOW" }),
  fc.constant<Action>({ kind: "KILL_PROCESS" }),
  fc.constant<Action>({ kind: "KILL_THREAD" }),
  fc.constant<Action>({ kind: "LOG" }),
  fc.constant<Action>({ kind: "NOTIFY" }),
  fc.integer({ min: 0, max: 0xffff }).map((d): Action => ({ kind: "TRAP", data: d })),
  fc.integer({ min: 0, max: 0xffff }).map((d): Action => ({ kind: "TRACE", data: d })),
  fc.oneof(fc.integer({ min: 0, max: 4095 }), fc.constantFrom(0, 1, 4095)).map((e): Action => ({ kind: "ERRNO", errno: e })),
  fc.constantFrom(...ERRNO_NAMES).map((e): Action => ({ kind: "ERRNO", errno: e })),
);

const conditionArb: fc.Arbitrary<ConditionInput> = fc
  .record({ arg: fc.integer({ min: 0, max: 5 }), op: fc.constantFrom(...OPERATORS), value: valueArb, mask: valueArb, fit: fc.boolean() })
  .map(({ arg, op, value, mask, fit }): ConditionInput => (op === "MASKED_EQ" ? { arg, op, mask, value: fit ? value & mask : value } : { arg, op, value }));

const ABI_GROUPS: readonly (readonly AbiName[])[] = [
  ["x86_64", "x86", "x32"],
  ["x86_64"],
  ["x32"],
  ["x86_64", "x32"],
  ["x86", "x86_64"],
  ["s390x", "s390"],
  ["ppc64", "ppc"],
  ["mips64", "mips", "mips64n32"],
  ["mipsel64n32"],
  ["mips"],
  ["m68k", "sheb"],
  ["parisc64", "parisc"],
  ["aarch64", "arm"],
];

const abisArb: fc.Arbitrary<AbiName[]> = fc.oneof(
  fc.shuffledSubarray([...ABI_NAMES], { minLength: 1, maxLength: 4 }),
  fc.constantFrom(...ABI_NAMES).map((a) => [...LOCAL_ABIS[a]]),
  fc.constantFrom(...ABI_GROUPS).map((g) => [...g]),
);

const ALL_NAMES = [...new Set(ABI_NAMES.flatMap((a) => syscallTable(a).map((e) => e.name)))].sort();

function policyArb(abis: fc.Arbitrary<AbiName[]>, maxRules: number, maxNames = 6): fc.Arbitrary<PolicyInput> {
  return abis.chain((abiList) => {
    const pool = [...new Set(abiList.flatMap((a) => syscallTable(a).map((e) => e.name)))].sort();
    // Mostly names of the configured ABIs; sometimes one that none of them has (the rule is then ignored).
    const nameArb = fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...pool) }, { weight: 1, arbitrary: fc.constantFrom(...ALL_NAMES) });
    return fc
      .record({
        names: fc.uniqueArray(nameArb, { minLength: 1, maxLength: maxNames, size: "max" }),
        def: actionArb,
        unknown: actionArb,
        badArch: actionArb,
      })
      .chain(({ names, def, unknown, badArch }) =>
        fc
          .array(
            fc.record({ syscall: fc.constantFrom(...names), action: actionArb, conditions: fc.array(conditionArb, { maxLength: 3 }) }).map((r): RuleInput => r),
            { maxLength: maxRules, size: "max" },
          )
          .map((rules): PolicyInput => ({ abis: abiList, default: def, unknown, badArch, rules })),
      );
  });
}

// ---- the check ---------------------------------------------------------------------

/** Syscall numbers outside any ABI's table, or in another ABI's range. */
const STRAY_NUMBERS = [-1, -2, 0x3fffffff, X32_SYSCALL_BIT, X32_SYSCALL_BIT + 1, X32_SYSCALL_BIT + 0x3ffff, 0x7fffffff, 0x80000000 | 0, 0x80000001 | 0, 0xfffffffe | 0, 999, 1023, 1024, 3999, 4000, 4999, 5000, 5999, 6000, 6999, 7000, 65535, 65536];

let checkedCalls = 0;
/** Calls decided by a rule with conditions (so argument tests really ran). */
let condDecided = 0;
let compileMs = 0;

/**
 * Compile `input` and compare the program with `decide` everywhere that
 * matters; throws a readable counterexample on the first difference.
 */
function checkPolicy(input: PolicyInput, seed: number, mutate: (insns: readonly Insn[]) => readonly Insn[] = (i) => i): void {
  const policy = definePolicy(input);
  const t0 = performance.now();
  const prog = compile(policy);
  compileMs += performance.now() - t0;
  const insns = mutate(prog.insns);
  const findings = verify(insns);
  if (findings.length > 0) throw new Error(`verify() rejects the program: ${show(findings.slice(0, 3))}\npolicy ${show(input)}`);
  if (insns.length > 4096) throw new Error(`program has ${insns.length} > 4096 instructions\npolicy ${show(input)}`);
  assert.deepEqual([...prog.abis].sort(), [...policy.abis].sort(), "compiled ABIs differ from the policy's");
  assert.equal(prog.sourceMap.length, insns.length, "one source-map entry per instruction");

  const r = rng(seed);
  const one = (label: string, arch: number, endian: "little" | "big", nr: number, args: readonly bigint[]): void => {
    checkedCalls++;
    const data = { arch, nr: nr | 0, instructionPointer: 0n, args };
    const got = interpret(insns, data, endian).ret >>> 0;
    const d = decide(policy, data);
    const want = d.ret >>> 0;
    if (d.rule !== undefined && withRoutes(policy).rules[d.rule]!.conditions.length > 0) condDecided++;
    if (got !== want) {
      throw new Error(
        `compiled program differs from decide()\n  policy ${show(input)}\n  ${label} arch ${hex(arch)} (${endian}) nr ${hex(nr)} args [${args.map((a) => hex(a)).join(", ")}]\n` +
          `  got ${hex(got)}, want ${hex(want)} (${d.reason}${d.rule !== undefined ? ` rule #${d.rule}` : ""}${d.syscall !== undefined ? ` ${d.syscall}` : ""} on ${d.abi ?? "bad arch"})`,
      );
    }
  };
  const zero = [0n, 0n, 0n, 0n, 0n, 0n];
  const seenArch = new Set<number>();
  for (const abiName of policy.abis) {
    const abi = getAbi(abiName);
    seenArch.add(abi.auditArch);
    // Every number of the table, the gaps, a little beyond.
    for (const nr of tableRange(abiName)) one(abiName, abi.auditArch, abi.endian, nr, zero);
    for (const nr of STRAY_NUMBERS) one(`${abiName} stray`, abi.auditArch, abi.endian, nr, zero);
    for (let i = 0; i < 8; i++) one(`${abiName} random nr`, abi.auditArch, abi.endian, Math.floor(r() * 4294967296), zero);
    // x32-range numbers on AUDIT_ARCH_X86_64, whichever of x86_64/x32 is configured.
    if (abiName === "x86_64" || abiName === "x32") {
      const other = abiName === "x86_64" ? "x32" : "x86_64";
      for (const e of syscallTable(other)) one(`${abiName} arch, ${other} number`, abi.auditArch, abi.endian, e.nr, zero);
    }
    // Argument values around every constant of the syscall's rules.
    const byName = new Map<string, Policy["rules"][number]["conditions"][]>();
    for (const rule of policy.rules) {
      if (syscallNumber(abiName, rule.syscall) === undefined) continue;
      const l = byName.get(rule.syscall) ?? [];
      l.push(rule.conditions);
      byName.set(rule.syscall, l);
    }
    for (const [name, conds] of byName) {
      const nr = syscallNumber(abiName, name)!;
      for (const v of argVectors(conds, seed ^ nr, 120, 60)) one(`${abiName} ${name}`, abi.auditArch, abi.endian, nr, v);
    }
  }
  // Foreign arches: every AUDIT_ARCH not configured, and random values.
  const foreign = [...new Set(ABI_NAMES.map((a) => getAbi(a).auditArch))].filter((a) => !seenArch.has(a));
  for (let i = 0; i < 4; i++) foreign.push(Math.floor(r() * 4294967296));
  foreign.push(0, 0xffffffff);
  for (const arch of foreign) {
    if (seenArch.has(arch >>> 0)) continue;
    for (const nr of [0, 1, 59, 4001, 5001, 6001, X32_SYSCALL_BIT + 1, -1]) one("foreign arch", arch, "little", nr, [1n, U64_MAX, 0n, 0n, 0n, 0n]);
  }
}

function run(name: string, arb: fc.Arbitrary<PolicyInput>, seed: number, numRuns: number): void {
  test(name, (t) => {
    const before = checkedCalls;
    const beforeCond = condDecided;
    compileMs = 0;
    let n = 0;
    fc.assert(
      fc.property(arb, (input) => {
        n++;
        checkPolicy(input, seed + n);
      }),
      { seed, numRuns, includeErrorInReport: true },
    );
    const calls = checkedCalls - before;
    const cond = condDecided - beforeCond;
    t.diagnostic(`${n} policies, ${calls} calls compared, ${cond} decided by a rule with conditions (compile ${compileMs.toFixed(0)} ms)`);
    assert.ok(cond > numRuns * 20, `only ${cond} calls decided by conditional rules`);
    assert.ok(calls > numRuns * 300, `only ${calls} calls checked`);
  });
}

run("random policies over random ABI sets (all 23 ABIs) match decide()", policyArb(abisArb, 12), 0x5eed01, 2500);
run("random policies over x86_64/x86/x32 match decide()", policyArb(fc.constantFrom<AbiName[]>(["x86_64", "x86", "x32"], ["x86_64"], ["x32"], ["x86_64", "x32"], ["x86", "x86_64"]), 12), 0x5eed02, 1200);
run("random policies over big-endian and 32-bit ABIs match decide()", policyArb(fc.constantFrom<AbiName[]>(["s390x", "s390"], ["ppc64", "ppc"], ["mips64", "mips", "mips64n32"], ["mips"], ["m68k"], ["sheb", "parisc"], ["parisc64"], ["arm"]), 12), 0x5eed03, 1200);
run("larger random policies (up to 40 rules on up to 20 syscalls) match decide()", policyArb(abisArb, 40, 20), 0x5eed04, 600);

test("the check catches a wrong program (mutation self-test)", () => {
  const input: PolicyInput = {
    abis: ["x86_64", "s390x"],
    default: "ERRNO(EPERM)",
    rules: [
      { syscall: "getpid", action: "ALLOW" },
      // lseek's offset is a 64-bit off_t on both ABIs: the high-word constant 1 is compared.
      { syscall: "lseek", action: "KILL_PROCESS", conditions: [{ arg: 1, op: "GT", value: 0x1_0000_0000n }] },
    ],
  };
  checkPolicy(input, 1);
  // An ALLOW that became LOG, and a comparison constant off by one: both must be caught.
  assert.throws(() => checkPolicy(input, 1, (insns) => insns.map((i) => (i.code === 0x06 && i.k >>> 0 === 0x7fff0000 ? { ...i, k: 0x7ffc0000 } : i))), /differs from decide/);
  assert.throws(
    () => checkPolicy(input, 1, (insns) => insns.map((i) => ((i.code & 0x07) === 0x05 && i.code !== 0x05 && i.k === 1 ? { ...i, k: 2 } : i))),
    /differs from decide/,
  );
});
