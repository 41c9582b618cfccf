/**
 * Argument-width benchmark: program size and executed instructions of the
 * Docker and nspawn defaults (x86_64 + x86 + x32), overall and on the paths
 * that test arguments, before (`argumentWidth: "u64"`) and after ("kernel").
 * `measureArgWidths()` gives the "Argument widths" section of
 * bench/RESULTS.md (bench/run.ts adds it); run alone it prints one mode:
 *
 *   npx tsx bench/argwidths.ts          # the policy's default argumentWidth ("kernel")
 *   npx tsx bench/argwidths.ts --u64    # libseccomp's full-64-bit comparisons
 */
import { getAbi, syscallNumber } from "../src/abi/index.js";
import { interpret } from "../src/bpf/index.js";
import { compile } from "../src/compile/index.js";
import { decide } from "../src/policy/evaluate.js";
import { definePolicy, type Policy, type PolicyInput } from "../src/policy/model.js";
import { nspawnPolicy } from "../src/policy/nspawn.js";
import { staticMetrics } from "./measure.js";
import { ABIS, profilePolicy, toPolicyInput } from "./policies.js";

/** Executed instructions on the argument-testing paths of x86_64: every rule constant in its argument, others 0. */
function argPaths(insns: Parameters<typeof interpret>[0], policy: Policy): { calls: number; avg: number; max: number; mismatches: number } {
  const abi = getAbi("x86_64");
  let sum = 0;
  let max = 0;
  let calls = 0;
  let mismatches = 0;
  for (const r of policy.rules) {
    if (r.conditions.length === 0) continue;
    const nr = syscallNumber("x86_64", r.syscall);
    if (nr === undefined) continue;
    const vectors: bigint[][] = [[0n, 0n, 0n, 0n, 0n, 0n]];
    const all = [0n, 0n, 0n, 0n, 0n, 0n];
    for (const c of r.conditions) all[c.arg] = c.value;
    vectors.push(all);
    for (const c of r.conditions) {
      const v = [0n, 0n, 0n, 0n, 0n, 0n];
      v[c.arg] = c.value;
      vectors.push(v);
    }
    for (const args of vectors) {
      const call = { nr, arch: abi.auditArch, instructionPointer: 0n, args };
      const res = interpret(insns, call, abi.endian);
      if (res.ret >>> 0 !== decide(policy, call).ret >>> 0) mismatches++;
      sum += res.steps;
      max = Math.max(max, res.steps);
      calls++;
    }
  }
  return { calls, avg: calls === 0 ? 0 : sum / calls, max, mismatches };
}

/** One policy's figures under one argumentWidth. */
export interface WidthFigures {
  readonly insns: number;
  readonly avgAll: number;
  readonly x8664: { readonly avg: number; readonly max: number };
  readonly argPaths: { readonly calls: number; readonly avg: number; readonly max: number };
  readonly mismatches: number;
}

function figures(policy: Policy): WidthFigures {
  const prog = compile(policy);
  const m = staticMetrics(prog.insns, ABIS, policy);
  const a = argPaths(prog.insns, policy);
  const x = m.perAbi.x86_64!;
  return { insns: m.insns, avgAll: m.avgAll, x8664: { avg: x.avg, max: x.max }, argPaths: { calls: a.calls, avg: a.avg, max: a.max }, mismatches: m.mismatches.length + a.mismatches };
}

function basePolicies(): { name: string; policy: Policy }[] {
  const docker = profilePolicy("docker-default.json", "docker-default");
  return [
    { name: "docker-default", policy: definePolicy(toPolicyInput(docker) as PolicyInput) },
    { name: "nspawn default, 64-bit EQ (real nspawn's audit rule)", policy: nspawnPolicy({ abis: ["x86_64", "x86", "x32"] }) },
  ];
}

/**
 * The figures recorded by hand at commit 40a8b35, before argument types
 * existed (instructions: Docker, nspawn). `argumentWidth: "u64"` is meant to
 * reproduce them; the generated section says whether it still does.
 */
