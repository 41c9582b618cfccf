/**
 * The benchmark's policies, each in three forms that mean the same decisions:
 * a syscage PolicyInput, a libseccomp spec for python3-seccomp (program bytes)
 * and the text spec read by bench/libseccomp-compile.c (compile time).
 *
 * Container profiles are turned into rules here with a small bench-side
 * translation of moby's `setupSeccomp` for amd64 (issue #5 brings the real
 * importer): includes/excludes on arches, caps (Docker's default bounding set
 * for both profiles) and minKernel (the running kernel), archMap x86_64 →
 * x86_64 + x86 + x32, and runc's argument rule (distinct argument indexes are
 * ANDed in one rule, repeated ones become one rule each).
 *
 * Only names libseccomp 2.5.4 knows are kept, on both sides, so both
 * compilers get the same rules. Where a name has an unconditional rule, the
 * first such rule alone decides it, as in libseccomp's rule database (a later
 * unconditional rule replaces argument rules, an earlier one makes later rules
 * no-ops; e.g. Podman's setns stays allowed although a later rule denies it).
 */
import { readFileSync } from "node:fs";
import { release } from "node:os";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { knownSyscallNames, syscallNumber, syscallTable } from "../src/abi/index.js";
import { errnoNumber } from "../src/abi/errno.js";
import { expandItem } from "../src/policy/groups.js";
import type { Policy, PolicyInput, RuleInput } from "../src/policy/model.js";
import { nspawnPolicy } from "../src/policy/nspawn.js";
import { homeGroup } from "../src/record/generate.js";
import { libseccompResolve, type LsAction, type LsArch, type LsCond, type LsSpec } from "../test/helpers/libseccomp.js";

export const ABIS: readonly LsArch[] = ["x86_64", "x86", "x32"];
export const EPERM = 1;
const SCMP_ACT_ALLOW = 0x7fff0000;
const SCMP_ACT_KILL_PROCESS = 0x80000000;

/** Actions the benchmark's policies use. */
export type BenchAction = { readonly kind: "ALLOW" } | { readonly kind: "ERRNO"; readonly errno: number };

/** One rule: names, action and ANDed argument conditions (libseccomp's shape). */
export interface BenchRule {
  readonly names: readonly string[];
  readonly action: BenchAction;
  readonly conds: readonly LsCond[];
}

export interface BenchPolicy {
  readonly name: string;
  /** How the policy was made, for RESULTS.md. */
  readonly note: string;
  readonly defaultErrno: number;
  readonly rules: readonly BenchRule[];
  /** Names whose every rule is an unconditional ALLOW: the most a kernel cache can hold. */
  readonly constAllow: ReadonlySet<string>;
  /**
   * The syscage side, when it is not `toPolicyInput` of the rules (the nspawn
   * default: syscage's own `nspawnPolicy`, timed as part of the compile).
   */
  readonly build?: () => Policy;
}

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const PROFILES_DIR = resolve(REPO_ROOT, "../shared/data/profiles");

const ALLOW: BenchAction = { kind: "ALLOW" };

// ---- the three forms -------------------------------------------------------

/** The syscage side: `unknown` equals the default, so both compile the same decisions. */
export function toPolicyInput(p: BenchPolicy): PolicyInput {
  const def = { kind: "ERRNO", errno: p.defaultErrno } as const;
  const rules: RuleInput[] = p.rules.map((r) => ({
    syscall: r.names,
    action: r.action,
    conditions: r.conds.map((c) => (c.op === "MASKED_EQ" ? { arg: c.arg, op: c.op, value: c.value, mask: c.mask ?? 0n } : { arg: c.arg, op: c.op, value: c.value })),
  }));
  // Routes open: libseccomp gets the rules as written (the closed routes' cost is its own section, bench/routes.ts).
  return { default: def, unknown: def, badArch: "KILL_PROCESS", abis: ABIS, rules, origin: p.name, routes: "open" };
}

function lsAction(a: BenchAction): LsAction {
  return a.kind === "ALLOW" ? "ALLOW" : { ERRNO: a.errno };
}

