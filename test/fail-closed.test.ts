/**
 * Fail closed at the compiler's door (issue #23): a Policy object built or
 * changed by hand is checked like a JSON policy, and every return value in a
 * compiled program is one the policy names. Deep JSON nesting and
 * "__proto__" keys are clear errors.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import fc from "fast-check";
import { compile } from "../src/compile/index.js";
import { SyscageError } from "../src/errors.js";
import { actionRet } from "../src/policy/evaluate.js";
import { definePolicy, type Action, type Policy } from "../src/policy/model.js";
import { withRoutes } from "../src/policy/routes.js";
import { cli } from "./helpers/cli.js";

const BASE: Policy = definePolicy({
  abis: ["x86_64", "x86"],
  default: "ALLOW",
  rules: [
    { syscall: "mkdir", action: "ERRNO(EPERM)" },
    { syscall: "dup", action: "TRAP(5)", conditions: [{ arg: 0, op: "EQ", value: 7 }] },
  ],
});

type Mutation = (p: { rules: { action: unknown; conditions: Record<string, unknown>[]; syscall: unknown }[]; abis: unknown[]; default: { action: unknown } } & Record<string, unknown>) => void;
const MUTATIONS: [string, Mutation][] = [
  ["errno above MAX_ERRNO", (p) => (p.rules[0]!.action = { kind: "ERRNO", errno: 0x7ffa0000 })],
  ["errno 65536", (p) => (p.rules[0]!.action = { kind: "ERRNO", errno: 65536 })],
  ["negative errno", (p) => (p.rules[0]!.action = { kind: "ERRNO", errno: -1 })],
  ["TRAP data 70000", (p) => (p.rules[1]!.action = { kind: "TRAP", data: 70000 })],
  ["unknown kind", (p) => (p.default.action = { kind: "ALLOW_ALL" })],
  ["unknown operator", (p) => (p.rules[1]!.conditions[0]!.op = "BOGUS")],
  ["argument 6", (p) => (p.rules[1]!.conditions[0]!.arg = 6)],
  ["value above 2^64", (p) => (p.rules[1]!.conditions[0]!.value = 1n << 64n)],
  ["value a number", (p) => (p.rules[1]!.conditions[0]!.value = 7)],
  ["unknown ABI", (p) => (p.abis = ["bogus"])],
  ["no ABI", (p) => (p.abis = [])],
  ["unknown syscall", (p) => (p.rules[0]!.syscall = "mkdirr")],
  ["routes typo", (p) => (p.routes = "opne")],
];

test("property: a Policy object with an out-of-range or wrong-kind field is refused by the compiler, with the field named", () => {
  fc.assert(
    fc.property(fc.constantFrom(...MUTATIONS), ([name, mutate]) => {
      const p = structuredClone(BASE) as unknown as Parameters<Mutation>[0];
      mutate(p);
      assert.throws(() => compile(p as unknown as Policy), (e: unknown) => e instanceof SyscageError && e.code === "BAD_POLICY" && /^policy /.test(e.message), name);
    }),
    { numRuns: 100 },
  );
});

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  fc.constant<Action>({ kind: "ALLOW" }),
  fc.constant<Action>({ kind: "LOG" }),
  fc.constant<Action>({ kind: "KILL_PROCESS" }),
  fc.integer({ min: 0, max: 4095 }).map((e): Action => ({ kind: "ERRNO", errno: e })),
  fc.integer({ min: 0, max: 0xffff }).map((d): Action => ({ kind: "TRAP", data: d })),
);

test("property: every ret in a compiled program is a value the policy names", () => {
  fc.assert(
    fc.property(
      fc.record({
        def: actionArb,
        rules: fc.array(fc.record({ syscall: fc.constantFrom("read", "write", "mkdir", "socket", "dup", "openat"), action: actionArb, cond: fc.boolean() }), { maxLength: 6 }),
      }),
      ({ def, rules }) => {
        const p = definePolicy({
          abis: ["x86_64", "x86", "aarch64"],
          default: def,
          rules: rules.map((r) => ({ syscall: r.syscall, action: r.action, conditions: r.cond ? [{ arg: 0, op: "EQ", value: 3 }] : [] })),
        });
        const eff = withRoutes(p);
        const named = new Set<number>();
        for (const abi of p.abis) for (const a of [eff.default.action, eff.unknown.action, eff.badArch.action, ...eff.rules.map((r) => r.action)]) named.add(actionRet(a, abi) >>> 0);
        const insns = compile(p).insns;
        insns.forEach((ins, i) => {
          if (ins.code === 0x06) assert.ok(named.has(ins.k >>> 0), `insn ${i}: ret 0x${(ins.k >>> 0).toString(16)} is not a value the policy names`);
        });
        assert.ok(insns.some((ins) => ins.code === 0x06));
      },
    ),
    { seed: 0x23, numRuns: 300 },
  );
});

test("JSON: 100,000 levels of nesting and a __proto__ key are one-line errors, not a crash or an ignored field", () => {
  const dir = mkdtempSync(join(tmpdir(), "syscage-json-"));
  writeFileSync(join(dir, "deep.json"), "[".repeat(100000) + "]".repeat(100000));
  writeFileSync(join(dir, "proto.json"), '{"__proto__": {"default": "ALLOW"}, "rules": []}');
  for (const opt of ["--policy", "--profile"]) {
    const r = cli("compile", opt, join(dir, "deep.json"));
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /nested more than 64 levels deep/);
    assert.doesNotMatch(r.err, /internal error|Maximum call stack/);
  }
  const p = cli("compile", "--policy", join(dir, "proto.json"));
  assert.equal(p.code, 1);
  assert.match(p.err, /unknown field "__proto__"/);
});
