/**
 * Export (src/export/): round trips import(export(p)) ≡ p for oci,
 * docker and spo on random policies and on the nspawn default (its three
 * outcomes kept), the OCI runtime-spec JSON Schema (vendored under
 * test/fixtures/oci-runtime-spec with its license), SPO's limits, and
 * systemd lines.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv } from "ajv";
import fc from "fast-check";
import { parse as parseYaml } from "yaml";
import { getAbi, syscallTable, type AbiName } from "../src/abi/index.js";
import { SyscageError } from "../src/errors.js";
import { decide } from "../src/policy/evaluate.js";
import { exportPolicy, type ExportFormat } from "../src/export/formats.js";
import { toJson } from "../src/export/json.js";
import { definePolicy, type ArgumentWidthMode, type Policy, type RuleInput } from "../src/policy/model.js";
import { nspawnPolicy } from "../src/policy/nspawn.js";
import { parseProfile } from "../src/policy/oci.js";
import { argVectors } from "./helpers/compile-diff.js";

const SCHEMA_DIR = fileURLToPath(new URL("./fixtures/oci-runtime-spec/", import.meta.url));

/**
 * Import an exported document again (SPO: its spec), reading conditions with
 * `width` ("u64": as the runtimes compare, whole registers).
 */
function reimport(text: string, format: ExportFormat, host: AbiName, width: ArgumentWidthMode = "kernel"): Policy {
  const json = format === "spo" ? toJson((parseYaml(text, { intAsBigInt: true }) as { spec: unknown }).spec) : text;
  return parseProfile(json, `exported.${format}`, { hostArch: host, kernel: "6.1", argumentWidth: width }).policy;
}

/** Every syscall number of every ABI (plus unknown numbers) and argument vectors around every rule's constants: same rets. */
function sameDecisions(a: Policy, b: Policy, label: string): number {
  assert.deepEqual(b.abis, a.abis, `${label}: ABIs`);
  let n = 0;
  for (const abi of a.abis) {
    const arch = getAbi(abi).auditArch;
    const table = syscallTable(abi);
    const nrs = [...table.map((e) => e.nr), getAbi(abi).nrOffset + 4000, table[table.length - 1]!.nr + 1];
    for (const nr of nrs) {
      const byName = a.rules.filter((r) => r.syscall === (table.find((e) => e.nr === nr)?.name ?? "")).map((r) => r.conditions);
      for (const args of byName.length === 0 ? [[0n, 0n, 0n, 0n, 0n, 0n]] : argVectors(byName, nr, 40, 20)) {
        const x = decide(a, { arch, nr, args }).ret;
        const y = decide(b, { arch, nr, args }).ret;
        assert.equal(y >>> 0, x >>> 0, `${label}: ${abi} nr ${nr} args ${args.join(",")}`);
        n++;
      }
    }
  }
  return n;
}

test("round trip of the nspawn default (x86_64 host): oci, docker and spo keep its three outcomes and every decision", () => {
  const p = nspawnPolicy({ abis: ["x86_64", "x86", "x32"] });
  for (const f of ["oci", "docker", "spo"] as const) {
    const back = reimport(exportPolicy(p, f).text, f, "x86_64");
    const n = sameDecisions(p, back, `nspawn → ${f}`);
    assert.ok(n > 1000);
  }
  const oci = JSON.parse(exportPolicy(p, "oci").text) as { defaultAction: string; defaultErrnoRet: number; syscalls: { names: string[]; action: string; errnoRet?: number; args?: unknown[] }[] };
  assert.equal(oci.defaultAction, "SCMP_ACT_ERRNO");
  assert.equal(oci.defaultErrnoRet, 38, "ENOSYS for unknown syscalls");
  assert.ok(oci.syscalls.some((s) => s.errnoRet === 1 && s.names.includes("kexec_load")), "EPERM for known-denied");
  const audit = oci.syscalls.find((s) => s.names.includes("socket") && s.action === "SCMP_ACT_ERRNO");
  // libseccomp (runc, crun) lets an unconditional rule override the conditional ones, or refuses the pair on i386:
  // socket's allow-list entry is written on the complement of the audit rule instead (issue #22).
  assert.ok(!oci.syscalls.some((s) => s.names.includes("socket") && s.args === undefined), "no unconditional socket entry");
  assert.ok(oci.syscalls.findIndex((s) => s.names.includes("socket") && s.action === "SCMP_ACT_ALLOW") < oci.syscalls.indexOf(audit!), "the complement before the deny");
  const args = (audit?.args ?? []) as { index: number; value: number; valueTwo?: number; op: string }[];
  const tests = (i: number, v: number): boolean => args.some((a) => a.index === i && (a.op === "SCMP_CMP_EQ" ? a.value === v : a.op === "SCMP_CMP_MASKED_EQ" && a.valueTwo === v));
  assert.ok(args.length === 2 && tests(0, 16) && tests(2, 9), `the audit rule: ${JSON.stringify(audit)}`);
  assert.equal(audit?.errnoRet, 97);
});

