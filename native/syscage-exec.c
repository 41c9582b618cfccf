/*
 * syscage-exec: the last step of `syscage run`, the part Node cannot do.
 *
 *   syscage-exec CONFIG_FD STATUS_FD -- COMMAND [ARGS...]
 *
 * It reads a launch description from CONFIG_FD (until end of file), applies it
 * to itself and execs COMMAND in place (found on PATH), so COMMAND keeps this
 * process: its pid, stdio, signals and exit status are the caller's to see.
 * There is no policy logic here; the programs were compiled and checked by the
 * TypeScript side, and the kernel checks them again when they are loaded.
 *
 * Order of work:
 *   0. --private-network: unshare(CLONE_NEWNET), then bring `lo` up;
 *   1. prctl(PR_SET_NO_NEW_PRIVS, 1);
 *   2. capabilities (when the description asks for them):
 *      - bounding set: PR_CAPBSET_DROP every capability not retained; this
 *        needs CAP_SETPCAP, so an unprivileged caller keeps its bounding set
 *        (with no_new_privs it can gain nothing through execve anyway);
 *      - permitted, effective: current ∩ retained (capset);
 *      - inheritable and ambient: root (real or effective uid 0) keeps its
 *        capabilities through execve by the root rule (permitted' =
 *        inheritable ∪ bounding, capped by no_new_privs to what it had), so
 *        inheritable becomes current ∩ retained and ambient is cleared, as
 *        for systemd-nspawn's payload. A caller that is not root keeps
 *        capabilities through execve only via the ambient set: its retained
 *        permitted capabilities are made inheritable and raised as ambient;
 *      - check: permitted and effective hold nothing outside the retained set;
 *   3. seccomp(SECCOMP_SET_MODE_FILTER, flags, program) for each program, in
 *      the order given (the caller puts its own program last, so it is the
 *      newest filter and wins ties between actions of the same kind);
 *   4. execvp(COMMAND, ARGS).
 *
 * Failure before exec: one line "125 REASON" on STATUS_FD and exit 125. exec
 * failure: "127 REASON" (not found) or "126 REASON" (cannot execute), with
 * that exit status. STATUS_FD is close-on-exec, so a successful exec shows up
 * as end of file with nothing written. STATUS_FD "-" means stderr, with the
 * prefix "syscage-exec: ".
 *
 * Launch description (all integers in host byte order):
 *   char magic[4] = "SCGX"; u32 version = 1;
 *   u32 seccomp_flags;            the flags word for every program
 *   u32 options;                  bit 0: apply capabilities; bit 1: private network
 *   u64 retained_capabilities;    bit n = capability n (used with option bit 0)
 *   u32 program_count;
 *   program_count times: u32 instruction_count; struct sock_filter[instruction_count]
 * Nothing may follow.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif
#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif

#define EXIT_SETUP 125
#define EXIT_CANNOT_EXECUTE 126
#define EXIT_NOT_FOUND 127

#define OPT_APPLY_CAPS 1u
#define OPT_PRIVATE_NETWORK 2u

/* Largest description accepted: 64 programs of 4096 instructions, with room. */
#define MAX_CONFIG (64u * 4096u * 8u + 4096u)
#define MAX_PROGRAMS 64u

static int status_fd = -1;

