/* udpkit.c: the native helper of @udpkit/core.
 *
 * UDP sockets owned by C, polled with a uv_poll_t on Node's loop, written
 * with sendmmsg(2) and read with recvmmsg(2).  The JavaScript interface is
 * described in BINDING.md.  System call failures are returned as -errno;
 * wrong arguments throw.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RECV_BATCH 64     /* datagrams per recvmmsg, also MAX_BATCH of BINDING.md */
#define RECV_EACH 32      /* datagrams per wake-up while onmessage takes them
                           * one by one: libuv's reads per wake-up, so the
                           * loop's other phases (setImmediate) run as often
                           * as in Node (see each_width) */
#define RECV_SLOT 65536   /* bytes per read: any UDP payload, or any GRO
                           * coalesced read (at most 64 KiB), fits */
#define RECV_CTRL 256     /* ancillary data per read: what we ask for takes
                           * at most 116 bytes; the rest is room for options set
                           * on an adopted descriptor (IP_RECVTTL, SO_TIMESTAMPING...) */
#define RECV_POOL 16384   /* bytes of a handle's receive pool: batches of at
                           * most a quarter of it are copied into one, back to
                           * back (see batch_memory) */
#define SEND_BATCH 1024   /* datagrams per sendmmsg (UIO_MAXIOV) */
#define GSO_SEGMENTS 64   /* datagrams per UDP_SEGMENT send: UDP_MAX_SEGMENTS
                             before Linux 6.9 (128 since) */
#define GSO_BYTES 65507   /* payload of one UDP_SEGMENT send: 65535 less the
                             IPv4 and UDP headers (IPv6 allows 20 more) */
#define GSO_SAFE_SIZE 1232 /* a segment any IPv6 path carries (1280 - 48):
                             a refusal above it may be the route's MTU */
#define META_STRIDE 10
#define STATUS_LEN 4
#define STATUS_EACH 2     /* status[2]: datagrams of the batch still for onmessage */
#define STATUS_SENDS 3    /* status[3]: sendmmsg calls of the last send() that sent */

#define BIND_V6ONLY 1     /* the UV_UDP_* bits */
#define BIND_REUSEADDR 4
#define BIND_REUSEPORT 8

#define META_DEST 1
#define META_TIME 2

/* GSO states, as gsoStatus() reports them */
#define GSO_UNPROBED 0    /* no descriptor yet */
#define GSO_ON 1
#define GSO_OFF 2         /* turned off by setGso */
#define GSO_UNSUPPORTED 3 /* the probe failed: gso_errno says why */
#define GSO_FAILED 4      /* a UDP_SEGMENT send failed with EIO or EINVAL */
#define GSO_RECVERR 5     /* IP_RECVERR or IPV6_RECVERR is on: see probe_gso */

/* gso_recverr bits: which of the two options is on */
#define RECVERR_IP 1
#define RECVERR_IPV6 2

#define ADDR_MAX (INET6_ADDRSTRLEN + IF_NAMESIZE + 2)

typedef struct {
  struct mmsghdr msgs[RECV_BATCH];
  struct iovec iov[RECV_BATCH];
  struct sockaddr_storage names[RECV_BATCH];
  union {
    char buf[RECV_CTRL];
    struct cmsghdr align;
  } ctrl[RECV_BATCH];
  char slab[RECV_BATCH][RECV_SLOT];
} recv_buf;

/* One per Node-API environment (the main thread, each worker): every socket
 * of the thread reads into it, since a batch is copied out before any
 * JavaScript runs. */
typedef struct {
  recv_buf* rb; /* allocated at the first recvStart of the thread */
} per_thread;

/* A send call's batch, with its own copies of what JavaScript passed.
 * Datagram k is slab[offsets[k], offsets[k + 1]) for names[k]; sendmmsg
 * entry e (msgs[e], iov[e], ctrl[e]) sends datagrams [first[e], first[e + 1]):
 * one, or several as one UDP_SEGMENT send. */
typedef struct {
  struct mmsghdr msgs[SEND_BATCH];
  struct iovec iov[SEND_BATCH];
  union {
    char buf[CMSG_SPACE(sizeof(uint16_t))];
    struct cmsghdr align;
  } ctrl[SEND_BATCH];
  uint32_t first[SEND_BATCH + 1];
  struct sockaddr_in6 names[SEND_BATCH];
  uint32_t offsets[SEND_BATCH + 1];
  int32_t slots[SEND_BATCH];
  char* slab;
} send_buf;

typedef struct udpkit udpkit;

/* An address as the kernel gave it: tells whether the next one repeats it. */
typedef struct {
  int family; /* AF_UNSPEC: none */
  uint32_t scope;
  unsigned char addr[16];
} addr_key;

/* Separate from udpkit: it lives until its close callback, which may come
 * after the handle's finalizer. */
typedef struct {
  uv_poll_t poll;
  napi_async_cleanup_hook_handle hook;
  udpkit* h; /* NULL once the handle has let go */
  napi_env env;
  napi_async_context actx; /* set by close(): destroyed with the poll handle */
} poller;

struct udpkit {
  napi_env env;
  uv_loop_t* loop;
  int fd;
  int family;
  int closed;
  int events;   /* UV_READABLE | UV_WRITABLE wanted */
  int unref;
  int meta_flags;
  int gro;        /* UDP_GRO wanted: 1, then 2 once on, or -errno refused */
  int recv_width; /* datagrams the next recvmmsg asks for */
  int recv_slot;  /* bytes read per slot: RECV_SLOT unless setRecvSlot */
  int strong;   /* self is a strong reference while polling */
  poller* poller;
  send_buf* sb;
  /* GSO send (UDP_SEGMENT) */
  int gso;               /* GSO_* */
  int gso_errno;         /* why unsupported, failed, or gso_max_size lowered */
  int gso_recverr;       /* RECVERR_* bits found by the probe */
  uint32_t gso_max_size; /* largest segment grouped; EMSGSIZE or EINVAL lowers it */
  uint32_t gso_bytes;    /* largest UDP_SEGMENT send: see send_buffer_is */
  int gso_fault;         /* tests only (setGso): the next probe or UDP_SEGMENT send fails so */
  double gso_sends;      /* UDP_SEGMENT sends the kernel took */
  double gso_segments;   /* the datagrams they carried */
  napi_ref self;
  napi_ref meta;
  napi_ref status;
  napi_ref onmessages;
  napi_ref onwritable;
  napi_ref onmessage; /* NULL: batches only */
  napi_ref pool;      /* weak: the receive pool, while any Buffer views it */
  size_t pool_used;   /* its bytes handed out */
  napi_async_context actx;
};

typedef struct {
  addr_key key;
  napi_value str; /* NULL until the first address */
} addr_cache;

/* The distinct senders of a batch, in order of first appearance. */
typedef struct {
  addr_cache last;
  napi_value strs[RECV_BATCH];
  uint32_t count;
} sender_list;

static const napi_type_tag handle_tag = {
  0x7564706b69742d68ULL, 0x616e646c652d7631ULL
};

/* ---- argument helpers: each throws and returns 0 on a wrong type ---- */

static napi_value fail(napi_env env) {
  const napi_extended_error_info* info = NULL;
  const char* msg = "udpkit: N-API call failed";
  bool pending = false;

  if (napi_get_last_error_info(env, &info) == napi_ok && info &&
      info->error_message)
    msg = info->error_message;
  if (napi_is_exception_pending(env, &pending) == napi_ok && !pending)
    napi_throw_error(env, NULL, msg);
  return NULL;
}

#define TRY(call)                              \
  do {                                         \
    if ((call) != napi_ok) return fail(env);   \
  } while (0)

#define ARGS(n)                                                     \
  napi_value argv[n];                                               \
  size_t argc = n;                                                  \
  TRY(napi_get_cb_info(env, info, &argc, argv, NULL, NULL))

static napi_value type_error(napi_env env, const char* msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return NULL;
}

static int is_type(napi_env env, napi_value v, napi_valuetype want) {
  napi_valuetype t;
  return napi_typeof(env, v, &t) == napi_ok && t == want;
}

static udpkit* get_handle(napi_env env, napi_value v) {
  bool ok = false;
  void* h = NULL;

  if (!is_type(env, v, napi_object) ||
      napi_check_object_type_tag(env, v, &handle_tag, &ok) != napi_ok || !ok ||
      napi_unwrap(env, v, &h) != napi_ok || h == NULL) {
    type_error(env, "udpkit: not a udpkit handle");
    return NULL;
  }
  return h;
}

static int get_number(napi_env env, napi_value v, const char* what, double* out) {
  char msg[64];

  if (is_type(env, v, napi_number) && napi_get_value_double(env, v, out) == napi_ok)
    return 1;
  snprintf(msg, sizeof msg, "udpkit: %s must be a number", what);
  type_error(env, msg);
  return 0;
}

static int get_bool(napi_env env, napi_value v, const char* what, int* out) {
  char msg[64];
  bool b;

  if (is_type(env, v, napi_boolean) && napi_get_value_bool(env, v, &b) == napi_ok) {
    *out = b;
    return 1;
  }
  snprintf(msg, sizeof msg, "udpkit: %s must be a boolean", what);
  type_error(env, msg);
  return 0;
}

static int is_int(double d, double lo, double hi) {
  return d >= lo && d <= hi && d == (double) (int64_t) d;
}

/* 1: copied, 0: too long or holds a NUL (never a valid address), -1: thrown. */
static int get_string(napi_env env, napi_value v, const char* what, char* buf, size_t size) {
  char msg[64];
  size_t len;

  if (!is_type(env, v, napi_string) ||
      napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    snprintf(msg, sizeof msg, "udpkit: %s must be a string", what);
    type_error(env, msg);
    return -1;
  }
  if (len >= size) return 0;
  if (napi_get_value_string_utf8(env, v, buf, size, &len) != napi_ok) {
    fail(env);
    return -1;
  }
  return strlen(buf) == len;
}

/* An optional interface: undefined/null gives NULL. */
static int get_iface(napi_env env, napi_value v, char* buf, size_t size, const char** out) {
  napi_valuetype t;
  int r;

  if (napi_typeof(env, v, &t) != napi_ok) return -1;
  if (t == napi_undefined || t == napi_null) {
    *out = NULL;
    return 1;
  }
  r = get_string(env, v, "interface", buf, size);
  *out = r == 1 ? buf : NULL;
  return r;
}

static napi_value ret_int(napi_env env, int64_t v) {
  napi_value r;
  TRY(napi_create_int64(env, v, &r));
  return r;
}

