/**
 * `prove` (src/analyze/prove.ts) and `syscage prove`:
 *
 * - the programs the compiler emits for random policies (the generators of
 *   the compiler's property tests: all 23 ABIs, all operators, both argument
 *   widths) are proved equivalent, and every counterexample ever reported is
 *   checked against the interpreter and decide();
 * - a corpus of broken programs (mutations of compiled and libseccomp
 *   programs) is refuted, each with a genuine counterexample;
 * - the real filter stack of systemd-nspawn (5 filters) is proved equivalent
 *   to the installed release's nspawn policy;
 * - the nspawn default proves in well under a second (time in the output);
 * - the CLI: exit 0 / 1 with the seccomp_data, one-line errors.
 */
import { needHost } from "./helpers/host.js";
import { IO_URING_SYSCALLS } from "../src/abi/io-uring.js";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import fc from "fast-check";
import { ABI_NAMES, LOCAL_ABIS, getAbi, hostAbi, syscallNumber, syscallTable, type AbiName } from "../src/abi/index.js";
import { cmpCubes, prove, solveCell, type ProveReference, type ProveResult } from "../src/analyze/prove.js";
import { decodeProgram, encodeProgram, evaluateStack, interpret, verify, type Insn } from "../src/bpf/index.js";
import { compile } from "../src/compile/index.js";
import { decide } from "../src/policy/evaluate.js";
import { NSPAWN_DEFAULT_RETAINED_CAPABILITIES, NSPAWN_ALLOW_LIST } from "../src/policy/generated/systemd.js";
import { definePolicy, OPERATORS, type Action, type ConditionInput, type Policy, type PolicyInput } from "../src/policy/model.js";
import { nspawnPolicy } from "../src/policy/nspawn.js";
import { cli, type CliRun } from "./helpers/cli.js";
import { LIBSECCOMP_FLAW_CASES, rng, show, valueArb } from "./helpers/compile-diff.js";
import { libseccompBuild, type LsSpec } from "./helpers/libseccomp.js";
import { dumpNspawnFilters, installedNspawnTable, installedSyscallGroups, libseccompFacts, nspawnVersion, type NspawnRunOptions } from "./helpers/nspawn.js";
import { DEBIAN_PYTHON, needOracle } from "./helpers/oracles.js";
import { installedNspawnReference, nspawnDataPolicy } from "./helpers/prove-nspawn.js";

const DIR = mkdtempSync(join(tmpdir(), "syscage-prove-"));

/** A counterexample must be real: the stack and the reference really differ there. */
function assertGenuine(r: ProveResult, programs: readonly (readonly Insn[])[], ref: Policy | ProveReference, what: string): void {
  const c = r.counterexample;
  assert.ok(c !== undefined, `${what}: no counterexample`);
  const abi = c.abi ?? ABI_NAMES.find((a) => getAbi(a).auditArch === c.data.arch >>> 0);
  const endian = abi !== undefined ? getAbi(abi).endian : "little";
  const got = evaluateStack(programs, c.data, endian).ret >>> 0;
  const want = ("rules" in ref ? decide(ref, c.data) : ref.decide(c.data)).ret >>> 0;
  assert.notEqual(got, want, `${what}: reported counterexample is not one: ${show(c)}`);
  assert.equal(got, c.program.ret, `${what}: program value in the counterexample`);
  assert.equal(want, c.policy.ret, `${what}: policy value in the counterexample`);
}

// ---- the building blocks ----------------------------------------------------------

