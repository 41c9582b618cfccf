/**
 * `syscage record [policy options] [--output-format F] [--widen-groups]
 * [--merge FILE] [--args] -o FILE -- COMMAND [ARGS…]`: run a command, record
 * every distinct syscall it (and every thread and descendant) makes, and
 * write the smallest policy that allows exactly that (docs/record.md).
 *
 * With policy options it is a complain mode instead: only the calls that
 * policy would deny are recorded (and still run), each listed on stderr with
 * the rule that would deny it; `-o` then writes that list as JSON.
 *
 * Exit status as `syscage run`: the command's; 125 when nothing ran or the
 * recording failed to start; 126/127 when the command cannot be executed /
 * was not found. A failed recording writes no output file.
 */
import { readInputText } from "../../read-file.js";
import { accessSync, constants, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { Command, Option } from "commander";
import { yamlModule } from "../../deps.js";
import { formatPolicyAction, type Policy } from "../../policy/model.js";
import { SyscageError } from "../../errors.js";
import { exportPolicy, type ExportFormat } from "../../export/formats.js";
import { checkExport } from "../../analyze/roundtrip.js";
import { readPolicyFile } from "../../policy/json.js";
import { parseProfile } from "../../policy/oci.js";
import { buildUnitPolicy, parseUnitFile } from "../../policy/systemd-unit.js";
import { policyFromRecording, summarizeByGroup, type RecordedCall } from "../../record/generate.js";
import { formatPolicyJson } from "../../export/policy-json.js";
import { planRecord, startRecording, type RecordOptions, type RecordResult, type WouldDeny } from "../../record/record.js";
import { toJson } from "../../export/json.js";
import { addPolicyOptions, parseArgumentWidth, parsePolicyArch, type PolicyOptionValues } from "../policy-options.js";
import { commandAction, exitSetupFailedOnUsageError, exitStatusOf, sandboxFromOptions } from "./run.js";

/** Output formats of `syscage record`. */
export const RECORD_FORMATS = ["policy", "oci", "docker", "spo", "systemd"] as const;
type RecordFormat = (typeof RECORD_FORMATS)[number];

interface RecordOpts extends PolicyOptionValues {
  output?: string;
  outputFormat?: RecordFormat;
  widenGroups?: boolean;
  merge?: string;
  args?: boolean;
}

/** Policy options that turn recording into complain mode (`--arch` alone does not). */
function complainOptions(o: PolicyOptionValues): string[] {
  const out: string[] = [];
  if (o.policy !== undefined) out.push("--policy");
  if ((o.systemCallFilter ?? []).length > 0) out.push("--system-call-filter");
  if ((o.capability ?? []).length > 0) out.push("--capability");
  if ((o.dropCapability ?? []).length > 0) out.push("--drop-capability");
  if (o.privateNetwork === true) out.push("--private-network");
  if (o.settings !== undefined) out.push("--settings");
  if ((o.property ?? []).length > 0) out.push("-p");
  if (o.unit !== undefined) out.push("--unit");
  if (o.profile !== undefined) out.push("--profile");
  return out;
}

/** Read an earlier output of `syscage record` in `format`, as a policy. */
export function readRecordedOutput(path: string, format: RecordFormat): Policy {
  const text = readInputText(path, "policy");
  switch (format) {
    case "policy":
      return readPolicyFile(path);
    case "oci":
    case "docker":
      return parseProfile(text, path).policy;
    case "spo": {
      const doc = yamlModule().parse(text) as { spec?: Record<string, unknown> } | null;
      if (doc === null || typeof doc !== "object" || doc.spec === undefined) {
        throw new SyscageError("BAD_MERGE", `--merge ${path}: not a SeccompProfile (no spec)`);
      }
      const spec: Record<string, unknown> = { ...doc.spec };
      delete spec.baseProfileName;
      delete spec.disabled;
      return parseProfile(JSON.stringify(spec), path).policy;
    }
    case "systemd": {
      const unit = parseUnitFile(`[Service]\n${text}`, path);
      return buildUnitPolicy(unit.properties).policy;
    }
  }
}

/** Write `text` to `path` atomically: a temporary file in the same directory, then rename. */
/**
 * Where the recording will go must be writable before the command runs: a
 * directory, a missing parent or a read-only one would lose the recording.
 */
export function checkOutputPath(path: string): void {
  let st;
  try {
    st = statSync(path);
  } catch {
    st = undefined;
  }
  if (st?.isDirectory() === true) throw new SyscageError("BAD_USAGE", `-o ${path}: is a directory; give a file name (for example ${join(path, "policy.json")})`);
  const parent = dirname(path);
  try {
    accessSync(parent, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SyscageError("BAD_USAGE", `-o ${path}: ${code === "ENOENT" ? `the directory ${parent} does not exist` : `cannot write into ${parent} (${code ?? "error"})`}; nothing was run`);
  }
}

export function writeAtomically(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.syscage-${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text, { mode: 0o644 });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

function callLabel(c: RecordedCall): string {
  const name = c.syscall ?? `nr ${c.nr}`;
  const args = [0, 1, 2, 3, 4, 5].filter((i) => (c.argMask & (1 << i)) !== 0).map((i) => `arg${i}=0x${c.args[i]!.toString(16)}`);
  return `${c.abi ?? `arch 0x${c.arch.toString(16)}`} ${name}${args.length > 0 ? ` (${args.join(", ")})` : ""}`;
}

/** The summary lines of a recording (for stderr). */
export function recordSummary(result: RecordResult, allowed: readonly string[] | undefined): string {
  const byAbi = new Map<string, Set<string>>();
  for (const c of result.calls) {
    if (c.abi === undefined || c.syscall === undefined) continue;
    byAbi.set(c.abi, (byAbi.get(c.abi) ?? new Set()).add(c.syscall));
  }
  const names = new Set(result.calls.flatMap((c) => (c.syscall !== undefined ? [c.syscall] : [])));
  const abiText = [...byAbi].map(([a, s]) => `${a}: ${s.size}`).join(", ") || "none";
  const lines = [`syscage: recorded ${names.size} distinct syscalls (${abiText}) in ${result.notifications} calls`];
  for (const g of summarizeByGroup(names)) {
    lines.push(`syscage:   ${g.group.padEnd(16)} ${String(g.seen.length).padStart(3)}${g.size > 0 ? ` of ${String(g.size).padEnd(3)}` : "       "}  ${g.seen.join(" ")}`);
  }
  if (allowed !== undefined && allowed.length > names.size) lines.push(`syscage: the policy allows ${allowed.length} syscalls (widened to their groups)`);
  if (result.dropped > 0) lines.push(`syscage: warning: ${result.dropped} argument variants were not recorded (table full)`);
  return lines.join("\n") + "\n";
}

/** The complain-mode report lines. */
export function complainReport(denials: readonly WouldDeny[], source: string): string {
  if (denials.length === 0) return `syscage: ${source} would deny nothing the command did\n`;
  const lines = [`syscage: ${source} would deny ${denials.length} distinct call${denials.length === 1 ? "" : "s"} (they ran anyway):`];
  for (const d of denials) {
    lines.push(`syscage:   ${callLabel(d).padEnd(28)} ${formatPolicyAction(d.action)}  by ${d.rule !== undefined ? `rule #${d.rule + 1}: ` : ""}${d.origin}`);
  }
  return lines.join("\n") + "\n";
}

const FORWARDED: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

async function recordAction(command: string, args: string[], opts: RecordOpts): Promise<number> {
  const complain = complainOptions(opts);
  const format: RecordFormat = opts.outputFormat ?? "policy";
  if (complain.length > 0) {
    const bad = [opts.widenGroups === true ? "--widen-groups" : "", opts.merge !== undefined ? "--merge" : "", opts.args === true ? "--args" : "", opts.outputFormat !== undefined ? "--output-format" : ""].filter((s) => s !== "");
    if (bad.length > 0) {
      throw new SyscageError("BAD_USAGE", `${bad.join(", ")} apply to plain recording; with ${complain.join(", ")} record runs in complain mode (it lists what that policy would deny)`);
    }
  } else if (opts.output === undefined) {
    throw new SyscageError("BAD_USAGE", "-o FILE is required: where to write the policy (syscage record -o policy.json -- COMMAND …)");
  }
  // Check the output path, --argument-width and --merge first: bad input must stop us before the command runs.
  if (opts.output !== undefined) checkOutputPath(opts.output);
  const width = opts.argumentWidth === undefined ? undefined : parseArgumentWidth(opts.argumentWidth);
  const merge = opts.merge !== undefined ? readRecordedOutput(opts.merge, format) : undefined;
  let options: RecordOptions;
  let source = "recording";
  if (complain.length > 0) {
    const { sandbox, source: src, warnings } = sandboxFromOptions(opts);
    for (const w of warnings) process.stderr.write(`syscage: warning: ${w}\n`);
    source = src;
    options = {
      ...(sandbox.policy !== undefined ? { policy: sandbox.policy } : {}),
      ...(sandbox.capabilities !== undefined ? { capabilities: sandbox.capabilities } : {}),
      privateNetwork: sandbox.privateNetwork === true,
    };
  } else {
    options = { ...(opts.arch !== undefined ? { abis: parsePolicyArch(opts.arch) } : {}), args: opts.args === true };
  }
  const envHelper = process.env.SYSCAGE_HELPER;
  if (envHelper !== undefined && envHelper !== "") options = { ...options, helper: envHelper };
  const plan = planRecord(options);
  const { child, result } = startRecording(command, args, { ...options, stdio: "inherit" }, plan);
  const forward = (sig: NodeJS.Signals): void => {
    if (sig === "SIGINT" && process.stdin.isTTY === true) return;
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
  };
  for (const sig of FORWARDED) process.on(sig, forward);
  let r: RecordResult;
  try {
    r = await result;
  } finally {
    for (const sig of FORWARDED) process.off(sig, forward);
  }
  if (r.signal === "SIGSYS") process.stderr.write(`syscage: ${command} was killed by SIGSYS\n`);
  const status = exitStatusOf(r.code, r.signal);
  if (plan.complain) {
    process.stderr.write(complainReport(r.wouldDeny ?? [], source));
    if (opts.output !== undefined) {
      const report = {
        command: [command, ...args],
        policy: source,
        exitStatus: status,
        wouldDeny: (r.wouldDeny ?? []).map((d) => ({
          abi: d.abi ?? null,
          syscall: d.syscall ?? null,
          nr: d.nr,
          ...(d.argMask !== 0 ? { args: Object.fromEntries([0, 1, 2, 3, 4, 5].filter((i) => (d.argMask & (1 << i)) !== 0).map((i) => [String(i), d.args[i]!])) } : {}),
          action: formatPolicyAction(d.action),
          origin: d.origin,
        })),
      };
      writeAtomically(opts.output, toJson(report) + "\n");
    }
    return status;
  }
  const gen = policyFromRecording(r.calls, { abis: plan.judge.abis, widenGroups: opts.widenGroups === true, argRules: opts.args === true, ...(merge !== undefined ? { merge } : {}) });
  for (const w of gen.warnings) process.stderr.write(`syscage: warning: ${w}\n`);
  const policy = width === undefined ? gen.policy : { ...gen.policy, argumentWidth: width };
  let text: string;
  if (format === "policy") {
    text = formatPolicyJson(policy, `recorded by syscage record from: ${[command, ...args].join(" ")}`);
  } else {
    const exported = exportPolicy(policy, format as ExportFormat);
    for (const w of exported.warnings) process.stderr.write(`syscage: warning: ${w}\n`);
    text = exported.text;
    try {
      checkExport(policy, format as ExportFormat, text);
    } catch (e) {
      // The command has run: keep the recording in syscage's own format, which says it exactly.
      const kept = `${opts.output!}.syscage.json`;
      writeAtomically(kept, formatPolicyJson(policy, `recorded by syscage record from: ${[command, ...args].join(" ")}`));
      process.stderr.write(recordSummary(r, gen.allowed));
      throw new SyscageError("EXPORT_DIFFERS", `${e instanceof Error ? e.message : String(e)}; the recording is saved as ${kept} (syscage's policy format)`);
    }
  }
  writeAtomically(opts.output!, text);
  process.stderr.write(recordSummary(r, gen.allowed));
  process.stderr.write(`syscage: wrote ${opts.output} (${format}); command exit status ${status}\n`);
  return status;
}

/** Register `syscage record`. */
export function register(program: Command): void {
  program.enablePositionalOptions();
  const cmd = program
    .command("record")
    .description("run a command, record every distinct syscall it makes, and write the smallest policy that allows them")
    .argument("<command>", "the command to run (found on PATH)")
    .argument("[args...]", "its arguments");
  addPolicyOptions(cmd)
    .option("-o, --output <file>", "where to write the policy (complain mode: the JSON report)")
    .addOption(new Option("--output-format <format>", "policy (syscage JSON), oci, docker, spo or systemd").choices([...RECORD_FORMATS]))
    .option("--widen-groups", "also allow every syscall of each recorded syscall's smallest systemd group")
    .option("--merge <file>", "merge with an earlier output (same format)")
    .option("--args", "record socket families, clone/unshare flags, personality, prctl options, ioctl requests, fcntl commands, and emit argument rules")
    .passThroughOptions()
    .addHelpText(
      "after",
      `
Without policy options every call is recorded (seccomp user notification;
each call continues unchanged) and -o gets a policy: default ERRNO(EPERM),
unknown syscalls ERRNO(ENOSYS), the recorded syscalls allowed.
With policy options (e.g. --system-call-filter='~@file-system') it is a
complain mode: only calls that policy would deny are recorded, with the rule
that would deny them; the command runs unhindered.

Recording is not a sandbox (see docs/record.md). Exit status: COMMAND's own;
125 if recording could not start or failed; 126/127 as syscage run.

Examples:
  syscage record -o ls.json -- ls -la /
  syscage run --policy ls.json -- ls -la /
  syscage record --widen-groups --output-format oci -o app.json -- ./app
  syscage record --system-call-filter='~@file-system' -- ls /`,
    )
    .action(async (command: string, args: string[], opts: RecordOpts) =>
      commandAction(() => recordAction(command, args, opts), "record: ", (path, code) => `${path}: ${code === "ENOENT" ? "no such file" : `cannot access (${code})`}`),
    );
  exitSetupFailedOnUsageError(cmd);
}
