/**
 * Argument types and the `argumentWidth: "kernel"` semantics: the generated
 * type table (per-ABI differences), what conditions compare, the shorter code
 * the compiler emits, and the Docker default profile's AF_ALG / AF_VSOCK
 * denials for every high word.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { argType, argWidth, getAbi, syscallArgTypes, syscallNumber, syscallTable, ABI_NAMES, type AbiName } from "../src/abi/index.js";
import { interpret } from "../src/bpf/index.js";
import { compile } from "../src/compile/index.js";
import type { Node } from "../src/compile/dag.js";
import { argWords } from "../src/compile/conditions.js";
import { conditionHolds, conditionWidth, decide } from "../src/policy/evaluate.js";
import { parsePolicyJson } from "../src/policy/json.js";
import { definePolicy, type Policy } from "../src/policy/model.js";
import { nspawnPolicy } from "../src/policy/nspawn.js";
import { parseProfile } from "../src/policy/oci.js";
import { rng } from "./helpers/compile-diff.js";
import { sharedDataDir } from "./helpers/oracles.js";

const at = (abi: AbiName, name: string, i: number): string => {
  const t = argType(abi, name, i);
  return t === undefined ? "-" : `${t.name}:${t.type}:${t.bits}${t.signed ? "s" : "u"}`;
};

// ---- the table ----------------------------------------------------------------------

test("argument types: x86_64 sanity rows of SOURCES.md", () => {
  assert.deepEqual([0, 1, 2].map((i) => at("x86_64", "socket", i)), ["family:int:32s", "type:int:32s", "protocol:int:32s"]);
  assert.equal(at("x86_64", "mkdir", 1), "mode:umode_t:16u");
  assert.deepEqual([0, 2, 3].map((i) => at("x86_64", "openat", i)), ["dfd:int:32s", "flags:int:32s", "mode:umode_t:16u"]);
  assert.equal(at("x86_64", "openat", 1), "filename:const char __user *:64u");
  assert.equal(at("x86_64", "personality", 0), "personality:unsigned int:32u");
  assert.equal(at("x86_64", "ioctl", 1), "cmd:unsigned int:32u");
  assert.equal(at("x86_64", "kill", 0), "pid:pid_t:32s");
  assert.equal(at("x86_64", "ptrace", 0), "request:long:64s");
  assert.equal(at("x86_64", "stat", 0).split(":")[0], "filename", "table name stat → newstat");
  assert.equal(argType("x86_64", "socket", 3), undefined, "socket has three arguments");
  assert.equal(syscallArgTypes("x86_64", "tuxcall"), undefined, "no entry point: no data");
  assert.equal(argWidth("x86_64", "tuxcall", 0), 64, "no data: the register width");
  assert.equal(syscallArgTypes("x86", "break"), undefined);
  assert.equal(argWidth("x86", "break", 0), 32, "no data on a 32-bit ABI: 32");
});

test("argument types: 16-bit uids, ia32's 32-bit cut, x32 compat entries", () => {
  // kernel/uid16.c's old_uid_t: 16 bits on x86 (ia32), arm, m68k, sh, s390; 32 on powerpc, mips, parisc.
  for (const abi of ["x86", "arm", "m68k", "sh", "s390"] as const) assert.equal(at(abi, "lchown", 1), "user:old_uid_t:16u", abi);
  for (const abi of ["ppc", "mips", "parisc"] as const) assert.equal(argWidth(abi, "lchown", 1), 32, abi);
  assert.equal(at("x86", "lchown32", 1), "user:uid_t:32u");
  assert.equal(at("x86_64", "chown", 1), "user:uid_t:32u");
  // ia32: every argument cut to 32 bits, narrower types kept.
  assert.equal(at("x86", "ptrace", 0), "request:compat_long_t:32s", "compat_sys_ptrace");
  assert.equal(at("x86", "personality", 0), "personality:unsigned int:32u");
  assert.equal(at("x86", "lseek", 1), "offset:compat_off_t:32s");
  assert.equal(at("x86", "mkdir", 1), "mode:umode_t:16u");
  assert.equal(argWidth("x86", "mmap2", 0), 32);
  for (const abi of ABI_NAMES) {
    if (getAbi(abi).argBits !== 32) continue;
    for (const e of syscallTable(abi)) for (const a of syscallArgTypes(abi, e.name) ?? []) assert.ok(a === undefined || a.bits <= 32, `${abi} ${e.name}`);
  }
  // x32: compat entry points take compat types (32-bit), common ones the x86_64 types.
  assert.equal(argWidth("x32", "ioctl", 2), 32, "compat_sys_ioctl's compat_ulong_t arg");
  assert.equal(argWidth("x86_64", "ioctl", 2), 64);
  assert.equal(at("x32", "socket", 0), "family:int:32s");
});

test("argument types: clone's argument order per architecture", () => {
  const order = (abi: AbiName): string => (syscallArgTypes(abi, "clone") ?? []).map((a) => a?.name ?? "?").join(",");
  assert.equal(order("x86_64"), "clone_flags,newsp,parent_tidptr,child_tidptr,tls");
  for (const abi of ["aarch64", "arm", "riscv64", "ppc64le", "ppc", "mips", "mips64n32"] as const) assert.equal(order(abi), "clone_flags,newsp,parent_tidptr,tls,child_tidptr", abi);
  for (const abi of ["s390x", "s390"] as const) assert.equal(order(abi), "newsp,clone_flags,parent_tidptr,child_tidptr,tls", abi);
  assert.equal(order("x86"), "clone_flags,newsp,parent_tidptr,tls_val,child_tidptr", "ia32: compat_sys_ia32_clone");
  assert.equal(order("sh"), "clone_flags,newsp,parent_tidptr,child_tidptr,tls");
});

test("the generated table is up to date with the data (scripts/gen-argtypes.ts --check)", async (t) => {
  const dir = sharedDataDir(t);
  if (dir === null) return;
  const { generateArgTypes } = await import("../scripts/gen-argtypes.js");
  const { text } = generateArgTypes(dir);
  assert.equal(text, readFileSync(new URL("../src/abi/generated/argtypes.ts", import.meta.url), "utf8"));
});

// ---- semantics -------------------------------------------------------------------------

const X86_64 = getAbi("x86_64").auditArch;
const call = (name: string, args: bigint[], abi: AbiName = "x86_64") => ({ arch: getAbi(abi).auditArch, nr: syscallNumber(abi, name)!, args });

test("kernel widths: a condition compares the low bits the type keeps, for all seven operators", () => {
  assert.equal(conditionHolds({ arg: 0, op: "EQ", value: 16n }, 0x1_0000_0010n, 32), true);
  assert.equal(conditionHolds({ arg: 0, op: "EQ", value: 16n }, 0x1_0000_0010n, 64), false);
  assert.equal(conditionHolds({ arg: 0, op: "NE", value: 16n }, 0xffff_ffff_0000_0010n, 32), false);
  // Ordered comparisons are unsigned on the narrowed bit pattern: int -1 is 0xffffffff.
  assert.equal(conditionHolds({ arg: 0, op: "LT", value: 5n }, 0xffff_ffff_ffff_ffffn, 32), false);
  assert.equal(conditionHolds({ arg: 0, op: "GE", value: 0x8000_0000n }, 0xffff_ffff_ffff_fffbn, 32), true, "GE 0x80000000 catches negative ints");
  assert.equal(conditionHolds({ arg: 0, op: "LE", value: 0x1ffn }, 0x7_0000_01ffn, 16), true);
  assert.equal(conditionHolds({ arg: 0, op: "GT", value: 0x1ffn }, 0x1_0000n, 16), false, "mode 0x10000 is 0 to the kernel");
  assert.equal(conditionHolds({ arg: 0, op: "MASKED_EQ", mask: 0xf000n, value: 0x8000n }, 0xffff_ffff_ffff_8000n, 16), true);
  // AT_FDCWD written as -100 matches the int -100 whatever the high bits.
  const p = definePolicy({ abis: ["x86_64"], default: "ALLOW", rules: [{ syscall: "openat", action: "ERRNO(EPERM)", conditions: [{ arg: 0, op: "EQ", value: -100 }] }] });
  for (const reg of [0xffff_ff9cn, 0xffff_ffff_ffff_ff9cn, 0x1234_5678_ffff_ff9cn]) assert.equal(decide(p, call("openat", [reg, 0n, 0n, 0n])).action.kind, "ERRNO", `0x${reg.toString(16)}`);
  assert.equal(decide(p, call("openat", [0xffff_ff9dn, 0n, 0n, 0n])).action.kind, "ALLOW");
  // u64: libseccomp's reading, the zero-extended AT_FDCWD is missed (libseccomp issue #383).
  const wide: Policy = { ...p, argumentWidth: "u64" };
  assert.equal(decide(wide, call("openat", [0xffff_ff9cn, 0n, 0n, 0n])).action.kind, "ALLOW");
  assert.equal(conditionWidth(wide, "x86_64", "openat", 0), 64);
  assert.equal(conditionWidth(p, "x86_64", "openat", 3), 16);
  assert.equal(conditionWidth(p, "x86_64", "openat", 1), 64);
});

test("argumentWidth in the JSON format and definePolicy", () => {
  assert.equal(definePolicy({}).argumentWidth, "kernel");
  assert.equal(parsePolicyJson('{"argumentWidth": "u64"}', "p.json").argumentWidth, "u64");
  assert.equal(parsePolicyJson("{}", "p.json").argumentWidth, "kernel");
  assert.throws(() => parsePolicyJson('{"argumentWidth": "u32"}', "p.json"), /argumentWidth/);
  assert.throws(() => definePolicy({ argumentWidth: "u32" as "u64" }), /argumentWidth: "u32"/);
});

test("compile warns when a constant does not fit the compared width, naming the type", () => {
  const p = definePolicy({ abis: ["x86_64", "x86"], rules: [{ syscall: "mkdir", action: "ALLOW", conditions: [{ arg: 1, op: "EQ", value: 0x1_01ff }] }, { syscall: "socket", action: "ALLOW", conditions: [{ arg: 0, op: "EQ", value: -1 }] }] });
  const w = compile(p).warnings;
  assert.ok(w.some((x) => /arg1 constant 0x101ff does not fit in 16 bits; on x86_64 \(mode is umode_t\), x86 \(mode is umode_t\)/.test(x)), w.join("\n"));
  assert.ok(!w.some((x) => /socket|arg0/.test(x)), "-1 is a sign-extended int: no warning");
});

// ---- code ------------------------------------------------------------------------------

/** Test nodes reachable from a decision node. */
function testsOf(n: Node, out: { word: number; mask: number | null }[] = [], seen = new Set<number>()): { word: number; mask: number | null }[] {
  if (n.kind !== "test" || seen.has(n.id)) return out;
  seen.add(n.id);
  out.push({ word: n.word, mask: n.mask });
  testsOf(n.t, out, seen);
  testsOf(n.f, out, seen);
  return out;
}