test("the nspawn default exported as OCI passes the OCI runtime-spec JSON Schema (vendored, Apache-2.0)", () => {
  const files = readdirSync(SCHEMA_DIR).filter((f) => f.endsWith(".json"));
  assert.ok(readFileSync(join(SCHEMA_DIR, "LICENSE"), "utf8").includes("Apache License"));
  const ajv = new Ajv({ strict: false, allErrors: true });
  for (const f of files) {
    const s = JSON.parse(readFileSync(join(SCHEMA_DIR, f), "utf8")) as Record<string, unknown>;
    delete s["$schema"]; // draft-04; the files use no draft-04-only keyword
    ajv.addSchema(s, f);
  }
  const validate = ajv.getSchema("config-schema.json")!;
  const seccomp = JSON.parse(exportPolicy(nspawnPolicy({ abis: ["x86_64", "x86", "x32"] }), "oci").text) as unknown;
  const config = { ociVersion: "1.0.2", root: { path: "rootfs" }, process: { cwd: "/", args: ["sh"], user: { uid: 0, gid: 0 } }, linux: { seccomp } };
  assert.equal(validate(config), true, JSON.stringify(validate.errors));
  // The check can fail: a wrong action string is rejected.
  const bad = { ...config, linux: { seccomp: { ...(seccomp as object), defaultAction: "SCMP_ACT_NOPE" } } };
  assert.equal(validate(bad), false);
});

const HOSTS: readonly AbiName[] = ["x86_64", "aarch64", "s390x"];
const NAMES = ["read", "write", "openat", "socket", "clone", "mmap", "ioctl", "getpid", "futex", "kill"];

const policyArbOf = (width: ArgumentWidthMode): fc.Arbitrary<Policy> => fc
  .record({
    host: fc.constantFrom(...HOSTS),
    def: fc.constantFrom("ERRNO(1)", "ERRNO(38)", "KILL_PROCESS", "ALLOW", "ERRNO(13)"),
    rules: fc.array(
      fc.record({
        syscall: fc.constantFrom(...NAMES),
        action: fc.constantFrom("ALLOW", "ERRNO(1)", "ERRNO(EACCES)", "KILL_THREAD", "TRAP", "LOG", "TRACE(7)", "ERRNO(22)"),
        args: fc.uniqueArray(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }),
        value: fc.oneof(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 0n, max: 20n }), fc.constantFrom(0xffffn, 0x10000n, 0x7fffffffn, 0xffffffffn, 1n << 32n, (1n << 64n) - 1n)),
        op: fc.constantFrom("EQ", "NE", "LT", "LE", "GT", "GE", "MASKED_EQ"),
      }),
      { maxLength: 12 },
    ),
  })
  .map(({ host, def, rules }) => {
    const abis = (host === "x86_64" ? ["x86_64", "x86", "x32"] : host === "aarch64" ? ["aarch64", "arm"] : ["s390x", "s390"]) as AbiName[];
    const rs: RuleInput[] = rules.map((r) => ({
      syscall: r.syscall,
      action: r.action,
      conditions: r.args.map((arg) => (r.op === "MASKED_EQ" ? { arg, op: r.op, mask: r.value, value: r.value & 0xff00n } : { arg, op: r.op, value: r.value })),
    }));
    return definePolicy({ default: def, unknown: def === "ALLOW" ? "ALLOW" : "ERRNO(ENOSYS)", badArch: "KILL_PROCESS", abis, rules: rs, argumentWidth: width });
  });
const policyArb = policyArbOf("u64");

