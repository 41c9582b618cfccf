/**
 * The harmless kernel probes (as in kernel-oracle.test.ts) and the outcome the
 * kernel gives for a filter return value, so that compiled programs can be
 * checked against the real kernel.
 */
import { getAbi, syscallNumber, type AbiName } from "../../src/abi/index.js";
import type { SeccompData } from "../../src/bpf/index.js";
import type { Probe } from "./probe.js";

const M1 = (1n << 64n) - 1n; // -1 as u64
const M1_32 = 0xffffffffn; // -1 as an i386 register

/** Syscalls the probes make (x86_64 names; the x86 ones are a subset). */
export const PROBE_NAMES = ["getpid", "getppid", "dup", "close", "lseek", "reboot", "mkdir", "openat", "getcwd", "uname", "fchdir", "personality", "ioctl", "getrandom"] as const;

/** What the probe child needs after its probe: write its result, exit. */
export const PLUMBING_NAMES = ["write", "exit_group", "exit"] as const;

function n(abi: AbiName, name: string): number {
  const nr = syscallNumber(abi, name);
  if (nr === undefined) throw new Error(`no ${name} on ${abi}`);
  return nr;
}

/** Harmless probes: bad descriptors, NULL pointers, a wrong reboot magic, queries; native, x32 numbers, i386 via int $0x80. */
export function probes(): Probe[] {
  const native = (name: string, ...args: bigint[]): Probe => ({ via: "native", nr: n("x86_64", name), args, label: `x86_64 ${name}` });
  const x32 = (name: string, ...args: bigint[]): Probe => ({ via: "native", nr: n("x32", name), args, label: `x32 ${name}` });
  const i386 = (name: string, ...args: bigint[]): Probe => ({ via: "i386", nr: n("x86", name), args, label: `i386 ${name}` });
  return [
    native("getpid"),
    native("getppid"),
    native("dup", M1),
    native("dup", 0x1_0000_0005n),
    native("dup", 5n),
    native("close", M1),
    native("lseek", M1, 0n, 0n),
    native("reboot", 0n, 0n, 0n, 0n),
    native("mkdir", 0n, 0o755n),
    native("openat", M1 - 99n, 0n, 0n, 0n),
    native("getcwd", 0n, 0n),
    native("uname", 0n),
    native("fchdir", M1),
    native("personality", 0xffffffffn),
    native("ioctl", M1, 0x5401n, 0n),
    native("getrandom", 0n, 0n, 0n),
    x32("getpid"),
    x32("dup", M1),
    x32("close", 5n),
    i386("getpid"),
    i386("dup", M1_32),
    i386("close", M1_32),
    i386("mkdir", 0n, 0o755n),
    i386("reboot", 0n, 0n, 0n, 0n),
    i386("fchdir", M1_32),
  ];
}

export function abiOfProbe(p: Probe): "x86_64" | "x32" | "x86" {
  if (p.via === "i386") return "x86";
  return (p.nr & 0x40000000) !== 0 ? "x32" : "x86_64";
}

/** The seccomp_data the kernel builds for a probe. */
export function probeData(p: Probe): SeccompData {
  const args = [...p.args];
  while (args.length < 6) args.push(0n);
  return { nr: p.nr, arch: getAbi(abiOfProbe(p)).auditArch, instructionPointer: 0n, args };
}

/**
 * The kernel outcome of a filter return value, given the unfiltered outcome.
 * NOTIFY without a listener and TRACE without a tracer fail with ENOSYS;
 * ERRNO data is capped at MAX_ERRNO; KILL_*, TRAP and unknown actions end
 * the single-threaded child with SIGSYS.
 */
export function predict(ret: number, baseline: string): string {
  const action = (ret & 0xffff0000) >>> 0;
  const data = ret & 0xffff;
  switch (action) {
    case 0x7fff0000: // ALLOW
    case 0x7ffc0000: // LOG
      return baseline;
    case 0x00050000:
      return data === 0 ? "ok" : `err ${Math.min(data, 4095)}`;
    case 0x7ff00000: // TRACE, no tracer
    case 0x7fc00000: // USER_NOTIF, no listener
      return "err 38";
    default:
      return "signal 31";
  }
}
