/**
 * The seed system on the real kernel: programs compiled from systemd inputs,
 * loaded by the C probe helper (no_new_privs + seccomp, as root keeping every
 * capability, so only the filter decides).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { syscallNumber, type AbiName } from "../src/abi/index.js";
import { encodeProgram } from "../src/bpf/index.js";
import { compile } from "../src/compile/index.js";
import { nspawnPolicy } from "../src/policy/nspawn.js";
import { unitPolicy } from "../src/policy/systemd-unit.js";
import type { Policy } from "../src/policy/model.js";
import { needOracle } from "./helpers/oracles.js";
import { runProbes, type Probe } from "./helpers/probe.js";

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

test("without a filter the probes fail on their own (EINVAL, EFAULT)", (t) => {
  if (!needOracle(t, "cc", "seccomp-kernel")) return;
  assert.deepEqual(runProbes(null, [...reboot, ...mkdir]), [`err ${EINVAL}`, `err ${EINVAL}`, `err ${EFAULT}`, `err ${EFAULT}`]);
});

test("nspawn default: reboot with a wrong magic gives EINVAL with CAP_SYS_BOOT kept, EPERM when dropped", (t) => {
  if (!needOracle(t, "cc", "seccomp-kernel")) return;
  assert.deepEqual(run(nspawnPolicy({ abis: ABIS }), reboot), [`err ${EINVAL}`, `err ${EINVAL}`]);
  assert.deepEqual(run(nspawnPolicy({ abis: ABIS, dropCapability: ["CAP_SYS_BOOT"] }), reboot), [`err ${EPERM}`, `err ${EPERM}`]);
});

test("-p SystemCallFilter=~mkdir:EACCES makes mkdir fail with EACCES", (t) => {
  if (!needOracle(t, "cc", "seccomp-kernel")) return;
  const policy = unitPolicy([{ key: "SystemCallFilter", value: "~mkdir:EACCES", where: "-p" }], { abis: ABIS });
  assert.deepEqual(run(policy, mkdir), [`err ${EACCES}`, `err ${EACCES}`]);
  // The rest of the deny-list unit stays allowed: reboot reaches the kernel's own magic check.
  assert.deepEqual(run(policy, reboot), [`err ${EINVAL}`, `err ${EINVAL}`]);
});
