/**
 * How long `syscage check` takes: Docker's default profile (as syscage
 * imports it) within the nspawn default, x86_64 + x86 + x32 — both compiled
 * and every path of both programs walked, as `check` does — and the merges of
 * the two (intersect and union, with their proofs). `measureRelations()`
 * returns Markdown lines for bench/RESULTS.md (bench/run.ts adds them); run
 * alone it prints them:
 *
 *   npx tsx bench/relations.ts
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { merge, within, type WithinResult } from "../src/analyze/relations.js";
import { nspawnPolicy } from "../src/policy/nspawn.js";
import { parseProfile } from "../src/policy/oci.js";
import type { Policy } from "../src/policy/model.js";
import { ABIS, PROFILES_DIR } from "./policies.js";

const RUNS = 7;

function time<T>(f: () => T): { median: number; min: number; last: T } {
  let last = f(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    last = f();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)]!, min: times[0]!, last };
}

/** Markdown lines for RESULTS.md. */
export function measureRelations(): { lines: string[] } {
  const nspawn = nspawnPolicy({ abis: [...ABIS] });
  let docker: Policy;
  try {
    docker = parseProfile(readFileSync(resolve(PROFILES_DIR, "docker-default.json"), "utf8"), "docker-default.json", { hostArch: "x86_64", kernel: "6.1" }).policy;
  } catch (e) {
    return { lines: ["## check: policy algebra", "", `n/a: ${e instanceof Error ? e.message : String(e)}`, ""] };
  }
  const rows: string[] = [];
  const checkRow = (label: string, a: Policy, b: Policy): void => {
    const t = time((): WithinResult => within(a, b));
    const r = t.last;
    rows.push(`| check ${label} | ${r.within ? "within" : `not within (${r.total} syscalls)`} | ${t.median.toFixed(0)} / ${t.min.toFixed(0)} ms | ${r.stats.instructions} insns | ${r.stats.paths} |`);
  };
  checkRow("Docker default --within nspawn default", docker, nspawn);
  checkRow("nspawn default --within Docker default", nspawn, docker);
  for (const kind of ["intersect", "union"] as const) {
    const t = time(() => merge(kind, [docker, nspawn]));
    const p = t.last.proof;
    rows.push(`| merge --${kind} Docker nspawn (build + proof) | ${p.exact ? "proven, exact" : "**not proven**"}, ${t.last.policy.rules.length} rules | ${t.median.toFixed(0)} / ${t.min.toFixed(0)} ms | ${p.stats.instructions} insns | ${p.stats.paths} |`);
  }
  return {
    lines: [
      "## check: policy algebra (issue #16)",
      "",
      `\`within\` / \`merge\` (src/analyze/relations.ts), x86_64 + x86 + x32, each side compiled and every path of all programs walked together; median / min of ${RUNS} runs after a warm-up, warm Node (target for check: under 1 s).`,
      "",
      "| what | result | time (median / min) | programs | paths |",
      "|---|---|---:|---:|---:|",
      ...rows,
      "",
    ],
  };
}

if (process.argv[1] !== undefined && /bench[/\\]relations\.[jt]s$/.test(process.argv[1])) {
  process.stdout.write(measureRelations().lines.join("\n") + "\n");
}
