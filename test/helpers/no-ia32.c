/*
 * A developer's tool, not part of the suite: run a command as if the kernel
 * could not execute i386 calls, to check that the tests still pass on such a
 * machine (docs/testing.md, "Kernel capabilities").
 *
 *   cc -O2 -o /tmp/no-ia32 test/helpers/no-ia32.c && /tmp/no-ia32 npm test
 *
 * It installs one seccomp filter that kills the thread of every call made
 * with AUDIT_ARCH_I386 (int $0x80 from a 64-bit process) and allows every
 * other call, then execs the command. Where ia32 emulation is missing, the
 * same int $0x80 raises SIGSEGV instead of SIGSYS: either way the call never
 * runs, which is what the host probe (`syscage doctor`) must notice. Needs
 * root (CAP_SYS_ADMIN), because it does not set no_new_privs. Every test
 * then also runs "inside a sandbox that already has a filter".
 */
#define _GNU_SOURCE
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: no-ia32 COMMAND [ARGS...]\n");
    return 2;
  }
  struct sock_filter insns[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_THREAD),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {.len = sizeof insns / sizeof insns[0], .filter = insns};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
    perror("no-ia32: seccomp (needs root)");
    return 125;
  }
  execvp(argv[1], argv + 1);
  perror(argv[1]);
  return 127;
}
