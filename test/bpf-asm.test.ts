/**
 * `syscage asm`: the language `disasm` prints assembles back to the same
 * bytes for every program syscage emits (nspawn's default on every ABI,
 * container profiles, random policies) and for libseccomp's output (linear
 * and binary tree; real nspawn's dumps are in test/dump.test.ts); through the
 * CLI as `disasm | asm`; names (#openat, #x32:read, #AUDIT_ARCH_…); and a
 * program the kernel would refuse is refused with the verifier's rule and
 * the line.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import fc from "fast-check";
import { ABI_NAMES, getAbi, syscallNumber, type AbiName } from "../src/abi/index.js";
import { assemble } from "../src/bpf/asm.js";
import { encodeProgram } from "../src/bpf/codec.js";
import { disassemble } from "../src/bpf/disasm.js";
import type { Insn } from "../src/bpf/insn.js";
import { verify } from "../src/bpf/verify.js";
import { compile } from "../src/compile/index.js";
import { SyscageError } from "../src/errors.js";
import { definePolicy } from "../src/policy/model.js";
import { nspawnPolicy } from "../src/policy/nspawn.js";
import { readProfileFile } from "../src/policy/oci.js";
import { CLI_NODE_ARGS, ROOT, cli } from "./helpers/cli.js";
import { libseccompBuild, type LsSpec } from "./helpers/libseccomp.js";
import { needOracle } from "./helpers/oracles.js";

const DIR = mkdtempSync(join(tmpdir(), "syscage-asm-"));
after(() => rmSync(DIR, { recursive: true, force: true }));

/** disasm (with and without the ABI) then asm gives the same bytes. */
function roundTrips(insns: readonly Insn[], abi: AbiName | undefined, what: string): void {
  const endian = abi !== undefined ? getAbi(abi).endian : "little";
  const want = Buffer.from(encodeProgram(insns, endian));
  for (const opts of abi !== undefined ? [{ arch: abi }, {}] : [{}]) {
    const text = disassemble(insns, opts);
    const back = Buffer.from(encodeProgram(assemble(text, what, opts), endian));
    assert.ok(back.equals(want), `${what} (${JSON.stringify(opts)}) does not round-trip`);
  }
}

test("round trip: nspawn's default compiled for every ABI, and for the x86 family together", () => {
  for (const abi of ABI_NAMES) roundTrips(compile(nspawnPolicy({ abis: [abi] })).insns, abi, `nspawn ${abi}`);
  roundTrips(compile(nspawnPolicy({ abis: ["x86_64", "x86", "x32"] })).insns, "x86_64", "nspawn x86 family");
  roundTrips(compile(nspawnPolicy({ abis: ["aarch64", "arm"] })).insns, "aarch64", "nspawn arm family");
  roundTrips(compile(nspawnPolicy({ abis: ["s390x", "s390"] })).insns, "s390x", "nspawn s390 family");
});

test("round trip: Docker's and Podman's default profiles as syscage compiles them", (t) => {
  const files = ["/work/shared/data/profiles/docker-default.json", "/work/shared/data/profiles/podman-default.json"].filter((f) => existsSync(f));
  if (files.length === 0) {
    t.skip("no ../shared/data/profiles here");
    return;
  }
  for (const f of files) {
    for (const abis of [["x86_64", "x86", "x32"], ["aarch64", "arm"], ["s390x"], ["ppc64le"]] as AbiName[][]) {
      const policy = { ...readProfileFile(f).policy, abis };
      roundTrips(compile(policy).insns, abis[0], `${f} on ${abis.join(",")}`);
    }
  }
});

test("round trip: random policies with argument conditions on random ABIs (fast-check)", () => {
  const names = ["read", "write", "openat", "socket", "mmap", "ioctl", "clone", "personality", "kill", "futex"];
  const rule = fc.record({
    syscall: fc.constantFrom(...names),
    action: fc.constantFrom("ALLOW", "ERRNO(1)", "ERRNO(13)", "KILL_PROCESS", "TRAP(3)", "LOG"),
    conditions: fc.array(
      fc.record({ arg: fc.integer({ min: 0, max: 5 }), op: fc.constantFrom("EQ" as const, "NE" as const, "LT" as const, "GE" as const, "GT" as const), value: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) }),
      { maxLength: 2 },
    ),
  });
  fc.assert(
    fc.property(fc.constantFrom(...ABI_NAMES), fc.array(rule, { maxLength: 8 }), fc.constantFrom("ALLOW", "ERRNO(38)", "KILL_PROCESS"), (abi, rules, def) => {
      const policy = definePolicy({ abis: [abi], rules, default: def, origin: "fast-check" });
      roundTrips(compile(policy).insns, abi, `random policy on ${abi}`);
    }),
    { numRuns: 60 },
  );
});

