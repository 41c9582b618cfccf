/**
 * `syscage report [policy options] -o report.html [--against SOURCE] [--title TEXT]`:
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
import { reportData, renderReport, type ReportSide } from "../../analyze/report.js";
import { SyscageError } from "../../errors.js";
import type { AuditResult } from "../../analyze/audit.js";
import { auditLoaded } from "./audit.js";
import type { AbiName } from "../../abi/arch.js";
import { readPolicyFile } from "../../policy/json.js";
import { nspawnPolicy } from "../../policy/nspawn.js";
import { mergeNspawnOptions, parseNspawnSettings } from "../../policy/nspawn-settings.js";
import { readProfileFile } from "../../policy/oci.js";
import { addPolicyOptions, loadPolicy, type PolicyOptionValues } from "../policy-options.js";
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

function runReport(opts: ReportOpts): void {
  const loaded = loadPolicy(opts);
  for (const w of loaded.warnings) process.stderr.write(`syscage: warning: ${w}\n`);
  const context = explainContext(loaded, opts);
  const source = loaded.nspawn !== undefined ? nspawnSource(opts) : loaded.source;
  const side: ReportSide = { policy: loaded.policy, source, context };
  const against = opts.against !== undefined ? loadAgainst(opts.against, loaded.policy.abis) : undefined;
  let audit: AuditResult | string;
  try {
    audit = auditLoaded(loaded, opts).result;
  } catch (err) {
    if (!(err instanceof SyscageError)) throw err;
    audit = `The audit could not be made: ${err.message}`;
  }
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
reports for the policy: the findings worst first, each with its details and
fix, and the exposure score.

Examples:
  syscage report -o nspawn.html
  syscage report --system-call-filter='~mkdir' -o report.html --against nspawn
  syscage report --profile docker-default.json -o docker.html --against nspawn`,
    )
    .action((opts: ReportOpts) => runReport(opts));
}
