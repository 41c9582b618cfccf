/**
 * `syscage convert [policy options] --to syscage|oci|docker|spo|systemd [-o FILE] [--name NAME] [--kubernetes]`:
 * write any policy (nspawn's, a unit's, a JSON policy, an imported container
 * profile) as syscage's own policy JSON, a container profile or systemd unit
 * lines (docs/profiles.md).
 */
import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { SyscageError, didYouMean, suggest } from "../../errors.js";
import { EXPORT_FORMATS, exportPolicy, type ExportFormat } from "../../export/formats.js";
import { kubernetesSnippet } from "../../export/kubernetes.js";
import { checkExport } from "../../analyze/roundtrip.js";
import { addPolicyOptions, loadPolicy, type PolicyOptionValues } from "../policy-options.js";

interface ConvertOpts extends PolicyOptionValues {
  to: string;
  output?: string;
  name?: string;
  kubernetes?: boolean;
  approximate?: boolean;
}

function parseFormat(text: string): ExportFormat {
  const f = text.trim().toLowerCase();
  if ((EXPORT_FORMATS as readonly string[]).includes(f)) return f as ExportFormat;
  throw new SyscageError("BAD_USAGE", `--to: unknown format "${text}".${didYouMean(suggest(f, EXPORT_FORMATS))} Formats: ${EXPORT_FORMATS.join(", ")}`);
}

/** Kubernetes object names (metadata.name): a DNS-1123 subdomain — lower-case letters, digits, "-" and ".", at most 253. */
const K8S_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function checkName(name: string): void {
  if (name.length <= 253 && K8S_NAME.test(name)) return;
  const fix = name.toLowerCase().replace(/[^a-z0-9.-]+/g, "-").replace(/^[-.]+|[-.]+$/g, "").slice(0, 253);
  throw new SyscageError("BAD_USAGE", `--name ${JSON.stringify(name)}: not a Kubernetes name (lower-case letters, digits, "-" and ".", starting and ending with a letter or digit, at most 253 characters)${fix !== "" ? `; for example --name ${fix}` : ""}`);
}

function runConvert(opts: ConvertOpts): void {
  const format = parseFormat(opts.to);
  if (opts.name !== undefined) checkName(opts.name);
  if (opts.kubernetes === true && (format === "systemd" || format === "syscage")) throw new SyscageError("BAD_USAGE", `--kubernetes applies to the oci, docker and spo formats, not ${format}`);
  const loaded = loadPolicy(opts);
  for (const w of loaded.warnings) process.stderr.write(`syscage: warning: ${w}\n`);
  const exportOpts = { comment: `converted by syscage convert from ${loaded.source}`, ...(opts.name !== undefined ? { name: opts.name } : {}), approximate: opts.approximate === true };
  // A unit's other directives go back as themselves: SystemCallFilter= lines for its SystemCall* part, then the directives.
  const directives = format === "systemd" ? (loaded.unit?.directiveLines ?? []) : [];
  const result =
    directives.length > 0
      ? (() => {
          const r = exportPolicy(loaded.unit!.systemCallPolicy, format, exportOpts);
          return { ...r, text: `${r.text}${directives.join("\n")}\n` };
        })()
      : exportPolicy(loaded.policy, format, exportOpts);
  for (const w of result.warnings) process.stderr.write(`syscage: warning: ${w}\n`);
  // Read back and compared before anything is written: equal, or refused (docs/profiles.md).
  const check = checkExport(loaded.policy, format, result.text, { approximate: opts.approximate === true });
  if (!check.equal) {
    const names = [...new Set(check.stricter.map((x) => `${x.abi} ${x.name}`))];
    process.stderr.write(`syscage: warning: --approximate: the ${format} export is stricter than the policy on ${names.length} call(s): ${names.slice(0, 8).join(", ")}${names.length > 8 ? ", …" : ""}\n`);
  }
  if (opts.output !== undefined) writeFileSync(opts.output, result.text);
  else process.stdout.write(result.text);
  if (opts.kubernetes === true && format !== "systemd" && format !== "syscage") {
    const file = opts.output ?? (format === "spo" ? "profile.yaml" : "profile.json");
    const snippet = kubernetesSnippet(file, format, opts.name !== undefined ? { name: opts.name } : {});
    // With -o the snippet goes to stdout; without, after the profile on stderr so stdout stays one document.
    if (opts.output !== undefined) process.stdout.write(snippet);
    else process.stderr.write(snippet);
  }
}

/** Add `convert` to the program. */
export function register(program: Command): void {
  const cmd = program
    .command("convert")
    .description("export a policy as syscage's own policy JSON, an OCI / Docker seccomp profile, a Security Profiles Operator SeccompProfile, or systemd SystemCallFilter= lines")
    .requiredOption("--to <format>", `output format: ${EXPORT_FORMATS.join(" | ")}`)
    .option("-o, --output <file>", "write to FILE instead of stdout")
    .option("--name <name>", "spo: metadata.name of the SeccompProfile (default syscage-profile)")
    .option("--approximate", "accept an export that differs from the policy only by being stricter (read back, it allows nothing the policy denies); without it any difference is an error")
    .option("--kubernetes", "also print the Pod securityContext snippet and the node path (/var/lib/kubelet/seccomp/…) for the file");
  addPolicyOptions(cmd);
  cmd
    .addHelpText(
      "after",
      `
Formats:
  syscage  syscage's own policy JSON (docs/policy-format.md), read back by
           --policy; rules keep their origins as comments
  oci      OCI runtime-spec linux.seccomp JSON: a Kubernetes Localhost profile,
           for runc, crun and CRI-O
  docker   the same with archMap and comments: docker run --security-opt seccomp=FILE
  spo      security-profiles-operator.x-k8s.io/v1 SeccompProfile YAML
  systemd  SystemCallFilter= / SystemCallErrorNumber= / SystemCallArchitectures=
           lines, when the policy can be said that way

What a format cannot express (argument conditions in systemd, values above
2^63-1 in SPO, TRAP data, …) is an error naming the rule. Every export is read
back and compared with the policy before it is written: a difference is an
error naming the calls, or with --approximate, accepted only when the export
is stricter. Warnings go to stderr.

Examples:
  syscage convert --to oci -o nspawn.json                    # the nspawn default
  syscage convert --profile docker.json --to spo --name web
  syscage convert --settings app.nspawn --to syscage -o app.json
  syscage convert --policy policy.json --to oci -o p.json --kubernetes`,
    )
    .action((opts: ConvertOpts) => runConvert(opts));
}
