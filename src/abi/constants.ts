/**
 * Kernel constants that syscall arguments carry, as systemd's unit
 * directives test them (docs/systemd-unit.md, "The other filters"): address
 * families, namespace flags, scheduling policies, personalities, protection
 * and mode bits. Values from the kernel's UAPI headers (include/linux/socket.h,
 * include/uapi/linux/sched.h, include/uapi/linux/personality.h,
 * include/uapi/asm-generic/mman-common.h, include/uapi/linux/shm.h,
 * include/uapi/linux/stat.h, the per-architecture fcntl.h).
 */
import type { AbiName } from "./arch.js";

/**
 * Address families (include/linux/socket.h, Linux 7.3), the same numbers on
 * every ABI. Aliases (AF_LOCAL, AF_FILE, AF_ROUTE) map to the same number.
 */
export const ADDRESS_FAMILIES: Readonly<Record<string, number>> = Object.freeze({
  AF_UNSPEC: 0,
  AF_UNIX: 1,
  AF_LOCAL: 1,
  AF_FILE: 1,
  AF_INET: 2,
  AF_AX25: 3,
  AF_IPX: 4,
  AF_APPLETALK: 5,
  AF_NETROM: 6,
  AF_BRIDGE: 7,
  AF_ATMPVC: 8,
  AF_X25: 9,
  AF_INET6: 10,
  AF_ROSE: 11,
  AF_DECnet: 12,
  AF_NETBEUI: 13,
  AF_SECURITY: 14,
  AF_KEY: 15,
  AF_NETLINK: 16,
  AF_ROUTE: 16,
  AF_PACKET: 17,
  AF_ASH: 18,
  AF_ECONET: 19,
  AF_ATMSVC: 20,
  AF_RDS: 21,
  AF_SNA: 22,
  AF_IRDA: 23,
  AF_PPPOX: 24,
  AF_WANPIPE: 25,
  AF_LLC: 26,
  AF_IB: 27,
  AF_MPLS: 28,
  AF_CAN: 29,
  AF_TIPC: 30,
  AF_BLUETOOTH: 31,
  AF_IUCV: 32,
  AF_RXRPC: 33,
  AF_ISDN: 34,
  AF_PHONET: 35,
  AF_IEEE802154: 36,
  AF_CAIF: 37,
  AF_ALG: 38,
  AF_NFC: 39,
  AF_VSOCK: 40,
  AF_KCM: 41,
  AF_QIPCRTR: 42,
  AF_SMC: 43,
  AF_XDP: 44,
  AF_MCTP: 45,
});

/** AF_MAX of Linux 7.3: one past the highest family. */
export const AF_MAX = 46;

/** The canonical name of an address family number (AF_UNIX, not AF_LOCAL). */
export function addressFamilyName(n: number): string {
  const canonical: Record<number, string> = {};
  for (const [name, v] of Object.entries(ADDRESS_FAMILIES)) if (!(v in canonical) && !["AF_LOCAL", "AF_FILE", "AF_ROUTE"].includes(name)) canonical[v] = name;
  return canonical[n] ?? `family ${n}`;
}

/**
 * Namespace kinds as systemd names them (src/basic/nsflags.c) and their
 * CLONE_NEW* flags (include/uapi/linux/sched.h), in systemd's table order.
 */
export const NAMESPACE_FLAGS: readonly { readonly name: string; readonly flag: bigint }[] = Object.freeze([
  { name: "cgroup", flag: 0x02000000n },
  { name: "ipc", flag: 0x08000000n },
  { name: "net", flag: 0x40000000n },
  { name: "mnt", flag: 0x00020000n },
  { name: "pid", flag: 0x20000000n },
  { name: "user", flag: 0x10000000n },
  { name: "uts", flag: 0x04000000n },
  { name: "time", flag: 0x00000080n },
]);

/** Every namespace flag together. */
export const ALL_NAMESPACE_FLAGS: bigint = NAMESPACE_FLAGS.reduce((m, n) => m | n.flag, 0n);

/** Scheduling policies (include/uapi/linux/sched.h). */
export const SCHED = Object.freeze({ OTHER: 0, FIFO: 1, RR: 2, BATCH: 3, ISO: 4, IDLE: 5, DEADLINE: 6 });

/** personality(2): PER_LINUX, PER_LINUX32, and the query value that changes nothing. */
export const PER_LINUX = 0x0000n;
export const PER_LINUX32 = 0x0008n;
export const PERSONALITY_QUERY = 0xffffffffn;

/** mmap/mprotect protection bits and shmat's SHM_EXEC (the same on every ABI). */
export const PROT_WRITE = 0x2n;
export const PROT_EXEC = 0x4n;
export const SHM_EXEC = 0o100000n;

/** Mode bits (include/uapi/linux/stat.h). */
export const S_ISUID = 0o4000n;
export const S_ISGID = 0o2000n;

/** O_CREAT, which differs by architecture (each arch's uapi fcntl.h; asm-generic's 0o100 elsewhere). */
export function oCreat(abi: AbiName): bigint {
  if (abi.startsWith("mips") || abi.startsWith("parisc")) return 0x100n;
  return 0o100n;
}
