/*
 * The reference for the sandbox launch benchmark (bench/sandbox.ts): Landlock
 * alone, as landrun-style tools do it, in a few lines of C and nothing else —
 * no seccomp, no capabilities, no cache. Read+exec beneath each -x PATH,
 * read+write beneath each -w PATH, then exec the command.
 *
 *   landlock-ref [-x PATH]... [-w PATH]... -- COMMAND [ARGS...]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct attr { uint64_t fs, net, scoped; };
struct pb { uint64_t access; int32_t fd; } __attribute__((packed));

int main(int argc, char **argv) {
  const uint64_t all = (1ull << 16) - 1, rx = 1 | 4 | 8, rw = all & ~((1ull << 0) | (1ull << 6) | (1ull << 11));
  long abi = syscall(444, NULL, 0, 1);
  struct attr a = {abi >= 5 ? all : abi >= 3 ? (1ull << 15) - 1 : (1ull << 14) - 1, 0, 0};
  int rs = (int)syscall(444, &a, 8, 0);
  if (rs < 0) { perror("landlock_create_ruleset"); return 125; }
  int i = 1;
  for (; i + 1 < argc && strcmp(argv[i], "--") != 0; i += 2) {
    int fd = open(argv[i + 1], O_PATH | O_CLOEXEC);
    if (fd < 0) continue;
    struct stat st;
    uint64_t files = 1 | 2 | 4 | (1ull << 14) | (1ull << 15); /* the rights a rule on a file may carry */
    struct pb r = {(strcmp(argv[i], "-w") == 0 ? rw : rx) & a.fs & (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) ? ~0ull : files), fd};
    if (syscall(445, rs, 1, &r, 0) != 0) { perror(argv[i + 1]); return 125; }
    close(fd);
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || syscall(446, rs, 0) != 0) { perror("restrict"); return 125; }
  execvp(argv[i + 1], argv + i + 1);
  perror(argv[i + 1]);
  return 127;
}
