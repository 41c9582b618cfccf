/**
 * Explain a policy's decision on one syscall: per ABI, the decision (from
 * {@link decide}, the reference semantics), then the chain of rules that
 * produced it — every rule for that syscall, whether it matched (and which
 * condition failed, with the argument value), which one won and why — and,
 * for the policies that carry more history than their rules, the story:
 *
 * - nspawn: which rows of nspawn's allow list hold the name, capability gates
 *   (retained or not), which `--system-call-filter=~…` item removed it, and
 *   the names newer than systemd's `@known` (derived from
 *   {@link nspawnFilterSets} with the same options);
 * - container profiles: the `includes`/`excludes` of the profile entries
 *   that name the syscall (read from the profile text by
 *   {@link profileEntries}), so that "clone3 → ERRNO(38): … excluded when
 *   CAP_SYS_ADMIN is held" can be said, and entries the importer dropped.
 *
 * Library code: never prints.
 */
import { jsoncParser } from "../deps.js";
import { argType, type ArgWidth } from "../abi/argtypes.js";
import { getAbi, type AbiName } from "../abi/arch.js";
import { capabilityName, parseCapability } from "../abi/capabilities.js";
import { multiplexedAs } from "../abi/multiplex.js";
import { abisWithSyscall, knownSyscallNames, syscallName, syscallNumber } from "../abi/tables.js";
import { SyscageError, didYouMean, suggest } from "../errors.js";
import { conditionHolds, conditionWidth, decide, rulesFor, widthMask, type Decision } from "../policy/evaluate.js";
import { NSPAWN_ALLOW_LIST, SYSTEMD_DATA_VERSION } from "../policy/generated/systemd.js";
import { expandItem } from "../policy/groups.js";
import { ACTION_RANK, formatPolicyAction, type Condition, type Policy, type Rule } from "../policy/model.js";
import { retText } from "./diff.js";
import { NSPAWN_AUDIT_ORIGIN, nspawnFilterSets, type NspawnFilterSets, type NspawnOptions } from "../policy/nspawn.js";
import { isClosingRule, withRoutes } from "../policy/routes.js";

/** What to explain: a syscall by name, or a number as seen in `seccomp_data.nr`. */
export interface ExplainQuery {
  readonly syscall: string | number;
  /** Only this ABI (it must be one of the policy's). Default: every ABI of the policy. */
  readonly abi?: AbiName;
  /** Arguments a0…a5 (missing ones are 0). */
  readonly args?: readonly bigint[];
}

/** One profile entry (`syscalls[i]`) as far as explanations need it. */
export interface ProfileEntry {
  /** The JSON path as rule origins spell it ("syscalls[14]", "linux.seccomp.syscalls[3]"). */
  readonly path: string;
  readonly names: readonly string[];
  /** The entry's action as written ("SCMP_ACT_ERRNO"). */
  readonly action: string;
  /** Human-readable gates: "excluded when CAP_SYS_ADMIN is held", "needs CAP_SYS_ADMIN", "only on s390x", "only from kernel 5.8". */
  readonly gates: readonly string[];
  /** Capabilities in `excludes.caps` (any held drops the entry) and `includes.caps` (all needed). */
  readonly excludeCaps: readonly string[];
  readonly includeCaps: readonly string[];
}

/** Where the policy came from, when it has a history its rules do not tell. */
export interface ExplainContext {
  /** The nspawn options the policy was built with (`nspawnPolicy(options)`). */
  readonly nspawn?: NspawnOptions;
  /** A container profile the policy was imported from. */
  readonly profile?: {
    /** The `source` the importer was given (rule origins start with it). */
    readonly source: string;
    readonly entries: readonly ProfileEntry[];
    /** The container's capabilities the import assumed (names). */
    readonly capabilities: readonly string[];
  };
}

