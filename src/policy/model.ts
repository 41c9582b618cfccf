/**
 * The Policy model: what a seccomp filter should decide, independent of any
 * output format. Every rule keeps its origin so that tools can say why a call
 * gets its action.
 */
import { ABIS, localAbis, type AbiName } from "../abi/arch.js";
import { knownSyscallNames, abisWithSyscall } from "../abi/tables.js";
import { errnoNumber, ERRNO_MAX } from "../abi/errno.js";
import { SyscageError, didYouMean, suggest } from "../errors.js";

/**
 * What a filter does with a call. ERRNO's `errno` is a number, or an errno
 * name resolved per ABI at compile time (EAFNOSUPPORT is 97 on x86 but 124 on
 * MIPS).
 */
export type Action =
  | { readonly kind: "ALLOW" }
  | { readonly kind: "ERRNO"; readonly errno: number | string }
  | { readonly kind: "KILL_PROCESS" }
  | { readonly kind: "KILL_THREAD" }
  | { readonly kind: "TRAP"; readonly data: number }
  | { readonly kind: "TRACE"; readonly data: number }
  | { readonly kind: "LOG" }
  | { readonly kind: "NOTIFY" };

export type ActionKind = Action["kind"];

/** Comparison operators on one 64-bit syscall argument. */
export type Operator = "EQ" | "NE" | "LT" | "LE" | "GT" | "GE" | "MASKED_EQ";

export const OPERATORS: readonly Operator[] = ["EQ", "NE", "LT", "LE", "GT", "GE", "MASKED_EQ"];

/** Argument index 0..5. */
export type ArgIndex = 0 | 1 | 2 | 3 | 4 | 5;

/**
 * A test on one argument. For MASKED_EQ the test is `(arg & mask) == value`;
 * otherwise `arg OP value`, unsigned. Values are u64.
 */
export interface Condition {
  readonly arg: ArgIndex;
  readonly op: Operator;
  readonly value: bigint;
  /** Only for MASKED_EQ. */
  readonly mask?: bigint;
}

/** One rule: a syscall, the action, and conditions that must all hold. */
export interface Rule {
  readonly syscall: string;
  readonly action: Action;
  /** ANDed; empty means the rule applies to every call of the syscall. */
  readonly conditions: readonly Condition[];
  /** Where the rule came from, for explanations ("profile rule #3"). */
  readonly origin: string;
  /**
   * The ABIs the rule applies on; absent: every ABI of the policy that has
   * the syscall. For facts that differ by ABI under one name: x86's `mmap` is
   * old_mmap (its arguments behind a pointer) while x86_64's reads `prot`
   * directly, and systemd leaves some ABIs out of a filter.
   */
  readonly abis?: readonly AbiName[];
}

/** Does `rule` apply on `abi` (its own ABI list aside, the syscall may still be missing there)? */
export function ruleAppliesOn(rule: Rule, abi: AbiName): boolean {
  return rule.abis === undefined || rule.abis.includes(abi);
}

/** Filter flags passed to seccomp(SECCOMP_SET_MODE_FILTER) by whatever loads the program. */
export type FilterFlag = "TSYNC" | "LOG" | "SPEC_ALLOW" | "NEW_LISTENER" | "WAIT_KILLABLE_RECV";

export const FILTER_FLAGS: Readonly<Record<FilterFlag, number>> = {
  TSYNC: 1,
  LOG: 2,
  SPEC_ALLOW: 4,
  NEW_LISTENER: 8,
  WAIT_KILLABLE_RECV: 32,
};

/** An action together with where it was decided. */
export interface OriginAction {
  readonly action: Action;
  readonly origin: string;
}

/**
 * A complete policy.
 *
 * Semantics (docs/semantics.md): for a call on a configured ABI, the rules for
 * its syscall whose conditions all hold are the matching rules. With none,
 * the default action applies; otherwise the most restrictive matching action
 * wins in the kernel's precedence order (KILL_PROCESS, KILL_THREAD, TRAP,
 * ERRNO, NOTIFY, TRACE, LOG, ALLOW); between matching rules of the same kind
 * the first in policy order wins. A number that no table of the ABI names
 * gets `unknown`; an arch that no configured ABI uses gets `badArch`.
 */
