/*
 * Test helper for the io_uring route (test/routes.test.ts): does the kernel
 * let this process do, through a ring, what the filter denies as a syscall?
 * Raw io_uring (no liburing), loads no filter itself.
 *
 * usage: uring-probe STEP...
 *   socket            socket(AF_INET, SOCK_STREAM, 0) as a syscall
 *   mkdir:PATH        mkdir(PATH, 0755) as a syscall
 *   ring              io_uring_setup(8): "ok" or "err ERRNO"
 *   ring-socket       IORING_OP_SOCKET (AF_INET, SOCK_STREAM): "ok" (the fd is kept) or "err ERRNO"
 *   ring-connect:PORT IORING_OP_CONNECT of the last ring socket to 127.0.0.1:PORT
 *   ring-mkdir:PATH   IORING_OP_MKDIRAT(AT_FDCWD, PATH, 0755)
 * One line per step: "ok", "err ERRNO", or "skip" (a ring step without a ring).
 * Only loopback addresses; paths are the test's own.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int ring_fd = -1;
static unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
static struct io_uring_sqe *sqes;
static struct io_uring_cqe *cqes;
static int last_socket = -1;
static struct sockaddr_in peer;

static int ring_setup(void) {
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  int fd = (int)syscall(__NR_io_uring_setup, 8, &p);
  if (fd < 0) return -errno;
  size_t sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  size_t cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  unsigned char *sq = mmap(NULL, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
  unsigned char *cq = mmap(NULL, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_CQ_RING);
  sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
  if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED) return -ENOMEM;
  sq_tail = (unsigned *)(sq + p.sq_off.tail);
  sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
  sq_array = (unsigned *)(sq + p.sq_off.array);
  cq_head = (unsigned *)(cq + p.cq_off.head);
  cq_tail = (unsigned *)(cq + p.cq_off.tail);
  cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
  cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
  ring_fd = fd;
  return 0;
}

/* Submit one SQE, wait for its completion; the completion's result (or -errno of io_uring_enter). */
static int ring_do(const struct io_uring_sqe *sqe) {
  unsigned tail = *sq_tail, idx = tail & *sq_mask;
  sqes[idx] = *sqe;
  sq_array[idx] = idx;
  __atomic_store_n(sq_tail, tail + 1, __ATOMIC_RELEASE);
  if (syscall(__NR_io_uring_enter, ring_fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0) return -errno;
  unsigned head = __atomic_load_n(cq_head, __ATOMIC_ACQUIRE);
  if (head == __atomic_load_n(cq_tail, __ATOMIC_ACQUIRE)) return -EAGAIN;
  int res = cqes[head & *cq_mask].res;
  __atomic_store_n(cq_head, head + 1, __ATOMIC_RELEASE);
  return res;
}

static void print_result(long r) {
  if (r >= 0) printf("ok\n");
  else printf("err %ld\n", -r);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    struct io_uring_sqe sqe;
    memset(&sqe, 0, sizeof sqe);
    if (strcmp(s, "socket") == 0) {
      int fd = socket(AF_INET, SOCK_STREAM, 0);
      print_result(fd < 0 ? -errno : fd);
    } else if (strncmp(s, "mkdir:", 6) == 0) {
      print_result(mkdir(s + 6, 0755) < 0 ? -errno : 0);
    } else if (strcmp(s, "ring") == 0) {
      print_result(ring_fd >= 0 ? 0 : ring_setup());
    } else if (ring_fd < 0) {
      printf("skip\n");
    } else if (strcmp(s, "ring-socket") == 0) {
      sqe.opcode = 45; /* IORING_OP_SOCKET */
      sqe.fd = AF_INET;
      sqe.off = SOCK_STREAM;
      int r = ring_do(&sqe);
      if (r >= 0) last_socket = r;
      print_result(r);
    } else if (strncmp(s, "ring-connect:", 13) == 0) {
      memset(&peer, 0, sizeof peer);
      peer.sin_family = AF_INET;
      peer.sin_port = htons((uint16_t)atoi(s + 13));
      peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      sqe.opcode = IORING_OP_CONNECT;
      sqe.fd = last_socket;
      sqe.addr = (uint64_t)(uintptr_t)&peer;
      sqe.off = sizeof peer;
      print_result(last_socket < 0 ? -EBADF : ring_do(&sqe));
    } else if (strncmp(s, "ring-mkdir:", 11) == 0) {
      sqe.opcode = 37; /* IORING_OP_MKDIRAT */
      sqe.fd = AT_FDCWD;
      sqe.addr = (uint64_t)(uintptr_t)(s + 11);
      sqe.len = 0755;
      print_result(ring_do(&sqe));
    } else {
      printf("bad-step %s\n", s);
    }
  }
  return 0;
}
