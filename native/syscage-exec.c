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
 * STATUS_FD first gets the handshake line "0 syscage-exec" once the launch
 * description is read (a file that is not the helper never writes it). Failure
 * before exec: then one line "125 REASON" and exit 125. exec failure: "127
 * REASON" (not found) or "126 REASON" (cannot execute), with that exit status.
 * STATUS_FD is close-on-exec, so a successful exec shows up as end of file
 * after the handshake. STATUS_FD "-" means stderr, with the
 * prefix "syscage-exec: ".
 *
 * Launch description (all integers in host byte order):
 *   char magic[4] = "SCGX"; u32 version = 1;
 *   u32 seccomp_flags;            the flags word for every program
 *   u32 options;                  bit 0: apply capabilities; bit 1: private network;
 *                                 bit 3: a new session (setsid) when none of fds 0-2 is a terminal;
 *                                 bit 4: Landlock denies every TCP bind and connect (ABI >= 4;
 *                                 on older kernels the seccomp rules alone keep sockets out)
 *   u64 retained_capabilities;    bit n = capability n (used with option bit 0)
 *   u32 program_count;
 *   program_count times: u32 instruction_count; struct sock_filter[instruction_count]
 *   only with option bit 2 (record, below):
 *     u32 record_fd;              where the supervisor writes its records
 *     u32 arg_entry_count;
 *     arg_entry_count times: u32 arch; u32 nr; u32 arg_mask (bit i: record args[i])
 * Nothing may follow.
 *
 * Record mode (option bit 2, `syscage record`): the LAST program returns
 * SECCOMP_RET_USER_NOTIF for the calls to record and is loaded with
 * SECCOMP_FILTER_FLAG_NEW_LISTENER. A supervisor answers every notification
 * with SECCOMP_USER_NOTIF_FLAG_CONTINUE (the call then runs as if the filter
 * had allowed it) after noting (arch, nr, the masked args). The supervisor
 * must not be under the filter, and this process must stay the command, so:
 *   a. before anything else this process double-forks the supervisor (an
 *      orphan, not a child of the command) and shakes hands with it over two
 *      pipes: the supervisor opens a pidfd of this process and proves that
 *      pidfd_getfd(2) works on it (PR_SET_PTRACER allows it under Yama);
 *   b. right before loading the last program, this process tells the
 *      supervisor the fd number the listener will get (the lowest free one),
 *      loads it and execs; every call from then on (execve first) waits for
 *      the supervisor, which takes the listener with pidfd_getfd(2) — no
 *      syscall of ours has to pass it, so nothing of ours is recorded;
 *   c. the supervisor writes one 64-byte record per distinct (arch, nr,
 *      masked args) to record_fd, and an end record with the counts when the
 *      listener reports that no task uses the filter any more (the command and
 *      all its descendants have exited).
 * Record layout (host byte order): u32 kind (1 call, 2 end, 3 error); u32
 * arch; u32 nr; u32 arg_mask; u64 args[6]. End: args[0] notifications,
 * args[1] distinct records, args[2] records dropped (table full). Error: nr =
 * errno, args[] = a NUL-terminated message (48 bytes). Needs Linux >= 5.9.
 * Environment SYSCAGE_TEST_NO_USER_NOTIF=1 simulates a kernel without user
 * notification (for tests).
 *
 *   syscage-exec --cached-run ROOT run [OPTIONS] [--] COMMAND [ARGS...]
 *
 * is the native front door of `syscage run` (bin/syscage calls it; see
 * cached-run.c): it runs COMMAND from the launch cache without starting
 * Node, or hands the whole command line to Node.
 *
 *   syscage-exec --probe
 *
 * prints the kernel facts that need a syscall (host-probe.c), for
 * src/host/probe.ts; its first line is the handshake "syscage-exec-probe 1".
 *
 *   syscage-exec --dump PID
 *   syscage-exec --dump-exec [--until-filter] -- COMMAND [ARGS...]
 *
 * read a process's seccomp filter stack (dump.c), for src/run/dump.ts; the
 * first line is the handshake "syscage-exec-dump 1".
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
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "syscage-exec.h"

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif
#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif


#define OPT_APPLY_CAPS 1u
#define OPT_PRIVATE_NETWORK 2u
#define OPT_RECORD 4u
#define OPT_NEW_SESSION 8u
#define OPT_LANDLOCK_NO_TCP 16u

