/** The one way an export refuses a policy: an error naming the format, the part it cannot say, and why. */
import { SyscageError } from "../errors.js";
import { formatPolicyAction, type Rule } from "../policy/model.js";

/** @throws SyscageError EXPORT_UNSUPPORTED: `format` cannot say `what`, because `why`. */
export function cannot(format: string, what: string, why: string): never {
  throw new SyscageError("EXPORT_UNSUPPORTED", `cannot export to ${format}: ${what}: ${why}`);
}

/** A rule as messages name it: `rule #N (syscall → action, from origin)`, `i` its index in the policy. */
export function ruleLabel(r: Rule, i: number): string {
  return `rule #${i + 1} (${r.syscall} → ${formatPolicyAction(r.action)}, from ${r.origin})`;
}