function decisionNode(policy: Policy, abi: AbiName, name: string): Node {
  const d = compile(policy).sections.flatMap((s) => s.decisions).find((x) => x.abi === abi && x.name === name);
  assert.ok(d !== undefined, `${abi} ${name}`);
  return d.node;
}

test("shorter code: one word for 32-bit arguments, `and #0xffff` for umode_t; fewer instructions than u64", () => {
  const input = {
    abis: ["x86_64"] as AbiName[],
    default: "ALLOW",
    rules: [
      { syscall: "socket", action: "ERRNO(EAFNOSUPPORT)", conditions: [{ arg: 0, op: "EQ", value: 16 }, { arg: 2, op: "EQ", value: 9 }] },
      { syscall: "mkdir", action: "ERRNO(EPERM)", conditions: [{ arg: 1, op: "MASKED_EQ", mask: 0o7000, value: 0o4000 }] },
      { syscall: "fchmod", action: "ERRNO(EPERM)", conditions: [{ arg: 1, op: "GT", value: 0o777 }] },
    ],
  };
  const k = definePolicy(input);
  const u = definePolicy({ ...input, argumentWidth: "u64" });
  const { lo: lo0, hi: hi0 } = argWords(0, "little");
  const { lo: lo2, hi: hi2 } = argWords(2, "little");
  const sock = testsOf(decisionNode(k, "x86_64", "socket"));
  assert.deepEqual(sock.map((x) => x.word).sort(), [lo0, lo2].sort(), "socket: low words only");
  assert.ok(testsOf(decisionNode(u, "x86_64", "socket")).some((x) => x.word === hi0 || x.word === hi2), "u64 reads the high words");
  const mode = testsOf(decisionNode(k, "x86_64", "fchmod"));
  assert.deepEqual(mode, [{ word: argWords(1, "little").lo, mask: 0xffff }]);
  const kLen = compile(k).insns.length;
  const uLen = compile(u).insns.length;
  assert.ok(kLen < uLen, `kernel ${kLen} < u64 ${uLen}`);
  // Executed on the audit socket path: fewer too.
  const steps = (p: Policy): number => interpret(compile(p).insns, { ...call("socket", [16n, 3n, 9n]), instructionPointer: 0n }, "little").steps;
  assert.ok(steps(k) < steps(u), `${steps(k)} < ${steps(u)}`);
  // And still what decide() says, with high bits set.
  for (const args of [[0x1_0000_0010n, 3n, 0x1_0000_0009n], [0x10n, 0n, 9n], [0x11n, 0n, 9n]]) {
    const c = { ...call("socket", args), instructionPointer: 0n };
    assert.equal(interpret(compile(k).insns, c, "little").ret >>> 0, decide(k, c).ret >>> 0);
  }
  for (const m of [0o4755n, 0x1_0000_0000_0000n | 0o4755n, 0xffff_ffff_ffff_0000n | 0o0644n]) {
    const c = { ...call("mkdir", [0n, m]), instructionPointer: 0n };
    assert.equal(interpret(compile(k).insns, c, "little").ret >>> 0, decide(k, c).ret >>> 0);
  }
});

