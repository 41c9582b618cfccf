/**
 * `syscage report [policy options | pid:N | FILE.bpf] -o report.html [--against SOURCE] [--title TEXT]`:
 * write one self-contained HTML file with the matrix of syscalls × ABIs,
 * systemd's groups as filters, a search box, an explanation for each cell,
 * an Audit section (what `syscage audit` finds in the policy), and with
 * `--against` a diff view (src/analyze/report.ts).
 */
import { readInputText } from "../../read-file.js";
import { writeFileSync } from "node:fs";
import { extname } from "node:path";
import type { Command } from "commander";
import { jsoncParser } from "../../deps.js";
import { profileEntries, type ExplainContext } from "../../analyze/explain.js";
import { reportData, renderReport, type ReportSide, type StackReportSide } from "../../analyze/report.js";
import { getAbi, localAbis, type AbiName } from "../../abi/arch.js";
import { readProgramFileAnyOrder } from "../../bpf/codec.js";
import { assertValid } from "../../bpf/verify.js";
import { isPidSource, loadPidStack } from "../pid-source.js";
import { POLICY_OPTIONS } from "../policy-option-table.js";
import { SyscageError } from "../../errors.js";
import { auditPrograms, type AuditResult } from "../../analyze/audit.js";
import { auditLoaded } from "./audit.js";
import { readPolicyFile } from "../../policy/json.js";
import { nspawnPolicy } from "../../policy/nspawn.js";
import { mergeNspawnOptions, parseNspawnSettings } from "../../policy/nspawn-settings.js";
import { readProfileFile } from "../../policy/oci.js";
import { addPolicyOptions, loadPolicy, parsePolicyArch, type PolicyOptionValues } from "../policy-options.js";
import { explainContext, profileCapabilities } from "../profile-options.js";

interface ReportOpts extends PolicyOptionValues {
  output: string;
  against?: string;
  title?: string;
}

/** Is this JSON text a container profile (OCI/Docker/Podman, or an OCI config.json) rather than a syscage policy? */
function isProfileText(text: string): boolean {
  const root: unknown = jsoncParser().parse(text, [], { allowTrailingComma: true });
  if (root === null || typeof root !== "object" || Array.isArray(root)) return false;
  const o = root as Record<string, unknown>;
  return "defaultAction" in o || "linux" in o || "ociVersion" in o;
}

/**
 * The second policy of `--against SOURCE`:
 *
 * - `nspawn` → nspawn's default filter, on the first policy's ABIs;
 * - `FILE.json` → a container profile (OCI, Docker, Podman, or an OCI
 *   config.json; Docker's default capabilities, the running kernel) or else
 *   a syscage JSON policy;
 * - `FILE.nspawn` → nspawn's filter with that settings file, on the first
 *   policy's ABIs.
 * @throws SyscageError BAD_USAGE for any other source, and the readers' errors.
 */
export function loadAgainst(source: string, abis: readonly AbiName[]): ReportSide {
  if (source === "nspawn") {
    const options = { abis };
    return { policy: nspawnPolicy(options), source: "nspawn default", context: { nspawn: options } };
  }
  const ext = extname(source).toLowerCase();
  if (ext === ".json") {
    const text = readInputText(source, "profile");
    if (isProfileText(text)) {
      const capabilities = profileCapabilities(undefined, undefined);
      const imported = readProfileFile(source, { capabilities });
      const context: ExplainContext = { profile: { source, entries: profileEntries(text), capabilities } };
      return { policy: imported.policy, source, context };
    }
    return { policy: readPolicyFile(source), source };
  }
  if (ext === ".nspawn") {
    const file = parseNspawnSettings(readInputText(source, "unit"), source);
    const options = { ...mergeNspawnOptions(file, { abis }, source).options, abis };
    return { policy: nspawnPolicy(options), source: `nspawn + ${source}`, context: { nspawn: options } };
  }
  throw new SyscageError(
    "BAD_USAGE",
    `--against: cannot tell what "${source}" is; give nspawn (nspawn's default filter), a .json policy or container profile, or a .nspawn settings file`,
  );
}

/** "nspawn --system-call-filter=~mkdir": the nspawn options as given, for the page (which lists the ABIs). */
function nspawnSource(opts: PolicyOptionValues): string {
  const parts = [
    ...(opts.systemCallFilter ?? []).map((v) => `--system-call-filter=${v}`),
    ...(opts.capability ?? []).map((v) => `--capability=${v}`),
    ...(opts.dropCapability ?? []).map((v) => `--drop-capability=${v}`),
    ...(opts.privateNetwork === true ? ["--private-network"] : []),
    ...(opts.settings !== undefined ? [`--settings=${opts.settings}`] : []),
  ];
  return parts.length === 0 ? "nspawn default" : `nspawn ${parts.join(" ")}`;
}