test("cmpCubes: masked comparisons as unions of cubes (random masks, or-bits, constants)", () => {
  const r = rng(7);
  const u32 = (): number => (r() < 0.3 ? [0, 1, 0xff, 0xffff, 0xffffffff, 0x80000000][Math.floor(r() * 6)]! : Math.floor(r() * 4294967296));
  for (let i = 0; i < 400; i++) {
    const m = u32();
    const o = r() < 0.5 ? 0 : u32() & ~m;
    const k = u32();
    const op = r() < 0.5 ? "jgt" : "jge";
    const cubes = cmpCubes(m, o >>> 0, op, k);
    for (let j = 0; j < 200; j++) {
      const w = j < 8 ? [0, 1, k, (k + 1) >>> 0, (k - 1) >>> 0, m, 0xffffffff, k & m][j]! : u32();
      const f = ((w & m) | o) >>> 0;
      const want = op === "jgt" ? f > k : f >= k;
      const got = cubes.some((c) => ((w & c.m) >>> 0) === c.v);
      assert.equal(got, want, `m ${m.toString(16)} o ${o.toString(16)} ${op} ${k.toString(16)} w ${w.toString(16)}`);
    }
  }
});

test("solveCell: the smallest value of an interval with fixed and excluded bits (brute force on 12 bits)", () => {
  const r = rng(11);
  const n12 = (): number => Math.floor(r() * 4096);
  for (let i = 0; i < 300; i++) {
    const lo = n12();
    const hi = lo + Math.floor(r() * (4096 - lo));
    const M = n12() & n12();
    const V = n12() & M;
    const neg = Array.from({ length: Math.floor(r() * 4) }, () => {
      const m = n12() & n12() & n12();
      return { m, v: n12() & m };
    });
    let want: number | undefined;
    for (let w = lo; w <= hi; w++) {
      if ((w & M) !== V || neg.some((c) => (w & c.m) === c.v)) continue;
      want = w;
      break;
    }
    assert.equal(solveCell(lo, hi, M, V, neg), want, show({ lo, hi, M, V, neg }));
  }
  // The case no list of neighbours finds: (w & 0xf) == 5 inside [0x100, 0x10e].
  assert.equal(solveCell(0x100, 0x10e, 0xf, 5, []), 0x105);
});

// ---- compiled programs of random policies -----------------------------------------------

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  fc.constant<Action>({ kind: "ALLOW" }),
  fc.constant<Action>({ kind: "KILL_PROCESS" }),
  fc.constant<Action>({ kind: "KILL_THREAD" }),
  fc.constant<Action>({ kind: "LOG" }),
  fc.integer({ min: 0, max: 0xffff }).map((d): Action => ({ kind: "TRAP", data: d })),
  fc.integer({ min: 0, max: 0xffff }).map((d): Action => ({ kind: "TRACE", data: d })),
  fc.integer({ min: 0, max: 4095 }).map((e): Action => ({ kind: "ERRNO", errno: e })),
  fc.constantFrom("EPERM", "EACCES", "ENOSYS", "EAFNOSUPPORT").map((e): Action => ({ kind: "ERRNO", errno: e })),
);

const conditionArb: fc.Arbitrary<ConditionInput> = fc
  .record({ arg: fc.integer({ min: 0, max: 5 }), op: fc.constantFrom(...OPERATORS), value: valueArb, mask: valueArb, fit: fc.boolean() })
  .map(({ arg, op, value, mask, fit }): ConditionInput => (op === "MASKED_EQ" ? { arg, op, mask, value: fit ? value & mask : value } : { arg, op, value }));

const abisArb: fc.Arbitrary<AbiName[]> = fc.oneof(
  fc.shuffledSubarray([...ABI_NAMES], { minLength: 1, maxLength: 3 }),
  fc.constantFrom(...ABI_NAMES).map((a) => [...LOCAL_ABIS[a]]),
  fc.constantFrom<AbiName[]>(["x86_64"], ["x32"], ["x86_64", "x32"], ["s390x", "s390"], ["mips64", "mips", "mips64n32"], ["ppc64", "ppc"]),
);

function policyArb(maxRules: number): fc.Arbitrary<PolicyInput> {
  return abisArb.chain((abis) => {
    const pool = [...new Set(abis.flatMap((a) => syscallTable(a).map((e) => e.name)))].sort();
    return fc
      .record({
        names: fc.uniqueArray(fc.constantFrom(...pool), { minLength: 1, maxLength: 5 }),
        def: actionArb,
        unknown: actionArb,
        badArch: actionArb,
        width: fc.constantFrom<"kernel" | "u64">("kernel", "u64"),
      })
      .chain(({ names, def, unknown, badArch, width }) =>
        fc
          .array(fc.record({ syscall: fc.constantFrom(...names), action: actionArb, conditions: fc.array(conditionArb, { maxLength: 3 }) }), { maxLength: maxRules })
          .map((rules): PolicyInput => ({ abis, default: def, unknown, badArch, rules, argumentWidth: width })),
      );
  });
}