static napi_value ret_undefined(napi_env env) {
  napi_value r;
  TRY(napi_get_undefined(env, &r));
  return r;
}

/* The Int32Array behind ref, or NULL if it shrank (detached). */
static int32_t* shared_array(napi_env env, napi_ref ref, size_t need) {
  napi_typedarray_type type;
  napi_value v;
  size_t len;
  void* data;

  if (napi_get_reference_value(env, ref, &v) != napi_ok || v == NULL ||
      napi_get_typedarray_info(env, v, &type, &len, &data, NULL, NULL) != napi_ok ||
      type != napi_int32_array || len < need)
    return NULL;
  return data;
}

static size_t element_size(napi_typedarray_type type) {
  switch (type) {
    case napi_int8_array:
    case napi_uint8_array:
    case napi_uint8_clamped_array: return 1;
    case napi_int16_array:
    case napi_uint16_array: return 2;
    case napi_int32_array:
    case napi_uint32_array:
    case napi_float32_array: return 4;
    case napi_float64_array:
    case napi_bigint64_array:
    case napi_biguint64_array: return 8;
  }
  return 0;
}

/* The bytes of any ArrayBufferView.  The typed array case goes first and
 * alone: it is the one call per datagram on the send path. */
static int view_bytes(napi_env env, napi_value v, void** data, size_t* len) {
  napi_typedarray_type type;
  bool is_dv = false;
  size_t n;

  if (napi_get_typedarray_info(env, v, &type, &n, data, NULL, NULL) == napi_ok) {
    *len = n * element_size(type);
    return *len != 0 || n == 0;
  }
  if (napi_is_dataview(env, v, &is_dv) == napi_ok && is_dv &&
      napi_get_dataview_info(env, v, len, data, NULL, NULL) == napi_ok)
    return 1;
  return 0;
}

/* ---- addresses ---- */

/* Numeric address, IPv6 with an optional %scope (interface name or number),
 * as uv_ip4_addr/uv_ip6_addr. */
static int parse_addr(int family, const char* ip, int port,
                      struct sockaddr_storage* ss, socklen_t* len) {
  struct sockaddr_in* a4 = (struct sockaddr_in*) ss;
  struct sockaddr_in6* a6 = (struct sockaddr_in6*) ss;
  char buf[ADDR_MAX];
  const char* zone;
  char* end;
  unsigned long n;

  memset(ss, 0, sizeof *ss);
  if (family == AF_INET) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons(port);
    *len = sizeof *a4;
    return inet_pton(AF_INET, ip, &a4->sin_addr) == 1 ? 0 : -EINVAL;
  }
  a6->sin6_family = AF_INET6;
  a6->sin6_port = htons(port);
  *len = sizeof *a6;
  zone = strchr(ip, '%');
  if (zone != NULL) {
    if ((size_t) (zone - ip) >= sizeof buf) return -EINVAL;
    memcpy(buf, ip, zone - ip);
    buf[zone - ip] = '\0';
    ip = buf;
    zone++;
    a6->sin6_scope_id = if_nametoindex(zone);
    if (a6->sin6_scope_id == 0 && *zone >= '0' && *zone <= '9') {
      errno = 0;
      n = strtoul(zone, &end, 10);
      if (*end == '\0' && errno == 0 && n <= UINT32_MAX) a6->sin6_scope_id = n;
    }
  }
  return inet_pton(AF_INET6, ip, &a6->sin6_addr) == 1 ? 0 : -EINVAL;
}

/* Dotted decimal, as inet_ntop writes it, without its sprintf: every batch
 * formats its sender. */
static void format_ipv4(const unsigned char* a, char* out) {
  int i;

  for (i = 0; i < 4; i++) {
    unsigned v = a[i];

    if (v >= 100) *out++ = (char) ('0' + v / 100);
    if (v >= 10) *out++ = (char) ('0' + v / 10 % 10);
    *out++ = (char) ('0' + v % 10);
    *out++ = i < 3 ? '.' : '\0';
  }
}

/* As Node's AddressToJS: a link-local IPv6 address carries %interface. */
static void format_addr(int family, const void* addr, uint32_t scope, char* out) {
  size_t n;

  if (family == AF_INET) {
    format_ipv4(addr, out);
    return;
  }
  if (inet_ntop(family, addr, out, INET6_ADDRSTRLEN) == NULL) {
    out[0] = '\0';
    return;
  }
  if (family != AF_INET6 || scope == 0 ||
      !IN6_IS_ADDR_LINKLOCAL((const struct in6_addr*) addr))
    return;
  n = strlen(out);
  out[n] = '%';
  if (if_indextoname(scope, out + n + 1) == NULL)
    snprintf(out + n + 1, IF_NAMESIZE + 1, "%u", scope);
}

static const unsigned char no_addr[16];

static size_t addr_len(int family) {
  return family == AF_INET6 ? 16 : family == AF_INET ? 4 : 0;
}

static int key_is(const addr_key* k, int family, const void* addr, uint32_t scope) {
  return k->family == family && k->scope == scope &&
         memcmp(k->addr, addr, addr_len(family)) == 0;
}

/* The string for an address, reused while the same address repeats. (Not
 * kept across batches: Node-API 8 refuses a reference to a string.) */
static napi_value addr_string(napi_env env, addr_cache* c, int family, const void* addr,
                              uint32_t scope) {
  size_t len = addr_len(family);
  char buf[ADDR_MAX];

  if (c->str != NULL && key_is(&c->key, family, addr, scope)) return c->str;
  buf[0] = '\0';
  if (len != 0) format_addr(family, addr, scope, buf);
  if (napi_create_string_latin1(env, buf, NAPI_AUTO_LENGTH, &c->str) != napi_ok)
    return NULL;
  memset(&c->key, 0, sizeof c->key);
  c->key.family = family;
  c->key.scope = scope;
  memcpy(c->key.addr, addr, len);
  return c->str;
}

/* The index of the sender in the batch's distinct senders: a new entry
 * when it differs from the previous read's. */
static int sender_index(udpkit* h, sender_list* l, int family, const void* addr,
                        uint32_t scope, uint32_t* index) {
  napi_value before = l->last.str;
  napi_value v = addr_string(h->env, &l->last, family, addr, scope);

  if (v == NULL) return -1;
  if (v != before) l->strs[l->count++] = v;
  *index = l->count - 1;
  return 0;
}

/* The batch's senders for JavaScript: the string itself when there is one
 * (the common case, and no array to build), else an array of them. */
static int senders_value(napi_env env, const sender_list* l, napi_value* out) {
  uint32_t i;

  if (l->count == 1) {
    *out = l->strs[0];
    return 0;
  }
  if (napi_create_array_with_length(env, l->count, out) != napi_ok) return -1;
  for (i = 0; i < l->count; i++)
    if (napi_set_element(env, *out, i, l->strs[i]) != napi_ok) return -1;
  return 0;
}

static int set_addr_props(napi_env env, napi_value out, const struct sockaddr_storage* ss) {
  const struct sockaddr_in* a4 = (const struct sockaddr_in*) ss;
  const struct sockaddr_in6* a6 = (const struct sockaddr_in6*) ss;
  char buf[ADDR_MAX];
  napi_value v;
  int port;

  if (ss->ss_family == AF_INET6) {
    format_addr(AF_INET6, &a6->sin6_addr, a6->sin6_scope_id, buf);
    port = ntohs(a6->sin6_port);
  } else if (ss->ss_family == AF_INET) {
    format_addr(AF_INET, &a4->sin_addr, 0, buf);
    port = ntohs(a4->sin_port);
  } else {
    return -EINVAL;
  }
  if (napi_create_string_latin1(env, buf, NAPI_AUTO_LENGTH, &v) != napi_ok ||
      napi_set_named_property(env, out, "address", v) != napi_ok ||
      napi_create_string_latin1(env, ss->ss_family == AF_INET6 ? "IPv6" : "IPv4",
                                NAPI_AUTO_LENGTH, &v) != napi_ok ||
      napi_set_named_property(env, out, "family", v) != napi_ok ||
      napi_create_int32(env, port, &v) != napi_ok ||
      napi_set_named_property(env, out, "port", v) != napi_ok)
    return 1;
  return 0;
}

/* ---- descriptor and poll handle ---- */

static void on_poll(uv_poll_t* handle, int status, int events);
static void shut(udpkit* h);
static void apply_ref(udpkit* h);

static void on_poller_close(uv_handle_t* handle) {
  poller* p = handle->data;

  if (p->actx != NULL) napi_async_destroy(p->env, p->actx);
  napi_remove_async_cleanup_hook(p->hook);
  free(p);
}

/* The environment is going away with the socket open: close it without
 * JavaScript; Node runs the loop until on_poller_close removes the hook. */
static void on_env_exit(napi_async_cleanup_hook_handle hook, void* arg) {
  poller* p = arg;

  if (p->h != NULL) shut(p->h);
}

static int apply_meta(int fd, int family, int flags) {
  int dest = (flags & META_DEST) != 0;
  int ts = (flags & META_TIME) != 0;
  int r;

  if (family == AF_INET6)
    r = setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &dest, sizeof dest);
  else
    r = setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &dest, sizeof dest);
  if (r == 0) r = setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &ts, sizeof ts);
  return r ? -errno : 0;
}

/* UDP_GRO on fd; a kernel that refuses it leaves the socket reading
 * datagrams one by one, and the reason is kept for groState(). */
static void apply_gro(udpkit* h, int fd) {
  int yes = 1;

  h->gro = setsockopt(fd, SOL_UDP, UDP_GRO, &yes, sizeof yes) ? -errno : 2;
}

/* Takes fd as the handle's descriptor (the caller closes it on failure). */
static int attach(udpkit* h, int fd, int family) {
  int yes = 1;
  poller* p;
  int err;

  /* The kernel's drop counter then comes with each datagram. */
  if (setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &yes, sizeof yes)) return -errno;
  if (h->meta_flags && (err = apply_meta(fd, family, h->meta_flags))) return err;
  if (h->gro) apply_gro(h, fd);
  p = calloc(1, sizeof *p);
  if (p == NULL) return -ENOMEM;
  if (napi_add_async_cleanup_hook(h->env, on_env_exit, p, &p->hook) != napi_ok) {
    free(p);
    return -ENOMEM;
  }
  err = uv_poll_init(h->loop, &p->poll, fd);
  if (err) {
    napi_remove_async_cleanup_hook(p->hook);
    free(p);
    return err;
  }
  p->poll.data = p;
  p->h = h;
  p->env = h->env;
  h->poller = p;
  apply_ref(h);
  h->fd = fd;
  h->family = family;
  return 0;
}

