/*
 * `syscage-exec --dump PID` and `syscage-exec --dump-exec [--until-filter] --
 * COMMAND [ARGS...]`: read the seccomp filter stack of a process with
 * ptrace(PTRACE_SECCOMP_GET_FILTER), for src/run/dump.ts (`syscage dump` and
 * the `pid:N` sources).
 *
 * The kernel (kernel/seccomp.c, seccomp_get_filter) answers only a tracer that
 * has CAP_SYS_ADMIN and is not itself under seccomp (EACCES otherwise), and
 * only about a ptrace-stopped tracee. Its filter index 0 is the OLDEST filter
 * (get_nth_filter counts filter_off from the first installed), so the stack is
 * written oldest first. PTRACE_SECCOMP_GET_METADATA gives the flags the kernel
 * kept of each filter (only SECCOMP_FILTER_FLAG_LOG is recorded).
 *
 * --dump PID: PTRACE_SEIZE, PTRACE_INTERRUPT, wait for the stop, dump,
 * PTRACE_DETACH. The process runs on unchanged.
 *
 * --dump-exec: fork; the child asks to be traced (PTRACE_TRACEME), stops
 * itself, and execs COMMAND (its standard output goes to our standard error,
 * so it cannot mix with the report). The traced command is dumped at the stop
 * of its first execve (PTRACE_EVENT_EXEC: the new program is loaded and has
 * not run an instruction), or with --until-filter, followed through fork,
 * vfork and clone, at the first syscall stop of any of its processes that has
 * a filter (right after its first seccomp(2) / prctl(PR_SET_SECCOMP) returns).
 * Then every traced process is killed (SIGKILL; PTRACE_O_EXITKILL as well).
 *
 * Output on stdout, one fact per line:
 *   syscage-exec-dump 1                 the handshake (this is the helper, format 1)
 *   pid N                               the process dumped
 *   stopped attach | exec | filter      where it was stopped
 *   status KEY VALUE                    Seccomp, Seccomp_filters, NoNewPrivs,
 *                                       Name, State of /proc/N/status (while stopped)
 *   cmdline HEX                         /proc/N/cmdline (NUL-separated), hex
 *   filter I LEN FLAGS HEX              filter I (0 = oldest): LEN instructions,
 *                                       FLAGS the metadata flags (decimal) or
 *                                       "?" (no PTRACE_SECCOMP_GET_METADATA), HEX
 *                                       the raw struct sock_filter array (host order)
 *   end COUNT                           every filter was read
 * or, on failure, as the last line (exit status 2):
 *   error STEP ERRNO                    STEP: seize, interrupt, wait, get-filter,
 *                                       fork, exec (the command could not be run)
 *   error not-filter-mode 0             index 0 gave EINVAL: no filter (mode 0 or strict)
 *   error exited STATUS                 the command ended before the stop point
 *                                       (STATUS: "exit N" or "signal N" as two words)
 * Usage errors go to stderr with exit status 2.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "syscage-exec.h"

#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif
#ifndef PTRACE_SECCOMP_GET_METADATA
#define PTRACE_SECCOMP_GET_METADATA 0x420d
#endif

struct dump_metadata {
  uint64_t filter_off;
  uint64_t flags;
};

#define DUMP_REQ(r) ((enum __ptrace_request)(r))

static void print_proc(pid_t pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "r");
  if (f != NULL) {
    char line[512];
    static const char *keys[] = {"Name", "State", "NoNewPrivs", "Seccomp", "Seccomp_filters"};
    while (fgets(line, sizeof line, f) != NULL) {
      for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        size_t n = strlen(keys[k]);
        if (strncmp(line, keys[k], n) != 0 || line[n] != ':') continue;
        char *v = line + n + 1;
        while (*v == ' ' || *v == '\t') v++;
        v[strcspn(v, "\n")] = '\0';
        /* Name may hold anything but a newline: hex keeps the line format simple. */
        printf("status %s ", keys[k]);
        for (const unsigned char *p = (const unsigned char *)v; *p != '\0'; p++) printf("%02x", *p);
        printf("\n");
      }
    }
    fclose(f);
  }
  snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    unsigned char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    printf("cmdline ");
    for (ssize_t i = 0; i < n; i++) printf("%02x", buf[i]);
    printf("\n");
  }
}

