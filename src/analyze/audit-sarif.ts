/**
 * An audit as a SARIF 2.1.0 log (`syscage audit --format sarif`), for code
 * scanning UIs. One run; the catalogue entries are the rules; each finding
 * is a result located where the filter says it: the rule of a syscage
 * policy (`rules[N]`) or of a container profile (`syscalls[N]`) at its
 * line, the unit or `.nspawn` line, else the file as a whole (a raw
 * program: the file, without a line). A waived
 * finding is a result with an in-source suppression giving the reason.
 *
 * Library code: never prints, reads only the audited file (for lines).
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { isAbsolute, relative } from "node:path";
import type { Location, Log, ReportingDescriptor, Result } from "sarif";
import { jsoncParser } from "../deps.js";
import { lineColumn, type PathSegment } from "../policy/jsontree.js";
import { AUDIT_CATALOGUE, entryWeight, type Severity } from "./audit-catalogue.js";
import type { AuditFinding, AuditResult } from "./audit.js";

/** What the SARIF log needs besides the result. */
export interface SarifInput {
  readonly result: AuditResult;
  /** The file audited, when there is one (the findings are located in it). */
  readonly file?: string;
  /** What was audited, in words (the run's description when there is no file). */
  readonly source: string;
  /** syscage's version. */
  readonly version: string;
  /** Artifact URIs relative to this directory when the file is below it (default: absolute file: URIs). */
  readonly baseDir?: string;
}

const LEVEL: Readonly<Record<Severity, Result.level>> = { critical: "error", high: "error", medium: "warning", low: "note", info: "note" };

/** Where an origin points: a JSON path in the audited file, or a line of it. */
export function originLocation(origin: string, file: string): { path?: PathSegment[]; line?: number } | undefined {
  const esc = file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const rule = new RegExp(`^${esc} rule #(\\d+)\\b`).exec(origin);
  if (rule !== null) return { path: ["rules", Number(rule[1]) - 1] };
  const entry = new RegExp(`^${esc} (syscalls)\\[(\\d+)\\]`).exec(origin);
  if (entry !== null) return { path: [entry[1]!, Number(entry[2])] };
  const line = new RegExp(`\\(${esc}:(\\d+)\\)$`).exec(origin);
  if (line !== null) return { line: Number(line[1]) };
  return undefined;
}

/** The 1-based line of a JSON path in `text`, or undefined (not JSON, no such node). */
function jsonLine(text: string, path: readonly PathSegment[]): number | undefined {
  const p = jsoncParser();
  const root = p.parseTree(text, [], { allowTrailingComma: true });
  if (root === undefined) return undefined;
  const node = p.findNodeAtLocation(root, [...path]);
  return node === undefined ? undefined : lineColumn(text, node.offset).line;
}

function artifactUri(file: string, baseDir: string | undefined): string {
  if (baseDir !== undefined) {
    const rel = relative(baseDir, file);
    if (rel !== "" && !rel.startsWith("..") && !isAbsolute(rel)) return rel.split("\\").join("/");
  }
  return pathToFileURL(file).href;
}

function locations(f: AuditFinding, input: SarifInput, text: string | undefined): Location[] {
  const { file } = input;
  if (file === undefined) return [];
  const uri = artifactUri(file, input.baseDir);
  const out: Location[] = [];
  const seen = new Set<string>();
  for (const o of f.origins) {
    const at = originLocation(o, file);
    if (at === undefined) continue;
    const line = at.line ?? (text !== undefined && at.path !== undefined ? jsonLine(text, at.path) : undefined);
    const key = `${line}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const loc: Location = { physicalLocation: { artifactLocation: { uri }, ...(line !== undefined ? { region: { startLine: line } } : {}) } };
    if (at.path !== undefined) loc.logicalLocations = [{ fullyQualifiedName: at.path.map((s) => (typeof s === "number" ? `[${s}]` : s)).join(".").replace(/\.\[/g, "["), kind: "member" }];
    out.push(loc);
  }
  // Decided by the filter as a whole (default, ABIs) or by rules of another file: the file itself.
  if (out.length === 0) out.push({ physicalLocation: { artifactLocation: { uri }, ...(text !== undefined ? { region: { startLine: 1 } } : {}) } });
  return out;
}

/** GitHub code scanning's bands (critical ≥ 9, high ≥ 7, medium ≥ 4, low > 0): the catalogue's severity, not the weight. */
const SECURITY_SEVERITY: Readonly<Record<Severity, string>> = { critical: "9.5", high: "7.5", medium: "5.0", low: "2.0", info: "0.0" };

/** A fix template with its placeholders as words (a result's message has the concrete fix). */
const generic = (t: string): string => t.replace(/\{json\}/g, '["SYSCALL", …]').replace(/\{names\}/g, "SYSCALL…").replace(/\{abis\}/g, "ABI,…");

function ruleOf(id: string): ReportingDescriptor {
  const e = AUDIT_CATALOGUE.find((c) => c.id === id)!;
  return {
    id: e.id,
    name: e.id.replace(/(^|[.-])(\w)/g, (_m, _s: string, c: string) => c.toUpperCase()),
    shortDescription: { text: e.title },
    fullDescription: { text: e.why },
    help: { text: `${e.why}\nFix (syscage policy): ${generic(e.fix.policy)}${e.fix.nspawn !== undefined ? `\nFix (nspawn): ${generic(e.fix.nspawn)}` : ""}\nSee: ${e.references.join("; ")}` },
    defaultConfiguration: { level: LEVEL[e.severity] },
    properties: { tags: ["security", "seccomp", e.category], severity: e.severity, weight: entryWeight(e), basis: e.basis, "security-severity": SECURITY_SEVERITY[e.severity] },
  };
}

/** The SARIF 2.1.0 log of one audit. */
export function auditSarif(input: SarifInput): Log {
  const { result } = input;
  let text: string | undefined;
  if (input.file !== undefined && !input.file.toLowerCase().endsWith(".bpf")) {
    try {
      text = readFileSync(input.file, "utf8");
    } catch {
      text = undefined;
    }
  }
  const ids = [...new Set(result.findings.map((f) => f.id))];
  const rules = ids.map(ruleOf);
  const results: Result[] = result.findings.map((f) => {
    const r: Result = {
      ruleId: f.id,
      ruleIndex: ids.indexOf(f.id),
      level: f.severity === "info" ? "none" : LEVEL[f.severity],
      kind: f.severity === "info" ? "informational" : "fail",
      message: { text: `${f.summary}. Fix: ${f.fix}` },
      locations: locations(f, input, text),
      properties: { severity: f.severity, weight: f.weight, abis: [...f.abis], syscalls: [...f.syscalls], details: [...f.details], origins: [...f.origins] },
    };
    if (f.waived !== undefined) r.suppressions = [{ kind: "inSource", status: "accepted", justification: f.waived.reason }];
    return r;
  });
  return {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: { driver: { name: "syscage", semanticVersion: input.version, rules } },
        ...(input.file !== undefined ? { artifacts: [{ location: { uri: artifactUri(input.file, input.baseDir) } }] } : {}),
        properties: { source: input.source, abis: [...result.abis], score: result.score, label: result.label, ...(result.hostKernel !== undefined ? { hostKernel: result.hostKernel } : {}) },
        results,
      },
    ],
  };
}
