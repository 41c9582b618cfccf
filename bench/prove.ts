/**
 * How long `prove` takes: the nspawn default (x86_64 + x86 + x32) compiled by
 * syscage and proved against its policy, and the Docker default profile the
 * same way. `measureProve()` returns Markdown lines for bench/RESULTS.md
 * (bench/run.ts adds them to its report); run alone it prints them:
 *
 *   npx tsx bench/prove.ts
 */
import { prove, type ProveStats } from "../src/analyze/prove.js";
import { compile } from "../src/compile/index.js";
import { definePolicy, type Policy } from "../src/policy/model.js";
import { nspawnPolicy } from "../src/policy/nspawn.js";
import { ABIS, profilePolicy, toPolicyInput } from "./policies.js";

const RUNS = 7;

/** One measured prove. */
export interface ProveTiming {
  readonly name: string;
  /** Median and minimum wall-clock ms over the runs (after one warm-up). */
  readonly median: number;
  readonly min: number;
  readonly stats: ProveStats;
  readonly equivalent: boolean;
}

function timeProve(name: string, policy: Policy): ProveTiming {
  const insns = compile(policy).insns;
  let last = prove([insns], policy);
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    last = prove([insns], policy);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { name, median: times[Math.floor(times.length / 2)]!, min: times[0]!, stats: last.stats, equivalent: last.equivalent };
}

/** Time `prove` on the nspawn and Docker defaults; Markdown lines for RESULTS.md and the timings. */
export function measureProve(): { lines: string[]; timings: ProveTiming[] } {
  const timings: ProveTiming[] = [timeProve("nspawn default", nspawnPolicy({ abis: [...ABIS] }))];
  try {
    timings.push(timeProve("Docker default", definePolicy(toPolicyInput(profilePolicy("docker-default.json", "docker-default")))));
  } catch {
    // The Docker profile needs the shared data folder and libseccomp (for its names); without them only nspawn is measured.
  }
  const lines = [
    "## prove: exhaustive equivalence check",
    "",
    `\`prove\` (src/analyze/prove.ts) of the program syscage compiles, against its own policy, x86_64 + x86 + x32; median of ${RUNS} runs after a warm-up, warm Node.`,
    "",
    "| policy | result | time (median / min) | program | paths | decisions compared | nr × arch values |",
    "|---|---|---:|---:|---:|---:|---:|",
    ...timings.map(
      (t) =>
        `| ${t.name} | ${t.equivalent ? "equivalent" : "**differs**"} | ${t.median.toFixed(0)} / ${t.min.toFixed(0)} ms | ${t.stats.instructions} insns | ${t.stats.paths} | ${t.stats.decisions} | ${t.stats.nrValues} × ${t.stats.archValues} |`,
    ),
    "",
  ];
  return { lines, timings };
}

if (process.argv[1] !== undefined && /bench[/\\]prove\.[jt]s$/.test(process.argv[1])) {
  process.stdout.write(measureProve().lines.join("\n") + "\n");
}