export interface Policy {
  readonly rules: readonly Rule[];
  readonly default: OriginAction;
  /** For syscall numbers unknown to our tables. */
  readonly unknown: OriginAction;
  /** For architectures the policy does not cover. */
  readonly badArch: OriginAction;
  /** The ABIs the program covers. */
  readonly abis: readonly AbiName[];
  readonly flags: readonly FilterFlag[];
  /**
   * OCI `listenerPath`/`listenerMetadata`, carried through from an imported
   * container profile to an exported one (where the runtime sends the seccomp
   * notify fd for NOTIFY rules). It does not change the program.
   */
  readonly listener?: PolicyListener;
  /**
   * How conditions read an argument (docs/semantics.md, "Argument
   * comparisons"). "kernel" (the default when absent): the value the kernel
   * uses, i.e. the low bits of the register that the argument's declared C
   * type keeps (`int` 32, `umode_t` 16). "u64": all bits of the register,
   * as libseccomp compares them.
   */
  readonly argumentWidth?: ArgumentWidthMode;
  /**
   * Routes around denied calls (docs/semantics.md, "Closed routes"). "closed"
   * (the default when absent): where the rules deny or restrict a call that
   * io_uring could perform, io_uring gets ERRNO(EPERM); where they restrict
   * clone or openat, clone3 or openat2 get ERRNO(ENOSYS). "open": the rules
   * exactly as written, as real nspawn and runc enforce them.
   */
  readonly routes?: RoutesMode;
  /**
   * `false`: no network, by any route (docs/semantics.md, "No network"):
   * creating a socket of any family but AF_UNIX fails with EPERM (socket,
   * socketpair; socketcall's SYS_SOCKET and SYS_SOCKETPAIR on the ABIs that
   * have it, whose family no filter can read; io_uring closed), while every
   * socket the process already has, and AF_UNIX sockets, keep working.
   * Absent or `true`: the rules decide.
   */
  readonly network?: boolean;
  /**
   * Rules that close a route the source itself leaves open (a unit's
   * RestrictAddressFamilies= skips x86, where socketcall hides the family):
   * in force while `routes` is "closed", gone with "open", which keeps the
   * source's own filters exactly. {@link withRoutes} appends them.
   */
  readonly routeRules?: readonly Rule[];
  /** What `syscage audit` is told about the policy: findings its author accepts (docs/audit.md). It does not change the program. */
  readonly audit?: PolicyAudit;
}

/** A finding of `syscage audit` the policy's author accepts, and why (docs/audit.md, "Waivers"). */
export interface AuditWaiver {
  /** The finding's id in the audit catalogue, e.g. "danger.ptrace". */
  readonly id: string;
  /** Why it is acceptable here; shown in the audit's output. */
  readonly reason: string;
  /** Only findings about these syscalls (all of a finding's syscalls must be listed); absent: every finding with the id. */
  readonly syscalls?: readonly string[];
}

/** See {@link Policy.audit}. */
export interface PolicyAudit {
  readonly waive: readonly AuditWaiver[];
}

/** See {@link Policy.routes}. */
export type RoutesMode = "closed" | "open";

/** The accepted values of {@link Policy.routes}. */
export const ROUTES_MODES: readonly RoutesMode[] = ["closed", "open"];

/** See {@link Policy.argumentWidth}. */
export type ArgumentWidthMode = "kernel" | "u64";

/** The accepted values of {@link Policy.argumentWidth}. */
export const ARGUMENT_WIDTH_MODES: readonly ArgumentWidthMode[] = ["kernel", "u64"];

/** Where a container runtime sends the seccomp user-notification fd (OCI `listenerPath`). */
export interface PolicyListener {
  readonly path: string;
  readonly metadata?: string;
}

// ---- actions ---------------------------------------------------------------