test("random policies: import(export(p)) has p's decisions for oci, docker and spo (or the export says why it cannot)", () => {
  let done = 0;
  let refused = 0;
  for (const p of fc.sample(policyArb, { seed: 0xe4907, numRuns: 60 })) {
    for (const f of ["oci", "docker", "spo"] as const) {
      let text: string;
      try {
        text = exportPolicy(p, f).text;
      } catch (e) {
        assert.ok(e instanceof SyscageError && e.code === "EXPORT_UNSUPPORTED", String(e));
        assert.match(e.message, /^cannot export to \w+: /);
        refused++;
        continue;
      }
      sameDecisions(p, reimport(text, f, p.abis[0]!, "u64"), `${f} random`);
      done++;
    }
  }
  assert.ok(done > 120, `only ${done} round trips (${refused} refused)`);
});

test("kernel-width policies: import(export(p)) read as the runtimes read it (whole registers) has p's decisions, high bits included, unless the export warns", () => {
  let closed = 0;
  let open = 0;
  let refused = 0;
  for (const p of fc.sample(policyArbOf("kernel"), { seed: 0xe4908, numRuns: 60 })) {
    for (const f of ["oci", "docker", "spo"] as const) {
      let out: ReturnType<typeof exportPolicy>;
      try {
        out = exportPolicy(p, f);
      } catch (e) {
        assert.ok(e instanceof SyscageError && e.code === "EXPORT_UNSUPPORTED", String(e));
        refused++;
        continue;
      }
      // Read back by syscage (kernel widths): always the same decisions.
      sameDecisions(p, reimport(out.text, f, p.abis[0]!), `${f} kernel round trip`);
      if (out.warnings.some((w) => /cannot state exactly/.test(w))) {
        open++;
        continue;
      }
      // Read back as runc + libseccomp compare (every register bit): the same decisions too, so no high-bits bypass.
      sameDecisions(p, reimport(out.text, f, p.abis[0]!, "u64"), `${f} as the runtimes read it`);
      closed++;
    }
  }
  assert.ok(closed > 100, `only ${closed} exports closed the hole (${open} left it open, ${refused} refused)`);
  assert.ok(open > 0, "some policies cannot be closed (widths differ by ABI, or too many entries) and must say so");
});

