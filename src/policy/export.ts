/**
 * Policy → container profiles and systemd settings (docs/profiles.md):
 *
 * - `oci`: the OCI runtime-spec `linux.seccomp` object (a Kubernetes
 *   Localhost profile; runc, crun, CRI-O);
 * - `docker`: the same with `archMap` (for `docker run --security-opt seccomp=FILE`);
 * - `spo`: a Security Profiles Operator `SeccompProfile` (v1) YAML;
 * - `systemd`: `SystemCallFilter=` / `SystemCallErrorNumber=` /
 *   `SystemCallArchitectures=` lines, when the policy can be said that way.
 *
 * What a format cannot express is an error naming the rule and the reason,
 * never a silent change. The exported profile, imported again with
 * `oci.ts`, gives the same decisions as the policy (tested on random
 * policies and on the nspawn default).
 *
 * How syscage's semantics map: rules are grouped into entries (consecutive
 * rules with the same action, conditions and origin share one entry, so the
 * order of rules — which decides between ERRNO rules of different errno — is
 * kept). Rules whose action equals the default action are left out (runc
 * skips them) unless that would change a decision, which is an error. Two
 * conditions on the same argument in one rule cannot be exported: runc ORs
 * them.
 *
 * Argument widths: runtimes compare whole registers. Under `argumentWidth:
 * "kernel"` a condition on a narrow argument is written so that a
 * whole-register reader gives it the same meaning (closing the high-bits
 * bypass in the runtime too): EQ/MASKED_EQ as a MASKED_EQ on the low bits,
 * LT/LE/GT/GE/NE as several entries of prefix MASKED_EQs (at most
 * {@link MAX_ENTRIES_PER_RULE} per rule). What cannot be said exactly (the
 * width differs by ABI, too many entries) is written as is, with a warning
 * that the runtimes keep the hole there; a "u64" policy gets a warning that
 * it and the runtimes keep it (docs/profiles.md).
 */
import { yamlModule } from "../deps.js";
import { getAbi, type AbiName } from "../abi/arch.js";
import { argType, argWidth } from "../abi/argtypes.js";
import { errnoNumber } from "../abi/errno.js";
import { abisWithSyscall, syscallTable } from "../abi/tables.js";
import { SyscageError } from "../errors.js";
import { actionRet } from "./evaluate.js";
import { ACTION_RANK, formatPolicyAction, type Action, type Condition, type FilterFlag, type Policy, type Rule } from "./model.js";
import { withRoutes } from "./routes.js";

/** Export formats. */
export type ExportFormat = "oci" | "docker" | "spo" | "systemd";

/** Every export format, for help texts. */
export const EXPORT_FORMATS: readonly ExportFormat[] = ["oci", "docker", "spo", "systemd"];

/** Options of the exporters. */
export interface ExportOptions {
  /** SPO: `metadata.name` (default "syscage-profile"). */
  readonly name?: string;
}

/** An exported document and the notes a user should read. */
export interface ExportResult {
  /** The file's text (JSON, YAML or unit lines), ending with a newline. */
  readonly text: string;
  readonly warnings: readonly string[];
}

/** An OCI seccomp argument with exact u64 values. */
export interface OciArg {
  readonly index: number;
  readonly value: bigint;
  readonly valueTwo?: bigint;
  readonly op: string;
}

/** An OCI seccomp rule entry. */
export interface OciSyscall {
  readonly names: string[];
  readonly action: string;
  readonly errnoRet?: number;
  readonly args?: OciArg[];
  readonly comment?: string;
}

/** An OCI `linux.seccomp` object (Docker's `archMap` form when exported as docker). */
export interface OciSeccomp {
  readonly defaultAction: string;
  readonly defaultErrnoRet?: number;
  readonly architectures?: string[];
  readonly archMap?: { architecture: string; subArchitectures: string[] }[];
  readonly flags?: string[];
  readonly listenerPath?: string;
  readonly listenerMetadata?: string;
  readonly syscalls: OciSyscall[];
}