export const ALLOW: Action = { kind: "ALLOW" };
export const KILL_PROCESS: Action = { kind: "KILL_PROCESS" };
export const KILL_THREAD: Action = { kind: "KILL_THREAD" };
export const LOG: Action = { kind: "LOG" };
export const NOTIFY: Action = { kind: "NOTIFY" };
export const errno = (e: number | string): Action => ({ kind: "ERRNO", errno: e });
export const trap = (data = 0): Action => ({ kind: "TRAP", data });
export const trace = (data = 0): Action => ({ kind: "TRACE", data });

/** Precedence of action kinds as the kernel orders them (lower is more restrictive). */
export const ACTION_RANK: Readonly<Record<ActionKind, number>> = {
  KILL_PROCESS: 0,
  KILL_THREAD: 1,
  TRAP: 2,
  ERRNO: 3,
  NOTIFY: 4,
  TRACE: 5,
  LOG: 6,
  ALLOW: 7,
};

/** "ALLOW", "ERRNO(EPERM)", "ERRNO(1)", "TRAP(3)", … */
export function formatPolicyAction(a: Action): string {
  switch (a.kind) {
    case "ERRNO":
      return `ERRNO(${a.errno})`;
    case "TRAP":
    case "TRACE":
      return `${a.kind}(${a.data})`;
    default:
      return a.kind;
  }
}

/** Structural equality of two actions (ERRNO names are compared as written). */
export function sameAction(a: Action, b: Action): boolean {
  return formatPolicyAction(a) === formatPolicyAction(b);
}

const ACTION_SYNTAX = /^\s*([A-Za-z_]+)\s*(?:\(\s*([^()]*?)\s*\))?\s*$/;

/**
 * Parse an action as users write it: `ALLOW`, `ERRNO(EPERM)`, `ERRNO(1)`,
 * `KILL_PROCESS`, `KILL` (= KILL_THREAD, libseccomp's name), `TRAP(5)`,
 * `TRACE`, `LOG`, `NOTIFY`; the `SCMP_ACT_` prefix is accepted.
 * `where` names the place for the error message.
 */
export function parseAction(text: string, where: string): Action {
  const m = ACTION_SYNTAX.exec(text);
  const bad = (why: string): never => {
    throw new SyscageError("BAD_ACTION", `${where}: ${why}`);
  };
  if (m === null) return bad(`cannot read action "${text}"; write e.g. ALLOW, ERRNO(EPERM), KILL_PROCESS, TRAP(1)`);
  const name = m[1]!.toUpperCase().replace(/^SCMP_ACT_/, "");
  const arg = m[2];
  const num = (max: number): number => {
    if (arg === undefined || arg === "") return 0;
    if (!/^(0x[0-9a-f]+|\d+)$/i.test(arg)) return bad(`"${arg}" is not a number in ${text}`);
    const n = Number(arg);
    if (n > max) return bad(`${name} data ${n} is out of range 0..${max}`);
    return n;
  };
  const noArg = (a: Action): Action => (arg === undefined ? a : bad(`${name} takes no argument (got "${text}")`));
  switch (name) {
    case "ALLOW":
      return noArg(ALLOW);
    case "LOG":
      return noArg(LOG);
    case "NOTIFY":
    case "USER_NOTIF":
      return noArg(NOTIFY);
    case "KILL_PROCESS":
      return noArg(KILL_PROCESS);
    case "KILL":
    case "KILL_THREAD":
      return noArg(KILL_THREAD);
    case "TRAP":
      return trap(num(0xffff));
    case "TRACE":
      return trace(num(0xffff));
    case "ERRNO": {
      if (arg === undefined || arg === "") return bad(`ERRNO needs an errno, e.g. ERRNO(EPERM) or ERRNO(1)`);
      return errno(checkErrno(/^\d+$/.test(arg) || /^0x/i.test(arg) ? Number(arg) : arg.toUpperCase(), where));
    }
    default: {
      const s = suggest(name, ["ALLOW", "ERRNO", "KILL_PROCESS", "KILL_THREAD", "KILL", "TRAP", "TRACE", "LOG", "NOTIFY"]);
      return bad(`unknown action "${text}".${didYouMean(s)}`);
    }
  }
}

