/*
 * gso-flood: the C UDP GSO sender of the udpkit GRO benchmark.
 *
 *   gso-flood <dest-ip> <port> <size> <count> <segments>
 *
 * Sends <count> datagrams of <size> bytes to <dest-ip>:<port>, <segments>
 * per sendmsg(2) as one buffer with UDP_SEGMENT <size> (the kernel splits
 * it, or hands it whole to a UDP_GRO receiver on loopback), as fast as it
 * can, with an 8 MB send buffer. Prints one JSON line: datagrams sent, CPU microseconds (getrusage
 * user + system, and user alone), wall microseconds, errors.
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
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"

int main(int argc, char **argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: %s dest-ip port size count segments\n", argv[0]);
    return 2;
  }
  const char *ip = argv[1];
  int port = atoi(argv[2]);
  long size = atol(argv[3]);
  long count = atol(argv[4]);
  long segments = atol(argv[5]);
  if (size < 1 || segments < 1 || segments > 64 || size * segments > 65000 || count < 1) {
    fprintf(stderr, "gso-flood: bad arguments\n");
    return 2;
  }
  struct sockaddr_in dest = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  if (inet_pton(AF_INET, ip, &dest.sin_addr) != 1) {
    fprintf(stderr, "gso-flood: bad address %s\n", ip);
    return 2;
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    perror("socket");
    return 1;
  }
  /* Loopback charges a datagram to the sender until the receiver reads it:
   * room for many reads in flight (clamped by net.core.wmem_max). */
  int sndbuf = 8 * 1024 * 1024;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  char *payload = malloc((size_t)(size * segments));
  memset(payload, 'x', (size_t)(size * segments));
  union {
    char buf[CMSG_SPACE(sizeof(uint16_t))];
    struct cmsghdr align;
  } ctrl;
  memset(&ctrl, 0, sizeof ctrl);
  struct iovec iov = {.iov_base = payload};
  struct msghdr mh = {.msg_name = &dest, .msg_namelen = sizeof dest, .msg_iov = &iov, .msg_iovlen = 1};

  long sent = 0, errors = 0;
  long long start_user = user_us(), start_cpu = cpu_us(), start_wall = now_ns();
  while (sent < count) {
    long n = count - sent < segments ? count - sent : segments;
    iov.iov_len = (size_t)(n * size);
    mh.msg_control = NULL;
    mh.msg_controllen = 0;
    if (n > 1) {
      mh.msg_control = ctrl.buf;
      mh.msg_controllen = sizeof ctrl.buf;
      struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      uint16_t segment = (uint16_t)size;
      memcpy(CMSG_DATA(c), &segment, sizeof segment);
    }
    if (sendmsg(fd, &mh, 0) >= 0) {
      sent += n;
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      struct pollfd p = {.fd = fd, .events = POLLOUT};
      poll(&p, 1, 100);
      continue;
    }
    if (errno == ENOBUFS || errno == EINTR) {
      errors++;
      continue;
    }
    perror("sendmsg");
    return 1;
  }
  long long cpu = cpu_us() - start_cpu, user = user_us() - start_user;
  long long wall = now_ns() - start_wall;
  printf("{\"sent\":%ld,\"measured\":%ld,\"cpuUs\":%lld,\"userUs\":%lld,\"wallUs\":%lld,\"errors\":%ld}\n", sent, sent, cpu,
         user, wall / 1000, errors);
  return 0;
}