test("compiled programs of 300 random policies are proved equivalent", (t) => {
  const t0 = performance.now();
  let n = 0;
  let paths = 0;
  let decisions = 0;
  fc.assert(
    fc.property(policyArb(10), (input) => {
      const policy = definePolicy(input);
      const insns = compile(policy).insns;
      const r = prove([insns], policy);
      n++;
      paths += r.stats.paths;
      decisions += r.stats.decisions;
      if (!r.equivalent) assertGenuine(r, [insns], policy, "compiled program");
      assert.ok(r.equivalent, `not proved: ${show(r.counterexample)}\npolicy ${show(input)}`);
      assert.equal(r.method, "exhaustive", r.notes.join("; "));
    }),
    { seed: 0x9e0e, numRuns: 300 },
  );
  const ms = performance.now() - t0;
  t.diagnostic(`${n} policies proved in ${(ms / 1000).toFixed(1)} s (${paths} paths, ${decisions} decisions)`);
  assert.ok(ms < 40_000, `took ${ms} ms`);
});

// ---- a corpus of broken programs -----------------------------------------------------------

const BASE: PolicyInput = {
  abis: ["x86_64", "x86", "x32"],
  default: "ERRNO(EPERM)",
  argumentWidth: "u64",
  rules: [
    { syscall: ["read", "write", "close", "fstat", "lseek", "getpid", "getppid", "getuid"], action: "ALLOW" },
    { syscall: "mmap", action: "KILL_PROCESS", conditions: [{ arg: 1, op: "EQ", value: 0x1_0000_0005n }] },
    { syscall: "mkdir", action: "ERRNO(13)", conditions: [{ arg: 1, op: "GT", value: 0x1ed }] },
    { syscall: "socket", action: "ERRNO(97)", conditions: [{ arg: 0, op: "MASKED_EQ", mask: 0xff, value: 16 }] },
  ],
};

const X86_64_ONLY: PolicyInput = { ...BASE, abis: ["x86_64"], default: "ALLOW", badArch: "KILL_PROCESS", rules: [{ syscall: "mkdir", action: "ERRNO(1)" }] };

/** Index of the instruction after which `pred` first holds, from `from`. */
function findIndex(insns: readonly Insn[], pred: (i: Insn, pc: number) => boolean, from = 0): number {
  for (let pc = from; pc < insns.length; pc++) if (pred(insns[pc]!, pc)) return pc;
  throw new Error("instruction not found");
}

const isJump = (i: Insn): boolean => (i.code & 0x07) === 0x05 && i.code !== 0x05;
const set = (insns: readonly Insn[], pc: number, patch: Partial<Insn>): Insn[] => insns.map((x, j) => (j === pc ? { ...x, ...patch } : x));

interface Mutant {
  readonly name: string;
  readonly input: PolicyInput;
  readonly mutate: (insns: readonly Insn[], policy: Policy) => Insn[];
}

/** The first nr-dispatch jge whose constant k separates two different decisions on `abi`. */
/**
 * A `jge` on nr at a decision boundary k whose move to k+1 really changes the
 * program: nr = k then falls into the left subtree, and unless that subtree's
 * fall-through happens to give k's decision too, the program is wrong at k.
 */
function boundaryJge(insns: readonly Insn[], policy: Policy, abi: AbiName): number {
  const a = getAbi(abi);
  const call = (nr: number): number => decide(policy, { arch: a.auditArch, nr, args: [] }).ret;
  const run = (prog: readonly Insn[], nr: number): number =>
    interpret(prog, { nr, arch: a.auditArch, instructionPointer: 0n, args: [0n, 0n, 0n, 0n, 0n, 0n] }, a.endian).ret >>> 0;
  return findIndex(insns, (i, pc) => {
    if (i.code !== 0x35 || i.k >>> 0 > 0x3fffffff || i.k === 0) return false;
    if (call(i.k) === call(i.k - 1)) return false;
    return run(set(insns, pc, { k: i.k + 1 }), i.k) !== call(i.k) >>> 0;
  });
}