/** Validate an errno number (0..4095) or name (known on some ABI). */
export function checkErrno(e: number | string, where: string): number | string {
  if (typeof e === "number") {
    if (!Number.isInteger(e) || e < 0 || e > ERRNO_MAX) {
      throw new SyscageError("BAD_ERRNO", `${where}: errno ${e} is out of range 0..${ERRNO_MAX}`);
    }
    return e;
  }
  const known = (["x86_64", "mips", "parisc", "ppc"] as const).some((abi) => errnoNumber(abi, e) !== undefined);
  if (!known) throw new SyscageError("BAD_ERRNO", `${where}: unknown errno "${e}"; use a name such as EPERM or a number 0..${ERRNO_MAX}`);
  return e;
}

// ---- building policies -----------------------------------------------------

const U64_MAX = (1n << 64n) - 1n;

/** Options of {@link definePolicy}; every field has a default. */
export interface PolicyInput {
  /** Default: ERRNO(EPERM). */
  readonly default?: Action | string;
  /** Default: ERRNO(ENOSYS), each ABI's own number. */
  readonly unknown?: Action | string;
  /** Default: KILL_PROCESS. */
  readonly badArch?: Action | string;
  /** Default: the host's local ABIs. */
  readonly abis?: readonly AbiName[];
  readonly flags?: readonly FilterFlag[];
  /** Default: "kernel" (compare the value the kernel uses); "u64" is libseccomp's full 64 bits. */
  readonly argumentWidth?: ArgumentWidthMode;
  /** Default: "closed" (io_uring, clone3 and openat2 closed where the rules need it); "open" as nspawn and runc. */
  readonly routes?: RoutesMode;
  /** `false`: no network by any route, AF_UNIX and existing sockets excepted ({@link Policy.network}). */
  readonly network?: boolean;
  /** `audit.waive`: findings of `syscage audit` accepted, each with a reason ({@link Policy.audit}). */
  readonly audit?: { readonly waive?: readonly AuditWaiver[] };
  readonly rules?: readonly RuleInput[];
  /** Origin of the default action, for explanations. */
  readonly origin?: string;
}

/**
 * A rule as written by a user: one or several syscalls, a condition list.
 * The policy file's spelling is accepted too: `syscalls` for `syscall`,
 * `args` for `conditions` (one of each pair, not both).
 */
export interface RuleInput {
  readonly syscall?: string | readonly string[];
  /** The policy file's spelling of {@link RuleInput.syscall}. */
  readonly syscalls?: readonly string[];
  readonly action: Action | string;
  readonly conditions?: readonly ConditionInput[];
  /** The policy file's spelling of {@link RuleInput.conditions}. */
  readonly args?: readonly ConditionInput[];
  readonly origin?: string;
  /** Only on these ABIs ({@link Rule.abis}); absent: every ABI. */
  readonly abis?: readonly string[];
  /** Free text, as in the policy file; not used. */
  readonly comment?: string;
}

/**
 * A condition as written by a user: numbers may be number, bigint or string.
 * `index` (the policy file's spelling) may stand for `arg`.
 */
export interface ConditionInput {
  readonly arg?: number;
  /** The policy file's spelling of {@link ConditionInput.arg}. */
  readonly index?: number;
  readonly op: Operator | string;
  readonly value: bigint | number | string;
  readonly mask?: bigint | number | string;
}

// ---- checking what a caller hands in (TypeScript types vanish at run time) ----

const POLICY_INPUT_KEYS = ["default", "unknown", "badArch", "abis", "flags", "argumentWidth", "routes", "network", "audit", "rules", "origin", "comment", "$schema"] as const;
const AUDIT_INPUT_KEYS = ["waive"] as const;
const WAIVER_INPUT_KEYS = ["id", "reason", "syscalls"] as const;
const RULE_INPUT_KEYS = ["syscall", "syscalls", "action", "conditions", "args", "origin", "abis", "comment"] as const;
const CONDITION_INPUT_KEYS = ["arg", "index", "op", "value", "mask"] as const;
const ACTION_KEYS: Readonly<Record<string, readonly string[]>> = {
  ALLOW: ["kind"], LOG: ["kind"], NOTIFY: ["kind"], KILL_PROCESS: ["kind"], KILL_THREAD: ["kind"], ERRNO: ["kind", "errno"], TRAP: ["kind", "data"], TRACE: ["kind", "data"],
};

