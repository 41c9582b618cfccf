/**
 * Differential test of the compiler against libseccomp 2.5.4: the same rules
 * are compiled by syscage and by libseccomp (python3-seccomp), and both
 * programs are run through our interpreter (itself checked against libseccomp
 * and the kernel in libseccomp-oracle / kernel-oracle tests) for every syscall
 * number on x86_64, x86 and x32, numbers outside the tables, foreign arches,
 * and argument values around every constant.
 *
 * Where exactly one rule (or none) matches a call, both must agree. The
 * documented differences are counted and listed, never hidden:
 * - x32-high-word: on x32 libseccomp compares only the low 32 bits of
 *   argument and constant; our policies compare all 64 (x32 registers are
 *   64-bit). Only on x32, only where a high word decides.
 * - overlap-restrictive: several rules match and ours is MORE restrictive than
 *   libseccomp's (libseccomp resolves overlaps by its tree order and can let a
 *   no-argument rule silently override a denial; ours: most restrictive wins).
 * - overlap-tie: several rules of the same action kind but different data
 *   match; we take the first in policy order, libseccomp its tree order.
 * - narrow-high-bits: under the default `argumentWidth: "kernel"` a condition
 *   on an argument narrower than its register (`int family`: 32 bits,
 *   `umode_t`: 16) compares only the bits the kernel uses; libseccomp compares
 *   all of them. Only where such an argument or a condition's constant on it
 *   has bits set above the type's width: on calls whose narrow arguments and
 *   constants have clean (zero) high bits, a difference here is a failure.
 * - libseccomp-flaw: libseccomp's own program is wrong on that call: its
 *   path runs through a comparison whose accumulator is ill-defined (see
 *   suspectJumps: A holds different words on different paths, or still holds
 *   `arch` where a syscall number is compared). Two such libseccomp 2.5.4
 *   bugs are reproduced (and confirmed in the kernel) in
 *   compile-kernel.test.ts.
 * Anything else — in particular ours LESS restrictive — fails.
 */
import { isClosingRule, withRoutes } from "../src/policy/routes.js";
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { getAbi, syscallName, syscallNumber, syscallTable, knownSyscallNames, ABI_NAMES, type AbiName } from "../src/abi/index.js";
import { actionPrecedence, decodeProgram, formatAction, interpret, verify, type Insn } from "../src/bpf/index.js";
import { compile } from "../src/compile/index.js";
import { definePolicy, type Policy, type PolicyInput } from "../src/policy/model.js";
import { actionRet, conditionHolds, decide, rulesFor, type CallData } from "../src/policy/evaluate.js";
import { needOracle, sharedDataDir } from "./helpers/oracles.js";
import { MULTIPLEXED_NAMES, libseccompBuild, libseccompResolve, type LsArch, type LsResult } from "./helpers/libseccomp.js";
import {
  X86_TRIO,
  agreeingNames,
  argVectors,
  diffPolicyArb,
  hex,
  policyToSpec,
  show,
  tableRange,
  LIBSECCOMP_FLAW_CASES,
  flawOnPath,
  narrowHighBits,
  suspectJumps,
  truncated,
  wideOf,
  translateProfile,
  type Profile,
} from "./helpers/compile-diff.js";

const X32_BIT = 0x40000000;
const LO = 0xffffffffn;

type Category = "libseccomp-flaw" | "narrow-high-bits" | "x32-high-word" | "overlap-restrictive" | "overlap-tie" | "closed-route";

interface Report {
  compared: number;
  excluded: number;
  counts: Record<Category, number>;
  examples: Record<Category, string[]>;
  failures: string[];
}

function newReport(): Report {
  return {
    compared: 0,
    excluded: 0,
    counts: { "libseccomp-flaw": 0, "narrow-high-bits": 0, "x32-high-word": 0, "overlap-restrictive": 0, "overlap-tie": 0, "closed-route": 0 },
    examples: { "libseccomp-flaw": [], "narrow-high-bits": [], "x32-high-word": [], "overlap-restrictive": [], "overlap-tie": [], "closed-route": [] },
    failures: [],
  };
}

