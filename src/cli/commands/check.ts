/**
 * `syscage check [A] --within B [--a-OPTION …] [--b-OPTION …] [--arch LIST]
 * [--exact-data] [--all] [--json]`: is policy A at least as strict as policy
 * B on every call (src/analyze/relations.ts `within`)? Exhaustive, as
 * `prove`. Exit status: 0 within, 1 not within (with counterexamples), 2
 * trouble (bad input, unreadable file, usage).
 *
 * A and B are the sources `diff` takes (src/cli/sources.ts): a file, the
 * word `nspawn`, or the policy options with an `--a-`/`--b-` prefix.
 */
import { isPidSource } from "../pid-source.js";
import { extname } from "node:path";
import { Command } from "commander";
import type { DiffSide } from "../../analyze/diff.js";
import { formatArg } from "../../analyze/explain.js";
import { within, type RelationSource, type WithinDifference, type WithinResult } from "../../analyze/relations.js";
import { SyscageError } from "../../errors.js";
import { printJson } from "../output.js";
import { addSideOptions, loadSide, sideOptions, trouble, usageIsTrouble, type LoadedSide, type SideOpts } from "../sources.js";

type CheckOpts = SideOpts & { within?: string; exactData?: boolean; all?: boolean };

/** The relation source of a loaded side. */
export function relationSource(s: DiffSide): RelationSource {
  if (s.kind === "policy") return s.policy;
  // A live process's stack (pid:N) is checked as the kernel runs it: every filter, oldest first.
  return { kind: "program", programs: s.kind === "stack" ? s.programs : [s.insns], abis: s.abis };
}

const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;

/** "mkdir()", "socket(16, 3, 9)": the call with its arguments (trailing zeros left out). */
function callText(d: WithinDifference): string {
  const args = [...d.data.args];
  while (args.length > 0 && args[args.length - 1] === 0n) args.pop();
  const name = d.syscall ?? (d.abi !== undefined ? `nr ${d.data.nr} (no ${d.abi} syscall)` : `nr ${d.data.nr}`);
  return `${name}(${args.map(formatArg).join(", ")})`;
}

/** The result as text. */
export function formatCheck(r: WithinResult, a: string, b: string): string {
  const out = [`A: ${a}`, `B: ${b}`];
  const how = `${r.method}: ${r.stats.paths} paths through ${r.stats.instructions} instructions, ${r.stats.nrValues} syscall numbers × ${r.stats.archValues} arch values; ${r.stats.ms.toFixed(0)} ms`;
  if (r.within) {
    out.push(`within: on every arch, syscall and argument vector, A's action is at least as strict as B's (${how})`);
  } else {
    out.push(`not within: A is less strict than B on ${r.total} syscall(s) (${how})`);
    for (const d of r.differences) {
      const where = d.abi !== undefined ? d.abi : `arch ${d.archName} (${hex(d.data.arch)})`;
      out.push(`  ${where} ${callText(d)}: A ${d.a.action}, B ${d.b.action}${d.kind === "data" ? " (same action, other data)" : ""}`);
      out.push(`    A: ${d.a.why ?? ""}`);
      out.push(`    B: ${d.b.why ?? ""}`);
    }
    if (r.total > r.differences.length) out.push(`  … ${r.total - r.differences.length} more (--all lists every one)`);
  }
  for (const n of r.notes) out.push(`  note: ${n}`);
  return out.join("\n") + "\n";
}

