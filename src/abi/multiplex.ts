/**
 * Multiplexed socket and SysV IPC calls.
 *
 * Some ABIs (x86, m68k, mips o32, powerpc, s390, s390x, sh) have the old
 * multiplexers `socketcall(2)` and `ipc(2)`: one syscall whose first argument
 * selects the operation. Many of them gained direct syscalls (`socket`,
 * `semop`, …) later, but the multiplexer stays, so a rule on `socket` must
 * also cover `socketcall(SYS_SOCKET, …)` or it can be bypassed.
 *
 * Sub-call numbers: socketcall from include/uapi/linux/net.h (SYS_SOCKET 1 …
 * SYS_SENDMMSG 20); ipc from include/uapi/linux/ipc.h (SEMOP 1, SEMGET 2,
 * SEMCTL 3, SEMTIMEDOP 4, MSGSND 11, MSGRCV 12, MSGGET 13, MSGCTL 14, SHMAT
 * 21, SHMDT 22, SHMGET 23, SHMCTL 24). The sub-call is argument 0 of the
 * multiplexer; see {@link SUBCALL_ARG_MASK} for how much of it the kernel reads.
 *
 * Whether an ABI has a multiplexer is read from its syscall table, not listed
 * here, so it follows the kernel tables.
 */
import type { AbiName } from "./arch.js";
import { syscallNumber } from "./tables.js";

/** The two multiplexing syscalls. */
export type Multiplexer = "socketcall" | "ipc";

/** How a direct syscall is reached through a multiplexer. */
export interface MultiplexedCall {
  /** The multiplexing syscall. */
  readonly via: Multiplexer;
  /** The value of the multiplexer's first argument that selects this call. */
  readonly subcall: number;
}

function frozenRecord(entries: Record<string, number>): Readonly<Record<string, number>> {
  return Object.freeze(Object.assign(Object.create(null) as Record<string, number>, entries));
}

/**
 * socketcall(2) sub-calls (SYS_* of include/uapi/linux/net.h), keyed by the
 * name of the direct syscall with the same meaning. `send` and `recv` are
 * sub-calls 9 and 10; some ABIs also have them as direct syscalls.
 * `recvmmsg` (19) is the old-time_t variant, not `recvmmsg_time64`.
 */
export const SOCKETCALL_SUBCALLS: Readonly<Record<string, number>> = frozenRecord({
  socket: 1,
  bind: 2,
  connect: 3,
  listen: 4,
  accept: 5,
  getsockname: 6,
  getpeername: 7,
  socketpair: 8,
  send: 9,
  recv: 10,
  sendto: 11,
  recvfrom: 12,
  shutdown: 13,
  setsockopt: 14,
  getsockopt: 15,
  sendmsg: 16,
  recvmsg: 17,
  accept4: 18,
  recvmmsg: 19,
  sendmmsg: 20,
});

/**
 * ipc(2) sub-calls (include/uapi/linux/ipc.h), keyed by the name of the
 * direct syscall with the same meaning. `semtimedop` (4) is the old-time_t
 * variant, not `semtimedop_time64`.
 */
export const IPC_SUBCALLS: Readonly<Record<string, number>> = frozenRecord({
  semop: 1,
  semget: 2,
  semctl: 3,
  semtimedop: 4,
  msgsnd: 11,
  msgrcv: 12,
  msgget: 13,
  msgctl: 14,
  shmat: 21,
  shmdt: 22,
  shmget: 23,
  shmctl: 24,
});

/**
 * The bits of argument 0 that the kernel uses to pick the sub-call.
 * socketcall takes `int call`, so only the low 32 bits count. ipc takes
 * `unsigned int call` and keeps only the low 16 bits (`call & 0xffff`); bits
 * 16..31 carry an interface version (IPCCALL(version, op)). A filter that
 * compares the whole argument can be bypassed by setting the ignored bits, so
 * compare `arg0 & mask` with the sub-call number.
 */
export const SUBCALL_ARG_MASK: Readonly<Record<Multiplexer, number>> = Object.freeze({
  socketcall: 0xffffffff,
  ipc: 0xffff,
});

/** True when `abi`'s syscall table has `socketcall`. */
export function hasSocketcall(abi: AbiName): boolean {
  return syscallNumber(abi, "socketcall") !== undefined;
}

/** True when `abi`'s syscall table has `ipc`. */
export function hasIpc(abi: AbiName): boolean {
  return syscallNumber(abi, "ipc") !== undefined;
}

/**
 * How the direct syscall `name` can also be made on `abi` through a
 * multiplexer: `{ via: "socketcall", subcall: 1 }` for `socket` on x86.
 * Undefined when `name` is not a socket/IPC call or `abi` has no such
 * multiplexer (x86_64, aarch64, …). Whether `abi` also has `name` as a direct
 * syscall does not matter.
 */
export function multiplexedAs(abi: AbiName, name: string): MultiplexedCall | undefined {
  const s = SOCKETCALL_SUBCALLS[name];
  if (s !== undefined) return hasSocketcall(abi) ? { via: "socketcall", subcall: s } : undefined;
  const i = IPC_SUBCALLS[name];
  if (i !== undefined) return hasIpc(abi) ? { via: "ipc", subcall: i } : undefined;
  return undefined;
}

const REVERSE: Readonly<Record<Multiplexer, ReadonlyMap<number, string>>> = {
  socketcall: new Map(Object.entries(SOCKETCALL_SUBCALLS).map(([name, n]) => [n, name])),
  ipc: new Map(Object.entries(IPC_SUBCALLS).map(([name, n]) => [n, name])),
};

/**
 * The direct syscall name for sub-call `subcall` of `via` ("socket" for
 * socketcall 1), or undefined for a number the kernel rejects.
 */
export function subcallName(via: Multiplexer, subcall: number): string | undefined {
  return REVERSE[via].get(subcall);
}
