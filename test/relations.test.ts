/**
 * The policy algebra (src/analyze/relations.ts): `within` against brute
 * force with the BPF interpreter on both compiled programs, `intersect` and
 * `union` against the reference semantics `decide()` of their inputs, and the
 * scenarios of issue #16 (nspawn ± ~mkdir, Docker's default vs nspawn's,
 * their intersection exported to OCI and read back).
 *
 * Seeded: a failure reproduces, and fast-check shrinks it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { getAbi, syscallNumber, syscallTable, type AbiName } from "../src/abi/index.js";
import { assemble, interpret } from "../src/bpf/index.js";
import { atLeastAsStrict, intersect, merge, proveMerge, union, within, strictnessKey, type MergeKind } from "../src/analyze/relations.js";
import { checkExport } from "../src/analyze/roundtrip.js";
import { compile } from "../src/compile/index.js";
import { abiForCall, decide, rulesFor } from "../src/policy/evaluate.js";
import { exportPolicy } from "../src/export/formats.js";
import { definePolicy, OPERATORS, type Action, type Condition, type ConditionInput, type Policy, type PolicyInput, type RuleInput } from "../src/policy/model.js";
import { nspawnPolicy } from "../src/policy/nspawn.js";
import { parseProfile } from "../src/policy/oci.js";
import { SyscageError } from "../src/errors.js";
import { argVectors, hex, show, valueArb } from "./helpers/compile-diff.js";

const TRIO: AbiName[] = ["x86_64", "x86", "x32"];
const DOCKER = "/work/shared/data/profiles/docker-default.json";

// ---- arbitraries ------------------------------------------------------------------

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  fc.constant<Action>({ kind: "ALLOW" }),
  fc.constant<Action>({ kind: "ALLOW" }),
  fc.constant<Action>({ kind: "KILL_PROCESS" }),
  fc.constant<Action>({ kind: "KILL_THREAD" }),
  fc.constant<Action>({ kind: "LOG" }),
  fc.constant<Action>({ kind: "NOTIFY" }),
  fc.constantFrom(0, 7).map((d): Action => ({ kind: "TRAP", data: d })),
  fc.constantFrom(0, 9).map((d): Action => ({ kind: "TRACE", data: d })),
  fc.constantFrom<number | string>(1, 38, "EPERM", "EACCES").map((e): Action => ({ kind: "ERRNO", errno: e })),
);

/** Small constants, so that two random policies share boundaries and the brute-force sample hits their cells. */
const smallValue: fc.Arbitrary<bigint> = fc.oneof(fc.constantFrom(0n, 1n, 2n, 5n, 16n, 0xffffffffn, 1n << 32n, (1n << 32n) + 5n, 1n << 63n), valueArb);

const conditionArb: fc.Arbitrary<ConditionInput> = fc
  .record({ arg: fc.integer({ min: 0, max: 2 }), op: fc.constantFrom(...OPERATORS), value: smallValue, mask: fc.oneof(fc.constantFrom(0xfn, 0xf0n, 0xffffffffn, 0xff00000000n, 3n), valueArb), fit: fc.boolean() })
  .map(({ arg, op, value, mask, fit }): ConditionInput => (op === "MASKED_EQ" ? { arg, op, mask, value: fit ? value & mask : value } : { arg, op, value }));

const ABI_GROUPS: readonly (readonly AbiName[])[] = [TRIO, ["x86_64"], ["x86_64", "x86"], ["aarch64", "arm"], ["s390x", "s390"], ["ppc64"], ["mips64", "mips"]];

/** Names on most ABIs, with arguments of different C types (int, long, pointer), and socket calls that socketcall routes. */
const NAMES = ["read", "openat", "close", "socket", "personality", "clone", "kill", "ioctl", "getpid", "fcntl", "connect", "mkdirat"];

function policyArb(abis: readonly AbiName[]): fc.Arbitrary<PolicyInput> {
  return fc
    .record({
      def: actionArb,
      unknown: actionArb,
      badArch: actionArb,
      width: fc.constantFrom<"kernel" | "u64">("kernel", "kernel", "u64"),
      routes: fc.constantFrom<"closed" | "open">("closed", "open"),
      rules: fc.array(fc.record({ syscall: fc.constantFrom(...NAMES), action: actionArb, conditions: fc.array(conditionArb, { maxLength: 2 }) }), { maxLength: 7 }),
    })
    .map(({ def, unknown, badArch, width, routes, rules }): PolicyInput => ({ abis: [...abis], default: def, unknown, badArch, argumentWidth: width, routes, rules: rules as RuleInput[] }));
}

