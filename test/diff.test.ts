/**
 * `diff` (src/analyze/diff.ts, `syscage diff`): nspawn's default against
 * Docker's default on x86_64 gives the known differences; a policy against
 * its own compiled program is equal (exit 0), also for a profile with
 * argument rules; a program that differs is caught at the syscall and
 * argument values that differ; two option sets; grouping by the most
 * specific systemd group; bad input gives one line and exit 2.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { diffPolicies, mostSpecificGroup, NOT_IN_GROUPS, UNGROUPED, type PolicyDiff, type SyscallDifference } from "../src/analyze/diff.js";
import { compile } from "../src/compile/index.js";
import { ungroupedSyscalls } from "../src/policy/groups.js";
import { nspawnPolicy } from "../src/policy/nspawn.js";
import { DOCKER_DEFAULT_CAPABILITIES, readProfileFile } from "../src/policy/oci.js";
import { cli, type CliRun } from "./helpers/cli.js";

const DIR = mkdtempSync(join(tmpdir(), "syscage-diff-"));
const DOCKER = "/work/shared/data/profiles/docker-default.json";

function find(d: PolicyDiff, abi: string, name: string): SyscallDifference | undefined {
  return d.abis.find((a) => a.abi === abi)?.differences.find((x) => x.name === name);
}

describe("mostSpecificGroup", () => {
  test("the smallest group that holds the syscall, @known aside", () => {
    assert.equal(mostSpecificGroup("mount"), "@mount"); // also in @privileged, which is larger
    assert.equal(mostSpecificGroup("settimeofday"), "@clock");
    assert.equal(mostSpecificGroup("reboot"), "@reboot");
    assert.equal(mostSpecificGroup("rseq_slice_yield"), NOT_IN_GROUPS);
  });
  test("a syscall only in @known is ungrouped", () => {
    const ungrouped = ungroupedSyscalls();
    assert.ok(ungrouped.length > 0);
    for (const n of ungrouped) assert.equal(mostSpecificGroup(n), UNGROUPED, n);
  });
});

describe("diffPolicies", () => {
  const nspawn = nspawnPolicy({ abis: ["x86_64"] });
  const docker = readProfileFile(DOCKER, { capabilities: DOCKER_DEFAULT_CAPABILITIES, kernel: "6.8", hostArch: "x86_64" }).policy;
  const dockerX64 = { ...docker, abis: ["x86_64" as const] };
  const d = diffPolicies({ kind: "policy", policy: nspawn, label: "nspawn" }, { kind: "policy", policy: dockerX64, label: "docker" });

  test("nspawn default vs Docker default on x86_64: the known differences", () => {
    assert.equal(d.equal, false);
    assert.deepEqual(d.abis.map((a) => a.abi), ["x86_64"]);
    const mount = find(d, "x86_64", "mount")!;
    assert.equal(mount.a.action, "ALLOW");
    assert.equal(mount.b.action, "ERRNO(EPERM)");
    assert.equal(mount.a.origin, "nspawn allow list: @mount");
    assert.match(mount.b.origin, /default action/);
    assert.equal(mount.group, "@mount");
    const clone3 = find(d, "x86_64", "clone3")!;
    assert.deepEqual([clone3.a.action, clone3.b.action], ["ALLOW", "ERRNO(ENOSYS)"]);
    // Docker allows what nspawn does not retain the capability for: @clock's adjtimex needs CAP_SYS_TIME in nspawn.
    assert.deepEqual([find(d, "x86_64", "adjtimex")?.a.action, find(d, "x86_64", "adjtimex")?.b.action], ["ERRNO(EPERM)", "ALLOW"]);
    // The audit rule: only with its argument values.
    const socket = find(d, "x86_64", "socket")!;
    assert.equal(socket.args[0], 16n);
    assert.equal(socket.args[2] & 0xffffffffn, 9n);
    assert.equal(socket.a.action, "ERRNO(EAFNOSUPPORT)");
    assert.ok(socket.differing < socket.tried);
    // Both allow read and write.
    assert.equal(find(d, "x86_64", "read"), undefined);
    assert.equal(find(d, "x86_64", "write"), undefined);
    // Counts add up, groups partition the differences.
    const abi = d.abis[0]!;
    assert.equal(d.total, abi.differences.length);
    assert.equal(abi.groups.reduce((n, g) => n + g.syscalls.length, 0), abi.differences.length);
    assert.ok(abi.groups.find((g) => g.group === "@mount")!.syscalls.some((s) => s.name === "mount"));
  });

  test("a side compared with itself is equal", () => {
    const same = diffPolicies({ kind: "policy", policy: nspawn, label: "a" }, { kind: "policy", policy: nspawnPolicy({ abis: ["x86_64"] }), label: "b" });
    assert.equal(same.equal, true);
    assert.equal(same.total, 0);
  });

  test("a policy and its compiled program are equal; a different program is not", () => {
    for (const p of [nspawn, dockerX64]) {
      const prog = compile(p);
      const r = diffPolicies({ kind: "policy", policy: p, label: "policy" }, { kind: "program", insns: prog.insns, abis: p.abis, label: "program" });
      assert.equal(r.total, 0, JSON.stringify(r.abis[0]?.differences.slice(0, 3), (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)));
    }
    const other = compile(nspawnPolicy({ abis: ["x86_64"], systemCallFilter: ["~mkdir"] }));
    const r = diffPolicies({ kind: "policy", policy: nspawn, label: "policy" }, { kind: "program", insns: other.insns, abis: ["x86_64"], label: "program" });
    assert.deepEqual(r.abis[0]!.differences.map((x) => x.name), ["mkdir"]);
    assert.equal(r.abis[0]!.differences[0]!.b.origin, "program");
  });

  test("ABIs one side does not cover: that side's bad-arch decision", () => {
    const r = diffPolicies({ kind: "policy", policy: nspawn, label: "a" }, { kind: "policy", policy: nspawnPolicy({ abis: ["x86_64", "x86"] }), label: "b" });
    const x86 = r.abis.find((a) => a.abi === "x86")!;
    assert.equal(x86.differences.length, x86.compared + 1); // every syscall, plus the unknown numbers
    assert.equal(x86.differences[0]!.a.action, "KILL_PROCESS");
  });
});

function assertTrouble(r: CliRun, fragment: string): void {
  assert.equal(r.code, 2, `exit code; stderr: ${r.err}`);
  assert.equal(r.out, "");
  const lines = r.err.split("\n").filter((l) => l !== "" && !l.startsWith("(run with --help"));
  assert.equal(lines.length, 1, r.err);
  assert.doesNotMatch(r.err, /\n\s+at /);
  assert.ok(lines[0]!.includes(fragment), lines[0]);
}

describe("syscage diff (CLI)", () => {
  test("nspawn vs the Docker profile on x86_64: exit 1, mount listed under @mount, a summary", () => {
    const r = cli("diff", "nspawn", DOCKER, "--arch", "x86_64", "--b-host-arch", "x86_64", "--b-kernel", "6.8");
    assert.equal(r.code, 1, r.err);
    assert.match(r.out, /^--- A: nspawn default \(x86_64\)$/m);
    assert.match(r.out, /^ {2}@mount \(\d+\)$/m);
    assert.match(r.out, /^ {4}mount +A ALLOW +B ERRNO\(EPERM\) +A: nspawn allow list: @mount \| B: .*default action$/m);
    assert.match(r.out, /^summary: \d+ differences \(x86_64 \d+\)$/m);
  });

  test("a policy against its own compiled .bpf: equal, exit 0 (either order)", () => {
    const bpf = join(DIR, "nspawn.bpf");
    const c = cli("compile", "--arch", "x86_64,x86,x32", "--format", "raw", "-o", bpf);
    assert.equal(c.code, 0, c.err);
    const r = cli("diff", "nspawn", bpf, "--arch", "x86_64,x86,x32");
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.out, /summary: equal/);
    const rev = cli("diff", bpf, "--b-arch", "x86_64,x86,x32", "nspawn");
    assert.equal(rev.code, 0, rev.err + rev.out);
  });

  test("a policy file against its compiled program, and a profile", () => {
    const policy = join(DIR, "p.json");
    writeFileSync(
      policy,
      JSON.stringify({
        abis: ["x86_64"],
        default: "ERRNO(EPERM)",
        rules: [
          { syscalls: ["read", "write", "exit_group"], action: "ALLOW" },
          { syscall: "personality", action: "ALLOW", args: [{ index: 0, op: "EQ", value: 8 }] },
        ],
      }),
    );
    const bpf = join(DIR, "p.bpf");
    assert.equal(cli("compile", "--policy", policy, "-o", bpf).code, 0);
    assert.equal(cli("diff", policy, bpf).code, 0);
    const dbpf = join(DIR, "docker.bpf");
    assert.equal(cli("compile", "--profile", DOCKER, "--host-arch", "x86_64", "--kernel", "6.8", "--arch", "x86_64", "-o", dbpf).code, 0);
    const r = cli("diff", DOCKER, dbpf, "--a-host-arch", "x86_64", "--a-kernel", "6.8", "--arch", "x86_64");
    assert.equal(r.code, 0, r.out + r.err);
    // A program that allows personality for any argument differs only at the other values.
    const wide = join(DIR, "wide.json");
    writeFileSync(wide, JSON.stringify({ abis: ["x86_64"], default: "ERRNO(EPERM)", rules: [{ syscalls: ["read", "write", "exit_group", "personality"], action: "ALLOW" }] }));
    const j = cli("diff", policy, wide, "--json");
    assert.equal(j.code, 1, j.err);
    const out = JSON.parse(j.out) as { total: number; abis: { differences: { name: string; args: number[]; a: { action: string }; b: { action: string } }[] }[] };
    assert.equal(out.total, 1);
    const p = out.abis[0]!.differences[0]!;
    assert.equal(p.name, "personality");
    assert.deepEqual([p.args[0], p.a.action, p.b.action], [0, "ERRNO(EPERM)", "ALLOW"]);
  });

  test("two option sets", () => {
    const r = cli("diff", "--a-system-call-filter=~mkdir", "--b-system-call-filter=~@file-system", "--arch", "x86_64", "--json");
    assert.equal(r.code, 1, r.err);
    const j = JSON.parse(r.out) as { a: { kind: string }; equal: boolean; abis: { differences: { name: string; group: string; a: { origin: string }; b: { origin: string } }[] }[] };
    assert.equal(j.a.kind, "options");
    assert.equal(j.equal, false);
    const names = j.abis[0]!.differences.map((x) => x.name);
    assert.ok(!names.includes("mkdir"), "mkdir is denied on both sides");
    const rename = j.abis[0]!.differences.find((x) => x.name === "rename")!;
    assert.equal(rename.a.origin, "nspawn allow list: @file-system");
    assert.equal(rename.b.origin, "removed by --system-call-filter=~@file-system (deny lists take precedence)");
  });

  test("plain policy options shape side B: `diff A --profile FILE` reads as written (issue #17's example); with two files or --b-… options they are refused", () => {
    const policy = join(DIR, "plain.json");
    writeFileSync(policy, JSON.stringify({ abis: ["x86_64"], default: "ERRNO(EPERM)", rules: [{ syscalls: ["read", "write", "mkdir"], action: "ALLOW" }] }));
    const r = cli("diff", policy, "--system-call-filter=~mkdir", "--arch", "x86_64", "--json");
    const same = cli("diff", policy, "--b-system-call-filter=~mkdir", "--arch", "x86_64", "--json");
    assert.equal(r.code, 1, r.err);
    const j = JSON.parse(r.out) as { a: { source: string }; b: { source: string }; abis: unknown; equal: boolean };
    const k = JSON.parse(same.out) as typeof j;
    assert.deepEqual([j.abis, j.equal], [k.abis, k.equal], "the same answer as --b-system-call-filter");
    assert.ok(j.a.source.endsWith("plain.json"));
    assert.match(j.b.source, /--system-call-filter/);
    assertTrouble(cli("diff", policy, "nspawn", "--system-call-filter=~mkdir"), "two files already give both sides");
    assertTrouble(cli("diff", policy, "--system-call-filter=~mkdir", "--b-arch", "x86_64"), "both shape side B");
    assert.doesNotMatch(cli("diff", "--help").out, /^\s+--profile /m, "hidden: the help shows --a-/--b- and says it in words");
    assert.match(cli("diff", "--help").out, /Plain policy options \(--profile FILE/);
  });

  test("only the sides' decisions count, not their origins (reboot is EPERM on both, for different reasons)", () => {
    const r = cli("diff", "--a-drop-capability=CAP_SYS_BOOT", "--b-system-call-filter=~reboot", "--arch", "x86_64");
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /summary: equal/);
  });

  test("bad input: one line, exit 2", () => {
    assertTrouble(cli("diff", join(DIR, "missing.json"), "nspawn"), "missing.json: no such file");
    assertTrouble(cli("diff", "--a-system-call-filter=~mkdirr", "nspawn"), 'side A: --system-call-filter="~mkdirr": unknown syscall "mkdirr"');
    assertTrouble(cli("diff", "nspawn"), "diff needs two sides");
    assertTrouble(cli("diff", "a.json", "b.json", "c.json"), "too many arguments");
    assertTrouble(cli("diff", "--bogus", "nspawn", "nspawn"), "unknown option '--bogus'");
    const bad = join(DIR, "bad.bpf");
    writeFileSync(bad, Buffer.alloc(12));
    assertTrouble(cli("diff", "nspawn", bad), "bad.bpf");
    const policy = join(DIR, "q.json");
    writeFileSync(policy, JSON.stringify({ rules: [] }));
    assertTrouble(cli("diff", policy, "nspawn", "--a-system-call-filter=~mkdir"), "cannot apply to it");
    const junk = join(DIR, "junk.txt");
    writeFileSync(junk, "hello\n");
    assertTrouble(cli("diff", junk, "nspawn"), "cannot tell what this file is");
  });
});
