/**
 * A Policy as syscage's own JSON format (docs/policy-format.md), the inverse
 * of `parsePolicyJson`: consecutive rules with the same action, conditions
 * and origin share one `syscalls` entry, the origin becomes the `comment`,
 * and 64-bit values are written as exact JSON integers.
 */
import { formatPolicyAction, type Condition, type Policy, type Rule } from "../policy/model.js";
import { isClosingRule } from "../policy/routes.js";
import { toJson } from "./json.js";

interface JsonRule {
  syscall?: string;
  syscalls?: string[];
  action?: string;
  args?: { index: number; op: string; value: bigint; mask?: bigint }[];
  abis?: string[];
  comment?: string;
}

const condKey = (cs: readonly Condition[]): string => cs.map((c) => `${c.arg}:${c.op}:${c.value}:${c.mask ?? ""}`).join("&");

function sameEntry(a: Rule, b: Rule): boolean {
  return formatPolicyAction(a.action) === formatPolicyAction(b.action) && a.origin === b.origin && condKey(a.conditions) === condKey(b.conditions) && (a.abis ?? []).join() === (b.abis ?? []).join();
}

/**
 * The policy file text for `policy` (ending with a newline). `comment` goes
 * into the top-level `comment` field. The file reads back to the same
 * decisions with `readPolicyFile` (rule origins become `FILE rule #N (comment)`).
 */
export function formatPolicyJson(policy: Policy, comment?: string): string {
  const groups: { names: string[]; rule: Rule }[] = [];
  // A source's route rules (Policy.routeRules) are in force while routes are closed: written as rules then.
  const routed = policy.routes === "open" || policy.rules.some(isClosingRule) ? [] : (policy.routeRules ?? []);
  for (const r of [...policy.rules, ...routed]) {
    const prev = groups[groups.length - 1];
    if (prev !== undefined && sameEntry(prev.rule, r)) prev.names.push(r.syscall);
    else groups.push({ names: [r.syscall], rule: r });
  }
  const rules: JsonRule[] = groups.map(({ names, rule: r }) => {
    const entry: JsonRule = names.length === 1 ? { syscall: names[0]! } : { syscalls: names };
    entry.action = formatPolicyAction(r.action);
    if (r.conditions.length > 0) {
      entry.args = r.conditions.map((c) => (c.mask !== undefined ? { index: c.arg, op: c.op, mask: c.mask, value: c.value } : { index: c.arg, op: c.op, value: c.value }));
    }
    if (r.abis !== undefined) entry.abis = [...r.abis];
    if (r.origin !== "") entry.comment = r.origin;
    return entry;
  });
  const doc: Record<string, unknown> = {
    ...(comment !== undefined ? { comment } : {}),
    default: formatPolicyAction(policy.default.action),
    unknown: formatPolicyAction(policy.unknown.action),
    badArch: formatPolicyAction(policy.badArch.action),
    abis: [...policy.abis],
    ...(policy.flags.length > 0 ? { flags: [...policy.flags] } : {}),
    // "kernel" is the format's default; "u64" must survive the round trip.
    ...(policy.argumentWidth === "u64" ? { argumentWidth: "u64" } : {}),
    // "closed" is the default; "open" must survive the round trip.
    ...(policy.routes === "open" ? { routes: "open" } : {}),
    ...(policy.network === false ? { network: false } : {}),
    rules,
  };
  return toJson(doc) + "\n";
}