/** One condition of a rule, checked against the call's argument. */
export interface ConditionCheck {
  readonly arg: number;
  readonly op: Condition["op"];
  readonly value: bigint;
  readonly mask?: bigint;
  /** The argument value compared: its low bits that count (the register width, or the declared C type's under argumentWidth "kernel"). */
  readonly actual: bigint;
  readonly holds: boolean;
  /**
   * Set when the condition compares a narrowed value (argumentWidth
   * "kernel", a declared type narrower than the register): the argument's
   * name and C type, and the low bits compared.
   */
  readonly narrowed?: { readonly name: string; readonly type: string; readonly bits: ArgWidth };
  /** "arg0 == 16 (arg0 = 2; family is an int: the low 32 bits are compared)". */
  readonly text: string;
}

/** One rule of the syscall, in policy order. */
export interface ChainStep {
  /** Index into policy.rules. */
  readonly rule: number;
  readonly action: string;
  readonly origin: string;
  readonly conditions: readonly ConditionCheck[];
  readonly matched: boolean;
  /** The first condition that failed, when not matched. */
  readonly failed?: string;
  readonly won: boolean;
  /** Gates of the profile entry this rule came from. */
  readonly gates?: readonly string[];
}

/** Why the winning rule won. */
export type WinReason = "only match" | "most restrictive" | "first of its kind";

/** The explanation on one ABI. */
export interface AbiExplanation {
  readonly abi: AbiName;
  /** The syscall name on this ABI (absent for a number the tables do not name). */
  readonly syscall?: string;
  /** The number as seen in seccomp_data.nr (absent when the ABI lacks the syscall). */
  readonly nr?: number;
  /** False when the ABI lacks the syscall: no call of it can happen there. */
  readonly exists: boolean;
  /** The action as the kernel takes it, errno named on the ABI ("ERRNO(ENOSYS)" for ERRNO(38) on x86_64); absent when the syscall does not exist on the ABI. */
  readonly action?: string;
  /** The 32-bit filter return value. */
  readonly ret?: number;
  readonly reason: Decision["reason"] | "missing";
  /** Origin of the decision (rule, default, unknown). */
  readonly origin: string;
  /** Index of the deciding rule. */
  readonly rule?: number;
  readonly won?: WinReason;
  /** Every rule for the syscall on this ABI, in policy order. */
  readonly chain: readonly ChainStep[];
  /** Further lines of the story (nspawn rows, capability gates, dropped profile entries). */
  readonly notes: readonly string[];
  /** One line: "mkdir → ERRNO(EPERM): in @file-system (nspawn allow list), but removed by …". */
  readonly summary: string;
  /**
   * Present when the decision depends on the arguments: every outcome, with
   * an argument vector that gets it, least restrictive first (argumentCases).
   */
  readonly cases?: readonly ArgumentCase[];
}

/** The explanation of one call on every ABI asked for. */
export interface Explanation {
  /** The call as written: "mkdir", "socket(16, 3, 9)", "nr 451". */
  readonly call: string;
  readonly args: readonly bigint[];
  readonly abis: readonly AbiExplanation[];
}

/** A u64 as people read it: decimal up to 4095, hex above, negative for values near 2^64. */
export function formatArg(v: bigint): string {
  if (v < 4096n) return v.toString();
  if (v >= (1n << 64n) - 4096n) return `-${((1n << 64n) - v).toString()}`;
  return `0x${v.toString(16)}`;
}

function conditionText(c: Condition): string {
  const a = `arg${c.arg}`;
  const v = formatArg(c.value);
  switch (c.op) {
    case "MASKED_EQ":
      return `${a} & ${formatArg(c.mask ?? 0n)} == ${v}`;
    case "EQ":
      return `${a} == ${v}`;
    case "NE":
      return `${a} != ${v}`;
    case "LT":
      return `${a} < ${v}`;
    case "LE":
      return `${a} <= ${v}`;
    case "GT":
      return `${a} > ${v}`;
    case "GE":
      return `${a} >= ${v}`;
  }
}

/** The call as text: "mkdir", "socket(16, 3, 9)". Trailing zero arguments are not written. */
function callText(name: string, args: readonly bigint[]): string {
  let n = args.length;
  while (n > 0 && args[n - 1] === 0n) n--;
  return n === 0 && args.length === 0 ? name : `${name}(${args.slice(0, Math.max(n, 1)).map(formatArg).join(", ")})`;
}

