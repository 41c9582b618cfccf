/**
 * The kernel oracle: test/helpers/seccomp-probe.c, built on demand with cc,
 * loads a raw program into a child (no_new_privs + seccomp) and makes one
 * harmless probe syscall per child.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const SOURCE = fileURLToPath(new URL("./seccomp-probe.c", import.meta.url));
let built: string | undefined;

/** Path of the compiled probe helper (built once per test process). */
export function probeHelper(): string {
  if (built !== undefined && existsSync(built)) return built;
  const dir = mkdtempSync(join(tmpdir(), "syscage-probe-"));
  const out = join(dir, "seccomp-probe");
  execFileSync("cc", ["-O2", "-Wall", "-Werror", "-o", out, SOURCE], { stdio: ["ignore", "ignore", "inherit"] });
  built = out;
  return out;
}

/** One probe: a syscall made natively (x86_64 / x32 numbers) or through int $0x80 (i386). */
export interface Probe {
  /** "native" uses syscall(2) in the 64-bit process; "i386" uses int $0x80. */
  via: "native" | "i386";
  nr: number;
  args: readonly bigint[];
  /** What the probe is, for messages. */
  label: string;
}

/** Kernel outcome: "ok", "err N", "signal N" or "load-failed N". */
export type Outcome = string;

/**
 * Run the probes under `program` (raw bytes), or with no filter when null.
 * Returns one outcome per probe.
 */
export function runProbes(program: Uint8Array | null, probes: readonly Probe[]): Outcome[] {
  const helper = probeHelper();
  let file = "-";
  if (program !== null) {
    file = join(mkdtempSync(join(tmpdir(), "syscage-prog-")), "filter.bpf");
    writeFileSync(file, program);
  }
  const specs = probes.map((p) => `${p.via}:${p.nr}${p.args.length ? ":" + p.args.map((a) => "0x" + a.toString(16)).join(",") : ""}`);
  const out = execFileSync(helper, [file, ...specs], { encoding: "utf8" });
  const lines = out.trimEnd().split("\n");
  if (lines.length !== probes.length) throw new Error(`probe helper printed ${lines.length} lines for ${probes.length} probes:\n${out}`);
  return lines;
}
