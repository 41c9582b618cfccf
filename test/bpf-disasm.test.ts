import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { SyscageError } from "../src/errors.js";
import {
  aluK,
  aluX,
  insn,
  jump,
  jumpIf,
  jumpIfX,
  loadAbs,
  loadConst,
  loadInd,
  loadLen,
  loadMem,
  loadXConst,
  loadXLen,
  loadXMem,
  loadXMsh,
  neg,
  ret,
  retA,
  store,
  storeX,
  tax,
  txa,
  type Insn,
} from "../src/bpf/insn.js";
import { encodeProgram } from "../src/bpf/codec.js";
import { disassemble, disassembleLines } from "../src/bpf/disasm.js";
import { assemble } from "../src/bpf/asm.js";
import { verify } from "../src/bpf/verify.js";

const X86_64 = 0xc000003e;
const I386 = 0x40000003;
const S390X = 0x80000016;

function roundTrips(p: readonly Insn[]): void {
  const text = disassemble(p);
  const back = assemble(text);
  assert.deepEqual(Buffer.from(encodeProgram(back, "little")), Buffer.from(encodeProgram(p, "little")), text);
}

test("the documented example layout", () => {
  const p = [loadAbs(4), jumpIf("jeq", X86_64, 0, 3), loadAbs(0), jumpIf("jeq", 59, 1, 0), ret(0x7fff0000), ret(0x50001)];
  assert.equal(
    disassemble(p),
    [
      "      ld [4]                       ; arch",
      "      jeq #0xc000003e, L2, L5      ; AUDIT_ARCH_X86_64",
      "L2:   ld [0]                       ; nr",
      "      jeq #59, L5, L4              ; execve",
      "L4:   ret #0x7fff0000              ; ALLOW",
      "L5:   ret #0x50001                 ; ERRNO(1)",
      "",
    ].join("\n"),
  );
});

test("labels only on jump targets", () => {
  const lines = disassembleLines([loadAbs(0), jumpIf("jeq", 1, 1, 0), ret(0), ret(1)]);
  assert.deepEqual(
    lines.map((l) => l.label),
    [undefined, undefined, "L2", "L3"],
  );
});

test("every instruction kind prints in x/net/bpf style", () => {
  const p: Insn[] = [
    loadAbs(8), loadAbs(2, 2), loadAbs(3, 1), loadInd(4), loadInd(1, 2), loadConst(5), loadConst(0xdeadbeef), loadLen(), loadMem(3),
    loadXConst(7), loadXLen(), loadXMem(2), loadXMsh(14), store(1), storeX(2), aluK("add", 1), aluX("rsh"), aluK("mod", 0x10000),
    neg(), tax(), txa(), jump(0), jumpIfX("jgt", 0, 0), jumpIf("jset", 4, 0, 0), retA(), ret(0),
  ];
  const texts = disassembleLines(p).map((l) => l.text);
  assert.deepEqual(texts, [
    "ld [8]", "ldh [2]", "ldb [3]", "ld [x + 4]", "ldh [x + 1]", "ld #5", "ld #0xdeadbeef", "ld #len", "ld M[3]",
    "ldx #7", "ldx #len", "ldx M[2]", "ldx 4*([14]&0xf)", "st M[1]", "stx M[2]", "add #1", "rsh x", "mod #0x10000",
    "neg", "tax", "txa", "ja L22", "jgt x, L23, L23", "jset #4, L24, L24", "ret a", "ret #0",
  ]);
  roundTrips(p);
});

test("comments: fields, AUDIT_ARCH per path, syscalls per arch (x86_64 vs x32 vs i386), actions", () => {
  const p = [
    loadAbs(4), // 0
    jumpIf("jeq", X86_64, 2, 0), // 1 → 4
    jumpIf("jeq", I386, 7, 9), // 2 → 10, else 12
    ret(0), // 3 (unreached)
    loadAbs(0), // 4
    jumpIf("jge", 0x40000000, 2, 0), // 5 → 8
    jumpIf("jeq", 59, 5, 5), // 6
    ret(0), // 7
    jumpIf("jeq", 0x40000002, 3, 3), // 8: x32 open
    ret(0), // 9
    loadAbs(0), // 10
    jumpIf("jeq", 11, 0, 0), // 11: i386 execve
    ret(0x7fff0000), // 12
  ];
  const c = disassembleLines(p).map((l) => l.comment);
  assert.equal(c[0], "arch");
  assert.equal(c[1], "AUDIT_ARCH_X86_64");
  assert.equal(c[2], "AUDIT_ARCH_I386");
  assert.equal(c[4], "nr");
  assert.equal(c[5], "X32_SYSCALL_BIT");
  assert.equal(c[6], "execve");
  assert.equal(c[8], "open");
  assert.equal(c[11], "execve");
  assert.equal(c[12], "ALLOW");
  assert.equal(c[3], "KILL_THREAD");
  roundTrips(p);
});