// ---- nspawn ------------------------------------------------------------------

interface NspawnStory {
  readonly headline: string;
  readonly notes: string[];
}

let rowMembers: { name: string; capability: string | null; members: ReadonlySet<string> }[] | undefined;

function allowRows(): { name: string; capability: string | null; members: ReadonlySet<string> }[] {
  rowMembers ??= NSPAWN_ALLOW_LIST.map((r) => ({ name: r.name, capability: r.capability, members: new Set(expandItem(r.name)) }));
  return rowMembers;
}

function rowText(row: string): string {
  return row.startsWith("@") ? `in ${row} (nspawn allow list)` : `on nspawn's allow list`;
}

/** The nspawn story of a name: why nspawn's filter allows it, denies it, or does not know it. */
function nspawnStory(name: string, sets: NspawnFilterSets): NspawnStory {
  const rows = allowRows().filter((r) => r.members.has(name));
  const notes: string[] = [];
  const gated = rows.filter((r) => r.capability !== null);
  const capHeld = (cap: string): boolean => sets.capabilities.has(parseCapability(cap));
  const allowedBy = sets.allowed.get(name);
  for (const r of gated) {
    if (allowedBy === `gated by ${r.capability}: ${r.name}`) continue;
    notes.push(`the row \`${r.name}\` of nspawn's allow list needs ${r.capability}, which is ${capHeld(r.capability!) ? "retained" : "not retained"}`);
  }
  if (allowedBy !== undefined) {
    let headline: string;
    if (allowedBy.startsWith("nspawn allow list: ")) headline = rowText(allowedBy.slice("nspawn allow list: ".length));
    else if (allowedBy.startsWith("gated by ")) {
      const m = /^gated by ([A-Z_0-9]+): (.*)$/.exec(allowedBy);
      headline = m === null ? allowedBy : `gated by ${m[1]} (retained)${m[2]!.startsWith("@") ? `, in ${m[2]}` : ""}`;
    } else headline = `allowed by ${allowedBy}`;
    return { headline, notes };
  }
  const denied = sets.denied.get(name);
  if (denied !== undefined) {
    const ungated = rows.filter((r) => r.capability === null || capHeld(r.capability));
    if (denied.startsWith("removed by ")) {
      const where = ungated.length > 0 ? `${rowText(ungated[0]!.name)}, but ` : "";
      return { headline: `${where}${denied}`, notes };
    }
    const gate = gated.find((r) => !capHeld(r.capability!));
    const headline = gate === undefined ? denied : `${denied}; the row \`${gate.name}\` of nspawn's allow list needs ${gate.capability}, which is not retained`;
    return { headline, notes: notes.filter((n) => !headline.includes(n)) };
  }
  return {
    headline: `not in systemd ${SYSTEMD_DATA_VERSION}'s @known (newer than systemd's list): ENOSYS so libc falls back`,
    notes,
  };
}

// ---- profiles ------------------------------------------------------------------

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function capName(c: string): string {
  try {
    return capabilityName(parseCapability(c)) ?? c;
  } catch {
    return c;
  }
}

/**
 * The entries of a container profile (the text the importer read), with
 * their `includes`/`excludes` as sentences. Tolerant: the importer has
 * already validated the text; anything unreadable gives no entries.
 */