/** The python3-seccomp side. */
export function toLsSpec(p: BenchPolicy, optimize: 1 | 2): LsSpec {
  return {
    default: { ERRNO: p.defaultErrno },
    badarch: "KILL_PROCESS",
    arches: [...ABIS],
    optimize,
    rules: p.rules.flatMap((r) => r.names.map((syscall) => ({ syscall, action: lsAction(r.action), args: [...r.conds] }))),
  };
}

function actionWord(a: BenchAction): number {
  return a.kind === "ALLOW" ? SCMP_ACT_ALLOW : (0x00050000 | a.errno) >>> 0;
}

/** The bench/libseccomp-compile.c side (format documented there). */
export function toCSpec(p: BenchPolicy, optimize: 1 | 2): string {
  const lines = [`default ${actionWord({ kind: "ERRNO", errno: p.defaultErrno })}`, `badarch ${SCMP_ACT_KILL_PROCESS}`, `optimize ${optimize}`];
  for (const a of ABIS) lines.push(`arch ${a}`);
  for (const r of p.rules) {
    const args = r.conds.map((c) => (c.op === "MASKED_EQ" ? `${c.arg} MASKED_EQ ${c.mask ?? 0n} ${c.value}` : `${c.arg} ${c.op} ${c.value} 0`));
    for (const n of r.names) lines.push(["rule", actionWord(r.action), n, ...args].join(" "));
  }
  return lines.join("\n") + "\n";
}

function constAllowNames(rules: readonly BenchRule[]): Set<string> {
  const out = new Set<string>();
  const other = new Set<string>();
  for (const r of rules) {
    for (const n of r.names) {
      if (r.action.kind === "ALLOW" && r.conds.length === 0) out.add(n);
      else other.add(n);
    }
  }
  for (const n of other) out.delete(n);
  return out;
}

// ---- which names both sides know -------------------------------------------

let known: ReadonlySet<string> | undefined;

/**
 * Names libseccomp 2.5.4 resolves on x86_64, x86 or x32, that our tables know,
 * and that libseccomp knows on every one of the three ABIs where our tables
 * have them (map_shadow_stack is missing from its x32 table, say).
 */
function libseccompKnown(candidates: Iterable<string>): ReadonlySet<string> {
  const ours = knownSyscallNames();
  const names = [...new Set(candidates)].filter((n) => ours.has(n));
  const res = libseccompResolve(names, ABIS);
  const theirs = (a: LsArch, n: string): boolean => res[a]?.[n] != null;
  return new Set(names.filter((n) => ABIS.some((a) => theirs(a, n)) && ABIS.every((a) => theirs(a, n) || syscallNumber(a, n) === undefined)));
}

function knownNames(): ReadonlySet<string> {
  if (known === undefined) {
    const candidates = new Set<string>();
    for (const a of ABIS) for (const e of syscallTable(a)) candidates.add(e.name);
    known = libseccompKnown(candidates);
  }
  return known;
}

// ---- Docker / Podman profiles (moby's setupSeccomp for amd64) --------------

/** moby's default bounding set (oci/caps/defaults.go). */
export const DOCKER_DEFAULT_CAPS: readonly string[] = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
  "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
];

