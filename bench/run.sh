#!/usr/bin/env bash
# Runs one benchmark (or all) and prints a Markdown report on stdout, also saved in bench/target/results/.
#   bench/run.sh overhead|detection|failover|scale|footprint|all [--option value]...
# Installs what is missing (HAProxy, PgBouncer, psql/pgbench, iptables) from Debian packages without
# leaving their system services running, builds the bench jar (and the sidecars) when missing or older
# than the sources, then runs it. Needs root (network namespaces, iptables). Never part of `mvn verify`.
set -euo pipefail
trap 'echo "bench/run.sh: failed at line $LINENO" >&2' ERR
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

name="${1:-}"
case "$name" in
  overhead|detection|failover|scale|footprint|all) ;;
  *) echo "usage: bench/run.sh overhead|detection|failover|scale|footprint|all [--option value]..." >&2; exit 2 ;;
esac

if [ "$(id -u)" -ne 0 ]; then
  echo "bench/run.sh needs root: network namespaces, iptables, and PostgreSQL run as an unprivileged user" >&2
  exit 1
fi

# Debian packages, installed once. Their services must not run: the benchmarks start their own instances
# on loopback ports with their own config files, and a system HAProxy/PgBouncer would only add load.
missing=()
command -v haproxy >/dev/null || missing+=(haproxy)
command -v pgbouncer >/dev/null || missing+=(pgbouncer)
command -v pgbench >/dev/null || missing+=(postgresql-client)
command -v iptables >/dev/null || missing+=(iptables)
command -v ip >/dev/null || missing+=(iproute2)
# --relays builds the C relays of bench/experiments, --kernel-relay conmgr's kernel relay agent (overhead)
if [[ " $* " == *" --relays "* || " $* " == *" --kernel-relay "* ]]; then command -v gcc >/dev/null || missing+=(gcc); fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "[bench] installing ${missing[*]}" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi
for svc in haproxy pgbouncer; do
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl disable --now "$svc" >/dev/null 2>&1 || true
  else
    service "$svc" stop >/dev/null 2>&1 || true
    update-rc.d "$svc" disable >/dev/null 2>&1 || true
  fi
done

# Build what is missing or stale: the bench jar, and the sidecars when their modules exist.
jar=bench/target/pgconmgr-bench.jar
modules=bench
sources=(bench/src testkit/src protocol/src)
for m in sidecar-conmgr watchdog-sidecar; do
  if [ -d "$m/src/main" ]; then
    modules="$modules,$m"
    sources+=("$m/src")
  fi
done
stale=missing
if [ -f "$jar" ]; then
  stale=$(find "${sources[@]}" -newer "$jar" -type f -print -quit)
  for built in sidecar-conmgr/target/conmgr.jar watchdog-sidecar/target/watchdog.jar; do
    m=${built%%/*}
    if [ -d "$m/src/main" ] && { [ ! -f "$built" ] || [ -n "$(find "$m/src" -newer "$built" -type f -print -quit)" ]; }; then
      stale="$built"
    fi
  done
fi
if [ -n "$stale" ]; then
  echo "[bench] building $modules (mvn package, tests skipped)" >&2
  mvn -B -q -DskipTests package -pl "$modules" -am >&2
fi

# 10,000-connection runs need every file descriptor the hard limit allows.
ulimit -n "$(ulimit -Hn)"

mkdir -p bench/target/results
out="bench/target/results/$name-$(date -u +%Y%m%dT%H%M%SZ).md"
echo "[bench] report: $out" >&2
java -Xmx1g -jar "$jar" "$@" | tee "$out"