export function profileEntries(text: string): ProfileEntry[] {
  const root = obj(jsoncParser().parse(text, [], { allowTrailingComma: true }));
  if (root === undefined) return [];
  let sec = root;
  let prefix = "";
  if (root["defaultAction"] === undefined && obj(obj(root["linux"])?.["seccomp"]) !== undefined) {
    sec = obj(obj(root["linux"])!["seccomp"])!;
    prefix = "linux.seccomp.";
  }
  const list = sec["syscalls"];
  if (!Array.isArray(list)) return [];
  return list.map((e: unknown, i) => {
    const entry = obj(e) ?? {};
    const names = typeof entry["name"] === "string" ? [entry["name"]] : stringList(entry["names"]);
    const inc = obj(entry["includes"]) ?? {};
    const exc = obj(entry["excludes"]) ?? {};
    const excludeCaps = stringList(exc["caps"]).map(capName);
    const includeCaps = stringList(inc["caps"]).map(capName);
    const gates: string[] = [];
    if (excludeCaps.length > 0) gates.push(`excluded when ${excludeCaps.join(" or ")} is held`);
    if (includeCaps.length > 0) gates.push(`needs ${includeCaps.join(" and ")}`);
    const incArches = stringList(inc["arches"]);
    const excArches = stringList(exc["arches"]);
    if (incArches.length > 0) gates.push(`only on ${incArches.join(", ")}`);
    if (excArches.length > 0) gates.push(`not on ${excArches.join(", ")}`);
    if (typeof inc["minKernel"] === "string" && inc["minKernel"] !== "") gates.push(`only from kernel ${inc["minKernel"]}`);
    if (typeof exc["minKernel"] === "string" && exc["minKernel"] !== "") gates.push(`only before kernel ${exc["minKernel"]}`);
    return { path: `${prefix}syscalls[${i}]`, names, action: typeof entry["action"] === "string" ? entry["action"] : "?", gates, excludeCaps, includeCaps };
  });
}

/** The profile entry a rule came from (its origin is `SOURCE PATH` or `SOURCE PATH (comment)`). */
function entryOfOrigin(origin: string, profile: NonNullable<ExplainContext["profile"]>): ProfileEntry | undefined {
  const rest = origin.startsWith(`${profile.source} `) ? origin.slice(profile.source.length + 1) : undefined;
  if (rest === undefined) return undefined;
  return profile.entries.find((e) => rest === e.path || rest.startsWith(`${e.path} `));
}

function capsState(entry: ProfileEntry, held: ReadonlySet<string>): string {
  const caps = [...new Set([...entry.excludeCaps, ...entry.includeCaps])];
  return caps.map((c) => `${c} ${held.has(c) ? "held" : "not held"}`).join(", ");
}

// ---- explain -------------------------------------------------------------------

/** "an int", "a umode_t", "an unsigned int", "an old_uid_t". */
function withArticle(type: string): string {
  return `${/^(?:[aeio]|unsigned)/.test(type) ? "an" : "a"} ${type}`;
}

/**
 * Check condition `c` of a rule of `syscall` on `abi` against the call's
 * arguments, comparing `bits` low bits ({@link conditionWidth}). When that is
 * narrower than the register, the text names the declared type: "family is
 * an int: the low 32 bits are compared".
 */
function checkCondition(c: Condition, args: readonly bigint[], bits: ArgWidth, abi: AbiName, syscall: string): ConditionCheck {
  const raw = args[c.arg] ?? 0n;
  const actual = raw & widthMask(bits);
  const holds = conditionHolds(c, raw, bits);
  const t = bits < getAbi(abi).argBits ? argType(abi, syscall, c.arg) : undefined;
  const narrowed = t !== undefined ? { name: t.name, type: t.type, bits } : undefined;
  const why =
    narrowed !== undefined
      ? `; ${narrowed.name} is ${withArticle(narrowed.type)}: the low ${bits} bits are compared`
      : bits < getAbi(abi).argBits
        ? `; the low ${bits} bits are compared`
        : bits < 64
          ? `; low ${bits} bits compared`
          : "";
  const text = `${conditionText(c)} (arg${c.arg} = ${formatArg(actual)}${why})`;
  return { arg: c.arg, op: c.op, value: c.value, ...(c.mask !== undefined ? { mask: c.mask } : {}), actual, holds, ...(narrowed !== undefined ? { narrowed } : {}), text };
}

function winReason(policy: Policy, winner: number, matched: readonly number[]): WinReason {
  if (matched.length === 1) return "only match";
  const rank = ACTION_RANK[policy.rules[winner]!.action.kind];
  return matched.some((i) => i !== winner && ACTION_RANK[policy.rules[i]!.action.kind] === rank) ? "first of its kind" : "most restrictive";
}

function winText(why: WinReason, matched: number): string {
  switch (why) {
    case "only match":
      return "the only matching rule";
    case "most restrictive":
      return `the most restrictive of ${matched} matching rules`;
    case "first of its kind":
      return `the first in policy order of the most restrictive kind, of ${matched} matching rules`;
  }
}

