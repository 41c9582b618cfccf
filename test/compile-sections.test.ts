/**
 * The compiler's decision table (src/compile/table.ts) is built sparsely: each
 * section's nr ranges are cut at the syscalls that have rules, with the
 * table's runs of consecutive numbers in between, and the per-syscall
 * `decisions` list is made when first read. This checks both against the
 * plain construction, one step per syscall in number order (known numbers get
 * their decision, gaps the unknown action, the nr ranges no covered ABI owns
 * the bad-arch action), for random policies over random ABI sets.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ABI_NAMES, LOCAL_ABIS, X32_SYSCALL_BIT, getAbi, syscallTable, type AbiName } from "../src/abi/index.js";
import { compile, type ArchSection } from "../src/compile/index.js";
import type { Node } from "../src/compile/dag.js";
import { abiForCall, actionRet, badArchRet, rulesFor } from "../src/policy/evaluate.js";
import { definePolicy, type Action, type ConditionInput, type Policy, type PolicyInput, type RuleInput } from "../src/policy/model.js";
import { show, valueArb } from "./helpers/compile-diff.js";

interface PlainSegment {
  readonly lo: number;
  readonly hi: number;
  readonly node: string;
  readonly weight: number;
}

/** Nodes of one DAG: `ret`s are shared by value, tests by identity. */
const nodeKey = (n: Node): string => (n.kind === "ret" ? `ret ${n.k}` : `test ${n.id}`);

/** Where the owner of an nr can change (x86_64 and x32 share an AUDIT_ARCH value). */
const CUTS: readonly [number, number][] = [
  [0, X32_SYSCALL_BIT - 1],
  [X32_SYSCALL_BIT, 0xfffffffe],
  [0xffffffff, 0xffffffff],
];

/** The segments of `s`, made one syscall at a time from its decisions. */
function plainSegments(policy: Policy, s: ArchSection): PlainSegment[] {
  const out: { lo: number; hi: number; node: string; weight: number }[] = [];
  const push = (lo: number, hi: number, node: string, weight: number): void => {
    const last = out[out.length - 1];
    if (last !== undefined && last.node === node && last.hi + 1 === lo) {
      last.hi = hi;
      last.weight += weight;
    } else out.push({ lo, hi, node, weight });
  };
  for (const [lo, hi] of CUTS) {
    const abi = abiForCall(policy, s.auditArch, lo);
    if (abi === undefined) {
      push(lo, hi, `ret ${badArchRet(policy)}`, 0);
      continue;
    }
    const unknown = `ret ${actionRet(policy.unknown.action, abi)}`;
    let next = lo;
    for (const d of s.decisions) {
      if (d.abi !== abi || d.nr < lo || d.nr > hi) continue;
      if (d.nr > next) push(next, d.nr - 1, unknown, 0);
      push(d.nr, d.nr, nodeKey(d.node), 1);
      next = d.nr + 1;
    }
    if (next <= hi) push(next, hi, unknown, 0);
  }
  return out;
}

function check(input: PolicyInput): void {
  const policy = definePolicy(input);
  const prog = compile(policy);
  const seen = new Set<AbiName>();
  for (const s of prog.sections) {
    // Every syscall of each covered ABI in the section's nr ranges, in number order, once.
    for (const abi of s.abis) {
      seen.add(abi);
      const mine = s.decisions.filter((d) => d.abi === abi);
      const want = syscallTable(abi).filter((e) => abiForCall(policy, s.auditArch, e.nr) === abi);
      assert.deepEqual(
        mine.map((d) => `${d.name}=${d.nr}`),
        want.map((e) => `${e.name}=${e.nr}`),
        `${abi}: decisions`,
      );
      // A syscall without rules gets the default action.
      const def = `ret ${actionRet(policy.default.action, abi)}`;
      for (const d of mine) {
        assert.deepEqual(
          d.rules,
          rulesFor(policy, abi, d.name).map((a) => a.index),
          `${abi} ${d.name}: rules`,
        );
        if (d.rules.length === 0) assert.equal(nodeKey(d.node), def, `${abi} ${d.name}: default`);
      }
    }
    const got = s.segments.map((g) => ({ lo: g.lo, hi: g.hi, node: nodeKey(g.node), weight: g.weight }));
    assert.deepEqual(got, plainSegments(policy, s), `section ${s.abis.join("+")}: segments`);
  }
  assert.deepEqual([...seen].sort(), [...new Set(policy.abis)].sort(), "every ABI has its section");
}