const OCI_FLAGS: Readonly<Partial<Record<FilterFlag, string>>> = {
  TSYNC: "SECCOMP_FILTER_FLAG_TSYNC",
  LOG: "SECCOMP_FILTER_FLAG_LOG",
  SPEC_ALLOW: "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
  WAIT_KILLABLE_RECV: "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

const EPERM = 1;

function cannot(format: string, what: string, why: string): never {
  throw new SyscageError("EXPORT_UNSUPPORTED", `cannot export to ${format}: ${what}: ${why}`);
}

function ruleLabel(r: Rule, i: number): string {
  return `rule #${i + 1} (${r.syscall} → ${formatPolicyAction(r.action)}, from ${r.origin})`;
}

/** The errno number of an ERRNO action, the same on every ABI of the policy (OCI carries one number). */
function errnoOf(a: Action & { kind: "ERRNO" }, abis: readonly AbiName[], format: string, what: string): number {
  if (typeof a.errno === "number") return a.errno;
  const nums = [...new Set(abis.map((abi) => errnoNumber(abi, a.errno as string)))];
  if (nums.length !== 1 || nums[0] === undefined) {
    cannot(format, what, `errno ${a.errno} has different numbers on ${abis.join(", ")} (${nums.join(" / ")}) and a profile carries one number; export for fewer ABIs (--arch)`);
  }
  return nums[0];
}

/** SCMP_ACT_* and errnoRet of an action. */
function ociAction(a: Action, abis: readonly AbiName[], format: string, what: string): { action: string; errnoRet?: number } {
  switch (a.kind) {
    case "ALLOW":
      return { action: "SCMP_ACT_ALLOW" };
    case "LOG":
      return { action: "SCMP_ACT_LOG" };
    case "NOTIFY":
      return { action: "SCMP_ACT_NOTIFY" };
    case "KILL_PROCESS":
      return { action: "SCMP_ACT_KILL_PROCESS" };
    case "KILL_THREAD":
      return { action: "SCMP_ACT_KILL_THREAD" };
    case "TRAP":
      if (a.data !== 0) cannot(format, what, `TRAP(${a.data}): profiles have no TRAP data (runtimes always use 0)`);
      return { action: "SCMP_ACT_TRAP" };
    case "TRACE":
      return { action: "SCMP_ACT_TRACE", errnoRet: a.data };
    case "ERRNO":
      return { action: "SCMP_ACT_ERRNO", errnoRet: errnoOf(a, abis, format, what) };
  }
}

/** Rules whose alternatives would multiply past this many profile entries keep their ordered conditions as written. */
export const MAX_ENTRIES_PER_RULE = 64;

/** How a condition's argument is narrowed on the policy's ABIs, as far as a profile (whole-register comparisons) is concerned. */
type Narrowing =
  /** No ABI narrows it (u64 policy, or the declared type fills the register): runtimes compare what syscage compares. */
  | { readonly kind: "none" }
  /** Every ABI with the syscall keeps the same low `bits`, narrower than the register on some of them. */
  | { readonly kind: "uniform"; readonly bits: number }
  /** The kept width differs by ABI (e.g. old_uid_t): one profile condition cannot say it. */
  | { readonly kind: "mixed"; readonly widths: string };

function narrowingOf(p: Policy, r: Rule, c: Condition): Narrowing {
  if (p.argumentWidth === "u64") return { kind: "none" };
  const abis = p.abis.filter((a) => abisWithSyscall(r.syscall).includes(a));
  if (!abis.some((a) => argWidth(a, r.syscall, c.arg) < getAbi(a).argBits)) return { kind: "none" };
  const widths = new Set(abis.map((a) => argWidth(a, r.syscall, c.arg)));
  if (widths.size === 1) return { kind: "uniform", bits: [...widths][0]! };
  return { kind: "mixed", widths: abis.map((a) => `${argWidth(a, r.syscall, c.arg)} bits on ${a}`).join(", ") };
}

/** MASKED_EQ conditions whose union is `x < v` for the low `w` bits x (v < 2^w): one per set bit of v, x's higher bits equal to v's. */
function lessThan(arg: Condition["arg"], v: bigint, w: number): Condition[] {
  const low = (1n << BigInt(w)) - 1n;
  const out: Condition[] = [];
  for (let i = w - 1; i >= 0; i--) {
    const bit = 1n << BigInt(i);
    if ((v & bit) === 0n) continue;
    out.push({ arg, op: "MASKED_EQ", mask: low & ~(bit - 1n), value: v & ~(bit * 2n - 1n) });
  }
  return out;
}

/** MASKED_EQ conditions whose union is `x > v` for the low `w` bits x (v < 2^w): one per clear bit of v. */
function greaterThan(arg: Condition["arg"], v: bigint, w: number): Condition[] {
  const low = (1n << BigInt(w)) - 1n;
  const out: Condition[] = [];
  for (let i = w - 1; i >= 0; i--) {
    const bit = 1n << BigInt(i);
    if ((v & bit) !== 0n) continue;
    out.push({ arg, op: "MASKED_EQ", mask: low & ~(bit - 1n), value: (v & ~(bit * 2n - 1n)) | bit });
  }
  return out;
}

/**
 * A condition on a narrowed argument (`bits` low bits kept), said in
 * whole-register terms: a list of conditions whose OR is exactly it (`null`:
 * the condition always holds; an empty list: it never does). EQ and
 * MASKED_EQ become one MASKED_EQ on the low bits; LT/LE/GT/GE/NE become the
 * prefix decomposition of their range, one MASKED_EQ per bit at most (`x <
 * v` ⟺ for some set bit i of v, x agrees with v above i and has bit i clear).
 * With `ordered` false the ordered operators are returned unchanged.
 */
function lowBitsAlternatives(c: Condition, bits: number, ordered: boolean): (Condition | null)[] {
  const low = (1n << BigInt(bits)) - 1n;
  const v = c.value & low;
  switch (c.op) {
    case "EQ":
      return [{ arg: c.arg, op: "MASKED_EQ", mask: low, value: v }];
    case "MASKED_EQ":
      return [{ arg: c.arg, op: "MASKED_EQ", mask: (c.mask ?? 0n) & low, value: v }];
    default:
      break;
  }
  if (!ordered) return [c];
  switch (c.op) {
    case "LT":
      return lessThan(c.arg, v, bits);
    case "LE":
      return v === low ? [null] : lessThan(c.arg, v + 1n, bits);
    case "GT":
      return greaterThan(c.arg, v, bits);
    case "GE":
      return v === 0n ? [null] : greaterThan(c.arg, v - 1n, bits);
    case "NE":
      return [...lessThan(c.arg, v, bits), ...greaterThan(c.arg, v, bits)];
  }
}

/** A rule said for a runtime: its condition sets (the rule's entries, ORed), and whether the high-bits bypass stays open on it. */
interface ExportedRule {
  readonly alternatives: readonly (readonly Condition[])[];
  /** Why a narrowed condition could not be said exactly, when one could not. */
  readonly open?: string;
}

/**
 * The rule in whole-register terms (see {@link lowBitsAlternatives}): every
 * narrowed condition becomes its alternatives, and the rule one entry per
 * combination — exact as long as every ABI agrees on the width and the
 * combinations stay within {@link MAX_ENTRIES_PER_RULE}.
 */
function exportRule(p: Policy, r: Rule): ExportedRule {
  const ns = r.conditions.map((c) => narrowingOf(p, r, c));
  let open: string | undefined;
  ns.forEach((n, j) => {
    if (n.kind === "mixed" && open === undefined) open = `${r.syscall} arg${r.conditions[j]!.arg} keeps ${n.widths}`;
  });
  const expand = (ordered: boolean): (Condition | null)[][] => r.conditions.map((c, j) => (ns[j]!.kind === "uniform" ? lowBitsAlternatives(c, (ns[j] as { bits: number }).bits, ordered) : [c]));
  let per = expand(true);
  const product = per.reduce((n, l) => n * Math.max(1, l.length), 1);
  if (product > MAX_ENTRIES_PER_RULE) {
    per = expand(false);
    const j = r.conditions.findIndex((c, k) => ns[k]!.kind === "uniform" && c.op !== "EQ" && c.op !== "MASKED_EQ");
    open ??= `${r.syscall} arg${r.conditions[j]!.arg} ${r.conditions[j]!.op} would take ${product} entries (more than ${MAX_ENTRIES_PER_RULE})`;
  }
  if (per.some((l) => l.length === 0)) return { alternatives: [], ...(open !== undefined ? { open } : {}) };
  let combos: Condition[][] = [[]];
  for (const list of per) combos = combos.flatMap((done) => list.map((c) => (c === null ? done : [...done, c])));
  return { alternatives: combos, ...(open !== undefined ? { open } : {}) };
}

function ociArgs(r: Rule, conditions: readonly Condition[], i: number, format: string): OciArg[] {
  const seen = new Set<number>();
  for (const c of r.conditions) {
    if (seen.has(c.arg)) {
      cannot(format, ruleLabel(r, i), `two conditions on argument ${c.arg}; a profile rule with several conditions on one argument means OR to runc and crun, not AND`);
    }
    seen.add(c.arg);
  }
  return conditions.map((c) =>
    c.op === "MASKED_EQ" ? { index: c.arg, value: c.mask ?? 0n, valueTwo: c.value, op: "SCMP_CMP_MASKED_EQ" } : { index: c.arg, value: c.value, op: `SCMP_CMP_${c.op}` },
  );
}

function argsKey(args: readonly OciArg[]): string {
  return args.map((a) => `${a.index}:${a.op}:${a.value}:${a.valueTwo ?? ""}`).join("&");
}

/** Who reads each container format, for messages. */
const RUNTIMES: Readonly<Record<string, string>> = {
  oci: "the runtimes that read OCI profiles (runc, crun, CRI-O, through libseccomp)",
  docker: "Docker and Podman (runc, crun, through libseccomp)",
  spo: "the Security Profiles Operator's runtimes (runc, crun, CRI-O, through libseccomp)",
};

/**
 * Check the parts of a policy no profile can carry: the unknown action (only
 * ENOSYS, given by runtimes, or the default), the bad-arch action (runtimes
 * kill), a default rule that matters.
 */
function profileWarnings(p: Policy, format: string): string[] {
  const out: string[] = [];
  const def = p.default.action;
  const abi0 = p.abis[0]!;
  const unknownRet = actionRet(p.unknown.action, abi0);
  const permissive = def.kind === "ALLOW" || def.kind === "LOG" || def.kind === "TRACE";
  const enosys = p.abis.every((a) => actionRet(p.unknown.action, a) === actionRet({ kind: "ERRNO", errno: "ENOSYS" }, a));
  if (unknownRet !== actionRet(def, abi0) && !(enosys && !permissive)) {
    cannot(
      format,
      `unknown action ${formatPolicyAction(p.unknown.action)}`,
      `a profile has no action of its own for syscalls unknown to the tables; they get the default action (${formatPolicyAction(def)}) or, from runc, ENOSYS`,
    );
  }
  if (p.argumentWidth === "u64") {
    const narrow = p.rules.flatMap((r) =>
      r.conditions.flatMap((c) => {
        const abi = p.abis.find((a) => abisWithSyscall(r.syscall).includes(a) && argWidth(a, r.syscall, c.arg) < getAbi(a).argBits);
        return abi === undefined ? [] : [{ r, c, abi }];
      }),
    );
    if (narrow.length > 0) {
      const { r, c, abi } = narrow[0]!;
      const t = argType(abi, r.syscall, c.arg);
      out.push(
        `the policy compares whole registers (argumentWidth "u64"), and so do ${RUNTIMES[format]}: ${new Set(narrow.map((x) => x.r)).size} rule(s) test arguments narrower than their register (e.g. ${r.syscall} arg${c.arg}${t !== undefined ? `, ${t.name} (${t.type})` : ""}), so high bits the kernel drops can slip a call past them; convert with --argument-width kernel to close that`,
      );
    }
  }
  if (p.badArch.action.kind !== "KILL_PROCESS" && p.badArch.action.kind !== "KILL_THREAD") {
    out.push(`the bad-arch action ${formatPolicyAction(p.badArch.action)} is not exported: runtimes kill calls of architectures the profile does not cover`);
  }
  return out;
}

/** Rules to export: those whose action differs from the default (an error if dropping one would change a decision). */
function exportedRules(p: Policy, format: string): { rule: Rule; index: number }[] {
  const out: { rule: Rule; index: number }[] = [];
  const abi0 = p.abis[0]!;
  const defRet = actionRet(p.default.action, abi0);
  p.rules.forEach((r, i) => {
    if (actionRet(r.action, abi0) !== defRet) {
      out.push({ rule: r, index: i });
      return;
    }
    // It matters when it overrides a less restrictive rule, or wins a tie (same kind, earlier in policy order) against another ret.
    const weaker = p.rules.find(
      (o, j) =>
        o.syscall === r.syscall &&
        (ACTION_RANK[o.action.kind] > ACTION_RANK[r.action.kind] || (o.action.kind === r.action.kind && j > i && actionRet(o.action, abi0) !== defRet)),
    );
    if (weaker !== undefined) {
      cannot(
        format,
        ruleLabel(r, i),
        `its action equals the default action, and runtimes skip such rules, but here it overrides ${weaker.action.kind === r.action.kind ? "a later rule of the same kind" : "a less restrictive rule"} of ${r.syscall} (${formatPolicyAction(weaker.action)}, from ${weaker.origin})`,
      );
    }
  });
  return out;
}

/** The OCI / Docker object of a policy (see the module doc). */
export function policyToOci(given: Policy, format: "oci" | "docker" | "spo" = "oci"): { seccomp: OciSeccomp; warnings: string[] } {
  const p = withRoutes(given);
  const warnings = profileWarnings(p, format);
  const def = ociAction(p.default.action, p.abis, format, `default action ${formatPolicyAction(p.default.action)}`);
  const syscalls: OciSyscall[] = [];
  const open: string[] = [];
  let lastKey = "";
  for (const { rule: r, index: i } of exportedRules(p, format)) {
    const a = ociAction(r.action, p.abis, format, ruleLabel(r, i));
    const x = exportRule(p, r);
    if (x.open !== undefined) open.push(x.open);
    for (const conditions of x.alternatives) {
      const args = ociArgs(r, conditions, i, format);
      const key = `${a.action}|${a.errnoRet ?? ""}|${argsKey(args)}|${r.origin}`;
      const prev = syscalls[syscalls.length - 1];
      if (prev !== undefined && key === lastKey && !prev.names.includes(r.syscall)) {
        prev.names.push(r.syscall);
        continue;
      }
      lastKey = key;
      syscalls.push({
        names: [r.syscall],
        action: a.action,
        ...(a.errnoRet !== undefined ? { errnoRet: a.errnoRet } : {}),
        ...(args.length > 0 ? { args } : {}),
        ...(format === "docker" ? { comment: r.origin } : {}),
      });
    }
  }
  if (open.length > 0) {
    warnings.push(
      `${open.length} rule(s) test arguments narrower than their register in a way a profile cannot state exactly (e.g. ${open[0]}): ${RUNTIMES[format]} compare whole registers, so on those rules high bits the kernel drops can still slip a call past them (the high-bits bypass; syscage's own program closes it)`,
    );
  }
  const scmp = p.abis.map((a) => getAbi(a).scmpName);
  const flags = p.flags.map((f) => OCI_FLAGS[f]).filter((f): f is string => f !== undefined);
  const seccomp: OciSeccomp = {
    defaultAction: def.action,
    ...(def.errnoRet !== undefined ? { defaultErrnoRet: def.errnoRet } : {}),
    ...(format === "docker" ? { archMap: [{ architecture: scmp[0]!, subArchitectures: scmp.slice(1) }] } : { architectures: scmp }),
    ...(flags.length > 0 ? { flags } : {}),
    ...(p.listener !== undefined ? { listenerPath: p.listener.path } : {}),
    ...(p.listener?.metadata !== undefined ? { listenerMetadata: p.listener.metadata } : {}),
    syscalls,
  };
  return { seccomp, warnings };
}

/** JSON text with bigints written as exact integer literals. */
export function jsonWithBigInts(value: unknown): string {
  const marker = "@@syscage-bigint@@";
  const marked = JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? `${marker}${v.toString()}` : v), 2);
  return marked.replace(new RegExp(`"${marker}(-?\\d+)"`, "g"), "$1") + "\n";
}

