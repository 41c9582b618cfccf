/*
 * The sandbox around the filter (src/run/sandbox.ts plans it; the layout of its
 * part of the launch description is in src/run/launch-format.ts): resource
 * limits, nice, the Landlock ruleset (paths opened with O_PATH here), the
 * environment and working directory, closing fds, and for a timeout or a
 * private temp dir a supervisor that stays outside the sandbox.
 *
 * There is no policy logic here: which rights each path gets, which ABI the
 * rules need and why, all come from the TypeScript side. This file keeps
 * only the rights the kernel's Landlock ABI knows (from the description's
 * table) and refuses to run when that ABI is below the one the plan needs.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "syscage-exec.h"

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule 445
#define __NR_landlock_restrict_self 446
#endif
#ifndef __NR_close_range
#define __NR_close_range 436
#endif
#define LL_CREATE_RULESET_VERSION 1u
#define LL_RULE_PATH_BENEATH 1
#define LL_RULE_NET_PORT 2
/* Rights a rule on a file (not a directory) may carry: execute, write_file, read_file, truncate, ioctl_dev. */
#define LL_FILE_RIGHTS ((1ull << 0) | (1ull << 1) | (1ull << 2) | (1ull << 14) | (1ull << 15))

struct ll_ruleset_attr {
  uint64_t handled_access_fs, handled_access_net, scoped;
};
struct ll_path_beneath_attr {
  uint64_t allowed_access;
  int32_t parent_fd;
} __attribute__((packed));
struct ll_net_port_attr {
  uint64_t allowed_access, port;
};

/* ---- the description's sandbox part ------------------------------------ */

struct reader {
  const unsigned char *b;
  size_t n, o;
  char *why;
  size_t why_size;
  int bad;
};

static int r_fail(struct reader *r, const char *msg) {
  if (!r->bad) snprintf(r->why, r->why_size, "%s", msg);
  r->bad = 1;
  return 0;
}

static const unsigned char *r_take(struct reader *r, size_t size) {
  if (r->bad) return NULL;
  if (r->n - r->o < size) {
    r_fail(r, "the sandbox part is truncated");
    return NULL;
  }
  const unsigned char *p = r->b + r->o;
  r->o += size;
  return p;
}

static uint32_t r_u32(struct reader *r) {
  uint32_t v = 0;
  const unsigned char *p = r_take(r, 4);
  if (p != NULL) memcpy(&v, p, 4);
  return v;
}

static uint64_t r_u64(struct reader *r) {
  uint64_t v = 0;
  const unsigned char *p = r_take(r, 8);
  if (p != NULL) memcpy(&v, p, 8);
  return v;
}

/* A length-prefixed text as a NUL-terminated copy (no NUL inside), or NULL. */
static char *r_text(struct reader *r, const char *what) {
  uint32_t len = r_u32(r);
  if (r->bad) return NULL;
  if (len > SB_MAX_TEXT) {
    char m[96];
    snprintf(m, sizeof m, "a %s longer than %u bytes", what, SB_MAX_TEXT);
    r_fail(r, m);
    return NULL;
  }
  const unsigned char *p = r_take(r, len);
  if (p == NULL) return NULL;
  if (memchr(p, 0, len) != NULL) {
    char m[96];
    snprintf(m, sizeof m, "a %s with a NUL byte", what);
    r_fail(r, m);
    return NULL;
  }
  char *s = malloc((size_t)len + 1);
  if (s == NULL) {
    r_fail(r, "out of memory");
    return NULL;
  }
  memcpy(s, p, len);
  s[len] = '\0';
  return s;
}

