/* The two halves of the native helper (see syscage-exec.c and cached-run.c). */
#ifndef SYSCAGE_EXEC_H
#define SYSCAGE_EXEC_H

#include <stddef.h>
#include <stdint.h>

/*
 * Read the launch description from config_fd, apply it to this process and
 * exec command[0] (found on PATH). Failures before exec write "125 REASON"
 * (126/127 for exec) to status_fd (or stderr when it is -1) and exit.
 */
void helper_launch(int config_fd, int status_fd, char **command) __attribute__((noreturn));

/*
 * `syscage-exec --cached-run ROOT run [OPTIONS] [--] COMMAND [ARGS...]`
 * (argv starts at ROOT): run COMMAND from the launch cache, or exec Node's
 * CLI (ROOT/dist/cli/main.js) with `run ...` when the cache cannot be used.
 */
int cached_run(int argc, char **argv);

/*
 * `syscage-exec --probe`: print the handshake line and the kernel facts that
 * need a syscall (see host-probe.c). Returns the exit status.
 */
int host_probe(void);

/* Exit statuses of a launch that did not run the command. */
#define EXIT_SETUP 125
#define EXIT_CANNOT_EXECUTE 126
#define EXIT_NOT_FOUND 127

/* Report one line on the status channel (or stderr) and exit with `code`. */
void helper_fail(int code, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));

/* The launch description's version (src/run/launch-format.ts LAUNCH_VERSION). */
#define LAUNCH_VERSION 2u

/* The sandbox part of the launch description (sandbox.c; src/run/launch-format.ts has the layout
   and LAUNCH_LIMITS, which a test compares with these). */
#define SB_LL_ABIS 8
#define SB_MAX_PATHS 4096u
#define SB_MAX_PORTS 4096u
#define SB_MAX_RLIMITS 16u
#define SB_MAX_FDS 1024u
#define SB_MAX_ENV 4096u
#define SB_MAX_TEXT 4096u

struct sandbox {
  uint32_t ll_abi;
  char *reason;
  uint64_t handled_fs, handled_net, scoped;
  uint64_t known_fs[SB_LL_ABIS], known_net[SB_LL_ABIS], known_scopes[SB_LL_ABIS];
  uint32_t path_count;
  struct { uint64_t access; uint32_t optional; char *path; } *paths;
  uint32_t port_count;
  struct { uint64_t access, port; } *ports;
  uint64_t tmp_access;
  uint32_t rlimit_count;
  struct { uint32_t resource; uint64_t soft, hard; } rlimits[SB_MAX_RLIMITS];
  uint32_t has_nice;
  int32_t nice;
  uint32_t timeout_ms, kill_after_ms;
  uint32_t keep_count;
  uint32_t *keep;
  uint32_t clear_env, env_count;
  char **env;
  char *cwd;
  char tmpdir[4096]; /* made at launch for --allow-tmp */
};

/* Parse the sandbox part at *pos (advanced past it); 0 with `why` on any problem. */
int sandbox_parse(const unsigned char *buf, size_t len, size_t *pos, struct sandbox *s, char *why, size_t why_size);
/* With a timeout or a private temp dir: fork; the parent supervises and never returns. */
void sandbox_supervise(struct sandbox *s, int *status_fd, const char *command);
void sandbox_limits(const struct sandbox *s);
/* Create the Landlock ruleset with its rules (-1: none). */
int sandbox_ruleset(struct sandbox *s);
void sandbox_restrict(int ruleset);
void sandbox_env_cwd(const struct sandbox *s);
/* Close every fd above 2 but the kept ones and the `n` fds of `own` (the helper's; -1 for none). */
void sandbox_close_fds(const struct sandbox *s, const int *own, size_t n);
/*
 * `syscage-exec --dump PID` and `syscage-exec --dump-exec [--until-filter] --
 * COMMAND [ARGS...]` (argv starts at the option): print the handshake line
 * and the filter stack of the process (see dump.c). Returns the exit status.
 */
int dump_main(int argc, char **argv);

/* The first line the helper writes on its status fd (launch-status.ts HELPER_HANDSHAKE). */
#define HELPER_HANDSHAKE "0 syscage-exec"

#endif
