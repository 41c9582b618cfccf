/**
 * `syscage audit [policy options | SOURCE] [--json | --format sarif]
 * [--threshold N] [--host-kernel X.Y] [--verbose]`: what is dangerous in a
 * filter (src/analyze/audit.ts), as a table worst first and an exposure
 * score, like `systemd-analyze security`. Exit status: 0, or 1 when the
 * score is above `--threshold`; 2 on trouble (bad input, unreadable file,
 * usage), as diff and check.
 *
 * SOURCE is any file syscage reads — a syscage policy or a container
 * profile (.json), a Kubernetes profile (.yaml), settings (.nspawn), a unit
 * file, a raw program (.bpf) — or `pid:N` (a live process's filter stack),
 * or the word `nspawn`; without one the policy options build the policy.
 */
import type { Command } from "commander";
import { capabilityName } from "../../abi/capabilities.js";
import { resolve } from "node:path";
import { auditSarif } from "../../analyze/audit-sarif.js";
import { VERSION } from "../../version.js";
import { auditPolicy, auditPrograms, parseHostKernel, type AuditOptions, type AuditResult, type AuditSourceKind } from "../../analyze/audit.js";
import { AUDIT_CATALOGUE, entryWeight } from "../../analyze/audit-catalogue.js";
import { hostEndian, readProgramFileAnyOrder } from "../../bpf/codec.js";
import { assertValid } from "../../bpf/verify.js";
import { SyscageError } from "../../errors.js";
import { nspawnCapabilities } from "../../policy/nspawn.js";
import type { Policy } from "../../policy/model.js";
import { formatTable, printJson } from "../output.js";
import { isPidSource, loadPidStack } from "../pid-source.js";
import { POLICY_OPTIONS } from "../policy-option-table.js";
import { addPolicyOptions, loadPolicy, type LoadedPolicy, type PolicyOptionValues } from "../policy-options.js";
import { profileCapabilities } from "../profile-options.js";
import { fileKind, trouble, usageIsTrouble } from "../sources.js";

interface AuditOpts extends PolicyOptionValues {
  json?: boolean;
  format?: string;
  threshold?: string;
  hostKernel?: string;
  verbose?: boolean;
  catalogue?: boolean;
}

/** What was audited, and the result. */
export interface AuditRun {
  readonly source: string;
  readonly kind: AuditSourceKind | "process";
  readonly result: AuditResult;
  /** The policy, when the source was one (for SARIF locations). */
  readonly policy?: Policy;
  /** The file the policy was read from, when there is one. */
  readonly file?: string;
}

/** Parse `--threshold N` (0–10). */
export function parseThreshold(text: string): number {
  const t = text.trim();
  const n = Number(t);
  if (t === "" || !Number.isFinite(n) || n < 0 || n > 10) throw new SyscageError("BAD_USAGE", `--threshold: "${text}" is not a score; give a number from 0 to 10, e.g. --threshold 5`);
  return n;
}

function givenPolicyOptions(opts: AuditOpts): string[] {
  return POLICY_OPTIONS.filter((o) => opts[o.attr] !== undefined && !(Array.isArray(opts[o.attr]) && (opts[o.attr] as unknown[]).length === 0)).map((o) => `--${o.name}`);
}

/** The policy options for a SOURCE file: the file as its own option. */
function sourceOptions(source: string, opts: AuditOpts): { values: PolicyOptionValues; kind: AuditSourceKind } {
  if (source === "nspawn") return { values: opts, kind: "nspawn" };
  const k = fileKind(source);
  const taken = k === "settings" ? "settings" : k === "unit" ? "unit" : k === "profile" ? "profile" : "policy";
  if (opts[taken] !== undefined) throw new SyscageError("BAD_USAGE", `audit: ${source} and --${taken} ${String(opts[taken])} both name the policy; give one`);
  return { values: { ...opts, [taken]: source }, kind: k === "settings" ? "nspawn" : k === "unit" ? "unit" : k === "profile" ? "profile" : "policy" };
}

function kindOf(loaded: LoadedPolicy, values: PolicyOptionValues): AuditSourceKind {
  if (values.profile !== undefined) return "profile";
  if (values.policy !== undefined) return "policy";
  if (values.unit !== undefined || (values.property ?? []).length > 0) return "unit";
  return loaded.nspawn !== undefined ? "nspawn" : "policy";
}

