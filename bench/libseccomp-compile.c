/*
 * libseccomp-compile: time libseccomp's compiler in C, for bench/run.ts.
 *
 *   libseccomp-compile RUNS SPEC...
 *   libseccomp-compile --version      (prints libseccomp's runtime version)
 *
 * Each SPEC is a text file, one directive per line:
 *   default  <u32 action>
 *   badarch  <u32 action>
 *   optimize <1|2>                       (SCMP_FLTATR_CTL_OPTIMIZE)
 *   arch     <libseccomp arch name>      (x86_64, x86, x32, ...)
 *   rule     <u32 action> <syscall> [<arg> <op> <datum_a> <datum_b>]...
 * op is EQ NE LT LE GT GE MASKED_EQ; for MASKED_EQ datum_a is the mask and
 * datum_b the value, as in struct scmp_arg_cmp. Datums are decimal u64.
 *
 * The spec is parsed once; then RUNS+2 times (2 warm-up runs) the filter is
 * built from scratch and exported: seccomp_init, attributes, arches, every
 * seccomp_rule_add_array, seccomp_export_bpf to /dev/null. The last run
 * exports to SPEC.bpf instead, so the caller can compare the bytes with the
 * python binding's. Prints one line per spec:
 *   SPEC <insns> <min_ns> <median_ns> <rule_errors>
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARCHES 8
#define MAX_ARGS 6
#define WARMUP 2

struct rule {
	uint32_t action;
	int nr;
	unsigned cnt;
	struct scmp_arg_cmp args[MAX_ARGS];
};

struct spec {
	uint32_t def, badarch;
	int optimize;
	uint32_t arches[MAX_ARCHES];
	unsigned narches;
	struct rule *rules;
	unsigned nrules;
	unsigned unresolved;
};

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "libseccomp-compile: %s: %s\n", what, detail);
	exit(2);
}

static enum scmp_compare parse_op(const char *s, const char *path)
{
	static const struct { const char *n; enum scmp_compare op; } ops[] = {
		{"EQ", SCMP_CMP_EQ}, {"NE", SCMP_CMP_NE}, {"LT", SCMP_CMP_LT}, {"LE", SCMP_CMP_LE},
		{"GT", SCMP_CMP_GT}, {"GE", SCMP_CMP_GE}, {"MASKED_EQ", SCMP_CMP_MASKED_EQ},
	};
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(s, ops[i].n) == 0)
			return ops[i].op;
	die(path, "unknown operator");
	return SCMP_CMP_EQ;
}

static void parse(const char *path, struct spec *sp)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	unsigned cap = 64;

	if (f == NULL)
		die(path, strerror(errno));
	memset(sp, 0, sizeof(*sp));
	sp->optimize = 1;
	sp->badarch = SCMP_ACT_KILL_PROCESS;
	sp->rules = calloc(cap, sizeof(struct rule));
	while (fgets(line, sizeof(line), f) != NULL) {
		char *tok[4 + 4 * MAX_ARGS];
		unsigned n = 0;
		for (char *t = strtok(line, " \t\r\n"); t != NULL && n < sizeof(tok) / sizeof(tok[0]); t = strtok(NULL, " \t\r\n"))
			tok[n++] = t;
		if (n == 0 || tok[0][0] == '#')
			continue;
		if (strcmp(tok[0], "default") == 0 && n == 2) {
			sp->def = (uint32_t)strtoul(tok[1], NULL, 0);
		} else if (strcmp(tok[0], "badarch") == 0 && n == 2) {
			sp->badarch = (uint32_t)strtoul(tok[1], NULL, 0);
		} else if (strcmp(tok[0], "optimize") == 0 && n == 2) {
			sp->optimize = atoi(tok[1]);
		} else if (strcmp(tok[0], "arch") == 0 && n == 2) {
			uint32_t a = seccomp_arch_resolve_name(tok[1]);
			if (a == 0 || sp->narches == MAX_ARCHES)
				die(path, "bad arch");
			sp->arches[sp->narches++] = a;
		} else if (strcmp(tok[0], "rule") == 0 && n >= 3 && (n - 3) % 4 == 0) {
			struct rule *r;
			if (sp->nrules == cap) {
				cap *= 2;
				sp->rules = realloc(sp->rules, cap * sizeof(struct rule));
			}
			r = &sp->rules[sp->nrules];
			memset(r, 0, sizeof(*r));
			r->action = (uint32_t)strtoul(tok[1], NULL, 0);
			r->nr = seccomp_syscall_resolve_name(tok[2]);
			if (r->nr == __NR_SCMP_ERROR) {
				sp->unresolved++;
				continue;
			}
			for (unsigned i = 3; i < n; i += 4) {
				struct scmp_arg_cmp *c = &r->args[r->cnt++];
				c->arg = (unsigned)atoi(tok[i]);
				c->op = parse_op(tok[i + 1], path);
				c->datum_a = strtoull(tok[i + 2], NULL, 0);
				c->datum_b = strtoull(tok[i + 3], NULL, 0);
			}
			sp->nrules++;
		} else {
			die(path, "cannot read a line");
		}
	}
	fclose(f);
}

/* Build and export the filter once; returns rule_add failures. */
static unsigned build(const struct spec *sp, int fd)
{
	unsigned errors = 0;
	scmp_filter_ctx ctx = seccomp_init(sp->def);
	uint32_t native = seccomp_arch_native();
	int keep_native = 0;

	if (ctx == NULL)
		die("seccomp_init", "failed");
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, sp->badarch) != 0 ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, (uint32_t)sp->optimize) != 0)
		die("seccomp_attr_set", "failed");
	for (unsigned i = 0; i < sp->narches; i++) {
		if (sp->arches[i] == native)
			keep_native = 1;
		else if (seccomp_arch_add(ctx, sp->arches[i]) != 0)
			die("seccomp_arch_add", "failed");
	}
	if (!keep_native && seccomp_arch_remove(ctx, native) != 0)
		die("seccomp_arch_remove", "failed");
	for (unsigned i = 0; i < sp->nrules; i++) {
		const struct rule *r = &sp->rules[i];
		if (seccomp_rule_add_array(ctx, r->action, r->nr, r->cnt, r->args) != 0)
			errors++;
	}
	if (seccomp_export_bpf(ctx, fd) != 0)
		die("seccomp_export_bpf", "failed");
	seccomp_release(ctx);
	return errors;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	int runs;
	int devnull = open("/dev/null", O_WRONLY);

	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		const struct scmp_version *v = seccomp_version();
		printf("%u.%u.%u\n", v->major, v->minor, v->micro);
		return 0;
	}
	if (argc < 3 || (runs = atoi(argv[1])) < 1)
		die("usage", "libseccomp-compile RUNS SPEC...");
	if (devnull < 0)
		die("/dev/null", strerror(errno));
	for (int s = 2; s < argc; s++) {
		struct spec sp;
		uint64_t *t = calloc((size_t)runs, sizeof(uint64_t));
		char out[4096];
		unsigned errors = 0;
		struct stat st;
		int fd;

		parse(argv[s], &sp);
		for (int i = 0; i < WARMUP + runs; i++) {
			uint64_t t0 = now_ns();
			errors = build(&sp, devnull);
			uint64_t t1 = now_ns();
			if (i >= WARMUP)
				t[i - WARMUP] = t1 - t0;
		}
		snprintf(out, sizeof(out), "%s.bpf", argv[s]);
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			die(out, strerror(errno));
		build(&sp, fd);
		if (fstat(fd, &st) != 0)
			die(out, strerror(errno));
		close(fd);
		qsort(t, (size_t)runs, sizeof(uint64_t), cmp_u64);
		printf("%s %lld %llu %llu %u\n", argv[s], (long long)st.st_size / 8, (unsigned long long)t[0],
		       (unsigned long long)t[runs / 2], errors + sp.unresolved);
		free(t);
		free(sp.rules);
	}
	return 0;
}