/* Landlock (uapi/linux/landlock.h; ABI 4 added the network rights, Linux 6.7). */
#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_restrict_self 446
#endif
struct syscage_landlock_attr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
};
#define SYSCAGE_LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)
#define SYSCAGE_LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#define MAX_ARG_ENTRIES 4096u

/* Largest description accepted: 64 programs of 4096 instructions, with room. */
#define MAX_CONFIG (64u * 4096u * 8u + 4096u)
#define MAX_PROGRAMS 64u

static int status_fd = -1;

/* Report one line on the status channel and exit with `code`. */
static void vfail(int code, const char *fmt, va_list ap) __attribute__((noreturn));
static void vfail(int code, const char *fmt, va_list ap) {
  char line[1024];
  int n = status_fd >= 0 ? snprintf(line, sizeof line, "%d ", code) : snprintf(line, sizeof line, "syscage-exec: ");
  n += vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
  if (n > (int)sizeof line - 2) n = (int)sizeof line - 2;
  line[n++] = '\n';
  ssize_t w = write(status_fd >= 0 ? status_fd : 2, line, (size_t)n);
  (void)w;
  _exit(code);
}

void helper_fail(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfail(code, fmt, ap);
}
#define fail helper_fail

/* ---- the launch description ------------------------------------------- */

/* Record mode: which arguments to note for one (arch, nr). */
struct arg_entry {
  uint32_t arch, nr, mask;
};