function runCheck(file: string | undefined, opts: CheckOpts): void {
  try {
    const a = sideOptions(opts, "a");
    const b = sideOptions(opts, "b");
    if (opts.arch !== undefined) {
      if (a.values.arch === undefined) a.values.arch = opts.arch;
      if (b.values.arch === undefined) b.values.arch = opts.arch;
    }
    const fa = file;
    const fb = opts.within;
    if (fa === undefined && a.given.length === 0) {
      throw new SyscageError("BAD_USAGE", `check needs the policy to check: A (a file, or "nspawn" for nspawn's default), or --a-… policy options`);
    }
    const isProgram = (f: string | undefined): boolean => f !== undefined && f !== "nspawn" && (extname(f).toLowerCase() === ".bpf" || isPidSource(f));
    const abisOf = (s: LoadedSide | undefined): readonly string[] => (s === undefined ? [] : s.side.kind === "policy" ? s.side.policy.abis : s.side.abis);
    let sa: LoadedSide;
    let sb: LoadedSide;
    // A raw program is read with the other side's ABIs, so load the policy side first.
    if (isProgram(fa)) {
      sb = loadSide("B", fb, b.values, b.given, () => []);
      sa = loadSide("A", fa, a.values, a.given, () => abisOf(sb));
    } else {
      sa = loadSide("A", fa, a.values, a.given, () => []);
      sb = loadSide("B", fb, b.values, b.given, () => abisOf(sa));
    }
    for (const w of [...sa.warnings, ...sb.warnings]) process.stderr.write(`syscage: warning: ${w}\n`);
    const r = within(relationSource(sa.side), relationSource(sb.side), { exactData: opts.exactData === true, limit: opts.all === true ? Infinity : 10 });
    if (opts.json === true) {
      printJson({
        within: r.within,
        a: { source: sa.side.label, kind: sa.kind },
        b: { source: sb.side.label, kind: sb.kind },
        exactData: opts.exactData === true,
        method: r.method,
        notes: r.notes,
        total: r.total,
        differences: r.differences,
        stats: r.stats,
      });
    } else process.stdout.write(formatCheck(r, sa.side.label, sb.side.label));
    process.exitCode = r.within ? 0 : 1;
  } catch (err) {
    trouble(err, "syscage.checkTrouble");
  }
}

/** Add `check` to the program. */
export function register(program: Command): void {
  const cmd = usageIsTrouble(program.command("check"))
    .description("prove that policy A is at least as strict as policy B on every call (every ABI, syscall and argument vector), or show where it is not")
    .argument("[a]", "policy A: FILE.json (policy or profile), FILE.bpf, FILE.nspawn, FILE.service, or nspawn")
    .requiredOption("--within <b>", "policy B: the same kinds (nspawn with --b-… options: nspawn built from them)")
    .option("--arch <list>", "ABIs of both sides (default: each side's own; the host's for nspawn)")
    .option("--exact-data", "also compare ERRNO numbers and TRAP/TRACE data (default: the action only)")
    .option("--all", "list every differing syscall, not only the first 10")
    .option("--json", "print {within, a, b, exactData, method, notes, total, differences: [{data, archName, abi, syscall, a: {ret, action, why}, b: {…}, kind}], stats}")
;
  addSideOptions(cmd, ["a", "b"]);
  cmd
    .addHelpText(
      "after",
      `
A is within B when for every arch value, every syscall number and every
argument vector, A's action is at least as strict as B's, in the kernel's
order: KILL_PROCESS > KILL_THREAD > TRAP > ERRNO > USER_NOTIF > TRACE > LOG >
ALLOW. A call on an arch a side does not cover gets that side's bad-arch
action. ERRNO numbers and TRAP/TRACE data count only with --exact-data.

Both sides are compiled (or taken as raw programs) and every path of both
programs is walked together, as \`syscage prove\` does: exact, not sampled.
Each counterexample is an ABI, a syscall and an argument vector with both
actions and the explanation of both sides. Sides are given as for
\`syscage diff\` (see \`syscage diff --help\`); A given by --a-… options alone
is built from them.

Exit status: 0 within, 1 not within, 2 trouble.

Examples:
  syscage check --a-system-call-filter='~mkdir' --within nspawn
  syscage check docker-default.json --within nspawn --arch x86_64,x86,x32
  syscage check workload.json --within baseline.json --all
  syscage check filter.bpf --within policy.json        (a program against a bound)`,
    )
    .action((a: string | undefined, opts: CheckOpts) => runCheck(a, opts));
}
