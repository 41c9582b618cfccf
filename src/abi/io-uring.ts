/**
 * io_uring operations as a route around a seccomp filter.
 *
 * A process with a ring submits operations that the kernel performs without
 * a syscall the filter could see: seccomp sees io_uring_setup, io_uring_enter
 * and io_uring_register, never the socket() or mkdirat() a ring does. So a
 * policy that denies, or restricts by argument, a syscall that some opcode
 * performs must close io_uring itself (src/policy/routes.ts).
 *
 * Facts from the kernel: opcode numbers from include/uapi/linux/io_uring.h
 * (enum io_uring_op), what each one does from io_uring/opdef.c and the files
 * its handlers live in, and the release that added each. `syscalls` names
 * every syscall with the same effect as the opcode (several where the ABIs'
 * tables spell it differently, or where the opcode covers a family: READV
 * is readv and preadv); opcodes that only manage the ring itself (NOP,
 * timeouts, cancellation, buffer registration) perform none.
 */

/** One io_uring opcode. */
export interface IoUringOp {
  /** IORING_OP_ value. */
  readonly opcode: number;
  /** The name without the IORING_OP_ prefix. */
  readonly name: string;
  /** The kernel release that added it. */
  readonly since: string;
  /** The syscalls whose effect it has (names as in the kernel's syscall tables). */
  readonly syscalls: readonly string[];
}

const op = (opcode: number, name: string, since: string, ...syscalls: string[]): IoUringOp => Object.freeze({ opcode, name, since, syscalls: Object.freeze(syscalls) });

const READS = ["read", "pread64", "readv", "preadv", "preadv2"];
const WRITES = ["write", "pwrite64", "writev", "pwritev", "pwritev2"];

/** Every opcode to Linux 7.3, in opcode order. */
export const IO_URING_OPS: readonly IoUringOp[] = Object.freeze([
  op(0, "NOP", "5.1"),
  op(1, "READV", "5.1", ...READS),
  op(2, "WRITEV", "5.1", ...WRITES),
  op(3, "FSYNC", "5.1", "fsync", "fdatasync"),
  op(4, "READ_FIXED", "5.1", ...READS),
  op(5, "WRITE_FIXED", "5.1", ...WRITES),
  op(6, "POLL_ADD", "5.1", "poll", "ppoll", "ppoll_time64"),
  op(7, "POLL_REMOVE", "5.1"),
  op(8, "SYNC_FILE_RANGE", "5.2", "sync_file_range", "sync_file_range2", "arm_sync_file_range"),
  op(9, "SENDMSG", "5.3", "sendmsg", "sendto", "send"),
  op(10, "RECVMSG", "5.3", "recvmsg", "recvfrom", "recv"),
  op(11, "TIMEOUT", "5.4"),
  op(12, "TIMEOUT_REMOVE", "5.5"),
  op(13, "ACCEPT", "5.5", "accept", "accept4"),
  op(14, "ASYNC_CANCEL", "5.5"),
  op(15, "LINK_TIMEOUT", "5.5"),
  op(16, "CONNECT", "5.5", "connect"),
  op(17, "FALLOCATE", "5.6", "fallocate"),
  op(18, "OPENAT", "5.6", "openat", "open", "creat"),
  op(19, "CLOSE", "5.6", "close"),
  op(20, "FILES_UPDATE", "5.6"),
  op(21, "STATX", "5.6", "statx"),
  op(22, "READ", "5.6", ...READS),
  op(23, "WRITE", "5.6", ...WRITES),
  op(24, "FADVISE", "5.6", "fadvise64", "fadvise64_64", "arm_fadvise64_64"),
  op(25, "MADVISE", "5.6", "madvise"),
  op(26, "SEND", "5.6", "sendto", "send", "sendmsg"),
  op(27, "RECV", "5.6", "recvfrom", "recv", "recvmsg"),
  op(28, "OPENAT2", "5.6", "openat2", "openat", "open", "creat"),
  op(29, "EPOLL_CTL", "5.6", "epoll_ctl"),
  op(30, "SPLICE", "5.7", "splice"),
  op(31, "PROVIDE_BUFFERS", "5.7"),
  op(32, "REMOVE_BUFFERS", "5.7"),
  op(33, "TEE", "5.8", "tee"),
  op(34, "SHUTDOWN", "5.11", "shutdown"),
  op(35, "RENAMEAT", "5.11", "renameat2", "renameat", "rename"),
  op(36, "UNLINKAT", "5.11", "unlinkat", "unlink", "rmdir"),
  op(37, "MKDIRAT", "5.15", "mkdirat", "mkdir"),
  op(38, "SYMLINKAT", "5.15", "symlinkat", "symlink"),
  op(39, "LINKAT", "5.15", "linkat", "link"),
  op(40, "MSG_RING", "5.18"),
  op(41, "FSETXATTR", "5.19", "fsetxattr", "setxattrat"),
  op(42, "SETXATTR", "5.19", "setxattr", "lsetxattr", "setxattrat"),
  op(43, "FGETXATTR", "5.19", "fgetxattr", "getxattrat"),
  op(44, "GETXATTR", "5.19", "getxattr", "lgetxattr", "getxattrat"),
  op(45, "SOCKET", "5.19", "socket"),
  // Socket commands (SIOCINQ, SIOCOUTQ, GETSOCKOPT, SETSOCKOPT, TX_TIMESTAMP,
  // GETSOCKNAME); device commands (NVMe passthrough, ublk, FUSE) are driver
  // ioctls. No tty driver has a uring_cmd: it cannot do TIOCSTI.
  op(46, "URING_CMD", "5.19", "getsockopt", "setsockopt", "getsockname"),
  op(47, "SEND_ZC", "6.0", "sendto", "send", "sendmsg"),
  op(48, "SENDMSG_ZC", "6.1", "sendmsg", "sendto", "send"),
  op(49, "READ_MULTISHOT", "6.7", ...READS),
  op(50, "WAITID", "6.7", "waitid"),
  op(51, "FUTEX_WAIT", "6.7", "futex", "futex_time64"),
  op(52, "FUTEX_WAKE", "6.7", "futex", "futex_time64", "futex_wake"),
  op(53, "FUTEX_WAITV", "6.7", "futex_waitv"),
  op(54, "FIXED_FD_INSTALL", "6.8", "dup", "dup3"),
  op(55, "FTRUNCATE", "6.9", "ftruncate", "ftruncate64"),
  op(56, "BIND", "6.11", "bind"),
  op(57, "LISTEN", "6.11", "listen"),
  op(58, "RECV_ZC", "6.15", "recvmsg", "recvfrom", "recv"),
  op(59, "EPOLL_WAIT", "6.15", "epoll_wait", "epoll_pwait", "epoll_pwait2"),
  op(60, "READV_FIXED", "6.15", ...READS),
  op(61, "WRITEV_FIXED", "6.15", ...WRITES),
  op(62, "PIPE", "6.16", "pipe2", "pipe"),
  op(63, "NOP128", "6.18"),
  op(64, "URING_CMD128", "6.18", "getsockopt", "setsockopt", "getsockname"),
]);

/** The syscalls through which a process reaches io_uring: closing the route means denying these. */
export const IO_URING_SYSCALLS: readonly string[] = Object.freeze(["io_uring_setup", "io_uring_enter", "io_uring_register"]);
