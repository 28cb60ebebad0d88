/*
 * flood: the C sendmmsg(2) reference sender of the udpkit benchmark.
 *
 *   flood <dest-ip> <port> <size> <count> <batch> [rate-pps] [warmup] [gso-segments] [sndbuf]
 *
 * Sends <count> datagrams of <size> bytes to <dest-ip>:<port> from an
 * unconnected UDP socket, <batch> per sendmmsg(2), each message carrying its
 * destination (as an unconnected node:dgram / udpkit socket does). With
 * <rate-pps> > 0 the batches are paced to that many datagrams per second
 * (absolute-deadline sleeps); 0 means as fast as possible. The first <warmup>
 * datagrams are not measured. With <gso-segments> > 0 each message of a
 * batch is one UDP_SEGMENT send of that many <size>-byte datagrams (fewer
 * if they would pass 65507 bytes). With <sndbuf> > 0 the socket asks for a
 * send buffer of that many bytes: on loopback a datagram is charged to its
 * sender until the receiver reads it, so an unpaced flood into a fast
 * receiver wants room for many reads in flight. Prints one JSON line:
 * datagrams sent (all), measured datagrams, CPU microseconds (getrusage user
 * + system, and user alone) and wall microseconds of the measured part, and
 * errors.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

int main(int argc, char **argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: %s dest-ip port size count batch [rate-pps] [warmup] [gso-segments] [sndbuf]\n", argv[0]);
    return 2;
  }
  const char *ip = argv[1];
  int port = atoi(argv[2]);
  size_t size = (size_t)atol(argv[3]);
  long count = atol(argv[4]);
  int batch = atoi(argv[5]);
  double rate = argc > 6 ? atof(argv[6]) : 0;
  long warmup = argc > 7 ? atol(argv[7]) : 0;
  long segs = argc > 8 ? atol(argv[8]) : 0; /* datagrams per message: 1 without GSO */
  int sndbuf = argc > 9 ? atoi(argv[9]) : 0;
  if (segs > 0 && size > 0 && segs * (long)size > 65507) segs = 65507 / (long)size;
  if (segs < 1) segs = 1;
  if (batch < 1 || batch > 1024 || size > 65507 || count < 1 || warmup >= count || segs > 64 || sndbuf < 0) {
    fprintf(stderr, "flood: bad arguments\n");
    return 2;
  }

  struct sockaddr_in dest = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  if (inet_pton(AF_INET, ip, &dest.sin_addr) != 1) {
    fprintf(stderr, "flood: bad address %s\n", ip);
    return 2;
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    perror("socket");
    return 1;
  }
  /* Clamped by net.core.wmem_max. */
  if (sndbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf) < 0) {
    perror("setsockopt SO_SNDBUF");
    return 1;
  }
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0); /* precise pacing sleeps */

  char *payload = calloc(1, size * segs + 1);
  memset(payload, 'x', size * segs);
  struct mmsghdr *msgs = calloc((size_t)batch, sizeof *msgs);
  struct iovec *iov = calloc((size_t)batch, sizeof *iov);
  union {
    char buf[CMSG_SPACE(sizeof(uint16_t))];
    struct cmsghdr align;
  } *ctrl = calloc((size_t)batch, sizeof *ctrl);
  for (int i = 0; i < batch; i++) {
    iov[i].iov_base = payload;
    iov[i].iov_len = size * segs;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &dest;
    msgs[i].msg_hdr.msg_namelen = sizeof dest;
    if (segs > 1) {
      uint16_t segment = (uint16_t)size;
      msgs[i].msg_hdr.msg_control = ctrl[i].buf;
      msgs[i].msg_hdr.msg_controllen = sizeof ctrl[i].buf;
      struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[i].msg_hdr);
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof segment);
      memcpy(CMSG_DATA(c), &segment, sizeof segment);
    }
  }

  long sent = 0, errors = 0, eagain = 0;
  long long start_user = user_us(), start_cpu = cpu_us(), start_wall = now_ns(), first_wall = start_wall;
  int measuring = warmup == 0;
  double interval_ns = rate > 0 ? 1e9 / rate : 0; /* per datagram */
  while (sent < count) {
    if (!measuring && sent >= warmup) {
      measuring = 1;
      start_cpu = cpu_us();
      start_user = user_us();
      start_wall = now_ns();
      warmup = sent;
    }
    if (interval_ns > 0) {
      long long due = first_wall + (long long)(sent * interval_ns);
      struct timespec ts = {.tv_sec = due / 1000000000LL, .tv_nsec = due % 1000000000LL};
      while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
      }
    }
    /* Whole messages only: the count is rounded up to a multiple of segs. */
    long left = (count - sent + segs - 1) / segs;
    int n = (int)(left < batch ? left : batch);
    int r = sendmmsg(fd, msgs, (unsigned)n, 0);
    if (r > 0) {
      sent += r * segs;
      continue;
    }
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      eagain++;
      struct pollfd p = {.fd = fd, .events = POLLOUT};
      poll(&p, 1, 100);
      continue;
    }
    if (r < 0 && (errno == ENOBUFS || errno == EINTR)) {
      errors++;
      continue;
    }
    perror("sendmmsg");
    return 1;
  }
  long long cpu = cpu_us() - start_cpu, user = user_us() - start_user;
  long long wall = now_ns() - start_wall;
  printf("{\"sent\":%ld,\"measured\":%ld,\"cpuUs\":%lld,\"userUs\":%lld,\"wallUs\":%lld,\"errors\":%ld,\"eagain\":%ld}\n", sent,
         sent - warmup, cpu, user, wall / 1000, errors, eagain);
  return 0;
}
