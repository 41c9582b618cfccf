/**
 * `syscage diff [A] [B] [--a-OPTION …] [--b-OPTION …] [--arch LIST] [--json]`:
 * compare two policy sources (src/analyze/diff.ts). Exit status as diff(1):
 * 0 equal, 1 different, 2 trouble (bad input, unreadable file, usage).
 *
 * A side is a file — `.json` (syscage policy, or a container profile when
 * it has `defaultAction` or is an OCI config.json), `.bpf` (a raw program),
 * `.nspawn` (settings), `.service` (or any unit file: its [Service]
 * properties) — or the word `nspawn` (nspawn's default filter), or the policy
 * options with an `--a-`/`--b-` prefix. A side given only by options is
 * built from them as the shared policy options would build it; options on a
 * file side shape it as they shape `--policy`, `--profile`, `--settings` or
 * `--unit`. A side given by neither is nspawn's default.
 */
import { isPidSource } from "../pid-source.js";
import { extname } from "node:path";
import { Command } from "commander";
import { diffPolicies, type PolicyDiff } from "../../analyze/diff.js";
import { SyscageError } from "../../errors.js";
import { formatArg } from "../../analyze/explain.js";
import { formatTable, printJson } from "../output.js";
import { addPlainSideOptions, addSideOptions, loadSide, plainSideOptions, sideOptions, trouble, usageIsTrouble, type LoadedSide, type SideOpts } from "../sources.js";

/** Which positional goes to which side (see the module doc and the help). */
function assignSides(files: readonly string[], aGiven: boolean, bGiven: boolean): [string | undefined, string | undefined] {
  if (files.length > 2) throw new SyscageError("BAD_USAGE", `diff compares two sides; ${files.length} given (${files.join(", ")})`);
  if (files.length === 2) return [files[0], files[1]];
  if (files.length === 1) {
    if (aGiven && !bGiven) return [undefined, files[0]];
    if (bGiven) return [files[0], undefined];
    throw new SyscageError("BAD_USAGE", `diff needs two sides; only ${files[0]} given. Add a second file, "nspawn" (nspawn's default), or --b-… options`);
  }
  if (!aGiven && !bGiven) {
    throw new SyscageError("BAD_USAGE", `diff needs two sides: two files (A B), "nspawn" for nspawn's default, or --a-…/--b-… policy options`);
  }
  return [undefined, undefined];
}

function argsText(args: readonly bigint[]): string {
  let n = args.length;
  while (n > 0 && args[n - 1] === 0n) n--;
  return n === 0 ? "" : `(${args.slice(0, n).map(formatArg).join(", ")})`;
}

/** The diff as text. */
export function formatDiff(d: PolicyDiff, a: string, b: string): string {
  const out = [`--- A: ${a}`, `+++ B: ${b}`];
  for (const abi of d.abis) {
    if (abi.differences.length === 0) {
      out.push(`${abi.abi}: no differences (${abi.compared} syscalls)`);
      continue;
    }
    out.push(`${abi.abi}: ${abi.differences.length} of ${abi.compared} syscalls differ`);
    for (const g of abi.groups) {
      out.push(`  ${g.group} (${g.syscalls.length})`);
      const rows = g.syscalls.map((s) => [
        `    ${s.name}${argsText(s.args)}${s.differing < s.tried && s.tried > 1 ? ` [${s.differing}/${s.tried} arg cases]` : ""}`,
        `A ${s.a.action}`,
        `B ${s.b.action}`,
        `A: ${s.a.origin} | B: ${s.b.origin}`,
      ]);
      out.push(formatTable(rows));
    }
  }
  const per = d.abis.map((x) => `${x.abi} ${x.differences.length}`).join(", ");
  out.push(d.equal ? "summary: equal" : `summary: ${d.total} differences (${per})`);
  return out.join("\n") + "\n";
}

