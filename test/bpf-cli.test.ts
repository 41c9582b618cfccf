import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeProgram } from "../src/bpf/codec.js";
import { jumpIf, loadAbs, ret, retA, type Insn } from "../src/bpf/insn.js";
import { hostAbi } from "../src/abi/arch.js";
import { cli as run } from "./helpers/cli.js";

const DIR = mkdtempSync(join(tmpdir(), "syscage-bpf-cli-"));

function file(name: string, p: readonly Insn[] | Uint8Array): string {
  const f = join(DIR, name);
  writeFileSync(f, p instanceof Uint8Array ? p : encodeProgram(p));
  return f;
}

/** One line on stderr, `syscage: …`, no stack trace. */
function assertOneLineError(r: { code: number | null; err: string; out: string }, re: RegExp): void {
  assert.equal(r.code, 1, r.err);
  const lines = r.err.trimEnd().split("\n");
  assert.equal(lines.length, 1, r.err);
  assert.match(lines[0]!, /^syscage: /);
  assert.match(lines[0]!, re);
  assert.doesNotMatch(r.err, /\n\s+at /);
}

const X86_64 = 0xc000003e;
const FILTER = file("filter.bpf", [
  loadAbs(4),
  jumpIf("jeq", X86_64, 0, 3),
  loadAbs(0),
  jumpIf("jeq", 59, 1, 0),
  ret(0x7fff0000),
  ret(0x50001),
]);
// ALLOW when the word at offset 16 is 1: the high half of args[0] on big-endian ABIs.
const ARG_WORD16 = file("arg16.bpf", [loadAbs(16), jumpIf("jeq", 1, 0, 1), ret(0x7fff0000), ret(0x80000000)]);
// ALLOW when the word at offset 20 is 0xffffffff.
const ARG_WORD20 = file("arg20.bpf", [loadAbs(20), jumpIf("jeq", 0xffffffff, 0, 1), ret(0x7fff0000), ret(0)]);
const INVALID = file("invalid.bpf", [loadAbs(0), loadAbs(2), retA()]);
const TRUNCATED = file("truncated.bpf", new Uint8Array(13));
const EMPTY = file("empty.bpf", new Uint8Array(0));

test("verify: valid program → 'FILE: valid (N instructions)', exit 0", () => {
  const r = run("verify", FILTER);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, `${FILTER}: valid (6 instructions)\n`);
});

test("verify: invalid program → one line per finding, exit 1", () => {
  const r = run("verify", INVALID);
  assert.equal(r.code, 1);
  assert.match(r.out, new RegExp(`^${INVALID.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: instruction 1: seccomp-load: `));
  assert.equal(r.out.trimEnd().split("\n").length, 1);
});

test("verify --json", () => {
  const r = run("verify", INVALID, "--json");
  assert.equal(r.code, 1);
  const j = JSON.parse(r.out) as { valid: boolean; instructions: number; findings: { index: number; rule: string }[] };
  assert.equal(j.valid, false);
  assert.equal(j.instructions, 3);
  assert.deepEqual(
    j.findings.map((f) => [f.index, f.rule]),
    [[1, "seccomp-load"]],
  );
});

test("truncated, empty and missing files: one clear line, exit 1", () => {
  assertOneLineError(run("verify", TRUNCATED), /13 bytes.*multiple of 8/);
  assertOneLineError(run("disasm", EMPTY), /empty/);
  assertOneLineError(run("emulate", join(DIR, "nope.bpf"), "--arch", "x86_64", "--nr", "1"), /nope\.bpf: no such file/);
});

