/**
 * Closed routes: a denied call stays denied by every way to make it.
 *
 * Besides socketcall/ipc (evaluate.ts rulesFor), two kinds of route reach a
 * syscall's effect without the filter seeing the syscall:
 *
 * - io_uring: a ring performs opcodes (abi/io-uring.ts) that have the effect
 *   of socket(), connect(), mkdirat()…; seccomp only sees io_uring_setup,
 *   io_uring_enter and io_uring_register. When the policy denies, or restricts
 *   by argument, any syscall an opcode performs, those three get
 *   ERRNO(EPERM): libuv (so Node) and liburing users fall back to plain
 *   syscalls on an error, where the filter decides.
 * - struct-hidden arguments (HIDDEN_ARGUMENT_ROUTES): clone3 takes clone's
 *   flags in a struct, openat2 takes openat's in a struct; no filter can read
 *   them. When the policy restricts clone (or openat/open) by argument, clone3
 *   (openat2) gets ERRNO(ENOSYS), so libc falls back to the call whose
 *   arguments the filter checks (as Docker's default profile does). A clone
 *   denied outright leaves clone3 as the policy says.
 *
 * The closing rules are ordinary rules appended to the policy, with origins
 * that name the rule that caused them; every consumer (the compiler, decide,
 * explain, diff, prove, stats, report, the exports) reads the policy through
 * {@link withRoutes}. `routes: "open"` keeps the bit-exact decisions of real
 * nspawn and runc, routes and all.
 */
import { IO_URING_OPS, IO_URING_SYSCALLS, type IoUringOp } from "../abi/io-uring.js";
import { syscallNumber } from "../abi/tables.js";
import { assertPolicy } from "./check.js";
import { formatPolicyAction, type Action, type Policy, type Rule } from "./model.js";

export { ROUTES_MODES, type RoutesMode } from "./model.js";

/** A call whose arguments live in memory, and the calls whose register arguments it would let a program get around. */
export interface HiddenArgumentRoute {
  readonly call: string;
  /** Restricting any of these closes `call`. */
  readonly hides: readonly string[];
  /** What is hidden, for explanations. */
  readonly what: string;
}

export const HIDDEN_ARGUMENT_ROUTES: readonly HiddenArgumentRoute[] = Object.freeze([
  { call: "clone3", hides: ["clone"], what: "clone's flags (struct clone_args)" },
  { call: "openat2", hides: ["openat", "open"], what: "openat's flags and mode (struct open_how)" },
]);

/** The action of a closed io_uring: an error that makes libuv and liburing fall back. */
export const IO_URING_CLOSED: Action = Object.freeze({ kind: "ERRNO", errno: "EPERM" });
/** The action of a closed struct-hidden call: "not implemented", so libc falls back to the checked call. */
export const HIDDEN_CLOSED: Action = Object.freeze({ kind: "ERRNO", errno: "ENOSYS" });

const permissive = (a: Action): boolean => a.kind === "ALLOW" || a.kind === "LOG";

/** How the policy treats every call of one syscall on one ABI, judged from its rules alone. */
export type Openness =
  | { readonly state: "open" }
  | { readonly state: "denied" }
  /** Denied or restricted for some arguments; `by` says by what. */
  | { readonly state: "restricted"; readonly by: string };

function openness(policy: Policy, rules: readonly Rule[], name: string): Openness {
  const mine = rules.filter((r) => r.syscall === name);
  if (mine.length === 0) {
    return permissive(policy.default.action) ? { state: "open" } : { state: "denied" };
  }
  const strict = mine.find((r) => !permissive(r.action));
  const unconditionalStrict = mine.find((r) => !permissive(r.action) && r.conditions.length === 0);
  if (unconditionalStrict !== undefined) return { state: "denied" };
  const unconditionalAllow = mine.some((r) => permissive(r.action) && r.conditions.length === 0);
  if (strict !== undefined) return { state: "restricted", by: `${formatPolicyAction(strict.action)} by argument (${strict.origin})` };
  if (unconditionalAllow || permissive(policy.default.action)) return { state: "open" };
  const cond = mine[0]!;
  return { state: "restricted", by: `allowed only by argument (${cond.origin}); otherwise ${formatPolicyAction(policy.default.action)}` };
}

/** How `policy`'s own rules (closing rules aside) treat every call of `name`. */
export function callOpenness(policy: Policy, name: string): Openness {
  return openness(policy, policy.rules.filter((r) => !closing.has(r)), name);
}

/** Why `name` is not open under the policy, in words, or null when it is open on every covered ABI that has it. */
function notOpenReason(policy: Policy, rules: readonly Rule[], name: string): string | null {
  if (!policy.abis.some((abi) => syscallNumber(abi, name) !== undefined)) return null;
  const o = openness(policy, rules, name);
  if (o.state === "open") return null;
  if (o.state === "restricted") return `${name} is ${o.by}`;
  const rule = rules.find((r) => r.syscall === name && !permissive(r.action) && r.conditions.length === 0);
  return rule !== undefined
    ? `${name} is ${formatPolicyAction(rule.action)} (${rule.origin})`
    : `${name} gets the default ${formatPolicyAction(policy.default.action)} (${policy.default.origin})`;
}

/** AF_UNIX; socketcall's SYS_SOCKET and SYS_SOCKETPAIR (include/uapi/linux/net.h). */
const AF_UNIX = 1n;
const SYS_SOCKET = 1n;
const SYS_SOCKETPAIR = 8n;
export const NO_NETWORK_ORIGIN = "network: false (--deny-network): no socket of any family but AF_UNIX";

