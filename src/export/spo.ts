/**
 * Policy → a Security Profiles Operator `SeccompProfile` (v1) document
 * (docs/profiles.md): the OCI form (oci.ts) within the CRD's limits.
 */
import { syscallTable } from "../abi/tables.js";
import { actionRet } from "../policy/evaluate.js";
import { ACTION_RANK, formatPolicyAction, type Policy } from "../policy/model.js";
import { policyToOci } from "./oci.js";
import { cannot, ruleLabel } from "./unsupported.js";

const EPERM = 1;

/** The architectures the SPO v1 CRD accepts (no LOONGARCH64, M68K, SH, SHEB). */
export const SPO_ARCHES: readonly string[] = [
  "SCMP_ARCH_NATIVE", "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
  "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32",
  "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC",
  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",
];

const SPO_LISTENER = /^\/var\/run\/security-profiles-operator\/[a-zA-Z0-9_\-.]+$/;
const INT64_MAX = (1n << 63n) - 1n;

/**
 * The SPO form of a policy. SPO has no `defaultErrnoRet` (the default ERRNO
 * means EPERM), so a default ERRNO(n ≠ EPERM) is written as explicit
 * ERRNO(n) rules for every syscall of the policy's ABIs that no
 * unconditional rule decides; syscalls unknown to the tables then get
 * EPERM from libseccomp (runc's stub gives ENOSYS above the highest named
 * syscall), and ENOSYS again when imported by syscage.
 */
export function policyToSpo(p: Policy, opts: { readonly name?: string } = {}): { doc: unknown; warnings: string[] } {
  const { seccomp, warnings, decided } = policyToOci(p, "spo");
  for (const a of seccomp.architectures ?? []) {
    if (!SPO_ARCHES.includes(a)) cannot("spo", `architecture ${a}`, `the SeccompProfile CRD accepts only ${SPO_ARCHES.join(", ")}`);
  }
  if (seccomp.listenerPath !== undefined && !SPO_LISTENER.test(seccomp.listenerPath)) {
    cannot("spo", `listenerPath ${seccomp.listenerPath}`, "SPO requires a path matching ^/var/run/security-profiles-operator/[a-zA-Z0-9_-.]+$");
  }
  const syscalls = [...seccomp.syscalls];
  let defaultAction = seccomp.defaultAction;
  if (seccomp.defaultErrnoRet !== undefined && seccomp.defaultErrnoRet !== EPERM) {
    if (seccomp.defaultAction === "SCMP_ACT_TRACE") cannot("spo", `default action ${formatPolicyAction(p.default.action)}`, "SPO has no defaultErrnoRet, so the default TRACE data is always EPERM (1)");
    // What the OCI document decides, not the policy: it leaves out rules the default already says (and those they make dead).
    const unconditional = decided;
    const written = new Set(seccomp.syscalls.flatMap((s) => s.names));
    const conditional = p.rules.filter((r) => r.conditions.length > 0 && written.has(r.syscall) && !unconditional.has(r.syscall));
    for (const r of conditional) {
      if (r.action.kind === "ERRNO" && actionRet(r.action, p.abis[0]!) === actionRet({ kind: "ERRNO", errno: EPERM }, p.abis[0]!)) {
        cannot(
          "spo",
          ruleLabel(r, p.rules.indexOf(r)),
          `SPO has no defaultErrnoRet, so its default ERRNO means EPERM and runtimes skip EPERM rules as equal to it; this conditional EPERM rule would then lose to the rule that stands for the default ERRNO(${seccomp.defaultErrnoRet})`,
        );
      }
      if (ACTION_RANK[r.action.kind] > ACTION_RANK.ERRNO) {
        cannot(
          "spo",
          ruleLabel(r, p.rules.indexOf(r)),
          `SPO has no defaultErrnoRet: the default ERRNO(${seccomp.defaultErrnoRet}) would have to become a rule for ${r.syscall}, and that rule would override this less restrictive conditional rule`,
        );
      }
    }
    const names = new Set<string>();
    for (const abi of p.abis) for (const e of syscallTable(abi)) if (!unconditional.has(e.name)) names.add(e.name);
    syscalls.push({ names: [...names].sort(), action: "SCMP_ACT_ERRNO", errnoRet: seccomp.defaultErrnoRet });
    warnings.push(
      `SPO has no defaultErrnoRet: the default ERRNO(${seccomp.defaultErrnoRet}) is written as a rule for the ${names.size} syscalls no unconditional rule decides; numbers unknown to the tables get EPERM from libseccomp (runc: ENOSYS above the highest named syscall)`,
    );
    defaultAction = "SCMP_ACT_ERRNO";
  }
  for (const s of syscalls) {
    for (const a of s.args ?? []) {
      if (a.value > INT64_MAX || (a.valueTwo ?? 0n) > INT64_MAX) {
        cannot("spo", `the rule for ${s.names.join(", ")} (${s.comment ?? s.action})`, `argument ${a.index} value ${(a.value > INT64_MAX ? a.value : a.valueTwo)!.toString()} is above 2^63-1, and SPO's values are int64`);
      }
    }
  }
  const spec = {
    defaultAction,
    ...(seccomp.architectures !== undefined ? { architectures: seccomp.architectures } : {}),
    ...(seccomp.flags !== undefined ? { flags: seccomp.flags } : {}),
    ...(seccomp.listenerPath !== undefined ? { listenerPath: seccomp.listenerPath } : {}),
    ...(seccomp.listenerMetadata !== undefined ? { listenerMetadata: seccomp.listenerMetadata } : {}),
    syscalls: syscalls.map((s) => ({
      action: s.action,
      names: s.names,
      ...(s.errnoRet !== undefined ? { errnoRet: s.errnoRet } : {}),
      ...(s.args !== undefined ? { args: s.args.map((a) => ({ index: a.index, value: a.value, ...(a.valueTwo !== undefined ? { valueTwo: a.valueTwo } : {}), op: a.op })) } : {}),
    })),
  };
  return {
    doc: { apiVersion: "security-profiles-operator.x-k8s.io/v1", kind: "SeccompProfile", metadata: { name: opts.name ?? "syscage-profile" }, spec },
    warnings,
  };
}