function typeName(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "an array" : typeof v === "object" ? "an object" : typeof v;
}

/** `v` as a plain object, or an error naming `where`. */
export function expectObject(v: unknown, where: string): Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new SyscageError("BAD_INPUT", `${where}: expected an object, got ${typeName(v)}`);
  return v as Record<string, unknown>;
}

/**
 * Every own key of `obj` must be one of `known` (with a did-you-mean);
 * `__proto__` and friends count as keys like any other.
 */
export function checkKnownKeys(obj: object, known: readonly string[], where: string, hint = ""): void {
  for (const k of Reflect.ownKeys(obj)) {
    const key = String(k);
    if (known.includes(key)) continue;
    const s = suggest(key, known);
    throw new SyscageError("UNKNOWN_FIELD", `${where}: unknown field "${key}".${didYouMean(s)}${hint !== "" ? ` ${hint}` : ""} Known fields: ${known.join(", ")}`, s);
  }
}

function expectArray(v: unknown, where: string): readonly unknown[] {
  if (!Array.isArray(v)) throw new SyscageError("BAD_INPUT", `${where}: expected an array, got ${typeName(v)}`);
  return v;
}

function expectString(v: unknown, where: string): string {
  if (typeof v !== "string") throw new SyscageError("BAD_INPUT", `${where}: expected a string, got ${typeName(v)}`);
  return v;
}

/** One of two spellings of a field (the README's or the policy file's), never both. */
function eitherOf(obj: Record<string, unknown>, a: string, b: string, where: string): unknown {
  if (obj[a] !== undefined && obj[b] !== undefined) throw new SyscageError("BAD_INPUT", `${where}: has both "${a}" and "${b}", which mean the same; use one`);
  return obj[a] ?? obj[b];
}

function checkActionInput(a: unknown, where: string): Action | string {
  if (typeof a === "string") return a;
  const o = expectObject(a, where);
  const kind = o.kind;
  if (typeof kind !== "string" || ACTION_KEYS[kind] === undefined) {
    const s = typeof kind === "string" ? suggest(kind, Object.keys(ACTION_KEYS)) : [];
    throw new SyscageError("BAD_ACTION", `${where}.kind: ${typeof kind === "string" ? `unknown action kind "${kind}".${didYouMean(s)}` : `expected a string, got ${typeName(kind)}`} Kinds: ${Object.keys(ACTION_KEYS).join(", ")}`);
  }
  checkKnownKeys(o, ACTION_KEYS[kind]!, where);
  if (kind === "ERRNO" && typeof o.errno !== "number" && typeof o.errno !== "string") throw new SyscageError("BAD_ACTION", `${where}.errno: expected a number or an errno name, got ${typeName(o.errno)}`);
  if ((kind === "TRAP" || kind === "TRACE") && typeof o.data !== "number") throw new SyscageError("BAD_ACTION", `${where}.data: expected a number 0..65535, got ${typeName(o.data)}`);
  return a as Action;
}

/** Parse a u64 from bigint, safe integer, or decimal/hex string; negatives wrap (two's complement). */
export function toU64(v: bigint | number | string, where: string): bigint {
  let b: bigint;
  if (typeof v === "bigint") b = v;
  else if (typeof v === "number") {
    if (!Number.isSafeInteger(v)) throw new SyscageError("BAD_VALUE", `${where}: ${v} is not an exact integer; write values above 2^53 as a string or BigInt`);
    b = BigInt(v);
  } else {
    const t = v.trim();
    if (!/^-?(0x[0-9a-f]+|0o[0-7]+|0b[01]+|\d+)$/i.test(t)) throw new SyscageError("BAD_VALUE", `${where}: "${v}" is not an integer (decimal, 0x hex, 0o octal or 0b binary)`);
    b = t.startsWith("-") ? -BigInt(t.slice(1)) : BigInt(t);
  }
  if (b < -(1n << 63n) || b > U64_MAX) throw new SyscageError("BAD_VALUE", `${where}: ${b} does not fit in 64 bits`);
  return b < 0n ? b + (1n << 64n) : b;
}