/* Report one line on the status channel and exit with `code`. */
static void fail(int code, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
static void fail(int code, const char *fmt, ...) {
  char line[512];
  int n = status_fd >= 0 ? snprintf(line, sizeof line, "%d ", code) : snprintf(line, sizeof line, "syscage-exec: ");
  va_list ap;
  va_start(ap, fmt);
  n += vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
  va_end(ap);
  if (n > (int)sizeof line - 2) n = (int)sizeof line - 2;
  line[n++] = '\n';
  ssize_t w = write(status_fd >= 0 ? status_fd : 2, line, (size_t)n);
  (void)w;
  _exit(code);
}

/* ---- the launch description ------------------------------------------- */

struct config {
  uint32_t seccomp_flags;
  uint32_t options;
  uint64_t retained;
  uint32_t program_count;
  struct sock_fprog programs[MAX_PROGRAMS];
};

static unsigned char *read_all(int fd, size_t *len) {
  size_t cap = 65536, n = 0;
  unsigned char *buf = malloc(cap);
  if (buf == NULL) fail(EXIT_SETUP, "out of memory");
  for (;;) {
    if (n == cap) {
      if (cap >= MAX_CONFIG) fail(EXIT_SETUP, "launch description is larger than %u bytes", MAX_CONFIG);
      cap *= 2;
      buf = realloc(buf, cap);
      if (buf == NULL) fail(EXIT_SETUP, "out of memory");
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fail(EXIT_SETUP, "cannot read the launch description from fd %d: %s", fd, strerror(errno));
    if (r == 0) break;
    n += (size_t)r;
  }
  *len = n;
  return buf;
}

/* Take `size` bytes at *pos, or fail: the description is cut short. */
static const unsigned char *take(const unsigned char *buf, size_t len, size_t *pos, size_t size) {
  if (len - *pos < size) fail(EXIT_SETUP, "launch description is truncated (%zu bytes)", len);
  const unsigned char *p = buf + *pos;
  *pos += size;
  return p;
}

static uint32_t take_u32(const unsigned char *buf, size_t len, size_t *pos) {
  uint32_t v;
  memcpy(&v, take(buf, len, pos, sizeof v), sizeof v);
  return v;
}

static void parse_config(int fd, struct config *c) {
  size_t len, pos = 0;
  unsigned char *buf = read_all(fd, &len);
  close(fd);
  if (memcmp(take(buf, len, &pos, 4), "SCGX", 4) != 0) fail(EXIT_SETUP, "launch description has a bad magic number");
  uint32_t version = take_u32(buf, len, &pos);
  if (version != 1) fail(EXIT_SETUP, "launch description version %u is not supported (expected 1)", version);
  c->seccomp_flags = take_u32(buf, len, &pos);
  c->options = take_u32(buf, len, &pos);
  memcpy(&c->retained, take(buf, len, &pos, 8), 8);
  c->program_count = take_u32(buf, len, &pos);
  if (c->program_count > MAX_PROGRAMS) fail(EXIT_SETUP, "too many programs (%u, at most %u)", c->program_count, MAX_PROGRAMS);
  for (uint32_t i = 0; i < c->program_count; i++) {
    uint32_t count = take_u32(buf, len, &pos);
    if (count == 0 || count > 0xffff) fail(EXIT_SETUP, "program %u has %u instructions", i + 1, count);
    /* The buffer stays allocated until exec; the kernel copies each program. */
    c->programs[i].len = (unsigned short)count;
    c->programs[i].filter = (struct sock_filter *)(void *)take(buf, len, &pos, (size_t)count * sizeof(struct sock_filter));
  }
  if (pos != len) fail(EXIT_SETUP, "launch description has %zu unexpected trailing bytes", len - pos);
}

/* ---- steps ------------------------------------------------------------- */

static void private_network(void) {
  if (unshare(CLONE_NEWNET) != 0) {
    fail(EXIT_SETUP, "--private-network: cannot create a network namespace: %s%s", strerror(errno),
         errno == EPERM ? " (it needs root: CAP_SYS_ADMIN)" : "");
  }
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) fail(EXIT_SETUP, "--private-network: socket: %s", strerror(errno));
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0) fail(EXIT_SETUP, "--private-network: cannot read the flags of lo: %s", strerror(errno));
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) fail(EXIT_SETUP, "--private-network: cannot bring lo up: %s", strerror(errno));
  close(s);
}

static int last_cap(void) {
  int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    char b[16] = {0};
    ssize_t n = read(fd, b, sizeof b - 1);
    close(fd);
    if (n > 0) return atoi(b);
  }
  /* No /proc: probe the bounding set until the kernel says "no such capability". */
  int c = 0;
  while (c < 63 && prctl(PR_CAPBSET_READ, c + 1, 0, 0, 0) >= 0) c++;
  return c;
}

struct caps {
  uint64_t effective, permitted, inheritable;
};

static struct caps get_caps(void) {
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct d[2];
  if (syscall(SYS_capget, &h, d) != 0) fail(EXIT_SETUP, "capget: %s", strerror(errno));
  struct caps c = {
      .effective = d[0].effective | (uint64_t)d[1].effective << 32,
      .permitted = d[0].permitted | (uint64_t)d[1].permitted << 32,
      .inheritable = d[0].inheritable | (uint64_t)d[1].inheritable << 32,
  };
  return c;
}

static void set_caps(struct caps c) {
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct d[2] = {
      {.effective = (uint32_t)c.effective, .permitted = (uint32_t)c.permitted, .inheritable = (uint32_t)c.inheritable},
      {.effective = (uint32_t)(c.effective >> 32), .permitted = (uint32_t)(c.permitted >> 32), .inheritable = (uint32_t)(c.inheritable >> 32)},
  };
  if (syscall(SYS_capset, &h, d) != 0) fail(EXIT_SETUP, "cannot set the capability sets (capset): %s", strerror(errno));
}