test("round trip: libseccomp's programs (linear and binary tree, argument conditions)", (t) => {
  if (!needOracle(t, "python3-seccomp")) return;
  const rules: LsSpec["rules"] = [
    { syscall: "read", action: "ALLOW" },
    { syscall: "write", action: "ALLOW" },
    { syscall: "openat", action: { ERRNO: 13 }, args: [{ arg: 0, op: "EQ", value: 0xffffff9cn }] },
    { syscall: "socket", action: { ERRNO: 97 }, args: [{ arg: 0, op: "EQ", value: 16n }, { arg: 2, op: "EQ", value: 9n }] },
    { syscall: "mmap", action: "KILL_PROCESS", args: [{ arg: 2, op: "MASKED_EQ", mask: 4n, value: 4n }] },
    { syscall: "personality", action: "ALLOW", args: [{ arg: 0, op: "GE", value: 0x100000000n }] },
    { syscall: "kill", action: "TRAP" },
    { syscall: "futex", action: "LOG" },
  ];
  const specs: LsSpec[] = [];
  for (const optimize of [1, 2] as const) {
    specs.push({ default: { ERRNO: 38 }, arches: ["x86_64"], optimize, rules });
    specs.push({ default: { ERRNO: 1 }, badarch: "KILL_PROCESS", arches: ["x86_64", "x86", "x32"], optimize, rules });
  }
  const built = libseccompBuild(specs);
  built.forEach((b, i) => {
    assert.deepEqual(b.errors, [], `spec ${i}`);
    const bytes = Buffer.from(b.bpf);
    const insns: Insn[] = [];
    for (let o = 0; o < bytes.length; o += 8) insns.push({ code: bytes.readUInt16LE(o), jt: bytes[o + 2]!, jf: bytes[o + 3]!, k: bytes.readUInt32LE(o + 4) });
    assert.deepEqual(verify(insns), [], `libseccomp spec ${i} verifies`);
    roundTrips(insns, "x86_64", `libseccomp spec ${i}`);
  });
});

test("the CLI: disasm | asm gives the same bytes (host and s390x byte order); -o; stdin", () => {
  const host = join(DIR, "nspawn.bpf");
  assert.equal(cli("compile", "-o", host).code, 0);
  const s390 = join(DIR, "s390x.bpf");
  assert.equal(cli("compile", "--arch", "s390x", "-o", s390).code, 0);
  for (const [file, arch] of [[host, []], [s390, ["--arch", "s390x"]]] as const) {
    const script = `${JSON.stringify(process.execPath)} ${CLI_NODE_ARGS.map((a) => JSON.stringify(a)).join(" ")} disasm ${JSON.stringify(file)} ${arch.join(" ")} | ${JSON.stringify(process.execPath)} ${CLI_NODE_ARGS.map((a) => JSON.stringify(a)).join(" ")} asm - ${arch.join(" ")}`;
    const r = spawnSync("sh", ["-c", script], { cwd: ROOT });
    assert.equal(r.status, 0, r.stderr.toString());
    assert.ok(r.stdout.equals(readFileSync(file)), `${file}: disasm | asm differs`);
  }
  const text = join(DIR, "nspawn.s");
  writeFileSync(text, cli("disasm", host).out);
  const out = join(DIR, "back.bpf");
  const r = cli("asm", text, "-o", out);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, "");
  assert.ok(readFileSync(out).equals(readFileSync(host)));
  const j = cli("asm", text, "--json");
  assert.equal(j.code, 0, j.err);
  const doc = JSON.parse(j.out) as { program: string; byteOrder: string; instructions: { line: number; code: number }[] };
  assert.ok(Buffer.from(doc.program, "hex").equals(readFileSync(host)));
  assert.equal(doc.instructions.length, readFileSync(host).length / 8);
  assert.equal(doc.instructions[0]!.line, 1);
});