/* Stops polling and closes the descriptor; no JavaScript, so it also serves
 * the finalizer and environment teardown. */
static void shut(udpkit* h) {
  h->closed = 1;
  h->events = 0;
  if (h->poller != NULL) {
    uv_poll_stop(&h->poller->poll);
    h->poller->h = NULL;
    uv_close((uv_handle_t*) &h->poller->poll, on_poller_close);
    h->poller = NULL;
  }
  if (h->fd != -1) {
    close(h->fd); /* Linux releases the descriptor even on EINTR */
    h->fd = -1;
  }
  free(h->sb);
  h->sb = NULL;
}

/* Polling keeps the object (and so its callbacks) alive, like an active
 * Node handle; otherwise a dropped handle is collected and its fd closed. */
static void keep_alive(udpkit* h, int on) {
  uint32_t n;

  if (on == h->strong) return;
  h->strong = on;
  if (on)
    napi_reference_ref(h->env, h->self, &n);
  else
    napi_reference_unref(h->env, h->self, &n);
}

/* After unref() the poll doesn't hold the loop, except while sends wait
 * for writability: pending sends keep the loop alive, as libuv's send
 * requests do. */
static void apply_ref(udpkit* h) {
  uv_handle_t* poll = (uv_handle_t*) &h->poller->poll;

  if (h->unref && !(h->events & UV_WRITABLE))
    uv_unref(poll);
  else
    uv_ref(poll);
}

static int poll_update(udpkit* h) {
  int err = 0;

  if (h->poller == NULL) return -EBADF;
  if (h->events)
    err = uv_poll_start(&h->poller->poll, h->events, on_poll);
  else
    err = uv_poll_stop(&h->poller->poll);
  keep_alive(h, h->events != 0 && err == 0);
  apply_ref(h);
  return err;
}

static int do_bind(udpkit* h, const struct sockaddr* sa, socklen_t len, unsigned flags) {
  int yes = 1;
  int err;
  int fd;

  if (flags & ~(BIND_V6ONLY | BIND_REUSEADDR | BIND_REUSEPORT)) return -EINVAL;
  if ((flags & BIND_V6ONLY) && sa->sa_family != AF_INET6) return -EINVAL;
  if (h->fd == -1) {
    fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) return -errno;
    err = attach(h, fd, sa->sa_family);
    if (err) {
      close(fd);
      return err;
    }
  }
  if ((flags & BIND_REUSEADDR) &&
      setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes))
    return -errno;
  if ((flags & BIND_REUSEPORT) &&
      setsockopt(h->fd, SOL_SOCKET, SO_REUSEPORT, &yes, sizeof yes))
    return -errno;
  if ((flags & BIND_V6ONLY) &&
      setsockopt(h->fd, IPPROTO_IPV6, IPV6_V6ONLY, &yes, sizeof yes))
    return -errno;
  if (bind(h->fd, sa, len))
    return errno == EAFNOSUPPORT ? -EINVAL : -errno; /* as libuv */
  return 0;
}

/* libuv's deferred bind: the any address, port 0. */
static int maybe_bind(udpkit* h, unsigned flags) {
  struct sockaddr_storage ss;
  socklen_t len;

  if (h->closed) return -EBADF;
  if (h->fd != -1) return 0;
  parse_addr(h->family, h->family == AF_INET6 ? "::" : "0.0.0.0", 0, &ss, &len);
  return do_bind(h, (struct sockaddr*) &ss, len, flags);
}

/* ---- callbacks into JavaScript ---- */

static void report(napi_env env, napi_status status) {
  napi_value exc;

  /* Nothing on the stack would see the exception: hand it to Node's
   * uncaught exception handling, as for its own handles' callbacks. */
  if (status == napi_pending_exception &&
      napi_get_and_clear_last_exception(env, &exc) == napi_ok)
    napi_fatal_exception(env, exc);
}

/* fn (a reference held since create) with this = the handle. */
static void callback(udpkit* h, napi_ref fn_ref, size_t argc, const napi_value* argv) {
  napi_env env = h->env;
  napi_value obj, fn;

  if (napi_get_reference_value(env, h->self, &obj) != napi_ok || obj == NULL ||
      napi_get_reference_value(env, fn_ref, &fn) != napi_ok || fn == NULL)
    return;
  /* make_callback, not call_function: async context, then nextTick and
   * microtask queues drain as after Node's own callbacks. */
  report(env, napi_make_callback(env, h->actx, obj, fn, argc, argv, NULL));
}

static void internal_error(napi_env env, const char* msg) {
  napi_throw_error(env, NULL, msg);
  report(env, napi_pending_exception);
}

/* The payload of c when it holds `size` bytes; NULL when the kernel cut it
 * short for lack of room (MSG_CTRUNC). */
static const void* cmsg_payload(const struct cmsghdr* c, size_t size) {
  return c->cmsg_len >= CMSG_LEN(size) ? CMSG_DATA(c) : NULL;
}

/* Reads what we asked for and skips the rest (options set on an adopted
 * descriptor); metadata cut by MSG_CTRUNC stays absent, never stale. */
static void parse_cmsgs(struct msghdr* mh, int32_t* m, uint32_t* drops, int* have_drops,
                        struct sockaddr_in6* dest) {
  struct cmsghdr* c;
  struct in6_pktinfo pi6;
  struct in_pktinfo pi;
  struct timespec ts;
  const void* p;

  for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
      if ((p = cmsg_payload(c, sizeof *drops)) == NULL) continue;
      memcpy(drops, p, sizeof *drops);
      *have_drops = 1;
    } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      if ((p = cmsg_payload(c, sizeof ts)) == NULL) continue;
      memcpy(&ts, p, sizeof ts);
      m[5] = (int32_t) (uint32_t) ts.tv_sec;
      m[6] = (int32_t) ((int64_t) ts.tv_sec >> 32);
      m[7] = (int32_t) ts.tv_nsec;
    } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      if ((p = cmsg_payload(c, sizeof pi)) == NULL) continue;
      memcpy(&pi, p, sizeof pi);
      m[4] = pi.ipi_ifindex;
      dest->sin6_family = AF_INET;
      memcpy(&dest->sin6_addr, &pi.ipi_addr, 4);
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      if ((p = cmsg_payload(c, sizeof pi6)) == NULL) continue;
      memcpy(&pi6, p, sizeof pi6);
      m[4] = pi6.ipi6_ifindex;
      dest->sin6_family = AF_INET6;
      dest->sin6_addr = pi6.ipi6_addr;
      dest->sin6_scope_id = pi6.ipi6_ifindex;
    } else if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
      int segment;

      if ((p = cmsg_payload(c, sizeof segment)) == NULL) continue;
      memcpy(&segment, p, sizeof segment);
      m[8] = segment;
    }
  }
}

/* The datagrams of a read of len bytes: one, or with GRO the segments of
 * `segment` bytes it coalesced, the last one shorter if it is. */
static size_t datagrams_in(size_t len, int32_t segment) {
  return segment > 0 && len > (size_t) segment ? (len + segment - 1) / segment : 1;
}

/* The reads the next recvmmsg asks for while JavaScript takes datagrams one
 * at a time: about RECV_EACH datagrams, going by this batch's datagrams per
 * read, so that with GRO (up to 64 datagrams a read, 128 from a UDP_SEGMENT
 * sender on loopback) a wake-up stays near libuv's 32, not 32 reads' worth. */
static int each_width(size_t reads, size_t datagrams) {
  size_t width = RECV_EACH * reads / datagrams;

  return width < 1 ? 1 : width > RECV_EACH ? RECV_EACH : (int) width;
}

/* The thread's receive buffers, made at its first recvStart. */
static recv_buf* thread_recv_buf(napi_env env) {
  per_thread* t = NULL;
  recv_buf* rb;
  int i;

  if (napi_get_instance_data(env, (void**) &t) != napi_ok || t == NULL) return NULL;
  if (t->rb != NULL) return t->rb;
  rb = malloc(sizeof *rb);
  if (rb == NULL) return NULL;
  for (i = 0; i < RECV_BATCH; i++) {
    struct msghdr* mh = &rb->msgs[i].msg_hdr;

    memset(mh, 0, sizeof *mh);
    rb->iov[i].iov_base = rb->slab[i];
    rb->iov[i].iov_len = RECV_SLOT;
    mh->msg_name = &rb->names[i];
    mh->msg_iov = &rb->iov[i];
    mh->msg_iovlen = 1;
    mh->msg_control = rb->ctrl[i].buf;
  }
  t->rb = rb;
  return rb;
}

/* status[STATUS_EACH], or -1 when the array is gone. */
static int32_t each_left(udpkit* h) {
  int32_t* status = shared_array(h->env, h->status, STATUS_LEN);

  return status == NULL ? -1 : status[STATUS_EACH];
}

/* onmessage() while JavaScript asks (status[2] > 0): at most n times,
 * whatever it writes, and never after close(). */
static void deliver_each(udpkit* h, size_t n) {
  napi_env env = h->env;
  napi_value obj, fn;
  size_t i;

  if (h->onmessage == NULL || each_left(h) <= 0 ||
      napi_get_reference_value(env, h->self, &obj) != napi_ok || obj == NULL ||
      napi_get_reference_value(env, h->onmessage, &fn) != napi_ok || fn == NULL)
    return;
  for (i = 0; i < n && !h->closed && each_left(h) > 0; i++)
    report(env, napi_make_callback(env, h->actx, obj, fn, 0, NULL, NULL));
}

/* Where a batch of `total` bytes is copied: a small batch right after the
 * previous one in the handle's receive pool, as Node's Buffer pool serves
 * small allocations, so that a wake-up of a few datagrams allocates
 * nothing; a larger one (or a full pool) gets a new ArrayBuffer. Bytes
 * handed out are never written again, and the reference is weak: the
 * Buffers that view a pool keep it, the handle does not. A pool found
 * detached (ArrayBuffer.prototype.transfer) is replaced. *base is where
 * the batch starts in *ab. */
