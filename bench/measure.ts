/**
 * Measurements: static quality of a program (our interpreter and cache model),
 * timing of a function in Node, and the two C helpers (libseccomp's compile
 * time, seccomp() attach time), built into a temp dir at run time.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { getAbi, syscallTable } from "../src/abi/index.js";
import { evaluateStack, interpret, isConstAllow, type Insn } from "../src/bpf/index.js";
import { decide } from "../src/policy/evaluate.js";
import type { Policy } from "../src/policy/model.js";
import type { LsArch } from "../test/helpers/libseccomp.js";

/** Median and minimum of a sample (upper median for even sizes). */
export interface Stat {
  readonly min: number;
  readonly median: number;
}

export function stat(xs: readonly number[]): Stat {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]! };
}

/**
 * Wall time of whole processes, cold (one process per run), median / min of
 * `runs` after one uncounted run; the commands take turns, so a drift of the
 * machine's speed reaches all of them alike. A command that cannot start or
 * exits above 1 gives its reason instead.
 */
export function coldProcesses(commands: readonly (readonly [string, readonly string[]])[], runs: number): (Stat | string)[] {
  const times: number[][] = commands.map(() => []);
  const failed: (string | undefined)[] = commands.map(() => undefined);
  for (let i = 0; i <= runs; i++) {
    commands.forEach(([cmd, args], j) => {
      if (failed[j] !== undefined) return;
      const t0 = performance.now();
      const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, SYSCAGE_NO_CACHE: "1" } });
      const t = performance.now() - t0;
      if (r.error !== undefined) failed[j] = `n/a: ${r.error.message}`;
      else if (r.status !== 0 && r.status !== 1) failed[j] = `n/a: exit ${r.status}: ${r.stderr.trim().split("\n")[0]}`;
      else if (i > 0) times[j]!.push(t);
    });
  }
  return commands.map((_, j) => failed[j] ?? stat(times[j]!));
}

// ---- static quality ----------------------------------------------------------

export interface AbiStatic {
  /** Instructions executed, averaged over every number of the ABI's table (zero args). */
  readonly avg: number;
  readonly max: number;
  readonly count: number;
}

export interface StaticMetrics {
  readonly insns: number;
  readonly perAbi: Readonly<Record<string, AbiStatic>>;
  /** Average over every (ABI, number) pair of the three tables. */
  readonly avgAll: number;
  /** Numbers the kernel's cache would hold: native x86_64 and compat x86 (x32 is never cached). */
  readonly cachedX8664: number;
  readonly cachedX86: number;
  /** (ABI, number) pairs, zero args, where the program's return differs from the policy's meaning. */
  readonly mismatches: readonly string[];
}

export function staticMetrics(insns: readonly Insn[], abis: readonly LsArch[], policy: Policy): StaticMetrics {
  return stackMetrics([insns], abis, policy);
}

/**
 * {@link staticMetrics} for a filter stack (oldest first): executed
 * instructions are summed over every filter (the kernel runs them all), the
 * return is the stack's (`evaluateStack`), and a number is cached only when
 * every filter lets the kernel cache it (the kernel ANDs the bitmaps).
 */
export function stackMetrics(stack: readonly (readonly Insn[])[], abis: readonly LsArch[], policy: Policy): StaticMetrics {
  const perAbi: Record<string, AbiStatic> = {};
  const mismatches: string[] = [];
  let total = 0;
  let n = 0;
  for (const name of abis) {
    const abi = getAbi(name);
    let sum = 0;
    let max = 0;
    const table = syscallTable(name);
    for (const e of table) {
      const call = { nr: e.nr, arch: abi.auditArch, instructionPointer: 0n, args: [] };
      let steps = 0;
      for (const p of stack) steps += interpret(p, call, abi.endian).steps;
      const ret = stack.length === 1 ? interpret(stack[0]!, call, abi.endian).ret : evaluateStack(stack, call, abi.endian).ret;
      sum += steps;
      max = Math.max(max, steps);
      const want = decide(policy, call).ret >>> 0;
      if (ret >>> 0 !== want) mismatches.push(`${name}:${e.name}(${e.nr}) got 0x${(ret >>> 0).toString(16)} want 0x${want.toString(16)}`);
    }
    perAbi[name] = { avg: sum / table.length, max, count: table.length };
    total += sum;
    n += table.length;
  }
  const cached = (name: LsArch): number => syscallTable(name).filter((e) => stackCached(stack, name, e.nr)).length;
  return { insns: stack.reduce((s, p) => s + p.length, 0), perAbi, avgAll: total / n, cachedX8664: cached("x86_64"), cachedX86: cached("x86"), mismatches };
}