// ---- SPO -----------------------------------------------------------------------------

/** The architectures the SPO v1 CRD accepts (no LOONGARCH64, M68K, SH, SHEB). */
export const SPO_ARCHES: readonly string[] = [
  "SCMP_ARCH_NATIVE", "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
  "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32",
  "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC",
  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",
];

const SPO_LISTENER = /^\/var\/run\/security-profiles-operator\/[a-zA-Z0-9_\-.]+$/;
const INT64_MAX = (1n << 63n) - 1n;

/**
 * The SPO form of a policy. SPO has no `defaultErrnoRet` (the default ERRNO
 * means EPERM), so a default ERRNO(n ≠ EPERM) is written as explicit
 * ERRNO(n) rules for every syscall of the policy's ABIs that no
 * unconditional rule decides; syscalls unknown to the tables then get
 * EPERM from libseccomp (runc's stub gives ENOSYS above the highest named
 * syscall), and ENOSYS again when imported by syscage.
 */
function policyToSpo(p: Policy, opts: ExportOptions): { doc: unknown; warnings: string[] } {
  const { seccomp, warnings } = policyToOci(p, "spo");
  for (const a of seccomp.architectures ?? []) {
    if (!SPO_ARCHES.includes(a)) cannot("spo", `architecture ${a}`, `the SeccompProfile CRD accepts only ${SPO_ARCHES.join(", ")}`);
  }
  if (seccomp.listenerPath !== undefined && !SPO_LISTENER.test(seccomp.listenerPath)) {
    cannot("spo", `listenerPath ${seccomp.listenerPath}`, "SPO requires a path matching ^/var/run/security-profiles-operator/[a-zA-Z0-9_-.]+$");
  }
  const syscalls = [...seccomp.syscalls];
  let defaultAction = seccomp.defaultAction;
  if (seccomp.defaultErrnoRet !== undefined && seccomp.defaultErrnoRet !== EPERM) {
    if (seccomp.defaultAction === "SCMP_ACT_TRACE") cannot("spo", `default action ${formatPolicyAction(p.default.action)}`, "SPO has no defaultErrnoRet, so the default TRACE data is always EPERM (1)");
    const unconditional = new Set(p.rules.filter((r) => r.conditions.length === 0).map((r) => r.syscall));
    const conditional = p.rules.filter((r) => r.conditions.length > 0 && !unconditional.has(r.syscall));
    for (const r of conditional) {
      if (r.action.kind === "ERRNO" && actionRet(r.action, p.abis[0]!) === actionRet({ kind: "ERRNO", errno: EPERM }, p.abis[0]!)) {
        cannot(
          "spo",
          ruleLabel(r, p.rules.indexOf(r)),
          `SPO has no defaultErrnoRet, so its default ERRNO means EPERM and runtimes skip EPERM rules as equal to it; this conditional EPERM rule would then lose to the rule that stands for the default ERRNO(${seccomp.defaultErrnoRet})`,
        );
      }
      if (ACTION_RANK[r.action.kind] > ACTION_RANK.ERRNO) {
        cannot(
          "spo",
          ruleLabel(r, p.rules.indexOf(r)),
          `SPO has no defaultErrnoRet: the default ERRNO(${seccomp.defaultErrnoRet}) would have to become a rule for ${r.syscall}, and that rule would override this less restrictive conditional rule`,
        );
      }
    }
    const names = new Set<string>();
    for (const abi of p.abis) for (const e of syscallTable(abi)) if (!unconditional.has(e.name)) names.add(e.name);
    syscalls.push({ names: [...names].sort(), action: "SCMP_ACT_ERRNO", errnoRet: seccomp.defaultErrnoRet });
    warnings.push(
      `SPO has no defaultErrnoRet: the default ERRNO(${seccomp.defaultErrnoRet}) is written as a rule for the ${names.size} syscalls no unconditional rule decides; numbers unknown to the tables get EPERM from libseccomp (runc: ENOSYS above the highest named syscall)`,
    );
    defaultAction = "SCMP_ACT_ERRNO";
  }
  for (const s of syscalls) {
    for (const a of s.args ?? []) {
      if (a.value > INT64_MAX || (a.valueTwo ?? 0n) > INT64_MAX) {
        cannot("spo", `the rule for ${s.names.join(", ")} (${s.comment ?? s.action})`, `argument ${a.index} value ${(a.value > INT64_MAX ? a.value : a.valueTwo)!.toString()} is above 2^63-1, and SPO's values are int64`);
      }
    }
  }
  const spec = {
    defaultAction,
    ...(seccomp.architectures !== undefined ? { architectures: seccomp.architectures } : {}),
    ...(seccomp.flags !== undefined ? { flags: seccomp.flags } : {}),
    ...(seccomp.listenerPath !== undefined ? { listenerPath: seccomp.listenerPath } : {}),
    ...(seccomp.listenerMetadata !== undefined ? { listenerMetadata: seccomp.listenerMetadata } : {}),
    syscalls: syscalls.map((s) => ({
      action: s.action,
      names: s.names,
      ...(s.errnoRet !== undefined ? { errnoRet: s.errnoRet } : {}),
      ...(s.args !== undefined ? { args: s.args.map((a) => ({ index: a.index, value: a.value, ...(a.valueTwo !== undefined ? { valueTwo: a.valueTwo } : {}), op: a.op })) } : {}),
    })),
  };
  return {
    doc: { apiVersion: "security-profiles-operator.x-k8s.io/v1", kind: "SeccompProfile", metadata: { name: opts.name ?? "syscage-profile" }, spec },
    warnings,
  };
}