test("closing the hole in profile terms: EQ as a low-bits MASKED_EQ, ordered operators as prefix MASKED_EQ entries; the bypass values are denied", () => {
  const p = definePolicy({
    abis: ["x86_64"],
    default: "ALLOW",
    unknown: "ALLOW",
    rules: [
      { syscall: "socket", action: "ERRNO(EAFNOSUPPORT)", conditions: [{ arg: 0, op: "EQ", value: 38 }] },
      { syscall: "dup", action: "ERRNO(EMFILE)", conditions: [{ arg: 0, op: "GE", value: 1000 }] },
      { syscall: "kill", action: "ERRNO(EPERM)", conditions: [{ arg: 1, op: "LT", value: 8 }] },
    ],
  });
  const out = exportPolicy(p, "oci");
  assert.deepEqual(out.warnings, []);
  const oci = JSON.parse(out.text) as { syscalls: { names: string[]; args?: { index: number; value: number; valueTwo?: number; op: string }[] }[] };
  const of = (n: string): { index: number; value: number; valueTwo?: number; op: string }[][] => oci.syscalls.filter((e) => e.names.includes(n)).map((e) => e.args ?? []);
  assert.deepEqual(of("socket"), [[{ index: 0, value: 0xffffffff, valueTwo: 38, op: "SCMP_CMP_MASKED_EQ" }]]);
  // kill sig < 8 on an int: sig's low 32 bits agree with 8 above bit 3, and bit 3 is clear: one entry.
  assert.deepEqual(of("kill"), [[{ index: 1, value: 0xfffffff8, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ" }]]);
  // dup fd >= 1000 (999 = 0b1111100111): one entry per clear bit of 999 below bit 32.
  assert.equal(of("dup").length, 32 - 8);
  assert.ok(of("dup").every((a) => a.length === 1 && a[0]!.op === "SCMP_CMP_MASKED_EQ"));
  const wide = reimport(out.text, "oci", "x86_64", "u64");
  const call = (name: string, args: bigint[]): string => {
    const data = { arch: getAbi("x86_64").auditArch, nr: syscallTable("x86_64").find((e) => e.name === name)!.nr, args };
    assert.equal(decide(wide, data).ret >>> 0, decide(p, data).ret >>> 0, `${name}(${args.map((a) => a.toString(16)).join(", ")})`);
    return decide(wide, data).action.kind;
  };
  assert.equal(call("socket", [(1n << 32n) | 38n]), "ERRNO", "AF_ALG with a high bit set is still denied");
  assert.equal(call("socket", [2n]), "ALLOW");
  assert.equal(call("dup", [(1n << 32n) | 5n]), "ALLOW", "fd 5 with a high bit: the kernel uses 5");
  assert.equal(call("dup", [0xffffffff00000000n | 2000n]), "ERRNO");
  assert.equal(call("dup", [999n]), "ALLOW");
  assert.equal(call("dup", [1000n]), "ERRNO");
  assert.equal(call("kill", [1n, (7n << 32n) | 9n]), "ALLOW", "signal 9 with high bits: not < 8");
  assert.equal(call("kill", [1n, (1n << 40n) | 7n]), "ERRNO");
});

test("warnings: the bypass stays open when widths differ by ABI, past the entry limit, and on u64 policies; none when the export closes it", () => {
  const mixed = definePolicy({ abis: ["x86_64", "x86"], default: "ALLOW", unknown: "ALLOW", rules: [{ syscall: "chown", action: "ERRNO(1)", conditions: [{ arg: 1, op: "EQ", value: 0 }] }] });
  for (const f of ["oci", "docker", "spo"] as const) {
    const w = exportPolicy(mixed, f).warnings;
    assert.equal(w.length, 1, w.join("\n"));
    assert.match(w[0]!, /1 rule\(s\) test arguments narrower than their register in a way a profile cannot state exactly \(e\.g\. chown arg1 keeps 32 bits on x86_64, 16 bits on x86\): .* compare whole registers/);
  }
  assert.deepEqual(exportPolicy({ ...mixed, abis: ["x86_64"] }, "oci").warnings, [], "one ABI: closed");
  const many = definePolicy({ abis: ["x86_64"], default: "ALLOW", unknown: "ALLOW", rules: [{ syscall: "kill", action: "ERRNO(1)", conditions: [{ arg: 0, op: "NE", value: 1 }, { arg: 1, op: "NE", value: 9 }] }] });
  const mw = exportPolicy(many, "oci");
  assert.match(mw.warnings.join("\n"), /kill arg\d NE would take 1024 entries \(more than 64\)/);
  assert.equal((JSON.parse(mw.text) as { syscalls: unknown[] }).syscalls.length, 1, "left as written");
  const wide = { ...nspawnPolicy({ abis: ["x86_64"] }), argumentWidth: "u64" as const };
  assert.match(exportPolicy(wide, "docker").warnings.join("\n"), /compares whole registers \(argumentWidth "u64"\), and so do Docker .*e\.g\. socket arg0, family \(int\).*--argument-width kernel/);
  assert.deepEqual(exportPolicy(nspawnPolicy({ abis: ["x86_64", "x86", "x32"] }), "oci").warnings, [], "the nspawn default: its audit rule is closed");
});

test("SPO limits: values above 2^63-1, TRAP data and architectures SPO lacks are errors naming the rule", () => {
  const big = definePolicy({ default: "ERRNO(1)", abis: ["x86_64"], rules: [{ syscall: "ioctl", action: "ALLOW", conditions: [{ arg: 2, op: "EQ", value: 1n << 63n }] }] });
  assert.throws(() => exportPolicy(big, "spo"), /cannot export to spo: the rule for ioctl .*argument 2 value 9223372036854775808 is above 2\^63-1/);
  assert.doesNotThrow(() => exportPolicy(big, "oci"));
  const trap = definePolicy({ default: "ERRNO(1)", abis: ["x86_64"], rules: [{ syscall: "read", action: "TRAP(5)" }] });
  assert.throws(() => exportPolicy(trap, "oci"), /rule #1 \(read → TRAP\(5\).*profiles have no TRAP data/);
  const loong = definePolicy({ default: "ERRNO(1)", abis: ["loongarch64"], rules: [{ syscall: "read", action: "ALLOW" }] });
  assert.throws(() => exportPolicy(loong, "spo"), /architecture SCMP_ARCH_LOONGARCH64: the SeccompProfile CRD accepts only/);
  const spo = parseYaml(exportPolicy(definePolicy({ default: "ERRNO(1)", abis: ["x86_64"], rules: [{ syscall: "read", action: "ALLOW" }] }), "spo", { name: "web" }).text) as Record<string, unknown>;
  assert.equal(spo["apiVersion"], "security-profiles-operator.x-k8s.io/v1");
  assert.equal(spo["kind"], "SeccompProfile");
  assert.deepEqual(spo["metadata"], { name: "web" });
  assert.equal((spo["spec"] as Record<string, unknown>)["defaultErrnoRet"], undefined);
  const sameArg = definePolicy({ default: "ERRNO(1)", abis: ["x86_64"], rules: [{ syscall: "dup", action: "ALLOW", conditions: [{ arg: 0, op: "GE", value: 3 }, { arg: 0, op: "LE", value: 9 }] }] });
  assert.throws(() => exportPolicy(sameArg, "oci"), /two conditions on argument 0.*OR to runc and crun/);
});

test("x32 and constants above 32 bits: a warning naming the rule, as libseccomp 2.5.4 (runc, crun) compares only the low word there (issue #22)", () => {
  const rules = [{ syscall: "lseek", action: "ERRNO(E2BIG)", conditions: [{ arg: 1, op: "GE", value: 0x100000000n }] }];
  const withX32 = exportPolicy(definePolicy({ default: "ALLOW", unknown: "ALLOW", abis: ["x86_64", "x32"], rules }), "oci");
  const w = withX32.warnings.filter((m) => /x32/.test(m));
  assert.equal(w.length, 1, withX32.warnings.join("\n"));
  assert.match(w[0]!, /1 condition\(s\) compare bits above the low 32 on x32 \(e\.g\. rule #1 \(lseek → ERRNO\(E2BIG\).*arg1 GE 0x100000000\);.*only the low 32 bits on x32/);
  assert.deepEqual(exportPolicy(definePolicy({ default: "ALLOW", unknown: "ALLOW", abis: ["x86_64"], rules }), "oci").warnings.filter((m) => /x32/.test(m)), []);
});

test("systemd: allow lists, deny lists, and the reasons when it cannot", () => {
  const allow = definePolicy({ default: "ERRNO(EPERM)", unknown: "ERRNO(ENOSYS)", abis: ["x86_64", "x86"], rules: [{ syscall: ["read", "write"], action: "ALLOW" }] });
  // systemd adds @default to every allow list: its members are taken out again (~getpid …).
  const lines = exportPolicy(allow, "systemd").text.split("\n");
  assert.equal(lines[0], "SystemCallFilter=read write");
  assert.match(lines[1]!, /^SystemCallFilter=~.*\bgetpid\b/);
  assert.deepEqual(lines.slice(2), ["SystemCallErrorNumber=EPERM", "SystemCallArchitectures=x86-64 x86", ""]);
  const deny = definePolicy({ default: "ALLOW", unknown: "ALLOW", abis: ["x86_64"], rules: [{ syscall: ["mount", "umount2"], action: "ERRNO(EACCES)" }] });
  assert.equal(exportPolicy(deny, "systemd").text, "SystemCallFilter=~mount umount2\nSystemCallErrorNumber=EACCES\nSystemCallArchitectures=x86-64\n");
  assert.throws(() => exportPolicy(nspawnPolicy({ abis: ["x86_64"] }), "systemd"), /cannot export to systemd: rule #1 \(socket .*SystemCallFilter= cannot test syscall arguments; --approximate/);
  // Two deny actions: one is SystemCallErrorNumber=, the other a name:ERRNO entry.
  const two = definePolicy({ default: "ALLOW", unknown: "ALLOW", abis: ["x86_64"], rules: [{ syscall: "mount", action: "ERRNO(1)" }, { syscall: "kill", action: "ERRNO(13)" }] });
  assert.match(exportPolicy(two, "systemd").text, /^SystemCallFilter=~(kill mount:1\nSystemCallErrorNumber=13|mount kill:13\nSystemCallErrorNumber=1)\n/);
  const trap = definePolicy({ default: "ALLOW", unknown: "ALLOW", abis: ["x86_64"], rules: [{ syscall: "mount", action: "TRAP" }] });
  assert.throws(() => exportPolicy(trap, "systemd"), /syscall mount: TRAP\(0\): systemd's filters deny only with an errno/);
  assert.throws(() => exportPolicy({ ...deny, unknown: { action: { kind: "KILL_PROCESS" }, origin: "x" } }, "systemd"), /unknown action KILL_PROCESS: a deny-list/);
});