const RECORDED_BEFORE: Readonly<Record<string, number>> = { "docker-default": 282, "nspawn default, 64-bit EQ (real nspawn's audit rule)": 256 };

/** Before ("u64") and after ("kernel") for the Docker and nspawn defaults; Markdown lines for RESULTS.md. */
export function measureArgWidths(): { lines: string[]; rows: { name: string; before: WidthFigures; after: WidthFigures }[] } {
  const rows = basePolicies().map(({ name, policy }) => ({
    name,
    before: figures({ ...policy, argumentWidth: "u64" }),
    after: figures({ ...policy, argumentWidth: "kernel" }),
  }));
  const f2 = (x: number): string => x.toFixed(2);
  const calls = rows.map((r) => r.after.argPaths.calls).join(" / ");
  const reproduced = rows.every((r) => RECORDED_BEFORE[r.name] === r.before.insns);
  const lines = [
    "## Argument widths (issue #9)",
    "",
    "Generated (`bench/argwidths.ts`, syscage only, x86_64 + x86 + x32). \"before\" is `argumentWidth: \"u64\"` — every condition on all 64 bits, the code the compiler produced before argument types (commit 40a8b35: " +
      Object.entries(RECORDED_BEFORE).map(([k, v]) => `${v} instructions for ${k.split(",")[0]}`).join(", ") +
      `; u64 today ${reproduced ? "reproduces these exactly" : "**no longer reproduces these**"}); "after" is the default \`argumentWidth: "kernel"\`. ` +
      "\"arg paths\" runs x86_64 with every rule constant in its argument (the other arguments 0) for every syscall that has conditional rules: the paths that load arguments. Zero-argument averages over whole tables hardly move, since only a few syscalls test arguments.",
    "",
    `| policy | insns before → after | exec avg all (zero args) | exec avg / max x86_64 | arg paths x86_64 (${calls} calls): avg / max | mismatches with \`decide()\` |`,
    "|---|---:|---:|---:|---:|---:|",
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.before.insns} → **${r.after.insns}** | ${f2(r.before.avgAll)} → ${f2(r.after.avgAll)} | ` +
        `${f2(r.before.x8664.avg)} / ${r.before.x8664.max} → ${f2(r.after.x8664.avg)} / ${r.after.x8664.max} | ` +
        `${f2(r.before.argPaths.avg)} / ${r.before.argPaths.max} → **${f2(r.after.argPaths.avg)} / ${r.after.argPaths.max}** | ${r.before.mismatches} → ${r.after.mismatches} |`,
    ),
    "",
    "- nspawn: syscage's tree before this change already used the MASKED_EQ(0xffffffff) stopgap",
    "  (250 instructions, 11.00 / 12 on the arg paths); the audit rule is plain EQ again, and the types give the same code.",
    "- Docker: every condition on `socket`'s `family` and `personality`'s `persona` is one word now;",
    "  `clone`'s flags (`unsigned long`) stay 64-bit.",
    "",
  ];
  return { lines, rows };
}

if (process.argv[1] !== undefined && /bench[/\\]argwidths\.[jt]s$/.test(process.argv[1])) {
  const u64 = process.argv.includes("--u64");
  console.log(`argumentWidth: ${u64 ? "u64" : "policy default"}\n`);
  console.log("| policy | insns | exec avg (all, zero args) | exec avg / max x86_64 | arg paths x86_64: calls, exec avg / max | mismatches |");
  console.log("|---|---:|---:|---:|---:|---:|");
  for (const { name, policy } of basePolicies()) {
    const f = figures(u64 ? { ...policy, argumentWidth: "u64" } : policy);
    console.log(
      `| ${name} | ${f.insns} | ${f.avgAll.toFixed(2)} | ${f.x8664.avg.toFixed(2)} / ${f.x8664.max} | ${f.argPaths.calls}, ${f.argPaths.avg.toFixed(2)} / ${f.argPaths.max} | ${f.mismatches} |`,
    );
  }
}