// ---- systemd --------------------------------------------------------------------------

/**
 * systemd unit lines. Expressible when every rule is unconditional, the
 * rules use ALLOW and at most one other action, and:
 * - allow-list (default not ALLOW): `SystemCallFilter=<allowed>` and
 *   `SystemCallErrorNumber=` for the deny action (ERRNO), or nothing for
 *   KILL_PROCESS; systemd returns ENOSYS for syscalls not in its @known
 *   list, so the default must be that deny action or ERRNO(ENOSYS), and the
 *   unknown action ERRNO(ENOSYS);
 * - deny-list (default ALLOW): `SystemCallFilter=~<denied>`; the unknown
 *   action must be ALLOW (systemd allows what it does not list).
 */
function policyToSystemd(p: Policy): { text: string; warnings: string[] } {
  const why = (what: string, reason: string): never => cannot("systemd", what, reason);
  p.rules.forEach((r, i) => {
    if (r.conditions.length > 0) why(ruleLabel(r, i), "SystemCallFilter= cannot test syscall arguments");
  });
  const def = p.default.action;
  const abi0 = p.abis[0]!;
  const ret = (a: Action): number => actionRet(a, abi0);
  const enosys: Action = { kind: "ERRNO", errno: "ENOSYS" };
  const archLine = `SystemCallArchitectures=${p.abis.map((a) => getAbi(a).systemdName).join(" ")}`;
  const denyOf = (a: Action, what: string): string | undefined => {
    if (a.kind === "KILL_PROCESS") return undefined;
    if (a.kind === "ERRNO") return typeof a.errno === "number" ? String(a.errno) : a.errno;
    return why(what, `${formatPolicyAction(a)}: systemd's filters deny only with an errno (SystemCallErrorNumber=) or by killing the process`);
  };
  if (def.kind === "ALLOW") {
    if (p.unknown.action.kind !== "ALLOW") why(`unknown action ${formatPolicyAction(p.unknown.action)}`, "a deny-list SystemCallFilter=~ allows syscalls systemd does not know");
    const denied = p.rules.filter((r) => r.action.kind !== "ALLOW");
    const actions = new Set(denied.map((r) => ret(r.action)));
    if (actions.size > 1) why("the deny rules", `they use ${[...new Set(denied.map((r) => formatPolicyAction(r.action)))].join(", ")}; one unit line set has one deny action`);
    const allowedToo = new Set(p.rules.filter((r) => r.action.kind === "ALLOW").map((r) => r.syscall));
    const names = [...new Set(denied.map((r) => r.syscall))];
    for (const n of names) if (allowedToo.has(n)) why(`syscall ${n}`, "it has both an ALLOW and a deny rule");
    const errnoName = denied.length > 0 ? denyOf(denied[0]!.action, ruleLabel(denied[0]!, p.rules.indexOf(denied[0]!))) : undefined;
    const lines = [`SystemCallFilter=~${names.join(" ")}`, ...(errnoName !== undefined ? [`SystemCallErrorNumber=${errnoName}`] : []), archLine];
    return { text: lines.join("\n") + "\n", warnings: [] };
  }
  if (ret(p.unknown.action) !== ret(enosys)) why(`unknown action ${formatPolicyAction(p.unknown.action)}`, "systemd's allow-list filters return ENOSYS for syscalls they do not know");
  const denyRules = p.rules.filter((r) => r.action.kind !== "ALLOW");
  const denyActions = new Set(denyRules.map((r) => ret(r.action)));
  if (denyActions.size > 1) why("the deny rules", `they use ${[...new Set(denyRules.map((r) => formatPolicyAction(r.action)))].join(", ")}; SystemCallErrorNumber= is one errno`);
  const deny = denyRules.length > 0 ? denyRules[0]!.action : def;
  if (ret(def) !== ret(deny) && ret(def) !== ret(enosys)) {
    why(`default action ${formatPolicyAction(def)}`, `systemd gives known, not allowed syscalls the SystemCallErrorNumber= (${formatPolicyAction(deny)}) and unknown ones ENOSYS; nothing else`);
  }
  const allowed = [...new Set(p.rules.filter((r) => r.action.kind === "ALLOW").map((r) => r.syscall))];
  for (const r of denyRules) if (allowed.includes(r.syscall)) why(`syscall ${r.syscall}`, "it has both an ALLOW and a deny rule");
  const errnoName = denyOf(deny, `action ${formatPolicyAction(deny)}`);
  const warnings =
    ret(def) === ret(enosys) && ret(deny) !== ret(enosys)
      ? [`syscalls the policy names in no rule get ENOSYS here; under systemd they get ${formatPolicyAction(deny)} when systemd's @known list has them`]
      : [];
  const lines = [`SystemCallFilter=${allowed.join(" ")}`, ...(errnoName !== undefined ? [`SystemCallErrorNumber=${errnoName}`] : []), archLine];
  return { text: lines.join("\n") + "\n", warnings };
}