struct config {
  uint32_t seccomp_flags;
  uint32_t options;
  uint64_t retained;
  uint32_t program_count;
  struct sock_fprog programs[MAX_PROGRAMS];
  struct sandbox sandbox;
  int record_fd;
  uint32_t arg_count;
  const struct arg_entry *args;
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
  if (version != LAUNCH_VERSION) fail(EXIT_SETUP, "launch description version %u is not supported (expected %u): the helper and the package are from different builds; rebuild with `npm run build:native -- --force`", version, LAUNCH_VERSION);
  c->seccomp_flags = take_u32(buf, len, &pos);
  c->options = take_u32(buf, len, &pos);
  memcpy(&c->retained, take(buf, len, &pos, 8), 8);
  c->program_count = take_u32(buf, len, &pos);
  if (c->program_count > MAX_PROGRAMS) fail(EXIT_SETUP, "too many programs (%u, at most %u)", c->program_count, MAX_PROGRAMS);
  for (uint32_t i = 0; i < c->program_count; i++) {
    uint32_t count = take_u32(buf, len, &pos);
    if (count == 0 || count > 4096) fail(EXIT_SETUP, "program %u has %u instructions (1 to 4096)", i + 1, count);
    /* The buffer stays allocated until exec; the kernel copies each program. */
    c->programs[i].len = (unsigned short)count;
    c->programs[i].filter = (struct sock_filter *)(void *)take(buf, len, &pos, (size_t)count * sizeof(struct sock_filter));
  }
  if (c->program_count == 0) fail(EXIT_SETUP, "launch description has no program");
  char why[256];
  if (!sandbox_parse(buf, len, &pos, &c->sandbox, why, sizeof why)) fail(EXIT_SETUP, "launch description: %s", why);
  if (c->options & OPT_RECORD) {
    if (c->program_count == 0) fail(EXIT_SETUP, "record mode needs the recording program");
    c->record_fd = (int)take_u32(buf, len, &pos);
    c->arg_count = take_u32(buf, len, &pos);
    if (c->arg_count > MAX_ARG_ENTRIES) fail(EXIT_SETUP, "too many argument entries (%u, at most %u)", c->arg_count, MAX_ARG_ENTRIES);
    c->args = (const struct arg_entry *)(const void *)take(buf, len, &pos, (size_t)c->arg_count * sizeof(struct arg_entry));
    if (fcntl(c->record_fd, F_SETFD, FD_CLOEXEC) != 0) fail(EXIT_SETUP, "record fd %d is not open: %s", c->record_fd, strerror(errno));
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

static void load_filters(const struct config *c, uint32_t count) {
  for (uint32_t i = 0; i < count; i++) {
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

/* ---- record mode: the supervisor ---------------------------------------- */

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

#define REC_CALL 1u
#define REC_END 2u
#define REC_ERROR 3u
#define TABLE_SIZE (1u << 16) /* distinct records kept; 3/4 of it is used */

struct record {
  uint32_t kind, arch, nr, mask;
  uint64_t args[6];
};

static int rec_fd = -1;

static void put_record(const struct record *r) {
  const char *p = (const char *)r;
  size_t left = sizeof *r;
  while (left > 0) {
    ssize_t w = write(rec_fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) _exit(1); /* the reader is gone: nothing left to do */
    p += w;
    left -= (size_t)w;
  }
}

/* An error record, then exit (the supervisor's counterpart of fail()). */
static void sup_fail(int err, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
static void sup_fail(int err, const char *fmt, ...) {
  struct record r;
  memset(&r, 0, sizeof r);
  r.kind = REC_ERROR;
  r.nr = (uint32_t)err;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf((char *)r.args, sizeof r.args, fmt, ap);
  va_end(ap);
  put_record(&r);
  _exit(1);
}

/* One line from a handshake pipe ("" at end of file). */
static void read_line(int fd, char *buf, size_t size) {
  size_t n = 0;
  while (n + 1 < size) {
    ssize_t r = read(fd, buf + n, 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0 || buf[n] == '\n') break;
    n++;
  }
  buf[n] = '\0';
}

static void write_line(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void write_line(int fd, const char *fmt, ...) {
  char line[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line - 1, fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  if (n > (int)sizeof line - 2) n = (int)sizeof line - 2;
  line[n++] = '\n';
  ssize_t w = write(fd, line, (size_t)n);
  (void)w;
}

static uint32_t arg_mask(const struct config *c, uint32_t arch, uint32_t nr) {
  for (uint32_t i = 0; i < c->arg_count; i++) {
    if (c->args[i].arch == arch && c->args[i].nr == nr) return c->args[i].mask;
  }
  return 0;
}

static uint64_t hash_record(const struct record *r) {
  uint64_t h = 1469598103934665603ULL ^ ((uint64_t)r->arch << 32 | r->nr);
  h *= 1099511628211ULL;
  for (int i = 0; i < 6; i++) h = (h ^ r->args[i]) * 1099511628211ULL;
  return h ^ (h >> 29);
}

/* Answer notifications until no task uses the filter any more. */
static void supervise(const struct config *c, int listener) {
  struct record *table = calloc(TABLE_SIZE, sizeof *table);
  if (table == NULL) sup_fail(ENOMEM, "out of memory");
  uint64_t notifications = 0, distinct = 0, dropped = 0;
  /* Linux >= 6.6: wake the supervisor on the notifying CPU (much faster); older kernels say EINVAL. */
  (void)ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, (uint64_t)SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
  struct seccomp_notif req;
  struct seccomp_notif_resp resp;
  struct pollfd p = {.fd = listener, .events = POLLIN};
  for (;;) {
    if (poll(&p, 1, -1) < 0) {
      if (errno == EINTR) continue;
      sup_fail(errno, "poll on the listener: %s", strerror(errno));
    }
    if (!(p.revents & POLLIN)) {
      if (p.revents & (POLLHUP | POLLERR)) break;
      continue;
    }
    memset(&req, 0, sizeof req);
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0) {
      if (errno == EINTR || errno == ENOENT) continue;
      sup_fail(errno, "SECCOMP_IOCTL_NOTIF_RECV: %s", strerror(errno));
    }
    notifications++;
    struct record r;
    memset(&r, 0, sizeof r);
    r.kind = REC_CALL;
    r.arch = req.data.arch;
    r.nr = (uint32_t)req.data.nr;
    r.mask = arg_mask(c, r.arch, r.nr);
    for (int i = 0; i < 6; i++) r.args[i] = (r.mask & (1u << i)) ? req.data.args[i] : 0;
    /* Open addressing; kind 0 marks a free slot. */
    for (uint64_t h = hash_record(&r);; h++) {
      struct record *slot = &table[h & (TABLE_SIZE - 1)];
      if (slot->kind == 0) {
        if (distinct >= TABLE_SIZE / 4 * 3) {
          dropped++;
          break;
        }
        *slot = r;
        distinct++;
        put_record(&r);
        break;
      }
      if (memcmp(slot, &r, sizeof r) == 0) break;
    }
    memset(&resp, 0, sizeof resp);
    resp.id = req.id;
    resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) != 0 && errno != ENOENT) {
      sup_fail(errno, "SECCOMP_IOCTL_NOTIF_SEND (CONTINUE): %s", strerror(errno));
    }
  }
  struct record end;
  memset(&end, 0, sizeof end);
  end.kind = REC_END;
  end.args[0] = notifications;
  end.args[1] = distinct;
  end.args[2] = dropped;
  put_record(&end);
  _exit(0);
}

/* Is `fd` a seccomp listener? */
static int is_listener(int fd) {
  char path[64], target[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(path, target, sizeof target - 1);
  if (n < 0) return 1; /* no /proc: trust the fd number */
  target[n] = '\0';
  return strcmp(target, "anon_inode:seccomp notify") == 0;
}

/*
 * The supervisor process (the grandchild of the helper, reparented): the
 * handshake of step a, then it takes the listener (step b) and supervises.
 * `to_sup`/`from_sup`: the handshake pipe ends; `parent_to_sup` is the
 * number of the helper's write end, used to test pidfd_getfd.
 */
static void supervisor_main(const struct config *c, pid_t parent, int to_sup, int from_sup, int parent_to_sup) {
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    dup2(null, 0), dup2(null, 1), dup2(null, 2);
    if (null > 2) close(null);
  }
  if (status_fd >= 0) close(status_fd);
  status_fd = -1;
  rec_fd = c->record_fd;
  prctl(PR_SET_NAME, "syscage-record", 0, 0, 0);
  int pidfd = (int)syscall(SYS_pidfd_open, parent, 0);
  if (pidfd < 0) {
    write_line(from_sup, "error cannot open a pidfd of the command's process: %s%s", strerror(errno),
               errno == ENOSYS ? " (syscage record needs Linux >= 5.9)" : "");
    _exit(1);
  }
  write_line(from_sup, "pid %d", (int)getpid());
  char line[64];
  read_line(to_sup, line, sizeof line);
  if (strcmp(line, "go") != 0) _exit(1);
  int probe = (int)syscall(SYS_pidfd_getfd, pidfd, parent_to_sup, 0);
  if (probe < 0) {
    write_line(from_sup, "error cannot take file descriptors from the command's process (pidfd_getfd: %s%s)", strerror(errno),
               errno == ENOSYS ? "; syscage record needs Linux >= 5.9" : errno == EPERM ? "; ptrace access is denied" : "");
    _exit(1);
  }
  close(probe);
  write_line(from_sup, "ok");
  read_line(to_sup, line, sizeof line);
  int want;
  if (sscanf(line, "fd %d", &want) != 1) _exit(0); /* the helper failed before loading; it reports that */
  /* Wait for the listener to appear in the helper; it cannot move on without us. */
  int listener = -1;
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (int wait_ms = 0;;) {
    listener = (int)syscall(SYS_pidfd_getfd, pidfd, want, 0);
    if (listener >= 0) break;
    if (errno == ESRCH) _exit(0); /* the helper exited: loading failed, it reported why */
    if (errno != EBADF) {
      int e = errno;
      kill(parent, SIGKILL);
      sup_fail(e, "cannot take the listener: pidfd_getfd: %s", strerror(e));
    }
    struct pollfd pp = {.fd = pidfd, .events = POLLIN};
    if (poll(&pp, 1, wait_ms) > 0) _exit(0); /* the helper exited */
    if (wait_ms < 10) wait_ms++;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - start.tv_sec > 30) {
      kill(parent, SIGKILL);
      sup_fail(ETIMEDOUT, "the listener did not appear as fd %d", want);
    }
  }
  if (!is_listener(listener)) {
    kill(parent, SIGKILL);
    sup_fail(EBADF, "fd %d of the command's process is not the seccomp listener", want);
  }
  close(pidfd);
  close(to_sup);
  close(from_sup);
  supervise(c, listener);
}

/* Step a (see the top): start the supervisor; it is ready to take the listener. */
static void start_supervisor(const struct config *c, int *to_sup_w, int *from_sup_r) {
  uint32_t action = SECCOMP_RET_USER_NOTIF;
  const char *sim = getenv("SYSCAGE_TEST_NO_USER_NOTIF");
  if (sim != NULL && strcmp(sim, "1") == 0) {
    fail(EXIT_SETUP, "this kernel does not support seccomp user notification (SECCOMP_RET_USER_NOTIF; simulated by SYSCAGE_TEST_NO_USER_NOTIF=1); syscage record needs Linux >= 5.9");
  }
  if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) != 0) {
    fail(EXIT_SETUP, "this kernel does not support seccomp user notification (SECCOMP_RET_USER_NOTIF: %s); syscage record needs Linux >= 5.9",
         strerror(errno));
  }
  int to_sup[2], from_sup[2];
  if (pipe2(to_sup, O_CLOEXEC) != 0 || pipe2(from_sup, O_CLOEXEC) != 0) fail(EXIT_SETUP, "pipe: %s", strerror(errno));
  pid_t parent = getpid();
  pid_t first = fork();
  if (first < 0) fail(EXIT_SETUP, "cannot fork the supervisor: %s", strerror(errno));
  if (first == 0) {
    /* Fork again so the supervisor is no child of the command (which may wait() for children). */
    pid_t second = fork();
    if (second != 0) _exit(second < 0 ? 1 : 0);
    close(to_sup[1]);
    close(from_sup[0]);
    supervisor_main(c, parent, to_sup[0], from_sup[1], to_sup[1]);
    _exit(1);
  }
  int st;
  while (waitpid(first, &st, 0) < 0 && errno == EINTR) {
  }
  close(to_sup[0]);
  close(from_sup[1]);
  char line[300];
  int pid;
  read_line(from_sup[0], line, sizeof line);
  if (strncmp(line, "error ", 6) == 0) fail(EXIT_SETUP, "%s", line + 6);
  if (sscanf(line, "pid %d", &pid) != 1) fail(EXIT_SETUP, "the recording supervisor did not start");
  /* Yama (ptrace_scope 1) lets only ancestors take our fds, unless we name the supervisor. */
  (void)prctl(PR_SET_PTRACER, (unsigned long)pid, 0, 0, 0);
  write_line(to_sup[1], "go");
  read_line(from_sup[0], line, sizeof line);
  if (strncmp(line, "error ", 6) == 0) fail(EXIT_SETUP, "%s", line + 6);
  if (strcmp(line, "ok") != 0) fail(EXIT_SETUP, "the recording supervisor failed to start");
  *to_sup_w = to_sup[1];
  *from_sup_r = from_sup[0];
}

/* Step b: load the recording program (the last one) with a listener the supervisor takes. */
static void load_recording_program(const struct config *c, int to_sup) {
  const struct sock_fprog *prog = &c->programs[c->program_count - 1];
  unsigned long flags = ((unsigned long)c->seccomp_flags & ~(unsigned long)SECCOMP_FILTER_FLAG_TSYNC) | SECCOMP_FILTER_FLAG_NEW_LISTENER;
  /* The listener gets the lowest free fd: find it, tell the supervisor, allocate nothing in between. */
  int lowest = fcntl(to_sup, F_DUPFD, 0);
  if (lowest < 0) fail(EXIT_SETUP, "fcntl: %s", strerror(errno));
  close(lowest);
  write_line(to_sup, "fd %d", lowest);
  long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, prog);
  if (r < 0) {
    int e = errno;
    fail(EXIT_SETUP, "cannot load the recording filter (flags 0x%lx): %s%s", flags, strerror(e),
         e == EBUSY ? " (another filter already has a listener)" : e == EINVAL ? " (the kernel refused the program or the flags)" : "");
  }
  /* From here on every call waits for the supervisor; the listener (close-on-exec) goes away with exec. */
}