/** A second policy: random, the first with rules added, or the first with its default changed. */
function secondArb(first: PolicyInput, abis: readonly AbiName[]): fc.Arbitrary<PolicyInput> {
  return fc.oneof(
    policyArb(abis).map((p) => ({ ...p, argumentWidth: first.argumentWidth })),
    fc.array(fc.record({ syscall: fc.constantFrom(...NAMES), action: actionArb, conditions: fc.array(conditionArb, { maxLength: 1 }) }), { minLength: 1, maxLength: 3 }).map((extra) => ({ ...first, rules: [...(first.rules ?? []), ...(extra as RuleInput[])] })),
    actionArb.map((d) => ({ ...first, default: d })),
  );
}

// ---- brute force --------------------------------------------------------------------------

/** Dense sample: every number of each ABI's table (zero arguments), the arguments around every constant of both policies, unknown numbers, x32-range numbers, a foreign arch. */
function* samplePoints(policies: readonly Policy[], seed: number): Generator<{ arch: number; nr: number; args: bigint[]; endian: "little" | "big" }> {
  const abis = [...new Set(policies.flatMap((p) => p.abis))];
  const zero = [0n, 0n, 0n, 0n, 0n, 0n];
  for (const abi of abis) {
    const { auditArch: arch, endian } = getAbi(abi);
    for (const e of syscallTable(abi)) yield { arch, nr: e.nr, args: zero, endian };
    const last = syscallTable(abi).at(-1)!.nr;
    for (const nr of [last + 1, last + 100, -1, 0x40000000 + 1, 0x3fffffff]) yield { arch, nr: nr | 0, args: zero, endian };
    for (const name of NAMES) {
      const nr = syscallNumber(abi, name);
      const conds: Condition[][] = policies.flatMap((p) => rulesFor(p, abi, name).map((a) => [...a.rule.conditions]));
      if (nr === undefined || conds.length === 0) continue;
      for (const args of argVectors(conds, seed + nr, 150, 150)) yield { arch, nr, args, endian };
    }
  }
  yield { arch: 0x12345678, nr: 0, args: zero, endian: "little" };
}

// ---- within ---------------------------------------------------------------------------------

test("within = brute force with the interpreter on both programs: random policy pairs (all 7 operators, argument widths, routes, several ABIs); every counterexample is real", () => {
  let pairs = 0;
  let notWithin = 0;
  let sampleFound = 0;
  let withArgs = 0;
  fc.assert(
    fc.property(
      fc
        .constantFrom(...ABI_GROUPS)
        .chain((g) => fc.tuple(fc.constant(g), policyArb(g)))
        .chain(([g, a]) => fc.tuple(fc.constant(a), fc.oneof(secondArb(a, g), fc.constantFrom(...ABI_GROUPS).chain((h) => policyArb(h))))),
      fc.integer({ min: 1, max: 1 << 20 }),
      ([ia, ib], seed) => {
        const a = definePolicy(ia);
        const b = definePolicy(ib);
        pairs++;
        const pa = compile(a).insns;
        const pb = compile(b).insns;
        const r = within(a, b, { limit: Infinity });
        assert.equal(r.method, "exhaustive");
        // Every reported difference is a real one, on the compiled programs and on decide().
        for (const d of r.differences) {
          const endian = getAbi(d.abi ?? a.abis[0]!).endian;
          const va = interpret(pa, d.data, d.abi !== undefined ? endian : "little").ret >>> 0;
          const vb = interpret(pb, d.data, d.abi !== undefined ? endian : "little").ret >>> 0;
          assert.equal(va, d.a.ret >>> 0, `A's value at the counterexample ${show(d.data)}`);
          assert.equal(vb, d.b.ret >>> 0, `B's value at the counterexample ${show(d.data)}`);
          assert.ok(!atLeastAsStrict(va, vb), `reported counterexample is not one: ${hex(va)} vs ${hex(vb)} at ${show(d.data)}`);
          assert.equal(decide(a, d.data).ret >>> 0, va);
          if (d.data.args.some((x) => x !== 0n)) withArgs++;
        }
        assert.equal(r.differences.length, r.total);
        // Brute force: every differing sample point belongs to a reported (ABI, syscall).
        const reported = new Set(r.differences.map((d) => `${d.abi ?? "-"}:${d.syscall ?? "?"}`));
        const abis = [...new Set([...a.abis, ...b.abis])];
        let bruteWithin = true;
        for (const p of samplePoints([a, b], seed)) {
          const data = { arch: p.arch, nr: p.nr, instructionPointer: 0n, args: p.args };
          const va = interpret(pa, data, p.endian).ret >>> 0;
          const vb = interpret(pb, data, p.endian).ret >>> 0;
          if (atLeastAsStrict(va, vb)) continue;
          bruteWithin = false;
          const abi = abiForCall({ abis }, p.arch, p.nr);
          const name = abi !== undefined ? syscallTable(abi).find((e) => e.nr === p.nr >>> 0)?.name : undefined;
          if (abi !== undefined) assert.ok(reported.has(`${abi}:${name ?? "?"}`) || [...reported].some((k) => k.startsWith(`${abi}:`)), `brute force finds ${abi} ${name ?? p.nr} args [${p.args.map((x) => hex(x)).join(", ")}]: ${hex(va)} vs ${hex(vb)}, within() does not\n A ${show(ia)}\n B ${show(ib)}`);
          else assert.ok(!r.within, `brute force finds a difference on arch ${hex(p.arch)}, within() says within`);
        }
        // The verdict: within() is never contradicted by the sample, and every "not within" has a checked witness.
        if (bruteWithin) assert.ok(r.within || r.differences.length > 0);
        else assert.equal(r.within, false, `brute force finds a difference, within() says within\n A ${show(ia)}\n B ${show(ib)}`);
        if (!r.within) notWithin++;
        if (!bruteWithin) sampleFound++;
        // A policy is within itself, and within() of the same pair is deterministic.
        assert.ok(within(a, a).within);
      },
    ),
    { numRuns: 120, seed: 16 },
  );
  // Both verdicts occur, most "not within" verdicts are found by the sample alone too, and some counterexamples need arguments.
  assert.ok(notWithin > 20 && notWithin < pairs - 10, `verdicts: ${notWithin} of ${pairs} not within`);
  assert.ok(sampleFound >= notWithin * 0.8, `the sample found ${sampleFound} of ${notWithin} "not within" pairs`);
  assert.ok(withArgs > 0, "some counterexamples have arguments");
});