function toAction(a: Action | string, where: string): Action {
  if (typeof a === "string") return parseAction(a, where);
  if (a.kind === "ERRNO") return errno(checkErrno(a.errno, where));
  if ((a.kind === "TRAP" || a.kind === "TRACE") && (!Number.isInteger(a.data) || a.data < 0 || a.data > 0xffff)) {
    throw new SyscageError("BAD_ACTION", `${where}: ${a.kind} data ${a.data} is out of range 0..65535`);
  }
  return a;
}

/** Check a syscall name exists on at least one ABI; an error with suggestions otherwise. */
export function checkSyscallName(name: string, where: string): void {
  if (knownSyscallNames().has(name)) return;
  const s = suggest(name, knownSyscallNames());
  throw new SyscageError("UNKNOWN_SYSCALL", `${where}: unknown syscall "${name}" (not on any ABI).${didYouMean(s)}`, s);
}

/** A condition's fields, checked for unknown keys and types (`index` for `arg` accepted). */
function checkConditionInput(raw: unknown, where: string): ConditionInput & { arg: number } {
  const c = expectObject(raw, where);
  checkKnownKeys(c, CONDITION_INPUT_KEYS, where);
  const arg = eitherOf(c, "arg", "index", where);
  if (typeof arg !== "number") throw new SyscageError("BAD_ARG_INDEX", `${where}.arg: expected an argument index 0..5, got ${typeName(arg)}`);
  if (typeof c.op !== "string") throw new SyscageError("BAD_OPERATOR", `${where}.op: expected an operator (${OPERATORS.join(", ")}), got ${typeName(c.op)}`);
  for (const k of ["value", "mask"] as const) {
    const v = c[k];
    if (v !== undefined && typeof v !== "bigint" && typeof v !== "number" && typeof v !== "string") throw new SyscageError("BAD_VALUE", `${where}.${k}: expected an integer (number, bigint or string), got ${typeName(v)}`);
  }
  if (c.value === undefined) throw new SyscageError("BAD_VALUE", `${where}: has no value`);
  return { ...(c as unknown as ConditionInput), arg };
}

function toCondition(c: ConditionInput & { arg: number }, where: string): Condition {
  if (!Number.isInteger(c.arg) || c.arg < 0 || c.arg > 5) {
    throw new SyscageError("BAD_ARG_INDEX", `${where}: argument index ${c.arg} is out of range 0..5`);
  }
  const op = String(c.op).toUpperCase().replace(/^SCMP_CMP_/, "") as Operator;
  if (!OPERATORS.includes(op)) {
    const s = suggest(op, OPERATORS);
    throw new SyscageError("BAD_OPERATOR", `${where}: unknown operator "${c.op}".${didYouMean(s)} Operators: ${OPERATORS.join(", ")}`);
  }
  const value = toU64(c.value, `${where}.value`);
  if (op === "MASKED_EQ") {
    if (c.mask === undefined) throw new SyscageError("BAD_CONDITION", `${where}: MASKED_EQ needs a mask`);
    const mask = toU64(c.mask, `${where}.mask`);
    return { arg: c.arg as ArgIndex, op, value, mask };
  }
  if (c.mask !== undefined) throw new SyscageError("BAD_CONDITION", `${where}: only MASKED_EQ takes a mask (operator is ${op})`);
  return { arg: c.arg as ArgIndex, op, value };
}

/**
 * Build a checked Policy from friendly input. Errors name the rule
 * ("rules[3] (read)") and the field.
 */