/* Dump every filter of the ptrace-stopped `pid`. 0, or -1 after an "error" line. */
static int dump_filters(pid_t pid) {
  int count = 0;
  for (long index = 0;; index++) {
    long n = ptrace(DUMP_REQ(PTRACE_SECCOMP_GET_FILTER), pid, (void *)index, NULL);
    if (n < 0) {
      if (errno == ENOENT && index > 0) break;
      if (errno == EINVAL && index == 0) {
        printf("error not-filter-mode 0\n");
        return -1;
      }
      printf("error get-filter %d\n", errno);
      return -1;
    }
    struct sock_filter *buf = calloc((size_t)n + 1, sizeof *buf);
    if (buf == NULL) {
      printf("error get-filter %d\n", ENOMEM);
      return -1;
    }
    long got = ptrace(DUMP_REQ(PTRACE_SECCOMP_GET_FILTER), pid, (void *)index, buf);
    if (got != n) {
      printf("error get-filter %d\n", got < 0 ? errno : EIO);
      free(buf);
      return -1;
    }
    struct dump_metadata md = {.filter_off = (uint64_t)index, .flags = 0};
    long mr = ptrace(DUMP_REQ(PTRACE_SECCOMP_GET_METADATA), pid, (void *)sizeof md, &md);
    if (mr < 0) printf("filter %ld %ld ? ", index, n);
    else printf("filter %ld %ld %llu ", index, n, (unsigned long long)md.flags);
    const unsigned char *bytes = (const unsigned char *)buf;
    for (size_t i = 0; i < (size_t)n * sizeof *buf; i++) printf("%02x", bytes[i]);
    printf("\n");
    free(buf);
    count++;
  }
  printf("end %d\n", count);
  return 0;
}

static int dump_attached(pid_t pid, const char *stopped) {
  printf("pid %d\nstopped %s\n", (int)pid, stopped);
  print_proc(pid);
  return dump_filters(pid);
}

static int dump_pid(pid_t pid) {
  if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) < 0) {
    printf("error seize %d\n", errno);
    return -1;
  }
  if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) < 0) {
    printf("error interrupt %d\n", errno);
    return -1;
  }
  int status = 0;
  for (;;) {
    if (waitpid(pid, &status, __WALL) < 0) {
      printf("error wait %d\n", errno);
      return -1;
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      printf("error seize %d\n", ESRCH);
      return -1;
    }
    /* The interrupt's stop (PTRACE_EVENT_STOP); a signal arriving first is handed back to the process. */
    if (WIFSTOPPED(status) && (status >> 16) == PTRACE_EVENT_STOP) break;
    if (WIFSTOPPED(status)) ptrace(PTRACE_CONT, pid, NULL, (void *)(long)WSTOPSIG(status));
  }
  int rc = dump_attached(pid, "attach");
  ptrace(PTRACE_DETACH, pid, NULL, NULL);
  return rc;
}

/* The processes traced by --dump-exec. */
static pid_t *traced;
static size_t n_traced, cap_traced;

static int is_traced(pid_t p) {
  for (size_t i = 0; i < n_traced; i++)
    if (traced[i] == p) return 1;
  return 0;
}

static void add_traced(pid_t p) {
  if (n_traced == cap_traced) {
    size_t c = cap_traced == 0 ? 16 : cap_traced * 2;
    pid_t *t = realloc(traced, c * sizeof *t);
    if (t == NULL) return; /* not tracked: still killed by PTRACE_O_EXITKILL */
    traced = t;
    cap_traced = c;
  }
  traced[n_traced++] = p;
}

static void drop_traced(pid_t p) {
  for (size_t i = 0; i < n_traced; i++) {
    if (traced[i] == p) {
      traced[i] = traced[--n_traced];
      return;
    }
  }
}

static void kill_traced(void) {
  for (size_t i = 0; i < n_traced; i++) kill(traced[i], SIGKILL);
}

