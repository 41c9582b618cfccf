/**
 * From a recording to a policy: the smallest policy that allows exactly the
 * recorded syscalls (optionally widened to whole systemd groups, optionally
 * with argument rules), merged with an earlier output, and the per-group
 * summary. Pure functions; `record.ts` does the running.
 */
import { getAbi, type AbiName } from "../abi/arch.js";
import { abisWithSyscall } from "../abi/tables.js";
import { expandItem, syscallGroups } from "../policy/groups.js";
import { definePolicy, type ArgIndex, type Condition, type Policy, type RuleInput } from "../policy/model.js";

/** One distinct recorded call: what the supervisor saw, and what our tables make of it. */
export interface RecordedCall {
  /** `seccomp_data.arch` (AUDIT_ARCH_*). */
  readonly arch: number;
  /** `seccomp_data.nr`, unsigned. */
  readonly nr: number;
  /** The ABI of the call, or undefined when no recorded ABI has that arch. */
  readonly abi?: AbiName;
  /** The syscall name, or undefined when the ABI's table does not name the number. */
  readonly syscall?: string;
  /** Bit i set: `args[i]` was recorded (the others are 0). */
  readonly argMask: number;
  /** The six argument values (only the masked ones are meaningful). */
  readonly args: readonly bigint[];
}

/** An argument worth recording for `--args`, and how to compare it. */
export interface ArgSpec {
  /** Argument index on most ABIs. */
  readonly arg: ArgIndex;
  /** 32: the kernel takes an int, so only the low 32 bits are compared (MASKED_EQ); 64: EQ on all bits. */
  readonly bits: 32 | 64;
  /** What the argument is, for messages. */
  readonly what: string;
}

/**
 * The syscalls whose arguments `--args` records, and which argument. Values
 * are recorded exactly and become `ALLOW if arg == value` rules, one per
 * distinct value.
 */
export const ARG_SYSCALLS: Readonly<Record<string, ArgSpec>> = Object.freeze({
  socket: { arg: 0, bits: 32, what: "address family" },
  socketpair: { arg: 0, bits: 32, what: "address family" },
  clone: { arg: 0, bits: 64, what: "flags" },
  unshare: { arg: 0, bits: 64, what: "flags" },
  setns: { arg: 1, bits: 32, what: "namespace type" },
  personality: { arg: 0, bits: 32, what: "persona" },
  prctl: { arg: 0, bits: 32, what: "option" },
  ioctl: { arg: 1, bits: 32, what: "request" },
  fcntl: { arg: 1, bits: 32, what: "command" },
  fcntl64: { arg: 1, bits: 32, what: "command" },
});

/** The argument index of `spec` on `abi` (s390 passes clone's flags second). */
export function argIndexOn(abi: AbiName, name: string, spec: ArgSpec): ArgIndex {
  return name === "clone" && (abi === "s390" || abi === "s390x") ? 1 : spec.arg;
}

/** The condition that matches exactly `value` of `spec`'s argument on every ABI. */
export function argCondition(spec: ArgSpec, index: ArgIndex, value: bigint): Condition {
  return spec.bits === 32 ? { arg: index, op: "MASKED_EQ", mask: 0xffffffffn, value: value & 0xffffffffn } : { arg: index, op: "EQ", value };
}

/** Groups never used for widening or the summary: they are unions of other groups or of everything. */
export const WIDEN_EXCLUDED_GROUPS: readonly string[] = ["@known", "@system-service", "@privileged"];

let homeCache: Map<string, string> | undefined;
let sizeCache: Map<string, number> | undefined;

/**
 * The home group of a syscall: the smallest systemd group (by expanded size;
 * ties go to systemd's order) that contains it, among all groups except
 * {@link WIDEN_EXCLUDED_GROUPS}. Undefined when no such group has it.
 */
export function homeGroup(name: string): string | undefined {
  if (homeCache === undefined) {
    homeCache = new Map();
    sizeCache = new Map();
    const groups = syscallGroups()
      .filter((g) => !WIDEN_EXCLUDED_GROUPS.includes(g.name))
      .map((g) => ({ name: g.name, members: expandItem(g.name) }));
    for (const g of groups) sizeCache.set(g.name, g.members.length);
    const ordered = [...groups].sort((a, b) => a.members.length - b.members.length); // stable: systemd order on ties
    for (const g of ordered) for (const m of g.members) if (!homeCache.has(m)) homeCache.set(m, g.name);
  }
  return homeCache.get(name);
}