int sandbox_parse(const unsigned char *buf, size_t len, size_t *pos, struct sandbox *s, char *why, size_t why_size) {
  struct reader r = {buf, len, *pos, why, why_size, 0};
  memset(s, 0, sizeof *s);
  s->ll_abi = r_u32(&r);
  if (s->ll_abi > SB_LL_ABIS - 1) return r_fail(&r, "an unknown Landlock ABI");
  s->reason = r_text(&r, "reason");
  s->handled_fs = r_u64(&r);
  s->handled_net = r_u64(&r);
  s->scoped = r_u64(&r);
  for (int a = 0; a < SB_LL_ABIS; a++) {
    s->known_fs[a] = r_u64(&r);
    s->known_net[a] = r_u64(&r);
    s->known_scopes[a] = r_u64(&r);
  }
  s->path_count = r_u32(&r);
  if (s->path_count > SB_MAX_PATHS) return r_fail(&r, "too many paths");
  s->paths = calloc(s->path_count + 1u, sizeof *s->paths);
  if (s->paths == NULL) return r_fail(&r, "out of memory");
  for (uint32_t i = 0; i < s->path_count && !r.bad; i++) {
    s->paths[i].access = r_u64(&r);
    uint32_t flags = r_u32(&r);
    if (flags > 1) return r_fail(&r, "bad path flags");
    s->paths[i].optional = flags;
    s->paths[i].path = r_text(&r, "path");
    if (s->paths[i].path != NULL && s->paths[i].path[0] != '/') return r_fail(&r, "a relative path");
  }
  s->port_count = r_u32(&r);
  if (s->port_count > SB_MAX_PORTS) return r_fail(&r, "too many ports");
  s->ports = calloc(s->port_count + 1u, sizeof *s->ports);
  if (s->ports == NULL) return r_fail(&r, "out of memory");
  for (uint32_t i = 0; i < s->port_count && !r.bad; i++) {
    s->ports[i].access = r_u64(&r);
    s->ports[i].port = r_u64(&r);
    if (s->ports[i].port > 65535) return r_fail(&r, "a port above 65535");
  }
  s->tmp_access = r_u64(&r);
  s->rlimit_count = r_u32(&r);
  if (s->rlimit_count > SB_MAX_RLIMITS) return r_fail(&r, "too many limits");
  for (uint32_t i = 0; i < s->rlimit_count && !r.bad; i++) {
    s->rlimits[i].resource = r_u32(&r);
    s->rlimits[i].soft = r_u64(&r);
    s->rlimits[i].hard = r_u64(&r);
    if (s->rlimits[i].resource > 15) return r_fail(&r, "an unknown resource limit");
  }
  s->has_nice = r_u32(&r);
  s->nice = (int32_t)r_u32(&r);
  if (s->has_nice > 1) return r_fail(&r, "a bad nice flag");
  s->timeout_ms = r_u32(&r);
  s->kill_after_ms = r_u32(&r);
  s->keep_count = r_u32(&r);
  if (s->keep_count > SB_MAX_FDS) return r_fail(&r, "too many kept fds");
  s->keep = calloc(s->keep_count + 1u, sizeof *s->keep);
  if (s->keep == NULL) return r_fail(&r, "out of memory");
  for (uint32_t i = 0; i < s->keep_count && !r.bad; i++) s->keep[i] = r_u32(&r);
  s->clear_env = r_u32(&r);
  if (s->clear_env > 1) return r_fail(&r, "a bad clear-env flag");
  s->env_count = r_u32(&r);
  if (s->env_count > SB_MAX_ENV) return r_fail(&r, "too many environment entries");
  s->env = calloc(s->env_count + 1u, sizeof *s->env);
  if (s->env == NULL) return r_fail(&r, "out of memory");
  for (uint32_t i = 0; i < s->env_count && !r.bad; i++) {
    s->env[i] = r_text(&r, "environment entry");
    if (s->env[i] != NULL && (s->env[i][0] == '=' || strchr(s->env[i], '=') == NULL)) return r_fail(&r, "an environment entry without KEY=");
  }
  s->cwd = r_text(&r, "working directory");
  if (r.bad) return 0;
  if (s->cwd[0] == '\0') {
    free(s->cwd);
    s->cwd = NULL;
  }
  if (s->ll_abi == 0 && (s->handled_fs | s->handled_net | s->scoped | s->tmp_access | s->path_count | s->port_count) != 0)
    return r_fail(&r, "Landlock rules without a Landlock ABI");
  *pos = r.o;
  return 1;
}

/* ---- limits ------------------------------------------------------------- */

/* --limit nproc as root: a pids cgroup made for the run ("" when none). */
static char pids_dir[PATH_MAX];

