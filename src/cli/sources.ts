/**
 * The policy sources of the commands that compare or combine policies
 * (`diff`, `check`, `merge`): a file — `.json` (syscage policy, or a
 * container profile when it has `defaultAction` or is an OCI config.json),
 * `.bpf` (a raw program), `.nspawn` (settings), `.service` (or any unit
 * file) — or the word `nspawn`, shaped or built by the policy options with a
 * side prefix (`--a-…`, `--b-…`). And their "trouble" exit (status 2).
 */
import { isPidSource, loadPidStack } from "./pid-source.js";
import { looksLikeSpoYaml } from "../policy/spo.js";
import { pinInputFile } from "../read-file.js";
import { extname } from "node:path";
import { Command, CommanderError, Option } from "commander";
import { getAbi, localAbis } from "../abi/arch.js";
import type { DiffSide } from "../analyze/diff.js";
import { readProgramFileAnyOrder } from "../bpf/codec.js";
import { assertValid } from "../bpf/verify.js";
import { SyscageError , withContext } from "../errors.js";
import { POLICY_OPTIONS, type PolicyOptionName } from "./policy-option-table.js";
import { loadPolicy, parsePolicyArch, type PolicyOptionValues } from "./policy-options.js";

/** Help for each policy option as `--a-NAME` / `--b-NAME` (every option of POLICY_OPTIONS has one). */
export const SIDE_HELP: Readonly<Record<PolicyOptionName, string>> = {
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

export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function camel(s: string): string {
  return s.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

export type SideOpts = Record<string, unknown> & { arch?: string; json?: boolean };

/** The `--a-…` (or `--b-…`) options given, as policy option values. */
export function sideOptions(opts: SideOpts, side: "a" | "b"): { values: PolicyOptionValues; given: string[] } {
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

/**
 * The plain policy options (`--profile`, `--system-call-filter`, …; not
 * `--arch`, which is both sides') given to a two-sided command: they mean
 * side B, so that `diff pid:4242 --profile docker-default.json` reads as it
 * is written. Registered hidden by {@link addPlainSideOptions}.
 */
export function plainSideOptions(opts: SideOpts): { values: PolicyOptionValues; given: string[] } {
  const values: Record<string, unknown> = {};
  const given: string[] = [];
  for (const { name, attr } of POLICY_OPTIONS) {
    if (name === "arch") continue;
    const v = opts[attr];
    if (v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    values[attr] = v;
    given.push(`--${name}`);
  }
  return { values: values as PolicyOptionValues, given };
}

/** Register the plain policy options (but `--arch`) as hidden options meaning side B (see {@link plainSideOptions}). */
export function addPlainSideOptions(cmd: Command): void {
  for (const { name, kind } of POLICY_OPTIONS) {
    if (name === "arch") continue;
    const o = new Option(`--${name}${kind === "flag" ? "" : ` <${kind === "list" ? "list" : "value"}>`}`, `side B: ${SIDE_HELP[name]}`).hideHelp();
    if (kind === "list") o.argParser(collect);
    cmd.addOption(o);
  }
}

/** What a file on the command line is. */
export type FileKind = "policy" | "profile" | "program" | "settings" | "unit";

export function fileKind(path: string): FileKind {
  const ext = extname(path).toLowerCase();
  if (ext === ".bpf") return "program";
  if (ext === ".nspawn") return "settings";
  if ([".service", ".socket", ".mount", ".swap", ".scope", ".slice", ".timer", ".unit", ".conf"].includes(ext)) return "unit";
  // Pinned: the loader then reads these same bytes (a FIFO can be read only once).
  const text = pinInputFile(path).toString("utf8");
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
  // A Kubernetes SeccompProfile (the SPO CRD, YAML).
  if (looksLikeSpoYaml(text)) return "profile";
  if (/^\s*\[(Service|Unit|Install)\]/m.test(text)) return "unit";
  if (text.trim() === "") throw new SyscageError("BAD_USAGE", `${path}: the file is empty; give a policy, profile, program, settings or unit file`);
  if (/^\s*\[(Exec|Network|Files)\]/m.test(text)) return "settings";
  throw new SyscageError(
    "BAD_USAGE",
    `${path}: cannot tell what this file is; name it .json (policy or profile), .yaml with "kind: SeccompProfile" (a Kubernetes profile), .bpf (raw program), .nspawn (settings) or .service (unit), or write "nspawn" for nspawn's default`,
  );
}

export interface LoadedSide {
  readonly side: DiffSide;
  readonly kind: FileKind | "nspawn" | "options" | "process";
  readonly warnings: readonly string[];
}

export function loadSide(name: string, file: string | undefined, values: PolicyOptionValues, given: readonly string[], otherAbis: () => readonly string[]): LoadedSide {
  try {
    return loadSideUnchecked(name, file, values, given, otherAbis);
  } catch (err) {
    const where = /^[A-Z]$/.test(name) ? `side ${name}` : name;
    if (err instanceof SyscageError && err.message.startsWith(where)) throw err;
    withContext(err, `${where}: `);
  }
}

function loadSideUnchecked(name: string, file: string | undefined, values: PolicyOptionValues, given: readonly string[], otherAbis: () => readonly string[]): LoadedSide {
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

export function fsMessage(e: NodeJS.ErrnoException): string | undefined {
  if (typeof e.code !== "string" || typeof e.path !== "string") return undefined;
  const why = e.code === "ENOENT" ? "no such file; check the path" : e.code === "EACCES" || e.code === "EPERM" ? "permission denied" : e.code === "EISDIR" ? "is a directory; give a file" : `cannot read (${e.code})`;
  return `${e.path}: ${why}`;
}

/** Make commander's own usage errors of `cmd` exit 2 ("trouble") too, as the command's other errors (diff, check, prove, audit). */
export function usageIsTrouble<C extends Command>(cmd: C): C {
  return cmd.exitOverride((err) => {
    throw err.exitCode === 0 ? err : new CommanderError(2, err.code, err.message);
  });
}

/** Print an error as every syscage command does, but end with exit status 2 ("trouble", as diff(1)). */
export function trouble(err: unknown, code = "syscage.trouble"): never {
  if (err instanceof CommanderError) throw err.exitCode === 0 ? err : new CommanderError(2, err.code, err.message);
  const e = err as NodeJS.ErrnoException;
  const message =
    err instanceof SyscageError ? err.message : e !== null && typeof e === "object" ? (fsMessage(e) ?? `internal error: ${String(e.message)} (please report this)`) : String(err);
  process.stderr.write(`syscage: ${message}\n`);
  throw new CommanderError(2, code, message);
}

/** Add the `--SIDE-NAME` form of every policy option, for each side given. */
export function addSideOptions(cmd: Command, sides: readonly ("a" | "b")[]): void {
  for (const side of sides) {
    for (const { name, kind } of POLICY_OPTIONS) {
      const text = `--${side}-${name}${kind === "flag" ? "" : ` <${kind === "list" ? "list" : "value"}>`}`;
      const h = `side ${side.toUpperCase()}: ${SIDE_HELP[name]}`;
      if (kind === "list") cmd.option(text, h, collect);
      else cmd.option(text, h);
    }
  }
}