test("within: exactData compares ERRNO numbers; kernel precedence (KILL_PROCESS > KILL_THREAD > TRAP > ERRNO > NOTIFY > TRACE > LOG > ALLOW)", () => {
  const base = { abis: ["x86_64"] as AbiName[], default: "ALLOW", routes: "open" as const };
  const order = ["KILL_PROCESS", "KILL_THREAD", "TRAP(1)", "ERRNO(1)", "NOTIFY", "TRACE(1)", "LOG", "ALLOW"];
  for (let i = 0; i < order.length; i++)
    for (let j = 0; j < order.length; j++) {
      const a = definePolicy({ ...base, rules: [{ syscall: "mkdir", action: order[i]! }] });
      const b = definePolicy({ ...base, rules: [{ syscall: "mkdir", action: order[j]! }] });
      const r = within(a, b);
      assert.equal(r.within, i <= j, `${order[i]} within ${order[j]}`);
      if (!r.within) assert.deepEqual(r.differences.map((d) => d.syscall), ["mkdir"]);
    }
  const eperm = definePolicy({ ...base, rules: [{ syscall: "mkdir", action: "ERRNO(EPERM)" }] });
  const eacces = definePolicy({ ...base, rules: [{ syscall: "mkdir", action: "ERRNO(EACCES)" }] });
  assert.ok(within(eperm, eacces).within);
  const r = within(eperm, eacces, { exactData: true });
  assert.equal(r.within, false);
  assert.equal(r.differences[0]!.kind, "data");
  assert.equal(r.differences[0]!.a.action, "ERRNO(EPERM)");
  assert.equal(r.differences[0]!.b.action, "ERRNO(EACCES)");
  // An ABI only B covers: A's bad-arch action decides there.
  const a64 = definePolicy({ abis: ["x86_64"], default: "ALLOW", badArch: "KILL_PROCESS" });
  const both = definePolicy({ abis: ["x86_64", "x86"], default: "ALLOW" });
  assert.ok(within(a64, both).within);
  const rb = within(both, a64);
  assert.equal(rb.within, false);
  assert.equal(rb.differences[0]!.abi, "x86");
});

