/**
 * How long `syscage audit` takes (issue #15: Docker's profile in under
 * 100 ms warm): warm, the library (`parseProfile` + `auditPolicy`, and
 * `auditPrograms` on the compiled program) for Docker's, Podman's and
 * nspawn's defaults on x86_64 + x86 + x32; cold, the command, beside
 * `node -e 0` and `systemd-analyze security --offline=yes` on a unit (the
 * audit users know) in the same run. `measureAudit()` returns Markdown
 * lines for bench/RESULTS.md (bench/run.ts adds them); run alone it prints
 * them:
 *
 *   npx tsx bench/audit.ts
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { auditPolicy, auditPrograms } from "../src/analyze/audit.js";
import { compile } from "../src/compile/index.js";
import type { Policy } from "../src/policy/model.js";
import { nspawnPolicy } from "../src/policy/nspawn.js";
import { DOCKER_DEFAULT_CAPABILITIES, parseProfile } from "../src/policy/oci.js";
import { coldProcesses, timeIt, type Stat } from "./measure.js";
import { ABIS, PROFILES_DIR, REPO_ROOT } from "./policies.js";

const RUNS = 15;
const COLD_RUNS = 7;

/** Warm timing: 3 calls, then {@link RUNS} timed ones. */
const warm = (f: () => unknown): Stat => timeIt(f, 3, RUNS);

const ms = (s: Stat | string): string => (typeof s === "string" ? s : `${s.median.toFixed(1)} / ${s.min.toFixed(1)} ms`);

/** Markdown lines for RESULTS.md. */
export function measureAudit(): { lines: string[] } {
  const rows: string[] = [];
  const profiles: { name: string; text: string }[] = [];
  for (const f of ["docker-default.json", "podman-default.json"]) {
    try {
      profiles.push({ name: f, text: readFileSync(resolve(PROFILES_DIR, f), "utf8") });
    } catch (e) {
      rows.push(`| ${f} | n/a: ${e instanceof Error ? e.message : String(e)} | | | |`);
    }
  }
  const caps = new Set(DOCKER_DEFAULT_CAPABILITIES);
  let verdict = "Target (Docker's profile under 100 ms warm): n/a, the profile is missing.";
  for (const p of profiles) {
    const policy: Policy = parseProfile(p.text, p.name, { hostArch: "x86_64" }).policy;
    const insns = compile(policy).insns;
    const r = auditPolicy(policy, { kind: "profile", capabilities: caps });
    const total = warm(() => auditPolicy(parseProfile(p.text, p.name, { hostArch: "x86_64" }).policy, { kind: "profile", capabilities: caps }));
    const auditOnly = warm(() => auditPolicy(policy, { kind: "profile", capabilities: caps }));
    const program = warm(() => auditPrograms([insns]));
    rows.push(`| ${p.name} | ${r.findings.length} findings, ${r.score.toFixed(1)} ${r.label} | ${ms(total)} | ${ms(auditOnly)} | ${ms(program)} |`);
    if (p.name === "docker-default.json") verdict = `Target (Docker's profile read and audited, warm, under 100 ms): ${total.median.toFixed(1)} ms median — ${total.median < 100 ? "met" : "not met"}.`;
  }
  const nspawn = nspawnPolicy({ abis: [...ABIS] });
  const n = auditPolicy(nspawn, { kind: "nspawn" });
  const nInsns = compile(nspawn).insns;
  rows.push(`| nspawn default | ${n.findings.length} findings, ${n.score.toFixed(1)} ${n.label} | ${ms(warm(() => auditPolicy(nspawnPolicy({ abis: [...ABIS] }), { kind: "nspawn" })))} | ${ms(warm(() => auditPolicy(nspawn, { kind: "nspawn" })))} | ${ms(warm(() => auditPrograms([nInsns])))} |`);

  // Cold, side by side: the command as users run it, Node's own start, and systemd-analyze security on a unit.
  const dir = mkdtempSync(join(tmpdir(), "syscage-bench-audit-"));
  const unit = join(dir, "app.service");
  writeFileSync(unit, "[Service]\nExecStart=/bin/true\nSystemCallFilter=@system-service\nSystemCallFilter=~@mount\n");
  const bin = join(REPO_ROOT, "dist", "cli", "main.js");
  const docker = resolve(PROFILES_DIR, "docker-default.json");
  const cold = coldProcesses(
    [
      [process.execPath, ["-e", "0"]],
      [process.execPath, [bin, "audit", docker]],
      [process.execPath, [bin, "audit", unit]],
      ["systemd-analyze", ["security", "--offline=yes", unit]],
    ],
    COLD_RUNS,
  );
  const coldRows = ["`node -e 0`", "`syscage audit docker-default.json` (dist)", "`syscage audit app.service` (dist)", "`systemd-analyze security --offline=yes app.service`"].map((label, i) => `| ${label} | ${ms(cold[i]!)} |`);
  rmSync(dir, { recursive: true, force: true });
  return {
    lines: [
      "## audit (issue #15)",
      "",
      `\`syscage audit\` (src/analyze/audit.ts), x86_64 + x86 + x32. Warm: median / min of ${RUNS} runs after 3 warm-ups in one Node process; "read + audit" parses the profile too, "audit" starts from the policy (compile, the symbolic walk of the program, every check), "program" audits the compiled program alone. Target: Docker's profile under 100 ms warm.`,
      "",
      "| source | result | read + audit | audit | program |",
      "|---|---|---:|---:|---:|",
      ...rows,
      "",
      verdict,
      "",
      `Cold, one process per run (median / min of ${COLD_RUNS} after one warm-up run), in the same run: syscage from \`dist/\` (\`npm run build\` first), beside Node's own start and \`systemd-analyze security\` on a unit with the same \`SystemCallFilter=\` (it scores the whole unit, not only the filter).`,
      "",
      "| command | wall time |",
      "|---|---:|",
      ...coldRows,
      "",
    ],
  };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(REPO_ROOT, "bench", "audit.ts")) {
  process.stdout.write(measureAudit().lines.join("\n") + "\n");
}