/**
 * Export a policy to `format`.
 * @throws SyscageError EXPORT_UNSUPPORTED naming the rule and saying why the format cannot express it.
 */
export function exportPolicy(given: Policy, format: ExportFormat, opts: ExportOptions = {}): ExportResult {
  const p = withRoutes(given);
  switch (format) {
    case "oci":
    case "docker": {
      const { seccomp, warnings } = policyToOci(p, format);
      return { text: jsonWithBigInts(seccomp), warnings };
    }
    case "spo": {
      const { doc, warnings } = policyToSpo(p, opts);
      return { text: yamlModule().stringify(doc, { lineWidth: 0 }), warnings };
    }
    case "systemd":
      return policyToSystemd(p);
  }
}

/**
 * The Kubernetes snippet for a Localhost profile file `fileName` placed under
 * the kubelet's seccomp directory (`/var/lib/kubelet/seccomp/`); for SPO, the
 * operator's path `operator/<name>.json`.
 */
export function kubernetesSnippet(fileName: string, format: ExportFormat, opts: ExportOptions = {}): string {
  const rel = format === "spo" ? `operator/${opts.name ?? "syscage-profile"}.json` : `profiles/${fileName.replace(/^.*\//, "")}`;
  const lines = [
    format === "spo"
      ? `# Apply the SeccompProfile (kubectl apply -f ${fileName}); the operator writes it on every node to:`
      : `# Copy ${fileName} to every node that may run the pod, at:`,
    `#   /var/lib/kubelet/seccomp/${rel}`,
    `# and reference it from the pod (or a container) securityContext:`,
    `securityContext:`,
    `  seccompProfile:`,
    `    type: Localhost`,
    `    localhostProfile: ${rel}`,
  ];
  return lines.join("\n") + "\n";
}
