/*
 * kernel-relay-agent: lets the kernel relay conmgr's proxied connections (docs/kernel-relay.md).
 *
 *   kernel-relay-agent -s SOCKET [-g GROUP] [-n MAX_PAIRS]
 *
 * It loads one BPF sk_skb verdict program and one sockhash, then listens on the unix socket SOCKET
 * (mode 0660, group GROUP) for conmgr processes. A conmgr sends, per proxied connection, two
 * established TCP sockets (client side first, instance side second) as SCM_RIGHTS file descriptors,
 * one per message, after the agent's greeting (one byte, the protocol version, 1); the agent stores
 * each socket in the sockhash under the *other* one's socket
 * cookie, so that every packet arriving on one is redirected by the program to the other's send
 * side without leaving the kernel, and answers one byte: 0 when the pair is in, else an errno value
 * (conmgr then relays that connection itself). The agent closes its copies of the descriptors at
 * once: the sockhash holds the sockets, and a socket leaves it when conmgr closes it.
 *
 * Only the agent needs privileges (CAP_BPF and CAP_NET_ADMIN, or root); conmgr stays unprivileged.
 * A peer can only hand over sockets it already owns, and the program only moves bytes between the
 * two sockets of one pair. When the agent exits, the pairs already in the sockhash go on being
 * relayed: each socket holds the program, which holds the sockhash, until the socket closes.
 *
 * Build: gcc -O2 -Wall -o kernel-relay-agent kernel-relay-agent.c (bin/kernel-relay-agent does it)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sockhash-redirect.h"

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

#define MAX_PEERS 1024
#define PROTOCOL_VERSION 1

static int sockhash = -1;
static const char *socket_path;
/* Per connected conmgr: the client-side socket received, waiting for its instance-side partner. */
static int waiting[MAX_PEERS];

static void die(const char *what) {
  fprintf(stderr, "kernel-relay-agent: %s: %s\n", what, strerror(errno));
  exit(1);
}

/* The sockhash, with its verdict program attached (sockhash-redirect.h). */
static void load(unsigned max_pairs) {
  static char log[65536];
  const char *step;
  if ((sockhash = sockhash_redirect_load(2 * max_pairs, 8, &step, log, sizeof log)) < 0) {
    int failed = errno;
    fputs(log, stderr);
    fprintf(stderr, "kernel-relay-agent: %s: %s\n", step, strerror(failed));
    if (failed == EPERM) {
      fprintf(stderr, "kernel-relay-agent: BPF needs CAP_BPF and CAP_NET_ADMIN (or root); kernels before 5.11 "
                      "also charge BPF maps to RLIMIT_MEMLOCK (ulimit -l)\n");
    }
    exit(1);
  }
}

static int cookie(int fd, unsigned long long *out) {
  socklen_t len = sizeof *out;
  return getsockopt(fd, SOL_SOCKET, SO_COOKIE, out, &len);
}

static int map_elem(int cmd, unsigned long long *key, unsigned long long *value, unsigned long long flags) {
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_fd = sockhash;
  a.key = (unsigned long)key;
  a.value = (unsigned long)value;
  a.flags = flags;
  return bpf(cmd, &a);
}

/* Whether fd is a connected TCP socket (not a listening one): the program relays byte streams only. */
static int tcp_socket(int fd) {
  int type = 0, protocol = 0, listening = 1;
  socklen_t len = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM) return 0;
  len = sizeof protocol;
  if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len) < 0 || protocol != IPPROTO_TCP) return 0;
  len = sizeof listening;
  return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && !listening;
}

/* Puts a pair in the sockhash; 0, or the errno that refused it (then neither socket is in). */
static int put_pair(int client, int instance) {
  if (!tcp_socket(client) || !tcp_socket(instance)) return EINVAL;
  unsigned long long client_key, instance_key, client_fd = client, instance_fd = instance;
  if (cookie(client, &client_key) < 0 || cookie(instance, &instance_key) < 0) return errno;
  /* NOEXIST: a socket already in a pair cannot be handed over again. A socket that is no longer
   * established (its peer hung up meanwhile) is refused by the kernel, a listening one above. */
  if (map_elem(BPF_MAP_UPDATE_ELEM, &client_key, &instance_fd, BPF_NOEXIST) < 0) return errno;
  if (map_elem(BPF_MAP_UPDATE_ELEM, &instance_key, &client_fd, BPF_NOEXIST) < 0) {
    int refused = errno;
    map_elem(BPF_MAP_DELETE_ELEM, &client_key, NULL, 0);
    return refused;
  }
  return 0;
}

static void drop_peer(int ep, int peer) {
  epoll_ctl(ep, EPOLL_CTL_DEL, peer, NULL);
  if (waiting[peer] >= 0) close(waiting[peer]);
  waiting[peer] = -1;
  close(peer);
}