test("names: syscalls on --arch, on the arch compared above, with an ABI prefix; AUDIT_ARCH and X32_SYSCALL_BIT", () => {
  const x86_64 = getAbi("x86_64").auditArch >>> 0;
  const p = assemble(
    `
      ld [4]
      jne #AUDIT_ARCH_X86_64, other
      ld [0]
      jge #X32_SYSCALL_BIT, x32
      jeq #openat, deny, allow
x32:  jeq #x32:openat, deny, allow
other: jne #AUDIT_ARCH_I386, allow
      ld [0]
      jeq #openat, deny, allow
allow: ret ALLOW
deny:  ret ERRNO(13)
`,
    "names.s",
  );
  assert.equal(p[1]!.k >>> 0, x86_64);
  assert.equal(p[3]!.k, 0x40000000);
  assert.equal(p[4]!.k, syscallNumber("x86_64", "openat"));
  assert.equal(p[5]!.k >>> 0, syscallNumber("x32", "openat")! >>> 0);
  assert.equal(p[6]!.k >>> 0, getAbi("x86").auditArch >>> 0);
  assert.equal(p[8]!.k, syscallNumber("x86", "openat"), "numbered on i386 after the i386 compare");
  assert.deepEqual(verify(p), []);
  // --arch decides for a program that compares no arch.
  assert.equal(assemble("ld [0]\njeq #openat, a, b\na: ret ALLOW\nb: ret KILL_PROCESS", "f.s", { arch: "aarch64" })[1]!.k, syscallNumber("aarch64", "openat"));
  const fails = (src: string, line: number, re: RegExp, opts = {}): void => {
    assert.throws(
      () => assemble(src, "f.s", opts),
      (e: unknown) => e instanceof SyscageError && e.code === "BPF_ASM" && e.message.startsWith(`f.s:${line}:`) && re.test(e.message),
    );
  };
  fails("ld [0]\njeq #openat, a, b\na: ret ALLOW\nb: ret ALLOW", 2, /a syscall name needs an ABI: give --arch, write #x86_64:openat/);
  fails("ld [0]\njeq #nosuchcall, a, b\na: ret ALLOW\nb: ret ALLOW", 2, /x86_64 has no syscall "nosuchcall"/, { arch: "x86_64" });
  fails("ld [0]\njeq #vax:openat, a, b\na: ret ALLOW\nb: ret ALLOW", 2, /"vax" in "#vax:openat" is not an ABI/);
  // A number is still a number whatever the options.
  assert.equal(assemble("ld #59\nret a", "f.s", { arch: "x86_64" })[0]!.k, 59);
});

test("asm refuses a program the kernel would refuse: the verifier's rule and the line; exit 1, one line", () => {
  const cases: [string, number, RegExp][] = [
    ["ld [0]\n; comment line\nld [64]\nret ALLOW\n", 3, /seccomp-load/],
    ["ld [0]\njeq #1, a, b\na: ret ALLOW\nb: ld [0]\n", 4, /last-not-ret/],
    ["ld M[3]\nret a\n", 1, /mem-uninit/],
    ["ld [0]\ndiv #0\nret a\n", 2, /div-by-zero/],
    ["ldx #4\nld [x + 0]\nret ALLOW\n", 2, /seccomp-opcode/],
  ];
  for (const [src, line, rule] of cases) {
    const f = join(DIR, `bad-${line}.s`);
    writeFileSync(f, src);
    const r = cli("asm", f, "-o", join(DIR, "never.bpf"));
    assert.equal(r.code, 1, r.err);
    assert.equal(r.out, "");
    const lines = r.err.split("\n").filter((l) => l !== "");
    assert.equal(lines.length, 1, r.err);
    assert.match(lines[0]!, new RegExp(`^syscage: ${f.replace(/[.]/g, "\\.")}:${line}: instruction \\d+: the kernel would refuse this program: `));
    assert.match(lines[0]!, rule);
    assert.equal(existsSync(join(DIR, "never.bpf")), false, "nothing written");
  }
  // Syntax errors name the line too; an empty file is an error.
  const bad = join(DIR, "syntax.s");
  writeFileSync(bad, "ld [0]\n\njeq #1, nowhere\nret ALLOW\n");
  const r = cli("asm", bad, "-o", join(DIR, "never.bpf"));
  assert.equal(r.code, 1);
  assert.match(r.err, new RegExp(`^syscage: ${bad.replace(/[.]/g, "\\.")}:3: unknown label "nowhere"\n$`));
  const empty = join(DIR, "empty.s");
  writeFileSync(empty, "; nothing\n");
  assert.match(cli("asm", empty, "-o", join(DIR, "never.bpf")).err, /no instructions/);
  assert.match(cli("asm", join(DIR, "missing.s")).err, /missing\.s: no such file/);
});