test("nspawn default: plain EQ on family and protocol, narrowed to the ints socket() reads", () => {
  const p = nspawnPolicy({ abis: ["x86_64", "x86", "x32"] });
  const audit = p.rules.find((r) => r.syscall === "socket")!;
  assert.deepEqual(audit.conditions.map((c) => c.op), ["EQ", "EQ"]);
  const prog = compile(p).insns;
  for (const abi of ["x86_64", "x32", "x86"] as const) {
    for (const hi of HIGH_WORDS) {
      const c = { ...call("socket", [(hi << 32n) | 16n, 3n, (hi << 32n) | 9n], abi), instructionPointer: 0n };
      assert.equal(interpret(prog, c, "little").action.action, "ERRNO", `${abi} high word 0x${hi.toString(16)}`);
      const route = { ...call("socket", [(hi << 32n) | 16n, 3n, 0n], abi), instructionPointer: 0n };
      assert.equal(interpret(prog, route, "little").action.action, "ALLOW");
    }
  }
});

// ---- Docker's default profile -------------------------------------------------------------

const r = rng(0xa1f);
/** High-word classes: 0, 1, the sign edges, all ones, and random words. */
const HIGH_WORDS: readonly bigint[] = [0n, 1n, 0x7fff_ffffn, 0x8000_0000n, 0xffff_ffffn, ...Array.from({ length: 8 }, () => BigInt(Math.floor(r() * 0x1_0000_0000)))];

