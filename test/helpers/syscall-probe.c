/*
 * Test helper for `syscage run`: a command that loads NO filter itself and
 * probes what the filter it runs under lets through. Every probe runs in a
 * forked child (so a KILL action ends only that child) and prints one line.
 *
 * usage: syscall-probe SPEC...
 *   native:NR[:A0,A1,...]    syscall(NR, A0...) from this 64-bit process
 *                            (x32 numbers have bit 30 set; NR may be -1 or
 *                            have high bits set)
 *   i386:NR[:A0,...]         the same through int $0x80 (AUDIT_ARCH_I386)
 *   thread:SPEC              the probe SPEC made from a second thread
 *   exec:SPEC                a forked child execs this program with SPEC, so
 *                            the call is made by a grandchild of this process
 *   add-allow:SPEC           load an allow-everything filter, then probe SPEC
 *   nnp-off                  prctl(PR_SET_NO_NEW_PRIVS, 0)
 *   seccomp-strict           prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT)
 *   capset-raise:CAP         add CAP to the permitted and effective sets
 *   ambient-raise:CAP        prctl(PR_CAP_AMBIENT_RAISE, CAP)
 *   bounding-read:CAP        prctl(PR_CAPBSET_READ, CAP): prints "ok 0" / "ok 1"
 *   ptrace-sibling           fork a sibling, PTRACE_ATTACH to it from another child
 *   direct:SPEC              run SPEC in this process itself, not a forked child
 *                            (so a KILL_PROCESS action ends the whole probe)
 *   status                   "NoNewPrivs=… Seccomp=… CapBnd=… CapPrm=… CapEff=… CapInh=… CapAmb=…"
 * Args are decimal or 0x hex u64. Results: "ok", "ok VALUE" (bounding-read),
 * "err ERRNO", "signal SIG", "load-failed ERRNO".
 * Only ever make harmless calls (bad fds, NULL pointers, wrong magic numbers).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#endif

static const char *self_path;

static long i386_call(long nr, const unsigned long *a) {
#if defined(__x86_64__)
  long ret;
  unsigned int b = (unsigned int)a[0], c = (unsigned int)a[1], d = (unsigned int)a[2], s = (unsigned int)a[3],
               di = (unsigned int)a[4];
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(b), "c"(c), "d"(d), "S"(s), "D"(di) : "memory");
  return (int)ret;
#else
  (void)nr; (void)a;
  return -ENOSYS;
#endif
}

/* One call: "native:NR[:args]" or "i386:NR[:args]"; writes the result to `out`. */
static void call(const char *spec, char *out, size_t size) {
  unsigned long a[6] = {0};
  const char *p = strchr(spec, ':');
  if (p == NULL) { snprintf(out, size, "bad-probe %s", spec); return; }
  char *end;
  long nr = (long)strtoull(p + 1, &end, 0);
  if (p[1] == '-') nr = strtol(p + 1, &end, 0);
  if (*end == ':') {
    const char *q = end + 1;
    for (int i = 0; i < 6 && *q; i++) {
      a[i] = strtoull(q, &end, 0);
      q = (*end == ',') ? end + 1 : end;
    }
  }
  long r;
  int e = 0;
  if (strncmp(spec, "i386:", 5) == 0) {
    r = i386_call(nr, a);
    if (r < 0 && r >= -4095) { e = (int)-r; r = -1; }
  } else if (strncmp(spec, "native:", 7) == 0) {
    errno = 0;
    r = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    if (r == -1) e = errno;
  } else {
    snprintf(out, size, "bad-probe %s", spec);
    return;
  }
  if (r == -1) snprintf(out, size, "err %d", e);
  else snprintf(out, size, "ok");
}

static void *thread_main(void *arg) {
  static char out[64];
  call((const char *)arg, out, sizeof out);
  return out;
}

static int cap_arg(const char *spec) {
  const char *p = strchr(spec, ':');
  return p ? atoi(p + 1) : -1;
}

static void result_errno(long r, char *out, size_t size) {
  if (r == -1) snprintf(out, size, "err %d", errno);
  else snprintf(out, size, "ok");
}

static void status_line(char *out, size_t size) {
  FILE *f = fopen("/proc/self/status", "r");
  if (f == NULL) { snprintf(out, size, "err %d", errno); return; }
  char line[256];
  size_t n = 0;
  out[0] = '\0';
  const char *keys[] = {"NoNewPrivs", "Seccomp", "CapBnd", "CapPrm", "CapEff", "CapInh", "CapAmb"};
  while (fgets(line, sizeof line, f)) {
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
      size_t l = strlen(keys[k]);
      if (strncmp(line, keys[k], l) == 0 && line[l] == ':') {
        char *v = line + l + 1;
        while (*v == ' ' || *v == '\t') v++;
        v[strcspn(v, "\n")] = '\0';
        n += (size_t)snprintf(out + n, size - n, "%s%s=%s", n ? " " : "", keys[k], v);
      }
    }
  }
  fclose(f);
}

