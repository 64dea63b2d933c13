/*
 * The BPF half of the kernel relay, shared by kernel-relay-agent.c and bench/experiments/relay.c: a
 * sockhash (key: a socket cookie) and an sk_skb verdict program attached to it, which redirects each
 * packet arriving on a socket in the sockhash to the send side of the socket stored under the
 * arriving socket's own cookie. A packet whose socket has no entry (its partner closed) is dropped.
 */
#ifndef SOCKHASH_REDIRECT_H
#define SOCKHASH_REDIRECT_H

#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int bpf(int cmd, union bpf_attr *attr) { return syscall(SYS_bpf, cmd, attr, sizeof *attr); }

/*
 * Creates the sockhash (values: file descriptors of value_size 4 or 8 bytes) and attaches the program.
 * Returns the sockhash's descriptor, or -1 with errno set, *step naming what failed and, when the
 * verifier refused the program, its reasons in log.
 */
static int sockhash_redirect_load(unsigned max_entries, unsigned value_size, const char **step, char *log,
                                  unsigned log_size) {
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_type = BPF_MAP_TYPE_SOCKHASH;
  a.key_size = 8;
  a.value_size = value_size;
  a.max_entries = max_entries;
  int sockhash = bpf(BPF_MAP_CREATE, &a);
  if (sockhash < 0) {
    *step = "creating the sockhash";
    return -1;
  }
  struct bpf_insn prog[] = {
      {BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0},                      /* r6 = skb */
      {BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_socket_cookie},      /* r0 = cookie of skb's socket */
      {BPF_STX | BPF_MEM | BPF_DW, 10, 0, -8, 0},                     /* key = r0, on the stack */
      {BPF_ALU64 | BPF_MOV | BPF_X, 1, 6, 0, 0},                      /* r1 = skb */
      {BPF_LD | BPF_DW | BPF_IMM, 2, BPF_PSEUDO_MAP_FD, 0, sockhash}, /* r2 = the sockhash */
      {0, 0, 0, 0, 0},
      {BPF_ALU64 | BPF_MOV | BPF_X, 3, 10, 0, 0},                     /* r3 = &key */
      {BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, -8},
      {BPF_ALU64 | BPF_MOV | BPF_K, 4, 0, 0, 0},                      /* flags 0: the partner's egress */
      {BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_sk_redirect_hash},       /* verdict: redirect or drop */
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0}};
  memset(&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_SK_SKB;
  a.insns = (unsigned long)prog;
  a.insn_cnt = sizeof prog / sizeof prog[0];
  a.license = (unsigned long)"GPL";
  a.log_buf = (unsigned long)log;
  a.log_size = log_size;
  a.log_level = 1;
  log[0] = 0;
  int verdict = bpf(BPF_PROG_LOAD, &a);
  if (verdict < 0) {
    *step = "loading the verdict program";
    return -1;
  }
  memset(&a, 0, sizeof a);
  a.target_fd = sockhash;
  a.attach_bpf_fd = verdict;
  a.attach_type = BPF_SK_SKB_VERDICT;
  if (bpf(BPF_PROG_ATTACH, &a) < 0) {
    *step = "attaching the verdict program to the sockhash";
    return -1;
  }
  return sockhash;
}

#endif
