/*
 * The native front door of `syscage run`: run the command from the launch
 * cache without starting Node at all.
 *
 *   syscage-exec --cached-run ROOT run [POLICY OPTIONS] [--] COMMAND [ARGS...]
 *
 * bin/syscage calls this for `syscage run`; ROOT is the package root. The
 * launch cache is written by the TypeScript side (src/cli/run-cache.ts, which
 * documents the key and the entry format; docs/run.md). This file builds the
 * same key text, finds and checks the entry exactly as run-cache.ts's
 * readEntry does, and on a hit forks: the child applies the cached launch
 * description (helper_launch, the same code as every other launch) and
 * execs the command; this process waits for it and ends as `syscage run`
 * does (the command's status, 128+N with a note for SIGSYS, 125/126/127 with
 * the helper's reason). Anything it does not understand, and every miss,
 * execs `node ROOT/dist/cli/main.js run ...` with the same arguments, which
 * plans, runs and stores the entry. There is no policy logic here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "syscage-exec.h"

#define KEY_FORMAT "syscage-launch-cache/3"
#define MAX_NAMED_FILE (16u * 1024u * 1024u)
#define ENTRY_VERSION 2u
#define MAX_ENTRY (8u * 1024u * 1024u)
#define MAX_KEY 65536u

static const char *root;
static char **run_argv; /* "run", options..., command, args... */
static int run_argc;
static int debug;

static int env_on(const char *name) {
  const char *v = getenv(name);
  return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
}

/* Give the whole command line to Node's CLI; `why` is for SYSCAGE_CACHE_DEBUG. */
static void defer(const char *why) __attribute__((noreturn));
static void defer(const char *why) {
  (void)why; /* Node repeats the lookup and reports its own reason. */
  char main_js[PATH_MAX];
  if (snprintf(main_js, sizeof main_js, "%s/dist/cli/main.js", root) >= (int)sizeof main_js) {
    fprintf(stderr, "syscage: the package path is too long\n");
    _exit(125);
  }
  char **argv = calloc((size_t)run_argc + 3, sizeof *argv);
  if (argv == NULL) {
    fprintf(stderr, "syscage: out of memory\n");
    _exit(125);
  }
  argv[0] = "node";
  argv[1] = main_js;
  memcpy(argv + 2, run_argv, (size_t)run_argc * sizeof *argv);
  execvp("node", argv);
  fprintf(stderr, "syscage: cannot start node (needed for `syscage run` without a launch cache entry): %s\n", strerror(errno));
  _exit(errno == ENOENT ? 127 : 126);
}

/* ---- the key text (run-cache.ts cacheKey) ------------------------------ */

struct text {
  char *buf;
  size_t len, cap;
};

static void append(struct text *t, const char *data, size_t n) {
  if (t->len + n > MAX_KEY) defer("key too long");
  if (t->len + n > t->cap) {
    size_t cap = t->cap == 0 ? 1024 : t->cap;
    while (cap < t->len + n) cap *= 2;
    char *b = realloc(t->buf, cap);
    if (b == NULL) defer("out of memory");
    t->buf = b;
    t->cap = cap;
  }
  memcpy(t->buf + t->len, data, n);
  t->len += n;
}

static void appendf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void appendf(struct text *t, const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n < 0 || n >= (int)sizeof line) defer("key line too long");
  append(t, line, (size_t)n);
}

/* Options with a value (run-cache.ts VALUE_OPTIONS, RUN_VALUE_OPTIONS): 1 the value names a file
   (keyed by content), 2 a path the helper opens (a relative one keys the working directory), 0 text. */
