/*
 * attach-time: how long seccomp(SECCOMP_SET_MODE_FILTER) takes for a program,
 * for bench/run.ts.
 *
 *   attach-time CHILDREN FILE...
 *
 * Each FILE is a raw program (struct sock_filter[], host byte order). For
 * round i = 1..CHILDREN and each FILE in turn (interleaved, so drifting
 * machine load hits every program alike), a forked child sets no_new_privs
 * and times one seccomp() call with clock_gettime(CLOCK_MONOTONIC). The call
 * includes the kernel's classic-BPF checks, the conversion/JIT and the
 * constant-action cache preparation. The child stores the time in shared
 * memory and exits (or dies on a trap if the filter denies exit_group).
 * Prints one line per file:
 *   FILE <min_ns> <median_ns>      or      FILE error <errno>
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

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "attach-time: %s: %s\n", what, detail);
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

static int64_t now_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return INT64_MIN / 2; /* the filter denied the clock_gettime fallback syscall */
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int children, files = argc - 2;
	struct sock_fprog *progs;
	int64_t *t, *slot;

	if (argc < 3 || (children = atoi(argv[1])) < 1)
		die("usage", "attach-time CHILDREN FILE...");
	progs = calloc((size_t)files, sizeof(*progs));
	t = calloc((size_t)files * (size_t)children, sizeof(int64_t));
	for (int f = 0; f < files; f++)
		progs[f] = load(argv[f + 2]);
	slot = mmap(NULL, sizeof(int64_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (slot == MAP_FAILED)
		die("mmap", strerror(errno));

	for (int i = 0; i < children; i++) {
		for (int f = 0; f < files; f++) {
			pid_t pid;
			*slot = -1;
			pid = fork();
			if (pid < 0)
				die("fork", strerror(errno));
			if (pid == 0) {
				int64_t t0, t1;
				long rc;
				prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* no core if the trap below fires */
				if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
					_exit(3);
				t0 = now_ns();
				rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &progs[f]);
				t1 = now_ns(); /* vDSO: no syscall, so the filter does not matter */
				*slot = rc != 0 ? -(int64_t)errno - 1000000 : t1 - t0 < 0 ? -2 : t1 - t0;
				syscall(SYS_exit_group, 0);
				for (;;)
					__builtin_trap(); /* exit_group denied by the filter */
			}
			if (waitpid(pid, NULL, 0) != pid)
				die("waitpid", strerror(errno));
			t[(size_t)f * (size_t)children + (size_t)i] = *slot;
		}
	}

	for (int f = 0; f < files; f++) {
		int64_t *v = &t[(size_t)f * (size_t)children];
		qsort(v, (size_t)children, sizeof(int64_t), cmp_i64);
		if (v[0] < 0)
			printf("%s error %lld\n", argv[f + 2], v[0] <= -1000000 ? (long long)(-v[0] - 1000000) : (long long)v[0]);
		else
			printf("%s %lld %lld\n", argv[f + 2], (long long)v[0], (long long)v[children / 2]);
	}
	return 0;
}
