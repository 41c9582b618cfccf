/**
 * The reference meaning of a Policy: a direct, unoptimised interpreter that
 * says which action a call gets and which rule decided it. The compiler is
 * tested against this, and `explain` reports from it.
 */
import { SECCOMP_RET_ALLOW, SECCOMP_RET_DATA, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_LOG, SECCOMP_RET_TRACE, SECCOMP_RET_TRAP, SECCOMP_RET_USER_NOTIF } from "../bpf/actions.js";
import { argWidth, type ArgWidth } from "../abi/argtypes.js";
import { ABIS, X32_SYSCALL_BIT, type AbiName } from "../abi/arch.js";
import { errnoNumber } from "../abi/errno.js";
import { SUBCALL_ARG_MASK, multiplexedAs, type MultiplexedCall } from "../abi/multiplex.js";
import { syscallName } from "../abi/tables.js";
import { SyscageError } from "../errors.js";
import { ACTION_RANK, ruleAppliesOn, type Action, type Condition, type Policy, type Rule } from "./model.js";
import { withRoutes } from "./routes.js";

/** The inputs a seccomp filter sees that a policy can depend on. */
export interface CallData {
  readonly arch: number;
  /** As in seccomp_data.nr (an int; -1 and 0xffffffff are the same). */
  readonly nr: number;
  readonly args: readonly bigint[];
}

/** What the policy decides for one call, and why. */
export interface Decision {
  readonly action: Action;
  /** The 32-bit value the filter must return. */
  readonly ret: number;
  /** The ABI the call was dispatched to (absent for a bad arch). */
  readonly abi?: AbiName;
  /** The syscall name on that ABI, when the tables know the number. */
  readonly syscall?: string;
  readonly reason: "rule" | "default" | "unknown" | "badArch";
  /**
   * Index of the deciding rule (reason "rule") in `withRoutes(policy).rules`:
   * the policy's own rules keep their indices, and a higher index is a rule
   * that closes a route (policy/routes.ts).
   */
  readonly rule?: number;
  readonly origin: string;
}


/** The 32-bit filter return value for an action on an ABI (errno names resolved per ABI). */
export function actionRet(action: Action, abi: AbiName): number {
  switch (action.kind) {
    case "ALLOW":
      return SECCOMP_RET_ALLOW;
    case "LOG":
      return SECCOMP_RET_LOG;
    case "NOTIFY":
      return SECCOMP_RET_USER_NOTIF;
    case "TRACE":
      return (SECCOMP_RET_TRACE | (action.data & SECCOMP_RET_DATA)) >>> 0;
    case "TRAP":
      return (SECCOMP_RET_TRAP | (action.data & SECCOMP_RET_DATA)) >>> 0;
    case "KILL_THREAD":
      return SECCOMP_RET_KILL_THREAD;
    case "KILL_PROCESS":
      return SECCOMP_RET_KILL_PROCESS;
    case "ERRNO": {
      const n = typeof action.errno === "number" ? action.errno : errnoNumber(abi, action.errno);
      if (n === undefined) throw new SyscageError("BAD_ERRNO", `errno ${action.errno} does not exist on ${abi}`);
      return (SECCOMP_RET_ERRNO | n) >>> 0;
    }
  }
}

/** All-ones mask of the low `bits` bits. */
export function widthMask(bits: ArgWidth): bigint {
  return (1n << BigInt(bits)) - 1n;
}

/**
 * Does `cond` hold for argument register value `arg` when `bits` low bits of
 * it count? `bits` is the register width (32 on 32-bit ABIs, 64 otherwise)
 * or, under `argumentWidth: "kernel"`, the width of the argument's declared C
 * type ({@link conditionWidth}). Only the low `bits` bits of the argument, of
 * the constant and of the mask take part; every operator compares them as
 * unsigned `bits`-bit numbers (docs/semantics.md, "Argument comparisons").
 */
export function conditionHolds(cond: Condition, arg: bigint, bits: ArgWidth): boolean {
  const m = widthMask(bits);
  const a = arg & m;
  const v = cond.value & m;
  switch (cond.op) {
    case "EQ":
      return a === v;
    case "NE":
      return a !== v;
    case "LT":
      return a < v;
    case "LE":
      return a <= v;
    case "GT":
      return a > v;
    case "GE":
      return a >= v;
    case "MASKED_EQ":
      return (a & (cond.mask ?? 0n) & m) === v;
  }
}

/**
 * How many low bits of argument `arg` of `syscall` a condition compares on
 * `abi`: under `argumentWidth: "kernel"` (the default) the width of the
 * declared C type (`int` 32, `umode_t` 16), falling back to the register
 * width when the tables have no type; under "u64" the register width
 * (64, or 32 on 32-bit ABIs).
 */
export function conditionWidth(policy: Pick<Policy, "argumentWidth">, abi: AbiName, syscall: string, arg: number): ArgWidth {
  return policy.argumentWidth === "u64" ? ABIS.get(abi)!.argBits : argWidth(abi, syscall, arg);
}

/**
 * The configured ABI a (arch, nr) pair belongs to, or undefined for a bad
 * arch. x86_64 and x32 share AUDIT_ARCH_X86_64: numbers ≥ 0x40000000 are x32
 * calls. With only x86_64 configured they are bad-arch, except nr = -1 (a
 * tracer's "skip this call"), which stays with x86_64; with only x32
 * configured, numbers below 0x40000000 are bad-arch.
 */
