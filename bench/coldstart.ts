/**
 * Cold start (issue #19): `explain`, `compile` and `diff` of the nspawn
 * default, each a fresh Node process from `dist/` (`npm run build` first),
 * beside `node -e 0` and an import of `compile`'s module graph that runs
 * nothing, in one run, taking turns. Goal: ≤ Node's start + 40 ms for
 * `explain` and `compile`. `measureColdStart()` returns Markdown lines for
 * bench/RESULTS.md (bench/run.ts adds them); run alone it prints them:
 *
 *   npx tsx bench/coldstart.ts
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { coldProcesses, type Stat } from "./measure.js";
import { REPO_ROOT } from "./policies.js";

const RUNS = 15;
const GOAL_MS = 40;

/** Markdown lines for RESULTS.md. */
export function measureColdStart(): { lines: string[] } {
  const main = join(REPO_ROOT, "dist", "cli", "main.js");
  const dir = mkdtempSync(join(tmpdir(), "syscage-bench-cold-"));
  const importOnly = join(dir, "import-compile.mjs");
  writeFileSync(importOnly, `import ${JSON.stringify(pathToFileURL(join(REPO_ROOT, "dist", "cli", "commands", "compile.js")).href)};\n`);
  const node = process.execPath;
  const rows: [string, string, readonly string[]][] = [
    ["`node -e 0`", node, ["-e", "0"]],
    ["import `compile`'s modules, run nothing", node, [importOnly]],
    ["`syscage explain read`", node, [main, "explain", "read"]],
    ["`syscage compile -o /dev/null`", node, [main, "compile", "-o", "/dev/null"]],
    ["`syscage diff nspawn nspawn`", node, [main, "diff", "nspawn", "nspawn"]],
  ];
  const stats = coldProcesses(rows.map(([, c, a]) => [c, a] as const), RUNS);
  rmSync(dir, { recursive: true, force: true });
  const base = stats[0];
  const over = (s: Stat | string): string => (typeof s === "string" || typeof base === "string" || base === undefined ? "" : `+${(s.median - base.median).toFixed(1)} ms`);
  const lines = rows.map(([label], i) => {
    const s = stats[i]!;
    return `| ${label} | ${typeof s === "string" ? s : `${s.median.toFixed(1)} / ${s.min.toFixed(1)} ms`} | ${i === 0 ? "" : over(s)} |`;
  });
  const verdict = (i: number): string => {
    const s = stats[i]!;
    if (typeof s === "string" || typeof base === "string") return "n/a";
    const d = s.median - base.median;
    return `${d <= GOAL_MS ? "met" : "not met"} (+${d.toFixed(1)} ms)`;
  };
  return {
    lines: [
      "## Cold start (issue #19)",
      "",
      `Each command a fresh process from \`dist/\`, the nspawn default for this host, median / min of ${RUNS} runs after one uncounted run, the commands taking turns (\`SYSCAGE_NO_CACHE=1\`). Goal: ≤ \`node -e 0\` + ${GOAL_MS} ms for explain and compile. "import … run nothing" is the cost of loading \`compile\`'s module graph alone.`,
      "",
      "| command | wall median / min | over `node -e 0` |",
      "|---|---:|---:|",
      ...lines,
      "",
      `Goal for explain: ${verdict(2)}; for compile: ${verdict(3)}.`,
      "",
    ],
  };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(REPO_ROOT, "bench", "coldstart.ts")) {
  process.stdout.write(measureColdStart().lines.join("\n") + "\n");
}
