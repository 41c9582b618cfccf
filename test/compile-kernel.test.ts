/**
 * The running kernel as oracle for compiled programs: every program the
 * differential runs compile (random policies, Docker/Podman profiles) and
 * random policies over all 23 ABIs load with seccomp(SECCOMP_SET_MODE_FILTER);
 * and for random policies over harmless probe syscalls each probe — native,
 * x32 numbers, i386 via int $0x80 — ends as our interpreter predicts from the
 * compiled program (which must also agree with decide()).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { ABI_NAMES, LOCAL_ABIS, syscallTable, type AbiName } from "../src/abi/index.js";
import { encodeProgram, interpret, verify, type Insn } from "../src/bpf/index.js";
import { compile } from "../src/compile/index.js";
import { definePolicy, type Action, type ConditionInput, type Policy, type PolicyInput, type RuleInput } from "../src/policy/model.js";
import { decide } from "../src/policy/evaluate.js";
import { SyscageError } from "../src/errors.js";
import { needOracle, sharedDataDir } from "./helpers/oracles.js";
import { MULTIPLEXED_NAMES, libseccompResolve, type LsArch } from "./helpers/libseccomp.js";
import { runProbes, type Probe } from "./helpers/probe.js";
import { noticeSkip, hostHas, I386_COVERED_BY, withoutI386 } from "./helpers/host.js";
import { PLUMBING_NAMES, PROBE_NAMES, predict, probeData, probes } from "./helpers/kernel-predict.js";
import { LIBSECCOMP_FLAW_CASES, X86_TRIO, agreeingNames, conditionArb, diffPolicyArb, lsActionArb, policyToSpec, show, translateProfile, type Profile } from "./helpers/compile-diff.js";
import { libseccompBuild } from "./helpers/libseccomp.js";
import { syscallNumber } from "../src/abi/index.js";

const GETPID: Probe[] = [probes()[0]!];

/** Load each program in a child and make one getpid; "load-failed" anywhere fails. */
function loadAll(programs: readonly { label: string; insns: readonly Insn[] }[]): { loaded: number; failures: string[]; maxLen: number } {
  const failures: string[] = [];
  let loaded = 0;
  let maxLen = 0;
  for (const p of programs) {
    const findings = verify(p.insns);
    if (findings.length > 0) failures.push(`${p.label}: verify() ${show(findings.slice(0, 2))}`);
    maxLen = Math.max(maxLen, p.insns.length);
    const [out] = runProbes(encodeProgram(p.insns), GETPID);
    if (out!.startsWith("load-failed")) failures.push(`${p.label} (${p.insns.length} insns): kernel says ${out}`);
    else loaded++;
  }
  return { loaded, failures, maxLen };
}

function diffPool(): string[] {
  const ours = new Set<string>();
  for (const abi of X86_TRIO) for (const e of syscallTable(abi)) ours.add(e.name);
  const names = [...ours].filter((n) => !MULTIPLEXED_NAMES.has(n)).sort();
  return agreeingNames(libseccompResolve(names, X86_TRIO), names, X86_TRIO);
}

test("every program of the libseccomp differential runs loads in the kernel", (t) => {
  if (!needOracle(t, "python3-seccomp", "cc", "seccomp-kernel")) return;
  const pool = diffPool();
  // The same generators and seeds as compile-libseccomp.test.ts.
  const inputs = [
    ...fc.sample(diffPolicyArb(pool, fc.constant<LsArch[]>([...X86_TRIO])), { seed: 0xd1ff01, numRuns: 80 }),
    ...fc.sample(diffPolicyArb(pool, fc.constantFrom<LsArch[]>(["x86_64"], ["x32"], ["x86_64", "x32"], ["x86", "x86_64"], ["x86"])), { seed: 0xd1ff02, numRuns: 48 }),
    ...fc.sample(diffPolicyArb(pool, fc.constant<LsArch[]>([...X86_TRIO])), { seed: 0xd1ff03, numRuns: 24 }),
  ];
  const programs = inputs.map((input, i) => ({ label: `differential policy #${i}`, insns: compile(definePolicy(input)).insns }));
  const dir = sharedDataDir(t);
  if (dir !== null) {
    for (const file of ["docker-default.json", "podman-default.json"]) {
      const profile = JSON.parse(readFileSync(join(dir, "profiles", file), "utf8")) as Profile;
      const names = [...new Set(profile.syscalls.flatMap((e) => e.names))];
      const known = libseccompResolve(names, X86_TRIO);
      const tr = translateProfile(profile, (n) => X86_TRIO.some((a) => known[a]![n] !== null));
      programs.push({ label: file, insns: compile(definePolicy(tr.input)).insns });
      // The profile for every archMap ABI set, not only amd64's.
      for (const abis of [["aarch64", "arm"], ["s390x", "s390"], ["mips64", "mips", "mips64n32"], ["ppc64le"], ["riscv64"]] as AbiName[][]) {
        programs.push({ label: `${file} on ${abis.join("+")}`, insns: compile(definePolicy({ ...tr.input, abis })).insns });
      }
    }
  }
  const { loaded, failures, maxLen } = loadAll(programs);
  t.diagnostic(`${loaded}/${programs.length} programs loaded (longest ${maxLen} instructions)`);
  assert.deepEqual(failures, []);
  assert.equal(loaded, programs.length);
});

