/**
 * `syscage compile` and `syscage stats`, run as a user runs them (a child
 * process from the repository root) on policy files in a temp dir. The
 * program the CLI writes is decoded, verified with the kernel's rules, and
 * run by our interpreter; its decisions must equal `decide()` of the policy
 * as loaded from the same file. Also: programStats on hand-written programs
 * whose counts are known.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { getAbi, type AbiName } from "../src/abi/arch.js";
import { syscallNumber, syscallTable } from "../src/abi/tables.js";
import { programStats } from "../src/analyze/stats.js";
import { assemble } from "../src/bpf/asm.js";
import { decodeProgram } from "../src/bpf/codec.js";
import { jumpIf, loadAbs, ret, type Insn } from "../src/bpf/insn.js";
import { interpret } from "../src/bpf/interpret.js";
import { verify } from "../src/bpf/verify.js";
import { decide } from "../src/policy/evaluate.js";
import { readPolicyFile } from "../src/policy/json.js";
import type { Policy } from "../src/policy/model.js";
import { ROOT, assertOneLineError, cliBytes as run } from "./helpers/cli.js";
import { needOracle } from "./helpers/oracles.js";

const DIR = mkdtempSync(join(tmpdir(), "syscage-compile-cli-"));

function file(name: string, text: string): string {
  const f = join(DIR, name);
  writeFileSync(f, text);
  return f;
}

const POLICY = file(
  "policy.json",
  `{
  "default": "ERRNO(EPERM)",
  "unknown": "ERRNO(ENOSYS)",
  "badArch": "KILL_PROCESS",
  "abis": ["x86_64", "x86", "x32"],
  "flags": ["TSYNC", "LOG"],
  "rules": [
    { "syscalls": ["read", "write", "close"], "action": "ALLOW", "comment": "basic I/O" },
    { "syscall": "socket", "action": "ERRNO(EAFNOSUPPORT)", "args": [ { "index": 0, "op": "EQ", "value": 16 }, { "index": 2, "op": "EQ", "value": 9 } ] },
    { "syscall": "clone", "action": "ALLOW", "args": [ { "index": 0, "op": "MASKED_EQ", "mask": "0x7e020000", "value": 0 } ] },
    { "syscall": "personality", "action": "ALLOW", "args": [ { "index": 0, "op": "EQ", "value": 18446744073709551615 } ] },
    { "syscall": "openat", "action": "TRAP(7)", "args": [ { "index": 0, "op": "NE", "value": -100 } ] },
    { "syscall": "execve", "action": "KILL_PROCESS" }
  ]
}
`,
);

const U64 = 0xffffffffffffffffn;
const AT_FDCWD = 0xffffffffffffff9cn;

/** Calls to compare: [abi, syscall name or raw nr, args]. */
const CALLS: readonly (readonly [AbiName, string | number, readonly bigint[]])[] = [
  ["x86_64", "read", []],
  ["x86_64", "write", [1n, 2n, 3n]],
  ["x86_64", "socket", [16n, 3n, 9n]],
  ["x86_64", "socket", [16n, 3n, 10n]],
  ["x86_64", "socket", [2n, 1n, 0n]],
  ["x86_64", "socket", [16n | (1n << 32n), 3n, 9n]],
  ["x86_64", "clone", [0x11n]],
  ["x86_64", "clone", [0x10000000n]],
  ["x86_64", "personality", [U64]],
  ["x86_64", "personality", [0xffffffffn]],
  ["x86_64", "openat", [AT_FDCWD]],
  ["x86_64", "openat", [0xffffff9cn]],
  ["x86_64", "openat", [3n]],
  ["x86_64", "execve", []],
  ["x86_64", "mkdir", []],
  ["x86_64", 999, []],
  ["x86_64", -1, []],
  ["x86", "read", []],
  ["x86", "socket", [16n, 3n, 9n]],
  ["x86", "personality", [0xffffffffn]],
  ["x86", "openat", [0xffffff9cn]],
  ["x86", "socketcall", []],
  ["x86", 5000, []],
  ["x32", "read", []],
  ["x32", "clone", [0x7e020000n]],
  ["x32", "execve", []],
  ["x32", 0x40000000 + 600, []],
  ["aarch64", "read", []],
];

function nrOf(abi: AbiName, s: string | number): number {
  if (typeof s === "number") return s;
  const nr = syscallNumber(abi, s);
  assert.ok(nr !== undefined, `${s} on ${abi}`);
  return nr;
}