/*
 * network: false, second layer: a Landlock domain that handles TCP bind and
 * connect and allows neither, so even a TCP socket the command got from
 * elsewhere cannot be bound or connected. Needs no_new_privs (set before).
 */
static void landlock_no_tcp(void) {
  long abi = syscall(__NR_landlock_create_ruleset, NULL, 0, 1U /* LANDLOCK_CREATE_RULESET_VERSION */);
  if (abi < 4) return; /* no Landlock, or no network rights: the filter's rules still hold */
  struct syscage_landlock_attr attr = {0, SYSCAGE_LANDLOCK_ACCESS_NET_BIND_TCP | SYSCAGE_LANDLOCK_ACCESS_NET_CONNECT_TCP};
  long fd = syscall(__NR_landlock_create_ruleset, &attr, sizeof attr, 0);
  if (fd < 0) fail(EXIT_SETUP, "cannot create the Landlock ruleset that denies TCP: %s", strerror(errno));
  if (syscall(__NR_landlock_restrict_self, (int)fd, 0) != 0) {
    int e = errno;
    close((int)fd);
    fail(EXIT_SETUP, "cannot apply the Landlock ruleset that denies TCP: %s", strerror(e));
  }
  close((int)fd);
}

static int parse_fd(const char *s, const char *what) {
  if (strcmp(s, "-") == 0) return -1;
  char *end;
  long v = strtol(s, &end, 10);
  if (*s == '\0' || *end != '\0' || v < 0 || v > 1 << 20) fail(EXIT_SETUP, "bad %s \"%s\" (expected a file descriptor number)", what, s);
  return (int)v;
}