/** Would the kernel cache `nr` of `abi` under the whole stack? (every filter constant-ALLOW) */
export function stackCached(stack: readonly (readonly Insn[])[], abi: LsArch, nr: number): boolean {
  const arch = getAbi(abi).auditArch;
  return stack.every((p) => isConstAllow(p, arch, nr));
}

/**
 * Arg-free ALLOWs of `policy` on x86_64 and x86 (the ABIs the kernel caches):
 * table numbers whose zero-argument decision is ALLOW and whose syscall has no
 * conditional rule, and how many of them `stack` lets the kernel cache.
 */
export function argFreeAllowCache(stack: readonly (readonly Insn[])[], policy: Policy): Record<"x86_64" | "x86", { cacheable: number; total: number }> {
  const conditional = new Set(policy.rules.filter((r) => r.conditions.length > 0).map((r) => r.syscall));
  const one = (name: "x86_64" | "x86"): { cacheable: number; total: number } => {
    const abi = getAbi(name);
    let total = 0;
    let cacheable = 0;
    for (const e of syscallTable(name)) {
      if (conditional.has(e.name)) continue;
      const call = { nr: e.nr, arch: abi.auditArch, instructionPointer: 0n, args: [] };
      if (decide(policy, call).ret >>> 0 !== 0x7fff0000) continue;
      total++;
      if (stackCached(stack, name, e.nr)) cacheable++;
    }
    return { cacheable, total };
  };
  return { x86_64: one("x86_64"), x86: one("x86") };
}

// ---- timing in Node ------------------------------------------------------------

/** Run `fn` `warmup` times, then time `runs` calls; milliseconds. */
export function timeIt(fn: () => unknown, warmup: number, runs: number): Stat {
  for (let i = 0; i < warmup; i++) fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  return stat(t);
}

// ---- the C helpers ---------------------------------------------------------------

const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));

export interface Helpers {
  readonly compile: string;
  readonly attach: string;
  /** bench/syscall-cost.c */
  readonly cost: string;
}

/** Build bench/libseccomp-compile.c, bench/attach-time.c and bench/syscall-cost.c into `dir`. */
export function buildHelpers(dir: string): Helpers {
  const cc = (src: string, out: string, libs: string[]): string => {
    const bin = join(dir, out);
    execFileSync("gcc", ["-O2", "-Wall", "-Wextra", "-Werror", "-o", bin, here(src), ...libs], { stdio: ["ignore", "ignore", "inherit"] });
    return bin;
  };
  return { compile: cc("./libseccomp-compile.c", "libseccomp-compile", ["-lseccomp"]), attach: cc("./attach-time.c", "attach-time", []), cost: cc("./syscall-cost.c", "syscall-cost", []) };
}

/** libseccomp's runtime version (seccomp_version()). */
export function libseccompVersion(h: Helpers): string {
  return execFileSync(h.compile, ["--version"], { encoding: "utf8" }).trim();
}

export interface CCompile {
  /** Instructions of the exported program. */
  readonly insns: number;
  /** Milliseconds. */
  readonly time: Stat;
  readonly ruleErrors: number;
  /** The exported program (SPEC.bpf). */
  readonly bpfFile: string;
}

/** libseccomp's compile time in C for each spec file. */
export function libseccompCompile(h: Helpers, specFiles: readonly string[], runs: number): CCompile[] {
  const out = execFileSync(h.compile, [String(runs), ...specFiles], { encoding: "utf8" });
  return out.trimEnd().split("\n").map((line, i) => {
    const [, insns, min, median, errors] = line.split(" ");
    return { insns: Number(insns), time: { min: Number(min) / 1e6, median: Number(median) / 1e6 }, ruleErrors: Number(errors), bpfFile: `${specFiles[i]!}.bpf` };
  });
}

/** seccomp() attach time of each program file, in microseconds, or an error string. */
export function attachTimes(h: Helpers, files: readonly string[], children: number): (Stat | string)[] {
  const out = execFileSync(h.attach, [String(children), ...files], { encoding: "utf8", maxBuffer: 16 << 20 });
  return out.trimEnd().split("\n").map((line) => {
    const [, a, b] = line.split(" ");
    return a === "error" ? `error ${b}` : { min: Number(a) / 1e3, median: Number(b) / 1e3 };
  });
}