const MUTANTS: readonly Mutant[] = [
  {
    name: "one wrong jump target (getpid's jeq jumps to the ERRNO(EPERM) ret)",
    input: BASE,
    mutate: (insns) => {
      const nr = syscallNumber("x86_64", "getpid")!;
      const eperm = findIndex(insns, (i) => i.code === 0x06 && i.k === 0x50001);
      const pc = findIndex(insns, (i, p) => i.code === 0x15 && i.k === nr && p < eperm);
      return set(insns, pc, { jt: eperm - pc - 1 });
    },
  },
  {
    name: "a missing x32 check (x86_64-only policy: bit-30 numbers reach the x86_64 dispatch)",
    input: X86_64_ONLY,
    mutate: (insns) => {
      const pc = findIndex(insns, (i) => i.code === 0x35 && i.k === 0x40000000);
      return set(insns, pc, { jt: insns[pc]!.jf });
    },
  },
  {
    name: "a low-word-only argument check (the high-word compare of mmap's arg1 dropped)",
    input: BASE,
    mutate: (insns) => {
      // x86_64 section: ld [32] (args[1] high word, little-endian), then jeq #1.
      const ld = findIndex(insns, (i) => i.code === 0x20 && i.k === 28);
      const pc = findIndex(insns, (i) => i.code === 0x15 && i.k === 1, ld);
      return set(insns, pc, { jf: insns[pc]!.jt });
    },
  },
  {
    name: "an off-by-one range boundary (a syscall-number jge moved by one)",
    input: BASE,
    mutate: (insns, policy) => {
      const pc = boundaryJge(insns, policy, "x86_64");
      return set(insns, pc, { k: insns[pc]!.k + 1 });
    },
  },
  {
    name: "an off-by-one argument boundary (mkdir's jgt #0x1ed → #0x1ee)",
    input: BASE,
    mutate: (insns) => set(insns, findIndex(insns, (i) => i.code === 0x25 && i.k === 0x1ed), { k: 0x1ee }),
  },
  {
    name: "a wrong ret value (ERRNO(EACCES) → ERRNO(EPERM))",
    input: BASE,
    mutate: (insns) => set(insns, findIndex(insns, (i) => i.code === 0x06 && i.k === 0x5000d), { k: 0x50001 }),
  },
  {
    name: "a swapped jt/jf (on the masked socket test)",
    input: BASE,
    mutate: (insns) => {
      const pc = findIndex(insns, (i) => isJump(i) && i.k === 16);
      return set(insns, pc, { jt: insns[pc]!.jf, jf: insns[pc]!.jt });
    },
  },
  {
    name: "a swapped jt/jf (on the arch check)",
    input: BASE,
    mutate: (insns) => set(insns, 1, { jt: insns[1]!.jf, jf: insns[1]!.jt }),
  },
];

for (const m of MUTANTS) {
  test(`broken program refuted: ${m.name}`, () => {
    const policy = definePolicy(m.input);
    const good = compile(policy).insns;
    assert.ok(prove([good], policy).equivalent, "the unbroken program is proved");
    const bad = m.mutate(good, policy);
    assert.deepEqual(verify(bad), [], "the mutant still loads");
    const r = prove([bad], policy);
    assert.equal(r.equivalent, false, `${m.name}: not found`);
    assertGenuine(r, [bad], policy, m.name);
  });
}