static const struct {
  const char *name;
  int file;
} value_options[] = {
    {"--policy", 1},   {"--system-call-filter", 0}, {"--capability", 0},     {"--drop-capability", 0}, {"--settings", 1},
    {"--property", 0}, {"--unit", 1},               {"--arch", 0},           {"--profile", 1},         {"--kernel", 0},
    {"--host-arch", 0}, {"--argument-width", 0},    {"--routes", 0},         {"--add-filter", 1},      {"--allow-read", 2},
    {"--allow-write", 2}, {"--allow-exec", 2},      {"--allow-connect", 0},  {"--allow-bind", 0},      {"--scope", 0},
    {"--landlock", 0}, {"--limit", 0},              {"--timeout", 0},        {"--kill-after", 0},      {"--nice", 0},
    {"--keep-fd", 0},  {"--env", 0},                {"--cwd", 2},            {"--preset", 0},
};

static int value_option(const char *name) {
  for (size_t i = 0; i < sizeof value_options / sizeof value_options[0]; i++)
    if (strcmp(value_options[i].name, name) == 0) return (int)i;
  return -1;
}

/* "capability help" and friends: the value, trimmed, is "help". */
static int is_help(const char *v) {
  while (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r') v++;
  if (strncmp(v, "help", 4) != 0) return 0;
  for (v += 4; *v != '\0'; v++)
    if (*v != ' ' && *v != '\t' && *v != '\n' && *v != '\r') return 0;
  return 1;
}

/* The key line of one named file: device, inode, size, mtime and ctime in ns (what Node's bigint stat gives). */
static uint64_t fnv1a64(const unsigned char *p, size_t n);

/* A named file by its content (run-cache.ts cacheKey): "file SIZE FNV1A64". The entry found is the
   program compiled from exactly these bytes, whatever the file holds a moment later. */
static void file_line(struct text *key, const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) defer("cannot open a named file");
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    defer("a named file is not a regular file");
  }
  if (st.st_size < 0 || (unsigned long long)st.st_size > MAX_NAMED_FILE) {
    close(fd);
    defer("a named file is too large");
  }
  size_t cap = (size_t)st.st_size + 1, n = 0;
  unsigned char *buf = malloc(cap);
  if (buf == NULL) {
    close(fd);
    defer("out of memory");
  }
  for (;;) {
    if (n == cap) {
      /* The file grew while being read: let Node read it. */
      free(buf);
      close(fd);
      defer("a named file changed while being read");
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      free(buf);
      close(fd);
      defer("cannot read a named file");
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  uint64_t h = fnv1a64(buf, n);
  free(buf);
  appendf(key, "file %zu %016llx\n", n, (unsigned long long)h);
}

/* dist/build-id, and the inode, mtime and size of dist/cli/main.js (which every tsc run rewrites; run-cache.ts buildId). */
static void build_line(struct text *key) {
  char path[PATH_MAX], cli[PATH_MAX];
  snprintf(path, sizeof path, "%s/dist/build-id", root);
  snprintf(cli, sizeof cli, "%s/dist/cli/main.js", root);
  struct stat main_js;
  if (stat(cli, &main_js) != 0) defer("no built CLI");
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) defer("no build id");
  char buf[256];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0 || n >= (ssize_t)sizeof buf - 1) defer("bad build id");
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\t' || buf[n - 1] == '\r')) n--;
  buf[n] = '\0';
  appendf(key, "build %s %llu %lld %llu\n", buf, (unsigned long long)main_js.st_ino,
          (long long)main_js.st_mtim.tv_sec * 1000000000LL + main_js.st_mtim.tv_nsec, (unsigned long long)main_js.st_size);
}

