/**
 * One reader for every file syscage takes as input: a regular file (or a
 * FIFO, read to its end), at most `limit` bytes. A directory, a device such as
 * /dev/zero, or a file larger than the format can be is a clear error naming
 * the path and what was expected, never a hang or an out-of-memory abort.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { SyscageError } from "./errors.js";

/** Size limits by format: a raw program is at most 4096 instructions of 8 bytes. */
export const INPUT_LIMITS = {
  program: 4096 * 8,
  policy: 16 * 1024 * 1024,
  profile: 16 * 1024 * 1024,
  unit: 1024 * 1024,
  assembly: 4 * 1024 * 1024,
} as const;

export type InputKind = keyof typeof INPUT_LIMITS;

const WHAT: Readonly<Record<InputKind, string>> = {
  program: "a raw seccomp program (at most 4096 instructions, 32 KiB)",
  policy: "a policy (at most 16 MiB)",
  profile: "a seccomp profile (at most 16 MiB)",
  unit: "a unit or .nspawn file (at most 1 MiB)",
  assembly: "a BPF assembly file (at most 4 MiB)",
};

/** What a file-system error code means for a file the user named. */
export function describeFsError(code: string | undefined): string {
  switch (code) {
    case "ENOENT":
      return "no such file; check the path";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "is a directory; give a file";
    case "ELOOP":
      return "too many levels of symbolic links";
    default:
      return `cannot read (${code ?? "error"})`;
  }
}

/**
 * Files whose bytes this process has fixed (see {@link pinInputFile}): every
 * later read of the same path gets those bytes, whatever the file holds by
 * then.
 */
const pinned = new Map<string, Buffer>();

/**
 * Read `path` once and keep its bytes for the rest of this process: `run`'s
 * launch cache keys an entry by the bytes of each policy file, and pinning
 * makes the planner read exactly those bytes, so a key can never describe
 * other bytes than the program stored under it (a file changed or swapped
 * between the two reads cannot slip in).
 */
export function pinInputFile(path: string): Buffer {
  const have = pinned.get(path);
  if (have !== undefined) return have;
  const bytes = readInputFile(path, "profile");
  pinned.set(path, bytes);
  return bytes;
}

/** The bytes of `path`, read as {@link InputKind} `kind`. @throws SyscageError INPUT_FILE naming the path. */
export function readInputFile(path: string, kind: InputKind): Buffer {
  const limit = INPUT_LIMITS[kind];
  const fixed = pinned.get(path);
  if (fixed !== undefined) {
    if (fixed.length > limit) throw new SyscageError("INPUT_FILE", `${path}: is ${fixed.length} bytes, larger than ${WHAT[kind]} can be; is it the right file?`);
    return fixed;
  }
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw new SyscageError("INPUT_FILE", `${path}: ${describeFsError((e as NodeJS.ErrnoException).code)}`);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new SyscageError("INPUT_FILE", `${path}: is a directory; give ${WHAT[kind]}`);
    if (!st.isFile() && !st.isFIFO()) throw new SyscageError("INPUT_FILE", `${path}: is not a regular file (a device or socket); give ${WHAT[kind]}`);
    if (st.isFile() && st.size > limit) throw new SyscageError("INPUT_FILE", `${path}: is ${st.size} bytes, larger than ${WHAT[kind]} can be; is it the right file?`);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.alloc(Math.min(65536, limit + 1 - total));
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "EAGAIN") continue;
        throw new SyscageError("INPUT_FILE", `${path}: ${describeFsError(code)}`);
      }
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
      total += n;
      if (total > limit) throw new SyscageError("INPUT_FILE", `${path}: is larger than ${WHAT[kind]} can be; is it the right file?`);
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

/** {@link readInputFile} as UTF-8 text. */
export function readInputText(path: string, kind: InputKind): string {
  return readInputFile(path, kind).toString("utf8");
}
