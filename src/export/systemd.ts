/**
 * Policy → systemd unit lines: `SystemCallFilter=`, `SystemCallErrorNumber=`,
 * `SystemCallArchitectures=`, when the policy can be said that way
 * (docs/profiles.md).
 */
import { getAbi } from "../abi/arch.js";
import { actionRet } from "../policy/evaluate.js";
import { formatPolicyAction, type Action, type Policy } from "../policy/model.js";
import { cannot, ruleLabel } from "./unsupported.js";

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
export function policyToSystemd(p: Policy): { text: string; warnings: string[] } {
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
