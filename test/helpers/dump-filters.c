/*
 * dump-filters: read the seccomp filter stack of a process with
 * ptrace(PTRACE_SECCOMP_GET_FILTER).
 *
 * The kernel (kernel/seccomp.c, seccomp_get_filter) only answers a tracer
 * that has CAP_SYS_ADMIN and is NOT itself under seccomp (EACCES otherwise),
 * and only for a ptrace-stopped tracee. Inside a systemd-nspawn container
 * every process is filtered, so the roles are split:
 *
 *   dump-filters wait           run INSIDE the container: prints "ready" and
 *                               blocks until stdin reaches EOF (or 60 s pass);
 *                               it carries the container's filter stack.
 *   dump-filters pid <PID>      run on the HOST (unfiltered, root): seizes
 *                               PID, stops it with PTRACE_INTERRUPT, dumps
 *                               every filter, detaches.
 *   dump-filters self-test      forks a child that installs two known
 *                               filters (1 and 2 instructions, in that
 *                               order) and dumps it like `pid` does, so the
 *                               caller can check the index order.
 *
 * Output of `pid` and `self-test`: one line per filter, in the kernel's index
 * order (filter_off = 0, 1, ... until ENOENT):
 *   filter <index> <ninsns> <hex of the raw struct sock_filter array>
 * then "end <count>". The raw bytes are in host byte order. Which end of the
 * stack index 0 is, is checked by the self-test (kernel/seccomp.c
 * get_nth_filter counts filter_off from the OLDEST filter). Errors go to
 * stderr with exit status 2.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif

static int dump_stopped(pid_t pid) {
  int count = 0;
  for (long index = 0;; index++) {
    long n = ptrace((enum __ptrace_request)PTRACE_SECCOMP_GET_FILTER, pid, (void *)index, NULL);
    if (n < 0) {
      if (errno == ENOENT) break;
      fprintf(stderr, "dump-filters: PTRACE_SECCOMP_GET_FILTER(pid %d, index %ld): %s\n", (int)pid, index, strerror(errno));
      return -1;
    }
    struct sock_filter *buf = calloc((size_t)n + 1, sizeof *buf);
    if (buf == NULL) {
      fprintf(stderr, "dump-filters: out of memory\n");
      return -1;
    }
    long got = ptrace((enum __ptrace_request)PTRACE_SECCOMP_GET_FILTER, pid, (void *)index, buf);
    if (got != n) {
      fprintf(stderr, "dump-filters: PTRACE_SECCOMP_GET_FILTER(pid %d, index %ld) returned %ld, expected %ld\n", (int)pid, index, got, n);
      free(buf);
      return -1;
    }
    printf("filter %ld %ld ", index, n);
    const unsigned char *bytes = (const unsigned char *)buf;
    for (size_t i = 0; i < (size_t)n * sizeof *buf; i++) printf("%02x", bytes[i]);
    printf("\n");
    free(buf);
    count++;
  }
  printf("end %d\n", count);
  return 0;
}

/* Seize `pid`, stop it, dump its filters, detach. */
static int dump_pid(pid_t pid) {
  if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) < 0) {
    fprintf(stderr, "dump-filters: PTRACE_SEIZE(%d): %s\n", (int)pid, strerror(errno));
    return -1;
  }
  if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) < 0) {
    fprintf(stderr, "dump-filters: PTRACE_INTERRUPT(%d): %s\n", (int)pid, strerror(errno));
    return -1;
  }
  int status = 0;
  if (waitpid(pid, &status, __WALL) < 0) {
    fprintf(stderr, "dump-filters: waitpid(%d): %s\n", (int)pid, strerror(errno));
    return -1;
  }
  if (!WIFSTOPPED(status)) {
    fprintf(stderr, "dump-filters: pid %d did not stop (status 0x%x)\n", (int)pid, status);
    return -1;
  }
  int rc = dump_stopped(pid);
  ptrace(PTRACE_DETACH, pid, NULL, NULL);
  return rc;
}

static int install(const struct sock_filter *insns, unsigned short len) {
  struct sock_fprog prog = {.len = len, .filter = (struct sock_filter *)insns};
  return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

static int self_test(void) {
  pid_t child = fork();
  if (child < 0) {
    perror("dump-filters: fork");
    return -1;
  }
  if (child == 0) {
    static const struct sock_filter first[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
    static const struct sock_filter second[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || install(first, 1) < 0 || install(second, 2) < 0) _exit(3);
    for (;;) pause();
  }
  /* Give the child time to install its filters: wait until it has two. */
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/status", (int)child);
  for (int tries = 0; tries < 2000; tries++) {
    FILE *f = fopen(path, "r");
    char line[256];
    int filters = -1;
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
      if (strncmp(line, "Seccomp_filters:", 16) == 0) filters = atoi(line + 16);
    }
    if (f != NULL) fclose(f);
    if (filters == 2) break;
    usleep(1000);
  }
  int rc = dump_pid(child);
  kill(child, SIGKILL);
  waitpid(child, NULL, __WALL);
  return rc;
}

int main(int argc, char **argv) {
  int rc;
  if (argc == 2 && strcmp(argv[1], "wait") == 0) {
    alarm(60);
    printf("ready\n");
    fflush(stdout);
    char c;
    while (read(0, &c, 1) > 0) {
    }
    return 0;
  } else if (argc == 3 && strcmp(argv[1], "pid") == 0) {
    rc = dump_pid((pid_t)atoi(argv[2]));
  } else if (argc == 2 && strcmp(argv[1], "self-test") == 0) {
    rc = self_test();
  } else {
    fprintf(stderr, "usage: dump-filters wait | pid <PID> | self-test\n");
    return 2;
  }
  fflush(stdout);
  return rc == 0 ? 0 : 2;
}