// ---- random policies -------------------------------------------------------------

/** Few distinct actions, so that neighbouring ranges often share one (and merge). */
const actionArb: fc.Arbitrary<Action> = fc.constantFrom<Action>(
  { kind: "ALLOW" },
  { kind: "KILL_PROCESS" },
  { kind: "LOG" },
  { kind: "ERRNO", errno: 1 },
  { kind: "ERRNO", errno: "EPERM" },
  { kind: "ERRNO", errno: "ENOSYS" },
  { kind: "ERRNO", errno: "EAFNOSUPPORT" },
);

const conditionArb: fc.Arbitrary<ConditionInput> = fc.record({ arg: fc.integer({ min: 0, max: 5 }), op: fc.constantFrom("EQ", "NE", "GT", "LE"), value: valueArb });

const abisArb: fc.Arbitrary<AbiName[]> = fc.oneof(
  fc.shuffledSubarray([...ABI_NAMES], { minLength: 1, maxLength: 4 }),
  fc.constantFrom(...ABI_NAMES).map((a) => [...LOCAL_ABIS[a]]),
  fc.constantFrom<AbiName[]>(["x86_64", "x86", "x32"], ["x86_64"], ["x32"], ["x32", "x86_64"], ["mips64", "mips", "mips64n32"], ["s390x", "s390"]),
);

const policyArb: fc.Arbitrary<PolicyInput> = abisArb.chain((abis) => {
  const pool = [...new Set(abis.flatMap((a) => syscallTable(a).map((e) => e.name)))].sort();
  // Sometimes most of the table has rules (the first syscalls, whole runs), sometimes a few.
  const namesArb = fc.oneof(
    fc.uniqueArray(fc.constantFrom(...pool), { minLength: 1, maxLength: 40 }),
    fc.integer({ min: 1, max: pool.length }).map((n) => syscallTable(abis[0]!).slice(0, n).map((e) => e.name)),
  );
  return fc
    .record({ names: namesArb, def: actionArb, unknown: actionArb, badArch: actionArb })
    .chain(({ names, def, unknown, badArch }) =>
      fc
        .array(
          fc.record({
            syscall: fc.constantFrom(...names),
            action: actionArb,
            conditions: fc.oneof({ weight: 4, arbitrary: fc.constant<ConditionInput[]>([]) }, { weight: 1, arbitrary: fc.array(conditionArb, { minLength: 1, maxLength: 2 }) }),
          }),
          { minLength: 0, maxLength: 60 },
        )
        .map((rules): PolicyInput => ({ abis, default: def, unknown, badArch, rules: rules.map((r): RuleInput => r) })),
    );
});

test("sections: the sparse nr ranges and the lazy decisions equal the one-syscall-at-a-time construction", () => {
  let sections = 0;
  fc.assert(
    fc.property(policyArb, (input) => {
      check(input);
      sections += new Set(input.abis?.map((a) => getAbi(a).auditArch)).size;
    }),
    { seed: 0x5ec710, numRuns: 400 },
  );
  assert.ok(sections >= 400);
});

test("sections: an allow list covering every syscall of the first ABI, and a policy without rules", () => {
  for (const abis of [["x86_64", "x86", "x32"], ["x32"], ["x86_64"], ["mips64", "mips64n32"], ["arm"]] as AbiName[][]) {
    const all = syscallTable(abis[0]!).map((e) => e.name);
    for (const input of [
      { abis, rules: [{ syscall: all, action: "ALLOW" }] },
      { abis, rules: [{ syscall: all, action: "ALLOW" }], default: "ALLOW", unknown: "ALLOW" },
      { abis },
      { abis, default: "ALLOW", unknown: "ERRNO(EPERM)", badArch: "ALLOW" },
    ] satisfies PolicyInput[]) {
      try {
        check(input);
      } catch (e) {
        throw new Error(`${show(input)}: ${(e as Error).message}`);
      }
    }
  }
});
