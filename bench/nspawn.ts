/**
 * The real systemd-nspawn filter stack for the benchmark: the five filters
 * systemd-nspawn 252 installs with its default options (one per local ABI,
 * plus the audit filter on x86_64 and x32), dumped from a running container
 * by test/helpers/nspawn.ts, oldest first.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Insn } from "../src/bpf/index.js";
import { dumpNspawnFilters } from "../test/helpers/nspawn.js";

export interface RealNspawn {
  /** The stack, oldest first, or undefined with `missing`. */
  readonly stack?: readonly (readonly Insn[])[];
  /** The raw programs written to the temp dir, in load order. */
  readonly files: readonly string[];
  /** "systemd 252 (252.39-1~deb12u2)". */
  readonly version?: string;
  /** Why the real stack is not available ("n/a: …"). */
  readonly missing?: string;
}

/** Dump the default nspawn stack and write each filter to `dir`; never throws. */
export async function realNspawnStack(dir: string): Promise<RealNspawn> {
  let version: string;
  try {
    version = execFileSync("systemd-nspawn", ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).split("\n")[0]!.trim();
  } catch {
    return { files: [], missing: "n/a: systemd-nspawn not installed (Debian systemd-container)" };
  }
  if (process.getuid?.() !== 0) return { files: [], version, missing: "n/a: systemd-nspawn needs root" };
  try {
    const dumped = await dumpNspawnFilters({});
    const files = dumped.filters.map((f, i) => {
      const file = join(dir, `nspawn-${i}.bpf`);
      writeFileSync(file, f.bytes);
      return file;
    });
    return { stack: dumped.filters.map((f) => f.insns), files, version };
  } catch (e) {
    return { files: [], version, missing: `n/a: could not start systemd-nspawn and dump its filters (${(e instanceof Error ? e.message : String(e)).split("\n")[0]})` };
  }
}