/* Parse `run [options] [--] COMMAND ...` as run-cache.ts parseRunArgv does; builds the key; returns the command's index. */
static int parse_and_key(struct text *key) {
  struct text files = {0};
  int relative = 0;
  struct utsname u;
  if (uname(&u) != 0) defer("uname failed");
  append(key, KEY_FORMAT "\n", strlen(KEY_FORMAT) + 1);
  build_line(key);
  appendf(key, "machine %s\nrelease %s\neuid %u\n", u.machine, u.release, (unsigned)geteuid());
  int i = 1;
  for (; i < run_argc; i++) {
    const char *tok = run_argv[i];
    if (strcmp(tok, "--") == 0) {
      i++;
      break;
    }
    if (tok[0] != '-') break;
    char name[64];
    const char *value = NULL;
    if (strcmp(tok, "-p") == 0) {
      strcpy(name, "--property");
    } else if (strncmp(tok, "--", 2) == 0) {
      const char *eq = strchr(tok, '=');
      size_t n = eq == NULL ? strlen(tok) : (size_t)(eq - tok);
      if (n >= sizeof name) defer("unknown option");
      memcpy(name, tok, n);
      name[n] = '\0';
      if (eq != NULL) value = eq + 1;
    } else {
      defer("short option");
    }
    if (strcmp(name, "--private-network") == 0 || strcmp(name, "--deny-network") == 0 || strcmp(name, "--allow-system") == 0 ||
        strcmp(name, "--allow-tmp") == 0 || strcmp(name, "--clear-env") == 0) {
      if (value != NULL) defer("flag with a value");
      appendf(key, "option %s 0:\n", name);
      continue;
    }
    int o = value_option(name);
    if (o < 0) defer("unknown option");
    if (value == NULL) {
      if (i + 1 >= run_argc || run_argv[i + 1][0] == '-') defer("option without a plain value");
      value = run_argv[++i];
    }
    if ((strcmp(name, "--capability") == 0 || strcmp(name, "--drop-capability") == 0) && is_help(value)) defer("help");
    appendf(key, "option %s %zu:", name, strlen(value));
    append(key, value, strlen(value));
    append(key, "\n", 1);
    if (value_options[o].file == 1) file_line(&files, value);
    if (value_options[o].file == 2 && value[0] != '/') relative = 1;
  }
  if (relative) {
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd) == NULL) defer("no working directory");
    appendf(key, "cwd %zu:", strlen(cwd));
    append(key, cwd, strlen(cwd));
    append(key, "\n", 1);
  }
  if (i >= run_argc || run_argv[i][0] == '\0') defer("no command");
  if (files.len > 0) append(key, files.buf, files.len);
  free(files.buf);
  return i;
}

/* ---- the entry (run-cache.ts readEntry) -------------------------------- */