/** Load what `audit` is asked about and audit it. */
export function runAuditOn(source: string | undefined, opts: AuditOpts): AuditRun {
  const hostKernel = opts.hostKernel !== undefined ? parseHostKernel(opts.hostKernel) : undefined;
  const base: AuditOptions = hostKernel !== undefined ? { hostKernel } : {};
  if (source !== undefined && (source.toLowerCase().endsWith(".bpf") || isPidSource(source))) {
    const given = givenPolicyOptions(opts);
    if (given.length > 0) throw new SyscageError("BAD_USAGE", `audit of ${source}: ${given.join(", ")} cannot apply to a program (its ABIs are read from it); drop them, or audit the policy they make without ${source}`);
    if (isPidSource(source)) {
      const s = loadPidStack(source);
      return { source: s.label, kind: "process", result: auditPrograms(s.programs, base) };
    }
    const insns = readProgramFileAnyOrder(source, hostEndian());
    assertValid(insns, source);
    return { source: `${source} (raw program)`, kind: "program", result: auditPrograms([insns], base), file: source };
  }
  const { values, kind: sourceKind } = source !== undefined ? sourceOptions(source, opts) : { values: opts, kind: undefined };
  const loaded = loadPolicy(values);
  for (const w of loaded.warnings) process.stderr.write(`syscage: warning: ${w}\n`);
  return auditLoaded(loaded, values, base, sourceKind);
}

/**
 * Audit a policy loaded from policy options (also the report's Audit
 * section): the fix in the source's language, and the capabilities the
 * process keeps when the source says (nspawn's retained set, a container's).
 */
export function auditLoaded(loaded: LoadedPolicy, values: PolicyOptionValues, base: AuditOptions = {}, sourceKind?: AuditSourceKind): AuditRun {
  const kind = sourceKind ?? kindOf(loaded, values);
  const capabilities =
    loaded.nspawn !== undefined
      ? new Set([...nspawnCapabilities(loaded.nspawn)].map((c) => capabilityName(c) ?? `CAP_${c}`))
      : values.profile !== undefined
        ? new Set(profileCapabilities(values.capability, values.dropCapability))
        : undefined;
  const file = values.policy ?? values.profile ?? values.unit ?? values.settings;
  try {
    const result = auditPolicy(loaded.policy, { ...base, kind, ...(capabilities !== undefined ? { capabilities } : {}) });
    return { source: loaded.source, kind, result, policy: loaded.policy, ...(file !== undefined ? { file } : {}) };
  } catch (err) {
    if (err instanceof SyscageError && err.code === "BAD_WAIVER" && file !== undefined) throw new SyscageError("BAD_WAIVER", `${file}: ${err.message}`);
    throw err;
  }
}

const MARK: Readonly<Record<string, string>> = { critical: "✗", high: "✗", medium: "✗", low: "~", info: "·" };

/** The audit as text: the table worst first, then the score (as systemd-analyze security). */
export function formatAudit(run: AuditRun, verbose: boolean): string {
  const r = run.result;
  const out: string[] = [`; ${run.source}: ${r.abis.join(", ")}${r.hostKernel !== undefined ? `; host kernel ${r.hostKernel}` : ""}`];
  if (r.findings.length === 0) out.push("no findings");
  else {
    const rows: string[][] = [["", "SEVERITY", "WEIGHT", "ID", "FINDING"]];
    for (const f of r.findings) {
      rows.push([f.waived !== undefined ? "✓" : MARK[f.severity]!, f.waived !== undefined ? "waived" : f.severity, f.weight.toFixed(1), f.id, f.summary + (f.waived !== undefined ? ` — waived: ${f.waived.reason}` : "")]);
    }
    out.push(formatTable(rows));
    const fixes = r.findings.filter((f) => f.waived === undefined && f.severity !== "info");
    if (fixes.length > 0 && !verbose) {
      out.push("", "fixes:");
      for (const f of fixes) out.push(`  ${f.id}: ${f.fix}`);
    }
    if (verbose) {
      for (const f of r.findings) {
        out.push("", `${f.id} (${f.severity}, weight ${f.weight.toFixed(1)}${f.abis.length > 0 ? `, ${f.abis.join(", ")}` : ""}): ${f.title}`);
        out.push(`  ${f.summary}`);
        for (const d of f.details) out.push(`    ${d}`);
        out.push(`  why: ${f.why}`);
        if (f.capability !== undefined) out.push(`  capability: ${f.capability.needs}${f.capability.held === null ? "" : f.capability.held ? " (held)" : " (not held)"}`);
        for (const o of f.origins) out.push(`  decided by: ${o}`);
        out.push(`  fix: ${f.fix}`);
        for (const ref of f.references) out.push(`  see: ${ref}`);
        if (f.waived !== undefined) out.push(`  waived (audit.waive[${f.waived.waiver}]): ${f.waived.reason}`);
      }
    }
  }
  out.push("", `→ Overall exposure level for ${run.source}: ${r.score.toFixed(1)} ${r.label}`);
  return out.join("\n") + "\n";
}