test("Docker's default profile compiled by syscage denies socket(AF_ALG | hi << 32) and socket(AF_VSOCK | hi << 32) for every high word", (t) => {
  const dir = sharedDataDir(t);
  if (dir === null) return;
  const text = readFileSync(join(dir, "profiles", "docker-default.json"), "utf8");
  const imported = parseProfile(text, "docker-default.json", { hostArch: "x86_64", kernel: "6.18" }).policy;
  // The importer keeps runc's whole-register reading ("u64") unless told otherwise; syscage's own
  // semantics are the kernel widths.
  const policy: Policy = { ...imported, argumentWidth: "kernel" };
  const prog = compile(policy);
  const sock = decisionNode(policy, "x86_64", "socket");
  // The proof for all 2^32 high words: socket's decision never reads args[0]'s high word, so it
  // is a function of the low word alone; the runs below then cover every low-word class.
  const { hi } = argWords(0, "little");
  assert.ok(!testsOf(sock).some((x) => x.word === hi), "socket's decision reads args[0]'s high word");
  for (const family of [38n, 40n]) {
    for (const h of HIGH_WORDS) {
      for (const type of [1n, 5n, 0x1_0000_0002n]) {
        const c = { arch: X86_64, nr: syscallNumber("x86_64", "socket")!, instructionPointer: 0n, args: [(h << 32n) | family, type, 0n] };
        const got = interpret(prog.insns, c, "little");
        assert.equal(got.action.action, "ERRNO", `socket(0x${c.args[0]!.toString(16)}, …)`);
        assert.equal(got.ret >>> 0, decide(policy, c).ret >>> 0);
      }
    }
  }
  // AF_INET (2) with any high word is allowed (the kernel reads 2).
  for (const h of HIGH_WORDS) {
    const c = { arch: X86_64, nr: syscallNumber("x86_64", "socket")!, instructionPointer: 0n, args: [(h << 32n) | 2n, 1n, 0n] };
    assert.equal(interpret(prog.insns, c, "little").action.action, "ALLOW");
  }
  // libseccomp's reading (what Docker installs): the high-word spellings get through.
  const wide = compile(imported.argumentWidth === "u64" ? imported : { ...policy, argumentWidth: "u64" });
  const c = { arch: X86_64, nr: syscallNumber("x86_64", "socket")!, instructionPointer: 0n, args: [0x1_0000_0026n, 5n, 0n] };
  assert.equal(interpret(wide.insns, c, "little").action.action, "ALLOW", "the hole under u64");
});

