/**
 * The profile importer (src/policy/oci.ts): moby's include/exclude rules,
 * archMap expansion, Podman's errno names, runc's action defaults and rule
 * splitting, exact u64 values, whole config.json, and validation — a corpus
 * of broken profiles, each a one-line error with line and JSON path — and a
 * fuzz run (arbitrary JSON: a SyscageError or a policy, nothing else).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { SyscageError } from "../src/errors.js";
import { decide } from "../src/policy/evaluate.js";
import { getAbi, syscallNumber } from "../src/abi/index.js";
import { parseProfile, type ProfileConditions } from "../src/policy/oci.js";

const X86: ProfileConditions = { hostArch: "x86_64", kernel: "6.1.0-18-amd64" };
const imp = (p: unknown, c: ProfileConditions = X86) => parseProfile(typeof p === "string" ? p : JSON.stringify(p, null, 2), "p.json", c);
const call = (policy: ReturnType<typeof imp>["policy"], abi: "x86_64" | "aarch64" | "x86", name: string, args: bigint[] = []) =>
  decide(policy, { arch: getAbi(abi).auditArch, nr: syscallNumber(abi, name)!, args });

test("moby's includes/excludes: caps (includes ALL, excludes ANY), arches, minKernel against the condition inputs", () => {
  const profile = {
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [
      { names: ["ptrace"], action: "SCMP_ACT_ALLOW", includes: { minKernel: "4.8" } },
      { names: ["syslog"], action: "SCMP_ACT_ALLOW", includes: { caps: ["CAP_SYSLOG", "CAP_SYS_ADMIN"] } },
      { names: ["mount"], action: "SCMP_ACT_ALLOW", excludes: { caps: ["CAP_SYS_ADMIN", "CAP_NET_ADMIN"] } },
      { names: ["arch_prctl"], action: "SCMP_ACT_ALLOW", includes: { arches: ["amd64", "x32"] } },
      { names: ["getpid"], action: "SCMP_ACT_ALLOW", excludes: { arches: ["arm64"] } },
      { names: ["umount2"], action: "SCMP_ACT_ALLOW", excludes: { minKernel: "5.0" } },
    ],
  };
  const allow = (r: ReturnType<typeof imp>, abi: "x86_64" | "aarch64", n: string) => call(r.policy, abi, n).action.kind === "ALLOW";
  const a = imp(profile);
  assert.equal(allow(a, "x86_64", "ptrace"), true);
  assert.equal(allow(a, "x86_64", "syslog"), false, "includes.caps needs ALL listed caps");
  assert.equal(allow(a, "x86_64", "mount"), true, "no excluded cap held");
  assert.equal(allow(a, "x86_64", "arch_prctl"), true);
  assert.equal(allow(a, "x86_64", "getpid"), true);
  assert.equal(allow(a, "x86_64", "umount2"), false, "kernel 6.1 >= 5.0 excludes");
  const b = imp(profile, { hostArch: "arm64", kernel: "4.4.0-210-generic", capabilities: ["CAP_SYSLOG", "CAP_SYS_ADMIN"] });
  assert.deepEqual(b.policy.abis, ["aarch64"]);
  assert.equal(allow(b, "aarch64", "ptrace"), false, "4.4 < 4.8");
  assert.equal(allow(b, "aarch64", "syslog"), true);
  assert.equal(allow(b, "aarch64", "mount"), false, "CAP_SYS_ADMIN held: excluded");
  assert.equal(allow(b, "aarch64", "getpid"), false, "excluded on arm64");
  assert.equal(allow(b, "aarch64", "umount2"), true);
  assert.equal(b.stats.dropped, 4, "ptrace, mount, arch_prctl, getpid");
});

test("archMap: expanded for the host (first match), both loongarch spellings; architectures and archMap together is an error", () => {
  const map = { defaultAction: "SCMP_ACT_ERRNO", archMap: [{ architecture: "SCMP_ARCH_X86_64", subArchitectures: ["SCMP_ARCH_X86", "SCMP_ARCH_X32"] }, { architecture: "SCMP_ARCH_AARCH64", subArchitectures: ["SCMP_ARCH_ARM"] }] };
  assert.deepEqual(imp(map).policy.abis, ["x86_64", "x86", "x32"]);
  assert.deepEqual(imp(map, { hostArch: "aarch64", kernel: "6.1" }).policy.abis, ["aarch64", "arm"]);
  assert.deepEqual(imp(map, { hostArch: "s390x", kernel: "6.1" }).policy.abis, ["s390x"], "no entry: only the native ABI");
  const loong = { defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["getpid"], action: "SCMP_ACT_ALLOW", includes: { arches: ["loong64"] } }, { names: ["getppid"], action: "SCMP_ACT_ALLOW", includes: { arches: ["loongarch64"] } }] };
  const l = imp(loong, { hostArch: "loong64", kernel: "6.1" });
  assert.equal(l.policy.rules.length, 2);
  const nonLocal = imp({ defaultAction: "SCMP_ACT_ERRNO", architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"] });
  assert.deepEqual(nonLocal.policy.abis, ["x86_64"]);
  assert.match(nonLocal.warnings.join("\n"), /SCMP_ARCH_AARCH64 cannot run on a x86_64 host/);
});

test("actions as runc maps them: KILL = KILL_THREAD, ERRNO/TRACE default EPERM, Podman's errno names win, rules equal to the default skipped", () => {
  const r = imp({
    defaultAction: "SCMP_ACT_ERRNO",
    defaultErrnoRet: 38,
    defaultErrno: "EPERM",
    syscalls: [
      { names: ["getpid"], action: "SCMP_ACT_KILL" },
      { names: ["getppid"], action: "SCMP_ACT_ERRNO" },
      { names: ["getuid"], action: "SCMP_ACT_TRACE" },
      { names: ["getgid"], action: "SCMP_ACT_ERRNO", errno: "EACCES", errnoRet: 13 },
      { names: ["gettid"], action: "SCMP_ACT_ERRNO", errnoRet: 1 },
    ],
  });
  assert.deepEqual(r.policy.default.action, { kind: "ERRNO", errno: "EPERM" }, "defaultErrno wins over defaultErrnoRet");
  assert.ok(r.warnings.some((w) => /defaultErrnoRet 38 differs/.test(w)));
  assert.equal(call(r.policy, "x86_64", "getpid").action.kind, "KILL_THREAD");
  assert.equal(call(r.policy, "x86_64", "getppid").reason, "default", "ERRNO(EPERM) equals the default: skipped");
  assert.deepEqual(call(r.policy, "x86_64", "getuid").action, { kind: "TRACE", data: 1 });
  assert.equal(call(r.policy, "x86_64", "getgid").ret, 0x5000d);
  assert.equal(r.stats.sameAsDefault, 2);
  // Unknown numbers: ENOSYS for a denying default, the default for a permissive one.
  assert.deepEqual(r.policy.unknown.action, { kind: "ERRNO", errno: "ENOSYS" });
  assert.equal(imp({ defaultAction: "SCMP_ACT_ALLOW" }).policy.unknown.action.kind, "ALLOW");
});

test("conditions: exact u64 values above 2^53, MASKED_EQ's value/valueTwo, several on one argument become one rule each (OR)", () => {
  const text = `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
    {"names": ["dup"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 18446744073709551615, "op": "SCMP_CMP_EQ"}]},
    {"names": ["dup2"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
    {"names": ["dup3"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 5, "op": "SCMP_CMP_LT"}, {"index": 0, "value": 9, "op": "SCMP_CMP_GT"}]}
  ]}`;
  const r = imp(text);
  assert.equal(r.policy.rules[0]!.conditions[0]!.value, (1n << 64n) - 1n);
  assert.deepEqual(r.policy.rules[1]!.conditions[0], { arg: 1, op: "MASKED_EQ", mask: 2114060288n, value: 0n });
  assert.equal(r.policy.rules.filter((x) => x.syscall === "dup3").length, 2);
  assert.equal(r.stats.split, 1);
  assert.equal(call(r.policy, "x86_64", "dup3", [3n]).action.kind, "ERRNO", "3 < 5");
  assert.equal(call(r.policy, "x86_64", "dup3", [7n]).action.kind, "ALLOW", "neither");
  assert.equal(call(r.policy, "x86_64", "dup3", [10n]).action.kind, "ERRNO", "10 > 9");
});

test("MASKED_EQ with valueTwo outside the mask: compared as runc and crun (libseccomp) do, (arg & mask) == (valueTwo & mask), with a warning naming the entry (libseccomp test 12)", () => {
  const text = `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
    {"names": ["dup"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 65280, "valueTwo": 1000, "op": "SCMP_CMP_MASKED_EQ"}]}
  ]}`;
  const r = imp(text);
  assert.deepEqual(r.policy.rules[0]!.conditions[0], { arg: 0, op: "MASKED_EQ", mask: 0xff00n, value: 0x300n });
  for (const v of [0x300n, 0x3e8n, 0x3ffn]) assert.equal(call(r.policy, "x86_64", "dup", [v]).action.kind, "ERRNO", `0x${v.toString(16)} is denied, as under runc`);
  for (const v of [0x2ffn, 0x400n]) assert.equal(call(r.policy, "x86_64", "dup", [v]).action.kind, "ALLOW");
  assert.equal(r.warnings.length, 1, r.warnings.join("\n"));
  assert.match(r.warnings[0]!, /syscalls\[0\]\.args\[0\]\.valueTwo: SCMP_CMP_MASKED_EQ: valueTwo 0x3e8 has bits outside the mask 0xff00; .* arg0 & 0xff00 == 0x300/);
});

test("a whole OCI config.json is accepted; listenerPath/Metadata, flags and NOTIFY carried through", () => {
  const r = imp({
    ociVersion: "1.0.2",
    process: {},
    linux: {
      seccomp: {
        defaultAction: "SCMP_ACT_ALLOW",
        flags: ["SECCOMP_FILTER_FLAG_LOG"],
        listenerPath: "/run/agent.sock",
        listenerMetadata: "meta",
        syscalls: [{ names: ["mount"], action: "SCMP_ACT_NOTIFY" }],
      },
    },
  });
  assert.deepEqual(r.policy.listener, { path: "/run/agent.sock", metadata: "meta" });
  assert.deepEqual(r.policy.flags, ["LOG", "NEW_LISTENER"]);
  assert.equal(call(r.policy, "x86_64", "mount").action.kind, "NOTIFY");
  assert.throws(() => imp({ ociVersion: "1.0.2", linux: {} }), /has no "linux.seccomp"/);
  assert.throws(() => imp({ linux: { seccomp: { defaultAction: "SCMP_ACT_NOPE" } } }), /p\.json:\d+: linux\.seccomp\.defaultAction: "SCMP_ACT_NOPE" is not allowed/);
});

test("warnings: unknown fields, unknown syscall names, unknown arch names (never errors)", () => {
  const r = imp({ defaultAction: "SCMP_ACT_ERRNO", extra: 1, syscalls: [{ names: ["getpid", "no_such_call", "breakpoint"], action: "SCMP_ACT_ALLOW", nmae: "x", includes: { arches: ["amd64", "amd46"] } }] });
  const w = r.warnings.join("\n");
  assert.match(w, /p\.json:3: \(top level\): unknown field "extra"/);
  assert.match(w, /syscalls\[0\]: unknown field "nmae".*Did you mean "name"/);
  assert.match(w, /syscalls\[0\]\.names\[1\]: unknown syscall "no_such_call"/);
  assert.match(w, /unknown architecture "amd46"/);
  assert.deepEqual(r.stats.unknownNames, ["no_such_call"]);
});

/** Broken profiles: each a one-line SyscageError with file:line: JSON path. */
const CORPUS: readonly [string, unknown, RegExp][] = [
  ["wrong type", { defaultAction: 1 }, /^p\.json:2: defaultAction: /],
  ["unknown action", { defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["read"], action: "SCMP_ACT_PERMIT" }] }, /syscalls\[0\]\.action: "SCMP_ACT_PERMIT" is not allowed/],
  ["unknown operator", { defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW" }, { names: ["read"], action: "SCMP_ACT_ALLOW" }, { names: ["read"], action: "SCMP_ACT_ALLOW" }, { names: ["read"], action: "SCMP_ACT_ALLOW" }, { names: ["read"], action: "SCMP_ACT_ALLOW" }, { names: ["read"], action: "SCMP_ACT_ALLOW" }, { names: ["read"], action: "SCMP_ACT_ALLOW" }, { names: ["read"], action: "SCMP_ACT_ALLOW" }, { names: ["read"], action: "SCMP_ACT_ALLOW" }, { names: ["read"], action: "SCMP_ACT_ALLOW" }, { names: ["read"], action: "SCMP_ACT_ALLOW" }, { names: ["read"], action: "SCMP_ACT_ALLOW" }, { names: ["read"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 1, op: "SCMP_CMP_EQUAL" }] }] }, /syscalls\[12\]\.args\[0\]\.op: "SCMP_CMP_EQUAL" is not allowed\. Did you mean "SCMP_CMP_EQ"/],
  ["name and names", { defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ name: "read", names: ["write"], action: "SCMP_ACT_ALLOW" }] }, /syscalls\[0\]: "name" and "names" are both set/],
  ["archMap and architectures", { defaultAction: "SCMP_ACT_ERRNO", architectures: ["SCMP_ARCH_X86_64"], archMap: [{ architecture: "SCMP_ARCH_X86_64", subArchitectures: null }] }, /archMap: "architectures" and "archMap" are both set/],
  ["errno out of range", { defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["read"], action: "SCMP_ACT_ERRNO", errnoRet: 5000 }] }, /syscalls\[0\]\.errnoRet: errno 5000 is out of range 0\.\.4095/],
  ["argument index 6", { defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW", args: [{ index: 6, value: 0, op: "SCMP_CMP_EQ" }] }] }, /syscalls\[0\]\.args\[0\]\.index: must be <= 5 \(argument indexes are 0\.\.5\)/],
  ["value above 2^64", `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 18446744073709551616, "op": "SCMP_CMP_EQ"}]}]}`, /args\[0\]\.value: 18446744073709551616 does not fit in 64 bits/],
  ["negative value", { defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: -1, op: "SCMP_CMP_EQ" }] }] }, /args\[0\]\.value: must be >= 0/],
  ["bad minKernel", { defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW", includes: { minKernel: "4.8.1" } }] }, /includes\.minKernel: invalid kernel version "4\.8\.1"/],
  ["minKernel 0.0", { defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW", excludes: { minKernel: "0.0" } }] }, /excludes\.minKernel: invalid kernel version "0\.0"/],
  ["errnoRet on ALLOW", { defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW", errnoRet: 1 }] }, /syscalls\[0\]\.errnoRet: errnoRet is only valid with SCMP_ACT_ERRNO and SCMP_ACT_TRACE/],
  ["unknown errno name", { defaultAction: "SCMP_ACT_ERRNO", defaultErrno: "EWHAT" }, /defaultErrno: unknown errno "EWHAT"/],
  ["no names", { defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: [], action: "SCMP_ACT_ALLOW" }] }, /syscalls\[0\]: names no syscall/],
  ["missing defaultAction", { syscalls: [] }, /\(top level\): missing field "defaultAction"/],
  ["unknown arch", { defaultAction: "SCMP_ACT_ERRNO", architectures: ["SCMP_ARCH_Z80"] }, /architectures\[0\]: "SCMP_ARCH_Z80" is not allowed/],
  ["bad flag", { defaultAction: "SCMP_ACT_ERRNO", flags: ["SECCOMP_FILTER_FLAG_NEW_LISTENER"] }, /flags\[0\]: "SECCOMP_FILTER_FLAG_NEW_LISTENER" is not allowed/],
  ["metadata without path", { defaultAction: "SCMP_ACT_ERRNO", listenerMetadata: "x" }, /listenerMetadata: listenerMetadata must not be set without listenerPath/],
  ["duplicate field", `{"defaultAction": "SCMP_ACT_ERRNO", "defaultAction": "SCMP_ACT_ALLOW"}`, /field "defaultAction" is given twice/],
  ["syntax", `{"defaultAction": "SCMP_ACT_ERRNO",}`, /^p\.json:1:\d+: syntax error: trailing comma/],
  ["not an object", `[1, 2]`, /a seccomp profile is a JSON object/],
  ["empty", ``, /the file is empty/],
];

for (const [what, input, re] of CORPUS) {
  test(`bad input: ${what} → one-line error with the JSON path`, () => {
    assert.throws(
      () => imp(input),
      (e: unknown) => {
        assert.ok(e instanceof SyscageError, `not a SyscageError: ${String(e)}`);
        assert.ok(!e.message.includes("\n"), `multi-line message: ${e.message}`);
        assert.match(e.message, /^p\.json:\d+/);
        assert.match(e.message, re);
        return true;
      },
    );
  });
}

/** Mostly the given values, sometimes arbitrary JSON. */
const mostly = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.oneof({ arbitrary: a, weight: 12 }, { arbitrary: fc.jsonValue(), weight: 1 });

test("fuzz: arbitrary JSON and profile-shaped JSON give a policy or a SyscageError, never anything else", () => {
  const shaped = fc.record(
    {
      defaultAction: mostly(fc.constantFrom("SCMP_ACT_ERRNO", "SCMP_ACT_ALLOW", "SCMP_ACT_KILL")),
      defaultErrnoRet: mostly(fc.integer({ min: -1, max: 5000 })),
      defaultErrno: mostly(fc.constantFrom("EPERM", "ENOSYS", "17", "bogus")),
      archMap: mostly(fc.constant([{ architecture: "SCMP_ARCH_X86_64", subArchitectures: ["SCMP_ARCH_X86"] }])),
      syscalls: fc.array(
        fc.record(
          {
            names: mostly(fc.array(fc.constantFrom("read", "write", "nope", "socket"), { minLength: 1 })),
            action: mostly(fc.constantFrom("SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_NOTIFY")),
            errnoRet: mostly(fc.integer({ min: -5, max: 70000 })),
            errno: mostly(fc.constantFrom("EPERM", "99999", "x")),
            args: mostly(fc.array(fc.record({ index: fc.integer({ min: -1, max: 7 }), value: fc.oneof(fc.integer(), fc.double(), fc.jsonValue()), valueTwo: fc.integer(), op: fc.constantFrom("SCMP_CMP_EQ", "SCMP_CMP_MASKED_EQ", "EQ") }, { requiredKeys: [] }))),
            includes: mostly(fc.record({ caps: fc.array(fc.constantFrom("CAP_KILL", "cap_chown", "bogus")), arches: fc.array(fc.string()), minKernel: fc.constantFrom("4.8", "", "x") }, { requiredKeys: [] })),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 4 },
      ),
    },
    { requiredKeys: [] },
  );
  let ok = 0;
  let errors = 0;
  fc.assert(
    fc.property(fc.oneof(fc.jsonValue(), shaped), fc.constantFrom("x86_64", "aarch64", "s390x"), (v, host) => {
      try {
        imp(JSON.stringify(v) ?? "null", { hostArch: host, kernel: "5.10" });
        ok++;
      } catch (e) {
        if (!(e instanceof SyscageError)) throw e;
        assert.ok(!e.message.includes("\n"));
        errors++;
      }
    }),
    { numRuns: 1500, seed: 0xf022 },
  );
  assert.ok(ok > 20 && errors > 100, `ok ${ok}, errors ${errors}`);
});