/** The catalogue as text (`--catalogue`). */
function formatCatalogue(): string {
  const rows: string[][] = [["ID", "SEVERITY", "WEIGHT", "BASIS", "TITLE"]];
  for (const e of AUDIT_CATALOGUE) rows.push([e.id, e.severity, entryWeight(e).toFixed(1), e.basis, e.title]);
  return formatTable(rows) + "\n";
}

function runAudit(source: string | undefined, opts: AuditOpts): void {
  try {
    const format = opts.format ?? (opts.json === true ? "json" : "text");
    if (!["text", "json", "sarif"].includes(format)) throw new SyscageError("BAD_USAGE", `--format: "${format}" is not one of text, json, sarif`);
    if (opts.json === true && format !== "json") throw new SyscageError("BAD_USAGE", `--json and --format ${format} contradict each other; give one`);
    if (opts.catalogue === true) {
      if (format === "json") printJson(AUDIT_CATALOGUE.map((e) => ({ ...e, weight: entryWeight(e) })));
      else process.stdout.write(formatCatalogue());
      return;
    }
    const threshold = opts.threshold !== undefined ? parseThreshold(opts.threshold) : undefined;
    const run = runAuditOn(source, opts);
    for (const w of run.result.warnings) process.stderr.write(`syscage: warning: ${run.file !== undefined ? `${run.file}: ` : ""}${w}\n`);
    if (format === "json") {
      printJson({ source: run.source, kind: run.kind, ...run.result, ...(threshold !== undefined ? { threshold, above: run.result.score > threshold } : {}) });
    } else if (format === "sarif") {
      printJson(auditSarif({ result: run.result, source: run.source, version: VERSION, baseDir: process.cwd(), ...(run.file !== undefined ? { file: resolve(run.file) } : {}) }));
    } else process.stdout.write(formatAudit(run, opts.verbose === true));
    process.exitCode = threshold !== undefined && run.result.score > threshold ? 1 : 0;
  } catch (err) {
    trouble(err, "syscage.auditTrouble");
  }
}

/** Add `audit` to the program. */
export function register(program: Command): void {
  usageIsTrouble(addPolicyOptions(program.command("audit")))
    .description("what is dangerous in a filter: routes around denied calls, ABI coverage, argument checks, dangerous calls, action pitfalls; a table worst first and an exposure score 0–10")
    .argument("[source]", "FILE.json (policy or profile), FILE.yaml (Kubernetes profile), FILE.nspawn, a unit file, FILE.bpf (a raw program), pid:N (a live process's filters) or nspawn; default: the policy options")
    .option("--json", "print {source, kind, abis, score, label, findings: [{id, title, category, severity, weight, basis, abis, syscalls, summary, details, why, references, fix, capability?, origins, waived?}], warnings, threshold?, above?}")
    .option("--format <format>", "text (default), json (as --json) or sarif (SARIF 2.1.0)")
    .option("--threshold <n>", "exit 1 when the score is above N (0–10), for CI")
    .option("--host-kernel <x.y>", "the kernel the filter runs on: notes where the version changes the answer (ptrace before 4.8, …), and only the io_uring opcodes, clone3 and openat2 that exist there")
    .option("--verbose", "each finding in full: details, why, the deciding rules, the fix, references")
    .option("--catalogue", "list every finding audit can report (with --json, the catalogue as data) and stop")

    .addHelpText(
      "after",
      `
Each finding has an id, a severity and a weight (docs/audit.md lists the
catalogue; --catalogue prints it). The score is 10 × (1 − Π(1 − weight/10))
over the findings not waived: 0 with none, 10 with one weight-10 finding.
Findings of basis "decisions" are read from what the filter returns (the
program a policy compiles to), so a raw program gives the same findings as
its policy; a policy also gets the rules that decided, the lints of its
rules, and its waivers (a syscage policy's "audit": {"waive": [{"id", "reason"}]}).
A needed capability the process is known not to hold (nspawn's retained set,
a container's) lowers a dangerous call's weight to a quarter.

Exit status: 0, 1 when the score is above --threshold, 2 trouble.

Examples:
  syscage audit                                     (nspawn's default for this host)
  syscage audit docker-default.json --threshold 5
  syscage audit --system-call-filter='~mkdir' --routes=open
  syscage audit app.service --json
  syscage audit filter.bpf --host-kernel 4.4
  syscage audit pid:4242`,
    )
    .action((source: string | undefined, opts: AuditOpts) => runAudit(source, opts));
}