static char* batch_memory(udpkit* h, size_t total, napi_value* ab, size_t* base) {
  napi_env env = h->env;
  char* data = NULL;
  size_t len = 0;

  *base = 0;
  if (total > RECV_POOL / 4)
    return napi_create_arraybuffer(env, total, (void**) &data, ab) == napi_ok ? data : NULL;
  if (h->pool != NULL && napi_get_reference_value(env, h->pool, ab) == napi_ok && *ab != NULL &&
      napi_get_arraybuffer_info(env, *ab, (void**) &data, &len) == napi_ok &&
      data != NULL && len == RECV_POOL && RECV_POOL - h->pool_used >= total) {
    *base = h->pool_used;
  } else {
    if (h->pool != NULL) napi_delete_reference(env, h->pool);
    h->pool = NULL;
    if (napi_create_arraybuffer(env, RECV_POOL, (void**) &data, ab) != napi_ok ||
        napi_create_reference(env, *ab, 0, &h->pool) != napi_ok)
      return NULL;
  }
  /* 8-byte aligned, as Node's pool: RECV_POOL is a multiple of 8. */
  h->pool_used = (*base + total + 7) & ~(size_t) 7;
  return data + *base;
}

/* One recvmmsg per readable wake-up, copied out of the thread's buffers, then
 * one call into JavaScript for the batch and, while JavaScript asks for them
 * (status[2] > 0), one per datagram: Node's tick and microtask queues drain
 * after each, and an exception in one does not cost the others. With GRO a
 * read may hold many datagrams: JavaScript splits it by meta[8]. */
static void do_recv(udpkit* h) {
  napi_env env = h->env;
  recv_buf* rb = thread_recv_buf(env);
  sender_list from = { 0 };
  addr_cache to = { 0 };
  napi_value argv[4], v;
  int32_t *meta, *status;
  struct sockaddr_in6 dest;
  uint32_t drops = 0, sender;
  int have_drops = 0;
  size_t total, base, off, datagrams;
  char* data;
  int want_dest;
  int i, n;

  if (rb == NULL) {
    internal_error(env, "udpkit: no receive buffers");
    return;
  }
  for (i = 0; i < RECV_BATCH; i++) {
    rb->msgs[i].msg_hdr.msg_namelen = sizeof rb->names[i];
    rb->msgs[i].msg_hdr.msg_controllen = RECV_CTRL;
    rb->iov[i].iov_len = h->recv_slot;
  }
  do
    n = recvmmsg(h->fd, rb->msgs, h->recv_width, MSG_DONTWAIT, NULL);
  while (n == -1 && errno == EINTR);
  if (n == -1) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    if (napi_create_int32(env, -errno, &argv[0]) == napi_ok)
      callback(h, h->onmessages, 1, argv);
    return;
  }
  if (n == 0) return;

  meta = shared_array(env, h->meta, META_STRIDE * RECV_BATCH);
  status = shared_array(env, h->status, STATUS_LEN);
  if (meta == NULL || status == NULL) {
    internal_error(env, "udpkit: meta or status array was detached");
    return;
  }
  total = 0;
  for (i = 0; i < n; i++) total += rb->msgs[i].msg_len;
  want_dest = (h->meta_flags & META_DEST) != 0;
  if ((data = batch_memory(h, total, &argv[1], &base)) == NULL ||
      (want_dest && napi_create_array_with_length(env, n, &argv[3]) != napi_ok))
    goto fail;

  off = 0;
  datagrams = 0;
  for (i = 0; i < n; i++) {
    struct msghdr* mh = &rb->msgs[i].msg_hdr;
    const struct sockaddr_storage* ss = &rb->names[i];
    const struct sockaddr_in6* a6 = (const struct sockaddr_in6*) ss;
    const struct sockaddr_in* a4 = (const struct sockaddr_in*) ss;
    int32_t* m = meta + i * META_STRIDE;
    size_t len = rb->msgs[i].msg_len;
    int r;

    memcpy(data + off, rb->slab[i], len);
    m[0] = (int32_t) (base + off);
    m[1] = (int32_t) len;
    m[3] = (mh->msg_flags & MSG_TRUNC) ? 1 : 0;
    m[4] = m[5] = m[6] = m[7] = m[8] = 0;
    off += len;

    if (mh->msg_namelen == 0 || ss->ss_family == AF_UNSPEC) {
      m[2] = 0;
      r = sender_index(h, &from, AF_UNSPEC, no_addr, 0, &sender);
    } else if (ss->ss_family == AF_INET6) {
      m[2] = ntohs(a6->sin6_port);
      r = sender_index(h, &from, AF_INET6, &a6->sin6_addr, a6->sin6_scope_id, &sender);
    } else {
      m[2] = ntohs(a4->sin_port);
      r = sender_index(h, &from, AF_INET, &a4->sin_addr, 0, &sender);
    }
    if (r) goto fail;
    m[9] = (int32_t) sender;

    dest.sin6_family = AF_UNSPEC;
    dest.sin6_scope_id = 0;
    if (mh->msg_controllen > 0) parse_cmsgs(mh, m, &drops, &have_drops, &dest);
    datagrams += datagrams_in(len, m[8]);
    if (want_dest) {
      if (dest.sin6_family == AF_UNSPEC)
        napi_get_undefined(env, &v);
      else
        v = addr_string(env, &to, dest.sin6_family, &dest.sin6_addr, dest.sin6_scope_id);
      if (v == NULL || napi_set_element(env, argv[3], i, v) != napi_ok) goto fail;
    }
  }
  if (have_drops) status[1] = (int32_t) drops;
  status[STATUS_EACH] = 0;

  if (senders_value(env, &from, &argv[2]) || napi_create_int32(env, n, &argv[0]) != napi_ok)
    goto fail;
  callback(h, h->onmessages, want_dest ? 4 : 3, argv);
  /* JavaScript said how it takes this batch: whole (status[2] < 0), or one
   * datagram at a time; the next batch is read for the same. */
  h->recv_width = h->onmessage != NULL && each_left(h) >= 0 ? each_width(n, datagrams) : RECV_BATCH;
  deliver_each(h, datagrams);
  return;

fail:
  internal_error(env, "udpkit: out of memory building a receive batch");
}

static void on_poll(uv_poll_t* handle, int status, int events) {
  poller* p = handle->data;
  udpkit* h = p->h;
  napi_handle_scope scope;
  napi_env env;

  if (h == NULL) return;
  env = h->env;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  /* POLLERR arrives as UV_EBADF with the poll stopped: a pending socket
   * error (e.g. ICMP port unreachable) that the next recvmmsg or sendmmsg
   * returns, so treat it as readable and writable. */
  if (status < 0) events = UV_READABLE | UV_WRITABLE;
  if ((events & UV_READABLE) && (h->events & UV_READABLE)) do_recv(h);
  if (!h->closed && (events & UV_WRITABLE) && (h->events & UV_WRITABLE)) {
    h->events &= ~UV_WRITABLE;
    poll_update(h);
    callback(h, h->onwritable, 0, NULL);
  } else if (status < 0 && !h->closed) {
    poll_update(h); /* restart what libuv stopped */
  }
  napi_close_handle_scope(env, scope);
}

/* ---- exported functions ---- */

static void finalize(napi_env env, void* data, void* hint) {
  udpkit* h = data;

  if (!h->closed) shut(h);
  if (h->actx != NULL) napi_async_destroy(env, h->actx);
  if (h->self != NULL) napi_delete_reference(env, h->self);
  if (h->meta != NULL) napi_delete_reference(env, h->meta);
  if (h->status != NULL) napi_delete_reference(env, h->status);
  if (h->onmessages != NULL) napi_delete_reference(env, h->onmessages);
  if (h->onwritable != NULL) napi_delete_reference(env, h->onwritable);
  if (h->onmessage != NULL) napi_delete_reference(env, h->onmessage);
  if (h->pool != NULL) napi_delete_reference(env, h->pool);
  free(h);
}

static int is_int32_array(napi_env env, napi_value v, size_t need) {
  napi_typedarray_type type;
  bool is_ta = false;
  size_t len;

  return napi_is_typedarray(env, v, &is_ta) == napi_ok && is_ta &&
         napi_get_typedarray_info(env, v, &type, &len, NULL, NULL, NULL) == napi_ok &&
         type == napi_int32_array && len >= need;
}

static napi_value js_create(napi_env env, napi_callback_info info) {
  napi_value obj, name, resource;
  napi_property_descriptor props[2] = {
    { "onmessages", NULL, NULL, NULL, NULL, NULL, napi_default, NULL },
    { "onwritable", NULL, NULL, NULL, NULL, NULL, napi_default, NULL },
  };
  double family;
  udpkit* h;
  int each;
  ARGS(6);

  if (!get_number(env, argv[0], "family", &family)) return NULL;
  if (family != 4 && family != 6) return type_error(env, "udpkit: family must be 4 or 6");
  if (!is_type(env, argv[1], napi_function) || !is_type(env, argv[2], napi_function))
    return type_error(env, "udpkit: onmessages and onwritable must be functions");
  if (!is_int32_array(env, argv[3], META_STRIDE * RECV_BATCH))
    return type_error(env, "udpkit: meta must be an Int32Array of at least 640 elements");
  if (!is_int32_array(env, argv[4], STATUS_LEN))
    return type_error(env, "udpkit: status must be an Int32Array of at least 4 elements");
  each = is_type(env, argv[5], napi_function);
  if (!each && !is_type(env, argv[5], napi_undefined))
    return type_error(env, "udpkit: onmessage must be a function or undefined");

  h = calloc(1, sizeof *h);
  if (h == NULL) {
    napi_throw_error(env, "ENOMEM", "udpkit: out of memory");
    return NULL;
  }
  h->env = env;
  h->fd = -1;
  h->family = family == 6 ? AF_INET6 : AF_INET;
  h->recv_width = each ? RECV_EACH : RECV_BATCH;
  h->gso_max_size = GSO_BYTES;
  h->gso_bytes = GSO_BYTES;
  h->recv_slot = RECV_SLOT;
  if (napi_get_uv_event_loop(env, &h->loop) != napi_ok ||
      napi_create_object(env, &obj) != napi_ok ||
      napi_wrap(env, obj, h, finalize, NULL, NULL) != napi_ok) {
    free(h);
    return fail(env);
  }
  /* From here on the finalizer releases what was made. */
  props[0].value = argv[1];
  props[1].value = argv[2];
  TRY(napi_type_tag_object(env, obj, &handle_tag));
  TRY(napi_define_properties(env, obj, 2, props));
  TRY(napi_create_reference(env, obj, 0, &h->self));
  TRY(napi_create_reference(env, argv[3], 1, &h->meta));
  TRY(napi_create_reference(env, argv[4], 1, &h->status));
  /* Weak: the handle's own properties hold them, and a strong reference
   * would root whatever they close over (the handle itself, perhaps). */
  TRY(napi_create_reference(env, argv[1], 0, &h->onmessages));
  TRY(napi_create_reference(env, argv[2], 0, &h->onwritable));
  if (each) TRY(napi_create_reference(env, argv[5], 1, &h->onmessage));
  TRY(napi_create_string_latin1(env, "UDPKIT", NAPI_AUTO_LENGTH, &name));
  /* A resource of its own, not the handle: Node 26 holds the async
   * resource strongly until napi_async_destroy, which would keep every
   * handle dropped without close() alive, descriptor and all. */
  TRY(napi_create_object(env, &resource));
  TRY(napi_async_init(env, resource, name, &h->actx));
  return obj;
}