void helper_launch(int config_fd, int status, char **command) {
  status_fd = status;
  if (status_fd >= 0 && fcntl(status_fd, F_SETFD, FD_CLOEXEC) != 0) {
    int bad = status_fd;
    status_fd = -1;
    fail(EXIT_SETUP, "status fd %d is not open: %s", bad, strerror(errno));
  }
  if (config_fd < 0) fail(EXIT_SETUP, "CONFIG_FD is required");

  struct config c;
  memset(&c, 0, sizeof c);
  parse_config(config_fd, &c);
  /* The handshake: this is syscage's helper and it read the description. A file that is not the
     helper (an empty file runs as an empty shell script and exits 0) never writes it. */
  if (status_fd >= 0) {
    static const char hello[] = HELPER_HANDSHAKE "\n";
    ssize_t w = write(status_fd, hello, sizeof hello - 1);
    (void)w;
  }

  int record = (c.options & OPT_RECORD) != 0, to_sup = -1, from_sup = -1;
  if (record && (c.sandbox.timeout_ms != 0 || c.sandbox.tmp_access != 0)) fail(EXIT_SETUP, "record mode takes no timeout or private temp dir");
  /* A timeout or a private temp dir: a supervisor stays outside the sandbox; this process goes on as its child. */
  sandbox_supervise(&c.sandbox, &status_fd, command[0]);
  if (c.options & OPT_PRIVATE_NETWORK) private_network();
  if (record) {
    start_supervisor(&c, &to_sup, &from_sup);
    close(c.record_fd); /* the supervisor has it */
    unsetenv("SYSCAGE_TEST_NO_USER_NOTIF");
  }
  /* Without a terminal on fds 0-2 the command needs none: a new session leaves it no controlling
     terminal, so it cannot push input into the caller's (TIOCSTI; the filter denies that too).
     EPERM: this process already leads a process group, and keeps its session. */
  if ((c.options & OPT_NEW_SESSION) && !isatty(0) && !isatty(1) && !isatty(2) && setsid() < 0 && errno != EPERM)
    fail(EXIT_SETUP, "cannot start a new session: %s", strerror(errno));
  /* The ruleset first (its paths opened here, with O_PATH), then the limits, so that a low
     --limit nofile does not stop the helper's own opens. */
  int ruleset = sandbox_ruleset(&c.sandbox);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail(EXIT_SETUP, "cannot set no_new_privs: %s", strerror(errno));
  sandbox_restrict(ruleset);
  sandbox_limits(&c.sandbox);
  if (c.options & OPT_LANDLOCK_NO_TCP) landlock_no_tcp();
  if (c.options & OPT_APPLY_CAPS) apply_capabilities(c.retained);
  sandbox_env_cwd(&c.sandbox);
  /* Record mode talks to its supervisor over to_sup/from_sup until the last program is loaded. */
  sandbox_close_fds(&c.sandbox, (int[]){status_fd, to_sup, from_sup}, 3);
  load_filters(&c, record ? c.program_count - 1 : c.program_count);
  if (record) load_recording_program(&c, to_sup);

  execvp(command[0], command);
  int e = errno;
  /* A bare name was looked up on PATH: say so, rather than the last directory's ENOENT. */
  if (e == ENOENT && strchr(command[0], '/') == NULL) {
    const char *path = getenv("PATH");
    fail(EXIT_NOT_FOUND, "%s: not found on PATH (%s)", command[0], path != NULL ? path : "unset: /bin:/usr/bin");
  }
  fail(e == ENOENT || e == ENOTDIR ? EXIT_NOT_FOUND : EXIT_CANNOT_EXECUTE, "%s: %s", command[0], strerror(e));
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "--cached-run") == 0) return cached_run(argc - 2, argv + 2);
  if (argc == 2 && strcmp(argv[1], "--probe") == 0) return host_probe();
  if (argc >= 2 && (strcmp(argv[1], "--dump") == 0 || strcmp(argv[1], "--dump-exec") == 0)) return dump_main(argc - 1, argv + 1);
  if (argc < 5 || strcmp(argv[3], "--") != 0) {
    fail(EXIT_SETUP, "usage: syscage-exec CONFIG_FD STATUS_FD|- -- COMMAND [ARGS...] (run by `syscage run`, not by hand)");
  }
  int config_fd = parse_fd(argv[1], "CONFIG_FD");
  helper_launch(config_fd, parse_fd(argv[2], "STATUS_FD"), argv + 4);
}
