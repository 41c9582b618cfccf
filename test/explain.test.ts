/**
 * `explain` (src/analyze/explain.ts, `syscage explain`): test vectors for
 * nspawn's default and its options (a deny list over a group, capability
 * gates, the audit rule with arguments, syscalls newer than @known, numbers
 * unknown to the tables, a syscall an ABI lacks), a unit policy, Docker's
 * default profile (the excludes/includes story), and the win reasons.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { readFileSync } from "node:fs";
import { syscallNumber } from "../src/abi/tables.js";
import { explain, formatArg, profileEntries, type AbiExplanation } from "../src/analyze/explain.js";
import { definePolicy } from "../src/policy/model.js";
import { nspawnPolicy, type NspawnOptions } from "../src/policy/nspawn.js";
import { DOCKER_DEFAULT_CAPABILITIES, readProfileFile } from "../src/policy/oci.js";
import { buildUnitPolicy } from "../src/policy/systemd-unit.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const DOCKER = "/work/shared/data/profiles/docker-default.json";

function nspawn(opts: NspawnOptions, syscall: string | number, args: bigint[] = [], abi: "x86_64" | "x86" | "aarch64" = "x86_64"): AbiExplanation {
  const o = { abis: [abi] as const, ...opts };
  const x = explain(nspawnPolicy({ ...o, abis: [abi] }), { syscall, args }, { nspawn: { ...o, abis: [abi] } });
  assert.equal(x.abis.length, 1);
  return x.abis[0]!;
}

describe("explain: nspawn default and options", () => {
  test("a deny list over a single name: in @file-system, but removed by ~mkdir", () => {
    const e = nspawn({ systemCallFilter: ["~mkdir"] }, "mkdir");
    assert.equal(e.summary, "mkdir → ERRNO(EPERM): in @file-system (nspawn allow list), but removed by --system-call-filter=~mkdir (deny lists take precedence)");
    assert.equal(e.action, "ERRNO(EPERM)");
    assert.equal(e.ret, 0x00050001);
    assert.equal(e.reason, "rule");
    assert.equal(e.won, "only match");
    assert.equal(e.chain.length, 1);
  });

  test("a deny list over a group removes every member, and names the group", () => {
    for (const name of ["mkdir", "openat", "rename"]) {
      const e = nspawn({ systemCallFilter: ["~@file-system"] }, name);
      assert.equal(e.action, "ERRNO(EPERM)", name);
      assert.match(e.summary, /removed by --system-call-filter=~@file-system \(deny lists take precedence\)$/, name);
    }
    // read is in @basic-io, not in @file-system: untouched.
    assert.equal(nspawn({ systemCallFilter: ["~@file-system"] }, "read").action, "ALLOW");
  });

  test("an explicitly allowed name stays allowed when its group is denied", () => {
    const e = nspawn({ systemCallFilter: ["~@clock", "settimeofday"] }, "settimeofday");
    assert.equal(e.action, "ALLOW");
    assert.equal(e.summary, "settimeofday → ALLOW: allowed by --system-call-filter=settimeofday");
  });

  test("a capability gate: reboot needs CAP_SYS_BOOT (retained by default, or dropped)", () => {
    const kept = nspawn({}, "reboot");
    assert.equal(kept.summary, "reboot → ALLOW: gated by CAP_SYS_BOOT (retained)");
    const dropped = nspawn({ dropCapability: ["CAP_SYS_BOOT"] }, "reboot");
    assert.equal(
      dropped.summary,
      "reboot → ERRNO(EPERM): not allowed, in @known; the row `reboot` of nspawn's allow list needs CAP_SYS_BOOT, which is not retained",
    );
  });

  test("a gated group: @clock needs CAP_SYS_TIME, which nspawn does not retain by default", () => {
    const e = nspawn({}, "settimeofday");
    assert.equal(e.action, "ERRNO(EPERM)");
    assert.match(e.summary, /the row `@clock` of nspawn's allow list needs CAP_SYS_TIME, which is not retained/);
    const added = nspawn({ capability: ["CAP_SYS_TIME"] }, "settimeofday");
    assert.equal(added.summary, "settimeofday → ALLOW: gated by CAP_SYS_TIME (retained), in @clock");
  });

  test("the audit rule with arguments beats the allow list; other arguments fail its conditions", () => {
    const audit = nspawn({}, "socket", [16n, 3n, 9n]);
    assert.equal(audit.action, "ERRNO(EAFNOSUPPORT)");
    assert.equal(audit.won, "most restrictive");
    assert.match(audit.summary, /^socket\(16, 3, 9\) → ERRNO\(EAFNOSUPPORT\): nspawn audit rule: socket\(AF_NETLINK, \*, NETLINK_AUDIT\) \(the most restrictive of 2 matching rules\)$/);
    assert.deepEqual(audit.chain.map((s) => [s.matched, s.won]), [[true, true], [true, false]]);
    assert.ok(audit.notes.some((n) => n.includes("in @network-io")), audit.notes.join("\n"));

    const inet = nspawn({}, "socket", [2n, 1n, 0n]);
    assert.equal(inet.action, "ALLOW");
    assert.equal(inet.summary, "socket(2, 1) → ALLOW: in @network-io (nspawn allow list)");
    const rule = inet.chain.find((s) => s.conditions.length > 0)!;
    assert.equal(rule.matched, false);
    assert.equal(rule.failed, "arg0 == 16 (arg0 = 2; family is an int: the low 32 bits are compared)");

    // NETLINK_ROUTE (0) is not the audit protocol: the second condition fails.
    const route = nspawn({}, "socket", [16n, 3n, 0n]);
    assert.equal(route.action, "ALLOW");
    assert.equal(route.chain[0]!.failed, "arg2 == 9 (arg2 = 0; protocol is an int: the low 32 bits are compared)");
    // The high word does not matter (socket() takes ints).
    assert.equal(nspawn({}, "socket", [16n | (1n << 32n), 3n, 9n]).action, "ERRNO(EAFNOSUPPORT)");
  });

  test("a syscall newer than systemd's @known → ENOSYS with the reason", () => {
    const e = nspawn({}, "rseq_slice_yield");
    assert.equal(e.action, "ERRNO(ENOSYS)");
    assert.equal(e.reason, "default");
    assert.match(e.summary, /^rseq_slice_yield → ERRNO\(ENOSYS\): not in systemd v\d+'s @known \(newer than systemd's list\)/);
  });

  test("a number the tables do not name → ENOSYS (unknown action)", () => {
    const e = nspawn({}, 1000);
    assert.equal(e.action, "ERRNO(ENOSYS)");
    assert.equal(e.reason, "unknown");
    assert.equal(e.syscall, undefined);
    assert.match(e.summary, /^nr 1000 → ERRNO\(ENOSYS\): syscall number unknown to syscage's tables/);
  });

  test("a number the tables name is explained under its name", () => {
    const e = nspawn({}, syscallNumber("x86_64", "mkdir")!);
    assert.equal(e.syscall, "mkdir");
    assert.equal(e.action, "ALLOW");
  });

  test("a syscall the ABI lacks is explained as such", () => {
    const e = nspawn({}, "open", [], "aarch64");
    assert.equal(e.exists, false);
    assert.equal(e.reason, "missing");
    assert.match(e.summary, /^open does not exist on aarch64 \(it exists on /);
    assert.equal(e.action, undefined);
  });

  test("per ABI: each covered ABI gets its own number and decision; --arch-like restriction to one", () => {
    const p = nspawnPolicy({ abis: ["x86_64", "x86", "x32"] });
    const x = explain(p, { syscall: "mkdir" }, { nspawn: { abis: ["x86_64", "x86", "x32"] } });
    assert.deepEqual(x.abis.map((a) => [a.abi, a.nr]), [["x86_64", 83], ["x86", 39], ["x32", 0x40000000 + 83]]);
    const one = explain(p, { syscall: "mkdir", abi: "x86" });
    assert.deepEqual(one.abis.map((a) => a.abi), ["x86"]);
    assert.throws(() => explain(p, { syscall: "mkdir", abi: "aarch64" }), /does not cover aarch64/);
  });

  test("an unknown syscall name is an error with suggestions", () => {
    assert.throws(() => explain(nspawnPolicy({ abis: ["x86_64"] }), { syscall: "mkdirr" }), (e: Error) => /unknown syscall "mkdirr".*mkdir/.test(e.message));
  });
});

describe("explain: a unit policy", () => {
  const where = "-p";
  test("SystemCallFilter=@system-service: mount is not allowed (KILL_PROCESS without SystemCallErrorNumber=)", () => {
    const { policy } = buildUnitPolicy([{ key: "SystemCallFilter", value: "@system-service", where }], { abis: ["x86_64"] });
    const e = explain(policy, { syscall: "mount" }).abis[0]!;
    assert.equal(e.action, "KILL_PROCESS");
    assert.match(e.summary, /^mount → KILL_PROCESS: not allowed by SystemCallFilter=/);
    assert.equal(explain(policy, { syscall: "read" }).abis[0]!.action, "ALLOW");
  });

  test("a deny list over a group with an errno", () => {
    const { policy } = buildUnitPolicy(
      [
        { key: "SystemCallFilter", value: "~@mount", where },
        { key: "SystemCallErrorNumber", value: "EACCES", where },
      ],
      { abis: ["x86_64"] },
    );
    const e = explain(policy, { syscall: "umount2" }).abis[0]!;
    assert.equal(e.action, "ERRNO(EACCES)");
    assert.match(e.summary, /SystemCallFilter=~@mount/);
    assert.equal(explain(policy, { syscall: "mkdir" }).abis[0]!.action, "ALLOW");
  });
});

describe("explain: rule precedence", () => {
  const policy = definePolicy({
    abis: ["x86_64"],
    default: "ALLOW",
    rules: [
      { syscall: "dup", action: "ERRNO(1)", origin: "first" },
      { syscall: "dup", action: "ERRNO(13)", origin: "second" },
      { syscall: "dup", action: "KILL_PROCESS", conditions: [{ arg: 0, op: "GT", value: 100 }], origin: "kill" },
    ],
  });
  test("same kind: the first in policy order wins", () => {
    const e = explain(policy, { syscall: "dup", args: [5n] }).abis[0]!;
    assert.equal(e.rule, 0);
    assert.equal(e.won, "first of its kind");
    assert.equal(e.action, "ERRNO(EPERM)");
    assert.equal(e.chain[2]!.failed, "arg0 > 100 (arg0 = 5; fildes is an unsigned int: the low 32 bits are compared)");
    assert.match(e.summary, /first in policy order of the most restrictive kind, of 2 matching rules/);
  });
  test("a more restrictive kind wins over the ERRNO rules", () => {
    const e = explain(policy, { syscall: "dup", args: [101n] }).abis[0]!;
    assert.equal(e.rule, 2);
    assert.equal(e.won, "most restrictive");
    assert.equal(e.action, "KILL_PROCESS");
  });
  test("no rule: the default action", () => {
    const e = explain(policy, { syscall: "read" }).abis[0]!;
    assert.equal(e.reason, "default");
    assert.equal(e.chain.length, 0);
  });
  test("formatArg: small decimal, hex, negative near 2^64", () => {
    assert.deepEqual([formatArg(9n), formatArg(0x7e020000n), formatArg((1n << 64n) - 100n)], ["9", "0x7e020000", "-100"]);
  });
});

describe("explain: Docker's default profile", () => {
  const text = readFileSync(DOCKER, "utf8");
  const entries = profileEntries(text);
  const load = (caps: readonly string[]) => readProfileFile(DOCKER, { capabilities: caps, kernel: "6.8", hostArch: "x86_64" }).policy;

  test("profile entries carry their includes/excludes", () => {
    const clone3 = entries.filter((e) => e.names.includes("clone3"));
    assert.ok(clone3.some((e) => e.gates.includes("excluded when CAP_SYS_ADMIN is held")));
    assert.ok(clone3.some((e) => e.gates.includes("needs CAP_SYS_ADMIN")));
  });

  test("clone3 → ERRNO(ENOSYS): the rule excluded when CAP_SYS_ADMIN is held", () => {
    const policy = load(DOCKER_DEFAULT_CAPABILITIES);
    const e = explain(policy, { syscall: "clone3", abi: "x86_64" }, { profile: { source: DOCKER, entries, capabilities: DOCKER_DEFAULT_CAPABILITIES } }).abis[0]!;
    assert.equal(e.action, "ERRNO(ENOSYS)");
    assert.match(e.summary, /^clone3 → ERRNO\(ENOSYS\): profile rule .*docker-default\.json syscalls\[\d+\], excluded when CAP_SYS_ADMIN is held \(CAP_SYS_ADMIN not held\)$/);
    assert.ok(e.notes.some((n) => /not applied: needs CAP_SYS_ADMIN \(CAP_SYS_ADMIN not held\)/.test(n)), e.notes.join("\n"));
  });

  test("with CAP_SYS_ADMIN, clone3 and mount are allowed by the includes rule", () => {
    const caps = [...DOCKER_DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN"];
    const policy = load(caps);
    const ctx = { profile: { source: DOCKER, entries, capabilities: caps } };
    const clone3 = explain(policy, { syscall: "clone3", abi: "x86_64" }, ctx).abis[0]!;
    assert.equal(clone3.action, "ALLOW");
    assert.match(clone3.summary, /needs CAP_SYS_ADMIN \(CAP_SYS_ADMIN held\)$/);
    assert.ok(clone3.notes.some((n) => /excluded when CAP_SYS_ADMIN is held \(CAP_SYS_ADMIN held\)/.test(n)));
    assert.equal(explain(policy, { syscall: "mount", abi: "x86_64" }, ctx).abis[0]!.action, "ALLOW");
  });

  test("mount without CAP_SYS_ADMIN: the default action", () => {
    const e = explain(load(DOCKER_DEFAULT_CAPABILITIES), { syscall: "mount", abi: "x86_64" }).abis[0]!;
    assert.equal(e.action, "ERRNO(EPERM)");
    assert.equal(e.reason, "default");
  });
});

interface Run {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

function cli(...args: string[]): Run {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { cwd: ROOT, encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function assertOneLineError(r: Run, code: number, fragment: string): void {
  assert.equal(r.code, code, `exit code; stderr: ${r.err}`);
  assert.equal(r.out, "");
  const lines = r.err.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 1, r.err);
  assert.match(lines[0]!, /^syscage: /);
  assert.doesNotMatch(r.err, /\n\s+at /);
  assert.ok(lines[0]!.includes(fragment), lines[0]);
}

describe("syscage explain (CLI)", () => {
  test("text: the summary line per ABI, ABIs with the same story together", () => {
    const r = cli("explain", "mkdir", "--system-call-filter=~mkdir", "--arch", "x86_64,x86");
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^x86_64 \(nr 83, returns 0x00050001\), x86 \(nr 39, returns 0x00050001\):$/m);
    assert.ok(r.out.includes("mkdir → ERRNO(EPERM): in @file-system (nspawn allow list), but removed by --system-call-filter=~mkdir (deny lists take precedence)"));
  });

  test("an answer that depends on the arguments says so, lists the cases, and each case is what explain gives for it (#19)", () => {
    const r = cli("explain", "socket", "--profile", DOCKER, "--arch", "x86_64");
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^ {2}socket → ALLOW: .* \(with every argument 0; it depends on them: 2 cases\)$/m);
    assert.match(r.out, /^ {4}argument cases: socket\(0\) → ALLOW; socket\(38\) → ERRNO\(EPERM\) \(--args a0,a1,… asks about one\)$/m);
    const vsock = cli("explain", "socket", "--profile", DOCKER, "--arch", "x86_64", "--args", "40", "--json");
    const j = JSON.parse(vsock.out) as { abis: { action: string; cases: { args: number[]; action: string }[] }[] };
    assert.equal(j.abis[0]!.action, "ERRNO(EPERM)", "AF_VSOCK is denied");
    const cases = j.abis[0]!.cases;
    assert.ok(cases.length >= 2);
    // Every listed case is really that case.
    const policy = readProfileFile(DOCKER).policy;
    for (const c of cases) {
      const e = explain(policy, { syscall: "socket", abi: "x86_64", args: c.args.map(BigInt) }).abis[0]!;
      assert.equal(e.action, c.action, JSON.stringify(c));
    }
    // A call that does not depend on its arguments lists no cases.
    const mkdir = cli("explain", "mkdir", "--arch", "x86_64", "--json");
    assert.equal((JSON.parse(mkdir.out) as { abis: { cases?: unknown }[] }).abis[0]!.cases, undefined);
    assert.doesNotMatch(cli("explain", "mkdir", "--arch", "x86_64").out, /argument cases/);
  });

  test("--json with --args, the audit rule", () => {
    const r = cli("explain", "socket", "--args", "16,3,9", "--arch", "x86_64", "--json");
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out) as { call: string; args: number[]; abis: { action: string; won: string; chain: { matched: boolean }[] }[] };
    assert.equal(j.call, "socket(16, 3, 9)");
    assert.deepEqual(j.args, [16, 3, 9]);
    assert.equal(j.abis[0]!.action, "ERRNO(EAFNOSUPPORT)");
    assert.equal(j.abis[0]!.won, "most restrictive");
  });

  test("--profile: the Docker story", () => {
    const r = cli("explain", "clone3", "--profile", DOCKER, "--host-arch", "x86_64", "--kernel", "6.8", "--arch", "x86_64");
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /clone3 → ERRNO\(ENOSYS\): profile rule .* excluded when CAP_SYS_ADMIN is held \(CAP_SYS_ADMIN not held\)/);
  });

  test("a syscall the ABI lacks", () => {
    const r = cli("explain", "open", "--arch", "aarch64");
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /open does not exist on aarch64/);
  });

  test("bad input: one line on stderr, exit 1", () => {
    assertOneLineError(cli("explain", "mkdirr"), 1, 'unknown syscall "mkdirr"');
    assertOneLineError(cli("explain", "socket", "--args", "16,x"), 1, "--args (argument 1)");
    assertOneLineError(cli("explain", "socket", "--args", "1,2,3,4,5,6,7"), 1, "at most 6");
    assertOneLineError(cli("explain", "mkdir", "--policy", "/nonexistent/p.json"), 1, "/nonexistent/p.json");
    assertOneLineError(cli("explain", "0x1ffffffff"), 1, "out of range");
  });
});

describe("narrowed comparisons are named by the argument's declared type", () => {
  const rules = [
    { syscall: "mkdirat", action: "ERRNO(EACCES)", conditions: [{ arg: 2, op: "MASKED_EQ", mask: 0o7000, value: 0o4000 }] },
    { syscall: "socket", action: "ERRNO(EAFNOSUPPORT)", conditions: [{ arg: 0, op: "EQ", value: 16 }] },
  ];
  const kernel = definePolicy({ abis: ["x86_64", "x86"], default: "ALLOW", unknown: "ALLOW", rules });
  test("kernel widths: the type, the kept bits, and the value the kernel uses", () => {
    const x = explain(kernel, { syscall: "mkdirat", args: [0n, 0n, 0x10000n | 0o4755n] });
    const e = x.abis.find((a) => a.abi === "x86_64")!;
    const check = e.chain[0]!.conditions[0]!;
    assert.equal(check.text, "arg2 & 3584 == 2048 (arg2 = 2541; mode is a umode_t: the low 16 bits are compared)");
    assert.deepEqual(check.narrowed, { name: "mode", type: "umode_t", bits: 16 });
    assert.equal(check.holds, true);
    assert.equal(e.action, "ERRNO(EACCES)");
    // On x86 the register is 32 bits, and umode_t still keeps 16 of them.
    assert.match(x.abis.find((a) => a.abi === "x86")!.chain[0]!.conditions[0]!.text, /mode is a umode_t: the low 16 bits are compared\)$/);
    const s = explain(kernel, { syscall: "socket", args: [16n | (1n << 32n)] }).abis.find((a) => a.abi === "x86_64")!;
    assert.equal(s.chain[0]!.conditions[0]!.text, "arg0 == 16 (arg0 = 16; family is an int: the low 32 bits are compared)");
    assert.equal(s.action, "ERRNO(EAFNOSUPPORT)");
  });
  test("argumentWidth u64: no narrowing, so no type note and the high word counts", () => {
    const wide = definePolicy({ abis: ["x86_64"], default: "ALLOW", unknown: "ALLOW", rules, argumentWidth: "u64" });
    const s = explain(wide, { syscall: "socket", args: [16n | (1n << 32n)] }).abis[0]!;
    const check = s.chain[0]!.conditions[0]!;
    assert.equal(check.text, "arg0 == 16 (arg0 = 0x100000010)");
    assert.equal(check.narrowed, undefined);
    assert.equal(s.action, "ALLOW");
  });
});