static napi_value js_bind(napi_env env, napi_callback_info info) {
  struct sockaddr_storage ss;
  char ip[ADDR_MAX];
  double port, flags;
  socklen_t len;
  udpkit* h;
  int r;
  ARGS(4);

  if (!(h = get_handle(env, argv[0]))) return NULL;
  if ((r = get_string(env, argv[1], "ip", ip, sizeof ip)) < 0) return NULL;
  if (!get_number(env, argv[2], "port", &port) || !get_number(env, argv[3], "flags", &flags))
    return NULL;
  if (h->closed) return ret_int(env, -EBADF);
  if (r == 0 || !is_int(port, 0, 65535) || !is_int(flags, 0, INT_MAX) ||
      parse_addr(h->family, ip, port, &ss, &len))
    return ret_int(env, -EINVAL);
  return ret_int(env, do_bind(h, (struct sockaddr*) &ss, len, flags));
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  int type, domain, yes = 1, fl;
  socklen_t len;
  double fd;
  udpkit* h;
  ARGS(2);

  if (!(h = get_handle(env, argv[0])) || !get_number(env, argv[1], "fd", &fd)) return NULL;
  if (h->closed) return ret_int(env, -EBADF);
  if (!is_int(fd, 0, INT_MAX)) return ret_int(env, -EBADF);
  if (h->fd != -1) return ret_int(env, -EBUSY);
  len = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len)) return ret_int(env, -errno);
  len = sizeof domain;
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len)) return ret_int(env, -errno);
  if (type != SOCK_DGRAM || (domain != AF_INET && domain != AF_INET6))
    return ret_int(env, -EINVAL);
  fl = fcntl(fd, F_GETFL);
  if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1) return ret_int(env, -errno);
  /* uv_udp_open does the same */
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes)) return ret_int(env, -errno);
  return ret_int(env, attach(h, fd, domain));
}

static napi_value js_guess_handle_type(napi_env env, napi_callback_info info) {
  const char* s;
  napi_value r;
  double fd;
  ARGS(1);

  if (!get_number(env, argv[0], "fd", &fd)) return NULL;
  if (!is_int(fd, 0, INT_MAX)) return type_error(env, "udpkit: fd must be a non-negative integer");
  switch (uv_guess_handle(fd)) {
    case UV_TCP: s = "TCP"; break;
    case UV_TTY: s = "TTY"; break;
    case UV_UDP: s = "UDP"; break;
    case UV_FILE: s = "FILE"; break;
    case UV_NAMED_PIPE: s = "PIPE"; break;
    default: s = "UNKNOWN"; break;
  }
  TRY(napi_create_string_latin1(env, s, NAPI_AUTO_LENGTH, &r));
  return r;
}

static napi_value js_connect(napi_env env, napi_callback_info info) {
  struct sockaddr_storage ss;
  char ip[ADDR_MAX];
  socklen_t len;
  double port;
  udpkit* h;
  int r;
  ARGS(3);

  if (!(h = get_handle(env, argv[0]))) return NULL;
  if ((r = get_string(env, argv[1], "ip", ip, sizeof ip)) < 0) return NULL;
  if (!get_number(env, argv[2], "port", &port)) return NULL;
  if (h->closed) return ret_int(env, -EBADF);
  if (r == 0 || !is_int(port, 0, 65535) || parse_addr(h->family, ip, port, &ss, &len))
    return ret_int(env, -EINVAL);
  if ((r = maybe_bind(h, 0))) return ret_int(env, r);
  do
    r = connect(h->fd, (struct sockaddr*) &ss, len);
  while (r == -1 && errno == EINTR);
  return ret_int(env, r ? -errno : 0);
}

static napi_value js_disconnect(napi_env env, napi_callback_info info) {
  struct sockaddr addr;
  udpkit* h;
  int r;
  ARGS(1);

  if (!(h = get_handle(env, argv[0]))) return NULL;
  memset(&addr, 0, sizeof addr);
  addr.sa_family = AF_UNSPEC;
  do
    r = connect(h->fd, &addr, sizeof addr);
  while (r == -1 && errno == EINTR);
  /* As uv__udp_disconnect on Linux: only EAFNOSUPPORT still disconnects. */
  if (r == -1 && errno != EAFNOSUPPORT) return ret_int(env, -errno);
  return ret_int(env, 0);
}

/* The descriptor, for Node's `_handle.fd`: -EBADF while there is none. */
static napi_value js_fileno(napi_env env, napi_callback_info info) {
  udpkit* h;
  ARGS(1);

  if (!(h = get_handle(env, argv[0]))) return NULL;
  return ret_int(env, h->closed || h->fd < 0 ? -EBADF : h->fd);
}

static napi_value sockname(napi_env env, napi_callback_info info, int peer) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  udpkit* h;
  int r;
  ARGS(2);

  if (!(h = get_handle(env, argv[0]))) return NULL;
  if (!is_type(env, argv[1], napi_object)) return type_error(env, "udpkit: out must be an object");
  memset(&ss, 0, sizeof ss);
  r = peer ? getpeername(h->fd, (struct sockaddr*) &ss, &len)
           : getsockname(h->fd, (struct sockaddr*) &ss, &len);
  if (r) return ret_int(env, -errno);
  r = set_addr_props(env, argv[1], &ss);
  if (r > 0) return fail(env);
  return ret_int(env, r);
}

static napi_value js_getsockname(napi_env env, napi_callback_info info) {
  return sockname(env, info, 0);
}

static napi_value js_getpeername(napi_env env, napi_callback_info info) {
  return sockname(env, info, 1);
}

/* uv__setsockopt: the IPv4 or the IPv6 option by the socket's family. */
static int setsockopt46(udpkit* h, int opt4, int opt6, int val) {
  int r;

  if (h->family == AF_INET6)
    r = setsockopt(h->fd, IPPROTO_IPV6, opt6, &val, sizeof val);
  else
    r = setsockopt(h->fd, IPPROTO_IP, opt4, &val, sizeof val);
  return r ? -errno : 0;
}

static napi_value js_set_broadcast(napi_env env, napi_callback_info info) {
  udpkit* h;
  int on;
  ARGS(2);

  if (!(h = get_handle(env, argv[0])) || !get_bool(env, argv[1], "on", &on)) return NULL;
  return ret_int(env, setsockopt(h->fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof on) ? -errno : 0);
}

static napi_value int_option(napi_env env, napi_callback_info info,
                             int opt4, int opt6, double lo) {
  udpkit* h;
  double v;
  ARGS(2);

  if (!(h = get_handle(env, argv[0])) || !get_number(env, argv[1], "value", &v)) return NULL;
  if (!is_int(v, lo, 255)) return ret_int(env, -EINVAL);
  return ret_int(env, setsockopt46(h, opt4, opt6, v));
}

static napi_value js_set_ttl(napi_env env, napi_callback_info info) {
  return int_option(env, info, IP_TTL, IPV6_UNICAST_HOPS, 1);
}

static napi_value js_set_multicast_ttl(napi_env env, napi_callback_info info) {
  return int_option(env, info, IP_MULTICAST_TTL, IPV6_MULTICAST_HOPS, 0);
}

static napi_value js_set_multicast_loopback(napi_env env, napi_callback_info info) {
  udpkit* h;
  int on;
  ARGS(2);

  if (!(h = get_handle(env, argv[0])) || !get_bool(env, argv[1], "on", &on)) return NULL;
  return ret_int(env, setsockopt46(h, IP_MULTICAST_LOOP, IPV6_MULTICAST_LOOP, on));
}

static napi_value js_set_multicast_all(napi_env env, napi_callback_info info) {
  udpkit* h;
  int on;
  ARGS(2);

  if (!(h = get_handle(env, argv[0])) || !get_bool(env, argv[1], "on", &on)) return NULL;
  return ret_int(env, setsockopt46(h, IP_MULTICAST_ALL, IPV6_MULTICAST_ALL, on));
}

/* As uv_udp_set_multicast_interface: the address picks the option. */
static napi_value js_set_multicast_interface(napi_env env, napi_callback_info info) {
  struct sockaddr_storage ss;
  struct sockaddr_in* a4 = (struct sockaddr_in*) &ss;
  struct sockaddr_in6* a6 = (struct sockaddr_in6*) &ss;
  char ip[ADDR_MAX];
  socklen_t len;
  udpkit* h;
  int r;
  ARGS(2);

  if (!(h = get_handle(env, argv[0]))) return NULL;
  if ((r = get_string(env, argv[1], "address", ip, sizeof ip)) < 0) return NULL;
  if (r == 0) return ret_int(env, -EINVAL);
  if (parse_addr(AF_INET, ip, 0, &ss, &len) == 0)
    r = setsockopt(h->fd, IPPROTO_IP, IP_MULTICAST_IF, &a4->sin_addr, sizeof a4->sin_addr);
  else if (parse_addr(AF_INET6, ip, 0, &ss, &len) == 0)
    r = setsockopt(h->fd, IPPROTO_IPV6, IPV6_MULTICAST_IF,
                   &a6->sin6_scope_id, sizeof a6->sin6_scope_id);
  else
    return ret_int(env, -EINVAL);
  return ret_int(env, r ? -errno : 0);
}

/* Arguments shared by the membership calls: [source,] group, iface, flag. */
typedef struct {
  udpkit* h;
  int family;
  struct sockaddr_storage group, source;
  struct in_addr iface4;
  uint32_t iface6;
  int on;
  int err;       /* the group or source: refused before the deferred bind */
  int iface_err; /* the interface: libuv parses it after the bind */
} membership;

