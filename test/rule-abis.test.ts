/**
 * Rules limited to some ABIs (Rule.abis, docs/policy-format.md): the program,
 * the evaluator and the policy file agree that such a rule exists only on its
 * ABIs; exports say it where the format can (Docker's includes.arches) and
 * warn where it cannot; merge refuses rather than guess.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { getAbi, syscallNumber, type AbiName } from "../src/abi/index.js";
import { merge } from "../src/analyze/relations.js";
import { interpret } from "../src/bpf/index.js";
import { compile } from "../src/compile/index.js";
import { policyToOci } from "../src/export/oci.js";
import { toJson } from "../src/export/json.js";
import { formatPolicyJson } from "../src/export/policy-json.js";
import { policyToSystemd } from "../src/export/systemd.js";
import { decide } from "../src/policy/evaluate.js";
import { parsePolicyJson } from "../src/policy/json.js";
import { definePolicy, type Policy } from "../src/policy/model.js";
import { parseProfile } from "../src/policy/oci.js";

const X86: AbiName[] = ["x86_64", "x86", "x32"];
const EPERM = 0x00050001;
const ALLOW = 0x7fff0000;
const call = (abi: AbiName, name: string, args: bigint[] = []) => ({ arch: getAbi(abi).auditArch, nr: syscallNumber(abi, name)!, args });

/** mmap denied on x86 only (old_mmap), and W|X mmap denied elsewhere: MemoryDenyWriteExecute='s shape. */
const policy: Policy = definePolicy({
  abis: X86,
  default: "ALLOW",
  unknown: "ALLOW",
  rules: [
    { syscall: "mmap", action: "ERRNO(EPERM)", abis: ["x86"], origin: "old_mmap" },
    { syscall: "mmap", action: "ERRNO(EPERM)", abis: ["x86_64", "x32"], conditions: [{ arg: 2, op: "MASKED_EQ", mask: 6, value: 6 }], origin: "W|X" },
  ],
});

function programRet(p: Policy, abi: AbiName, name: string, args: bigint[] = []): number {
  const prog = compile(p);
  const a = getAbi(abi);
  const nr = syscallNumber(abi, name)!;
  const padded = [...args, 0n, 0n, 0n, 0n, 0n, 0n].slice(0, 6);
  return interpret(prog.insns, { nr, arch: a.auditArch, instructionPointer: 0n, args: padded }, a.endian).ret >>> 0;
}

describe("rules limited to some ABIs", () => {
  test("the program and the evaluator apply a rule only on its ABIs", () => {
    for (const [abi, args, want] of [
      ["x86", [0n, 4096n, 3n], EPERM],
      ["x86_64", [0n, 4096n, 3n], ALLOW],
      ["x86_64", [0n, 4096n, 6n], EPERM],
      ["x32", [0n, 4096n, 7n], EPERM],
      ["x86", [0n, 4096n, 0n], EPERM],
    ] as const) {
      assert.equal(programRet(policy, abi, "mmap", [...args]), want, `${abi} mmap(${args.join(", ")}) program`);
      assert.equal(decide(policy, call(abi, "mmap", [...args])).ret >>> 0, want, `${abi} mmap(${args.join(", ")}) decide`);
    }
  });

  test("a rule none of whose ABIs the program covers is reported as having no effect", () => {
    const p = definePolicy({ abis: ["x86_64"], default: "ALLOW", rules: [{ syscall: "mmap", action: "ERRNO(EPERM)", abis: ["x86"], origin: "old_mmap" }] });
    const prog = compile(p);
    assert.ok(prog.warnings.some((w) => /old_mmap: the rule is limited to x86, none of which the program covers/.test(w)), prog.warnings.join("\n"));
    assert.equal(programRet(p, "x86_64", "mmap"), ALLOW);
  });

  test("the policy file keeps the ABIs, and a wrong ABI is an error at its line", () => {
    const text = formatPolicyJson(policy);
    assert.match(text, /"abis": \[\s*"x86"\s*\]/);
    const back = parsePolicyJson(text, "p.json");
    assert.deepEqual(back.rules.map((r) => r.abis), [["x86"], ["x86_64", "x32"]]);
    const bad = text.replace('"abis": [\n        "x86"\n      ]', '"abis": ["x68"]').replace(/"abis": \[\s*"x86"\s*\]/, '"abis": ["x68"]');
    assert.throws(() => parsePolicyJson(bad, "p.json"), /p\.json:\d+: rules\[0\]\.abis\[0\]: unknown ABI "x68".*did you mean.*x86/i);
    assert.throws(() => definePolicy({ default: "ALLOW", rules: [{ syscall: "mmap", action: "ALLOW", abis: ["sparc"] }] }), /rules\[0\]\.abis: unknown ABI "sparc"/);
  });

  test("no profile can limit a rule to some ABIs (includes.arches names the host): left out with a warning, refused on read-back", () => {
    for (const format of ["oci", "docker"] as const) {
      const r = policyToOci(policy, format);
      assert.equal(r.seccomp.syscalls.length, 0, format);
      assert.ok(r.warnings.some((w) => /old_mmap.*applies on x86 only, which a profile cannot say.*left out.*--arch/.test(w)), r.warnings.join("\n"));
    }
    // Rules that differ only in their ABIs and together cover every ABI are one rule in a profile.
    const split = definePolicy({
      abis: X86,
      default: "ALLOW",
      unknown: "ALLOW",
      rules: [
        { syscall: "socket", action: "ERRNO(EAFNOSUPPORT)", abis: ["x86_64", "x32"], conditions: [{ arg: 0, op: "GT", value: 1 }], origin: "a" },
        { syscall: "socket", action: "ERRNO(EAFNOSUPPORT)", abis: ["x86"], conditions: [{ arg: 0, op: "GT", value: 1 }], origin: "b" },
      ],
    });
    const joined = policyToOci(split, "oci");
    assert.ok(joined.seccomp.syscalls.some((e) => e.names.join() === "socket"));
    assert.ok(!joined.warnings.some((w) => /applies on/.test(w)), joined.warnings.join("\n"));
    // Read back, the profile decides as the policy on every ABI.
    const back = parseProfile(toJson(joined.seccomp), "p.json", { hostArch: "x86_64" }).policy;
    for (const abi of X86) for (const af of [1n, 2n]) assert.equal(decide(back, call(abi, "socket", [af])).ret >>> 0, decide(split, call(abi, "socket", [af])).ret >>> 0, `${abi} socket(${af})`);
  });

  test("systemd's filter cannot limit a rule to some ABIs: refused, or the stricter side with --approximate", () => {
    assert.throws(() => policyToSystemd(policy), /or limit a rule to some ABIs/);
    const approx = policyToSystemd(policy, { approximate: true });
    assert.match(approx.text, /mmap:EPERM|~mmap/);
  });

  test("merge refuses rules limited to some ABIs instead of guessing", () => {
    assert.throws(() => merge("intersect", [policy, policy]), /applies on x86 only, and merge does not combine rules limited to some ABIs/);
  });
});