export function definePolicy(input: PolicyInput): Policy {
  const top = expectObject(input, "policy");
  checkKnownKeys(top, POLICY_INPUT_KEYS, "policy");
  const origin = input.origin === undefined ? "policy" : expectString(input.origin, "origin");
  const rules: Rule[] = [];
  const ruleList = input.rules === undefined ? [] : expectArray(input.rules, "rules");
  ruleList.forEach((raw, i) => {
    const at = `rules[${i}]`;
    const r = expectObject(raw, at);
    checkKnownKeys(r, RULE_INPUT_KEYS, at);
    const named = eitherOf(r, "syscall", "syscalls", at);
    if (named === undefined) throw new SyscageError("BAD_RULE", `${at}: names no syscall; add syscall: "NAME" or syscall: ["NAME", …]`);
    const names = typeof named === "string" ? [named] : expectArray(named, `${at}.syscall`).map((n, j) => expectString(n, `${at}.syscall[${j}]`));
    if (names.length === 0) throw new SyscageError("BAD_RULE", `${at}: names no syscall`);
    if (r.action === undefined) throw new SyscageError("BAD_RULE", `${at}: has no action; add action: "ALLOW", "ERRNO(EPERM)", …`);
    const conds = eitherOf(r, "conditions", "args", at);
    const condList = conds === undefined ? [] : expectArray(conds, `${at}.${r.args !== undefined ? "args" : "conditions"}`);
    if (r.origin !== undefined) expectString(r.origin, `${at}.origin`);
    const ruleAbiList = r.abis === undefined ? undefined : checkAbiList(r.abis, `${at}.abis`);
    for (const name of names) {
      const where = `${at} (${name})`;
      checkSyscallName(name, where);
      const action = toAction(checkActionInput(r.action, `${where}.action`), `${where}.action`);
      const conditions = condList.map((c, j) => toCondition(checkConditionInput(c, `${where}.conditions[${j}]`), `${where}.conditions[${j}]`));
      rules.push({ syscall: name, action, conditions, origin: (r.origin as string | undefined) ?? `${origin} rule #${i + 1}`, ...(ruleAbiList !== undefined ? { abis: ruleAbiList } : {}) });
    }
  });
  const abis = input.abis === undefined ? localAbis() : checkAbiList(input.abis, "abis");
  const flags = input.flags === undefined ? [] : expectArray(input.flags, "flags").map((f, i) => {
    const name = expectString(f, `flags[${i}]`);
    if (!(name in FILTER_FLAGS)) throw new SyscageError("BAD_FLAGS", `flags[${i}]: unknown filter flag "${name}".${didYouMean(suggest(name, Object.keys(FILTER_FLAGS)))} Flags: ${Object.keys(FILTER_FLAGS).join(", ")}`);
    return name as FilterFlag;
  });
  for (const k of ["default", "unknown", "badArch"] as const) if (input[k] !== undefined) checkActionInput(input[k], k);
  if (input.argumentWidth !== undefined) expectString(input.argumentWidth, "argumentWidth");
  if (input.routes !== undefined) expectString(input.routes, "routes");
  if (input.network !== undefined && typeof input.network !== "boolean") throw new SyscageError("BAD_INPUT", `network: expected true or false, got ${typeName(input.network)}`);
  if (abis.length === 0) throw new SyscageError("NO_ABIS", "abis: a policy must cover at least one ABI");
  const audit = input.audit === undefined ? undefined : checkAuditInput(input.audit);
  return {
    rules,
    default: { action: toAction(input.default ?? errno("EPERM"), "default"), origin: `${origin}: default action` },
    unknown: { action: toAction(input.unknown ?? errno("ENOSYS"), "unknown"), origin: `${origin}: syscall unknown to the tables (Linux 7.3)` },
    badArch: { action: toAction(input.badArch ?? KILL_PROCESS, "badArch"), origin: `${origin}: architecture not covered` },
    abis: [...new Set(abis)],
    flags: [...new Set(flags)],
    argumentWidth: checkArgumentWidth(input.argumentWidth ?? "kernel"),
    routes: checkRoutes(input.routes ?? "closed"),
    ...(input.network === false ? { network: false } : {}),
    ...(audit !== undefined ? { audit } : {}),
  };
}

