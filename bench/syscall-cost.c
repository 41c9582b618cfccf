/*
 * syscall-cost: nanoseconds per syscall under a stack of seccomp filters, for
 * bench/run.ts (x86_64 only: the i386 probe uses `int $0x80`).
 *
 *   syscall-cost ITERATIONS ROUNDS CONFIG...
 *
 * A CONFIG is "-" (no filter) or a comma-separated list of raw programs
 * (struct sock_filter[], host byte order), loaded in that order (the first is
 * the oldest filter of the stack). For round r = 1..ROUNDS and each CONFIG in
 * turn (interleaved, so drifting machine load hits every config alike), a
 * forked child sets no_new_privs, loads the CONFIG's filters with flags 0 (as
 * systemd-nspawn and `syscage run` do), then times ITERATIONS calls of each
 * probe with clock_gettime(CLOCK_MONOTONIC) (vDSO) around the loop. The parent
 * keeps the minimum per (config, probe). Every probe fails harmlessly when no
 * filter stops it:
 *
 *   getppid       allowed, arg-free: kernel-cacheable under every filter here
 *   swapoff       swapoff(NULL): denied (EPERM) by the nspawn default; unfiltered,
 *                 as root, EFAULT from reading the NULL path (nothing is swapped off)
 *   socket-arg    socket(AF_NETLINK, 15, 0): the argument-checked call, allowed
 *                 (family matches the audit rule, protocol does not), then EINVAL
 *                 (type 15 >= SOCK_MAX) before any socket is made
 *   socket-audit  socket(AF_NETLINK, 15, NETLINK_AUDIT): argument-checked, denied
 *                 (EAFNOSUPPORT) by the audit rule; unfiltered EINVAL as above
 *   i386-getpid   getpid through `int $0x80` (i386 ABI, nr 20), allowed, cacheable
 *
 * Prints one line per (config, probe):
 *   <config-index> <probe> <min ns/call> <return value of the last call>
 * or "<config-index> error <what>" when a config could not be measured.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROBES 5
#define MAX_FILTERS 16
static const char *const probe_names[PROBES] = {"getppid", "swapoff", "socket-arg", "socket-audit", "i386-getpid"};

struct slot {
	double ns[PROBES];
	long ret[PROBES];
	int ok;
};

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "syscall-cost: %s: %s\n", what, detail);
	exit(2);
}

static struct sock_fprog load(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct sock_fprog p;
	long size;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) <= 0 || size % 8 != 0 || size / 8 > 0xffff)
		die(path, "cannot read a program");
	rewind(f);
	p.len = (unsigned short)(size / 8);
	p.filter = malloc((size_t)size);
	if (fread(p.filter, 1, (size_t)size, f) != (size_t)size)
		die(path, "short read");
	fclose(f);
	return p;
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static long i386_getpid(void)
{
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory", "r8", "r9", "r10", "r11");
	return ret;
}

/* One call of probe p; the raw return value (negative errno for the int $0x80 probe). */
static long call(int p)
{
	switch (p) {
	case 0:
		return syscall(SYS_getppid);
	case 1:
		return syscall(SYS_swapoff, NULL) < 0 ? -errno : 0;
	case 2:
		return syscall(SYS_socket, 16, 15, 0) < 0 ? -errno : 0;
	case 3:
		return syscall(SYS_socket, 16, 15, 9) < 0 ? -errno : 0;
	default:
		return i386_getpid();
	}
}

static void child(long iterations, int nprogs, struct sock_fprog *progs, struct slot *out)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		_exit(3);
	for (int i = 0; i < nprogs; i++)
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &progs[i]) != 0)
			_exit(4);
	for (int p = 0; p < PROBES; p++) {
		long ret = 0;
		double t0, t1;
		for (long i = 0; i < 1000; i++) /* warm-up */
			ret = call(p);
		t0 = now_ns();
		for (long i = 0; i < iterations; i++)
			ret = call(p);
		t1 = now_ns();
		out->ns[p] = (t1 - t0) / (double)iterations;
		out->ret[p] = ret;
		if (ret > 0 && p != 0 && p != 4)
			(void)close((int)ret); /* never expected: a socket was made */
	}
	out->ok = 1;
	_exit(0);
}

int main(int argc, char **argv)
{
	long iterations;
	int rounds, configs = argc - 3;
	struct sock_fprog (*progs)[MAX_FILTERS];
	int *nprogs;
	double *best;
	long *lastret;
	struct slot *slot;

	if (argc < 4 || (iterations = atol(argv[1])) < 1 || (rounds = atoi(argv[2])) < 1)
		die("usage", "syscall-cost ITERATIONS ROUNDS CONFIG...");
	progs = calloc((size_t)configs, sizeof(*progs));
	nprogs = calloc((size_t)configs, sizeof(int));
	best = calloc((size_t)configs * PROBES, sizeof(double));
	lastret = calloc((size_t)configs * PROBES, sizeof(long));
	for (int c = 0; c < configs; c++) {
		char *spec = strdup(argv[c + 3]), *save = NULL;
		if (strcmp(spec, "-") != 0)
			for (char *f = strtok_r(spec, ",", &save); f != NULL; f = strtok_r(NULL, ",", &save)) {
				if (nprogs[c] == MAX_FILTERS)
					die(argv[c + 3], "too many filters");
				progs[c][nprogs[c]++] = load(f);
			}
		for (int p = 0; p < PROBES; p++)
			best[c * PROBES + p] = -1;
	}
	slot = mmap(NULL, sizeof(*slot), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (slot == MAP_FAILED)
		die("mmap", strerror(errno));

	for (int r = 0; r < rounds; r++) {
		for (int c = 0; c < configs; c++) {
			int status;
			pid_t pid;
			memset(slot, 0, sizeof(*slot));
			pid = fork();
			if (pid < 0)
				die("fork", strerror(errno));
			if (pid == 0)
				child(iterations, nprogs[c], progs[c], slot);
			if (waitpid(pid, &status, 0) != pid)
				die("waitpid", strerror(errno));
			if (!slot->ok) {
				best[c * PROBES] = -2 - (WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status));
				continue;
			}
			for (int p = 0; p < PROBES; p++) {
				double *b = &best[c * PROBES + p];
				if (*b == -1 || (*b >= 0 && slot->ns[p] < *b))
					*b = slot->ns[p];
				lastret[c * PROBES + p] = slot->ret[p];
			}
		}
	}

	for (int c = 0; c < configs; c++) {
		if (best[c * PROBES] < -1) {
			int code = (int)(-best[c * PROBES] - 2);
			printf("%d error %s %d\n", c, code >= 100 ? "signal" : "exit", code >= 100 ? code - 100 : code);
			continue;
		}
		for (int p = 0; p < PROBES; p++)
			printf("%d %s %.2f %ld\n", c, probe_names[p], best[c * PROBES + p], lastret[c * PROBES + p]);
	}
	return 0;
}