static void apply_capabilities(uint64_t retained) {
  int last = last_cap();
  struct caps now = get_caps();
  /* Bounding set: needs CAP_SETPCAP; without it we cannot (and need not) change it. */
  if (now.effective & (1ULL << CAP_SETPCAP)) {
    for (int cap = 0; cap <= last && cap < 64; cap++) {
      if (retained & (1ULL << cap)) continue;
      if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 1) continue;
      if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
        fail(EXIT_SETUP, "cannot drop capability %d from the bounding set: %s", cap, strerror(errno));
      }
    }
  }
  /* Root keeps its capabilities through execve by the root rule, so it needs
   * no inheritable or ambient ones (as systemd-nspawn's payload). Anyone else
   * keeps them only through the ambient set, which needs them inheritable
   * (always allowed for permitted capabilities). */
  int root = getuid() == 0 || geteuid() == 0;
  struct caps want = {
      .permitted = now.permitted & retained,
      .effective = now.effective & retained,
      .inheritable = (root ? now.inheritable : now.permitted) & retained,
  };
  set_caps(want);
  /* Ambient set (Linux >= 4.3; EINVAL before: nothing to clear then). */
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    fail(EXIT_SETUP, "cannot clear the ambient capability set: %s", strerror(errno));
  }
  if (!root) {
    for (int cap = 0; cap <= last && cap < 64; cap++) {
      uint64_t bit = 1ULL << cap;
      if (!(want.permitted & want.inheritable & bit)) continue;
      if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) {
        fail(EXIT_SETUP, "cannot raise capability %d in the ambient set: %s", cap, strerror(errno));
      }
    }
  }
  struct caps after = get_caps();
  if ((after.permitted | after.effective) & ~retained) {
    fail(EXIT_SETUP, "capabilities outside the retained set are still held after dropping them");
  }
}

static void load_filters(const struct config *c) {
  for (uint32_t i = 0; i < c->program_count; i++) {
    long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (unsigned long)c->seccomp_flags, &c->programs[i]);
    if (r < 0) {
      int e = errno;
      const char *hint = e == EINVAL   ? " (the kernel refused the program or the filter flags)"
                         : e == ENOMEM ? " (the stacked filters exceed the kernel's 32768-instruction path limit)"
                         : e == EACCES ? " (no_new_privs is not set and CAP_SYS_ADMIN is missing)"
                         : e == EFAULT ? " (bad program address)"
                                       : "";
      fail(EXIT_SETUP, "cannot load seccomp filter %u of %u (flags 0x%x): %s%s", i + 1, c->program_count, c->seccomp_flags,
           strerror(e), hint);
    }
    /* NEW_LISTENER returns a notification fd; without a supervisor we close it
     * (NOTIFY actions then fail with ENOSYS). */
    if (r > 0 && (c->seccomp_flags & SECCOMP_FILTER_FLAG_NEW_LISTENER)) close((int)r);
  }
}

static int parse_fd(const char *s, const char *what) {
  if (strcmp(s, "-") == 0) return -1;
  char *end;
  long v = strtol(s, &end, 10);
  if (*s == '\0' || *end != '\0' || v < 0 || v > 1 << 20) fail(EXIT_SETUP, "bad %s \"%s\" (expected a file descriptor number)", what, s);
  return (int)v;
}

int main(int argc, char **argv) {
  if (argc < 5 || strcmp(argv[3], "--") != 0) {
    fail(EXIT_SETUP, "usage: syscage-exec CONFIG_FD STATUS_FD|- -- COMMAND [ARGS...] (run by `syscage run`, not by hand)");
  }
  int config_fd = parse_fd(argv[1], "CONFIG_FD");
  status_fd = parse_fd(argv[2], "STATUS_FD");
  if (status_fd >= 0 && fcntl(status_fd, F_SETFD, FD_CLOEXEC) != 0) {
    int bad = status_fd;
    status_fd = -1;
    fail(EXIT_SETUP, "status fd %d is not open: %s", bad, strerror(errno));
  }
  if (config_fd < 0) fail(EXIT_SETUP, "CONFIG_FD is required");

  struct config c;
  memset(&c, 0, sizeof c);
  parse_config(config_fd, &c);

  if (c.options & OPT_PRIVATE_NETWORK) private_network();
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail(EXIT_SETUP, "cannot set no_new_privs: %s", strerror(errno));
  if (c.options & OPT_APPLY_CAPS) apply_capabilities(c.retained);
  load_filters(&c);

  execvp(argv[4], argv + 4);
  int e = errno;
  fail(e == ENOENT || e == ENOTDIR ? EXIT_NOT_FOUND : EXIT_CANNOT_EXECUTE, "%s: %s", argv[4], strerror(e));
}
