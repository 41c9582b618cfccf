/*
 * An independent check of the host probe (test/host.test.ts): the same facts
 * found another way than native/host-probe.c, with no code shared.
 *
 *   host-check i386      "yes" when int $0x80 runs getpid() in a child, else "no"
 *   host-check x32       "yes" when an x32 getpid() answers, else "no"
 *   host-check landlock  Landlock's ABI version, or 0
 *   host-check io_uring  "yes" when io_uring_setup(2) gives a ring, else "no"
 *   host-check flag N    "yes" when seccomp(SET_MODE_FILTER) knows flag bit N, else "no"
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int child_ok(void (*fn)(void)) {
  pid_t pid = fork();
  if (pid == 0) {
    fn();
    _exit(0);
  }
  int st = 0;
  if (pid < 0 || waitpid(pid, &st, 0) != pid) return 0;
  return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void i386_getpid(void) {
  long r = 20; /* __NR_getpid in syscall_32.tbl */
  __asm__ volatile("int $0x80" : "+a"(r) : : "memory");
  _exit(r == (long)getpid() ? 0 : 1);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  if (strcmp(argv[1], "i386") == 0) puts(child_ok(i386_getpid) ? "yes" : "no");
  else if (strcmp(argv[1], "x32") == 0) puts(syscall(0x40000000L + 39) == getpid() ? "yes" : "no");
  else if (strcmp(argv[1], "landlock") == 0) {
    long v = syscall(444 /* landlock_create_ruleset */, NULL, 0, 1 /* LANDLOCK_CREATE_RULESET_VERSION */);
    printf("%ld\n", v < 0 ? 0 : v);
  } else if (strcmp(argv[1], "io_uring") == 0) {
    unsigned char p[120];
    memset(p, 0, sizeof p);
    long fd = syscall(425 /* io_uring_setup */, 2, p);
    puts(fd >= 0 ? "yes" : "no");
  } else if (strcmp(argv[1], "flag") == 0 && argc == 3) {
    unsigned long bit = 1UL << atoi(argv[2]);
    if (bit == (1UL << 5)) bit |= 1UL << 3; /* WAIT_KILLABLE_RECV needs NEW_LISTENER */
    long r = syscall(SYS_seccomp, 1 /* SECCOMP_SET_MODE_FILTER */, bit, (void *)8 /* unmapped: EFAULT */);
    puts(r < 0 && errno == EFAULT ? "yes" : "no");
  } else return 2;
  return 0;
}
