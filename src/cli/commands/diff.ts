/**
 * `syscage diff [A] [B] [--a-OPTION …] [--b-OPTION …] [--arch LIST] [--json]`:
 * compare two policy sources (src/analyze/diff.ts). Exit status as diff(1):
 * 0 equal, 1 different, 2 trouble (bad input, unreadable file, usage).
 *
 * A side is a file — `.json` (syscage policy, or a container profile when
 * it has `defaultAction` or is an OCI config.json), `.bpf` (a raw program),
 * `.nspawn` (settings), `.service` (or any unit file: its [Service]
 * properties), `pid:N` (the filter stack of a running process, read once) —
 * or the word `nspawn` (nspawn's default filter), or the policy
 * options with an `--a-`/`--b-` prefix. A side given only by options is
 * built from them as the shared policy options would build it; options on a
 * file side shape it as they shape `--policy`, `--profile`, `--settings` or
 * `--unit`. A side given by neither is nspawn's default.
 */
import { readInputText } from "../../read-file.js";
import { extname } from "node:path";
import { Command, CommanderError } from "commander";
import { getAbi, localAbis } from "../../abi/arch.js";
import { diffPolicies, type DiffSide, type PolicyDiff } from "../../analyze/diff.js";
import { readProgramFileAnyOrder } from "../../bpf/codec.js";
import { assertValid } from "../../bpf/verify.js";
import { SyscageError } from "../../errors.js";
import { formatArg } from "../../analyze/explain.js";
import { formatTable, printJson } from "../output.js";
import { POLICY_OPTIONS, type PolicyOptionName } from "../policy-option-table.js";
import { isPidSource, loadPidStack } from "../pid-source.js";
import { loadPolicy, parsePolicyArch, type PolicyOptionValues } from "../policy-options.js";

/** Help for each policy option as `--a-NAME` / `--b-NAME` (every option of POLICY_OPTIONS has one). */
const SIDE_HELP: Readonly<Record<PolicyOptionName, string>> = {
  policy: "syscage policy file (JSON)",
  profile: "container seccomp profile (OCI/Docker/Podman)",
  "system-call-filter": "nspawn --system-call-filter (repeatable)",
  capability: "nspawn / profile: capabilities to add (repeatable)",
  "drop-capability": "nspawn / profile: capabilities to drop (repeatable)",
  "private-network": "nspawn --private-network",
  settings: "nspawn .nspawn settings file",
  property: "unit property KEY=VALUE, as -p (repeatable)",
  unit: "unit file",
  arch: "ABIs of this side (overrides --arch)",
  kernel: "profile: host kernel for minKernel",
  "host-arch": "profile: host architecture",
  "argument-width": "kernel or u64: how conditions read an argument (overrides the policy's)",
  routes: "closed or open: io_uring, clone3 and openat2 closed where the rules need it, or as written (overrides the policy's)",
  "deny-network": "no network by any route (AF_UNIX and existing sockets excepted)",
};

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