test("argument halves follow the ABI's byte order", () => {
  const p = [loadAbs(16), loadAbs(20), loadAbs(8), loadAbs(60), retA()];
  // No arch anywhere: the byte order is unknown, so both readings are given (ld [20] is the low word on s390x).
  const unknown = disassembleLines(p).map((l) => l.comment);
  assert.deepEqual(unknown.slice(0, 4), ["args[0] lo (LE) / hi (BE)", "args[0] hi (LE) / lo (BE)", "instruction_pointer lo (LE) / hi (BE)", "args[5] hi (LE) / lo (BE)"]);
  const le = disassembleLines(p, { arch: "x86_64" }).map((l) => l.comment);
  assert.deepEqual(le.slice(0, 4), ["args[0] lo", "args[0] hi", "instruction_pointer lo", "args[5] hi"]);
  const be = disassembleLines(p, { arch: "s390x" }).map((l) => l.comment);
  assert.deepEqual(be.slice(0, 4), ["args[0] hi", "args[0] lo", "instruction_pointer hi", "args[5] lo"]);
  // Learned from the arch check on the path, without an option.
  const checked = [loadAbs(4), jumpIf("jeq", S390X, 0, 1), loadAbs(16), retA()];
  assert.equal(disassembleLines(checked)[2]!.comment, "args[0] hi");
  assert.equal(disassembleLines(checked, { arch: "x86_64" })[2]!.comment, "args[0] hi", "the path's arch wins over --arch");
  // A load where paths of an s390x check and an unchecked one meet: the program only knows big-endian arches.
  const joined = [loadAbs(4), jumpIf("jeq", S390X, 0, 1), loadAbs(0), loadAbs(20), retA()];
  assert.equal(disassembleLines(joined)[3]!.comment, "args[0] lo");
  assert.equal(disassembleLines(joined, { arch: "x86_64" })[3]!.comment, "args[0] hi", "--arch decides where the path does not");
  // x86_64 and s390x paths meet: no single byte order.
  const mixed = [loadAbs(4), jumpIf("jeq", X86_64, 1, 0), jumpIf("jeq", S390X, 0, 0), loadAbs(20), retA()];
  assert.equal(disassembleLines(mixed)[3]!.comment, "args[0] hi (LE) / lo (BE)");
  // The compiled s390x filter: every argument load after the arch check is named in big-endian order.
  const s390 = [loadAbs(4), jumpIf("jeq", S390X, 0, 3), loadAbs(0), loadAbs(16), loadAbs(20), retA()];
  assert.deepEqual(disassembleLines(s390).slice(3, 5).map((l) => l.comment), ["args[0] hi", "args[0] lo"]);
});

test("--arch names syscalls when the program has no arch check", () => {
  const p = [loadAbs(0), jumpIf("jeq", 59, 0, 0), ret(0)];
  assert.equal(disassembleLines(p)[1]!.comment, undefined);
  assert.equal(disassembleLines(p, { arch: "x86_64" })[1]!.comment, "execve");
  assert.equal(disassembleLines(p, { arch: "x86" })[1]!.comment, "oldolduname"); // i386 59 (syscall_32.tbl)
});

test("conditional jumps with jt = jf = 0 and ja +0 survive the round trip", () => {
  roundTrips([jumpIf("jeq", 0, 0, 0), jump(0), jumpIfX("jset", 0, 0), ret(0)]);
});

test("invalid opcodes and out-of-range jumps print as .insn and round-trip", () => {
  const p = [insn(0xffff, 0x12345678, 3, 4), jump(9), jumpIf("jeq", 1, 200, 0), insn(0x8c), ret(1)];
  const text = disassemble(p);
  assert.match(text, /\.insn 0xffff, 3, 4, 0x12345678/);
  roundTrips(p);
});

