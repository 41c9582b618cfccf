/**
 * What an installed systemd-nspawn (an older release, e.g. Debian 12's v252,
 * linked with libseccomp 2.5.4) should install, as a `prove` reference: the
 * nspawn Policy built from the given release's group data and allow-list
 * table (test/helpers/nspawn.ts reconstructs them), adjusted per ABI for
 * what that libseccomp can express — the same facts the conformance test
 * (test/nspawn-conformance.test.ts) accepts as differences:
 *
 * - a name libseccomp does not know on an ABI gets no rule there, so the
 *   filter's default ERRNO(ENOSYS) applies;
 * - libseccomp rejects the audit rule's argument conditions on x86 (socket
 *   is multiplexed through socketcall), so nspawn installs no x86 audit
 *   filter: x86 socket() is decided by the allow list alone;
 * - libseccomp compares arguments on x32 at 32 bits, on x86_64 at 64 bits
 *   (nspawn's audit rule is `arg0 == AF_NETLINK && arg2 == NETLINK_AUDIT`);
 * - bad arch: each real filter lets other arches' calls pass (BADARCH =
 *   ALLOW), so the reference's bad-arch action is ALLOW.
 */
import { getAbi, type AbiName } from "../../src/abi/arch.js";
import { CAP_LAST_CAP, capabilityNumber } from "../../src/abi/capabilities.js";
import { abisWithSyscall, syscallName } from "../../src/abi/tables.js";
import { policyReference, type ProveReference } from "../../src/analyze/prove.js";
import { abiForCall, type Decision } from "../../src/policy/evaluate.js";
import { definePolicy, type Policy, type RuleInput } from "../../src/policy/model.js";
import { nspawnNameSets, type LibseccompFacts, type NspawnData, type NspawnRunOptions } from "./nspawn.js";

const U32 = 0xffffffffn;

/**
 * The nspawn Policy of one release's data (`data`) for `opts` over `abis`:
 * audit rule first (64-bit EQ, as nspawn writes it), allowed names → ALLOW,
 * the rest of `@known` → ERRNO(EPERM), default and unknown → ERRNO(ENOSYS),
 * bad arch → ALLOW. Names that none of `abis` has are left out.
 */
export function nspawnDataPolicy(data: NspawnData, opts: NspawnRunOptions, abis: readonly AbiName[]): Policy {
  const sets = nspawnNameSets(data, opts, (n) => capabilityNumber(n), CAP_LAST_CAP);
  const onAbis = (name: string): boolean => abisWithSyscall(name).some((a) => abis.includes(a));
  const rules: RuleInput[] = [
    {
      syscall: "socket",
      action: "ERRNO(97)",
      conditions: [
        { arg: 0, op: "EQ", value: 16n },
        { arg: 2, op: "EQ", value: 9n },
      ],
      origin: "nspawn audit filter: socket(AF_NETLINK, *, NETLINK_AUDIT)",
    },
  ];
  for (const n of sets.allowed) if (onAbis(n)) rules.push({ syscall: n, action: "ALLOW", origin: "allowed by the installed nspawn's table and groups" });
  for (const n of sets.eperm) if (onAbis(n)) rules.push({ syscall: n, action: "ERRNO(1)", origin: "in the installed systemd's @known, not allowed" });
  return definePolicy({ abis, rules, default: "ERRNO(38)", unknown: "ERRNO(38)", badArch: "ALLOW", argumentWidth: "u64", origin: "installed nspawn" });
}

/** The {@link nspawnDataPolicy} as libseccomp `facts` let the installed nspawn install it (see the module doc). */
export function installedNspawnReference(policy: Policy, facts: LibseccompFacts): ProveReference {
  const base = policyReference(policy);
  const knows = (abi: AbiName, name: string): boolean => (facts.numbers.get(abi)?.get(name) ?? -1) >= 0;
  const auditOn = (abi: AbiName): boolean => facts.auditRuleAccepted.get(abi) === true;
  const enosys: Decision["action"] = { kind: "ERRNO", errno: 38 };
  return {
    abis: policy.abis,
    conditions(abi, name) {
      if (!knows(abi, name) || (name === "socket" && !auditOn(abi))) return [];
      return base.conditions(abi, name).map((c) => (getAbi(abi).name === "x32" ? { ...c, bits: 32 } : c));
    },
    decide(call) {
      const abi = abiForCall(policy, call.arch, call.nr);
      const name = abi !== undefined ? syscallName(abi, call.nr >>> 0) : undefined;
      if (abi === undefined || name === undefined) return base.decide(call);
      if (!knows(abi, name)) {
        return { action: enosys, ret: 0x50026, abi, syscall: name, reason: "default", origin: `libseccomp does not know ${name} on ${abi}: nspawn adds no rule (ENOSYS)` };
      }
      if (name === "socket" && !auditOn(abi)) return base.decide({ ...call, args: [] });
      if (abi === "x32") return base.decide({ ...call, args: call.args.map((a) => a & U32) });
      return base.decide(call);
    },
  };
}
