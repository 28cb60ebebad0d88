/*
 * sink: the C recvmmsg(2) reference receiver of the udpkit benchmark.
 *
 *   sink <expected> <warmup> <rcvbuf-bytes> <idle-ms> [batch] [gro]
 *
 * Binds a UDP socket to 127.0.0.1, port chosen by the kernel, asks for
 * SO_RCVBUF <rcvbuf-bytes> (clamped by net.core.rmem_max like node's
 * setRecvBufferSize) and prints "READY <port> <effective rcvbuf>". Then it
 * waits with epoll and reads with recvmmsg(MSG_DONTWAIT), <batch> (64) per
 * call, again while a call fills the whole batch: an event loop doing the
 * least work possible per datagram. It stops when <expected> datagrams came
 * or none came for <idle-ms> after the first. The first <warmup> datagrams are
 * not measured. Prints one JSON line: datagrams received (all), measured,
 * CPU microseconds (getrusage user + system, and user alone), wall
 * microseconds (measured part, up to the last datagram), wake-ups and kernel
 * drops (SO_RXQ_OVFL). With <gro> 1 it turns UDP_GRO on and counts each
 * coalesced read as the datagrams it holds (its length over the segment size
 * of its UDP_GRO control message, rounded up), which is all a receiver must
 * do to know them.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SLOT 65536

#include "clock.h"

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s expected warmup rcvbuf-bytes idle-ms [batch] [gro]\n", argv[0]);
    return 2;
  }
  long expected = atol(argv[1]);
  long warmup = atol(argv[2]);
  int rcvbuf = atoi(argv[3]);
  int idle_ms = atoi(argv[4]);
  int batch = argc > 5 ? atoi(argv[5]) : 64;
  int gro = argc > 6 ? atoi(argv[6]) : 0;
  if (batch < 1 || batch > 1024) return 2;

  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    perror("socket");
    return 1;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
  if (gro && setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof one)) {
    perror("setsockopt UDP_GRO");
    return 1;
  }
  if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    perror("bind");
    return 1;
  }
  socklen_t len = sizeof addr;
  getsockname(fd, (struct sockaddr *)&addr, &len);
  int effective = 0;
  len = sizeof effective;
  getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &effective, &len);
  printf("READY %d %d\n", ntohs(addr.sin_port), effective);
  fflush(stdout);

  char *slab = malloc((size_t)batch * SLOT);
  struct mmsghdr *msgs = calloc((size_t)batch, sizeof *msgs);
  struct iovec *iov = calloc((size_t)batch, sizeof *iov);
  struct sockaddr_in *from = calloc((size_t)batch, sizeof *from);
  char (*control)[64] = calloc((size_t)batch, 64);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);

  long received = 0, measured_from = 0, wakeups = 0;
  unsigned long long bytes = 0;
  uint32_t drops = 0;
  int measuring = warmup == 0;
  long long start_user = user_us(), start_cpu = cpu_us(), start_wall = now_ns(), last_wall = start_wall;
  while (received < expected) {
    int timeout = received ? idle_ms : 60000;
    int n = epoll_wait(ep, &ev, 1, timeout);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break; /* idle: the rest was dropped */
    wakeups++;
    for (;;) {
      for (int i = 0; i < batch; i++) {
        iov[i].iov_base = slab + (size_t)i * SLOT;
        iov[i].iov_len = SLOT;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &from[i];
        msgs[i].msg_hdr.msg_namelen = sizeof from[i];
        msgs[i].msg_hdr.msg_control = control[i];
        msgs[i].msg_hdr.msg_controllen = 64;
      }
      int r = recvmmsg(fd, msgs, (unsigned)batch, MSG_DONTWAIT, NULL);
      if (r <= 0) break;
      for (int i = 0; i < r; i++) {
        unsigned len = msgs[i].msg_len;
        int segment = 0;
        bytes += len;
        struct msghdr *h = &msgs[i].msg_hdr;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
          if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) memcpy(&drops, CMSG_DATA(c), sizeof drops);
          if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) memcpy(&segment, CMSG_DATA(c), sizeof segment);
        }
        received += segment > 0 && len > (unsigned)segment ? (len + segment - 1) / segment : 1;
      }
      if (!measuring && received >= warmup) {
        measuring = 1;
        measured_from = received;
        start_cpu = cpu_us();
        start_user = user_us();
        start_wall = now_ns();
      }
      if (r < batch) break;
    }
    last_wall = now_ns();
  }
  long long cpu = cpu_us() - start_cpu, user = user_us() - start_user;
  long long wall = last_wall - start_wall;
  printf("{\"received\":%ld,\"measured\":%ld,\"cpuUs\":%lld,\"userUs\":%lld,\"wallUs\":%lld,\"wakeups\":%ld,\"kernelDrops\":%u,\"bytes\":%llu}\n",
         received, received - measured_from, cpu, user, wall / 1000, wakeups, drops, bytes);
  return 0;
}
