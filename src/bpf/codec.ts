/**
 * Raw `struct sock_filter` arrays: 8 bytes per instruction (u16 code, u8 jt,
 * u8 jf, u32 k), in the byte order of the machine that loads them (host order
 * unless told otherwise) — the format `seccomp(2)` takes and tools such as
 * libseccomp's `seccomp_export_bpf` write.
 */
import { readInputFile } from "../read-file.js";
import { writeFileSync } from "node:fs";
import { endianness } from "node:os";
import { SyscageError } from "../errors.js";
import type { Insn } from "./insn.js";
import { verify } from "./verify.js";

/** Bytes per encoded instruction (sizeof(struct sock_filter)). */
export const SOCK_FILTER_SIZE = 8;

/** Byte order of this machine. */
export function hostEndian(): "little" | "big" {
  return endianness() === "LE" ? "little" : "big";
}

/** Encode instructions as raw `struct sock_filter` bytes. */
export function encodeProgram(insns: readonly Insn[], endian: "little" | "big" = hostEndian()): Uint8Array {
  const out = new Uint8Array(insns.length * SOCK_FILTER_SIZE);
  const view = new DataView(out.buffer);
  const le = endian === "little";
  insns.forEach((i, n) => {
    const o = n * SOCK_FILTER_SIZE;
    view.setUint16(o, i.code & 0xffff, le);
    view.setUint8(o + 2, i.jt & 0xff);
    view.setUint8(o + 3, i.jf & 0xff);
    view.setUint32(o + 4, i.k >>> 0, le);
  });
  return out;
}

/**
 * Decode raw `struct sock_filter` bytes. `source` names the data in error
 * messages (a file name). Throws BPF_EMPTY for no bytes and BPF_TRUNCATED when
 * the size is not a multiple of 8. More than 4096 instructions is not an error
 * here: the verifier reports it.
 */
export function decodeProgram(bytes: Uint8Array, source = "program", endian: "little" | "big" = hostEndian()): Insn[] {
  if (bytes.length === 0) {
    throw new SyscageError("BPF_EMPTY", `${source}: empty file; a seccomp program needs at least one 8-byte instruction`);
  }
  if (bytes.length % SOCK_FILTER_SIZE !== 0) {
    const extra = bytes.length % SOCK_FILTER_SIZE;
    throw new SyscageError(
      "BPF_TRUNCATED",
      `${source}: size ${bytes.length} bytes is not a multiple of ${SOCK_FILTER_SIZE} (each instruction is ${SOCK_FILTER_SIZE} bytes; ${extra} bytes left over); the file is truncated or not a raw BPF program`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = endian === "little";
  const insns: Insn[] = new Array<Insn>(bytes.length / SOCK_FILTER_SIZE);
  for (let n = 0; n < insns.length; n++) {
    const o = n * SOCK_FILTER_SIZE;
    insns[n] = { code: view.getUint16(o, le), jt: view.getUint8(o + 2), jf: view.getUint8(o + 3), k: view.getUint32(o + 4, le) };
  }
  return insns;
}

/** Read a raw program file (errors name the file; a missing file is an fs error with its path). */
export function readProgramFile(path: string, endian: "little" | "big" = hostEndian()): Insn[] {
  const buf = readInputFile(path, "program");
  return decodeProgram(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), path, endian);
}

/** Write a raw program file. */
export function writeProgramFile(path: string, insns: readonly Insn[], endian: "little" | "big" = hostEndian()): void {
  writeFileSync(path, encodeProgram(insns, endian));
}

/**
 * A raw program file whose byte order is not known for sure: `preferred`
 * (the host's, or the one `syscage compile` writes for the ABIs at hand),
 * unless the program only passes the kernel's checks in the other order —
 * a program compiled for s390x read on x86_64. An opcode read in the wrong
 * order is never a valid one, so the two cannot be confused.
 */
export function readProgramFileAnyOrder(path: string, preferred: "little" | "big" = hostEndian()): Insn[] {
  const buf = readInputFile(path, "program");
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const insns = decodeProgram(bytes, path, preferred);
  if (verify(insns).length === 0) return insns;
  const other = decodeProgram(bytes, path, preferred === "little" ? "big" : "little");
  return verify(other).length === 0 ? other : insns;
}
