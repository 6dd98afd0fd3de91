#!/usr/bin/env bash
# lock-compare.sh — run the `cairn bench lock` scenarios against a 3-member etcd
# cluster (its lock recipe), a single redis-server (SET NX PX + compare-and-delete;
# single node, no fencing tokens: the unsafe baseline) and a fresh 3-node lockd
# cluster, one after the other on this machine, and print the ratios.
#
# etcd and redis come from Debian's etcd-server and redis-server packages,
# installed with apt-get when missing. etcd runs like a real deployment (fsync on);
# redis runs with persistence off. Everything started here is stopped on exit.
#
# Environment: CAIRN (binary, default bin/cairn; `make build`), TOTAL (cycles per
# scenario, default 20000), CLIENTS (uncontended and many, default 64), CONTENDERS
# (contended, default 64), LOCKS (many, default 10000), ETCD_PORT (default 23790;
# peers ETCD_PORT+10..), REDIS_PORT (default 26379), BASE_PORT (cairn, default
# 18000), HEALTH_TIMEOUT (seconds, default 60).
set -euo pipefail

cd "$(dirname "$0")/.."
CAIRN=${CAIRN:-bin/cairn}
TOTAL=${TOTAL:-20000}
CLIENTS=${CLIENTS:-64}
CONTENDERS=${CONTENDERS:-64}
LOCKS=${LOCKS:-10000}
ETCD_PORT=${ETCD_PORT:-23790}
REDIS_PORT=${REDIS_PORT:-26379}
BASE_PORT=${BASE_PORT:-18000}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-60}

log() { echo "== $*" >&2; }
die() { echo "lock-compare.sh: $*" >&2; exit 1; }

[[ -x $CAIRN ]] || die "$CAIRN not found; run 'make build' first"