test("every single-constant mutation of a compiled program is refuted or really equivalent (brute-force check)", () => {
  const policy = definePolicy(BASE);
  const good = compile(policy).insns;
  let refuted = 0;
  let equivalent = 0;
  good.forEach((ins, pc) => {
    if (!isJump(ins) && ins.code !== 0x06) return;
    for (const k of [ins.k + 1, ins.k - 1]) {
      const bad = set(good, pc, { k: k >>> 0 });
      const r = prove([bad], policy);
      if (!r.equivalent) {
        assertGenuine(r, [bad], policy, `pc ${pc} k ${k}`);
        refuted++;
        continue;
      }
      // Claimed equivalent: check every number of the tables and around them on several argument vectors.
      equivalent++;
      for (const abi of policy.abis) {
        const a = getAbi(abi);
        const nrs = syscallTable(abi).flatMap((e) => [e.nr - 1, e.nr, e.nr + 1]);
        for (const nr of [...nrs, -1, 0x40000000, 0x3fffffff])
          for (const args of [[], [16n, 0x1_0000_0005n], [0x110n, 0x1een], [0n, 5n], [0x1_0000_0010n, 0x1_0000_0005n]]) {
            const data = { arch: a.auditArch, nr, instructionPointer: 0n, args };
            assert.equal(evaluateStack([bad], data, a.endian).ret, decide(policy, data).ret, `pc ${pc} k ${k}: claimed equivalent, differs at ${show(data)}`);
          }
      }
    }
  });
  assert.ok(refuted > 50, `only ${refuted} mutants refuted (${equivalent} equivalent)`);
});

test("programs from libseccomp: equivalent, and its known wrong programs refuted", (t) => {
  if (!needOracle(t, "python3-seccomp")) return;
  const input: PolicyInput = {
    abis: ["x86_64", "x86", "x32"],
    default: "ERRNO(1)",
    unknown: "ERRNO(1)",
    badArch: "KILL_THREAD",
    argumentWidth: "u64",
    rules: [
      { syscall: "read", action: "ALLOW" },
      { syscall: "write", action: "ALLOW" },
      { syscall: "dup", action: "KILL_PROCESS", conditions: [{ arg: 0, op: "GT", value: 0x1_0000_0000n }] },
      { syscall: "close", action: "ERRNO(9)", conditions: [{ arg: 0, op: "MASKED_EQ", mask: 0xf0, value: 0x30 }] },
    ],
  };
  const policy = definePolicy(input);
  const spec: LsSpec = {
    default: { ERRNO: 1 },
    badarch: "KILL_THREAD",
    arches: ["x86_64", "x86", "x32"],
    rules: [
      { syscall: "read", action: "ALLOW" },
      { syscall: "write", action: "ALLOW" },
      { syscall: "dup", action: "KILL_PROCESS", args: [{ arg: 0, op: "GT", value: 0x1_0000_0000n }] },
      { syscall: "close", action: { ERRNO: 9 }, args: [{ arg: 0, op: "MASKED_EQ", mask: 0xf0n, value: 0x30n }] },
    ],
  };
  const [tree, linear] = libseccompBuild([{ ...spec, optimize: 2 }, { ...spec, optimize: 1 }]);
  for (const [name, built] of [["binary tree", tree!], ["linear", linear!]] as const) {
    assert.deepEqual(built.errors, []);
    const insns = decodeProgram(built.bpf);
    const r = prove([insns], policy);
    // libseccomp compares only the low 32 bits on x86 and x32 (docs/semantics.md): on x86 that is
    // our 32-bit semantics too; on x32 it is a known difference, which prove must show.
    if (!r.equivalent) {
      assertGenuine(r, [insns], policy, `libseccomp ${name}`);
      assert.equal(r.counterexample!.abi, "x32", `libseccomp ${name}: ${show(r.counterexample)}`);
    }
    const x32less = definePolicy({ ...input, abis: ["x86_64", "x86"] });
    const spec2: LsSpec = { ...spec, arches: ["x86_64", "x86"], optimize: name === "linear" ? 1 : 2 };
    const two = decodeProgram(libseccompBuild([spec2])[0]!.bpf);
    const r2 = prove([two], x32less);
    assert.ok(r2.equivalent, `libseccomp ${name} (x86_64, x86): ${show(r2.counterexample)}`);
    t.diagnostic(`libseccomp ${name}: ${insns.length} insns, ${r.equivalent ? "equivalent" : `x32 difference found: ${show(r.counterexample!.data)}`}; x86_64+x86: equivalent in ${r2.stats.ms.toFixed(0)} ms`);
  }
});

