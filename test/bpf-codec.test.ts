import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir, endianness } from "node:os";
import { join } from "node:path";
import { SyscageError } from "../src/errors.js";
import { decodeProgram, encodeProgram, hostEndian, readProgramFile, writeProgramFile } from "../src/bpf/codec.js";
import type { Insn } from "../src/bpf/insn.js";

// jeq #0xc000003e, +1, +2 : code 0x15 (BPF_JMP|BPF_JEQ|BPF_K)
const JEQ: Insn = { code: 0x15, jt: 1, jf: 2, k: 0xc000003e };

test("encodes struct sock_filter little-endian: u16 code, u8 jt, u8 jf, u32 k", () => {
  assert.deepEqual([...encodeProgram([JEQ], "little")], [0x15, 0x00, 0x01, 0x02, 0x3e, 0x00, 0x00, 0xc0]);
});

test("encodes struct sock_filter big-endian", () => {
  assert.deepEqual([...encodeProgram([JEQ], "big")], [0x00, 0x15, 0x01, 0x02, 0xc0, 0x00, 0x00, 0x3e]);
});

test("default byte order is the host's", () => {
  assert.equal(hostEndian(), endianness() === "LE" ? "little" : "big");
  assert.deepEqual(encodeProgram([JEQ]), encodeProgram([JEQ], hostEndian()));
});

test("decodes what it encodes, both byte orders, with k up to 0xffffffff", () => {
  const p: Insn[] = [JEQ, { code: 0x06, jt: 0, jf: 0, k: 0xffffffff }, { code: 0xffff, jt: 255, jf: 255, k: 0 }];
  for (const e of ["little", "big"] as const) assert.deepEqual(decodeProgram(encodeProgram(p, e), "x", e), p);
});

test("empty input is an error naming the source", () => {
  assert.throws(
    () => decodeProgram(new Uint8Array(0), "f.bpf"),
    (e: unknown) => e instanceof SyscageError && e.code === "BPF_EMPTY" && e.message.startsWith("f.bpf: empty"),
  );
});

test("size not a multiple of 8 says the size and the 8-byte instruction size", () => {
  assert.throws(
    () => decodeProgram(new Uint8Array(13), "f.bpf"),
    (e: unknown) =>
      e instanceof SyscageError &&
      e.code === "BPF_TRUNCATED" &&
      e.message.includes("f.bpf") &&
      e.message.includes("13 bytes") &&
      e.message.includes("8 bytes"),
  );
});

test("more than 4096 instructions decodes (the verifier reports it)", () => {
  const p = decodeProgram(new Uint8Array(8 * 4097), "big.bpf");
  assert.equal(p.length, 4097);
});

test("files round-trip and errors name the file", () => {
  const dir = mkdtempSync(join(tmpdir(), "syscage-codec-"));
  const f = join(dir, "p.bpf");
  writeProgramFile(f, [JEQ, { code: 6, jt: 0, jf: 0, k: 0x7fff0000 }]);
  assert.deepEqual(readProgramFile(f), [JEQ, { code: 6, jt: 0, jf: 0, k: 0x7fff0000 }]);
  const bad = join(dir, "bad.bpf");
  writeFileSync(bad, Buffer.alloc(20));
  assert.throws(() => readProgramFile(bad), (e: unknown) => e instanceof SyscageError && e.message.includes(bad));
});
