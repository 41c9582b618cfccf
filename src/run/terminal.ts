/**
 * The terminal guard of `syscage run` and `spawn()`: a sandboxed program that
 * shares its caller's terminal must not push input into it (TIOCSTI) or drive
 * the console (TIOCLINUX). Two layers:
 *
 * - rules: ioctl(fd, TIOCSTI) and ioctl(fd, TIOCLINUX) get ERRNO(EPERM) on
 *   every ABI of the policy (the command is an `unsigned int`, so the rule
 *   masks it to 32 bits: high bits in the register cannot slip past it);
 * - a new session (the helper calls setsid) when none of the child's stdin,
 *   stdout and stderr is a terminal: it then has no controlling terminal at
 *   all, and the kernel refuses TIOCSTI on a terminal that is not one's own.
 *   With a terminal the child keeps the caller's session, so a shell, job
 *   control, Ctrl-C and full-screen programs work as before.
 *
 * Both are part of the closed routes: with `routes: "open"` the policy is
 * applied as written and the child keeps the caller's session.
 */
import { terminalIoctls } from "../abi/terminal.js";
import { errno, type Policy, type Rule } from "../policy/model.js";
import { callOpenness } from "../policy/routes.js";

/** The origin of the guard's rules, for explanations and `--dry-run`. */
export const TERMINAL_GUARD_ORIGIN = "syscage run terminal guard: TIOCSTI/TIOCLINUX would push input into the caller's terminal (--routes=open drops the guard)";

/** The rules that deny TIOCSTI and TIOCLINUX on the policy's ABIs (none with routes "open", or where ioctl is denied anyway). */
export function terminalGuardRules(policy: Policy): Rule[] {
  if (policy.routes === "open" || callOpenness(policy, "ioctl").state === "denied") return [];
  const values = new Set<number>();
  for (const abi of policy.abis) {
    const t = terminalIoctls(abi);
    values.add(t.TIOCSTI);
    values.add(t.TIOCLINUX);
  }
  return [...values].map((value) => ({
    syscall: "ioctl",
    action: errno("EPERM"),
    conditions: [{ arg: 1, op: "MASKED_EQ", mask: 0xffff_ffffn, value: BigInt(value) }],
    origin: TERMINAL_GUARD_ORIGIN,
  }));
}

/** `policy` with the terminal guard's rules appended. */
export function guardTerminal(policy: Policy): Policy {
  const rules = terminalGuardRules(policy);
  return rules.length === 0 ? policy : { ...policy, rules: [...policy.rules, ...rules] };
}