test("programs from libseccomp: its known wrong programs (LIBSECCOMP_FLAW_CASES) are refuted", (t) => {
  if (!needOracle(t, "python3-seccomp")) return;
  for (const c of LIBSECCOMP_FLAW_CASES) {
    const policy = definePolicy({ ...c.input, argumentWidth: "u64" });
    const rules = policy.rules.map((r) => ({
      syscall: r.syscall,
      action: r.action.kind === "ERRNO" ? { ERRNO: Number(r.action.errno) } : (r.action.kind as "ALLOW" | "KILL_PROCESS"),
      args: r.conditions.map((x) => ({ arg: x.arg, op: x.op, value: x.value, ...(x.mask !== undefined ? { mask: x.mask } : {}) })),
    }));
    const spec: LsSpec = { default: "ALLOW", badarch: "KILL_THREAD", arches: [...(c.input.abis as ("x86_64" | "x86" | "x32")[])], optimize: c.optimize, rules };
    const built = libseccompBuild([spec])[0]!;
    const insns = decodeProgram(built.bpf);
    const r = prove([insns], policy);
    assert.equal(r.equivalent, false, `${c.name}: libseccomp's wrong program was proved`);
    assertGenuine(r, [insns], policy, c.name);
    t.diagnostic(`${c.name}: counterexample ${show(r.counterexample!.data)} (program ${r.counterexample!.program.ret.toString(16)}, policy ${r.counterexample!.policy.ret.toString(16)})`);
  }
});

test("a program that computes on arguments is checked by partition points plus sampling, and says so", () => {
  // `ld args[0] lo; add #1; jeq #6 → KILL`: arg0 == 5 (low word) is killed. The policy has no such rule.
  const policy = definePolicy({ abis: ["x86_64"], default: "ALLOW", badArch: "ALLOW", rules: [] });
  const p: Insn[] = [
    { code: 0x20, jt: 0, jf: 0, k: 16 },
    { code: 0x04, jt: 0, jf: 0, k: 1 },
    { code: 0x15, jt: 0, jf: 1, k: 6 },
    { code: 0x06, jt: 0, jf: 0, k: 0x80000000 },
    { code: 0x06, jt: 0, jf: 0, k: 0x7fff0000 },
  ];
  const r = prove([p], policy);
  assert.equal(r.method, "exhaustive+sampling");
  assert.match(r.notes.join("\n"), /arithmetic.*add.*sampling/);
  // The partition points of the compare (6, 7) say nothing about the sum's operand; the sampled neighbours do.
  assert.equal(r.equivalent, false, "the killed value 5 is found");
  assertGenuine(r, [p], policy, "arithmetic program");
});

// ---- real systemd-nspawn -------------------------------------------------------------------

const NSPAWN_ABIS: readonly AbiName[] = ["x86_64", "x86", "x32"];
const NSPAWN_VARIANTS: readonly NspawnRunOptions[] = [{}, { systemCallFilter: ["~@clock"] }, { capability: ["all"] }, { systemCallFilter: ["@obsolete"] }];