/**
 * Resolve the query's syscall on one ABI: its number and name. A name
 * unknown on every ABI is an error (with suggestions); a name the ABI lacks
 * gives `nr` undefined.
 */
function locate(query: ExplainQuery, abi: AbiName): { nr?: number; name?: string } {
  if (typeof query.syscall === "number") {
    const nr = query.syscall >>> 0;
    const name = syscallName(abi, nr);
    return name === undefined ? { nr } : { nr, name };
  }
  const nr = syscallNumber(abi, query.syscall);
  return nr === undefined ? { name: query.syscall } : { nr, name: query.syscall };
}

const U64 = (1n << 64n) - 1n;

/**
 * Argument vectors that reach every outcome the conditions can give: for
 * each argument some condition tests, the constants and their neighbours
 * (and, for MASKED_EQ, the value with one masked bit flipped), combined over
 * the arguments. Capped, so a huge profile degrades to varying one argument
 * at a time.
 */
export function argumentSamples(rules: readonly Rule[]): bigint[][] {
  const perArg = new Map<number, Set<bigint>>();
  for (const r of rules) {
    for (const c of r.conditions) {
      let s = perArg.get(c.arg);
      if (s === undefined) perArg.set(c.arg, (s = new Set([0n, U64])));
      const add = (v: bigint): void => void s!.add(((v % (U64 + 1n)) + (U64 + 1n)) % (U64 + 1n));
      add(c.value);
      add(c.value - 1n);
      add(c.value + 1n);
      if (c.op === "MASKED_EQ") {
        const mask = c.mask ?? 0n;
        const low = mask & -mask;
        add(c.value ^ low);
        add(c.value | (U64 ^ mask));
      }
    }
  }
  const args = [...perArg.keys()].sort((a, b) => a - b);
  const zero = (): bigint[] => [0n, 0n, 0n, 0n, 0n, 0n];
  let product = 1;
  for (const a of args) product *= perArg.get(a)!.size;
  if (product <= 20000) {
    let out: bigint[][] = [zero()];
    for (const a of args) {
      const next: bigint[][] = [];
      for (const base of out) {
        for (const v of perArg.get(a)!) {
          const x = [...base];
          x[a] = v;
          next.push(x);
        }
      }
      out = next;
    }
    return out;
  }
  const out: bigint[][] = [zero()];
  for (const a of args) {
    for (const v of perArg.get(a)!) {
      const x = zero();
      x[a] = v;
      out.push(x);
    }
  }
  return out;
}

/** One outcome of an argument-dependent call: an argument vector that gets it. */
export interface ArgumentCase {
  readonly args: readonly bigint[];
  /** The action as the kernel takes it ("ERRNO(EPERM)"). */
  readonly action: string;
  readonly ret: number;
  /** "socket(40)". */
  readonly call: string;
}

/**
 * Every outcome the rules of `name` give on `abi` (tried at the partition
 * points of their conditions, argumentSamples), least restrictive first (as the report lists them); one
 * entry means the call does not depend on its arguments.
 */
export function argumentCases(policy: Policy, abi: AbiName, name: string, nr: number): ArgumentCase[] {
  const arch = getAbi(abi).auditArch;
  const zero = [0n, 0n, 0n, 0n, 0n, 0n];
  const conditional = rulesFor(policy, abi, name)
    .map((a) => a.rule)
    .filter((r) => r.conditions.length > 0);
  const found = new Map<number, { d: Decision; args: bigint[] }>();
  found.set(decide(policy, { arch, nr, args: zero }).ret, { d: decide(policy, { arch, nr, args: zero }), args: zero });
  if (conditional.length > 0) {
    for (const args of argumentSamples(conditional)) {
      const d = decide(policy, { arch, nr, args });
      if (!found.has(d.ret)) found.set(d.ret, { d, args });
    }
  }
  return [...found.values()]
    .sort((a, b) => ACTION_RANK[b.d.action.kind] - ACTION_RANK[a.d.action.kind] || a.d.ret - b.d.ret)
    .map(({ d, args }) => {
      let n = args.length;
      while (n > 0 && args[n - 1] === 0n) n--;
      const shown = args.slice(0, n);
      return { args: shown, action: retText(d.ret, abi), ret: d.ret, call: callText(name, shown.length === 0 ? [0n] : shown) };
    });
}

