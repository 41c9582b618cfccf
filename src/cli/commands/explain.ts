/**
 * `syscage explain [policy options] SYSCALL|NR [--args a0,…] [--json]`:
 * the decision of a policy on one syscall, per ABI, with the chain of rules
 * that produced it and the story behind it (src/analyze/explain.ts).
 *
 * `syscage explain SYSCALL|NR FILE.bpf|pid:N [--arch LIST]`: the decision of
 * a raw program, or of the filter stack of a running process, with each
 * filter's answer and the one the kernel keeps (src/analyze/explain-stack.ts).
 */
import type { Command } from "commander";
import { parseSyscallNumber } from "../../abi/tables.js";
import { explain, type AbiExplanation, type Explanation } from "../../analyze/explain.js";
import { localAbis } from "../../abi/arch.js";
import { explainStack, type StackExplanation } from "../../analyze/explain-stack.js";
import { hostEndian, readProgramFileAnyOrder } from "../../bpf/codec.js";
import type { Insn } from "../../bpf/insn.js";
import { assertValid } from "../../bpf/verify.js";
import { SyscageError } from "../../errors.js";
import { printJson } from "../output.js";
import { isPidSource, loadPidStack } from "../pid-source.js";
import { POLICY_OPTIONS } from "../policy-option-table.js";
import { addPolicyOptions, loadPolicy, parsePolicyArch, type PolicyOptionValues } from "../policy-options.js";
import { explainContext } from "../profile-options.js";
import { parseArgs } from "./bpf.js";

interface ExplainOpts extends PolicyOptionValues {
  args?: string;
  json?: boolean;
}

/** A syscall as the user wrote it: a name, or a number (decimal, 0x hex, -1). */
export function parseSyscallArgument(text: string): string | number {
  const t = text.trim();
  if (/^-1$/.test(t)) return 0xffffffff;
  if (/^(?:0x[0-9a-f]+|[0-9]+)$/i.test(t)) return parseSyscallNumber(t);
  return t;
}

function hex32(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, "0")}`;
}

/** The text of one ABI's explanation, without its header. `asked`: the user gave arguments. */
function body(e: AbiExplanation, asked: boolean): string[] {
  const lines = [e.summary];
  if (!e.exists) return lines;
  if (e.cases !== undefined) {
    // The answer above is for these arguments; say that others get other answers.
    lines[0] += ` (${asked ? "for these arguments" : "with every argument 0"}; it depends on them: ${e.cases.length} cases)`;
    lines.push(`  argument cases: ${e.cases.map((c) => `${c.call} → ${c.action}`).join("; ")}${asked ? "" : " (--args a0,a1,… asks about one)"}`);
  }
  if (e.chain.length > 0) {
    lines.push(`  rules for ${e.syscall ?? "it"} (policy order):`);
    for (const s of e.chain) {
      const mark = s.won ? `decided${e.won !== undefined ? ` (${e.won})` : ""}` : s.matched ? "matched, overruled" : `no match: ${s.failed ?? ""}`;
      const conds = s.conditions.length > 0 ? ` if ${s.conditions.map((c) => c.text.replace(/ \(arg\d = [^)]*\)$/, "")).join(" && ")}` : "";
      lines.push(`    #${s.rule} ${s.action}${conds} — ${s.origin}${s.gates !== undefined ? ` [${s.gates.join("; ")}]` : ""}`);
      lines.push(`        ${mark}`);
    }
  } else if (e.reason === "default") {
    lines.push(`  no rule names ${e.syscall ?? "it"}: the default action applies`);
  }
  for (const n of e.notes) lines.push(`  note: ${n}`);
  return lines;
}

/** The explanation as text: ABIs with the same story share one block. */
export function formatExplanation(x: Explanation): string {
  const blocks: { heads: string[]; lines: string[] }[] = [];
  for (const e of x.abis) {
    const lines = body(e, x.args.length > 0);
    const head = `${e.abi}${e.nr !== undefined && e.exists ? ` (nr ${e.nr}${e.ret !== undefined ? `, returns ${hex32(e.ret)}` : ""})` : ""}`;
    const key = lines.join("\n");
    const same = blocks.find((b) => b.lines.join("\n") === key);
    if (same !== undefined) same.heads.push(head);
    else blocks.push({ heads: [head], lines });
  }
  return blocks.map((b) => `${b.heads.join(", ")}:\n  ${b.lines.join("\n  ")}\n`).join("\n");
}

