/**
 * `syscage merge --intersect|--union SOURCE SOURCE… [--arch LIST]
 * [--argument-width MODE] [--to FORMAT] [-o FILE] [--name NAME]
 * [--approximate] [--kubernetes]`: the policy whose action for every call is
 * the strictest (intersect) or the least strict (union) of the sources'
 * (src/analyze/relations.ts). Before anything is written the result is
 * proven, exhaustively, within each source (intersect) or each source within
 * it (union), and equal to the exact combination; the output, in any
 * format, is read back and compared as `convert` does.
 *
 * A source is a file (policy, profile, `.nspawn`, unit) or the word `nspawn`;
 * raw programs cannot be merged (a policy is made of rules).
 */
import { writeFileSync } from "node:fs";
import { extname } from "node:path";
import type { Command } from "commander";
import { merge, type MergeKind } from "../../analyze/relations.js";
import { checkExport } from "../../analyze/roundtrip.js";
import { SyscageError, didYouMean, suggest } from "../../errors.js";
import { EXPORT_FORMATS, exportPolicy, type ExportFormat } from "../../export/formats.js";
import { kubernetesSnippet } from "../../export/kubernetes.js";
import type { Policy } from "../../policy/model.js";
import type { PolicyOptionValues } from "../policy-options.js";
import { loadSide } from "../sources.js";

interface MergeOpts {
  intersect?: boolean;
  union?: boolean;
  to?: string;
  output?: string;
  name?: string;
  arch?: string;
  argumentWidth?: string;
  approximate?: boolean;
  kubernetes?: boolean;
}

function parseFormat(text: string | undefined): ExportFormat {
  if (text === undefined) return "syscage";
  const f = text.trim().toLowerCase();
  if ((EXPORT_FORMATS as readonly string[]).includes(f)) return f as ExportFormat;
  throw new SyscageError("BAD_USAGE", `--to: unknown format "${text}".${didYouMean(suggest(f, EXPORT_FORMATS))} Formats: ${EXPORT_FORMATS.join(", ")}`);
}

function runMerge(sources: string[], opts: MergeOpts): void {
  if ((opts.intersect === true) === (opts.union === true)) {
    throw new SyscageError("BAD_USAGE", "merge needs exactly one of --intersect (the strictest action of the sources for every call) and --union (the least strict)");
  }
  const kind: MergeKind = opts.intersect === true ? "intersect" : "union";
  if (sources.length < 2) throw new SyscageError("BAD_USAGE", `merge --${kind} needs at least two sources (files, or "nspawn" for nspawn's default); ${sources.length} given`);
  const format = parseFormat(opts.to);
  if (opts.kubernetes === true && (format === "systemd" || format === "syscage")) throw new SyscageError("BAD_USAGE", "--kubernetes applies to the oci, docker and spo formats");
  const values: PolicyOptionValues = {
    ...(opts.arch !== undefined ? { arch: opts.arch } : {}),
    ...(opts.argumentWidth !== undefined ? { argumentWidth: opts.argumentWidth } : {}),
  };
  const policies: Policy[] = [];
  const labels: string[] = [];
  sources.forEach((file, i) => {
    if (file !== "nspawn" && extname(file).toLowerCase() === ".bpf") {
      throw new SyscageError("BAD_USAGE", `${file}: a raw program cannot be merged (a merged policy is made of rules); give policies, profiles, unit or .nspawn files`);
    }
    // Only --arch and --argument-width shape the sources; they apply to every kind of file.
    const l = loadSide(`source ${i + 1} (${file})`, file, values, [], () => []);
    for (const w of l.warnings) process.stderr.write(`syscage: warning: ${w}\n`);
    if (l.side.kind !== "policy") throw new SyscageError("BAD_USAGE", `${file}: not a policy`);
    policies.push(l.side.policy);
    labels.push(l.side.label);
  });
  const { policy, proof } = merge(kind, policies);
  const relation = kind === "intersect" ? "within each source" : "each source within it";
  process.stderr.write(
    `syscage: ${kind} of ${labels.join(", ")}: ${policy.rules.length} rules; proven ${relation} and exact (${proof.method}: ${proof.stats.paths} paths, ${proof.stats.ms.toFixed(0)} ms)\n`,
  );
  const result = exportPolicy(policy, format, {
    comment: `syscage merge --${kind} ${sources.join(" ")}`,
    ...(opts.name !== undefined ? { name: opts.name } : {}),
  });
  for (const w of result.warnings) process.stderr.write(`syscage: warning: ${w}\n`);
  // Read back and compared before anything is written, syscage's own format too (as convert does).
  const check = checkExport(policy, format, result.text, { approximate: opts.approximate === true });
  if (!check.equal) {
    const names = [...new Set(check.stricter.map((x) => `${x.abi} ${x.name}`))];
    process.stderr.write(`syscage: warning: --approximate: the ${format} export is stricter than the merged policy on ${names.length} call(s): ${names.slice(0, 8).join(", ")}${names.length > 8 ? ", …" : ""}\n`);
  }
  const text = result.text;
  if (opts.output !== undefined) writeFileSync(opts.output, text);
  else process.stdout.write(text);
  if (opts.kubernetes === true && format !== "syscage" && format !== "systemd") {
    const file = opts.output ?? (format === "spo" ? "profile.yaml" : "profile.json");
    const snippet = kubernetesSnippet(file, format, opts.name !== undefined ? { name: opts.name } : {});
    if (opts.output !== undefined) process.stdout.write(snippet);
    else process.stderr.write(snippet);
  }
}

/** Add `merge` to the program. */
export function register(program: Command): void {
  program
    .command("merge")
    .description("combine policies: --intersect (the strictest action of the sources for every call) or --union (the least strict), proven before it is written")
    .argument("<sources...>", "FILE.json (policy or profile), FILE.nspawn, FILE.service, or nspawn (two or more)")
    .option("--intersect", "the strictest of the sources' actions, for every call (argument conditions included)")
    .option("--union", "the least strict of the sources' actions, for every call")
    .option("--to <format>", `output format: ${EXPORT_FORMATS.join(" | ")} (default syscage: syscage's JSON policy, rules with their origins as comments)`)
    .option("-o, --output <file>", "write to FILE instead of stdout")
    .option("--name <name>", "spo: metadata.name of the SeccompProfile (default syscage-profile)")
    .option("--arch <list>", "ABIs of every source (default: each source's own; the host's for nspawn)")
    .option("--argument-width <mode>", "kernel or u64: how every source's conditions read an argument")
    .option("--approximate", "as convert: accept an export that is only stricter than the merged policy")
    .option("--kubernetes", "as convert: also print the Pod securityContext snippet for the file")
    .addHelpText(
      "after",
      `
The merged policy covers the ABIs every source covers (--intersect), or the
sources must cover the same ABIs (--union). Every rule keeps the origin of
the source rule (or default action) whose action it carries. Each source is
read as it is enforced (closed routes and --deny-network become rules), so
the result has routes: open.

Before it is written, the result is proven with the exhaustive walk of
\`syscage check\`: within each source (--intersect) or each source within it
(--union), and exactly the strictest / least strict action on every call. The
output, in any format (syscage's own included), is read back and compared,
as by \`syscage convert\`. A summary goes to stderr.

Examples:
  syscage merge --intersect docker-default.json nspawn --to oci -o both.json
  syscage merge --intersect baseline.json workload.json --to spo --name web
  syscage merge --union app1.json app2.json -o either.json`,
    )
    .action((sources: string[], opts: MergeOpts) => runMerge(sources, opts));
}
