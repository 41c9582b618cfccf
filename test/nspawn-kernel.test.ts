/**
 * The seed system on the real kernel: programs compiled from systemd inputs,
 * loaded by the C probe helper (no_new_privs + seccomp, as root keeping every
 * capability, so only the filter decides).
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { syscallNumber, type AbiName } from "../src/abi/index.js";
import { encodeProgram } from "../src/bpf/index.js";
import { compile } from "../src/compile/index.js";
import { nspawnPolicy } from "../src/policy/nspawn.js";
import { unitPolicy } from "../src/policy/systemd-unit.js";
import type { Policy } from "../src/policy/model.js";
import { needOracle } from "./helpers/oracles.js";
import { runProbes, type Probe } from "./helpers/probe.js";
import { withoutI386 } from "./helpers/host.js";

const ABIS: AbiName[] = ["x86_64", "x86", "x32"];
const EACCES = 13;
const EPERM = 1;
const EINVAL = 22;
const EFAULT = 14;

function nr(abi: AbiName, name: string): number {
  const n = syscallNumber(abi, name);
  assert.notEqual(n, undefined, `${name} on ${abi}`);
  return n!;
}

const run = (policy: Policy, probes: Probe[]) => runProbes(encodeProgram(compile(policy).insns, "little"), probes);
/** The probes this kernel can make (i386 ones only where int $0x80 runs), with the notice. */
const can = (t: TestContext, probes: Probe[]): Probe[] => withoutI386(t, probes, (p) => p.via === "i386");

// reboot(0, 0, 0, 0): the magic numbers are wrong, so an allowed call fails with EINVAL and never reboots.
const reboot: Probe[] = [
  { via: "native", nr: nr("x86_64", "reboot"), args: [0n, 0n, 0n, 0n], label: "x86_64 reboot" },
  { via: "i386", nr: nr("x86", "reboot"), args: [0n, 0n, 0n, 0n], label: "i386 reboot" },
];
// mkdir(NULL, 0755): an allowed call fails with EFAULT and creates nothing.
const mkdir: Probe[] = [
  { via: "native", nr: nr("x86_64", "mkdir"), args: [0n, 0o755n], label: "x86_64 mkdir" },
  { via: "i386", nr: nr("x86", "mkdir"), args: [0n, 0o755n], label: "i386 mkdir" },
];

/** Every probe of `probes` this kernel can make ends as `outcome`. */
function expectAll(t: TestContext, policy: Policy | null, probes: Probe[], outcome: string): void {
  const ps = can(t, probes);
  const got = policy === null ? runProbes(null, ps) : run(policy, ps);
  assert.deepEqual(got, ps.map(() => outcome), ps.map((p) => p.label).join(", "));
}

test("without a filter the probes fail on their own (EINVAL, EFAULT)", (t) => {
  if (!needOracle(t, "cc", "seccomp-kernel")) return;
  expectAll(t, null, reboot, `err ${EINVAL}`);
  expectAll(t, null, mkdir, `err ${EFAULT}`);
});

test("nspawn default: reboot with a wrong magic gives EINVAL with CAP_SYS_BOOT kept, EPERM when dropped", (t) => {
  if (!needOracle(t, "cc", "seccomp-kernel")) return;
  expectAll(t, nspawnPolicy({ abis: ABIS }), reboot, `err ${EINVAL}`);
  expectAll(t, nspawnPolicy({ abis: ABIS, dropCapability: ["CAP_SYS_BOOT"] }), reboot, `err ${EPERM}`);
});

test("-p SystemCallFilter=~mkdir:EACCES makes mkdir fail with EACCES", (t) => {
  if (!needOracle(t, "cc", "seccomp-kernel")) return;
  const policy = unitPolicy([{ key: "SystemCallFilter", value: "~mkdir:EACCES", where: "-p" }], { abis: ABIS });
  expectAll(t, policy, mkdir, `err ${EACCES}`);
  // The rest of the deny-list unit stays allowed: reboot reaches the kernel's own magic check.
  expectAll(t, policy, reboot, `err ${EINVAL}`);
});