/** Indexes of the rules that match a call, comparing at `bits` as libseccomp does. */
function matching(p: Policy, abi: AbiName, nr: number, args: readonly bigint[], bits: 32 | 64): number[] {
  const name = syscallName(abi, nr >>> 0);
  if (name === undefined) return [];
  const out: number[] = [];
  for (const { rule: r, index: i } of rulesFor(p, abi, name)) {
    if (r.conditions.every((c) => conditionHolds(c, args[c.arg] ?? 0n, bits))) out.push(i);
  }
  return out;
}

/**
 * The (abi, nr) pairs where libseccomp's numbering of a rule's name differs
 * from our tables (never compared). socketcall and ipc are compared: both
 * sides route unconditional sub-call rules there (test/multiplex.test.ts).
 */
function excludedPoints(p: Policy, resolved: LsResult["numbers"]): Set<string> {
  const out = new Set<string>();
  for (const abi of p.abis as LsArch[]) {
    for (const r of p.rules) {
      const ours = syscallNumber(abi, r.syscall);
      const theirs = resolved[abi]?.[r.syscall] ?? undefined;
      if (ours === theirs) continue;
      if (ours !== undefined) out.add(`${abi}:${ours}`);
      if (theirs !== undefined && theirs !== null) out.add(`${abi}:${theirs}`);
    }
  }
  return out;
}

/** Which configured ABI a call lands in (for labels and the x32 rule); see abiForCall. */
function abiOf(p: Policy, arch: number, nr: number): AbiName | undefined {
  const d = decide(p, { arch, nr, args: [] });
  return d.abi;
}