/** Every call in CALLS decides the same in the program and in the policy. */
function assertMatchesPolicy(insns: readonly Insn[], policy: Policy): void {
  for (const [abi, s, args] of CALLS) {
    const info = getAbi(abi);
    const nr = nrOf(abi, s);
    const r = interpret(insns, { nr, arch: info.auditArch, instructionPointer: 0n, args }, info.endian);
    const d = decide(policy, { arch: info.auditArch, nr, args });
    assert.equal(r.ret >>> 0, d.ret >>> 0, `${abi} ${String(s)}(${args.join(", ")}): program 0x${r.ret.toString(16)}, policy 0x${d.ret.toString(16)} (${d.origin})`);
  }
}

const policy = readPolicyFile(POLICY);

describe("syscage compile", () => {
  test("-o FILE.bpf writes a raw program that verifies and decides as the policy does", () => {
    const out = join(DIR, "filter.bpf");
    const r = run("compile", "--policy", POLICY, "-o", out);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, "");
    assert.equal(r.out.length, 0);
    const insns = decodeProgram(readFileSync(out), out, "little");
    assert.deepEqual(verify(insns), []);
    assertMatchesPolicy(insns, policy);
    // Sanity of the comparison itself: the policy really distinguishes these calls.
    const rets = new Set(CALLS.map(([abi, s, args]) => decide(policy, { arch: getAbi(abi).auditArch, nr: nrOf(abi, s), args }).ret));
    assert.ok(rets.size >= 6, `only ${rets.size} distinct outcomes`);

    // The same bytes on a pipe with --format raw.
    const piped = run("compile", "--policy", POLICY, "--format", "raw");
    assert.equal(piped.code, 0, piped.err);
    assert.deepEqual(new Uint8Array(piped.out), new Uint8Array(readFileSync(out)));
  });

  test("default format is disasm: a header comment, then assembly that assembles to the same program", () => {
    const raw = decodeProgram(new Uint8Array(run("compile", "--policy", POLICY, "--format", "raw").out), "raw", "little");
    const r = run("compile", "--policy", POLICY);
    assert.equal(r.code, 0, r.err);
    const text = r.out.toString("utf8");
    assert.match(text, /^; syscage compile .*policy\.json: ABIs x86_64, x86, x32; \d+ instructions; flags TSYNC\|LOG\n/);
    assert.match(text, /AUDIT_ARCH_I386/);
    assert.deepEqual(assemble(text), raw);
    // -o with .s also gives disasm.
    const s = join(DIR, "filter.s");
    assert.equal(run("compile", "--policy", POLICY, "-o", s).code, 0);
    assert.equal(readFileSync(s, "utf8"), text);
  });

  test("json format: instructions, flags, ABIs, one source-map entry per instruction", () => {
    const raw = decodeProgram(new Uint8Array(run("compile", "--policy", POLICY, "--format", "raw").out), "raw", "little");
    const r = run("compile", "--policy", POLICY, "--format", "json");
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out.toString("utf8")) as {
      abis: string[];
      flags: string[];
      flagsValue: number;
      instructions: Insn[];
      sourceMap: { index: number; note: string; rules: number[] }[];
      warnings: string[];
    };
    assert.deepEqual(j.abis, ["x86_64", "x86", "x32"]);
    assert.deepEqual(j.flags, ["TSYNC", "LOG"]);
    assert.equal(j.flagsValue, 3);
    assert.deepEqual(j.instructions, raw);
    assert.equal(j.sourceMap.length, raw.length);
    assert.deepEqual(j.warnings, []);
    // -o FILE.json picks json.
    const f = join(DIR, "filter.json");
    assert.equal(run("compile", "--policy", POLICY, "-o", f).code, 0);
    assert.equal(readFileSync(f, "utf8"), r.out.toString("utf8"));
  });

  test("c format: one BPF_STMT/BPF_JUMP per instruction and the flags; compiles to the same bytes", (t) => {
    const rawBytes = new Uint8Array(run("compile", "--policy", POLICY, "--format", "raw").out);
    const raw = decodeProgram(rawBytes, "raw", "little");
    const h = join(DIR, "filter.h");
    const r = run("compile", "--policy", POLICY, "-o", h);
    assert.equal(r.code, 0, r.err);
    const text = readFileSync(h, "utf8");
    assert.match(text, /struct sock_filter filter\[\] = \{/);
    assert.match(text, /#define SYSCAGE_FILTER_FLAGS 0x3u/);
    assert.match(text, /SECCOMP_FILTER_FLAG_TSYNC \| SECCOMP_FILTER_FLAG_LOG/);
    assert.equal(text.match(/^\t\/\*\s*\d+ \*\/ BPF_(STMT|JUMP)\(/gm)?.length, raw.length);
    if (!needOracle(t, "cc")) return;
    const c = file("main.c", `#include <stdio.h>\n#include "filter.h"\nint main(void) { fwrite(syscage_prog.filter, sizeof(struct sock_filter), syscage_prog.len, stdout); printf("%u", SYSCAGE_FILTER_FLAGS); return 0; }\n`);
    const exe = join(DIR, "main");
    const cc = spawnSync("cc", ["-Wall", "-Werror", "-o", exe, c], { encoding: "utf8" });
    assert.equal(cc.status, 0, cc.stderr);
    const out = spawnSync(exe);
    assert.deepEqual(new Uint8Array(out.stdout.subarray(0, rawBytes.length)), rawBytes);
    assert.equal(out.stdout.subarray(rawBytes.length).toString(), "3");
  });

  test("--arch overrides the policy's ABIs (any spelling)", () => {
    const r = run("compile", "--policy", POLICY, "--arch", "arm64,armhf", "--format", "json");
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out.toString("utf8")) as { abis: string[]; instructions: Insn[] };
    assert.deepEqual(j.abis, ["aarch64", "arm"]);
    const p: Policy = { ...policy, abis: ["aarch64", "arm"] };
    for (const [abi, name, args] of [
      ["aarch64", "read", []],
      ["aarch64", "socket", [16n, 0n, 9n]],
      ["aarch64", "execve", []],
      ["arm", "read", []],
      ["arm", "personality", [0xffffffffn]],
      ["x86_64", "read", []],
    ] as const) {
      const info = getAbi(abi);
      const nr = nrOf(abi, name);
      const got = interpret(j.instructions, { nr, arch: info.auditArch, instructionPointer: 0n, args }, info.endian).ret;
      assert.equal(got >>> 0, decide(p, { arch: info.auditArch, nr, args }).ret >>> 0, `${abi} ${name}`);
    }
    // x86_64 is not covered any more: bad arch.
    const x = getAbi("x86_64");
    assert.equal(interpret(j.instructions, { nr: 0, arch: x.auditArch, instructionPointer: 0n, args: [] }, "little").ret >>> 0, 0x80000000);
  });

  test("compiler warnings go to stderr as 'syscage: warning:' and the command succeeds", () => {
    const f = file("warn.json", '{"abis": ["x86_64"], "rules": [{"syscall": "clone", "action": "ALLOW", "args": [{"index": 0, "op": "MASKED_EQ", "mask": 1, "value": 2}]}]}');
    const r = run("compile", "--policy", f, "--format", "json");
    assert.equal(r.code, 0, r.err);
    const lines = r.err.split("\n").filter((l) => l !== "");
    assert.ok(lines.length >= 1);
    for (const l of lines) assert.match(l, /^syscage: warning: /);
    assert.match(r.err, /warn\.json rule #1/);
    const j = JSON.parse(r.out.toString("utf8")) as { warnings: string[] };
    assert.equal(j.warnings.length, lines.length);
  });

  test("bad input: one line, exit 1, no stack trace", () => {
    const bad = file("bad.json", '{\n  "rules": [\n    {"syscall": "opneat", "action": "ALLOW"}\n  ]\n}\n');
    assertOneLineError(run("compile", "--policy", bad), `${bad}:3: rules[0].syscall: unknown syscall "opneat"`, '"openat"');
    const syntax = file("syntax.json", '{\n  "rules": [\n}\n');
    assertOneLineError(run("compile", "--policy", syntax, "-o", join(DIR, "never.bpf")), `${syntax}:3:1: syntax error`);
    const field = file("field.json", '{\n  "rule": []\n}\n');
    assertOneLineError(run("stats", "--policy", field), `${field}:2: (top level): unknown field "rule"`, '"rules"');
    assertOneLineError(run("compile", "--policy", join(DIR, "missing.json")), "missing.json: no such file");
    assertOneLineError(run("compile", "--policy", POLICY, "--arch", "x86_64,sparc"), '--arch: unknown architecture "sparc"');
    assertOneLineError(run("compile", "--policy", POLICY, "--arch", "x86_64,"), "--arch: empty name");
    assertOneLineError(run("compile", "--policy", POLICY, "--format", "dis"), '--format: unknown format "dis"', '"disasm"');
  });
});

test("compile refuses to write raw bytes to a terminal", (t) => {
  if (spawnSync("script", ["--version"]).status !== 0) {
    t.skip("util-linux script(1) not installed: cannot give the command a terminal");
    return;
  }
  const cmd = `'${process.execPath}' --import tsx src/cli/main.ts compile --policy '${POLICY}' --format raw; echo "rc=$?"`;
  const r = spawnSync("script", ["-qec", cmd, "/dev/null"], { cwd: ROOT, encoding: "utf8" });
  const out = r.stdout.replace(/\r/g, "");
  assert.match(out, /^syscage: refusing to write a raw BPF program to the terminal; give -o FILE\.bpf/m);
  assert.match(out, /^rc=1$/m);
});

describe("syscage stats", () => {
  test("--json: per ABI instructions, executed avg/max, cacheable counts; x32 is never cached", () => {
    const raw = decodeProgram(new Uint8Array(run("compile", "--policy", POLICY, "--format", "raw").out), "raw", "little");
    const r = run("stats", "--policy", POLICY, "--json");
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out.toString("utf8")) as {
      args: string;
      abis: { abi: string; instructions: number; executed: { avg: number; max: number; maxNr: number; numbers: number }; cache: { modelled: boolean; reason?: string; cacheable: number; tableSize: number } }[];
    };
    assert.equal(j.args, "zero");
    assert.deepEqual(j.abis.map((a) => a.abi), ["x86_64", "x86", "x32"]);
    for (const a of j.abis) {
      assert.equal(a.instructions, raw.length);
      assert.ok(a.executed.avg >= 3 && a.executed.avg <= a.executed.max, JSON.stringify(a.executed));
      assert.equal(a.cache.tableSize, syscallTable(a.abi as AbiName).length);
      const t = syscallTable(a.abi as AbiName);
      assert.equal(a.executed.numbers, t[t.length - 1]!.nr - getAbi(a.abi as AbiName).nrOffset + 1);
    }
    // read, write, close are the only unconditional ALLOWs: exactly those are cacheable.
    const { syscalls: _list, ...counts } = j.abis[0]!.cache as typeof j.abis[0]["cache"] & { syscalls?: unknown };
    assert.deepEqual(counts, { modelled: true, cacheable: 3, tableSize: syscallTable("x86_64").length });
    assert.equal(j.abis[1]!.cache.cacheable, 3);
    assert.equal(j.abis[2]!.cache.modelled, false);
    assert.equal(j.abis[2]!.cache.cacheable, 0);
    assert.match(j.abis[2]!.cache.reason ?? "", /x32/);
  });

  test("text output: a table with one row per ABI and the notes", () => {
    const r = run("stats", "--policy", POLICY, "--arch", "x86_64,x32");
    assert.equal(r.code, 0, r.err);
    const text = r.out.toString("utf8");
    assert.match(text, /^ABI\s+instructions\s+executed avg\s+executed max\s+kernel-cacheable\n/);
    assert.match(text, new RegExp(`\\nx86_64\\s+\\d+\\s+[\\d.]+\\s+\\d+\\s+3 of ${syscallTable("x86_64").length}\\n`));
    assert.match(text, /\nx32\s+\d+\s+[\d.]+\s+\d+\s+0 of \d+ \(no kernel cache\)\n/);
    assert.match(text, /arguments all zero/);
  });
});

