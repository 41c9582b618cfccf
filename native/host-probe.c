/*
 * `syscage-exec --probe`: the facts about this kernel that only a syscall can
 * tell, for src/host/probe.ts (`syscage doctor` and the tests).
 *
 * Every check is harmless: calls that either only query or fail on purpose
 * (a NULL program for seccomp(2)), and the risky ones (int $0x80, unshare)
 * run in a forked child, so a fault or a changed namespace ends with it.
 *
 * Output: the line "syscage-exec-probe 1" (the handshake: this binary is the
 * helper, and the format's version), then one "KEY VALUE" line per fact:
 *   i386 ok | signal N | err N         getpid() through int $0x80 in a child
 *   x32 ok | err N                     getpid() with the x32 bit (__X32_SYSCALL_BIT)
 *   seccomp-flag NAME ok | err N       seccomp(SET_MODE_FILTER, FLAG, NULL): EFAULT
 *                                      means the kernel knows the flag, EINVAL not
 *   seccomp-action NAME ok | err N     seccomp(GET_ACTION_AVAIL)
 *   landlock N | err N                 landlock_create_ruleset(NULL, 0, VERSION)
 *   userns ok | err N | signal N       unshare(CLONE_NEWUSER) in a child, as this user
 *   userns-unprivileged ok | err N     the same as uid/gid 65534 (only when root)
 *   io_uring ok | err N                io_uring_setup(1) (the ring is closed at once)
 * The TypeScript side reads /proc and /proc/sys itself.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "syscage-exec.h"

#ifndef SECCOMP_GET_ACTION_AVAIL
#define SECCOMP_GET_ACTION_AVAIL 2
#endif
#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#endif
#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#endif
#define X32_SYSCALL_BIT 0x40000000L
#define LANDLOCK_CREATE_RULESET_VERSION_FLAG 1U

/* "ok", "err N" or "signal N" for a child that exits 0, exits with errno N, or dies of signal N. */
static void report_child(const char *key, pid_t pid) {
  int st;
  if (pid < 0) {
    printf("%s err %d\n", key, errno);
    return;
  }
  while (waitpid(pid, &st, 0) < 0) {
    if (errno != EINTR) {
      printf("%s err %d\n", key, errno);
      return;
    }
  }
  if (WIFSIGNALED(st)) printf("%s signal %d\n", key, WTERMSIG(st));
  else if (WEXITSTATUS(st) == 0) printf("%s ok\n", key);
  else printf("%s err %d\n", key, WEXITSTATUS(st));
}

static void probe_i386(void) {
#if defined(__x86_64__)
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    /* Without ia32 emulation the kernel (or its hypervisor) delivers SIGSEGV here. */
    signal(SIGSEGV, SIG_DFL);
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory"); /* i386 getpid */
    if (ret < 0 && ret > -4096) _exit((int)-ret);
    _exit((pid_t)ret == getpid() ? 0 : 255);
  }
  report_child("i386", pid);
#endif
}

static void probe_x32(void) {
#if defined(__x86_64__)
  long r = syscall(X32_SYSCALL_BIT | 39L); /* x32 getpid */
  if (r == (long)getpid()) printf("x32 ok\n");
  else printf("x32 err %d\n", r < 0 ? errno : 255);
#endif
}

static void probe_seccomp(void) {
  static const struct {
    const char *name;
    unsigned long flags;
  } flags[] = {
      {"TSYNC", 1UL << 0},          {"LOG", 1UL << 1},          {"SPEC_ALLOW", 1UL << 2},
      {"NEW_LISTENER", 1UL << 3},   {"TSYNC_ESRCH", 1UL << 4},
      /* Only valid together with NEW_LISTENER. */
      {"WAIT_KILLABLE_RECV", (1UL << 5) | (1UL << 3)},
  };
  for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
    long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags[i].flags, NULL);
    int e = errno;
    if (r >= 0) printf("seccomp-flag %s err 0\n", flags[i].name); /* cannot happen with a NULL program */
    else if (e == EFAULT) printf("seccomp-flag %s ok\n", flags[i].name);
    else printf("seccomp-flag %s err %d\n", flags[i].name, e);
  }
  static const struct {
    const char *name;
    uint32_t action;
  } actions[] = {
      {"kill_process", SECCOMP_RET_KILL_PROCESS}, {"kill_thread", SECCOMP_RET_KILL_THREAD}, {"trap", SECCOMP_RET_TRAP},
      {"errno", SECCOMP_RET_ERRNO},               {"user_notif", SECCOMP_RET_USER_NOTIF},   {"trace", SECCOMP_RET_TRACE},
      {"log", SECCOMP_RET_LOG},                   {"allow", SECCOMP_RET_ALLOW},
  };
  for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
    uint32_t a = actions[i].action;
    long r = syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &a);
    if (r == 0) printf("seccomp-action %s ok\n", actions[i].name);
    else printf("seccomp-action %s err %d\n", actions[i].name, errno);
  }
}

static void probe_landlock(void) {
  long r = syscall(__NR_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION_FLAG);
  if (r >= 0) printf("landlock %ld\n", r);
  else printf("landlock err %d\n", errno);
}

static void probe_userns(const char *key, int as_nobody) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    if (as_nobody && (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)) _exit(errno ? errno : 255);
    _exit(unshare(CLONE_NEWUSER) == 0 ? 0 : (errno ? errno : 255));
  }
  report_child(key, pid);
}

static void probe_io_uring(void) {
  unsigned char params[120]; /* struct io_uring_params, zeroed */
  memset(params, 0, sizeof params);
  long fd = syscall(__NR_io_uring_setup, 1, params);
  if (fd >= 0) {
    close((int)fd);
    printf("io_uring ok\n");
  } else {
    printf("io_uring err %d\n", errno);
  }
}

int host_probe(void) {
  printf("syscage-exec-probe 1\n");
  probe_i386();
  probe_x32();
  probe_seccomp();
  probe_landlock();
  probe_userns("userns", 0);
  if (geteuid() == 0) probe_userns("userns-unprivileged", 1);
  probe_io_uring();
  return fflush(stdout) == 0 ? 0 : 1;
}