/** A list of ABI names (syscage's spelling), each known; an error naming `where` otherwise. */
function checkAbiList(raw: unknown, where: string): AbiName[] {
  const list = expectArray(raw, where).map((a, i) => expectString(a, `${where}[${i}]`));
  for (const a of list) if (!ABIS.has(a as AbiName)) throw new SyscageError("UNKNOWN_ARCH", `${where}: unknown ABI "${a}".${didYouMean(suggest(a, [...ABIS.keys()]))} ABIs: ${[...ABIS.keys()].join(", ")}`);
  return [...new Set(list as AbiName[])];
}

/** The `audit` field: `{ waive: [{ id, reason, syscalls? }] }`, every waiver with a reason. The ids are checked by the audit (src/analyze/audit.ts), which knows the catalogue. */
function checkAuditInput(raw: unknown): PolicyAudit {
  const a = expectObject(raw, "audit");
  checkKnownKeys(a, AUDIT_INPUT_KEYS, "audit");
  const list = a.waive === undefined ? [] : expectArray(a.waive, "audit.waive");
  const waive = list.map((item, i): AuditWaiver => {
    const at = `audit.waive[${i}]`;
    const w = expectObject(item, at);
    checkKnownKeys(w, WAIVER_INPUT_KEYS, at);
    const id = expectString(w.id, `${at}.id`).trim();
    if (id === "") throw new SyscageError("BAD_WAIVER", `${at}.id: empty; name a finding, e.g. "danger.ptrace" (syscage audit lists the ids)`);
    const reason = w.reason === undefined ? "" : expectString(w.reason, `${at}.reason`).trim();
    if (reason === "") throw new SyscageError("BAD_WAIVER", `${at}: a waiver needs a reason; add "reason": "why this is acceptable here"`);
    if (w.syscalls === undefined) return { id, reason };
    const syscalls = expectArray(w.syscalls, `${at}.syscalls`).map((n, j) => {
      const name = expectString(n, `${at}.syscalls[${j}]`);
      checkSyscallName(name, `${at}.syscalls[${j}]`);
      return name;
    });
    return { id, reason, syscalls };
  });
  return { waive };
}

/** A {@link RoutesMode}, or an error naming the field. */
export function checkRoutes(m: unknown, where = "routes"): RoutesMode {
  if (typeof m !== "string") throw new SyscageError("BAD_OPTIONS", `${where}: expected one of ${ROUTES_MODES.join(", ")}, got ${typeName(m)}`);
  if ((ROUTES_MODES as readonly string[]).includes(m)) return m as RoutesMode;
  const s = suggest(m, ROUTES_MODES);
  throw new SyscageError("BAD_OPTIONS", `${where}: "${m}" is not one of ${ROUTES_MODES.join(", ")}.${didYouMean(s)}`);
}

function checkArgumentWidth(m: string): ArgumentWidthMode {
  if ((ARGUMENT_WIDTH_MODES as readonly string[]).includes(m)) return m as ArgumentWidthMode;
  throw new SyscageError("BAD_OPTIONS", `argumentWidth: "${m}" is not one of ${ARGUMENT_WIDTH_MODES.join(", ")}`);
}

/** ABIs where a rule's syscall exists (the rule is ignored on the others). */
export function ruleAbis(rule: Rule, policy: Policy): AbiName[] {
  const has = new Set(abisWithSyscall(rule.syscall));
  return policy.abis.filter((a) => has.has(a) && ruleAppliesOn(rule, a));
}

/** Does `rule`'s own ABI list leave out an ABI of `policy` that has its syscall (so the rule covers only part of the calls)? */
export function limitsAbis(rule: Rule, policy: Policy): boolean {
  if (rule.abis === undefined) return false;
  const on = ruleAbis(rule, policy);
  return abisWithSyscall(rule.syscall).some((a) => policy.abis.includes(a) && !on.includes(a));
}