static uint64_t fnv1a64(const unsigned char *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

/* A directory of the effective uid that nobody else can write. */
static int trusted_dir(const char *path) {
  struct stat s;
  return lstat(path, &s) == 0 && S_ISDIR(s.st_mode) && s.st_uid == geteuid() && (s.st_mode & 022) == 0;
}

/* The cache's base ($XDG_CACHE_HOME or ~/.cache), as the writer requires it (run-cache.ts untrustedBase):
   a real directory of the effective uid or root, writable by nobody else unless sticky. */
static int trusted_base(const char *path) {
  struct stat s;
  if (lstat(path, &s) != 0 || !S_ISDIR(s.st_mode)) return 0;
  if (s.st_uid != geteuid() && s.st_uid != 0) return 0;
  return (s.st_mode & 022) == 0 || (s.st_mode & S_ISVTX) != 0;
}

/* The cache directory ($XDG_CACHE_HOME or $HOME/.cache, then syscage/launch), or NULL. */
static int cache_dir(char *out, size_t size) {
  const char *xdg = getenv("XDG_CACHE_HOME");
  if (xdg != NULL && xdg[0] == '/') return snprintf(out, size, "%s/syscage/launch", xdg) < (int)size;
  const char *home = getenv("HOME");
  if (home != NULL && home[0] == '/') return snprintf(out, size, "%s/.cache/syscage/launch", home) < (int)size;
  return 0; /* Node falls back to the password database; leave that to it. */
}

static uint32_t get_u32(const unsigned char *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

/* run-cache.ts badDescription: what `syscage run` sends, and nothing else. */
static int good_description(const unsigned char *d, size_t n) {
  if (n < 28 || memcmp(d, "SCGX", 4) != 0 || get_u32(d + 4) != LAUNCH_VERSION || (get_u32(d + 12) & ~27u) != 0) return 0; /* options: capabilities, private network, new session, Landlock no-TCP */
  uint32_t count = get_u32(d + 24);
  if (count < 1 || count > 64) return 0;
  size_t o = 28;
  for (uint32_t p = 0; p < count; p++) {
    if (n - o < 4) return 0;
    uint32_t insns = get_u32(d + o);
    if (insns < 1 || insns > 4096) return 0;
    o += 4 + (size_t)insns * 8;
    if (o > n) return 0;
  }
  struct sandbox sb;
  char why[256];
  if (!sandbox_parse(d, n, &o, &sb, why, sizeof why)) return 0;
  return o == n;
}

/* Take a u32 length and that many bytes at *o (before the 8-byte checksum). */
static const unsigned char *part(const unsigned char *b, size_t n, size_t *o, uint32_t *len) {
  if (n - 8 - *o < 4) return NULL;
  *len = get_u32(b + *o);
  if (n - 8 - *o - 4 < *len) return NULL;
  const unsigned char *p = b + *o + 4;
  *o += 4 + (size_t)*len;
  return p;
}

struct entry {
  unsigned char *bytes;
  const unsigned char *warnings, *description;
  uint32_t warnings_len, description_len;
};

/* Read and check the entry for `key`; 0 on any doubt. */
static int read_entry(const struct text *key, char *path, size_t path_size, struct entry *e) {
  char dir[PATH_MAX], parent[PATH_MAX], base[PATH_MAX];
  if (!cache_dir(dir, sizeof dir)) return 0;
  snprintf(parent, sizeof parent, "%s", dir);
  *strrchr(parent, '/') = '\0';
  snprintf(base, sizeof base, "%s", parent);
  *strrchr(base, '/') = '\0';
  if (!trusted_base(base) || !trusted_dir(parent) || !trusted_dir(dir)) return 0;
  if (snprintf(path, path_size, "%s/%016llx", dir, (unsigned long long)fnv1a64((const unsigned char *)key->buf, key->len)) >= (int)path_size) return 0;
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return 0;
  struct stat s;
  if (fstat(fd, &s) != 0 || !S_ISREG(s.st_mode) || s.st_uid != geteuid() || (s.st_mode & 077) != 0 || s.st_size > (off_t)MAX_ENTRY || s.st_size < 36) {
    close(fd);
    return 0;
  }
  size_t n = (size_t)s.st_size, got = 0;
  unsigned char *b = malloc(n);
  if (b == NULL) {
    close(fd);
    return 0;
  }
  while (got < n) {
    ssize_t r = pread(fd, b + got, n - got, (off_t)got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
  }
  close(fd);
  uint32_t key_len;
  size_t o = 8;
  const unsigned char *k;
  if (got != n || memcmp(b, "SCGC", 4) != 0 || get_u32(b + 4) != ENTRY_VERSION || (k = part(b, n, &o, &key_len)) == NULL ||
      (e->warnings = part(b, n, &o, &e->warnings_len)) == NULL || (e->description = part(b, n, &o, &e->description_len)) == NULL ||
      o != n - 8) {
    free(b);
    return 0;
  }
  uint64_t sum;
  memcpy(&sum, b + o, 8);
  if (sum != fnv1a64(b, o) || key_len != key->len || memcmp(k, key->buf, key->len) != 0 ||
      (e->warnings_len > 0 && e->warnings[e->warnings_len - 1] != '\n') || !good_description(e->description, e->description_len)) {
    free(b);
    return 0;
  }
  e->bytes = b;
  return 1;
}

/* ---- running the command (run-wait.ts waitForCommand) ----------------- */

static volatile pid_t child_pid;

static void forward(int sig) {
  /* A terminal's Ctrl-C reaches the command directly (same process group). */
  if (sig == SIGINT && isatty(0)) return;
  if (child_pid > 0) kill(child_pid, sig);
}

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP};

static int launch(const struct entry *e, char **command) {
  int status_pipe[2];
  int desc = memfd_create("syscage-launch", MFD_CLOEXEC);
  if (desc < 0 || pipe2(status_pipe, O_CLOEXEC) != 0) defer("no memfd or pipe");
  for (size_t w = 0; w < e->description_len;) {
    ssize_t r = write(desc, e->description + w, e->description_len - w);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) defer("cannot write the memfd");
    w += (size_t)r;
  }
  if (lseek(desc, 0, SEEK_SET) != 0) defer("cannot rewind the memfd");

  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);
  pid_t pid = fork();
  if (pid < 0) {
    sigprocmask(SIG_SETMASK, &old, NULL);
    defer("fork failed");
  }
  if (pid == 0) {
    sigprocmask(SIG_SETMASK, &old, NULL);
    close(status_pipe[0]);
    helper_launch(desc, status_pipe[1], command);
  }
  child_pid = pid;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = forward;
  sa.sa_flags = SA_RESTART;
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) sigaction(forwarded[i], &sa, NULL);
  sigprocmask(SIG_SETMASK, &old, NULL);
  close(status_pipe[1]);
  close(desc);

  /* The status line, if any: end of file without one means the exec happened. */
  char report[600];
  size_t got = 0;
  for (;;) {
    ssize_t r = read(status_pipe[0], report + got, sizeof report - 1 - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
    if (got == sizeof report - 1) break;
  }
  report[got] = '\0';
  close(status_pipe[0]);
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) {
      fprintf(stderr, "syscage: cannot wait for %s: %s\n", command[0], strerror(errno));
      return 125;
    }
  /* The handshake line first (helper_launch writes it once the description is read). */
  static const char hello[] = HELPER_HANDSHAKE "\n";
  char *line = report;
  if (strncmp(report, hello, sizeof hello - 1) == 0) line = report + sizeof hello - 1;
  else {
    fprintf(stderr, "syscage: the command was not run: the launch stopped before the native helper read its description\n");
    return 125;
  }
  memmove(report, line, strlen(line) + 1);
  char *nl = strchr(report, '\n');
  if (nl != NULL) *nl = '\0';
  if (report[0] != '\0') {
    /* "125 REASON", "126 REASON" or "127 REASON" (launch-status.ts parseStatusReport). */
    if (strlen(report) < 5 || strncmp(report, "12", 2) != 0 || report[2] < '5' || report[2] > '7' || report[3] != ' ') {
      fprintf(stderr, "syscage: the native helper reported something unexpected: %s\n", report);
      return 125;
    }
    int code = 120 + (report[2] - '0');
    if (code == 125) fprintf(stderr, "syscage: the command was not run: %s\n", report + 4);
    else fprintf(stderr, "syscage: %s\n", report + 4);
    return code;
  }
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) {
    if (WTERMSIG(st) == SIGSYS) fprintf(stderr, "syscage: %s was killed by the syscall filter (SIGSYS)\n", command[0]);
    return 128 + WTERMSIG(st);
  }
  return 125;
}