static int dump_exec(int argc, char **argv) {
  int until_filter = 0;
  int i = 0;
  if (i < argc && strcmp(argv[i], "--until-filter") == 0) {
    until_filter = 1;
    i++;
  }
  if (i >= argc || strcmp(argv[i], "--") != 0 || i + 1 >= argc) {
    fprintf(stderr, "usage: syscage-exec --dump-exec [--until-filter] -- COMMAND [ARGS...] (run by `syscage dump`, not by hand)\n");
    return 2;
  }
  char **command = argv + i + 1;
  int errpipe[2];
  if (pipe2(errpipe, O_CLOEXEC) < 0) {
    printf("error fork %d\n", errno);
    return -1;
  }
  fflush(stdout);
  pid_t child = fork();
  if (child < 0) {
    printf("error fork %d\n", errno);
    return -1;
  }
  if (child == 0) {
    close(errpipe[0]);
    int e = 0;
    if (dup2(2, 1) < 0 || ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0) e = errno;
    if (e == 0) {
      raise(SIGSTOP);
      execvp(command[0], command);
      e = errno;
    }
    if (write(errpipe[1], &e, sizeof e) < 0) _exit(127);
    _exit(127);
  }
  close(errpipe[1]);
  int status = 0;
  if (waitpid(child, &status, 0) < 0 || !WIFSTOPPED(status)) {
    int e = 0;
    if (read(errpipe[0], &e, sizeof e) == (ssize_t)sizeof e && e != 0) printf("error exec %d\n", e);
    else printf("error wait %d\n", errno != 0 ? errno : ECHILD);
    return -1;
  }
  long options = PTRACE_O_EXITKILL | PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD;
  if (until_filter) options |= PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE;
  if (ptrace(PTRACE_SETOPTIONS, child, NULL, (void *)options) < 0) {
    printf("error seize %d\n", errno);
    kill(child, SIGKILL);
    return -1;
  }
  add_traced(child);
  enum __ptrace_request resume = until_filter ? PTRACE_SYSCALL : PTRACE_CONT;
  ptrace(resume, child, NULL, NULL);
  int exec_checked = 0;
  int main_status = 0;
  for (;;) {
    pid_t w = waitpid(-1, &status, __WALL);
    if (w < 0) {
      if (errno == EINTR) continue;
      break; /* ECHILD: every traced process is gone */
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      if (w == child) {
        main_status = status;
        if (!exec_checked) {
          int e = 0;
          if (read(errpipe[0], &e, sizeof e) == (ssize_t)sizeof e && e != 0) {
            printf("error exec %d\n", e);
            kill_traced();
            return -1;
          }
          exec_checked = 1;
        }
      }
      drop_traced(w);
      if (n_traced == 0) break;
      continue;
    }
    if (!WIFSTOPPED(status)) continue;
    int sig = WSTOPSIG(status);
    int event = status >> 16;
    if (!is_traced(w)) {
      /* A new process or thread of the command, auto-attached (it starts with SIGSTOP). */
      add_traced(w);
      ptrace(resume, w, NULL, NULL);
      continue;
    }
    if (event == PTRACE_EVENT_EXEC) {
      if (w == child) exec_checked = 1;
      if (!until_filter && w == child) {
        int rc = dump_attached(w, "exec");
        kill_traced();
        return rc;
      }
    }
    if (until_filter && (sig == (SIGTRAP | 0x80) || event == PTRACE_EVENT_EXEC)) {
      long n = ptrace(DUMP_REQ(PTRACE_SECCOMP_GET_FILTER), w, (void *)0L, NULL);
      if (n >= 0) {
        int rc = dump_attached(w, "filter");
        kill_traced();
        return rc;
      }
      if (errno != EINVAL) {
        printf("error get-filter %d\n", errno);
        kill_traced();
        return -1;
      }
    }
    if (sig == (SIGTRAP | 0x80) || event != 0) {
      ptrace(resume, w, NULL, NULL);
      continue;
    }
    /* A signal for the command: hand it on (a group-stop has no siginfo and is resumed without one). */
    siginfo_t si;
    if (ptrace(PTRACE_GETSIGINFO, w, NULL, &si) < 0) ptrace(resume, w, NULL, NULL);
    else ptrace(resume, w, NULL, (void *)(long)sig);
  }
  if (WIFSIGNALED(main_status)) printf("error exited signal %d\n", WTERMSIG(main_status));
  else printf("error exited exit %d\n", WEXITSTATUS(main_status));
  return -1;
}

int dump_main(int argc, char **argv) {
  printf("syscage-exec-dump 1\n");
  int rc;
  if (argc >= 1 && strcmp(argv[0], "--dump") == 0) {
    char *end = NULL;
    long pid = argc == 2 ? strtol(argv[1], &end, 10) : 0;
    if (argc != 2 || end == argv[1] || *end != '\0' || pid <= 0 || pid > 0x3fffffff) {
      fprintf(stderr, "usage: syscage-exec --dump PID (run by `syscage dump`, not by hand)\n");
      return 2;
    }
    rc = dump_pid((pid_t)pid);
  } else {
    rc = dump_exec(argc - 1, argv + 1);
  }
  if (fflush(stdout) != 0) return 1;
  return rc == 0 ? 0 : 2;
}