interface ProfileFilter {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

interface ProfileRule {
  names?: string[];
  name?: string;
  action: string;
  errnoRet?: number;
  errno?: string;
  args?: { index: number; value: number; valueTwo?: number; op: string }[] | null;
  includes?: ProfileFilter;
  excludes?: ProfileFilter;
}

interface Profile {
  defaultAction: string;
  defaultErrnoRet?: number;
  defaultErrno?: string;
  syscalls: ProfileRule[];
}

function kernelAtLeast(min: string): boolean {
  const [a = 0, b = 0] = min.split(".").map(Number);
  const [x = 0, y = 0] = release().split(/[.-]/).map(Number);
  return x > a || (x === a && y >= b);
}

function errnoOf(num: number | undefined, name: string | undefined): number {
  if (name !== undefined && name !== "") return /^\d+$/.test(name) ? Number(name) : (errnoNumber("x86_64", name) ?? EPERM);
  return num ?? EPERM;
}

function profileAction(r: ProfileRule): BenchAction {
  if (r.action === "SCMP_ACT_ALLOW") return ALLOW;
  if (r.action === "SCMP_ACT_ERRNO") return { kind: "ERRNO", errno: errnoOf(r.errnoRet, r.errno) };
  throw new Error(`bench translation does not handle action ${r.action}`);
}

/** Is the rule kept for amd64 with `caps`? (moby setupSeccomp, step 4) */
function keepRule(r: ProfileRule, caps: ReadonlySet<string>): boolean {
  const ex = r.excludes ?? {};
  const inc = r.includes ?? {};
  if (ex.arches?.includes("amd64")) return false;
  if (ex.caps?.some((c) => caps.has(c))) return false;
  if (ex.minKernel && kernelAtLeast(ex.minKernel)) return false;
  if (inc.arches?.length && !inc.arches.includes("amd64")) return false;
  if (inc.caps?.length && !inc.caps.every((c) => caps.has(c))) return false;
  if (inc.minKernel && !kernelAtLeast(inc.minKernel)) return false;
  return true;
}

/** `names`, or the deprecated single `name`. */
function ruleNames(r: ProfileRule): string[] {
  return r.names ?? (r.name !== undefined ? [r.name] : []);
}

/** runc: distinct argument indexes → one ANDed rule; a repeated index → one rule per condition. */
function argGroups(args: NonNullable<ProfileRule["args"]>): LsCond[][] {
  const conds = args.map((a): LsCond => {
    const op = a.op.replace(/^SCMP_CMP_/, "") as LsCond["op"];
    return op === "MASKED_EQ"
      ? { arg: a.index, op, mask: BigInt(a.value), value: BigInt(a.valueTwo ?? 0) }
      : { arg: a.index, op, value: BigInt(a.value) };
  });
  if (conds.length === 0) return [[]];
  const distinct = new Set(conds.map((c) => c.arg)).size === conds.length;
  return distinct ? [conds] : conds.map((c) => [c]);
}

/** A Docker/Podman default profile as moby would hand it to runc on amd64. */
export function profilePolicy(file: string, name: string): BenchPolicy {
  const prof = JSON.parse(readFileSync(resolve(PROFILES_DIR, file), "utf8")) as Profile;
  if (prof.defaultAction !== "SCMP_ACT_ERRNO") throw new Error(`${file}: bench expects an ERRNO default`);
  const caps = new Set(DOCKER_DEFAULT_CAPS);
  const allNames = prof.syscalls.flatMap((r) => ruleNames(r));
  const ok = libseccompKnown(allNames);
  const dropped = new Set(allNames.filter((n) => !ok.has(n)));
  const kept = prof.syscalls.filter((r) => keepRule(r, caps));
  // The first unconditional rule of each name, as libseccomp's rule database merges them.
  const decidedBy = new Map<string, ProfileRule>();
  for (const r of kept) {
    if ((r.args ?? []).length > 0) continue;
    for (const n of ruleNames(r)) if (!decidedBy.has(n)) decidedBy.set(n, r);
  }
  const rules: BenchRule[] = [];
  for (const r of kept) {
    const names = ruleNames(r).filter((n) => ok.has(n) && (decidedBy.get(n) ?? r) === r);
    if (names.length === 0) continue;
    for (const conds of argGroups(r.args ?? [])) rules.push({ names, action: profileAction(r), conds });
  }
  return {
    name,
    note:
      `${file}: ${kept.length} of ${prof.syscalls.length} rule groups kept for amd64 with Docker's default caps; ` +
      `${dropped.size} names dropped on both sides as libseccomp 2.5.4 or our tables lack them on x86_64/x86/x32 (${[...dropped].sort().join(", ")})`,
    defaultErrno: errnoOf(prof.defaultErrnoRet, prof.defaultErrno),
    rules,
    constAllow: constAllowNames(rules),
  };
}

// ---- synthetic allow lists ---------------------------------------------------

/**
 * The x86_64 syscalls libseccomp knows, in number order, Docker's
 * unconditionally allowed ones first (padded with the rest if needed); the
 * first 321 are the large list, and smaller lists are evenly spaced picks from
 * it (so they are not one contiguous range).
 */
export function syntheticPolicies(docker: BenchPolicy, sizes: readonly number[]): BenchPolicy[] {
  const names = knownNames();
  const x64 = syscallTable("x86_64").filter((e) => names.has(e.name));
  const base = [...x64.filter((e) => docker.constAllow.has(e.name)), ...x64.filter((e) => !docker.constAllow.has(e.name))];
  const largest = Math.max(...sizes);
  const pool = base.slice(0, largest).sort((a, b) => a.nr - b.nr);
  return sizes.map((n) => {
    const picked = n >= pool.length ? pool : Array.from({ length: n }, (_, i) => pool[Math.floor((i * pool.length) / n)]!);
    const list = picked.map((e) => e.name);
    const rules: BenchRule[] = [{ names: list, action: ALLOW, conds: [] }];
    return {
      name: `allow-${list.length}`,
      note: `${list.length} x86_64 syscalls (of ${x64.length} known to libseccomp 2.5.4; x86_64 numbers ${syscallNumber("x86_64", list[0]!)}..${syscallNumber("x86_64", list[list.length - 1]!)}), default ERRNO(EPERM)`,
      defaultErrno: EPERM,
      rules,
      constAllow: constAllowNames(rules),
    };
  });
}

// ---- the nspawn default -------------------------------------------------------

const EAFNOSUPPORT = 97;
const ENOSYS = 38;

/**
 * The nspawn default (x86_64 + x86 + x32). The syscage side is the real
 * `nspawnPolicy`; the libseccomp side is the same policy as ONE libseccomp
 * filter: every ALLOW name, EPERM for the rest of @known, default ENOSYS, and
 * the audit rule. libseccomp cannot hold an unconditional ALLOW for socket and
 * an argument rule on it in one filter (the later rule is a no-op — which is
 * why nspawn stacks a second filter), so socket becomes three argument rules
 * that cover every value: ALLOW if a0 != AF_NETLINK, ALLOW if a2 !=
 * NETLINK_AUDIT, ERRNO(EAFNOSUPPORT) if both are equal. They are added with
 * `seccomp_rule_add` (not `_exact`), so on x86 — where `_exact` refuses
 * argument rules on the multiplexed socket(), as the conformance test found
 * and nspawn's x86 audit filter is missing for it — libseccomp places them on
 * the direct socket syscall. Names libseccomp 2.5.4 does not know get no rule
 * there (they fall to ENOSYS, as in real nspawn) and are listed in the note.
 */
export function nspawnBenchPolicy(): BenchPolicy {
  const build = (): Policy => ({ ...nspawnPolicy({ abis: [...ABIS] }), routes: "open" });
  const policy = build();
  const allowed: string[] = [];
  const eperm: string[] = [];
  for (const r of policy.rules) {
    if (r.conditions.length > 0 || r.syscall === "socket") continue;
    if (r.action.kind === "ALLOW") allowed.push(r.syscall);
    else if (r.action.kind === "ERRNO") eperm.push(r.syscall);
  }
  const ok = libseccompKnown([...allowed, ...eperm, "socket"]);
  const lacking = [...allowed, ...eperm].filter((n) => !ok.has(n));
  const rules: BenchRule[] = [
    { names: ["socket"], action: ALLOW, conds: [{ arg: 0, op: "NE", value: 16n }] },
    { names: ["socket"], action: ALLOW, conds: [{ arg: 2, op: "NE", value: 9n }] },
    { names: ["socket"], action: { kind: "ERRNO", errno: EAFNOSUPPORT }, conds: [{ arg: 0, op: "EQ", value: 16n }, { arg: 2, op: "EQ", value: 9n }] },
    { names: allowed.filter((n) => ok.has(n)), action: ALLOW, conds: [] },
    { names: eperm.filter((n) => ok.has(n)), action: { kind: "ERRNO", errno: EPERM }, conds: [] },
  ];
  return {
    name: "nspawn-default",
    note:
      `syscage's \`nspawnPolicy\` (systemd v260 data, nspawn's default capabilities): ${allowed.length + 1} names ALLOW (socket with the audit rule), ${eperm.length} ERRNO(EPERM), default ERRNO(ENOSYS). ` +
      `libseccomp gets the same rules as one filter (socket as three argument rules, see bench/policies.ts); ${lacking.length} names it does not know get no rule there and fall to ENOSYS (${lacking.sort().join(", ")})`,
    defaultErrno: ENOSYS,
    rules,
    constAllow: new Set(allowed),
    build,
  };
}

// ---- realistic (dense) allow lists --------------------------------------------

/**
 * The syscalls `syscage record` saw (x86_64) from 20 everyday commands on
 * this Debian 12 image — `ls -la /`, `python3 -c pass`, `sh -c 'date; id'`,
 * `cat`, `grep -r`, `gzip -c`, `node -e 0`, a python3 socket/threading/
 * subprocess one-liner, `find`, `ps aux`, `perl -e 1`, `sort`, `tar cf`,
 * `bash -c`, `gcc --version`, `git --version`, `cp`, `stat`, `df -h`,
 * `uname -a` — ranked by how many of the commands used each (ties by name).
 * Fixed here so the benchmark does not depend on the machine's programs.
 */
export const COMMON_SYSCALLS: readonly string[] = [
  "access", "arch_prctl", "brk", "close", "execve", "exit_group", "mmap", "mprotect", "munmap", "newfstatat", "openat",
  "pread64", "prlimit64", "read", "rseq", "set_robust_list", "set_tid_address", "futex", "getrandom", "write", "ioctl",
  "lseek", "rt_sigaction", "geteuid", "fcntl", "getegid", "getgid", "getuid", "statfs", "uname", "getpid", "readlink",
  "rt_sigprocmask", "connect", "getdents64", "socket", "sysinfo", "fadvise64", "getppid", "pipe2", "rt_sigreturn", "wait4",
  "clone", "dup2", "getcwd", "getpgrp", "gettid", "sched_getaffinity", "chdir", "epoll_create1", "faccessat2", "statx",
  "vfork", "capget", "clone3", "close_range", "copy_file_range", "creat", "epoll_ctl", "epoll_pwait", "eventfd2", "exit",
  "fchdir", "fstat", "get_mempolicy", "getgroups", "getpeername", "getxattr", "lgetxattr", "madvise", "pkey_alloc", "prctl",
  "set_mempolicy", "sigaltstack",
];

/**
 * Realistic allow lists of `sizes` names: the first N of
 * {@link COMMON_SYSCALLS}; past its end (74 names), the recorded set widened
 * to whole systemd groups as `syscage record --widen-groups` does — the home
 * groups of the recorded names, the groups holding most recorded names first,
 * each group's new members in x86_64 number order. Only names libseccomp 2.5.4
 * knows on x86_64, on both sides.
 */
export function densePolicies(sizes: readonly number[]): BenchPolicy[] {
  const known = knownNames();
  const onX64 = (n: string): boolean => known.has(n) && syscallNumber("x86_64", n) !== undefined;
  const ranked = COMMON_SYSCALLS.filter(onX64);
  const byGroup = new Map<string, number>();
  for (const n of ranked) {
    const g = homeGroup(n);
    if (g !== undefined) byGroup.set(g, (byGroup.get(g) ?? 0) + 1);
  }
  const groups = [...byGroup].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([g]) => g);
  const order = [...ranked];
  const seen = new Set(order);
  for (const g of groups) {
    const extra = expandItem(g).filter((n) => onX64(n) && !seen.has(n)).sort((a, b) => syscallNumber("x86_64", a)! - syscallNumber("x86_64", b)!);
    for (const n of extra) {
      seen.add(n);
      order.push(n);
    }
  }
  return sizes.map((n) => {
    const list = order.slice(0, n);
    const widened = Math.max(0, list.length - ranked.length);
    const rules: BenchRule[] = [{ names: list, action: ALLOW, conds: [] }];
    const nrs = list.map((x) => syscallNumber("x86_64", x)!).sort((a, b) => a - b);
    let runs = 1;
    for (let i = 1; i < nrs.length; i++) if (nrs[i] !== nrs[i - 1]! + 1) runs++;
    return {
      name: `common-${list.length}`,
      note:
        `the ${Math.min(n, ranked.length)} most used of the syscalls recorded from 20 everyday commands (bench/policies.ts \`COMMON_SYSCALLS\`)` +
        (widened > 0 ? ` + ${widened} from widening them to their systemd groups (${groups.join(", ")})` : "") +
        `; x86_64 numbers ${nrs[0]}..${nrs[nrs.length - 1]} in ${runs} runs of consecutive numbers, default ERRNO(EPERM)`,
      defaultErrno: EPERM,
      rules,
      constAllow: constAllowNames(rules),
    };
  });
}