/* Reads what a conmgr sent; false when it hung up or broke the protocol. */
static int serve(int peer) {
  for (;;) {
    char data[64];
    union {
      struct cmsghdr align;
      char space[CMSG_SPACE(8 * sizeof(int))];
    } control;
    struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.space,
                         .msg_controllen = sizeof control.space};
    ssize_t n = recvmsg(peer, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    if (n == 0) return 0;
    int ok = (msg.msg_flags & MSG_CTRUNC) == 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      int count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      int *fds = (int *)CMSG_DATA(c);
      for (int i = 0; i < count; i++) {
        if (!ok) {
          close(fds[i]);
        } else if (waiting[peer] < 0) {
          waiting[peer] = fds[i];
        } else {
          int refused = put_pair(waiting[peer], fds[i]);
          close(waiting[peer]);
          close(fds[i]);
          waiting[peer] = -1;
          unsigned char answer = refused > 255 ? 255 : (unsigned char)refused;
          if (send(peer, &answer, 1, MSG_DONTWAIT | MSG_NOSIGNAL) != 1) ok = 0;
        }
      }
    }
    if (!ok) return 0;
  }
}

/* The socket file this agent bound: stop() removes only that one, not one a later agent put there. */
static struct stat bound;

static void stop(int signal) {
  (void)signal;
  struct stat st;
  if (lstat(socket_path, &st) == 0 && st.st_ino == bound.st_ino && st.st_dev == bound.st_dev) unlink(socket_path);
  _exit(0);
}

/* Clears the way for bind: a socket file left by an agent that was killed goes; anything else stays. */
static void remove_stale_socket(const struct sockaddr_un *at) {
  struct stat st;
  if (lstat(socket_path, &st) < 0) return;
  if (!S_ISSOCK(st.st_mode)) {
    fprintf(stderr, "kernel-relay-agent: %s exists and is not a socket: not touching it\n", socket_path);
    exit(2);
  }
  /* Non-blocking: a stopped agent with a full queue answers EAGAIN instead of hanging this one. */
  int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (probe < 0) die("socket");
  if (connect(probe, (const struct sockaddr *)at, sizeof *at) == 0 || errno == EAGAIN) {
    fprintf(stderr, "kernel-relay-agent: another agent listens on %s\n", socket_path);
    exit(1);
  }
  if (errno != ECONNREFUSED) die(socket_path); /* e.g. EACCES: not ours to replace */
  close(probe);
  unlink(socket_path);
}

int main(int argc, char **argv) {
  const char *group = NULL;
  unsigned max_pairs = 65536;
  for (int opt; (opt = getopt(argc, argv, "s:g:n:")) != -1;) {
    switch (opt) {
      case 's': socket_path = optarg; break;
      case 'g': group = optarg; break;
      case 'n': max_pairs = strtoul(optarg, NULL, 10); break;
      default: socket_path = NULL; optind = argc; break;
    }
  }
  if (!socket_path || optind != argc || max_pairs < 1 || max_pairs > (1u << 24)) {
    fprintf(stderr, "usage: kernel-relay-agent -s SOCKET [-g GROUP] [-n MAX_PAIRS (1-16777216, default 65536)]\n");
    return 2;
  }
  struct sockaddr_un at = {.sun_family = AF_UNIX};
  if (strlen(socket_path) >= sizeof at.sun_path) {
    fprintf(stderr, "kernel-relay-agent: socket path too long (at most %zu bytes): %s\n", sizeof at.sun_path - 1,
            socket_path);
    return 2;
  }
  strcpy(at.sun_path, socket_path);
  gid_t gid = (gid_t)-1;
  if (group) {
    struct group *g = getgrnam(group);
    if (!g) {
      fprintf(stderr, "kernel-relay-agent: no such group: %s\n", group);
      return 2;
    }
    gid = g->gr_gid;
  }
  signal(SIGPIPE, SIG_IGN);
  load(max_pairs);
  int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  remove_stale_socket(&at);
  mode_t mask = umask(0117);
  if (bind(listener, (struct sockaddr *)&at, sizeof at) < 0) die(socket_path);
  umask(mask);
  if (lstat(socket_path, &bound) < 0) die(socket_path);
  if (group && chown(socket_path, (uid_t)-1, gid) < 0) die("chown of the socket");
  if (listen(listener, 64) < 0) die("listen");
  signal(SIGTERM, stop);
  signal(SIGINT, stop);
  memset(waiting, -1, sizeof waiting);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = listener}, ready[64];
  epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
  fprintf(stderr, "kernel-relay-agent: sockhash for %u pairs loaded; listening on %s\n", max_pairs, socket_path);
  for (;;) {
    int n = epoll_wait(ep, ready, 64, -1);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; i++) {
      int fd = ready[i].data.fd;
      if (fd != listener) {
        if (!serve(fd)) drop_peer(ep, fd);
        continue;
      }
      int peer = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
      if (peer < 0) {
        /* Out of descriptors: the listener stays readable, so do not spin on it. */
        if (errno == EMFILE || errno == ENFILE) usleep(10000);
        continue;
      }
      if (peer >= MAX_PEERS) {
        fprintf(stderr, "kernel-relay-agent: refusing a conmgr: %d are connected already\n", MAX_PEERS);
        close(peer);
        continue;
      }
      struct epoll_event e = {.events = EPOLLIN, .data.fd = peer};
      epoll_ctl(ep, EPOLL_CTL_ADD, peer, &e);
      /* The greeting, the protocol's version: it tells conmgr an agent is really there (the kernel
       * completes a unix socket's connect even for a listener whose process is stopped). */
      unsigned char version = PROTOCOL_VERSION;
      if (send(peer, &version, 1, MSG_DONTWAIT | MSG_NOSIGNAL) != 1) drop_peer(ep, peer);
    }
  }
}