/** The explanation of a program stack as text. */
export function formatStackExplanation(x: StackExplanation): string {
  const out: string[] = [];
  for (const e of x.abis) {
    out.push(`${e.abi}${e.nr !== undefined ? ` (nr ${e.nr}${e.ret !== undefined ? `, returns ${hex32(e.ret)}` : ""})` : ""}:`);
    out.push(`  ${e.summary}`);
    for (const f of e.filters) out.push(`    ${f.filter}: ${f.action} after ${f.steps} instruction${f.steps === 1 ? "" : "s"}${f.decides ? "  <- kept" : ""}`);
  }
  return out.join("\n") + "\n";
}

/** `explain SYSCALL SOURCE`: a raw program or a live stack instead of a policy. */
function runExplainProgram(syscall: string, source: string, opts: ExplainOpts): void {
  const given = POLICY_OPTIONS.filter((o) => o.attr !== "arch" && opts[o.attr] !== undefined).map((o) => `--${o.name}`);
  if (given.length > 0) throw new SyscageError("BAD_USAGE", `explain of ${source}: ${given.join(", ")} cannot apply to a program (only --arch); drop them, or drop ${source} to explain the policy they make`);
  const abis = opts.arch !== undefined ? parsePolicyArch(opts.arch) : [...localAbis()];
  let programs: (readonly Insn[])[];
  let labels: readonly string[];
  let label: string;
  if (isPidSource(source)) {
    const s = loadPidStack(source);
    programs = [...s.programs];
    labels = s.filterLabels;
    label = s.label;
  } else {
    const insns = readProgramFileAnyOrder(source, hostEndian());
    assertValid(insns, source);
    programs = [insns];
    labels = [source];
    label = `${source} (raw program)`;
  }
  const args = opts.args !== undefined ? parseArgs(opts.args) : [];
  const x = explainStack(programs, labels, abis, parseSyscallArgument(syscall), args);
  if (opts.json === true) {
    printJson({ source: label, ...x });
    return;
  }
  process.stdout.write(`; ${label}\n${formatStackExplanation(x)}`);
}

function runExplain(syscall: string, opts: ExplainOpts): void {
  const loaded = loadPolicy(opts);
  for (const w of loaded.warnings) process.stderr.write(`syscage: warning: ${w}\n`);
  const args = opts.args !== undefined ? parseArgs(opts.args) : [];
  const context = explainContext(loaded, opts);
  const x = explain(loaded.policy, { syscall: parseSyscallArgument(syscall), args }, context);
  if (opts.json === true) {
    printJson({ policy: loaded.source, ...x });
    return;
  }
  process.stdout.write(`; ${loaded.source}\n${formatExplanation(x)}`);
}

/** Add `explain` to the program. */
export function register(program: Command): void {
  addPolicyOptions(program.command("explain"))
    .description("explain a policy's decision on one syscall: per ABI, the action, the rules that produced it and where they came from")
    .argument("<syscall>", "syscall name (mkdir) or number as seen in seccomp_data.nr (83, 0x53, -1)")
    .argument("[source]", "instead of a policy: FILE.bpf (a raw program) or pid:N (the filter stack of running process N)")
    .option(
      "--args <list>",
      "up to 6 comma-separated u64 arguments; decimal, 0x hex, or negative decimal meaning 64-bit two's complement (-1 = 0xffffffffffffffff); missing ones are 0",
    )
    .option("--json", "print {policy, call, args, abis: [{abi, syscall, nr, exists, action, ret, reason, origin, rule, won, chain: [{rule, action, origin, conditions, matched, failed, won, gates}], notes, summary, cases?: [{args, action, ret, call}] when the answer depends on the arguments}]}")
    .addHelpText(
      "after",
      `
The first line of each ABI is the answer: CALL → ACTION: WHY. Then every rule
for the syscall in policy order, the one that decided it ("only match", "most
restrictive" of several, or "first of its kind" among several of the same
kind), and for the others the condition that failed, with the argument value.
ABIs with the same story are shown together; --arch names the ABIs to
explain (a policy option: the policy is built for them).

For nspawn's filter the story says which rows of nspawn's allow list hold the
syscall, which capability gates them (retained or not), and which
--system-call-filter=~… removed it; for a container profile, the
includes/excludes of its entries.

Examples:
  syscage explain mkdir --system-call-filter='~mkdir'
  syscage explain reboot --drop-capability=CAP_SYS_BOOT
  syscage explain socket --args 16,3,9
  syscage explain clone3 --profile docker-default.json --arch x86_64
  syscage explain open --arch aarch64
  syscage explain -p 'SystemCallFilter=@system-service' -p 'SystemCallErrorNumber=EACCES' mount
  syscage explain openat pid:4242          (what process 4242's filters do, filter by filter)
  syscage explain mount filter.bpf --arch x86_64`,
    )
    .action((syscall: string, source: string | undefined, opts: ExplainOpts) => (source !== undefined ? runExplainProgram(syscall, source, opts) : runExplain(syscall, opts)));
}