test("stats counts the narrowed conditions per ABI", async () => {
  const { conditionWidthStats, programStats } = await import("../src/analyze/stats.js");
  const p = definePolicy({
    abis: ["x86_64", "x86"],
    rules: [
      { syscall: "socket", action: "ALLOW", conditions: [{ arg: 0, op: "EQ", value: 2 }] },
      { syscall: "mkdir", action: "ALLOW", conditions: [{ arg: 1, op: "LT", value: 0o1000 }] },
      { syscall: "mmap", action: "ALLOW", conditions: [{ arg: 2, op: "MASKED_EQ", mask: 4, value: 0 }] },
    ],
  });
  // x86_64: int 32 and umode_t 16 narrowed, mmap's unsigned long prot is not; x86 (32-bit registers): only umode_t.
  assert.deepEqual(conditionWidthStats(p, "x86_64"), { conditions: 3, narrowed: 2, byWidth: { 32: 1, 16: 1 } });
  assert.deepEqual(conditionWidthStats(p, "x86"), { conditions: 3, narrowed: 1, byWidth: { 16: 1 } });
  assert.deepEqual(conditionWidthStats({ ...p, argumentWidth: "u64" }, "x86_64"), { conditions: 3, narrowed: 0, byWidth: {} });
  assert.equal(programStats(compile(p).insns, ["x86_64"], p)[0]!.conditions?.narrowed, 2);
});