pkgs=()
command -v etcd >/dev/null 2>&1 || pkgs+=(etcd-server)
command -v redis-server >/dev/null 2>&1 || pkgs+=(redis-server)
if ((${#pkgs[@]} > 0)); then
	log "installing ${pkgs[*]}"
	sudo=""
	[[ $(id -u) -eq 0 ]] || sudo="sudo"
	$sudo apt-get update
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y "${pkgs[@]}"
	# The packages may start system services on the default ports; ours use others.
fi
log "$(etcd --version | head -1); $(redis-server --version)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cairn-lock-compare.XXXXXX")
pids=()
cairn_up=0
stop_all() {
	local pid
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	pids=()
}
cleanup() {
	stop_all
	if [[ $cairn_up -eq 1 ]]; then
		"$CAIRN" cluster down --cluster-dir "$tmp/cairn" >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# name|args
workloads=(
	"uncontended|uncontended --clients $CLIENTS"
	"contended|contended --clients $CONTENDERS"
	"many|many --clients $CLIENTS --locks $LOCKS"
)
run_workloads() { # run_workloads <label> <flags...>: writes $tmp/<label>.<name>.json
	local label=$1 w name args
	shift
	for w in "${workloads[@]}"; do
		IFS='|' read -r name args <<<"$w"
		log "$label: bench lock $args --total $TOTAL"
		# shellcheck disable=SC2086 # args is a word list on purpose
		if ! "$CAIRN" bench lock $args --total "$TOTAL" --output json "$@" >"$tmp/$label.$name.json"; then
			log "$label: $name failed"
			rm -f "$tmp/$label.$name.json"
		fi
		[[ -f $tmp/$label.$name.json ]] && cat "$tmp/$label.$name.json" >&2
	done
}
wait_until() { # wait_until <what> <command...>
	local what=$1 deadline=$((SECONDS + HEALTH_TIMEOUT))
	shift
	until "$@" >/dev/null 2>&1; do
		((SECONDS < deadline)) || die "$what not ready after ${HEALTH_TIMEOUT}s"
		sleep 0.2
	done
}

# --- etcd -----------------------------------------------------------------------
initial_cluster=""
for i in 1 2 3; do
	initial_cluster+="${initial_cluster:+,}etcd-$i=http://127.0.0.1:$((ETCD_PORT + 10 + i - 1))"
done
etcd_endpoints=""
for i in 1 2 3; do
	client=$((ETCD_PORT + i - 1))
	peer=$((ETCD_PORT + 10 + i - 1))
	etcd_endpoints+="${etcd_endpoints:+,}127.0.0.1:$client"
	mkdir -p "$tmp/etcd-$i"
	etcd --name "etcd-$i" --data-dir "$tmp/etcd-$i/data" \
		--listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
		--listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
		--initial-cluster "$initial_cluster" --initial-cluster-state new \
		--initial-cluster-token "cairn-lock-bench-$$" >"$tmp/etcd-$i/etcd.log" 2>&1 &
	pids+=("$!")
done
for i in 1 2 3; do
	wait_until "etcd member $i" sh -c "curl -fsS --max-time 2 http://127.0.0.1:$((ETCD_PORT + i - 1))/health | grep -q '\"health\":\"true\"'"
done
log "etcd: healthy ($etcd_endpoints)"
run_workloads etcd --target etcd --endpoints "$etcd_endpoints"
stop_all

# --- redis ----------------------------------------------------------------------
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp" \
	>"$tmp/redis.log" 2>&1 &
pids+=("$!")
wait_until redis sh -c "redis-cli -h 127.0.0.1 -p $REDIS_PORT ping | grep -q PONG"
log "redis: ready on 127.0.0.1:$REDIS_PORT (persistence off)"
run_workloads redis --target redis --endpoints "127.0.0.1:$REDIS_PORT"
stop_all

# --- lockd ----------------------------------------------------------------------
log "lockd: starting a 3-node cluster (base port $BASE_PORT)"
cairn_up=1
# Plaintext, like the etcd and Redis above (bench/etcd-compare.sh measures TLS on both sides).
if "$CAIRN" cluster up --detach --no-fault-proxy --services lockd --base-port "$BASE_PORT" --cluster-dir "$tmp/cairn" --insecure; then
	run_workloads lockd --target lockd --cluster-dir "$tmp/cairn"
else
	log "lockd: cluster did not start"
fi
"$CAIRN" cluster down --cluster-dir "$tmp/cairn" >/dev/null 2>&1 || true
cairn_up=0

# --- report ---------------------------------------------------------------------
field() { [[ -f $1 ]] && sed -n "s/.*\"$2\":\([-0-9.eE+]*\).*/\1/p" "$1" || true; }
echo
printf '%-12s %10s %10s %10s %8s %8s %11s %11s %11s\n' scenario "lockd/s" "etcd/s" "redis/s" "l/etcd" "l/redis" "lockd p99" "etcd p99" "redis p99"
for w in "${workloads[@]}"; do
	name=${w%%|*}
	metric=cycle_p99_ms
	[[ $name == contended ]] && metric=handoff_p99_ms
	awk -v n="$name" \
		-v l="$(field "$tmp/lockd.$name.json" throughput)" -v e="$(field "$tmp/etcd.$name.json" throughput)" \
		-v r="$(field "$tmp/redis.$name.json" throughput)" -v lp="$(field "$tmp/lockd.$name.json" $metric)" \
		-v ep="$(field "$tmp/etcd.$name.json" $metric)" -v rp="$(field "$tmp/redis.$name.json" $metric)" '
	function tp(x) { return x == "" ? "-" : sprintf("%.0f", x) }
	function ratio(a, b) { return (a != "" && b != "" && b + 0 > 0) ? sprintf("%.2fx", a / b) : "-" }
	function lat(x) { return x == "" ? "-" : sprintf("%.2fms", x) }
	BEGIN {
		printf "%-12s %10s %10s %10s %8s %8s %11s %11s %11s\n", n, tp(l), tp(e), tp(r), ratio(l, e), ratio(l, r), lat(lp), lat(ep), lat(rp)
	}'
done
echo "(grants/s; l/etcd and l/redis are lockd's throughput over theirs; p99 is of acquire+release,"
echo " and of the hand-off for contended. Redis is a single node with persistence off and gives no"
echo " fencing token: it is not a safe lock, only a latency floor.)"
