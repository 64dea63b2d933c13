/*
 * Three minimal TCP relays, for measuring what a relay's data path costs on this kernel, apart
 * from any proxy product (not part of pgconmgr; see docs/BENCHMARKS.md, "Relays below Netty").
 *
 *   relay LISTEN_PORT TARGET_PORT copy|splice|sockmap        (127.0.0.1 only, one thread)
 *
 * copy:    epoll (level-triggered), recv into a buffer, send it on.
 * splice:  epoll, splice(2) from the socket into a pipe and from the pipe into the peer socket:
 *          no copy through user space, the same number of system calls.
 * sockmap: the kernel relays: both sockets of a pair go into a BPF sockhash, keyed by each one's
 *          socket cookie with the *other* socket as value, and an sk_skb verdict program
 *          redirects every arriving skb to the peer (bpf_sk_redirect_hash). User space only
 *          accepts, connects and closes: it waits for hang-ups, not for data (the kernel still
 *          signals data it has redirected). What the client sent before its socket went into the
 *          sockhash (its first packet, as a rule) stays in the receive queue: the relay forwards
 *          that once, by hand; nothing can overtake it, as PostgreSQL's client then waits for the
 *          server, and the server never speaks first. Needs CAP_BPF and CAP_NET_ADMIN (root here).
 *
 * A measuring tool, not a proxy: writes block (a full peer stalls every pair), and a hang-up on
 * either side closes both at once without propagating a half-close.
 *
 * Build: gcc -O2 -o relay relay.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* the sockhash and its verdict program, shared with conmgr's kernel relay agent */
#include "../../sidecar-conmgr/src/main/c/sockhash-redirect.h"

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif
#define MAX_FD 65536

enum mode { COPY, SPLICE, SOCKMAP };
static enum mode mode;
static int peer[MAX_FD], pipe_in[MAX_FD], pipe_out[MAX_FD];
static int sockhash = -1;
static char buf[65536];

static void die(const char *what) { perror(what); exit(1); }

/* The sockhash and its verdict program: redirect to the socket stored under my own cookie. */
static void load_sockmap(void) {
  static char log[65536];
  const char *step;
  if ((sockhash = sockhash_redirect_load(MAX_FD, 4, &step, log, sizeof log)) < 0) { fputs(log, stderr); die(step); }
}

/* 0, or -1 when the socket cannot go in (e.g. its client already hung up: no longer established) */
static int put(int key_socket, int value_socket) {
  unsigned long long cookie;
  socklen_t len = sizeof cookie;
  if (getsockopt(key_socket, SOL_SOCKET, SO_COOKIE, &cookie, &len) < 0) return -1;
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_fd = sockhash;
  a.key = (unsigned long)&cookie;
  a.value = (unsigned long)&value_socket;
  a.flags = BPF_ANY;
  return bpf(BPF_MAP_UPDATE_ELEM, &a);
}

static void close_pair(int ep, int fd) {
  int other = peer[fd];
  epoll_ctl(ep, EPOLL_CTL_DEL, fd, 0);
  epoll_ctl(ep, EPOLL_CTL_DEL, other, 0);
  if (mode == SPLICE) {
    close(pipe_in[fd]); close(pipe_out[fd]); close(pipe_in[other]); close(pipe_out[other]);
  }
  close(fd); /* closing a socket takes it out of the sockhash */
  close(other);
  peer[fd] = peer[other] = -1; /* an event for the other one may still be in this batch */
}

/* Moves what is readable on fd to its peer; returns 0 at end of stream or error. */
static int relay(int fd) {
  ssize_t n;
  if (mode == SPLICE) {
    n = splice(fd, 0, pipe_in[fd], 0, sizeof buf, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
    if (n <= 0) return n < 0 && errno == EAGAIN;
    while (n > 0) {
      ssize_t w = splice(pipe_out[fd], 0, peer[fd], 0, n, SPLICE_F_MOVE);
      if (w <= 0) return 0;
      n -= w;
    }
    return 1;
  }
  n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
  if (n <= 0) return n < 0 && errno == EAGAIN;
  for (ssize_t off = 0; off < n;) {
    ssize_t w = send(peer[fd], buf + off, n - off, 0);
    if (w < 0) return 0;
    off += w;
  }
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 4) { fprintf(stderr, "usage: relay LISTEN_PORT TARGET_PORT copy|splice|sockmap\n"); return 2; }
  mode = !strcmp(argv[3], "splice") ? SPLICE : !strcmp(argv[3], "sockmap") ? SOCKMAP : COPY;
  signal(SIGPIPE, SIG_IGN); /* a peer's reset ends its pair, not the relay */
  memset(peer, -1, sizeof peer);
  if (mode == SOCKMAP) load_sockmap();
  int one = 1, listener = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in at = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
  inet_pton(AF_INET, "127.0.0.1", &at.sin_addr);
  struct sockaddr_in target = at;
  target.sin_port = htons(atoi(argv[2]));
  if (bind(listener, (void *)&at, sizeof at) < 0 || listen(listener, 512) < 0) die("listen");
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = listener}, ready[64];
  epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
  for (;;) {
    int n = epoll_wait(ep, ready, 64, -1), accepting = 0;
    for (int i = 0; i < n; i++) {
      int fd = ready[i].data.fd;
      if (fd == listener) {
        accepting = 1; /* after this batch: a new socket must not take the number of one closed in it */
      } else if (peer[fd] >= 0 /* not closed earlier in this batch */
          && (mode == SOCKMAP ? (ready[i].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0 : !relay(fd))) {
        close_pair(ep, fd);
      }
    }
    if (!accepting) continue;
    int client = accept(listener, 0, 0);
    if (client < 0) { usleep(10000); continue; } /* out of descriptors: do not spin on the listener */
    int server = socket(AF_INET, SOCK_STREAM, 0); /* blocking connect: loopback only */
    if (client >= MAX_FD || server >= MAX_FD || connect(server, (void *)&target, sizeof target) < 0) {
      close(client); close(server); continue;
    }
    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    peer[client] = server;
    peer[server] = client;
    if (mode == SPLICE) {
      int c[2], s[2];
      if (pipe2(c, O_NONBLOCK) < 0 || pipe2(s, O_NONBLOCK) < 0) die("pipe");
      pipe_out[client] = c[0]; pipe_in[client] = c[1];
      pipe_out[server] = s[0]; pipe_in[server] = s[1];
    }
    if (mode == SOCKMAP) {
      if (put(client, server) < 0 || put(server, client) < 0 || !relay(client)) { close(client); close(server); peer[client] = peer[server] = -1; continue; }
    }
    struct epoll_event e = {.events = mode == SOCKMAP ? EPOLLRDHUP : EPOLLIN | EPOLLRDHUP, .data.fd = client};
    epoll_ctl(ep, EPOLL_CTL_ADD, client, &e);
    e.data.fd = server;
    epoll_ctl(ep, EPOLL_CTL_ADD, server, &e);
  }
}