static int get_membership(napi_env env, napi_callback_info info, int with_source,
                          membership* mb) {
  char group[ADDR_MAX], source[ADDR_MAX], iface[ADDR_MAX];
  const char* ifp;
  struct sockaddr_storage ss;
  socklen_t len;
  napi_value argv[5];
  size_t argc = 5;
  int rg, rs = 1, ri;
  int i = 1;

  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    fail(env);
    return 0;
  }
  if (!(mb->h = get_handle(env, argv[0]))) return 0;
  if (with_source && (rs = get_string(env, argv[i++], "source", source, sizeof source)) < 0)
    return 0;
  if ((rg = get_string(env, argv[i++], "group", group, sizeof group)) < 0) return 0;
  if ((ri = get_iface(env, argv[i++], iface, sizeof iface, &ifp)) < 0) return 0;
  if (!get_bool(env, argv[i], "flag", &mb->on)) return 0;

  mb->err = 0;
  mb->iface_err = ri == 0 ? -EINVAL : 0;
  if (rg == 0 || rs == 0) {
    mb->err = -EINVAL;
  } else if (parse_addr(AF_INET, group, 0, &mb->group, &len) == 0) {
    mb->family = AF_INET;
    if (with_source && parse_addr(AF_INET, source, 0, &mb->source, &len)) mb->err = -EINVAL;
    mb->iface4.s_addr = htonl(INADDR_ANY);
    if (ri > 0 && ifp != NULL && inet_pton(AF_INET, ifp, &mb->iface4) != 1) mb->iface_err = -EINVAL;
  } else if (parse_addr(AF_INET6, group, 0, &mb->group, &len) == 0) {
    mb->family = AF_INET6;
    if (with_source && parse_addr(AF_INET6, source, 0, &mb->source, &len)) mb->err = -EINVAL;
    mb->iface6 = 0;
    if (ri > 0 && ifp != NULL) {
      if (parse_addr(AF_INET6, ifp, 0, &ss, &len)) mb->iface_err = -EINVAL;
      else mb->iface6 = ((struct sockaddr_in6*) &ss)->sin6_scope_id;
    }
  } else {
    mb->err = -EINVAL;
  }
  if (mb->err == 0 && mb->h->closed) mb->err = -EBADF;
  return 1;
}

static int set_source_opt(membership* mb, int opt4, int opt6) {
  struct group_source_req gsr;
  struct ip_mreq_source mreq;
  int r;

  if (mb->family == AF_INET) {
    memset(&mreq, 0, sizeof mreq);
    mreq.imr_multiaddr = ((struct sockaddr_in*) &mb->group)->sin_addr;
    mreq.imr_sourceaddr = ((struct sockaddr_in*) &mb->source)->sin_addr;
    mreq.imr_interface = mb->iface4;
    r = setsockopt(mb->h->fd, IPPROTO_IP, opt4, &mreq, sizeof mreq);
  } else {
    memset(&gsr, 0, sizeof gsr);
    gsr.gsr_interface = mb->iface6;
    memcpy(&gsr.gsr_group, &mb->group, sizeof(struct sockaddr_in6));
    memcpy(&gsr.gsr_source, &mb->source, sizeof(struct sockaddr_in6));
    r = setsockopt(mb->h->fd, IPPROTO_IPV6, opt6, &gsr, sizeof gsr);
  }
  return r ? -errno : 0;
}

static napi_value js_set_membership(napi_env env, napi_callback_info info) {
  struct ipv6_mreq m6;
  struct ip_mreq m4;
  membership mb;
  int r;

  if (!get_membership(env, info, 0, &mb)) return NULL;
  if (mb.err) return ret_int(env, mb.err);
  if ((r = maybe_bind(mb.h, BIND_REUSEADDR))) return ret_int(env, r);
  if (mb.iface_err) return ret_int(env, mb.iface_err);
  if (mb.family == AF_INET) {
    memset(&m4, 0, sizeof m4);
    m4.imr_multiaddr = ((struct sockaddr_in*) &mb.group)->sin_addr;
    m4.imr_interface = mb.iface4;
    r = setsockopt(mb.h->fd, IPPROTO_IP, mb.on ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP,
                   &m4, sizeof m4);
  } else {
    memset(&m6, 0, sizeof m6);
    m6.ipv6mr_multiaddr = ((struct sockaddr_in6*) &mb.group)->sin6_addr;
    m6.ipv6mr_interface = mb.iface6;
    r = setsockopt(mb.h->fd, IPPROTO_IPV6, mb.on ? IPV6_ADD_MEMBERSHIP : IPV6_DROP_MEMBERSHIP,
                   &m6, sizeof m6);
  }
  return ret_int(env, r ? -errno : 0);
}

static napi_value js_set_source_membership(napi_env env, napi_callback_info info) {
  membership mb;
  int r;

  if (!get_membership(env, info, 1, &mb)) return NULL;
  if (mb.err) return ret_int(env, mb.err);
  if ((r = maybe_bind(mb.h, BIND_REUSEADDR))) return ret_int(env, r);
  if (mb.iface_err) return ret_int(env, mb.iface_err);
  if (mb.on)
    r = set_source_opt(&mb, IP_ADD_SOURCE_MEMBERSHIP, MCAST_JOIN_SOURCE_GROUP);
  else
    r = set_source_opt(&mb, IP_DROP_SOURCE_MEMBERSHIP, MCAST_LEAVE_SOURCE_GROUP);
  return ret_int(env, r);
}

static napi_value js_block_source(napi_env env, napi_callback_info info) {
  membership mb;

  if (!get_membership(env, info, 1, &mb)) return NULL;
  if (mb.err) return ret_int(env, mb.err);
  if (mb.iface_err) return ret_int(env, mb.iface_err);
  if (mb.on) return ret_int(env, set_source_opt(&mb, IP_BLOCK_SOURCE, MCAST_BLOCK_SOURCE));
  return ret_int(env, set_source_opt(&mb, IP_UNBLOCK_SOURCE, MCAST_UNBLOCK_SOURCE));
}

/* The send buffer (SO_SNDBUF as the kernel reports it) bounds a
 * UDP_SEGMENT send.  The kernel lets a send in while the buffer is not
 * full, whatever its size: a 64 KB one would overshoot a small buffer by
 * that much, and overflow a short device queue (which drops silently)
 * where single datagrams are held back.  Half the buffer (the size asked
 * for: Linux doubles it) bounds the overshoot. */
static void send_buffer_is(udpkit* h, int sndbuf) {
  h->gso_bytes = sndbuf / 2 < GSO_BYTES ? sndbuf / 2 : GSO_BYTES;
}

static napi_value js_buffer_size(napi_env env, napi_callback_info info) {
  socklen_t len;
  double size;
  udpkit* h;
  int opt, v, recv;
  ARGS(3);

  if (!(h = get_handle(env, argv[0])) || !get_number(env, argv[1], "size", &size) ||
      !get_bool(env, argv[2], "recv", &recv))
    return NULL;
  if (!is_int(size, 0, INT_MAX)) return ret_int(env, -EINVAL);
  opt = recv ? SO_RCVBUF : SO_SNDBUF;
  v = size;
  if (v != 0 && setsockopt(h->fd, SOL_SOCKET, opt, &v, sizeof v)) return ret_int(env, -errno);
  len = sizeof v;
  if (getsockopt(h->fd, SOL_SOCKET, opt, &v, &len)) return ret_int(env, -errno);
  if (!recv) send_buffer_is(h, v);
  return ret_int(env, v);
}

static napi_value js_set_recv_metadata(napi_env env, napi_callback_info info) {
  double flags;
  udpkit* h;
  int err;
  ARGS(2);

  if (!(h = get_handle(env, argv[0])) || !get_number(env, argv[1], "flags", &flags))
    return NULL;
  if (h->closed) return ret_int(env, -EBADF);
  if (!is_int(flags, 0, META_DEST | META_TIME)) return ret_int(env, -EINVAL);
  /* Remembered: a descriptor made later gets it too. */
  if (h->fd != -1 && (err = apply_meta(h->fd, h->family, flags))) return ret_int(env, err);
  h->meta_flags = flags;
  return ret_int(env, 0);
}

static napi_value js_set_gro(napi_env env, napi_callback_info info) {
  udpkit* h;
  ARGS(1);

  if (!(h = get_handle(env, argv[0]))) return NULL;
  if (h->closed) return ret_int(env, -EBADF);
  /* Remembered: a descriptor made later gets it too. */
  h->gro = 1;
  if (h->fd != -1) apply_gro(h, h->fd);
  return ret_int(env, h->gro < 0 ? h->gro : 0);
}

/* Fewer bytes per read than the 64 KiB any datagram fits in: what the
 * tests use to make the kernel truncate (MSG_TRUNC) a read. */
static napi_value js_set_recv_slot(napi_env env, napi_callback_info info) {
  double bytes;
  udpkit* h;
  ARGS(2);

  if (!(h = get_handle(env, argv[0])) || !get_number(env, argv[1], "bytes", &bytes)) return NULL;
  if (h->closed) return ret_int(env, -EBADF);
  if (!is_int(bytes, 1, RECV_SLOT)) return ret_int(env, -EINVAL);
  h->recv_slot = (int) bytes;
  return ret_int(env, 0);
}

static napi_value js_gro_state(napi_env env, napi_callback_info info) {
  udpkit* h;
  ARGS(1);

  if (!(h = get_handle(env, argv[0]))) return NULL;
  if (h->closed) return ret_int(env, -EBADF);
  return ret_int(env, h->gro == 2 ? 1 : h->gro < 0 ? h->gro : 0);
}

static napi_value js_sockaddr(napi_env env, napi_callback_info info) {
  struct sockaddr_storage ss;
  char ip[ADDR_MAX];
  double family, port;
  napi_value buf;
  socklen_t len;
  int r;
  ARGS(3);

  if (!get_number(env, argv[0], "family", &family)) return NULL;
  if (family != 4 && family != 6) return type_error(env, "udpkit: family must be 4 or 6");
  if ((r = get_string(env, argv[1], "ip", ip, sizeof ip)) < 0) return NULL;
  if (!get_number(env, argv[2], "port", &port)) return NULL;
  if (r == 0 || !is_int(port, 0, 65535) ||
      parse_addr(family == 6 ? AF_INET6 : AF_INET, ip, port, &ss, &len))
    return ret_int(env, -EINVAL);
  TRY(napi_create_buffer_copy(env, len, &ss, NULL, &buf));
  return buf;
}

/* The elements of a typed array of type `want` (data may be NULL when empty). */
static int typed_array(napi_env env, napi_value v, napi_typedarray_type want, void** data, size_t* len) {
  napi_typedarray_type type;

  return napi_get_typedarray_info(env, v, &type, len, data, NULL, NULL) == napi_ok && type == want;
}

/* Copies the batch of datagrams [start, start + n) into h->sb: offsets,
 * slots and their sockaddrs.  JavaScript memory is read once (it may be a
 * SharedArrayBuffer another thread changes), then only the copies are
 * checked and used.  Returns NULL, or the message of the check that failed. */