/** Random policies over every ABI, up to 60 rules, for loading only. */
function anyAbiPolicyArb(maxRules = 60): fc.Arbitrary<PolicyInput> {
  const abis = fc.oneof(fc.constantFrom(...ABI_NAMES).map((a) => [...LOCAL_ABIS[a]]), fc.shuffledSubarray([...ABI_NAMES], { minLength: 1, maxLength: 5 }));
  return abis.chain((abiList) => {
    const pool = [...new Set(abiList.flatMap((a) => syscallTable(a).map((e) => e.name)))].sort();
    const rule: fc.Arbitrary<RuleInput> = fc
      .record({ syscall: fc.constantFrom(...pool), action: lsActionArb, args: fc.uniqueArray(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }) })
      .chain(({ syscall, action, args }) => (args.length === 0 ? fc.constant<ConditionInput[]>([]) : fc.tuple(...args.map((a) => conditionArb(a)))).map((conditions) => ({ syscall, action, conditions })));
    return fc.record({ def: lsActionArb, rules: fc.array(rule, { maxLength: maxRules, size: "max" }) }).map(({ def, rules }): PolicyInput => ({ abis: abiList, default: def, rules }));
  });
}

test("programs for random policies over all 23 ABIs load in the kernel", (t) => {
  if (!needOracle(t, "cc", "seccomp-kernel")) return;
  const inputs = [...fc.sample(anyAbiPolicyArb(), { seed: 0x10ad, numRuns: 300 }), ...fc.sample(anyAbiPolicyArb(400), { seed: 0x10ae, numRuns: 40 })];
  const programs: { label: string; insns: readonly Insn[] }[] = [];
  let tooLarge = 0;
  inputs.forEach((input, i) => {
    try {
      programs.push({ label: `any-ABI policy #${i} ${show(input.abis)}`, insns: compile(definePolicy(input)).insns });
    } catch (e) {
      if (!(e instanceof SyscageError && e.code === "PROGRAM_TOO_LARGE")) throw e;
      tooLarge++; // fail closed, with a clear error: fine
    }
  });
  const { loaded, failures, maxLen } = loadAll(programs);
  t.diagnostic(`${loaded}/${programs.length} programs loaded (longest ${maxLen} instructions); ${tooLarge} policies over 4096 instructions refused by compile()`);
  assert.ok(maxLen > 1500, `longest program only ${maxLen} instructions`);
  assert.ok(tooLarge < inputs.length / 10);
  assert.deepEqual(failures, []);
});

// ---- probes: kernel outcome = interpreter prediction ----------------------------------------

const M1 = (1n << 64n) - 1n;
const probeValue = fc.constantFrom(0n, 1n, 5n, 0x1edn, 0x5401n, 0xffffffffn, 0x1_0000_0005n, M1, M1 - 99n, 1n << 63n, 0x1_0000_0000n);

const probeCond: fc.Arbitrary<ConditionInput> = fc.oneof(
  fc.record({ arg: fc.integer({ min: 0, max: 2 }), op: fc.constantFrom("EQ", "NE", "LT", "LE", "GT", "GE"), value: probeValue }),
  fc.record({ arg: fc.integer({ min: 0, max: 2 }), op: fc.constant("MASKED_EQ"), mask: fc.constantFrom(0xffn, 0xff00n, 0xffffffffn, 0xffffffff00000000n, M1), value: probeValue }).map((c) => ({ ...c, value: c.value & c.mask })),
);