test("within of a raw program: a program is within the policy it was compiled from and vice versa; a program with arithmetic is sampled and says so", () => {
  const p = nspawnPolicy({ abis: TRIO });
  const prog = { kind: "program" as const, programs: [compile(p).insns], abis: TRIO };
  assert.ok(within(prog, p).within);
  assert.ok(within(p, prog).within);
  const denyMkdir = nspawnPolicy({ abis: TRIO, systemCallFilter: ["~mkdir"] });
  const r = within(prog, denyMkdir);
  assert.equal(r.within, false);
  assert.deepEqual([...new Set(r.differences.map((d) => d.syscall))], ["mkdir"]);
  assert.match(r.differences[0]!.a.why!, /program returns ALLOW/);
  // A program that computes on nr (add): that path is sampled, and the result says so.
  const arith = assemble(
    [
      "      ld [4]",
      "      jeq #0xc000003e, L2, L9",
      "L2:   ld [0]",
      "      add #1",
      "      jeq #84, L5, L6",
      "L5:   ret #0x50001",
      "L6:   ret #0x7fff0000",
      "L9:   ret #0x80000000",
    ].join("\n"),
  );
  const mk = definePolicy({ abis: ["x86_64"], default: "ALLOW", unknown: "ALLOW", routes: "open", rules: [{ syscall: "mkdir", action: "ERRNO(1)" }] });
  const s = within(mk, { kind: "program", programs: [arith], abis: ["x86_64"] });
  assert.ok(s.within);
  assert.equal(s.method, "exhaustive+sampling");
  assert.match(s.notes.join(" "), /computes on seccomp_data/);
  const loose = definePolicy({ abis: ["x86_64"], default: "ALLOW", unknown: "ALLOW", routes: "open" });
  const t = within({ kind: "program", programs: [arith], abis: ["x86_64"] }, loose);
  // Stricter than allow-all except on x32 numbers, which the program allows and an x86_64-only policy kills.
  assert.equal(t.within, false);
  assert.ok(t.differences.every((d) => d.abi === undefined && d.data.nr >>> 0 >= 0x40000000), show(t.differences));
  const u = within(loose, { kind: "program", programs: [arith], abis: ["x86_64"] });
  assert.equal(u.within, false);
  assert.equal(u.differences[0]!.syscall, "mkdir");
});

// ---- the scenarios of the issue -------------------------------------------------------------

const docker = (): Policy => parseProfile(readFileSync(DOCKER, "utf8"), "docker-default.json", { hostArch: "x86_64", kernel: "6.1" }).policy;

test("nspawn + --system-call-filter=~mkdir is within the nspawn default; the reverse is not, and the counterexample is mkdir on each ABI", () => {
  const n = nspawnPolicy({ abis: TRIO });
  const m = nspawnPolicy({ abis: TRIO, systemCallFilter: ["~mkdir"] });
  const r = within(m, n);
  assert.ok(r.within);
  assert.equal(r.method, "exhaustive");
  const back = within(n, m, { limit: Infinity });
  assert.equal(back.within, false);
  assert.deepEqual(back.differences.map((d) => `${d.abi} ${d.syscall}`), ["x86_64 mkdir", "x86 mkdir", "x32 mkdir"]);
  for (const d of back.differences) {
    assert.equal(d.a.action, "ALLOW");
    assert.equal(d.b.action, "ERRNO(EPERM)");
    assert.match(d.a.why!, /@file-system/);
    assert.match(d.b.why!, /~mkdir/);
  }
});

test("Docker's default is not within the nspawn default, and the output names why (both explanations); fast", () => {
  const d = docker();
  const n = nspawnPolicy({ abis: TRIO });
  within(d, n); // warm
  const t0 = performance.now();
  const r = within(d, n, { limit: Infinity });
  const ms = performance.now() - t0;
  assert.equal(r.within, false);
  assert.ok(r.total > 10);
  const names = new Set(r.differences.map((x) => x.syscall));
  // Docker allows what nspawn's allow list lacks, and does not copy nspawn's audit-socket rule.
  for (const s of ["socket", "mlock"]) assert.ok(names.has(s), `${s} among the differences: ${[...names].join(", ")}`);
  const sock = r.differences.find((x) => x.syscall === "socket" && x.abi === "x86_64")!;
  assert.equal(sock.data.args[0], 16n);
  assert.equal(sock.data.args[2], 9n);
  assert.match(sock.a.why!, /docker-default\.json syscalls\[\d+\]/);
  assert.match(sock.b.why!, /nspawn audit rule/);
  for (const x of r.differences) assert.ok(x.a.why !== undefined && x.a.why.length > 0 && x.b.why !== undefined && x.b.why.length > 0);
  assert.ok(ms < 2000, `within took ${ms.toFixed(0)} ms`);
});