static uint64_t nproc_limit(const struct sandbox *s, int *found) {
  *found = 0;
  for (uint32_t i = 0; i < s->rlimit_count; i++)
    if (s->rlimits[i].resource == RLIMIT_NPROC) {
      *found = 1;
      return s->rlimits[i].soft;
    }
  return 0;
}

/* Is `word` one of the comma- or space-separated words of `list`? */
static int has_word(const char *list, const char *word) {
  size_t n = strlen(word);
  for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
    if ((p == list || p[-1] == ',' || p[-1] == ' ') && (p[n] == '\0' || p[n] == ',' || p[n] == ' ' || p[n] == '\n')) return 1;
  return 0;
}

/* The directory of this process's cgroup in a hierarchy that has the pids controller, or 0. */
static int pids_cgroup_of_self(char *out, size_t size) {
  FILE *m = fopen("/proc/self/mountinfo", "re");
  if (m == NULL) return 0;
  char line[4096], mnt[PATH_MAX] = "", root[PATH_MAX] = "";
  int v2 = 0;
  while (fgets(line, sizeof line, m) != NULL) {
    char r[PATH_MAX], mp[PATH_MAX], fstype[64], super[1024];
    const char *dash = strstr(line, " - ");
    if (dash == NULL || sscanf(line, "%*s %*s %*s %4095s %4095s", r, mp) != 2 || sscanf(dash + 3, "%63s %*s %1023s", fstype, super) != 2) continue;
    if (strcmp(fstype, "cgroup") == 0 && has_word(super, "pids")) {
      snprintf(mnt, sizeof mnt, "%s", mp);
      snprintf(root, sizeof root, "%s", r);
      v2 = 0;
      break;
    }
    if (strcmp(fstype, "cgroup2") == 0 && mnt[0] == '\0') {
      snprintf(mnt, sizeof mnt, "%s", mp);
      snprintf(root, sizeof root, "%s", r);
      v2 = 1;
    }
  }
  fclose(m);
  if (mnt[0] == '\0') return 0;
  FILE *c = fopen("/proc/self/cgroup", "re");
  if (c == NULL) return 0;
  char rel[PATH_MAX] = "";
  while (fgets(line, sizeof line, c) != NULL) {
    char *a = strchr(line, ':'), *b = a != NULL ? strchr(a + 1, ':') : NULL;
    if (b == NULL) continue;
    *b = '\0';
    int match = v2 ? a[1] == '\0' : has_word(a + 1, "pids");
    if (!match) continue;
    snprintf(rel, sizeof rel, "%s", b + 1);
    rel[strcspn(rel, "\n")] = '\0';
    break;
  }
  fclose(c);
  if (rel[0] != '/') return 0;
  const char *inside = rel;
  size_t rl = strlen(root);
  if (strcmp(root, "/") != 0 && strncmp(rel, root, rl) == 0) inside = rel + rl;
  if (strcmp(inside, "/") == 0) inside = "";
  if (snprintf(out, size, "%s%s", mnt, inside) >= (int)size) return 0;
  if (v2) {
    /* cgroup v2: a child cgroup gets the pids controller only when this one hands it down. */
    char ctl[PATH_MAX + 32], buf[512] = "";
    snprintf(ctl, sizeof ctl, "%s/cgroup.subtree_control", out);
    int fd = open(ctl, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t k = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (k <= 0 || !has_word(buf, "pids")) return 0;
  }
  return 1;
}

static int write_file(const char *dir, const char *name, const char *text) {
  char path[PATH_MAX + 64];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t w = write(fd, text, strlen(text));
  int e = errno;
  close(fd);
  errno = e;
  return w == (ssize_t)strlen(text) ? 0 : -1;
}

/* Root's --limit nproc: the kernel ignores RLIMIT_NPROC for uid 0, so the command's tree goes into
   a pids cgroup of its own with pids.max = N (threads count, as for RLIMIT_NPROC). */
static void make_pids_cgroup(uint64_t max) {
  char base[PATH_MAX];
  if (!pids_cgroup_of_self(base, sizeof base))
    helper_fail(EXIT_SETUP, "--limit nproc: the kernel does not apply RLIMIT_NPROC to root (uid 0), and no pids cgroup is available to this process to enforce it instead (cgroup v1 pids, or v2 with pids in cgroup.subtree_control); run the command as another user (spawn()'s uid option), or leave nproc out");
  /* Earlier runs' cgroups that a leftover process kept: rmdir removes only the empty ones. */
  DIR *d = opendir(base);
  if (d != NULL) {
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
      if (strncmp(e->d_name, "syscage-", 8) == 0) {
        char old[PATH_MAX + 256];
        snprintf(old, sizeof old, "%s/%s", base, e->d_name);
        rmdir(old);
      }
    closedir(d);
  }
  if (snprintf(pids_dir, sizeof pids_dir, "%s/syscage-%d", base, (int)getpid()) >= (int)sizeof pids_dir || mkdir(pids_dir, 0700) != 0)
    helper_fail(EXIT_SETUP, "--limit nproc: cannot create the pids cgroup %s: %s", pids_dir, strerror(errno));
  char text[32];
  snprintf(text, sizeof text, "%llu", (unsigned long long)max);
  if (write_file(pids_dir, "pids.max", text) != 0) {
    int e = errno;
    rmdir(pids_dir);
    helper_fail(EXIT_SETUP, "--limit nproc: cannot set pids.max in %s: %s", pids_dir, strerror(e));
  }
}

static void join_pids_cgroup(void) {
  if (pids_dir[0] == '\0') return;
  char me[32];
  snprintf(me, sizeof me, "%d", (int)getpid());
  if (write_file(pids_dir, "cgroup.procs", me) != 0) helper_fail(EXIT_SETUP, "--limit nproc: cannot join the pids cgroup %s: %s", pids_dir, strerror(errno));
}

static const char *const rlimit_names[16] = {"cpu", "fsize", "data", "stack", "core", "rss", "nproc", "nofile", "memlock", "as", "locks", "sigpending", "msgqueue", "nice", "rtprio", "rttime"};

void sandbox_limits(const struct sandbox *s) {
  for (uint32_t i = 0; i < s->rlimit_count; i++) {
    uint32_t res = s->rlimits[i].resource;
    /* copy_process exempts the root user from RLIMIT_NPROC: for root the pids cgroup holds it (made by the supervisor). */
    if (res == RLIMIT_NPROC && getuid() == 0 && pids_dir[0] == '\0')
      helper_fail(EXIT_SETUP, "--limit nproc: the kernel does not apply RLIMIT_NPROC to processes of root (uid 0), so it would not stop a fork bomb; run the command as another user (spawn()'s uid option), or leave nproc out");
    struct rlimit rl = {(rlim_t)s->rlimits[i].soft, (rlim_t)s->rlimits[i].hard};
    if (setrlimit((int)res, &rl) != 0) {
      int e = errno;
      struct rlimit cur;
      getrlimit((int)res, &cur);
      helper_fail(EXIT_SETUP, "--limit %s: cannot set it to %llu: %s (the current hard limit is %llu%s)", rlimit_names[res], (unsigned long long)s->rlimits[i].soft, strerror(e),
                  (unsigned long long)cur.rlim_max, e == EPERM ? "; raising it needs CAP_SYS_RESOURCE" : "");
    }
  }
  if (s->has_nice) {
    errno = 0;
    if (nice(s->nice) == -1 && errno != 0) helper_fail(EXIT_SETUP, "--nice %d: %s%s", s->nice, strerror(errno), errno == EPERM ? " (a negative value needs CAP_SYS_NICE)" : "");
  }
}

/* ---- Landlock ------------------------------------------------------------ */

/* The kernel's Landlock ABI (0: none); SYSCAGE_TEST_LANDLOCK_ABI lowers it, for tests of older kernels. */
static long kernel_landlock_abi(int *err) {
  long abi = syscall(__NR_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
  *err = abi < 0 ? errno : 0;
  if (abi < 0) abi = 0;
  const char *forced = getenv("SYSCAGE_TEST_LANDLOCK_ABI");
  if (forced != NULL && forced[0] >= '0' && forced[0] <= '9') {
    long f = strtol(forced, NULL, 10);
    if (f < abi) abi = f;
    if (abi == 0 && *err == 0) *err = ENOSYS;
  }
  return abi;
}

int sandbox_ruleset(struct sandbox *s) {
  if (s->ll_abi == 0) return -1;
  int err;
  long abi = kernel_landlock_abi(&err);
  if (abi < (long)s->ll_abi) {
    char have[96];
    if (abi == 0)
      snprintf(have, sizeof have, "no Landlock (%s%s)", strerror(err), err == EOPNOTSUPP ? ": add landlock to the lsm= boot parameter" : "");
    else
      snprintf(have, sizeof have, "ABI %ld", abi);
    helper_fail(EXIT_SETUP, "the --allow-*/--scope options need Landlock ABI %u (%s), and this kernel has %s; nothing was run. --landlock=best-effort runs with what the kernel can enforce", s->ll_abi, s->reason, have);
  }
  int a = abi > SB_LL_ABIS - 1 ? SB_LL_ABIS - 1 : (int)abi;
  struct ll_ruleset_attr attr = {s->handled_fs & s->known_fs[a], s->handled_net & s->known_net[a], s->scoped & s->known_scopes[a]};
  size_t size = a >= 6 ? sizeof attr : a >= 4 ? 16 : 8;
  long fd = syscall(__NR_landlock_create_ruleset, &attr, size, 0);
  if (fd < 0) helper_fail(EXIT_SETUP, "cannot create the Landlock ruleset: %s", strerror(errno));
  for (uint32_t i = 0; i <= s->path_count; i++) {
    const char *path;
    uint64_t access;
    int optional;
    if (i < s->path_count) {
      path = s->paths[i].path;
      access = s->paths[i].access;
      optional = (int)s->paths[i].optional;
    } else if (s->tmp_access != 0 && s->tmpdir[0] != '\0') {
      path = s->tmpdir;
      access = s->tmp_access;
      optional = 0;
    } else
      break;
    int pfd = open(path, O_PATH | O_CLOEXEC);
    if (pfd < 0) {
      if (optional && (errno == ENOENT || errno == ENOTDIR)) continue;
      helper_fail(EXIT_SETUP, "cannot open %s for a Landlock rule: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(pfd, &st) != 0) helper_fail(EXIT_SETUP, "cannot stat %s: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode)) access &= LL_FILE_RIGHTS;
    access &= attr.handled_access_fs;
    if (access != 0) {
      struct ll_path_beneath_attr pb = {access, pfd};
      if (syscall(__NR_landlock_add_rule, (int)fd, LL_RULE_PATH_BENEATH, &pb, 0) != 0)
        helper_fail(EXIT_SETUP, "cannot add the Landlock rule for %s: %s", path, strerror(errno));
    }
    close(pfd);
  }
  for (uint32_t i = 0; i < s->port_count; i++) {
    struct ll_net_port_attr np = {s->ports[i].access & attr.handled_access_net, s->ports[i].port};
    if (np.allowed_access == 0) continue;
    if (syscall(__NR_landlock_add_rule, (int)fd, LL_RULE_NET_PORT, &np, 0) != 0)
      helper_fail(EXIT_SETUP, "cannot add the Landlock rule for TCP port %llu: %s", (unsigned long long)np.port, strerror(errno));
  }
  return (int)fd;
}

void sandbox_restrict(int ruleset) {
  if (ruleset < 0) return;
  if (syscall(__NR_landlock_restrict_self, ruleset, 0) != 0) helper_fail(EXIT_SETUP, "cannot apply the Landlock ruleset: %s", strerror(errno));
  close(ruleset);
}

/* ---- environment, working directory, fds -------------------------------- */

void sandbox_env_cwd(const struct sandbox *s) {
  if (s->clear_env && clearenv() != 0) helper_fail(EXIT_SETUP, "cannot clear the environment");
  for (uint32_t i = 0; i < s->env_count; i++)
    if (putenv(s->env[i]) != 0) helper_fail(EXIT_SETUP, "cannot set %s: %s", s->env[i], strerror(errno));
  if (s->tmpdir[0] != '\0' && setenv("TMPDIR", s->tmpdir, 1) != 0) helper_fail(EXIT_SETUP, "cannot set TMPDIR: %s", strerror(errno));
  if (s->cwd != NULL && chdir(s->cwd) != 0) helper_fail(EXIT_SETUP, "--cwd %s: %s", s->cwd, strerror(errno));
}

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

void sandbox_close_fds(const struct sandbox *s, const int *own, size_t own_count) {
  int *keep = calloc(s->keep_count + own_count + 1u, sizeof *keep);
  if (keep == NULL) helper_fail(EXIT_SETUP, "out of memory");
  size_t n = 0;
  for (uint32_t i = 0; i < s->keep_count; i++) {
    int fd = (int)s->keep[i];
    if (fcntl(fd, F_GETFD) < 0) helper_fail(EXIT_SETUP, "--keep-fd %d: fd %d is not open", fd, fd);
    keep[n++] = fd;
  }
  for (size_t i = 0; i < own_count; i++)
    if (own[i] > 2) keep[n++] = own[i];
  qsort(keep, n, sizeof *keep, cmp_int);
  unsigned int from = 3;
  for (size_t i = 0; i <= n; i++) {
    unsigned int to = i < n ? (unsigned int)keep[i] : ~0u;
    if (to > from) {
      if (syscall(__NR_close_range, from, to - 1, 0) != 0) {
        /* Before Linux 5.9: close what /proc says is open. */
        DIR *d = opendir("/proc/self/fd");
        if (d == NULL) helper_fail(EXIT_SETUP, "cannot close the inherited fds: %s", strerror(errno));
        int dfd = dirfd(d);
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
          int fd = atoi(e->d_name);
          if (e->d_name[0] >= '0' && e->d_name[0] <= '9' && fd != dfd && (unsigned int)fd >= from && (unsigned int)fd <= to - 1) close(fd);
        }
        closedir(d);
      }
    }
    if (i < n) from = (unsigned int)keep[i] + 1;
  }
  free(keep);
}

/* ---- the supervisor: timeout, private temp dir ---------------------------- */

static pid_t *pids, *ppids;
static size_t pid_cap;

/* Signal every live descendant of this process; returns how many. */
static size_t signal_descendants(int sig) {
  size_t n = 0;
  DIR *d = opendir("/proc");
  if (d == NULL) return 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    char path[300], buf[512];
    snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t k = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (k <= 0) continue;
    buf[k] = '\0';
    char *rp = strrchr(buf, ')');
    char state;
    int ppid;
    if (rp == NULL || sscanf(rp + 1, " %c %d", &state, &ppid) != 2 || state == 'Z' || state == 'X') continue;
    if (n == pid_cap) {
      pid_cap = pid_cap == 0 ? 1024 : pid_cap * 2;
      pids = realloc(pids, pid_cap * sizeof *pids);
      ppids = realloc(ppids, pid_cap * sizeof *ppids);
      if (pids == NULL || ppids == NULL) break;
    }
    pids[n] = atoi(e->d_name);
    ppids[n] = ppid;
    n++;
  }
  closedir(d);
  /* Mark descendants: parents first, until nothing changes. */
  unsigned char *mark = calloc(n + 1, 1);
  if (mark == NULL) return 0;
  pid_t self = getpid();
  for (int changed = 1; changed;) {
    changed = 0;
    for (size_t i = 0; i < n; i++) {
      if (mark[i]) continue;
      int parent_marked = ppids[i] == self;
      for (size_t j = 0; j < n && !parent_marked; j++) parent_marked = mark[j] && pids[j] == ppids[i];
      if (parent_marked) mark[i] = changed = 1;
    }
  }
  size_t count = 0;
  for (size_t i = 0; i < n; i++)
    if (mark[i] && kill(pids[i], sig) == 0) count++;
  free(mark);
  return count;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *f) {
  (void)st;
  (void)f;
  if (type == FTW_DP || type == FTW_D) rmdir(path);
  else unlink(path);
  return 0;
}