function runDiff(files: string[], opts: SideOpts): void {
  try {
    const a = sideOptions(opts, "a");
    const b = sideOptions(opts, "b");
    // Plain policy options mean side B (`diff pid:4242 --profile docker-default.json`).
    const plain = plainSideOptions(opts);
    if (plain.given.length > 0) {
      if (b.given.length > 0) throw new SyscageError("BAD_USAGE", `${plain.given.join(", ")} and ${b.given.join(", ")} both shape side B; write them all as --b-… options`);
      if (files.length === 2) throw new SyscageError("BAD_USAGE", `${plain.given.join(", ")}: two files already give both sides; write --a-… or --b-… to shape one of them`);
      Object.assign(b.values, plain.values);
      b.given.push(...plain.given);
    }
    if (opts.arch !== undefined) {
      if (a.values.arch === undefined) a.values.arch = opts.arch;
      if (b.values.arch === undefined) b.values.arch = opts.arch;
    }
    const [fa, fb] = assignSides(files, a.given.length > 0, b.given.length > 0);
    const aIsProgram = fa !== undefined && fa !== "nspawn" && (extname(fa).toLowerCase() === ".bpf" || isPidSource(fa));
    let sa: LoadedSide | undefined;
    let sb: LoadedSide | undefined;
    // A raw program is checked on the other side's ABIs, so load the policy side first.
    const abisOf = (s: LoadedSide | undefined): readonly string[] => (s === undefined ? [] : s.side.kind === "policy" ? s.side.policy.abis : s.side.abis);
    if (aIsProgram) {
      sb = loadSide("B", fb, b.values, b.given, () => []);
      sa = loadSide("A", fa, a.values, a.given, () => abisOf(sb));
    } else {
      sa = loadSide("A", fa, a.values, a.given, () => []);
      sb = loadSide("B", fb, b.values, b.given, () => abisOf(sa));
    }
    for (const w of [...sa.warnings, ...sb.warnings]) process.stderr.write(`syscage: warning: ${w}\n`);
    const d = diffPolicies(sa.side, sb.side);
    if (opts.json === true) printJson({ a: { source: sa.side.label, kind: sa.kind }, b: { source: sb.side.label, kind: sb.kind }, ...d });
    else process.stdout.write(formatDiff(d, sa.side.label, sb.side.label));
    process.exitCode = d.equal ? 0 : 1;
  } catch (err) {
    trouble(err, "syscage.diffTrouble");
  }
}

/** Add `diff` to the program. */
export function register(program: Command): void {
  const cmd = usageIsTrouble(program.command("diff"))
    .description("compare two policies (files, nspawn option sets, profiles, raw programs): every syscall whose decision differs, per ABI, grouped by systemd group")
    .argument("[a]", "side A: FILE.json (policy or profile), FILE.bpf, FILE.nspawn, FILE.service, pid:N, or nspawn")
    .argument("[b]", "side B: the same kinds")
    .option("--arch <list>", "ABIs of both sides (default: each side's own; the host's for nspawn)")
    .option("--json", "print {a, b, abis: [{abi, compared, differences, groups: [{group, syscalls: [{name, nr, args, differing, tried, a, b, group}]}]}], total, equal}")
;
  addSideOptions(cmd, ["a", "b"]);
  addPlainSideOptions(cmd);
  cmd
    .addHelpText(
      "after",
      `
Each side is one policy source:
  FILE.json      a syscage policy, or a container profile (detected by content:
                 "defaultAction", or an OCI config.json)
  FILE.bpf       a raw seccomp program (checked on the other side's ABIs, or --a-arch)
  pid:N          the filter stack running process N really has (read as
                 syscage dump does, run as the kernel stacks filters; the other
                 side's ABIs, or --a-arch)
  FILE.nspawn    nspawn settings;  FILE.service  a unit's SystemCallFilter= & co.
  nspawn         nspawn's default filter
  --a-OPTION / --b-OPTION   any policy option for that side: alone they build the
                 side (as the shared policy options do); with a file they shape it
                 (--b-capability=CAP_SYS_ADMIN on a profile, --a-arch on anything)
A side given by neither a file nor options is nspawn's default. With one file
and only --a- options, the file is side B; otherwise files are A then B.
Plain policy options (--profile FILE, --system-call-filter=…) shape side B:
  syscage diff pid:4242 --profile docker-default.json

For each ABI, every syscall of its table is decided by both sides with all
arguments zero and, for syscalls whose rules test arguments, at the boundary
values of the constants (v-1, v, v+1, masks); one number beyond the table
stands for the unknown numbers. Decisions are compared as the 32-bit value
the filter returns. Each syscall is listed under its most specific systemd
group: the smallest group (other than @known) that contains it.

Exit status: 0 equal, 1 different, 2 trouble.

Examples:
  syscage diff --b-system-call-filter='~@mount'           (nspawn default vs. without @mount)
  syscage diff nspawn docker-default.json --arch x86_64
  syscage diff --a-drop-capability=CAP_SYS_BOOT --b-capability=all
  syscage diff docker-default.json docker-default.json --b-capability=CAP_SYS_ADMIN
  syscage diff policy.json filter.bpf                    (a policy vs. its compiled program)
  syscage diff pid:4242 docker-default.json              (what a container enforces vs. the file meant for it)
  syscage diff app.service --b-property='SystemCallFilter=@system-service'`,
    )
    .action((a: string | undefined, b: string | undefined, opts: SideOpts) => runDiff([a, b].filter((x): x is string => x !== undefined), opts));
}