/** Compare our program and libseccomp's on one policy; adds to `rep`. */
function compare(p: Policy, ours: readonly Insn[], theirs: readonly Insn[], resolved: LsResult["numbers"], seed: number, rep: Report, label: string): void {
  const excluded = excludedPoints(p, resolved);
  // libseccomp gets the rules as written: its references read the policy with routes open.
  const pw = wideOf({ ...p, routes: "open" });
  const p32 = truncated(pw);
  const flaws = suspectJumps(theirs);
  const one = (where: string, arch: number, nr: number, args: readonly bigint[]): void => {
    const abi = abiOf(p, arch, nr);
    if (abi !== undefined && excluded.has(`${abi}:${nr >>> 0}`)) {
      rep.excluded++;
      return;
    }
    rep.compared++;
    const data: CallData & { instructionPointer: bigint } = { arch, nr: nr | 0, args, instructionPointer: 0n };
    const got = interpret(ours, data, "little").ret >>> 0;
    const ls = interpret(theirs, data, "little").ret >>> 0;
    const want = decide(p, data).ret >>> 0;
    const at = `${label} ${where} arch ${hex(arch)} nr ${hex(nr)} args [${args.map((a) => hex(a)).join(",")}]`;
    if (got !== want) {
      rep.failures.push(`${at}: our program ${formatAction(got)} but decide() ${formatAction(want)}`);
      return;
    }
    if (got === ls) return;
    // Closed routes (policy/routes.ts): libseccomp gets the rules as written; ours adds the closing rules.
    // A call whose decision the closing rules change is a closed-route call (io_uring_*, clone3, openat2).
    const asWritten = decide({ ...p, routes: "open" }, data);
    if (asWritten.ret >>> 0 !== got) {
      const rule = decide(p, data);
      assert.ok(rule.reason === "rule" && isClosingRule(withRoutes(p).rules[rule.rule!]!), `${at}: the closing rules changed a decision that no closing rule made`);
      note(rep, "closed-route", `${at}: ours ${formatAction(got)} (${asWritten.syscall}, closed route), libseccomp ${formatAction(ls)}`);
      return;
    }
    const bad = flawOnPath(theirs, flaws, data, "little");
    if (bad !== undefined) {
      note(rep, "libseccomp-flaw", `${at}: ours ${formatAction(got)}, libseccomp ${formatAction(ls)} through insn ${bad.pc}: ${bad.why}`);
      return;
    }
    // libseccomp's reading: every register bit (and on x32 only low words).
    let ref = got;
    const wide = decide(pw, data).ret >>> 0;
    if (wide !== got) {
      if (abi === undefined || !narrowHighBits(p, abi, nr, args)) {
        rep.failures.push(`${at}: kernel-width and 64-bit readings differ (${formatAction(got)} / ${formatAction(wide)}) on clean high bits`);
        return;
      }
      note(rep, "narrow-high-bits", `${at}: ours ${formatAction(got)}, libseccomp (all bits) ${formatAction(ls)}`);
      if (wide === ls) return;
      ref = wide;
    }
    if (abi === "x32") {
      const low = args.map((a) => a & LO);
      ref = decide(p32, { arch, nr, args: low }).ret >>> 0;
      if (ref !== got) {
        note(rep, "x32-high-word", `${at}: ours ${formatAction(got)}, libseccomp (low words) ${formatAction(ls)}`);
        if (ref === ls) return;
      }
    }
    const bits = abi === "x86" || abi === "x32" ? 32 : 64;
    const m = abi === undefined ? [] : matching(bits === 32 && abi === "x32" ? p32 : pw, abi, nr, bits === 32 ? args.map((a) => a & LO) : args, bits);
    const rets = new Set(m.map((i) => actionRet(withRoutes(p).rules[i]!.action, abi!) >>> 0));
    if (m.length >= 2 && rets.has(ls)) {
      if (actionPrecedence(ref) < actionPrecedence(ls)) {
        note(rep, "overlap-restrictive", `${at}: rules ${m.map((i) => `#${i}`).join(",")} match; ours ${formatAction(ref)}, libseccomp ${formatAction(ls)}`);
        return;
      }
      if (actionPrecedence(ref) === actionPrecedence(ls)) {
        note(rep, "overlap-tie", `${at}: rules ${m.map((i) => `#${i}`).join(",")} match; ours ${formatAction(ref)}, libseccomp ${formatAction(ls)}`);
        return;
      }
    }
    rep.failures.push(`${at}: ours ${formatAction(got)}, libseccomp ${formatAction(ls)}; matching rules ${show(m.map((i) => withRoutes(p).rules[i]))}`);
  };

  const zero = [0n, 0n, 0n, 0n, 0n, 0n];
  for (const abi of p.abis) {
    const a = getAbi(abi);
    for (const nr of tableRange(abi, 16)) one(abi, a.auditArch, nr, zero);
    const byName = new Map<string, Policy["rules"][number]["conditions"][]>();
    for (const name of new Set([...p.rules.map((r) => r.syscall), "socketcall", "ipc"])) {
      if (syscallNumber(abi, name) === undefined) continue;
      const applied = rulesFor(p, abi, name);
      if (applied.length > 0) byName.set(name, applied.map((a) => a.rule.conditions));
    }
    for (const [name, conds] of byName) {
      const nr = syscallNumber(abi, name)!;
      for (const v of argVectors(conds, seed ^ nr)) one(`${abi} ${name}`, a.auditArch, nr, v);
    }
  }
  // Numbers outside the tables and x32-range numbers on both x86 arches; foreign arches.
  for (const nr of [-1, 0x3fffffff, X32_BIT - 1, X32_BIT, X32_BIT + 0x3ffff, 0x7fffffff, 0x80000000 | 0, 0x80000000 | 39]) {
    one("x86_64-arch stray", getAbi("x86_64").auditArch, nr, zero);
    one("x86-arch stray", getAbi("x86").auditArch, nr, zero);
  }
  if (!p.abis.includes("x32")) for (const e of syscallTable("x32")) one("x86_64-arch x32 number", getAbi("x86_64").auditArch, e.nr, zero);
  if (!p.abis.includes("x86_64")) for (const e of syscallTable("x86_64")) one("x86_64-arch x86_64 number", getAbi("x86_64").auditArch, e.nr, zero);
  const foreign = [...new Set(ABI_NAMES.map((n) => getAbi(n).auditArch))].filter((a) => !p.abis.some((n) => getAbi(n).auditArch === a));
  for (const arch of [...foreign, 0, 0xdeadbeef]) for (const nr of [0, 1, 39, 59, 222]) one("foreign arch", arch, nr, zero);
}

function note(rep: Report, c: Category, text: string): void {
  rep.counts[c]++;
  if (rep.examples[c].length < 4) rep.examples[c].push(text);
}

function summary(t: TestContext, rep: Report, what: string): void {
  t.diagnostic(`${what}: ${rep.compared} calls compared, ${rep.excluded} excluded (numbering differences), documented differences: ${show(rep.counts)}`);
  for (const c of Object.keys(rep.examples) as Category[]) for (const e of rep.examples[c]) t.diagnostic(`  ${c}: ${e}`);
}

/** Build both programs for every policy and compare. */
function differential(policies: readonly Policy[], optimize: (i: number) => 1 | 2, label: (i: number) => string): { rep: Report; programs: Insn[][] } {
  const specs = policies.map((p, i) => policyToSpec(p, optimize(i)));
  const built = libseccompBuild(specs);
  const rep = newReport();
  const repOpen = newReport();
  const programs: Insn[][] = [];
  policies.forEach((p, i) => {
    const r = built[i]!;
    assert.deepEqual(r.errors, [], `libseccomp rejected rules of ${label(i)}: ${show(specs[i])}`);
    const theirs = decodeProgram(r.bpf);
    assert.deepEqual(verify(theirs), [], `libseccomp program ${label(i)} fails our verifier`);
    const resolved = libseccompResolve([...new Set(p.rules.map((x) => x.syscall))], p.abis);
    // Both ways: routes closed (the default; the closing rules are the only added differences) and open (as libseccomp gets the rules).
    for (const routes of ["closed", "open"] as const) {
      const side: Policy = { ...p, routes };
      const ours = compile(side).insns;
      assert.deepEqual(verify(ours), [], `our program for ${label(i)} (routes ${routes}) fails verify()`);
      assert.ok(ours.length <= 4096);
      if (routes === "closed") programs.push([...ours]);
      compare(side, ours, theirs, resolved, i * 7919 + 1, routes === "closed" ? rep : repOpen, `${label(i)} (routes ${routes})`);
    }
  });
  assert.equal(repOpen.counts["closed-route"], 0, "with routes open no closing rule exists");
  assert.deepEqual(repOpen.failures, [], "routes open");
  return { rep, programs };
}

// ---- (1) random policies -----------------------------------------------------------

function namePool(): string[] {
  const ours = new Set<string>();
  for (const abi of X86_TRIO) for (const e of syscallTable(abi)) ours.add(e.name);
  const names = [...ours].filter((n) => !MULTIPLEXED_NAMES.has(n)).sort();
  return agreeingNames(libseccompResolve(names, X86_TRIO), names, X86_TRIO);
}

function randomPolicies(seed: number, n: number, arches: fc.Arbitrary<LsArch[]>): Policy[] {
  return fc.sample(diffPolicyArb(namePool(), arches), { seed, numRuns: n }).map((input) => definePolicy(input));
}

test("random policies (x86_64 + x86 + x32): syscage and libseccomp agree up to documented differences", (t) => {
  if (!needOracle(t, "python3-seccomp")) return;
  const policies = randomPolicies(0xd1ff01, 80, fc.constant<LsArch[]>([...X86_TRIO]));
  const { rep } = differential(policies, (i) => (i % 2 === 0 ? 1 : 2), (i) => `random policy #${i}`);
  summary(t, rep, "x86_64+x86+x32");
  assert.ok(rep.compared > 80 * 2000, `only ${rep.compared} calls compared`);
  assert.ok(rep.counts["narrow-high-bits"] > 100, "the kernel-width class is exercised");
  assert.deepEqual(rep.failures.slice(0, 10), [], `${rep.failures.length} unexplained mismatches`);
});

test("argumentWidth u64: the same random policies agree with libseccomp with no narrow-high-bits difference at all", (t) => {
  if (!needOracle(t, "python3-seccomp")) return;
  // The narrow-high-bits class is exactly the kernel-width reading: switched off, it vanishes.
  const policies = randomPolicies(0xd1ff01, 40, fc.constant<LsArch[]>([...X86_TRIO])).map(wideOf);
  const { rep } = differential(policies, (i) => (i % 2 === 0 ? 1 : 2), (i) => `u64 random policy #${i}`);
  summary(t, rep, "x86_64+x86+x32, u64");
  assert.equal(rep.counts["narrow-high-bits"], 0);
  assert.deepEqual(rep.failures.slice(0, 10), [], `${rep.failures.length} unexplained mismatches`);
});

test("random policies (ABI subsets: x86_64, x32, x86_64+x32, x86+x86_64): agree up to documented differences", (t) => {
  if (!needOracle(t, "python3-seccomp")) return;
  const policies = randomPolicies(0xd1ff02, 48, fc.constantFrom<LsArch[]>(["x86_64"], ["x32"], ["x86_64", "x32"], ["x86", "x86_64"], ["x86"]));
  const { rep } = differential(policies, (i) => (i % 2 === 0 ? 2 : 1), (i) => `subset policy #${i}`);
  summary(t, rep, "subsets");
  assert.ok(rep.compared > 48 * 1000, `only ${rep.compared} calls compared`);
  assert.deepEqual(rep.failures.slice(0, 10), [], `${rep.failures.length} unexplained mismatches`);
});

test("non-overlapping policies (one rule per syscall, 32-bit constants): identical decisions, no documented difference needed", (t) => {
  if (!needOracle(t, "python3-seccomp")) return;
  const pool = namePool();
  const inputs = fc.sample(diffPolicyArb(pool, fc.constant<LsArch[]>([...X86_TRIO])), { seed: 0xd1ff03, numRuns: 24 });
  const policies = inputs.map((input) => {
    const seen = new Set<string>();
    const rules = (input.rules ?? []).filter((r) => {
      const name = String(r.syscall);
      if (seen.has(name)) return false;
      seen.add(name);
      return true;
    }).map((r) => ({ ...r, conditions: (r.conditions ?? []).map((c) => ({ ...c, value: BigInt(c.value) & LO, ...(c.mask === undefined ? {} : { mask: BigInt(c.mask) & LO }) })) }));
    return definePolicy({ ...input, rules });
  });
  const { rep } = differential(policies, () => 2, (i) => `non-overlapping policy #${i}`);
  summary(t, rep, "non-overlapping");
  // x32 arguments with high words still differ (documented); overlaps cannot occur.
  assert.equal(rep.counts["overlap-restrictive"] + rep.counts["overlap-tie"], 0);
  assert.deepEqual(rep.failures.slice(0, 10), []);
});

// ---- (2) Docker and Podman default profiles -------------------------------------------------

/** Spot checks of the translation (moby's include/exclude rules) on x86_64: name, args, expected action. */
const PROFILE_SPOTS: Record<string, [string, bigint[], string][]> = {
  "docker-default.json": [
    ["read", [], "ALLOW"],
    ["ptrace", [], "ALLOW"], // includes.minKernel 4.8 ≤ 6.18
    ["chroot", [], "ALLOW"], // CAP_SYS_CHROOT is a default cap
    ["reboot", [], "ERRNO(1)"], // needs CAP_SYS_BOOT
    ["clone3", [], "ERRNO(38)"], // excludes CAP_SYS_ADMIN → ENOSYS rule applies
    ["clone", [0x10000000n], "ERRNO(1)"], // CLONE_NEWUSER is in the mask
    ["clone", [0x11n], "ALLOW"],
    ["arch_prctl", [], "ALLOW"], // includes.arches amd64
    ["personality", [0xffffffffn], "ALLOW"],
    ["personality", [1n], "ERRNO(1)"],
    ["socket", [40n], "ERRNO(1)"], // AF_VSOCK
    ["socket", [2n], "ALLOW"],
  ],
  "podman-default.json": [
    ["read", [], "ALLOW"],
    ["chroot", [], "ALLOW"],
    ["acct", [], "ERRNO(1)"],
    ["vmsplice", [], "ERRNO(1)"],
    ["socket", [40n], "ERRNO(1)"],
    ["socket", [16n, 0n, 9n], "ALLOW"], // CAP_AUDIT_WRITE held: the NETLINK_AUDIT rules are excluded
    ["setns", [], "ERRNO(1)"], // ALLOW (entry 2) and ERRNO(EPERM) (entry 17) both apply: most restrictive wins (libseccomp: first wins → ALLOW)
    ["mount", [], "ALLOW"], // Podman allows mount (the capability decides)
    ["tuxcall", [], "ERRNO(38)"], // in no entry: the default
  ],
};

function profileTest(file: string): void {
  test(`${file}: syscage and libseccomp agree on the translated profile (amd64, kernel 6.18, Docker's default caps)`, (t) => {
    if (!needOracle(t, "python3-seccomp")) return;
    const dir = sharedDataDir(t);
    if (dir === null) return;
    const profile = JSON.parse(readFileSync(join(dir, "profiles", file), "utf8")) as Profile;
    const allNames = [...new Set(profile.syscalls.flatMap((e) => e.names))];
    const known = libseccompResolve(allNames, X86_TRIO);
    const tr = translateProfile(profile, (n) => X86_TRIO.some((a) => known[a]![n] !== null));
    const policy = definePolicy(tr.input);
    const notOurs = tr.skippedNames.filter((n) => !knownSyscallNames().has(n));
    t.diagnostic(
      `${file}: ${tr.appliedEntries}/${profile.syscalls.length} entries apply, ${policy.rules.length} rules; split (runc OR) entries: ${tr.splitEntries}; ` +
        `rules dropped as equal to the default: ${tr.droppedDefault}, as duplicates: ${tr.droppedDuplicate}`,
    );
    t.diagnostic(`${file}: names skipped on both sides (${tr.skippedNames.length}): unknown to our tables: ${notOurs.join(" ") || "-"}; unknown to libseccomp 2.5.4: ${tr.skippedNames.filter((n) => !notOurs.includes(n)).join(" ") || "-"}`);
    const disagree = [...new Set(policy.rules.map((r) => r.syscall))].filter((n) => X86_TRIO.some((a) => !(a === "x86" && MULTIPLEXED_NAMES.has(n)) && (syscallNumber(a, n) ?? null) !== (known[a]![n] ?? null)));
    t.diagnostic(`${file}: names numbered differently by libseccomp 2.5.4 on some ABI (those numbers not compared there): ${disagree.join(" ") || "-"}`);
    for (const [name, args, want] of PROFILE_SPOTS[file] ?? []) {
      const d = decide(policy, { arch: getAbi("x86_64").auditArch, nr: syscallNumber("x86_64", name)!, args: [...args, 0n, 0n, 0n, 0n, 0n, 0n].slice(0, 6) });
      assert.equal(formatAction(d.ret), want, `${file}: ${name}(${args.join(", ")})`);
    }
    const { rep } = differential([policy], () => 2, () => file);
    summary(t, rep, file);
    assert.ok(rep.compared > 1500, `only ${rep.compared} calls compared`);
    assert.deepEqual(rep.failures.slice(0, 10), [], `${rep.failures.length} unexplained mismatches`);
  });
}

profileTest("docker-default.json");
profileTest("podman-default.json");

test("the comparison catches a wrong program (mutation self-test)", (t) => {
  if (!needOracle(t, "python3-seccomp")) return;
  const input: PolicyInput = {
    abis: [...X86_TRIO],
    default: "ERRNO(1)",
    unknown: "ERRNO(1)",
    badArch: "KILL_THREAD",
    rules: [
      { syscall: "getpid", action: "ALLOW" },
      { syscall: "dup", action: "ALLOW", conditions: [{ arg: 0, op: "LT", value: 100 }] },
    ],
  };
  const p = definePolicy(input);
  const [r] = libseccompBuild([policyToSpec(p, 2)]);
  const theirs = decodeProgram(r!.bpf);
  const rep = newReport();
  compare(p, compile(p).insns, theirs, libseccompResolve(["getpid", "dup"], X86_TRIO), 1, rep, "self-test");
  assert.deepEqual(rep.failures, []);
  // Feed libseccomp's program a policy that says KILL_PROCESS for getpid: ours is then more
  // restrictive where only ONE rule matches — that must be a failure, not a documented difference.
  const wrong = definePolicy({ ...input, rules: [{ syscall: "getpid", action: "KILL_PROCESS" }, input.rules![1]!] });
  const rep2 = newReport();
  compare(wrong, compile(wrong).insns, theirs, libseccompResolve(["getpid", "dup"], X86_TRIO), 1, rep2, "self-test");
  assert.ok(rep2.failures.length >= 3, `expected failures on the three ABIs, got ${rep2.failures.length}`);
});

test("documented libseccomp 2.5.4 flaws: its program loses a rule, ours keeps it, the detector flags libseccomp's jump", (t) => {
  if (!needOracle(t, "python3-seccomp")) return;
  for (const c of LIBSECCOMP_FLAW_CASES) {
    const p = definePolicy(c.input);
    const [r] = libseccompBuild([policyToSpec(p, c.optimize)]);
    assert.deepEqual(r!.errors, []);
    const theirs = decodeProgram(r!.bpf);
    const data = { arch: getAbi(c.call.abi).auditArch, nr: syscallNumber(c.call.abi, c.call.syscall)!, instructionPointer: 0n, args: c.call.args };
    const want = decide(p, data).ret >>> 0;
    assert.notEqual(want, 0x7fff0000, c.name);
    assert.equal(interpret(compile(p).insns, data, "little").ret >>> 0, want, `ours, ${c.name}`);
    assert.equal(interpret(theirs, data, "little").ret >>> 0, 0x7fff0000, `libseccomp 2.5.4 no longer fails open on: ${c.name}`);
    assert.ok(suspectJumps(theirs).size > 0, `detector misses: ${c.name}`);
    assert.equal(suspectJumps(compile(p).insns).size, 0);
  }
});

test("documented: MASKED_EQ with value bits outside the mask — ours never matches, libseccomp compares value & mask", (t) => {
  if (!needOracle(t, "python3-seccomp")) return;
  const p = definePolicy({ abis: ["x86_64"], default: "ALLOW", unknown: "ALLOW", badArch: "KILL_THREAD", rules: [{ syscall: "dup", action: "ERRNO(5)", conditions: [{ arg: 0, op: "MASKED_EQ", mask: 0xff, value: 0x1ff }] }] });
  const [r] = libseccompBuild([policyToSpec(p, 1)]);
  const data = { arch: getAbi("x86_64").auditArch, nr: syscallNumber("x86_64", "dup")!, instructionPointer: 0n, args: [0xffn, 0n, 0n, 0n, 0n, 0n] };
  assert.equal(decide(p, data).ret >>> 0, 0x7fff0000);
  assert.equal(interpret(compile(p).insns, data, "little").ret >>> 0, 0x7fff0000);
  assert.equal(interpret(decodeProgram(r!.bpf), data, "little").ret >>> 0, 0x00050005);
  assert.ok(compile(p).warnings.some((w) => /outside mask/.test(w)), "the compiler warns about the condition");
});