static const char* copy_batch(send_buf* sb, char* slab, size_t slab_len,
                              const uint32_t* offsets, const int32_t* slots,
                              const char* table, size_t table_len,
                              uint32_t start, uint32_t n) {
  size_t table_slots = table_len / sizeof(struct sockaddr_in6);
  uint32_t k;

  memcpy(sb->offsets, offsets + start, (n + 1) * sizeof *offsets);
  memcpy(sb->slots, slots + start, n * sizeof *slots);
  if (sb->offsets[n] > slab_len) return "udpkit: offsets run past the slab";
  for (k = 0; k < n; k++) {
    int32_t slot = sb->slots[k];

    if (sb->offsets[k] > sb->offsets[k + 1]) return "udpkit: offsets must not decrease";
    if (slot < -1 || (slot >= 0 && (size_t) slot >= table_slots))
      return "udpkit: a slot is outside the table";
    if (slot >= 0)
      memcpy(&sb->names[k], table + (size_t) slot * sizeof(struct sockaddr_in6),
             sizeof(struct sockaddr_in6));
  }
  sb->slab = slab;
  return NULL;
}

/* Whether the kernel takes UDP_SEGMENT on this socket (Linux 4.18+).  Not
 * on a socket with IP_RECVERR or IPV6_RECVERR (an adopted descriptor:
 * udpkit never sets them): the kernel then reports a full device queue
 * (ENOBUFS) per datagram, so that the sender can wait and send again, but
 * for a UDP_SEGMENT send it reports success once any segment was queued,
 * and the rest are lost. */
static void probe_gso(udpkit* h) {
  socklen_t len = sizeof(int);
  int recverr = 0;
  int size;
  int err = 0;

  if (h->gso_fault == ENOPROTOOPT) {
    err = ENOPROTOOPT;
    h->gso_fault = 0;
  } else if (getsockopt(h->fd, SOL_UDP, UDP_SEGMENT, &size, &len)) {
    err = errno;
  }
  h->gso = err ? GSO_UNSUPPORTED : GSO_ON;
  h->gso_errno = err;
  /* An IPv6 socket sends to IPv4-mapped addresses as IPv4: both count. */
  h->gso_recverr = 0;
  len = sizeof recverr;
  if (getsockopt(h->fd, IPPROTO_IP, IP_RECVERR, &recverr, &len) == 0 && recverr)
    h->gso_recverr |= RECVERR_IP;
  len = sizeof recverr;
  if (h->family == AF_INET6 && getsockopt(h->fd, IPPROTO_IPV6, IPV6_RECVERR, &recverr, &len) == 0 &&
      recverr)
    h->gso_recverr |= RECVERR_IPV6;
  if (h->gso == GSO_ON && h->gso_recverr) h->gso = GSO_RECVERR;
  len = sizeof size;
  if (getsockopt(h->fd, SOL_SOCKET, SO_SNDBUF, &size, &len) == 0) send_buffer_is(h, size);
}

/* Segments of `size` bytes are over the route's MTU (the kernel said err):
 * datagrams over size - 1 bytes are no longer grouped.  A socket may send
 * on several routes: sizes any IPv6 path carries keep grouping. */
static void segment_too_large(udpkit* h, uint32_t size, int err) {
  if (size <= GSO_SAFE_SIZE) return;
  h->gso_max_size = size - 1;
  h->gso_errno = err;
}

/* A UDP_SEGMENT send of `size`-byte segments failed with EIO or EINVAL.
 * EINVAL for a large segment may only mean it exceeds the route's MTU:
 * larger segments are no longer grouped.  Otherwise the device or the
 * socket refuses GSO (quinn-udp does the same): it is off for good. */
static void gso_refused(udpkit* h, int err, uint32_t size) {
  if (err == EINVAL && size > GSO_SAFE_SIZE) {
    segment_too_large(h, size, err);
  } else {
    h->gso = GSO_FAILED;
    h->gso_errno = err;
  }
}

/* Packs datagrams [k, n) of sb into sendmmsg entries from entry e on; the
 * datagrams before `plain_until` go one per entry.  With GSO on, a run to
 * one destination of one size (the last may be shorter, not empty) becomes
 * one entry with a UDP_SEGMENT control message, within the kernel's limits
 * and h->gso_bytes.
 * Returns the number of entries. */
static uint32_t build_entries(udpkit* h, send_buf* sb, uint32_t k, uint32_t n,
                              uint32_t e, uint32_t plain_until) {
  int gso = h->gso == GSO_ON;
  uint32_t size, total, last, next, j;
  struct msghdr* mh;
  struct cmsghdr* c;
  uint16_t segment;

  for (; k < n; e++, k = j) {
    size = sb->offsets[k + 1] - sb->offsets[k];
    total = last = size;
    j = k + 1;
    if (gso && k >= plain_until && size > 0 && size <= h->gso_max_size) {
      while (j < n && j - k < GSO_SEGMENTS && last == size && sb->slots[j] == sb->slots[k]) {
        next = sb->offsets[j + 1] - sb->offsets[j];
        if (next == 0 || next > size || total + next > h->gso_bytes) break;
        total += next;
        last = next;
        j++;
      }
    }
    mh = &sb->msgs[e].msg_hdr;
    memset(mh, 0, sizeof *mh);
    sb->first[e] = k;
    sb->iov[e].iov_base = sb->slab + sb->offsets[k];
    sb->iov[e].iov_len = total;
    mh->msg_iov = &sb->iov[e];
    mh->msg_iovlen = 1;
    if (sb->slots[k] >= 0) {
      mh->msg_name = &sb->names[k];
      mh->msg_namelen = sb->names[k].sin6_family == AF_INET ? sizeof(struct sockaddr_in)
                                                            : sizeof(struct sockaddr_in6);
    }
    if (j - k > 1) {
      segment = size;
      memset(&sb->ctrl[e], 0, sizeof sb->ctrl[e]); /* the padding goes to the kernel too */
      mh->msg_control = sb->ctrl[e].buf;
      mh->msg_controllen = CMSG_SPACE(sizeof segment);
      c = CMSG_FIRSTHDR(mh);
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof segment);
      memcpy(CMSG_DATA(c), &segment, sizeof segment);
    }
  }
  sb->first[e] = n;
  return e;
}

/* Entry e lost its first datagram (which failed alone): the rest stay one
 * entry, a plain one when a single datagram is left. */
static void drop_first(send_buf* sb, uint32_t e) {
  struct msghdr* mh = &sb->msgs[e].msg_hdr;
  uint32_t k = sb->first[e]++;
  uint32_t size = sb->offsets[k + 1] - sb->offsets[k];

  sb->iov[e].iov_base = (char*) sb->iov[e].iov_base + size;
  sb->iov[e].iov_len -= size;
  if (sb->first[e + 1] - sb->first[e] == 1) {
    mh->msg_control = NULL;
    mh->msg_controllen = 0;
  }
}

/* Sends the first datagram of entry e alone: 0, or the errno (EAGAIN for
 * EWOULDBLOCK and ENOBUFS). */
static int send_alone(udpkit* h, send_buf* sb, uint32_t e) {
  struct msghdr mh = sb->msgs[e].msg_hdr;
  uint32_t k = sb->first[e];
  struct iovec iov;
  ssize_t r;

  iov.iov_base = sb->iov[e].iov_base;
  iov.iov_len = sb->offsets[k + 1] - sb->offsets[k];
  mh.msg_iov = &iov;
  mh.msg_control = NULL;
  mh.msg_controllen = 0;
  do
    r = sendmsg(h->fd, &mh, MSG_DONTWAIT);
  while (r == -1 && errno == EINTR);
  if (r != -1) return 0;
  return errno == EWOULDBLOCK || errno == ENOBUFS ? EAGAIN : errno;
}

/* send(h, slab, offsets, slots, table, start, end, errnos): datagram i is
 * slab[offsets[i], offsets[i + 1]), sent to the sockaddr in table slot
 * slots[i] (-1: connected), at most SEND_BATCH per call.  As libuv does, a
 * datagram the kernel refuses fails alone and the next one is tried; each
 * settled datagram's outcome goes to errnos[i] (0 or -errno).  Returns how
 * many were settled from start; status[0] says why the rest wasn't
 * (-EAGAIN: the socket buffer is full), status[3] counts the sendmmsg calls
 * that sent.  No JavaScript runs during the call.
 *
 * With GSO on, runs of datagrams go as UDP_SEGMENT sends (build_entries),
 * and every datagram still gets the errno it would get alone: a failed
 * UDP_SEGMENT send is an error of its first datagram (the rest are tried
 * again, as the next datagrams would be), except EMSGSIZE (segments over
 * the route's MTU: the run is sent again one by one) and EIO/EINVAL: if its first datagram then goes alone,
 * GSO was refused (see gso_refused) and the rest go without it. */