static void remove_tmp(const struct sandbox *s) {
  if (s->tmpdir[0] != '\0') nftw(s->tmpdir, remove_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static void reap_others(pid_t main_pid, int *main_done, int *main_status) {
  int st;
  pid_t w;
  while ((w = waitpid(-1, &st, WNOHANG)) > 0)
    if (w == main_pid) {
      *main_done = 1;
      *main_status = st;
    }
}

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* End as the command ended: its exit status, or death by the same signal (no core file of ours). */
static void mirror(int status) __attribute__((noreturn));
static void mirror(int status) {
  if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
  int sig = WIFSIGNALED(status) ? WTERMSIG(status) : SIGKILL;
  struct rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  signal(sig, SIG_DFL);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, sig);
  sigprocmask(SIG_UNBLOCK, &one, NULL);
  raise(sig);
  _exit(128 + sig);
}

void sandbox_supervise(struct sandbox *s, int *status_fd, const char *command) {
  int has_nproc;
  uint64_t nproc = nproc_limit(s, &has_nproc);
  int cgroup = has_nproc && getuid() == 0;
  if (s->timeout_ms == 0 && s->tmp_access == 0 && !cgroup) return;
  if (cgroup) make_pids_cgroup(nproc);
  if (s->tmp_access != 0) {
    const char *base = getenv("TMPDIR");
    if (base == NULL || base[0] != '/') base = "/tmp";
    if (snprintf(s->tmpdir, sizeof s->tmpdir, "%s/syscage-tmp-XXXXXX", base) >= (int)sizeof s->tmpdir || mkdtemp(s->tmpdir) == NULL)
      helper_fail(EXIT_SETUP, "--allow-tmp: cannot create a temp dir in %s: %s", base, strerror(errno));
  }
  /* Orphans of the command come to us, so that a timeout can find every process. */
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  static const int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT};
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) sigaddset(&set, forwarded[i]);
  sigprocmask(SIG_BLOCK, &set, &old);
  pid_t child = fork();
  if (child < 0) helper_fail(EXIT_SETUP, "cannot fork the command's supervisor: %s", strerror(errno));
  if (child == 0) {
    sigprocmask(SIG_SETMASK, &old, NULL);
    /* If the supervisor is killed, so is the command. */
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    join_pids_cgroup();
    return;
  }
  /* The supervisor: not sandboxed, it only waits, forwards signals and enforces the timeout. */
  if (*status_fd >= 0) close(*status_fd);
  *status_fd = -1;
  int main_done = 0, main_status = 0, phase = 0;
  size_t signalled = 0;
  long long deadline = s->timeout_ms != 0 ? now_ms() + s->timeout_ms : -1;
  for (;;) {
    reap_others(child, &main_done, &main_status);
    if (main_done) {
      if (phase > 0) {
        /* Timed out: nothing of the command may stay. */
        for (int round = 0; round < 500; round++) {
          size_t k = signal_descendants(SIGKILL);
          signalled += k;
          reap_others(child, &main_done, &main_status);
          if (k == 0) break;
          struct timespec ms = {0, 2000000};
          nanosleep(&ms, NULL);
        }
        remove_tmp(s);
        if (pids_dir[0] != '\0') rmdir(pids_dir);
        fprintf(stderr, "syscage: %s timed out after %.3gs: every process of it was sent SIGTERM%s\n", command, s->timeout_ms / 1000.0, phase > 1 ? ", then SIGKILL" : " (and SIGKILL for any left)");
        (void)signalled;
        _exit(124);
      }
      remove_tmp(s);
      /* Empty once the command's tree is gone; a process it left running keeps it (and its limit). */
      if (pids_dir[0] != '\0') rmdir(pids_dir);
      mirror(main_status);
    }
    struct timespec wait, *wp = NULL;
    if (deadline >= 0) {
      long long left = deadline - now_ms();
      if (left < 0) left = 0;
      wait.tv_sec = left / 1000;
      wait.tv_nsec = (left % 1000) * 1000000;
      wp = &wait;
    }
    siginfo_t info;
    int sig = sigtimedwait(&set, &info, wp);
    if (sig < 0 && errno == EAGAIN) {
      if (phase == 0) {
        phase = 1;
        signalled += signal_descendants(SIGTERM);
        signal_descendants(SIGCONT);
        deadline = now_ms() + s->kill_after_ms;
      } else {
        phase = 2;
        signalled += signal_descendants(SIGKILL);
        deadline = now_ms() + 20;
      }
      continue;
    }
    if (sig < 0 || sig == SIGCHLD) continue;
    kill(child, sig);
  }
}