/** `report FILE.bpf|pid:N`: a raw program or a running process's filter stack, on --arch's ABIs (default the host's). */
function sourceSide(source: string, opts: ReportOpts): StackReportSide {
  const given = POLICY_OPTIONS.filter((o) => o.attr !== "arch" && opts[o.attr] !== undefined).map((o) => `--${o.name}`);
  if (given.length > 0) throw new SyscageError("BAD_USAGE", `report of ${source}: ${given.join(", ")} cannot apply to a program (only --arch); drop them, or drop ${source} to report the policy they make`);
  const abis = opts.arch !== undefined ? parsePolicyArch(opts.arch) : [...localAbis()];
  if (isPidSource(source)) {
    const s = loadPidStack(source);
    return { stack: { programs: s.programs, labels: s.filterLabels }, abis, source: s.label, ref: source };
  }
  if (extname(source).toLowerCase() !== ".bpf") {
    throw new SyscageError("BAD_USAGE", `report: cannot tell what "${source}" is; give pid:N (a running process's filters) or FILE.bpf (a raw program), or --policy/--profile/… for a policy`);
  }
  const insns = readProgramFileAnyOrder(source, getAbi(abis[0]!).endian);
  assertValid(insns, source);
  return { stack: { programs: [insns], labels: [source] }, abis, source: `${source} (raw program)`, ref: source };
}

function runReport(given: string | undefined, opts: ReportOpts): void {
  if (given !== undefined) {
    const side = sourceSide(given, opts);
    writeReport(side, opts, audited(() => auditPrograms(side.stack.programs)));
    return;
  }
  const loaded = loadPolicy(opts);
  for (const w of loaded.warnings) process.stderr.write(`syscage: warning: ${w}\n`);
  const context = explainContext(loaded, opts);
  const source = loaded.nspawn !== undefined ? nspawnSource(opts) : loaded.source;
  writeReport({ policy: loaded.policy, source, context }, opts, audited(() => auditLoaded(loaded, opts).result));
}

/** The audit for the page's Audit section, or why there is none. */
function audited(f: () => AuditResult): AuditResult | string {
  try {
    return f();
  } catch (err) {
    if (!(err instanceof SyscageError)) throw err;
    return `The audit could not be made: ${err.message}`;
  }
}

function writeReport(side: ReportSide, opts: ReportOpts, audit: AuditResult | string): void {
  const against = opts.against !== undefined ? loadAgainst(opts.against, "stack" in side ? side.abis : side.policy.abis) : undefined;
  const data = reportData({
    policy: side,
    audit,
    ...(against !== undefined ? { against } : {}),
    ...(opts.title !== undefined ? { title: opts.title } : {}),
  });
  writeFileSync(opts.output, renderReport(data));
  const differing = data.rows.reduce((n, r) => n + (r.differences ?? []).filter((d) => d !== null).length, 0);
  process.stderr.write(
    `syscage: wrote ${opts.output}: ${data.rows.length - 1} syscalls × ${data.abis.length} ABIs (${data.abis.join(", ")})` +
      (against !== undefined ? `, ${differing} cells differ` : "") +
      "\n",
  );
}

/** Add `report` to the program. */
export function register(program: Command): void {
  const cmd = program
    .command("report")
    .description("write a self-contained HTML report: syscalls × ABIs coloured by outcome, group filters, search, an explanation per cell, and a diff view with --against")
    .argument("[source]", "instead of a policy: pid:N (the filter stack of running process N) or FILE.bpf (a raw program); only --arch applies then")
    .requiredOption("-o, --output <file>", "the HTML file to write")
    .option("--against <source>", "a second policy for the diff view: nspawn (nspawn's default), FILE.json (syscage policy or container profile) or FILE.nspawn")
    .option("--title <text>", "the page title (default: syscage report: SOURCE)");
  addPolicyOptions(cmd);
  cmd
    .addHelpText(
      "after",
      `
The file needs no network: CSS, script and data are inline. Open it in a
browser; it also prints (the matrix paginates, every cell carries a letter:
A allow, P EPERM, N ENOSYS/unknown, E other errno, K kill, T/R/L/U trap,
trace, log, notify, and X/Y when the outcome depends on the arguments).

In the diff view (A = the policy options, B = --against), the cells that
differ are outlined and show A→B; they are exactly what syscage diff reports.

The Audit section at the end (linked from the top) is what syscage audit
reports for the policy (or the filters): the findings worst first, each with
its details and fix, and the exposure score.

With pid:N (or FILE.bpf) the matrix is what those filters return, on --arch's
ABIs (default the host's): each cell says which filter's answer the kernel
keeps. A filter has no rules, so the page has no rule origins and says so.

Examples:
  syscage report -o nspawn.html
  syscage report --system-call-filter='~mkdir' -o report.html --against nspawn
  syscage report --profile docker-default.json -o docker.html --against nspawn
  syscage report pid:4242 -o sleep.html          (the filters process 4242 runs under)`,
    )
    .action((source: string | undefined, opts: ReportOpts) => runReport(source, opts));
}
