/**
 * Argument-width benchmark: program size and executed instructions of the
 * Docker and nspawn defaults (x86_64 + x86 + x32), overall and on the paths
 * that test arguments. Prints a Markdown table; bench/RESULTS.md keeps the
 * before/after figures (section "Argument widths").
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

const u64 = process.argv.includes("--u64");

function withWidth(p: Policy): Policy {
  return u64 ? { ...p, argumentWidth: "u64" } : p;
}

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

const docker = profilePolicy("docker-default.json", "docker-default");
const policies: { name: string; policy: Policy }[] = [
  { name: "docker-default", policy: withWidth(definePolicy(toPolicyInput(docker) as PolicyInput)) },
  { name: "nspawn default", policy: withWidth(nspawnPolicy({ abis: ["x86_64", "x86", "x32"] })) },
];

console.log(`argumentWidth: ${u64 ? "u64" : "policy default"}\n`);
console.log("| policy | insns | exec avg (all, zero args) | exec avg / max x86_64 | arg paths x86_64: calls, exec avg / max | mismatches |");
console.log("|---|---:|---:|---:|---:|---:|");
for (const { name, policy } of policies) {
  const prog = compile(policy);
  const m = staticMetrics(prog.insns, ABIS, policy);
  const a = argPaths(prog.insns, policy);
  const x = m.perAbi.x86_64!;
  console.log(
    `| ${name} | ${m.insns} | ${m.avgAll.toFixed(2)} | ${x.avg.toFixed(2)} / ${x.max} | ${a.calls}, ${a.avg.toFixed(2)} / ${a.max} | ${m.mismatches.length + a.mismatches} |`,
  );
}
