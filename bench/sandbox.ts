/**
 * The sandbox launch (issue #14): `syscage run` with a Landlock sandbox
 * (`--allow-system --allow-write DIR`, the nspawn default filter) against
 * bwrap with equivalent binds (read-only system, DIR writable, the same
 * seccomp program) and against Landlock alone in C (bench/landlock-ref.c, the
 * landrun-style reference), warm, side by side. Target: syscage ≤ bwrap + 5 ms.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { timeCommands, tryShell } from "./launch.js";
import { REPO_ROOT } from "./policies.js";

const BIN = join(REPO_ROOT, "bin", "syscage");
const SYSTEM = ["/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32", "/etc/ld.so.cache"];

export interface SandboxBench {
  readonly tool: string;
  readonly rows: readonly { label: string; command: string; median?: number; min?: number; missing?: string }[];
}

/** `program`: syscage's nspawn-default program (raw file), for bwrap's --seccomp. */
export function measureSandbox(program: string, tmp: string): SandboxBench {
  const work = join(tmp, "sandbox-work");
  mkdirSync(work, { recursive: true });
  const ref = join(tmp, "landlock-ref");
  execFileSync("cc", ["-O2", "-Wall", "-o", ref, join(REPO_ROOT, "bench", "landlock-ref.c")]);
  const present = SYSTEM.filter((p) => existsSync(p));
  // bwrap: the system read-only (links such as /bin -> usr/bin kept as links), the work dir writable.
  const binds = present.map((p) => `--ro-bind ${p} ${p}`).join(" ");
  const cache = join(tmp, "sandbox-cache");
  const wanted = [
    { label: "syscage run --allow-system --allow-write DIR, warm (native front door, cache hit)", command: `XDG_CACHE_HOME=${cache} ${BIN} run --allow-system --allow-write ${work} -- /bin/true` },
    { label: "syscage run, warm, no sandbox options (for comparison)", command: `XDG_CACHE_HOME=${cache} ${BIN} run -- /bin/true` },
    { label: "bwrap, equivalent binds + --seccomp (same program)", command: `bwrap ${binds} --bind ${work} ${work} --dev /dev --proc /proc --seccomp 9 /bin/true 9< ${program}` },
    { label: "Landlock alone in C (landrun-style reference)", command: `${ref} ${present.map((p) => `-x ${p}`).join(" ")} -w ${work} -- /bin/true` },
  ];
  const rows: SandboxBench["rows"][number][] = [];
  const ok: typeof wanted = [];
  for (const w of wanted) {
    const bad = tryShell(w.command); // also primes the launch cache
    if (bad === undefined) ok.push(w);
    else rows.push({ label: w.label, command: w.command, missing: `n/a: ${bad}` });
  }
  const { tool, timed } = timeCommands(ok.map((w) => w.command), tmp);
  for (const w of ok) rows.push({ label: w.label, command: w.command, ...timed.get(w.command)! });
  rows.sort((a, b) => wanted.findIndex((w) => w.label === a.label) - wanted.findIndex((w) => w.label === b.label));
  return { tool, rows };
}

/** The "Sandbox launch" section of bench/RESULTS.md. */
export function sandboxSection(b: SandboxBench): string[] {
  const bwrap = b.rows.find((r) => r.label.startsWith("bwrap"))?.median;
  const ours = b.rows[0]?.median;
  const short = (c: string): string => c.replaceAll(REPO_ROOT + "/", "").replace(/\/tmp\/syscage-bench-[^/ ]+\//g, "$TMP/");
  const out = [
    "## Sandbox launch: Landlock and limits around the filter (issue #14)",
    "",
    `Wall time of running \`/bin/true\` in a file-system sandbox, side by side in one ${b.tool}: syscage with \`--allow-system --allow-write DIR\` (Landlock ruleset of 9 path rules, no_new_privs, capabilities, the nspawn default filter, fds closed, exec), read from the launch cache by bin/syscage's native front door; bwrap with the system bound read-only, DIR writable and the same seccomp program; Landlock alone in C (\`bench/landlock-ref.c\`, no filter).`,
    "",
    "| launcher | command | median ms | min ms | vs bwrap (median) |",
    "|---|---|---:|---:|---:|",
    ...b.rows.map((r) =>
      r.median === undefined
        ? `| ${r.label} | \`${short(r.command)}\` | ${r.missing ?? "n/a"} | | |`
        : `| ${r.label} | \`${short(r.command)}\` | ${r.median.toFixed(1)} | ${r.min!.toFixed(1)} | ${bwrap !== undefined ? `${r.median - bwrap >= 0 ? "+" : ""}${(r.median - bwrap).toFixed(1)} ms` : "n/a"} |`,
    ),
    "",
    `Target: syscage ≤ bwrap + 5 ms (warm): ${ours === undefined || bwrap === undefined ? "n/a" : `${(ours - bwrap).toFixed(1)} ms — ${ours - bwrap <= 5 ? "met" : "**missed**"}`}.`,
    "",
  ];
  return out;
}

if (process.argv[1]?.endsWith("sandbox.ts")) {
  const { mkdtempSync, rmSync, writeFileSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { nspawnPolicy } = await import("../src/policy/nspawn.js");
  const { compile } = await import("../src/compile/index.js");
  const { encodeProgram } = await import("../src/bpf/index.js");
  const tmp = mkdtempSync(join(tmpdir(), "syscage-bench-"));
  try {
    const program = join(tmp, "nspawn.bpf");
    writeFileSync(program, encodeProgram(compile(nspawnPolicy()).insns, "little"));
    process.stdout.write(sandboxSection(measureSandbox(program, tmp)).join("\n") + "\n");
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