test("real systemd-nspawn filter stacks are proved equivalent to the installed release's nspawn policy", async (t) => {
  if (!needOracle(t, "systemd-nspawn", "cc", "seccomp-kernel", "python3-seccomp")) return;
  if (!needHost(t, "read-filters", "the nspawn data tests (test/nspawn-policy.test.ts, test/groups-cli.test.ts against systemd-analyze) and prove of our own program")) return;
  if (hostAbi() !== "x86_64") {
    t.skip(`the comparison covers x86_64, x86 and x32; this host is ${hostAbi()}`);
    return;
  }
  const version = nspawnVersion();
  const table = installedNspawnTable(NSPAWN_ALLOW_LIST, version);
  const data = { groups: installedSyscallGroups(), table: table.rows, defaultCapabilities: NSPAWN_DEFAULT_RETAINED_CAPABILITIES };
  const facts = libseccompFacts(DEBIAN_PYTHON, Object.fromEntries(NSPAWN_ABIS.map((a) => [a, syscallTable(a).map((e) => e.name)])));
  for (const opts of NSPAWN_VARIANTS) {
    const stack = await dumpNspawnFilters(opts);
    const programs = stack.filters.map((f) => f.insns);
    // Real nspawn leaves the routes open: prove against the rules as written…
    const policy: Policy = { ...nspawnDataPolicy(data, opts, NSPAWN_ABIS), routes: "open" };
    const ref = installedNspawnReference(policy, facts);
    const r = prove(programs, ref);
    // …and with syscage's closed routes the only refutation is a closing rule (io_uring here).
    const closed = prove(programs, installedNspawnReference({ ...policy, routes: "closed" }, facts));
    assert.equal(closed.equivalent, false, "nspawn leaves io_uring open where syscage closes it");
    assert.ok(IO_URING_SYSCALLS.includes(closed.counterexample!.syscall ?? ""), `closed-route counterexample: ${show(closed.counterexample)}`);
    if (!r.equivalent) assertGenuine(r, programs, ref, "nspawn");
    assert.ok(r.equivalent, `systemd-nspawn ${version} ${show(opts)}: ${show(r.counterexample)}`);
    assert.equal(r.method, "exhaustive");
    t.diagnostic(
      `systemd-nspawn ${version} ${show(opts)}: ${programs.length} filters (${programs.map((p) => p.length).join(", ")} insns) proved equivalent in ${r.stats.ms.toFixed(0)} ms (${r.stats.paths} paths, ${r.stats.decisions} decisions)`,
    );
    // The proof is not vacuous: the same stack against a policy that allows one more syscall is refuted.
    const moreAllowed = installedNspawnReference({ ...nspawnDataPolicy(data, { ...opts, systemCallFilter: [...(opts.systemCallFilter ?? []), "init_module"] }, NSPAWN_ABIS), routes: "open" }, facts);
    if (!(opts.capability ?? []).includes("all")) {
      const r2 = prove(programs, moreAllowed);
      assert.equal(r2.equivalent, false, "init_module allowed by the reference only");
      assert.equal(r2.counterexample!.syscall, "init_module");
    }
  }
});

test("prove of the nspawn default (x86_64 + x86 + x32) takes well under a second", (t) => {
  const policy = nspawnPolicy({ abis: [...NSPAWN_ABIS] });
  const insns = compile(policy).insns;
  prove([insns], policy);
  const t0 = performance.now();
  const r = prove([insns], policy);
  const ms = performance.now() - t0;
  assert.ok(r.equivalent);
  t.diagnostic(`prove nspawn default: ${ms.toFixed(0)} ms (${insns.length} insns, ${r.stats.paths} paths, ${r.stats.decisions} decisions, ${r.stats.nrValues} nr × ${r.stats.archValues} arch values)`);
  assert.ok(ms < 5000, `${ms} ms`);
});

// ---- CLI --------------------------------------------------------------------------------------

function oneLineError(r: CliRun, fragment: string): void {
  assert.equal(r.code, 2, `trouble is exit 2, a counterexample 1: ${r.err}`);
  assert.equal(r.out, "");
  const lines = r.err.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 1, r.err);
  assert.match(lines[0]!, /^syscage: /);
  assert.ok(lines[0]!.includes(fragment), lines[0]);
}