function camel(s: string): string {
  return s.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

type DiffOpts = Record<string, unknown> & { arch?: string; json?: boolean };

/** The `--a-…` (or `--b-…`) options given, as policy option values. */
function sideOptions(opts: DiffOpts, side: "a" | "b"): { values: PolicyOptionValues; given: string[] } {
  const values: Record<string, unknown> = {};
  const given: string[] = [];
  for (const { name, attr } of POLICY_OPTIONS) {
    const v = opts[camel(`${side}-${name}`)];
    if (v === undefined) continue;
    values[attr] = v;
    given.push(`--${side}-${name}`);
  }
  return { values: values as PolicyOptionValues, given };
}

/** What a file on the command line is. */
type FileKind = "policy" | "profile" | "program" | "settings" | "unit";

function fileKind(path: string): FileKind {
  const ext = extname(path).toLowerCase();
  if (ext === ".bpf") return "program";
  if (ext === ".nspawn") return "settings";
  if ([".service", ".socket", ".mount", ".swap", ".scope", ".slice", ".timer", ".unit", ".conf"].includes(ext)) return "unit";
  const text = readInputText(path, "profile");
  if (ext === ".json" || /^\s*[{[]/.test(text)) {
    let root: unknown;
    try {
      root = JSON.parse(text);
    } catch {
      // JSON with comments or broken JSON: let the policy reader report it, unless it looks like a profile.
      return /"defaultAction"|"ociVersion"/.test(text) ? "profile" : "policy";
    }
    const o = root !== null && typeof root === "object" && !Array.isArray(root) ? (root as Record<string, unknown>) : {};
    return "defaultAction" in o || "ociVersion" in o || "linux" in o ? "profile" : "policy";
  }
  if (/^\s*\[(Service|Unit|Install)\]/m.test(text)) return "unit";
  if (/^\s*\[(Exec|Network|Files)\]/m.test(text)) return "settings";
  throw new SyscageError(
    "BAD_USAGE",
    `${path}: cannot tell what this file is; name it .json (policy or profile), .bpf (raw program), .nspawn (settings) or .service (unit), or write "nspawn" for nspawn's default`,
  );
}

interface LoadedSide {
  readonly side: DiffSide;
  readonly kind: FileKind | "nspawn" | "options" | "process";
  readonly warnings: readonly string[];
}

function loadSide(name: "A" | "B", file: string | undefined, values: PolicyOptionValues, given: readonly string[], otherAbis: () => readonly string[]): LoadedSide {
  try {
    return loadSideUnchecked(name, file, values, given, otherAbis);
  } catch (err) {
    if (err instanceof SyscageError && !err.message.startsWith("side ")) throw new SyscageError(err.code, `side ${name}: ${err.message}`, err.suggestions);
    throw err;
  }
}

function loadSideUnchecked(name: "A" | "B", file: string | undefined, values: PolicyOptionValues, given: readonly string[], otherAbis: () => readonly string[]): LoadedSide {
  if (file === undefined || file === "nspawn") {
    const l = loadPolicy(values);
    const label = file === "nspawn" && given.length > 0 ? `nspawn (${given.join(" ")})` : given.length > 0 ? `${l.source} (${given.join(" ")})` : l.source;
    return { side: { kind: "policy", policy: l.policy, label }, kind: file === undefined && given.length > 0 ? "options" : "nspawn", warnings: l.warnings };
  }
  if (isPidSource(file)) {
    const bad = given.filter((g) => !g.endsWith("-arch"));
    if (bad.length > 0) throw new SyscageError("BAD_USAGE", `side ${name} is a running process's filter stack (${file}); ${bad.join(", ")} cannot apply to it (only --${name.toLowerCase()}-arch)`);
    const abis = values.arch !== undefined ? parsePolicyArch(values.arch) : otherAbis().length > 0 ? parsePolicyArch(otherAbis().join(",")) : [...localAbis()];
    const s = loadPidStack(file);
    return { side: { kind: "stack", programs: s.programs, abis, label: s.label }, kind: "process", warnings: [] };
  }
  const kind = fileKind(file);
  const clash = (allowed: readonly string[]): void => {
    const bad = given.filter((g) => !allowed.some((a) => g.endsWith(`-${a}`)));
    if (bad.length > 0) {
      throw new SyscageError("BAD_USAGE", `side ${name} is ${kind === "program" ? "a raw program" : `a ${kind} file`} (${file}); ${bad.join(", ")} cannot apply to it${allowed.length > 0 ? ` (only ${allowed.map((a) => `--${name.toLowerCase()}-${a}`).join(", ")})` : ""}`);
    }
  };
  switch (kind) {
    case "program": {
      clash(["arch"]);
      const abis = values.arch !== undefined ? parsePolicyArch(values.arch) : otherAbis().length > 0 ? parsePolicyArch(otherAbis().join(",")) : [...localAbis()];
      // In the byte order `syscage compile` writes for these ABIs: the first one's.
      const insns = readProgramFileAnyOrder(file, getAbi(abis[0]!).endian);
      assertValid(insns, file);
      return { side: { kind: "program", insns, abis, label: `${file} (raw program)` }, kind, warnings: [] };
    }
    case "policy":
      clash(["arch", "argument-width", "routes"]);
      break;
    case "profile":
      clash(["arch", "argument-width", "routes", "capability", "drop-capability", "kernel", "host-arch"]);
      break;
    case "settings":
      clash(["arch", "argument-width", "routes", "system-call-filter", "capability", "drop-capability", "private-network"]);
      break;
    case "unit":
      clash(["arch", "argument-width", "routes", "property"]);
      break;
  }
  const l = loadPolicy({ ...values, [kind === "settings" ? "settings" : kind]: file });
  return { side: { kind: "policy", policy: l.policy, label: given.length > 0 ? `${file} (${given.join(" ")})` : file }, kind, warnings: l.warnings };
}

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

function fsMessage(e: NodeJS.ErrnoException): string | undefined {
  if (typeof e.code !== "string" || typeof e.path !== "string") return undefined;
  const why = e.code === "ENOENT" ? "no such file; check the path" : e.code === "EACCES" || e.code === "EPERM" ? "permission denied" : e.code === "EISDIR" ? "is a directory; give a file" : `cannot read (${e.code})`;
  return `${e.path}: ${why}`;
}

/** Print an error as every syscage command does, but end with exit status 2 (diff's "trouble"). */
function trouble(err: unknown): never {
  if (err instanceof CommanderError) throw err.exitCode === 0 ? err : new CommanderError(2, err.code, err.message);
  const e = err as NodeJS.ErrnoException;
  const message =
    err instanceof SyscageError ? err.message : e !== null && typeof e === "object" ? (fsMessage(e) ?? `internal error: ${String(e.message)} (please report this)`) : String(err);
  process.stderr.write(`syscage: ${message}\n`);
  throw new CommanderError(2, "syscage.diffTrouble", message);
}

function runDiff(files: string[], opts: DiffOpts): void {
  try {
    const a = sideOptions(opts, "a");
    const b = sideOptions(opts, "b");
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
    trouble(err);
  }
}

/** Add `diff` to the program. */
export function register(program: Command): void {
  const cmd = program
    .command("diff")
    .description("compare two policies (files, nspawn option sets, profiles, raw programs): every syscall whose decision differs, per ABI, grouped by systemd group")
    .argument("[a]", "side A: FILE.json (policy or profile), FILE.bpf, FILE.nspawn, FILE.service, pid:N, or nspawn")
    .argument("[b]", "side B: the same kinds")
    .option("--arch <list>", "ABIs of both sides (default: each side's own; the host's for nspawn)")
    .option("--json", "print {a, b, abis: [{abi, compared, differences, groups: [{group, syscalls: [{name, nr, args, differing, tried, a, b, group}]}]}], total, equal}")
    .exitOverride((err) => {
      throw err.exitCode === 0 ? err : new CommanderError(2, err.code, err.message);
    });
  for (const side of ["a", "b"] as const) {
    for (const { name, kind } of POLICY_OPTIONS) {
      const text = `--${side}-${name}${kind === "flag" ? "" : ` <${kind === "list" ? "list" : "value"}>`}`;
      const h = `side ${side.toUpperCase()}: ${SIDE_HELP[name]}`;
      if (kind === "list") cmd.option(text, h, collect);
      else cmd.option(text, h);
    }
  }
  cmd
    .addHelpText(
      "after",
      `
Each side is one policy source:
  FILE.json      a syscage policy, or a container profile (detected by content:
                 "defaultAction", or an OCI config.json)
  FILE.bpf       a raw seccomp program (checked on the other side's ABIs, or --a-arch)
  FILE.nspawn    nspawn settings;  FILE.service  a unit's SystemCallFilter= & co.
  pid:N          the filter stack running process N really has (read as
                 syscage dump does, run as the kernel stacks filters; the other
                 side's ABIs, or --a-arch)
  nspawn         nspawn's default filter
  --a-OPTION / --b-OPTION   any policy option for that side: alone they build the
                 side (as the shared policy options do); with a file they shape it
                 (--b-capability=CAP_SYS_ADMIN on a profile, --a-arch on anything)
A side given by neither a file nor options is nspawn's default. With one file
and only --a- options, the file is side B; otherwise files are A then B.

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
    .action((a: string | undefined, b: string | undefined, opts: DiffOpts) => runDiff([a, b].filter((x): x is string => x !== undefined), opts));
}
