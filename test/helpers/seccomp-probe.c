/*
 * Test helper: loads a raw classic-BPF seccomp program into a child process
 * (no_new_privs + seccomp(SECCOMP_SET_MODE_FILTER)) and makes one probe syscall
 * per child, so that a KILL/TRAP action ends only that child.
 *
 * usage: seccomp-probe FILTER.bpf|- PROBE...
 *   PROBE = native:NR[:A0,A1,...]   syscall(NR, A0...) from this 64-bit process
 *           i386:NR[:A0,...]        int $0x80 (arch AUDIT_ARCH_I386), up to 5 args
 * Args are decimal or 0x hex u64. "-" as FILTER loads nothing (baseline).
 * Prints one line per probe: "ok", "err ERRNO", "signal SIG" or "load-failed ERRNO".
 * Only ever call harmless probes (bad fds, NULL pointers, wrong magic numbers).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static struct sock_filter prog_buf[4096];
static unsigned short prog_len;

static int read_filter(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) { perror(path); return -1; }
  size_t n = fread(prog_buf, sizeof(struct sock_filter), 4096, f);
  fclose(f);
  if (n == 0) { fprintf(stderr, "%s: empty filter\n", path); return -1; }
  prog_len = (unsigned short)n;
  return 0;
}

static long i386_call(long nr, const unsigned long *a) {
#if defined(__x86_64__)
  long ret;
  unsigned int b = (unsigned int)a[0], c = (unsigned int)a[1], d = (unsigned int)a[2],
               s = (unsigned int)a[3], di = (unsigned int)a[4];
  __asm__ volatile("int $0x80"
                   : "=a"(ret)
                   : "a"(nr), "b"(b), "c"(c), "d"(d), "S"(s), "D"(di)
                   : "memory");
  return (int)ret; /* the 32-bit result, sign-extended */
#else
  (void)nr; (void)a;
  return -ENOSYS;
#endif
}

static void run_probe(const char *spec, int load) {
  char kind[16] = {0};
  unsigned long nr = 0, a[6] = {0};
  const char *p = strchr(spec, ':');
  if (!p || (size_t)(p - spec) >= sizeof kind) { printf("bad-probe\n"); return; }
  memcpy(kind, spec, (size_t)(p - spec));
  char *end;
  nr = strtoul(p + 1, &end, 0);
  if (*end == ':') {
    const char *q = end + 1;
    for (int i = 0; i < 6 && *q; i++) {
      a[i] = strtoull(q, &end, 0);
      q = (*end == ',') ? end + 1 : end;
    }
  }
  int pipefd[2];
  if (pipe(pipefd) != 0) { perror("pipe"); exit(2); }
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) { perror("fork"); exit(2); }
  if (pid == 0) {
    close(pipefd[0]);
    char out[64];
    if (load) {
      struct sock_fprog fp = { .len = prog_len, .filter = prog_buf };
      if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
          syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) != 0) {
        int n = snprintf(out, sizeof out, "load-failed %d\n", errno);
        if (write(pipefd[1], out, (size_t)n) < 0) _exit(3);
        _exit(0);
      }
    }
    long r;
    int e = 0;
    if (strcmp(kind, "i386") == 0) {
      r = i386_call((long)nr, a);
      if (r < 0 && r >= -4095) { e = (int)-r; r = -1; }
    } else {
      errno = 0;
      r = syscall((long)nr, a[0], a[1], a[2], a[3], a[4], a[5]);
      if (r == -1) e = errno;
    }
    int n = r == -1 ? snprintf(out, sizeof out, "err %d\n", e) : snprintf(out, sizeof out, "ok\n");
    if (write(pipefd[1], out, (size_t)n) < 0) _exit(3);
    _exit(0);
  }
  close(pipefd[1]);
  char buf[64] = {0};
  ssize_t got = read(pipefd[0], buf, sizeof buf - 1);
  close(pipefd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) printf("signal %d\n", WTERMSIG(status));
  else if (got > 0) fputs(buf, stdout);
  else printf("no-result %d\n", WEXITSTATUS(status));
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: %s FILTER.bpf|- PROBE...\n", argv[0]); return 2; }
  int load = strcmp(argv[1], "-") != 0;
  if (load && read_filter(argv[1]) != 0) return 2;
  for (int i = 2; i < argc; i++) run_probe(argv[i], load);
  return 0;
}