/**
 * Explain what `policy` decides for a call (see the module doc). The decision
 * is {@link decide}'s; the chain lists every rule for the syscall.
 * @throws SyscageError UNKNOWN_SYSCALL for a name on no ABI, BAD_USAGE for an ABI the policy does not cover.
 */
export function explain(given: Policy, query: ExplainQuery, context: ExplainContext = {}): Explanation {
  const policy = withRoutes(given);
  if (typeof query.syscall === "string" && !knownSyscallNames().has(query.syscall)) {
    const s = suggest(query.syscall, knownSyscallNames());
    throw new SyscageError("UNKNOWN_SYSCALL", `unknown syscall "${query.syscall}" (not on any ABI in syscage's Linux tables).${didYouMean(s)}`, s);
  }
  if (query.abi !== undefined && !policy.abis.includes(query.abi)) {
    throw new SyscageError("BAD_USAGE", `the policy does not cover ${query.abi} (its ABIs: ${policy.abis.join(", ")})`);
  }
  const args = [...(query.args ?? [])];
  const full = [...args];
  while (full.length < 6) full.push(0n);
  const sets = context.nspawn !== undefined ? nspawnFilterSets(context.nspawn) : undefined;
  const abis = query.abi !== undefined ? [query.abi] : policy.abis;
  const label = typeof query.syscall === "string" ? query.syscall : `nr ${query.syscall >>> 0}`;
  const out = abis.map((abi) => explainOn(policy, abi, query, args, full, sets, context));
  return { call: callText(label, args), args, abis: out };
}

/**
 * On ABIs with socketcall(2) or ipc(2), `name` (socket, semop, …) can also
 * be called through the multiplexer, where a filter sees only the sub-call
 * number: its arguments sit behind a pointer. Say what that route gets
 * when it differs from the direct call's `ret`, or when the policy tests
 * `name`'s arguments (which that route never reaches).
 */
function multiplexNote(policy: Policy, abi: AbiName, name: string, ret: number): string | undefined {
  const m = multiplexedAs(abi, name);
  const nr = m !== undefined ? syscallNumber(abi, m.via) : undefined;
  if (m === undefined || nr === undefined) return undefined;
  const via = decide(policy, { arch: getAbi(abi).auditArch, nr, args: [BigInt(m.subcall), 0n, 0n, 0n, 0n, 0n] });
  const argRules = policy.rules.some((r) => r.syscall === name && r.conditions.length > 0);
  if (via.ret === ret && !argRules) return undefined;
  return (
    `on ${abi}, ${name} can also be called as ${m.via}(${m.subcall}, …), where a filter sees only the sub-call number (${name}'s arguments are behind a pointer): ` +
    `that route gets ${retText(via.ret, abi)} (${via.origin})` +
    (argRules ? `; ${name}'s argument checks do not apply to it` : "")
  );
}