static void ptrace_sibling(char *out, size_t size) {
  pid_t sibling = fork();
  if (sibling == 0) {
    for (;;) pause();
  }
  if (sibling < 0) { snprintf(out, size, "err %d", errno); return; }
  long r = ptrace(PTRACE_ATTACH, sibling, 0, 0);
  int e = errno;
  if (r == 0) {
    waitpid(sibling, NULL, __WALL);
    ptrace(PTRACE_DETACH, sibling, 0, 0);
  }
  kill(sibling, SIGKILL);
  waitpid(sibling, NULL, 0);
  errno = e;
  result_errno(r, out, size);
}

/* Run one SPEC in this (already forked) process and write the result line to `out`. */
static void probe(const char *spec, char *out, size_t size) {
  if (strncmp(spec, "thread:", 7) == 0) {
    pthread_t t;
    void *res;
    if (pthread_create(&t, NULL, thread_main, (void *)(spec + 7)) != 0) { snprintf(out, size, "thread-failed"); return; }
    pthread_join(t, &res);
    snprintf(out, size, "%s", (const char *)res);
  } else if (strncmp(spec, "exec:", 5) == 0) {
    int fds[2];
    if (pipe(fds) != 0) { snprintf(out, size, "err %d", errno); return; }
    pid_t pid = fork();
    if (pid == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      execl(self_path, self_path, spec + 5, (char *)NULL);
      _exit(99);
    }
    close(fds[1]);
    ssize_t got = read(fds[0], out, size - 1);
    close(fds[0]);
    waitpid(pid, NULL, 0);
    out[got > 0 ? got : 0] = '\0';
    out[strcspn(out, "\n")] = '\0';
  } else if (strncmp(spec, "add-allow:", 10) == 0) {
    struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
    struct sock_fprog fp = {.len = 1, .filter = allow};
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) != 0) { snprintf(out, size, "load-failed %d", errno); return; }
    call(spec + 10, out, size);
  } else if (strcmp(spec, "nnp-off") == 0) {
    result_errno(prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0), out, size);
  } else if (strcmp(spec, "seccomp-strict") == 0) {
    result_errno(prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0), out, size);
  } else if (strncmp(spec, "capset-raise:", 13) == 0) {
    int cap = cap_arg(spec);
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) != 0) { snprintf(out, size, "err %d", errno); return; }
    d[cap / 32].permitted |= 1u << (cap % 32);
    d[cap / 32].effective |= 1u << (cap % 32);
    result_errno(syscall(SYS_capset, &h, d), out, size);
  } else if (strncmp(spec, "ambient-raise:", 14) == 0) {
    result_errno(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap_arg(spec), 0, 0), out, size);
  } else if (strncmp(spec, "bounding-read:", 14) == 0) {
    int r = prctl(PR_CAPBSET_READ, cap_arg(spec), 0, 0, 0);
    if (r < 0) snprintf(out, size, "err %d", errno);
    else snprintf(out, size, "ok %d", r);
  } else if (strcmp(spec, "ptrace-sibling") == 0) {
    ptrace_sibling(out, size);
  } else if (strcmp(spec, "status") == 0) {
    status_line(out, size);
  } else {
    call(spec, out, size);
  }
}

static void run_probe(const char *spec) {
  int fds[2];
  if (pipe(fds) != 0) { perror("pipe"); exit(2); }
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) { perror("fork"); exit(2); }
  if (pid == 0) {
    char out[512];
    close(fds[0]);
    probe(spec, out, sizeof out);
    size_t n = strlen(out);
    out[n++] = '\n';
    if (write(fds[1], out, n) < 0) _exit(3);
    _exit(0);
  }
  close(fds[1]);
  char buf[512] = {0};
  ssize_t got = read(fds[0], buf, sizeof buf - 1);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) printf("signal %d\n", WTERMSIG(status));
  else if (got > 0) fputs(buf, stdout);
  else printf("no-result %d\n", WEXITSTATUS(status));
}

int main(int argc, char **argv) {
  self_path = "/proc/self/exe";
  if (argc < 2) { fprintf(stderr, "usage: %s SPEC...\n", argv[0]); return 2; }
  for (int i = 1; i < argc; i++) {
    if (strncmp(argv[i], "direct:", 7) == 0) {
      char out[512];
      probe(argv[i] + 7, out, sizeof out);
      printf("%s\n", out);
      fflush(stdout);
    } else {
      run_probe(argv[i]);
    }
  }
  return 0;
}