describe("programStats on hand-written programs", () => {
  const X86_64 = getAbi("x86_64").auditArch;
  // x86_64: read → ALLOW, everything else ERRNO(1); other arches KILL.
  const prog = [loadAbs(4), jumpIf("jeq", X86_64, 0, 4), loadAbs(0), jumpIf("jeq", 0, 0, 1), ret(0x7fff0000), ret(0x50001), ret(0x80000000)];

  test("counts executed instructions over table numbers and gaps, and cacheable syscalls", () => {
    const [x64, x86, x32] = programStats(prog, ["x86_64", "x86", "x32"]);
    const t64 = syscallTable("x86_64");
    assert.deepEqual(x64!.executed, { avg: 5, max: 5, maxNr: 0, numbers: t64[t64.length - 1]!.nr + 1 });
    assert.equal(x64!.instructions, 7);
    const { syscalls, ...cache } = x64!.cache;
    assert.deepEqual(cache, { modelled: true, cacheable: ["read"], tableSize: t64.length });
    assert.equal(syscalls.length, t64.length);
    assert.equal(x86!.executed.avg, 3);
    assert.equal(x86!.executed.max, 3);
    assert.deepEqual(x86!.cache.cacheable, []);
    // x32 numbers reach `ret ERRNO` (5 steps), and are never cached.
    assert.equal(x32!.executed.max, 5);
    assert.equal(x32!.cache.modelled, false);
    assert.deepEqual(x32!.cache.cacheable, []);
  });

  test("max and maxNr find the longest path; args are zero", () => {
    // x86_64: nr 1 (write) loads args[0] and ALLOWs when it is zero: 7 steps, the maximum.
    const p2 = [
      loadAbs(4),
      jumpIf("jeq", X86_64, 0, 6),
      loadAbs(0),
      jumpIf("jeq", 1, 0, 3),
      loadAbs(16),
      jumpIf("jeq", 0, 0, 1),
      ret(0x7fff0000),
      ret(0x50001),
      ret(0x80000000),
    ];
    const [s] = programStats(p2, ["x86_64"]);
    assert.equal(s!.executed.max, 7);
    assert.equal(s!.executed.maxNr, 1);
    assert.deepEqual(s!.cache.cacheable, [], "an argument load is not cacheable");
    const n = s!.executed.numbers;
    assert.equal(s!.executed.avg, (5 * (n - 1) + 7) / n);
  });
});