/**
 * The rules of `network: false`: socket() and socketpair() of any family but
 * AF_UNIX get EPERM (the family is an `int`: 32 bits, so high bits cannot
 * slip past); socketcall's SYS_SOCKET and SYS_SOCKETPAIR, whose family sits
 * behind a pointer, get EPERM for every family (stricter: an i386 program
 * that makes AF_UNIX sockets through socketcall loses them; glibc uses the
 * direct calls since Linux 4.3). io_uring closes because socket is restricted
 * (or explicitly, with routes open).
 */
function noNetworkRules(policy: Policy): Rule[] {
  const deny = { kind: "ERRNO", errno: "EPERM" } as const;
  const out: Rule[] = [];
  // The family is an int: under the kernel width the low 32 bits are compared; under "u64" a
  // register with high bits set is not AF_UNIX either (denied: stricter than the kernel's reading).
  for (const call of ["socket", "socketpair"]) {
    out.push(markClosing({ syscall: call, action: deny, conditions: [{ arg: 0, op: "NE", value: AF_UNIX }], origin: `${NO_NETWORK_ORIGIN} (${call})` }));
  }
  for (const sub of [SYS_SOCKET, SYS_SOCKETPAIR]) {
    out.push(markClosing({ syscall: "socketcall", action: deny, conditions: [{ arg: 0, op: "MASKED_EQ", mask: 0xffff_ffffn, value: sub }], origin: `${NO_NETWORK_ORIGIN} (socketcall hides the family behind a pointer: every ${sub === SYS_SOCKET ? "SYS_SOCKET" : "SYS_SOCKETPAIR"} is denied)` }));
  }
  if (policy.routes === "open") {
    for (const s of IO_URING_SYSCALLS) out.push(markClosing({ syscall: s, action: IO_URING_CLOSED, conditions: [], origin: `${NO_NETWORK_ORIGIN} (IORING_OP_SOCKET would get around it)` }));
  }
  return out;
}

/** The closing rules a policy needs, computed from its own rules (never from closing rules). */
function closingRules(policy: Policy, rules: readonly Rule[]): Rule[] {
  const out: Rule[] = [];
  const stillOpen = (name: string): boolean => {
    if (!policy.abis.some((abi) => syscallNumber(abi, name) !== undefined)) return false;
    return openness(policy, rules, name).state !== "denied";
  };
  // io_uring: the first opcode (in opcode order) that performs a call the policy does not leave open.
  const ringCalls = IO_URING_SYSCALLS.filter(stillOpen);
  if (ringCalls.length > 0) {
    let found: { op: IoUringOp; why: string } | undefined;
    for (const op of IO_URING_OPS) {
      for (const s of op.syscalls) {
        const why = notOpenReason(policy, rules, s);
        if (why !== null) {
          found = { op, why };
          break;
        }
      }
      if (found !== undefined) break;
    }
    if (found !== undefined) {
      const origin = `closed route: ${found.why}, and IORING_OP_${found.op.name} (Linux ${found.op.since}) would perform it; io_uring gets an error so programs fall back to plain syscalls (--routes=open keeps io_uring)`;
      for (const s of ringCalls) out.push(markClosing({ syscall: s, action: IO_URING_CLOSED, conditions: [], origin }));
    }
  }
  // Only a restriction by argument: where the policy denies clone outright but allows clone3 (a
  // recorded policy of a threaded program), clone3 is what the policy means, and ENOSYS would send
  // libc to the denied clone.
  for (const route of HIDDEN_ARGUMENT_ROUTES) {
    if (!stillOpen(route.call)) continue;
    for (const h of route.hides) {
      if (!policy.abis.some((abi) => syscallNumber(abi, h) !== undefined) || openness(policy, rules, h).state !== "restricted") continue;
      const why = notOpenReason(policy, rules, h);
      if (why === null) continue;
      const origin = `closed route: ${why}, and ${route.call} hides ${route.what} from the filter; ${route.call} gets ENOSYS so libc falls back to ${route.hides[0]} (--routes=open keeps ${route.call})`;
      out.push(markClosing({ syscall: route.call, action: HIDDEN_CLOSED, conditions: [], origin }));
      break;
    }
  }
  return out;
}

const closing = new WeakSet<Rule>();
const effective = new WeakSet<Policy>();
const memo = new WeakMap<Policy, Policy>();

function markClosing(rule: Rule): Rule {
  const r = Object.freeze(rule);
  closing.add(r);
  return r;
}

/** Is this rule one that {@link withRoutes} added? */
export function isClosingRule(rule: Rule): boolean {
  return closing.has(rule);
}

/**
 * The policy as it is enforced: with `routes` "closed" (the default), its
 * rules plus the rules that close io_uring and the struct-hidden calls where
 * the policy needs it (appended, so every rule keeps its index). Idempotent
 * and cached; with `routes: "open"` the policy itself.
 */
export function withRoutes(policy: Policy): Policy {
  if (effective.has(policy)) return policy;
  const known = memo.get(policy);
  if (known !== undefined) return known;
  assertPolicy(policy);
  // The policy's own rules, then those of network: false (they restrict socket, so io_uring closes), then the closing rules.
  // A source's own route rules (Policy.routeRules) count as closing rules: in force only while routes are closed.
  const sourceRoutes = policy.routes === "open" ? [] : (policy.routeRules ?? []).map((r) => (closing.has(r) ? r : markClosing({ ...r })));
  const own = [...policy.rules.filter((r) => !closing.has(r)), ...(policy.network === false ? noNetworkRules(policy) : []), ...sourceRoutes];
  const rules = policy.routes === "open" ? own : [...own, ...closingRules(policy, own)];
  const unchanged = rules.length === policy.rules.length && rules.every((r, i) => r === policy.rules[i]);
  const result = unchanged ? policy : { ...policy, rules };
  effective.add(result);
  memo.set(policy, result);
  return result;
}