int cached_run(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "run") != 0) {
    fprintf(stderr, "syscage-exec: usage: syscage-exec --cached-run ROOT run [OPTIONS] [--] COMMAND [ARGS...] (run by bin/syscage)\n");
    return 125;
  }
  root = argv[0];
  run_argv = argv + 1;
  run_argc = argc - 1;
  debug = env_on("SYSCAGE_CACHE_DEBUG");
  if (env_on("SYSCAGE_NO_CACHE")) defer("cache off");
  if (getenv("SYSCAGE_TEST_LANDLOCK_ABI") != NULL) defer("simulated Landlock ABI");
  if (getenv("SYSCAGE_HELPER") != NULL) defer("another helper");
  struct text key = {0};
  int cmd = parse_and_key(&key);
  char path[PATH_MAX];
  struct entry e;
  if (!read_entry(&key, path, sizeof path, &e)) defer("miss");
  if (debug) fprintf(stderr, "syscage: cache: hit (native) %s\n", path);
  for (const unsigned char *w = e.warnings, *end = e.warnings + e.warnings_len; w < end;) {
    const unsigned char *nl = memchr(w, '\n', (size_t)(end - w));
    fprintf(stderr, "syscage: warning: %.*s\n", (int)(nl - w), (const char *)w);
    w = nl + 1;
  }
  return launch(&e, run_argv + cmd);
}