export function abiForCall(policy: Pick<Policy, "abis">, arch: number, nr: number): AbiName | undefined {
  const a = arch >>> 0;
  const cands = policy.abis.filter((n) => ABIS.get(n)!.auditArch === a);
  if (cands.length === 0) return undefined;
  const u = nr >>> 0;
  const has64 = cands.includes("x86_64");
  const hasX32 = cands.includes("x32");
  if (has64 && hasX32) return u >= X32_SYSCALL_BIT ? "x32" : "x86_64";
  if (has64) return u < X32_SYSCALL_BIT || u === 0xffffffff ? "x86_64" : undefined;
  if (hasX32) return u >= X32_SYSCALL_BIT ? "x32" : undefined;
  return cands[0];
}

/** Decide one call exactly as the policy says. */
/** A rule as it applies to one syscall on one ABI (see {@link rulesFor}). */
export interface AppliedRule {
  /** Index into policy.rules. */
  readonly index: number;
  /** The rule as the filter sees it: for a route through a multiplexer, on the multiplexer with an arg0 condition. */
  readonly rule: Rule;
  /** Set when the policy's rule names the sub-call (socket) and this is its route through `via` (socketcall). */
  readonly route?: MultiplexedCall & { readonly name: string };
}

const applied = new WeakMap<readonly Rule[], { length: number; byAbi: Map<AbiName, Map<string, AppliedRule[]>> }>();

/**
 * The rules that apply to calls of `name` on `abi`, in policy order: the
 * policy's rules for `name`, and — when `name` is `socketcall` or `ipc` on an
 * ABI that has it — every rule without conditions on one of its sub-calls
 * (socket, semop, …), as a rule on the multiplexer whose condition is
 * `arg0 & mask == sub-call` (SUBCALL_ARG_MASK: the bits the kernel reads).
 * So a rule on `socket` also covers `socketcall(SYS_SOCKET, …)`, as libseccomp
 * does. A rule with conditions cannot follow: the sub-call's arguments are
 * behind a pointer that no filter can read (docs/semantics.md).
 */
export function rulesFor(given: Policy, abi: AbiName, name: string): readonly AppliedRule[] {
  const policy = withRoutes(given);
  let cache = applied.get(policy.rules);
  if (cache === undefined || cache.length !== policy.rules.length) {
    cache = { length: policy.rules.length, byAbi: new Map() };
    applied.set(policy.rules, cache);
  }
  let byName = cache.byAbi.get(abi);
  if (byName === undefined) {
    byName = new Map();
    policy.rules.forEach((rule, index) => {
      if (!ruleAppliesOn(rule, abi)) return;
      const add = (key: string, a: AppliedRule): void => {
        const list = byName!.get(key);
        if (list === undefined) byName!.set(key, [a]);
        else list.push(a);
      };
      add(rule.syscall, { index, rule });
      const m = rule.conditions.length === 0 ? multiplexedAs(abi, rule.syscall) : undefined;
      if (m === undefined) return;
      const mask = BigInt(SUBCALL_ARG_MASK[m.via]);
      add(m.via, {
        index,
        rule: { ...rule, syscall: m.via, conditions: [{ arg: 0, op: "MASKED_EQ", mask, value: BigInt(m.subcall) }], origin: `${rule.origin} (as ${m.via}(${m.subcall}, …))` },
        route: { ...m, name: rule.syscall },
      });
    });
    for (const list of byName.values()) list.sort((a, b) => a.index - b.index);
    cache.byAbi.set(abi, byName);
  }
  return byName.get(name) ?? [];
}

export function decide(given: Policy, call: CallData): Decision {
  const policy = withRoutes(given);
  const abi = abiForCall(policy, call.arch, call.nr);
  if (abi === undefined) {
    return { action: policy.badArch.action, ret: badArchRet(policy), reason: "badArch", origin: policy.badArch.origin };
  }
  const name = syscallName(abi, call.nr >>> 0);
  if (name === undefined) {
    return { action: policy.unknown.action, ret: actionRet(policy.unknown.action, abi), abi, reason: "unknown", origin: policy.unknown.origin };
  }
  let best: AppliedRule | undefined;
  for (const a of rulesFor(policy, abi, name)) {
    const r = a.rule;
    if (!r.conditions.every((c) => conditionHolds(c, call.args[c.arg] ?? 0n, conditionWidth(policy, abi, name, c.arg)))) continue;
    if (best === undefined || ACTION_RANK[r.action.kind] < ACTION_RANK[best.rule.action.kind]) best = a;
  }
  if (best === undefined) {
    return { action: policy.default.action, ret: actionRet(policy.default.action, abi), abi, syscall: name, reason: "default", origin: policy.default.origin };
  }
  const rule = best.rule;
  return { action: rule.action, ret: actionRet(rule.action, abi), abi, syscall: name, reason: "rule", rule: best.index, origin: rule.origin };
}

/**
 * The bad-arch return value. It cannot depend on an ABI, so an ERRNO given
 * by name is resolved on the first configured ABI.
 */
export function badArchRet(policy: Policy): number {
  return actionRet(policy.badArch.action, policy.abis[0]!);
}
