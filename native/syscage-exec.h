/* The two halves of the native helper (see syscage-exec.c and cached-run.c). */
#ifndef SYSCAGE_EXEC_H
#define SYSCAGE_EXEC_H

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

/*
 * `syscage-exec --dump PID` and `syscage-exec --dump-exec [--until-filter] --
 * COMMAND [ARGS...]` (argv starts at the option): print the handshake line
 * and the filter stack of the process (see dump.c). Returns the exit status.
 */
int dump_main(int argc, char **argv);

/* The first line the helper writes on its status fd (launch-status.ts HELPER_HANDSHAKE). */
#define HELPER_HANDSHAKE "0 syscage-exec"

#endif