static napi_value js_send(napi_env env, napi_callback_info info) {
  size_t slab_len, noffsets, nslots, nerrnos, table_len;
  const char* invalid;
  uint32_t* offsets;
  int32_t* slots;
  int32_t* errnos;
  int32_t* status;
  char* slab;
  char* table;
  double start, end;
  uint32_t i, n, e, nent, k, count;
  send_buf* sb;
  int batches = 0;
  int err, code;
  udpkit* h;
  int r;
  ARGS(8);

  if (!(h = get_handle(env, argv[0]))) return NULL;
  if (!view_bytes(env, argv[1], (void**) &slab, &slab_len))
    return type_error(env, "udpkit: slab must be an ArrayBufferView");
  if (!typed_array(env, argv[2], napi_uint32_array, (void**) &offsets, &noffsets))
    return type_error(env, "udpkit: offsets must be a Uint32Array");
  if (!typed_array(env, argv[3], napi_int32_array, (void**) &slots, &nslots))
    return type_error(env, "udpkit: slots must be an Int32Array");
  if (!view_bytes(env, argv[4], (void**) &table, &table_len))
    return type_error(env, "udpkit: table must be an ArrayBufferView");
  if (!get_number(env, argv[5], "start", &start) || !get_number(env, argv[6], "end", &end))
    return NULL;
  if (!typed_array(env, argv[7], napi_int32_array, (void**) &errnos, &nerrnos))
    return type_error(env, "udpkit: errnos must be an Int32Array");
  if (noffsets == 0 || !is_int(end, 0, noffsets - 1) || end > nslots || end > nerrnos ||
      !is_int(start, 0, end))
    return type_error(env, "udpkit: start and end must be indexes with start <= end < offsets.length");
  if (end - start > SEND_BATCH)
    return type_error(env, "udpkit: at most 1024 datagrams per call");
  if ((status = shared_array(env, h->status, STATUS_LEN)) == NULL)
    return type_error(env, "udpkit: the status array was detached");

  i = start;
  n = end - start;
  status[STATUS_SENDS] = 0;
  err = n == 0 ? (h->closed ? -EBADF : 0) : maybe_bind(h, 0);
  if (err == 0 && n > 0 && h->sb == NULL && (h->sb = malloc(sizeof *h->sb)) == NULL) err = -ENOMEM;
  if (err || n == 0) {
    status[0] = err;
    return ret_int(env, 0);
  }
  sb = h->sb;
  invalid = copy_batch(sb, slab, slab_len, offsets, slots, table, table_len, i, n);
  if (invalid != NULL) return type_error(env, invalid);
  if (h->gso == GSO_UNPROBED && n > 1) probe_gso(h);
  nent = build_entries(h, sb, 0, n, 0, 0);

  for (e = 0; e < nent;) {
    count = sb->first[e + 1] - sb->first[e];
    if (h->gso_fault && count > 1) { /* tests only: see setGso */
      r = -1;
      errno = h->gso_fault;
      h->gso_fault = 0;
    } else {
      r = sendmmsg(h->fd, sb->msgs + e, nent - e, MSG_DONTWAIT);
    }
    if (r > 0) {
      for (; r > 0; r--, e++) {
        count = sb->first[e + 1] - sb->first[e];
        for (k = sb->first[e]; k < sb->first[e + 1]; k++) errnos[i + k] = 0;
        if (count > 1) {
          h->gso_sends++;
          h->gso_segments += count;
        }
      }
      batches++;
      continue;
    }
    if (r == 0) { /* never seen; no busy loop if it were */
      err = -EAGAIN;
      break;
    }
    code = errno;
    if (code == EINTR) continue;
    /* libuv waits on ENOBUFS too (a full device queue) */
    if (code == EAGAIN || code == EWOULDBLOCK || code == ENOBUFS) {
      err = -EAGAIN;
      break;
    }
    k = sb->first[e];
    if (count > 1 && (code == EIO || code == EINVAL)) {
      /* GSO is to blame only if the first datagram goes alone. */
      r = send_alone(h, sb, e);
      if (r == EAGAIN) {
        err = -EAGAIN;
        break;
      }
      errnos[i + k] = -r;
      if (r == 0) {
        batches++;
        gso_refused(h, code, sb->offsets[k + 1] - sb->offsets[k]);
        nent = build_entries(h, sb, k + 1, n, e, 0);
      } else {
        drop_first(sb, e);
      }
    } else if (count > 1 && code == EMSGSIZE) {
      /* The run is within the limits, so its segments exceed the route's
       * MTU (Linux 6.x; EINVAL before): the run goes one by one, and runs
       * of datagrams this large are not grouped again. */
      segment_too_large(h, sb->offsets[k + 1] - sb->offsets[k], code);
      nent = build_entries(h, sb, k, n, e, sb->first[e + 1]);
    } else {
      errnos[i + k] = -code; /* this datagram's error; the next may go */
      if (count > 1)
        drop_first(sb, e);
      else
        e++;
    }
  }
  status[0] = err;
  status[STATUS_SENDS] = batches;
  return ret_int(env, sb->first[e]);
}

/* setGso(h, on, fault): UDP_SEGMENT sends on or off (on: probed at the next
 * send of more than one datagram).  fault is for tests only: a positive
 * errno the next probe (ENOPROTOOPT) or the next sendmmsg that starts with
 * a UDP_SEGMENT send (any other) fails with, without a system call. */
static napi_value js_set_gso(napi_env env, napi_callback_info info) {
  double fault;
  udpkit* h;
  int on;
  ARGS(3);

  if (!(h = get_handle(env, argv[0])) || !get_bool(env, argv[1], "on", &on) ||
      !get_number(env, argv[2], "fault", &fault))
    return NULL;
  if (!is_int(fault, 0, 4095)) return type_error(env, "udpkit: fault must be an errno number");
  if (!on) {
    h->gso = GSO_OFF;
  } else if (h->gso == GSO_OFF) {
    h->gso = GSO_UNPROBED;
    h->gso_errno = 0;
  }
  h->gso_fault = fault;
  return ret_undefined(env);
}

static int set_number(napi_env env, napi_value out, const char* name, double value) {
  napi_value v;

  return napi_create_double(env, value, &v) == napi_ok &&
         napi_set_named_property(env, out, name, v) == napi_ok;
}

/* gsoStatus(h, out): sets out.state (GSO_*), out.errno (-errno: why
 * unsupported, failed or out.maxSize lowered; else 0), out.recverr
 * (RECVERR_* bits), out.maxSize, out.sends and out.segments.  Probes a
 * descriptor not yet probed. */
static napi_value js_gso_status(napi_env env, napi_callback_info info) {
  udpkit* h;
  ARGS(2);

  if (!(h = get_handle(env, argv[0]))) return NULL;
  if (!is_type(env, argv[1], napi_object)) return type_error(env, "udpkit: out must be an object");
  if (h->gso == GSO_UNPROBED && h->fd != -1) probe_gso(h);
  if (!set_number(env, argv[1], "state", h->gso) ||
      !set_number(env, argv[1], "errno", -h->gso_errno) ||
      !set_number(env, argv[1], "recverr", h->gso_recverr) ||
      !set_number(env, argv[1], "maxSize", h->gso_max_size) ||
      !set_number(env, argv[1], "sends", h->gso_sends) ||
      !set_number(env, argv[1], "segments", h->gso_segments))
    return fail(env);
  return ret_undefined(env);
}

static napi_value js_await_writable(napi_env env, napi_callback_info info) {
  udpkit* h;
  int err;
  ARGS(1);

  if (!(h = get_handle(env, argv[0]))) return NULL;
  if (h->poller == NULL) return ret_int(env, -EBADF);
  h->events |= UV_WRITABLE;
  if ((err = poll_update(h))) {
    h->events &= ~UV_WRITABLE;
    poll_update(h);
  }
  return ret_int(env, err);
}

static napi_value js_recv_start(napi_env env, napi_callback_info info) {
  udpkit* h;
  int err;
  ARGS(1);

  if (!(h = get_handle(env, argv[0]))) return NULL;
  if ((err = maybe_bind(h, 0))) return ret_int(env, err);
  if (thread_recv_buf(env) == NULL) return ret_int(env, -ENOMEM);
  h->events |= UV_READABLE;
  if ((err = poll_update(h))) h->events &= ~UV_READABLE;
  return ret_int(env, err);
}

static napi_value js_recv_stop(napi_env env, napi_callback_info info) {
  udpkit* h;
  ARGS(1);

  if (!(h = get_handle(env, argv[0]))) return NULL;
  if (h->closed) return ret_int(env, -EBADF);
  h->events &= ~UV_READABLE;
  return ret_int(env, h->poller ? poll_update(h) : 0);
}

static napi_value set_ref(napi_env env, napi_callback_info info, int unref) {
  udpkit* h;
  ARGS(1);

  if (!(h = get_handle(env, argv[0]))) return NULL;
  if (!h->closed) {
    h->unref = unref;
    if (h->poller != NULL) apply_ref(h);
  }
  return ret_undefined(env);
}

static napi_value js_ref(napi_env env, napi_callback_info info) {
  return set_ref(env, info, 0);
}

static napi_value js_unref(napi_env env, napi_callback_info info) {
  return set_ref(env, info, 1);
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  udpkit* h;
  ARGS(1);

  if (!(h = get_handle(env, argv[0]))) return NULL;
  if (!h->closed) {
    /* A callback on this context may be running (close from a listener):
     * the context goes when the poll handle has closed. */
    if (h->poller != NULL) {
      h->poller->actx = h->actx;
      h->actx = NULL;
    }
    shut(h);
    keep_alive(h, 0);
    if (h->actx != NULL) napi_async_destroy(env, h->actx);
    h->actx = NULL;
  }
  return ret_undefined(env);
}

static void free_thread(napi_env env, void* data, void* hint) {
  per_thread* t = data;

  free(t->rb);
  free(t);
}

NAPI_MODULE_INIT() {
  static const struct {
    const char* name;
    napi_callback fn;
  } fns[] = {
    { "create", js_create },
    { "bind", js_bind },
    { "open", js_open },
    { "guessHandleType", js_guess_handle_type },
    { "connect", js_connect },
    { "disconnect", js_disconnect },
    { "fileno", js_fileno },
    { "getsockname", js_getsockname },
    { "getpeername", js_getpeername },
    { "setBroadcast", js_set_broadcast },
    { "setTTL", js_set_ttl },
    { "setMulticastTTL", js_set_multicast_ttl },
    { "setMulticastLoopback", js_set_multicast_loopback },
    { "setMulticastInterface", js_set_multicast_interface },
    { "setMembership", js_set_membership },
    { "setSourceMembership", js_set_source_membership },
    { "blockSource", js_block_source },
    { "setMulticastAll", js_set_multicast_all },
    { "bufferSize", js_buffer_size },
    { "setRecvMetadata", js_set_recv_metadata },
    { "setGro", js_set_gro },
    { "groState", js_gro_state },
    { "setRecvSlot", js_set_recv_slot },
    { "sockaddr", js_sockaddr },
    { "send", js_send },
    { "setGso", js_set_gso },
    { "gsoStatus", js_gso_status },
    { "awaitWritable", js_await_writable },
    { "recvStart", js_recv_start },
    { "recvStop", js_recv_stop },
    { "ref", js_ref },
    { "unref", js_unref },
    { "close", js_close },
  };
  napi_property_descriptor props[sizeof fns / sizeof fns[0]];
  per_thread* t = NULL;
  size_t i;

  /* The thread's receive buffers hang off the environment's instance data. */
  if (napi_get_instance_data(env, (void**) &t) != napi_ok) return fail(env);
  if (t == NULL) {
    if ((t = calloc(1, sizeof *t)) == NULL) {
      napi_throw_error(env, "ENOMEM", "udpkit: out of memory");
      return NULL;
    }
    if (napi_set_instance_data(env, t, free_thread, NULL) != napi_ok) {
      free(t);
      return fail(env);
    }
  }

  for (i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_property_descriptor p = { fns[i].name, NULL, fns[i].fn, NULL, NULL, NULL,
                                   napi_enumerable, NULL };
    props[i] = p;
  }
  if (napi_define_properties(env, exports, i, props) != napi_ok) return fail(env);
  return exports;
}