/** How many syscalls a group has (expanded). */
export function groupSize(group: string): number {
  if (sizeCache === undefined) homeGroup("read");
  return sizeCache!.get(group) ?? expandItem(group).length;
}

/** One line of the summary: a group and the recorded syscalls whose home group it is. */
export interface GroupCount {
  /** "@file-system", or "(no group)". */
  readonly group: string;
  /** Syscalls in the group (0 for "(no group)"). */
  readonly size: number;
  readonly seen: readonly string[];
}

/** The recorded syscall names by home group (see {@link homeGroup}), largest count first. */
export function summarizeByGroup(names: Iterable<string>): GroupCount[] {
  const by = new Map<string, string[]>();
  for (const n of new Set(names)) {
    const g = homeGroup(n) ?? "(no group)";
    by.set(g, [...(by.get(g) ?? []), n]);
  }
  return [...by]
    .map(([group, seen]) => ({ group, size: group.startsWith("@") ? groupSize(group) : 0, seen: seen.sort() }))
    .sort((a, b) => b.seen.length - a.seen.length || (a.group < b.group ? -1 : 1));
}

/** Options of {@link policyFromRecording}. */
export interface GenerateOptions {
  /** The ABIs recorded (their order is kept); the output covers those on which calls were seen. */
  readonly abis: readonly AbiName[];
  /** Add every syscall of each recorded syscall's home group (except {@link ARG_SYSCALLS} with `argRules`). */
  readonly widenGroups?: boolean;
  /** Turn recorded argument values of {@link ARG_SYSCALLS} into argument rules. */
  readonly argRules?: boolean;
  /** An earlier output: its ALLOW rules and ABIs are kept. */
  readonly merge?: Policy;
}

/** A generated policy and notes for the user. */
export interface GeneratedPolicy {
  readonly policy: Policy;
  /** Syscalls allowed without conditions, sorted. */
  readonly allowed: readonly string[];
  /** Syscalls allowed only for recorded argument values. */
  readonly conditional: ReadonlyMap<string, readonly bigint[]>;
  readonly warnings: readonly string[];
}

const condKey = (cs: readonly Condition[]): string => cs.map((c) => `${c.arg}:${c.op}:${c.value}:${c.mask ?? ""}`).join("&");

/**
 * The smallest policy that allows what was recorded: default ERRNO(EPERM),
 * unknown numbers ERRNO(ENOSYS), other architectures KILL_PROCESS, the ABIs
 * on which calls were seen, and one ALLOW rule per syscall (per recorded
 * value with `argRules`). Calls the tables cannot name and calls of
 * architectures not recorded are reported in `warnings`.
 */