test("intersect(docker, nspawn) is within both, exact, exports to OCI, reads back equal, and within() agrees on the re-imported profile", () => {
  const d = docker();
  const n = nspawnPolicy({ abis: TRIO });
  const { policy: both, proof } = merge("intersect", [d, n]);
  assert.ok(proof.bounded && proof.exact);
  assert.ok(within(both, d).within);
  assert.ok(within(both, n).within);
  assert.equal(within(d, both).within, false);
  assert.equal(within(n, both).within, false);
  // Every rule keeps an origin of one of the inputs.
  for (const r of both.rules) assert.ok(/docker-default\.json|nspawn|not allowed|@known|closed route/.test(r.origin), `origin ${r.origin}`);
  const text = exportPolicy(both, "oci").text;
  assert.ok(checkExport(both, "oci", text).equal);
  const back = parseProfile(text, "both.json", { hostArch: "x86_64", kernel: "7.3.0" }).policy;
  assert.ok(within(back, d).within);
  assert.ok(within(back, n).within);
  // As written (routes open), the profile decides every call as the merged policy.
  const open = { ...back, routes: "open" as const };
  assert.ok(within(open, both, { exactData: true }).within && within(both, open, { exactData: true }).within);
});

// ---- intersect and union against decide() ------------------------------------------------------

function checkMerge(kind: MergeKind, inputs: readonly Policy[], seed: number, label: string): void {
  let merged: Policy;
  try {
    merged = kind === "intersect" ? intersect(...inputs) : union(...inputs);
  } catch (e) {
    if (e instanceof SyscageError && e.code === "MERGE_UNSUPPORTED") {
      // The one limit of an ABI-independent rule list: a masked test of bits that some ABIs compare and others drop.
      assert.match(e.message, /(compared on some ABIs and not on others|never true on some ABIs and can be on others) \(argument widths 32\/64 bits\)/, label);
      unsupported++;
      refusals.push(e.message);
      return;
    }
    throw e;
  }
  const proof = proveMerge(kind, merged, inputs);
  assert.ok(proof.bounded, `${kind} not bounded: ${show(proof.failures[0])}\n${label}`);
  assert.ok(proof.exact, `${kind} not exact: ${show(proof.failures[0])}\n${label}`);
  // The reference semantics, independently of the programs.
  const abis = merged.abis;
  for (const p of samplePoints(inputs.map((x) => ({ ...x, abis })), seed)) {
    const data = { arch: p.arch, nr: p.nr, instructionPointer: 0n, args: p.args };
    const m = strictnessKey(decide(merged, data).ret);
    const xs = inputs.map((x) => strictnessKey(decide(x, data).ret));
    const want = kind === "intersect" ? Math.min(...xs) : Math.max(...xs);
    if (m !== want) assert.fail(`${kind}: decide() of the merged policy is ${hex(decide(merged, data).ret)}, the inputs ${inputs.map((x) => hex(decide(x, data).ret)).join(", ")} at ${show(data)}\n${label}`);
    checked++;
  }
}
let unsupported = 0;
let checked = 0;
const refusals: string[] = [];

test("intersect and union = the strictest / least strict of decide() on random policy pairs and triples (arguments, all operators, several ABIs), proven bounded and exact", () => {
  unsupported = 0;
  let runs = 0;
  fc.assert(
    fc.property(
      fc.constantFrom(...ABI_GROUPS).chain((g) => fc.tuple(policyArb(g), policyArb(g), fc.option(policyArb(g), { freq: 3 }))),
      fc.constantFrom<MergeKind>("intersect", "union"),
      fc.integer({ min: 1, max: 1 << 20 }),
      ([ia, ib, ic], kind, seed) => {
        runs++;
        const width = ia.argumentWidth;
        const inputs = [ia, { ...ib, argumentWidth: width }, ...(ic !== null ? [{ ...ic, argumentWidth: width }] : [])].map((x) => definePolicy(x));
        checkMerge(kind, inputs, seed, [ia, ib, ic].map((x, i) => ` input ${i + 1}: ${show(x)}`).join("\n"));
      },
    ),
    { numRuns: 100, seed: 61 },
  );
  assert.ok(unsupported <= runs / 4, `${unsupported} of ${runs} merges were refused as not expressible:\n${refusals.join("\n")}`);
  assert.ok(checked > 10000, `${checked} decisions compared`);
});

test("union(docker, nspawn): every input within it, exact; merge() proves before returning; different ABIs are refused for a union", () => {
  const d = docker();
  const n = nspawnPolicy({ abis: TRIO });
  const { policy: either } = merge("union", [d, n]);
  assert.ok(within(d, either).within && within(n, either).within);
  assert.equal(within(either, d).within, false);
  assert.throws(() => union(d, nspawnPolicy({ abis: ["x86_64"] })), (e: unknown) => e instanceof SyscageError && e.code === "MERGE_UNSUPPORTED" && /different ABIs/.test(e.message));
  // Intersect keeps the ABIs both cover.
  assert.deepEqual(intersect(d, nspawnPolicy({ abis: ["x86_64"] })).abis, ["x86_64"]);
});