test("disasm prints labels and comments; --arch names syscalls", () => {
  const r = run("disasm", FILTER);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^ {6}jeq #0xc000003e, L2, L5 +; AUDIT_ARCH_X86_64$/m);
  assert.match(r.out, /^L5: {3}ret #0x50001 +; ERRNO\(1\)$/m);
  const noArch = file("noarch.bpf", [loadAbs(0), jumpIf("jeq", 59, 0, 1), ret(0x50001), ret(0x7fff0000)]);
  assert.match(run("disasm", noArch, "--arch", "x86_64").out, /jeq #59, L2, L3 +; execve/);
});

test("disasm of a program the kernel would refuse: the disassembly, one warning naming the first problem, exit 1; a valid one: exit 0, nothing on stderr", () => {
  const ok = run("disasm", FILTER);
  assert.equal(ok.code, 0, ok.err);
  assert.equal(ok.err, "");
  const bad = run("disasm", INVALID);
  assert.equal(bad.code, 1, bad.err);
  assert.match(bad.out, /^ {6}ld \[2\]/m, "the disassembly is still printed");
  const lines = bad.err.trimEnd().split("\n");
  assert.equal(lines.length, 1, bad.err);
  assert.ok(lines[0]!.startsWith(`syscage: warning: ${INVALID}: the program would not load: instruction 1: seccomp-load: `), lines[0]);
  // Bytes that are no program in either byte order (as from /dev/urandom).
  const bytes = new Uint8Array(200);
  let x = 0x2545f491;
  for (let i = 0; i < bytes.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  const garbage = file("garbage.bpf", bytes);
  const g = run("disasm", garbage);
  assert.equal(g.code, 1, g.err);
  assert.equal(g.out.trimEnd().split("\n").filter((l) => !l.startsWith(";")).length >= 25, true, "one line per instruction");
  assert.match(g.err, /^syscage: warning: .*garbage\.bpf: the program would not load: instruction \d+: \S+: .*\n$/);
  assert.equal(g.err.split("\n").length, 2, g.err);
});

test("emulate: action first, then the steps; --quiet; --json", () => {
  const r = run("emulate", FILTER, "--arch", "x86_64", "--syscall", "execve");
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trimEnd().split("\n");
  assert.equal(lines[0], "ERRNO(1)");
  assert.match(lines[1]!, /0: ld \[4\] +A=0xc000003e X=0x00000000/);
  assert.equal(run("emulate", FILTER, "--arch", "x86_64", "--nr", "0", "--quiet").out, "ALLOW\n");
  const j = JSON.parse(run("emulate", FILTER, "--arch", "x86_64", "--nr", "59", "--json").out) as {
    action: string;
    data: number;
    ret: number;
    steps: number;
    trace: { pc: number; a: number }[];
  };
  assert.deepEqual([j.action, j.data, j.ret, j.steps], ["ERRNO", 1, 0x50001, 5]);
  assert.deepEqual(
    j.trace.map((s) => s.pc),
    [0, 1, 2, 3, 5],
  );
  // The i386 arch fails the x86_64 check and falls to ERRNO(1) as written.
  assert.equal(run("emulate", FILTER, "--arch", "x86", "--nr", "0", "--quiet").out, "ERRNO(1)\n");
});

test("emulate without --arch: the host's native ABI; the syscall as an argument after the file, by name or number", () => {
  const host = hostAbi();
  for (const call of ["execve", "read"]) {
    const r = run("emulate", FILTER, call);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, run("emulate", FILTER, "--arch", host, "--syscall", call).out);
  }
  // FILTER allows x86_64 calls but execve; every other ABI gets ERRNO(1) (the program decides).
  assert.equal(run("emulate", FILTER, "execve", "--quiet").out, "ERRNO(1)\n");
  assert.equal(run("emulate", FILTER, "read", "--quiet").out, host === "x86_64" ? "ALLOW\n" : "ERRNO(1)\n");
  assert.equal(run("emulate", FILTER, "59", "--arch", "x86_64", "--quiet").out, "ERRNO(1)\n");
  assert.equal(run("emulate", FILTER, "0x3b", "--arch", "x86_64", "--quiet").out, "ERRNO(1)\n");
  assertOneLineError(run("emulate", FILTER, "read", "--nr", "1"), /give the syscall once: .*"read" and --nr/);
  assertOneLineError(run("emulate", FILTER), /say which syscall to emulate: a name after the file/);
  assert.match(run("emulate", "--help").out, /default: this host's ABI/);
});

test("emulate: u64 args exact, byte order from the ABI, negative = two's complement", () => {
  assert.equal(run("emulate", ARG_WORD16, "--arch", "s390x", "--nr", "1", "--args", "0x100000000", "--quiet").out, "ALLOW\n");
  assert.equal(run("emulate", ARG_WORD16, "--arch", "x86_64", "--nr", "1", "--args", "0x100000000", "--quiet").out, "KILL_PROCESS\n");
  assert.equal(run("emulate", ARG_WORD20, "--arch", "x86_64", "--nr", "1", "--args", "-1", "--quiet").out, "ALLOW\n");
  assert.equal(run("emulate", ARG_WORD20, "--arch", "x86_64", "--nr", "1", "--args", "18446744069414584320", "--quiet").out, "ALLOW\n");
});

test("emulate errors: unknown arch, unknown syscall, bad args, too many args, invalid program", () => {
  assertOneLineError(run("emulate", FILTER, "--arch", "x86_65", "--nr", "1"), /unknown architecture "x86_65"/);
  assertOneLineError(run("emulate", FILTER, "--arch", "x86_64", "--syscall", "execv"), /unknown syscall "execv".*execve/);
  assertOneLineError(run("emulate", FILTER, "--arch", "x86_64", "--nr", "1", "--args", "1,zz"), /--args.*"zz"/);
  assertOneLineError(run("emulate", FILTER, "--arch", "x86_64", "--nr", "1", "--args", "1,2,3,4,5,6,7"), /at most 6/);
  assertOneLineError(run("emulate", FILTER, "--arch", "x86_64", "--nr", "1", "--args", "0x1ffffffffffffffff"), /64 bits/);
  assertOneLineError(run("emulate", INVALID, "--arch", "x86_64", "--nr", "1"), /instruction 1: seccomp-load/);
});

test("a program compiled for a big-endian ABI: disasm, emulate and diff read it in that order; verify does with --arch, and says so in one line without", () => {
  const prog = file("s390x.bpf", new Uint8Array(0));
  const compiled = run("compile", "--arch", "s390x", "--system-call-filter=~mkdir", "--format", "raw", "-o", prog);
  assert.equal(compiled.code, 0, compiled.err);
  const ok = run("verify", "--arch", "s390x", prog);
  assert.equal(ok.code, 0, ok.out);
  assert.match(ok.out, /: valid \(\d+ instructions\)\n$/);
  const host = run("verify", prog);
  assert.equal(host.code, 1);
  assert.equal(host.out, "", "no finding per instruction");
  assert.equal(host.err, `syscage: ${prog}: read as little-endian (this host's order) it is not a valid program; read as big-endian it is: the file was written for a big-endian ABI (give --arch s390x, or the ABI it was compiled for)\n`);
  const em = run("emulate", prog, "--arch", "s390x", "--syscall", "mkdir", "--quiet");
  assert.equal(em.out, "ERRNO(1)\n");
  assert.equal(run("emulate", prog, "--arch", "s390x", "--syscall", "getpid", "--quiet").out, "ALLOW\n");
  const dis = run("disasm", "--arch", "s390x", prog);
  assert.equal(dis.code, 0);
  assert.match(dis.out, /jeq #0x80000016, L\d+, L\d+ +; AUDIT_ARCH_S390X/);
  // Only big-endian gives a valid program, so disasm reads it so without being told.
  assert.equal(run("disasm", prog).out, dis.out);
  const same = run("diff", prog, "--b-system-call-filter=~mkdir", "--b-arch", "s390x");
  assert.equal(same.code, 0, same.out + same.err);
});

test("verify --arch s390x of a little-endian program: one line naming the byte order and the fix, exit 1; --json keeps every finding", () => {
  const prog = file("le.bpf", new Uint8Array(0));
  const compiled = run("compile", "--arch", "x86_64", "--format", "raw", "-o", prog);
  assert.equal(compiled.code, 0, compiled.err);
  const r = run("verify", prog, "--arch", "s390x");
  assert.equal(r.code, 1, r.err);
  assert.equal(r.out, "");
  const lines = r.err.trimEnd().split("\n");
  assert.equal(lines.length, 1, r.err);
  assert.equal(
    lines[0],
    `syscage: ${prog}: read as big-endian (s390x's order) it is not a valid program; read as little-endian it is: the file was written for a little-endian ABI (give --arch x86_64, or the ABI it was compiled for)`,
  );
  const j = run("verify", prog, "--arch", "s390x", "--json");
  assert.equal(j.code, 1);
  const parsed = JSON.parse(j.out) as { valid: boolean; instructions: number; findings: unknown[] };
  assert.equal(parsed.valid, false);
  assert.ok(parsed.findings.length >= parsed.instructions, "every instruction's finding is in the JSON");
  assert.equal(run("verify", prog, "--arch", "x86_64").code, 0);
});

test("verify lists at most 20 findings, then '… and N more findings'; --json has them all", () => {
  // 30 misaligned seccomp loads: a finding each, and no program in the other byte order either.
  const prog = file("many.bpf", [...Array.from({ length: 30 }, () => loadAbs(2)), retA()]);
  const r = run("verify", prog);
  assert.equal(r.code, 1, r.err);
  assert.equal(r.err, "");
  const lines = r.out.trimEnd().split("\n");
  assert.equal(lines.length, 21, r.out);
  for (const [i, l] of lines.slice(0, 20).entries()) assert.ok(l.startsWith(`${prog}: instruction ${i}: seccomp-load: `), l);
  assert.equal(lines[20], `${prog}: … and 10 more findings (--json lists them all)`);
  const j = JSON.parse(run("verify", prog, "--json").out) as { findings: { index: number }[] };
  assert.equal(j.findings.length, 30);
});
