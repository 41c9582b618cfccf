/**
 * Linux capability names and numbers (include/uapi/linux/capability.h).
 * The numbers are the same on every ABI. Used by nspawn's capability-dependent
 * syscall allowances and by OCI/Docker profiles' `includes.caps`.
 */
import { SyscageError, didYouMean, suggest } from "../errors.js";

/** Capability names; the index is the capability number (CAP_CHOWN = 0 …). */
export const CAPABILITY_NAMES: readonly string[] = Object.freeze([
  "CAP_CHOWN", // 0
  "CAP_DAC_OVERRIDE", // 1
  "CAP_DAC_READ_SEARCH", // 2
  "CAP_FOWNER", // 3
  "CAP_FSETID", // 4
  "CAP_KILL", // 5
  "CAP_SETGID", // 6
  "CAP_SETUID", // 7
  "CAP_SETPCAP", // 8
  "CAP_LINUX_IMMUTABLE", // 9
  "CAP_NET_BIND_SERVICE", // 10
  "CAP_NET_BROADCAST", // 11
  "CAP_NET_ADMIN", // 12
  "CAP_NET_RAW", // 13
  "CAP_IPC_LOCK", // 14
  "CAP_IPC_OWNER", // 15
  "CAP_SYS_MODULE", // 16
  "CAP_SYS_RAWIO", // 17
  "CAP_SYS_CHROOT", // 18
  "CAP_SYS_PTRACE", // 19
  "CAP_SYS_PACCT", // 20
  "CAP_SYS_ADMIN", // 21
  "CAP_SYS_BOOT", // 22
  "CAP_SYS_NICE", // 23
  "CAP_SYS_RESOURCE", // 24
  "CAP_SYS_TIME", // 25
  "CAP_SYS_TTY_CONFIG", // 26
  "CAP_MKNOD", // 27
  "CAP_LEASE", // 28
  "CAP_AUDIT_WRITE", // 29
  "CAP_AUDIT_CONTROL", // 30
  "CAP_SETFCAP", // 31
  "CAP_MAC_OVERRIDE", // 32
  "CAP_MAC_ADMIN", // 33
  "CAP_SYSLOG", // 34
  "CAP_WAKE_ALARM", // 35
  "CAP_BLOCK_SUSPEND", // 36
  "CAP_AUDIT_READ", // 37
  "CAP_PERFMON", // 38
  "CAP_BPF", // 39
  "CAP_CHECKPOINT_RESTORE", // 40
]);

/** The highest capability number syscage knows (the kernel's CAP_LAST_CAP). */
export const CAP_LAST_CAP: number = CAPABILITY_NAMES.length - 1;

const BY_NAME: ReadonlyMap<string, number> = new Map(CAPABILITY_NAMES.map((name, i) => [name, i]));

/** Upper-case "CAP_X" form of "CAP_X", "cap_x" or "X". */
function normalize(name: string): string {
  const upper = name.trim().toUpperCase();
  return upper.startsWith("CAP_") ? upper : `CAP_${upper}`;
}

/**
 * The number of a capability, or undefined. Accepts "CAP_SYS_ADMIN",
 * "cap_sys_admin" and "SYS_ADMIN" (any case, with or without the prefix).
 */
export function capabilityNumber(name: string): number | undefined {
  return BY_NAME.get(normalize(name));
}

/** The name ("CAP_SYS_ADMIN") of capability number `n`, or undefined. */
export function capabilityName(n: number): string | undefined {
  return Number.isInteger(n) && n >= 0 ? CAPABILITY_NAMES[n] : undefined;
}

/**
 * Parse a capability name (see {@link capabilityNumber}) or a decimal number
 * 0..{@link CAP_LAST_CAP}.
 *
 * @throws SyscageError UNKNOWN_CAPABILITY, with close names as suggestions.
 */
export function parseCapability(text: string): number {
  const t = text.trim();
  if (/^[0-9]+$/.test(t)) {
    const n = Number(t);
    if (n <= CAP_LAST_CAP) return n;
    throw new SyscageError(
      "UNKNOWN_CAPABILITY",
      `capability number ${t} is unknown: syscage knows capabilities 0..${CAP_LAST_CAP} (CAP_CHOWN … ${CAPABILITY_NAMES[CAP_LAST_CAP]}). Use a name such as CAP_SYS_ADMIN.`,
    );
  }
  const n = capabilityNumber(t);
  if (n !== undefined) return n;
  const suggestions = t === "" ? [] : suggest(normalize(t), CAPABILITY_NAMES);
  throw new SyscageError(
    "UNKNOWN_CAPABILITY",
    `unknown capability "${t}": expected a name such as CAP_SYS_ADMIN (the CAP_ prefix is optional) or a number 0..${CAP_LAST_CAP}.${didYouMean(suggestions)}`,
    suggestions,
  );
}