/** Random valid seccomp programs: every allowed opcode, in-range forward jumps, ret last. */
const validProgram = fc
  .array(fc.record({ sel: fc.nat(), k: fc.integer({ min: 0, max: 0xffffffff }), a: fc.nat(), b: fc.nat() }), { minLength: 0, maxLength: 60 })
  .map((seeds) => {
    const n = seeds.length + 1;
    const p: Insn[] = seeds.map((s, pc) => {
      const room = n - pc - 2; // furthest forward offset that stays inside
      const off = (x: number): number => x % (Math.min(255, room) + 1);
      const ops = ["add", "sub", "mul", "div", "and", "or", "xor", "lsh", "rsh"] as const;
      const jops = ["jeq", "jgt", "jge", "jset"] as const;
      switch (s.sel % 14) {
        case 0:
          return loadAbs(4 * (s.a % 16));
        case 1:
          return loadConst(s.k);
        case 2:
          return loadXConst(s.k);
        case 3:
          return s.a % 2 === 0 ? loadLen() : loadXLen();
        case 4:
          return store(s.a % 16);
        case 5:
          return storeX(s.a % 16);
        case 6: {
          const op = ops[s.a % ops.length]!;
          const k = op === "div" ? s.k || 1 : op === "lsh" || op === "rsh" ? s.k % 32 : s.k;
          return aluK(op, k);
        }
        case 7:
          return aluX(ops[s.a % ops.length]!);
        case 8:
          return [neg(), tax(), txa()][s.a % 3]!;
        case 9:
          return jump(s.a % (room + 1));
        case 10:
          return jumpIf(jops[s.a % 4]!, s.k, off(s.a), off(s.b));
        case 11:
          return jumpIfX(jops[s.b % 4]!, off(s.a), off(s.b));
        case 12:
          return s.a % 3 === 0 ? ret(s.k) : s.a % 3 === 1 ? loadMem(s.b % 16) : loadXMem(s.b % 16);
        default:
          return retA();
      }
    });
    p.push(ret(0x7fff0000));
    // Every cell stored up front, so scratch reads anywhere pass the kernel's check.
    return [...Array.from({ length: 16 }, (_, i) => store(i)), ...p];
  });

test("round trip: random valid programs (fast-check)", () => {
  fc.assert(
    fc.property(validProgram, (p) => {
      assert.deepEqual(verify(p), []);
      roundTrips(p);
    }),
    { numRuns: 500 },
  );
});

test("round trip: arbitrary bytes (any code, jt, jf, k)", () => {
  const anyInsn = fc.record({
    code: fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.constantFrom(0x00, 0x01, 0x02, 0x03, 0x05, 0x06, 0x07, 0x15, 0x16, 0x20, 0x28, 0x30, 0x40, 0x60, 0x61, 0x80, 0x81, 0x84, 0x87, 0x94, 0xb1)),
    jt: fc.integer({ min: 0, max: 255 }),
    jf: fc.integer({ min: 0, max: 255 }),
    k: fc.integer({ min: 0, max: 0xffffffff }),
  });
  fc.assert(
    fc.property(fc.array(anyInsn, { minLength: 1, maxLength: 40 }), (p) => roundTrips(p)),
    { numRuns: 500 },
  );
});

test("assembler spellings: ret actions, jne/jlt/jle, one-target jumps, decimal/hex/negative", () => {
  const p = assemble(`
    ; comment line
    start: ld [0]            ; nr
           jne #59, deny     ; true → deny, false → next
           jlt #0x10, a, b
    a:     jle x, b
           tax
    b:     ld #-1
           ret ERRNO(1)
    deny:  ret KILL_PROCESS
  `);
  // jne = jeq with targets swapped; one target = the other falls through.
  assert.deepEqual(p, [
    loadAbs(0),
    jumpIf("jeq", 59, 0, 5),
    jumpIf("jge", 0x10, 2, 0),
    jumpIfX("jgt", 0, 1),
    tax(),
    loadConst(0xffffffff),
    ret(0x50001),
    ret(0x80000000),
  ]);
  assert.deepEqual(assemble("ret ALLOW\n"), [ret(0x7fff0000)]);
  assert.deepEqual(assemble("ret TRAP(5)"), [ret(0x30005)]);
  assert.deepEqual(assemble("ret a"), [retA()]);
});

test("assembler errors name the line", () => {
  const bad = (src: string, line: number, re: RegExp): void => {
    assert.throws(
      () => assemble(src, "f.s"),
      (e: unknown) => e instanceof SyscageError && e.code === "BPF_ASM" && e.message.startsWith(`f.s:${line}:`) && re.test(e.message),
    );
  };
  bad("ld [0]\njeq #1, nowhere, x\nx: ret #0", 2, /unknown label "nowhere"/);
  bad("x: ld [0]\njeq #1, x, x\nret #0", 2, /backwards/);
  bad("ld [0]\n\nfrob #1\n", 3, /unknown instruction "frob"/);
  bad("ld #0x1ffffffff", 1, /32 bits/);
  bad("ld #abc", 1, /not a number/);
  bad("x: ld [0]\nx: ret #0", 2, /defined twice/);
  bad("ret MAYBE", 1, /ret takes/);
  const far = ["jeq #0, far, far", ...Array.from({ length: 256 }, () => "ld #0"), "far: ret #0"].join("\n");
  bad(far, 1, /at most 255/);
  // ja reaches further than 255.
  const farJa = ["ja far", ...Array.from({ length: 300 }, () => "ld #0"), "far: ret #0"].join("\n");
  assert.equal(assemble(farJa)[0]!.k, 300);
});
