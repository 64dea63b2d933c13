#!/usr/bin/env bash
# Compares the three minimal relays of relay.c (copy, splice, sockmap) with a direct connection and
# any other paths already running, round by round: pgbench -S with 8 clients (tps and the whole
# machine's CPU per transaction, which counts the kernel's share wherever it runs) and with one
# client (latency). Not part of CI; see docs/BENCHMARKS.md, "Relays below Netty".
#
#   bench/experiments/compare-relays.sh PG_PORT [NAME=PORT ...]
#   env: ROUNDS (5), DURATION s (8), PGUSER (postgres), PGDATABASE (postgres, pgbench -i'd)
# Needs gcc, root (sockmap) and a PostgreSQL on 127.0.0.1:PG_PORT.
set -euo pipefail
pg=$1; shift
rounds=${ROUNDS:-5}; duration=${DURATION:-8}
export PGUSER=${PGUSER:-postgres} PGDATABASE=${PGDATABASE:-postgres}
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
gcc -O2 -Wall -o "$work/relay" "$here/relay.c"
paths=("direct=$pg")
port=$((pg + 1000))
relays=()
for mode in copy splice sockmap; do
  "$work/relay" "$port" "$pg" "$mode" &
  relays+=("$!")
  paths+=("$mode=$port")
  port=$((port + 1))
done
paths+=("$@")
sleep 0.5
for pid in "${relays[@]}"; do
  kill -0 "$pid" 2>/dev/null || { echo "a relay did not start (its error is above)" >&2; exit 1; }
done

busy() { awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat; }   # jiffies, all CPUs: not idle, iowait or steal
# jiffies of the process listening on a port (user + system, all threads); 0 for a direct connection
listener() { ss -Hltnp "sport = :$1" | grep -oP 'pid=\K[0-9]+' | head -1; }
own() { if [ -n "$1" ]; then awk '{print $14+$15}' "/proc/$1/stat"; else echo 0; fi; }
hz=$(getconf CLK_TCK)
for p in "${paths[@]}"; do   # warm-up, unrecorded (a JVM's JIT)
  pgbench -h 127.0.0.1 -p "${p#*=}" -S -c 8 -j 2 -T 3 >/dev/null 2>&1 \
    || { echo "pgbench through ${p%%=*} (port ${p#*=}) failed" >&2; exit 1; }
done
declare -A pid
for p in "${paths[@]}"; do
  [ "${p%%=*}" = direct ] || pid[${p%%=*}]=$(listener "${p#*=}")
done
printf '%-10s %5s %9s %14s %12s %14s\n' path round tps "CPU us/tx" "latency c1" "own us/tx"
for r in $(seq 1 "$rounds"); do
  for i in "${!paths[@]}"; do
    p=${paths[$(( (i + r - 1) % ${#paths[@]} ))]}   # each round starts one path later
    n=${p%%=*}
    b0=$(busy); o0=$(own "${pid[$n]:-}")
    out=$(pgbench -h 127.0.0.1 -p "${p#*=}" -S -c 8 -j 2 -T "$duration" 2>&1)
    b1=$(busy); o1=$(own "${pid[$n]:-}")
    tps=$(grep -oP '^tps = \K[0-9.]+' <<<"$out"); tx=$(grep -oP 'processed: \K[0-9]+' <<<"$out")
    lat=$(pgbench -h 127.0.0.1 -p "${p#*=}" -S -c 1 -T 3 2>&1 | grep -oP '^latency average = \K[0-9.]+')
    awk -v n="$n" -v r="$r" -v t="$tps" -v b=$((b1 - b0)) -v o=$((o1 - o0)) -v x="$tx" -v hz="$hz" -v l="$lat" \
      'BEGIN { printf "%-10s %5d %9.0f %14.1f %9.0f us %14.1f\n", n, r, t, b * 1e6 / hz / x, l * 1000, o * 1e6 / hz / x }'
  done
done | tee "$work/rounds"
echo
echo "median over $rounds rounds (tps, machine CPU per transaction, latency with one client, the path's own process CPU per transaction):"
for p in "${paths[@]}"; do
  n=${p%%=*}
  awk -v n="$n" '$1 == n { t[++k] = $3; c[k] = $4; l[k] = $5; o[k] = $7 }
    function med(a, k,   i, j, x) { for (i = 2; i <= k; i++) { x = a[i]; for (j = i - 1; j > 0 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
      return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2 }
    END { printf "%-10s %9.0f tps %8.1f us/tx %6.0f us %8.1f us/tx\n", n, med(t, k), med(c, k), med(l, k), med(o, k) }' "$work/rounds"
done