export function policyFromRecording(calls: readonly RecordedCall[], opts: GenerateOptions): GeneratedPolicy {
  const warnings: string[] = [];
  const seenAbis = new Set<AbiName>();
  const unconditional = new Set<string>();
  const values = new Map<string, Map<bigint, Condition[]>>();
  const mergedConditional = new Map<string, Map<string, Condition[]>>();
  for (const c of calls) {
    if (c.abi === undefined) {
      warnings.push(`a call from architecture 0x${c.arch.toString(16)} (nr ${c.nr}) that the recorded ABIs do not cover; the policy kills such calls`);
      continue;
    }
    seenAbis.add(c.abi);
    if (c.syscall === undefined) {
      warnings.push(`${c.abi} syscall number ${c.nr} is unknown to syscage's tables (Linux 7.3); the policy gives it ENOSYS`);
      continue;
    }
    const spec = ARG_SYSCALLS[c.syscall];
    const index = spec === undefined ? undefined : argIndexOn(c.abi, c.syscall, spec);
    if (opts.argRules === true && spec !== undefined && index !== undefined && (c.argMask & (1 << index)) !== 0) {
      const v = c.args[index]!;
      const key = spec.bits === 32 ? v & 0xffffffffn : v;
      const m = values.get(c.syscall) ?? new Map<bigint, Condition[]>();
      m.set(key, [argCondition(spec, index, v)]);
      values.set(c.syscall, m);
    } else unconditional.add(c.syscall);
  }
  const abis = opts.abis.filter((a) => seenAbis.has(a) || (opts.merge?.abis.includes(a) ?? false));
  for (const a of opts.merge?.abis ?? []) if (!abis.includes(a)) abis.push(a);
  if (abis.length === 0) abis.push(...opts.abis);

  for (const r of opts.merge?.rules ?? []) {
    if (r.action.kind !== "ALLOW") continue;
    if (r.conditions.length === 0) unconditional.add(r.syscall);
    else {
      const m = mergedConditional.get(r.syscall) ?? new Map<string, Condition[]>();
      m.set(condKey(r.conditions), [...r.conditions]);
      mergedConditional.set(r.syscall, m);
    }
  }
  const widened = new Map<string, string>();
  if (opts.widenGroups === true) {
    const onAbis = (n: string): boolean => abisWithSyscall(n).some((a) => abis.includes(a));
    for (const n of [...unconditional, ...values.keys()]) {
      const g = homeGroup(n);
      if (g === undefined) continue;
      for (const m of expandItem(g)) {
        if (unconditional.has(m) || values.has(m) || mergedConditional.has(m) || widened.has(m) || !onAbis(m)) continue;
        if (opts.argRules === true && ARG_SYSCALLS[m] !== undefined) continue;
        widened.set(m, g);
      }
    }
  }
  const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  const rules: RuleInput[] = [];
  const recorded = [...unconditional].sort(byName);
  if (recorded.length > 0) rules.push({ syscall: recorded, action: "ALLOW", origin: opts.merge === undefined ? "recorded" : "recorded or merged" });
  for (const [g, names] of groupBy(widened)) rules.push({ syscall: names.sort(byName), action: "ALLOW", origin: `widened to ${g}` });
  const conditional = new Map<string, bigint[]>();
  for (const name of [...new Set([...values.keys(), ...mergedConditional.keys()])].sort(byName)) {
    if (unconditional.has(name)) continue;
    const conds = new Map<string, Condition[]>(mergedConditional.get(name) ?? []);
    for (const cs of values.get(name)?.values() ?? []) conds.set(condKey(cs), cs);
    conditional.set(name, [...(values.get(name)?.keys() ?? [])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    for (const cs of [...conds.values()].sort((a, b) => (a[0]!.value < b[0]!.value ? -1 : 1))) {
      const spec = ARG_SYSCALLS[name];
      rules.push({ syscall: name, action: "ALLOW", conditions: cs, origin: `recorded ${spec?.what ?? "argument"}` });
    }
  }
  const policy = definePolicy({ abis, default: "ERRNO(EPERM)", unknown: "ERRNO(ENOSYS)", badArch: "KILL_PROCESS", rules, origin: "syscage record" });
  const allowed = [...unconditional, ...widened.keys()].sort(byName);
  return { policy, allowed, conditional, warnings: [...new Set(warnings)] };
}

function groupBy(m: ReadonlyMap<string, string>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [k, g] of m) out.set(g, [...(out.get(g) ?? []), k]);
  return out;
}

/** The argument masks to record for `--args` on `abis`: (AUDIT_ARCH, nr, mask) entries. */
export function argEntriesFor(abis: readonly AbiName[], names: Iterable<string>, numberOf: (abi: AbiName, name: string) => number | undefined): ArgEntry[] {
  const out: ArgEntry[] = [];
  for (const abi of abis) {
    for (const name of names) {
      const spec = ARG_SYSCALLS[name];
      const nr = numberOf(abi, name);
      if (spec === undefined || nr === undefined) continue;
      out.push({ arch: getAbi(abi).auditArch, nr, mask: 1 << argIndexOn(abi, name, spec) });
    }
  }
  return out;
}

/** Which arguments the supervisor records for one (arch, nr). */
export interface ArgEntry {
  readonly arch: number;
  readonly nr: number;
  /** Bit i: record args[i]. */
  readonly mask: number;
}