function explainOn(
  policy: Policy,
  abi: AbiName,
  query: ExplainQuery,
  args: readonly bigint[],
  full: readonly bigint[],
  sets: NspawnFilterSets | undefined,
  context: ExplainContext,
): AbiExplanation {
  const info = getAbi(abi);
  const where = locate(query, abi);
  if (where.nr === undefined) {
    const name = where.name!;
    const has = abisWithSyscall(name);
    const summary = `${name} does not exist on ${abi}${has.length > 0 ? ` (it exists on ${has.length > 6 ? `${has.slice(0, 6).join(", ")}, …` : has.join(", ")})` : ""}`;
    return { abi, syscall: name, exists: false, reason: "missing", origin: `the ${abi} syscall table has no ${name}`, chain: [], notes: [], summary };
  }
  const d = decide(policy, { arch: info.auditArch, nr: where.nr, args: full });
  const name = d.syscall ?? where.name;
  const call = callText(name ?? `nr ${where.nr}`, args);
  // The kernel's view, errno named on this ABI: ERRNO(38) on x86_64 reads ERRNO(ENOSYS).
  const action = retText(d.ret, abi);
  const chain: ChainStep[] = [];
  const matched: number[] = [];
  const profile = context.profile;
  if (name !== undefined) {
    rulesFor(policy, abi, name).forEach(({ rule: r, index: i }) => {
      const checks = r.conditions.map((c) => checkCondition(c, full, conditionWidth(policy, abi, name, c.arg), abi, name));
      const failed = checks.find((c) => !c.holds);
      if (failed === undefined) matched.push(i);
      const entry = profile !== undefined ? entryOfOrigin(r.origin, profile) : undefined;
      chain.push({
        rule: i,
        action: formatPolicyAction(r.action),
        origin: r.origin,
        conditions: checks,
        matched: failed === undefined,
        ...(failed !== undefined ? { failed: failed.text } : {}),
        won: d.rule === i,
        ...(entry !== undefined && entry.gates.length > 0 ? { gates: entry.gates } : {}),
      });
    });
  }
  const notes: string[] = [];
  let because: string;
  let won: WinReason | undefined;
  if (d.reason === "rule") {
    won = winReason(policy, d.rule!, matched);
    const rule = policy.rules[d.rule!]!;
    const entry = profile !== undefined ? entryOfOrigin(rule.origin, profile) : undefined;
    if (isClosingRule(rule)) {
      because = rule.origin;
      if (sets !== undefined && name !== undefined) notes.push(`without the closed route: ${nspawnStory(name, sets).headline}`);
    } else if (sets !== undefined && rule.origin !== NSPAWN_AUDIT_ORIGIN) {
      const story = nspawnStory(name!, sets);
      because = story.headline;
      notes.push(...story.notes);
    } else {
      because = entry !== undefined ? `profile rule ${rule.origin}` : rule.origin;
      if (entry !== undefined && entry.gates.length > 0) {
        because += `, ${entry.gates.join(", ")}`;
        const state = capsState(entry, new Set(profile!.capabilities));
        if (state !== "") because += ` (${state})`;
      }
      if (won !== "only match") because += ` (${winText(won, matched.length)})`;
      if (sets !== undefined && name !== undefined) notes.push(`without it: ${nspawnStory(name, sets).headline}`);
    }
  } else if (d.reason === "default") {
    because = sets !== undefined && name !== undefined ? nspawnStory(name, sets).headline : chain.length > 0 ? `no rule matched; ${d.origin}` : d.origin;
  } else {
    because = d.origin;
  }
  if (d.abi !== undefined && d.abi !== abi) notes.push(`number ${where.nr} on the AUDIT_ARCH of ${abi} is dispatched to ${d.abi}`);
  if (name !== undefined) {
    const note = multiplexNote(policy, abi, name, d.ret);
    if (note !== undefined) notes.push(note);
  }
  const cases = name !== undefined && chain.some((s) => s.conditions.length > 0) ? argumentCases(policy, abi, name, where.nr) : [];
  if (profile !== undefined && name !== undefined) {
    const held = new Set(profile.capabilities);
    const used = new Set(chain.map((s) => entryOfOrigin(s.origin, profile)?.path));
    for (const e of profile.entries) {
      if (!e.names.includes(name) || used.has(e.path) || e.gates.length === 0) continue;
      notes.push(`profile rule ${profile.source} ${e.path} (${e.action}) not applied: ${e.gates.join(", ")}${capsState(e, held) !== "" ? ` (${capsState(e, held)})` : ""}`);
    }
  }
  return {
    abi,
    ...(name !== undefined ? { syscall: name } : {}),
    nr: where.nr,
    exists: true,
    action,
    ret: d.ret,
    reason: d.reason,
    origin: d.origin,
    ...(d.rule !== undefined ? { rule: d.rule } : {}),
    ...(won !== undefined ? { won } : {}),
    chain,
    notes,
    summary: `${call} → ${action}: ${because}`,
    ...(cases.length > 1 ? { cases } : {}),
  };
}