test("syscage prove: equivalent → exit 0; counterexample → exit 1 with the seccomp_data; --stack; --json", () => {
  const abis = "x86_64,x86,x32";
  const good = join(DIR, "nspawn.bpf");
  writeFileSync(good, encodeProgram(compile(nspawnPolicy({ abis: [...NSPAWN_ABIS] })).insns, "little"));
  const ok = cli("prove", good, "--arch", abis);
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.out, /^equivalent: .*nspawn\.bpf implements nspawn default/);
  assert.match(ok.out, /exhaustive: \d+ paths/);

  const bad = cli("prove", good, "--arch", abis, "--system-call-filter", "~mkdir");
  assert.equal(bad.code, 1, bad.err);
  assert.match(bad.out, /^counterexample/);
  assert.match(bad.out, /seccomp_data\.arch +AUDIT_ARCH_(X86_64|I386) \(0x[0-9a-f]+\)/);
  assert.match(bad.out, /seccomp_data\.nr +\d+ \(0x[0-9a-f]+, mkdir on (x86_64|x86|x32)\)/);
  assert.match(bad.out, /seccomp_data\.args +\[0x[0-9a-f]+(, 0x[0-9a-f]+){5}\]/);
  assert.match(bad.out, /program: ALLOW/);
  assert.match(bad.out, /policy: +ERRNO\(EPERM\).*removed by --system-call-filter=~mkdir/);

  // A stack: the nspawn program plus a filter denying mkdir is the ~mkdir policy.
  const deny = join(DIR, "deny-mkdir.bpf");
  const mk = syscallNumber("x86_64", "mkdir")!;
  const mkX86 = syscallNumber("x86", "mkdir")!;
  const mkX32 = syscallNumber("x32", "mkdir")!;
  const denyProg: Insn[] = [
    { code: 0x20, jt: 0, jf: 0, k: 4 },
    { code: 0x15, jt: 0, jf: 3, k: getAbi("x86_64").auditArch },
    { code: 0x20, jt: 0, jf: 0, k: 0 },
    { code: 0x15, jt: 5, jf: 0, k: mk },
    { code: 0x15, jt: 4, jf: 5, k: mkX32 },
    { code: 0x15, jt: 0, jf: 4, k: getAbi("x86").auditArch },
    { code: 0x20, jt: 0, jf: 0, k: 0 },
    { code: 0x15, jt: 1, jf: 0, k: mkX86 },
    { code: 0x06, jt: 0, jf: 0, k: 0x7fff0000 },
    { code: 0x06, jt: 0, jf: 0, k: 0x50001 },
    { code: 0x06, jt: 0, jf: 0, k: 0x7fff0000 },
  ];
  assert.deepEqual(verify(denyProg), []);
  writeFileSync(deny, encodeProgram(denyProg, "little"));
  const stacked = cli("prove", good, "--stack", deny, "--arch", abis, "--system-call-filter", "~mkdir", "--json");
  assert.equal(stacked.code, 0, stacked.err + stacked.out);
  const j = JSON.parse(stacked.out) as { equivalent: boolean; method: string; stats: { programs: number } };
  assert.equal(j.equivalent, true);
  assert.equal(j.stats.programs, 2);

  const badJson = cli("prove", good, "--arch", abis, "--system-call-filter", "~mkdir", "--json");
  assert.equal(badJson.code, 1);
  const bj = JSON.parse(badJson.out) as { equivalent: boolean; counterexample: { syscall: string; data: { nr: number; arch: number; args: number[] }; programAction: string; policyAction: string } };
  assert.equal(bj.equivalent, false);
  assert.equal(bj.counterexample.syscall, "mkdir");
  assert.equal(bj.counterexample.programAction, "ALLOW");
  assert.equal(bj.counterexample.policyAction, "ERRNO(EPERM)");
});

test("syscage prove: bad input is one line, exit 1", () => {
  oneLineError(cli("prove", join(DIR, "missing.bpf")), "missing.bpf");
  const trunc = join(DIR, "truncated.bpf");
  writeFileSync(trunc, Buffer.alloc(13));
  oneLineError(cli("prove", trunc), "not a multiple of 8");
  const invalid = join(DIR, "invalid.bpf");
  writeFileSync(invalid, encodeProgram([{ code: 0x20, jt: 0, jf: 0, k: 4 }], "little"));
  oneLineError(cli("prove", invalid), "would not load");
  const good = join(DIR, "ok.bpf");
  writeFileSync(good, encodeProgram(compile(nspawnPolicy({ abis: [...NSPAWN_ABIS] })).insns, "little"));
  oneLineError(cli("prove", good, "--stack", join(DIR, "nope.bpf")), "nope.bpf");
});
