/*
 * gso-send: a UDP GSO sender for the GRO receive tests (compiled by them).
 *
 *   gso-send <ip> <port> <segment>:<total> [<segment>:<total> ...]
 *
 * For each argument, one sendmsg(2) of <total> bytes with UDP_SEGMENT
 * <segment> (a plain send when <total> <= <segment>): the kernel splits it
 * into datagrams of <segment> bytes, the last one shorter, and on loopback
 * hands it whole to a receiver with UDP_GRO on. Datagram k (counted over
 * the whole run, from 0) starts with k as a 32-bit big-endian number and is
 * filled with the byte k & 0xff, so a receiver can check every boundary.
 * Sends from one socket (one source port); exits non-zero on any error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int main(int argc, char** argv) {
  static char buf[65536];
  struct sockaddr_storage ss = { 0 };
  struct sockaddr_in* a4 = (struct sockaddr_in*) &ss;
  struct sockaddr_in6* a6 = (struct sockaddr_in6*) &ss;
  socklen_t len;
  unsigned k = 0;
  int fd, i;

  if (argc < 4) {
    fprintf(stderr, "usage: %s ip port segment:total...\n", argv[0]);
    return 2;
  }
  if (inet_pton(AF_INET, argv[1], &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons(atoi(argv[2]));
    len = sizeof *a4;
  } else if (inet_pton(AF_INET6, argv[1], &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(atoi(argv[2]));
    len = sizeof *a6;
  } else {
    fprintf(stderr, "bad address %s\n", argv[1]);
    return 2;
  }
  fd = socket(ss.ss_family, SOCK_DGRAM, 0);
  if (fd < 0) {
    perror("socket");
    return 1;
  }
  for (i = 3; i < argc; i++) {
    int segment = 0, total = 0, off;
    char ctrl[CMSG_SPACE(sizeof(uint16_t))] = { 0 };
    struct iovec iov;
    struct msghdr mh = { 0 };

    if (sscanf(argv[i], "%d:%d", &segment, &total) != 2 || segment < 1 || total < 0 ||
        total > (int) sizeof buf) {
      fprintf(stderr, "bad segment:total %s\n", argv[i]);
      return 2;
    }
    for (off = 0; off < total; off += segment, k++) {
      int n = total - off < segment ? total - off : segment;
      unsigned char head[4] = { k >> 24, k >> 16, k >> 8, k };

      memset(buf + off, k & 0xff, n);
      memcpy(buf + off, head, n < 4 ? n : 4);
    }
    if (total == 0) k++;
    iov.iov_base = buf;
    iov.iov_len = total;
    mh.msg_name = &ss;
    mh.msg_namelen = len;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    if (total > segment) {
      struct cmsghdr* c;

      mh.msg_control = ctrl;
      mh.msg_controllen = sizeof ctrl;
      c = CMSG_FIRSTHDR(&mh);
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      *(uint16_t*) CMSG_DATA(c) = segment;
    }
    if (sendmsg(fd, &mh, 0) != total) {
      perror("sendmsg");
      return 1;
    }
  }
  return 0;
}