/** All eight kinds, TRAP/TRACE data, ERRNO by number and by name. */
const probeAction: fc.Arbitrary<Action> = fc.oneof(
  lsActionArb,
  fc.integer({ min: 1, max: 0xffff }).map((d): Action => ({ kind: "TRAP", data: d })),
  fc.constant<Action>({ kind: "ERRNO", errno: 4095 }),
);

const probePolicy: fc.Arbitrary<PolicyInput> = fc
  .record({
    abis: fc.constantFrom<AbiName[]>(["x86_64", "x86", "x32"], ["x86_64"], ["x86_64", "x86"], ["x86_64", "x32"]),
    def: fc.oneof(fc.constant<Action>({ kind: "ALLOW" }), probeAction),
    unknown: probeAction,
    badArch: probeAction,
    rules: fc.array(
      fc.record({ syscall: fc.constantFrom(...PROBE_NAMES), action: probeAction, conditions: fc.array(probeCond, { maxLength: 2 }) }).map((r): RuleInput => r),
      { minLength: 1, maxLength: 14 },
    ),
  })
  .map(({ abis, def, unknown, badArch, rules }): PolicyInput => ({
    abis,
    default: def,
    unknown,
    badArch,
    rules: [...PLUMBING_NAMES.map((s): RuleInput => ({ syscall: s, action: { kind: "ALLOW" } })), ...rules],
  }));

test("random policies over the probe syscalls: the kernel does what the interpreter predicts from the compiled program", (t) => {
  if (!needOracle(t, "cc", "seccomp-kernel")) return;
  const ps = withoutI386(t, probes(), (p) => p.via === "i386");
  const baseline = runProbes(null, ps);
  const inputs = fc.sample(probePolicy, { seed: 0x6e7e1, numRuns: 120 });
  const failures: string[] = [];
  const seenOutcomes = new Set<string>();
  inputs.forEach((input, pi) => {
    const policy: Policy = definePolicy(input);
    const prog = compile(policy);
    assert.deepEqual(verify(prog.insns), []);
    const outcomes = runProbes(encodeProgram(prog.insns), ps);
    ps.forEach((p, i) => {
      const data = probeData(p);
      const ret = interpret(prog.insns, data, "little").ret >>> 0;
      const want = decide(policy, data).ret >>> 0;
      if (ret !== want) failures.push(`policy #${pi} ${p.label}: program ${ret.toString(16)} but decide() ${want.toString(16)}; ${show(input)}`);
      const predicted = predict(ret, baseline[i]!);
      seenOutcomes.add(outcomes[i]!);
      if (outcomes[i] !== predicted) failures.push(`policy #${pi} ${p.label}(${p.args.map((a) => "0x" + a.toString(16)).join(",")}): kernel "${outcomes[i]}", predicted "${predicted}"; ${show(input)}`);
    });
  });
  t.diagnostic(`${inputs.length} policies × ${ps.length} probes; kernel outcomes seen: ${[...seenOutcomes].sort().join(", ")}`);
  assert.deepEqual(failures.slice(0, 10), [], `${failures.length} failures`);
  // The sample must reach the interesting outcomes, or the test proves little.
  for (const o of ["signal 31", "err 38", "ok"]) assert.ok(seenOutcomes.has(o), `no probe ended with "${o}"`);
});

test("the kernel confirms the libseccomp 2.5.4 flaws: its program lets the call through, ours enforces the rule", (t) => {
  if (!needOracle(t, "python3-seccomp", "cc", "seccomp-kernel")) return;
  for (const c of LIBSECCOMP_FLAW_CASES) {
    const p = definePolicy(c.input);
    const [r] = libseccompBuild([policyToSpec(p, c.optimize)]);
    const probe: Probe = { via: c.call.abi === "x86" ? "i386" : "native", nr: syscallNumber(c.call.abi, c.call.syscall)!, args: c.call.args.slice(0, c.call.abi === "x86" ? 5 : 6), label: c.call.syscall };
    if (probe.via === "i386" && !hostHas("i386")) {
      noticeSkip(t, "i386", `the libseccomp flaw case "${c.name}" (an i386 call)`, I386_COVERED_BY);
      continue;
    }
    const [baseline] = runProbes(null, [probe]);
    const ours = compile(p).insns;
    const want = predict(decide(p, probeData(probe)).ret >>> 0, baseline!);
    assert.notEqual(want, baseline, "the rule must change the outcome");
    assert.deepEqual(runProbes(encodeProgram(ours), [probe]), [want], `ours, ${c.name}`);
    assert.deepEqual(runProbes(r!.bpf, [probe]), [baseline], `libseccomp's program, ${c.name}`);
  }
});
