#!/usr/bin/env bash
# lock-compare.sh — run the `cairn bench lock` scenarios against a 3-member etcd
# cluster (its lock recipe), a single redis-server (SET NX PX + compare-and-delete;
# single node, no fencing tokens: the unsafe baseline) and a 3-node lockd
# cluster, all kept up for the whole run, in ROUNDS interleaved rounds (etcd,
# redis, lockd, etcd, redis, lockd, ... for each scenario), and print each one's
# median and the range of lockd's per-round ratio to etcd.
#
# etcd and redis come from Debian's etcd-server and redis-server packages,
# installed with apt-get when missing. etcd runs like a real deployment (fsync on);
# redis runs with persistence off. Everything started here is stopped on exit.
#
# Environment: CAIRN (binary, default bin/cairn; `make build`), ROUNDS (default
# 3), TOTAL (cycles per scenario and round, default 10000), CLIENTS (uncontended
# and many, default 64), CONTENDERS (contended, default 64), LOCKS (many,
# default 10000), ETCD_PORT (default 23790; peers ETCD_PORT+10..), REDIS_PORT
# (default 26379), BASE_PORT (cairn, default 18000), HEALTH_TIMEOUT (seconds,
# default 60), TLS (default 1: etcd and lockd run mutual TLS, etcd with a CA and
# certificate made here by openssl, lockd with its harness's; 0: both plaintext;
# redis is plaintext either way).
set -euo pipefail

cd "$(dirname "$0")/.."
SCRIPT=lock-compare.sh
CAIRN=${CAIRN:-bin/cairn}
ROUNDS=${ROUNDS:-3}
TOTAL=${TOTAL:-10000}
CLIENTS=${CLIENTS:-64}
CONTENDERS=${CONTENDERS:-64}
LOCKS=${LOCKS:-10000}
ETCD_PORT=${ETCD_PORT:-23790}
REDIS_PORT=${REDIS_PORT:-26379}
BASE_PORT=${BASE_PORT:-18000}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-60}
# shellcheck source=bench/lib.sh
. bench/lib.sh

[[ -x $CAIRN ]] || die "$CAIRN not found; run 'make build' first"
need_pkgs etcd=etcd-server redis-server=redis-server redis-cli=redis-tools
log "$(etcd --version | head -1); $(redis-server --version)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cairn-lock-compare.XXXXXX")
redis_pid=""
cairn_up=0
cleanup() {
	stop_pids "${etcd_pids[@]}" $redis_pid
	if [[ $cairn_up -eq 1 ]]; then
		"$CAIRN" cluster down --cluster-dir "$tmp/cairn" >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
tls_setup "$tmp"

# name|args
workloads=(
	"uncontended|uncontended --clients $CLIENTS"
	"contended|contended --clients $CONTENDERS"
	"many|many --clients $CLIENTS --locks $LOCKS"
)
# run_one <label> <round> <workload> <flags...>: writes $tmp/<label>.r<round>.<name>.json.
run_one() {
	local label=$1 round=$2 name args out
	IFS='|' read -r name args <<<"$3"
	shift 3
	out=$tmp/$label.r$round.$name.json
	log "round $round/$ROUNDS $label: bench lock $args --total $TOTAL"
	# shellcheck disable=SC2086 # args is a word list on purpose
	if "$CAIRN" bench lock $args --total "$TOTAL" --output json "$@" >"$out"; then
		cat "$out" >&2
	else
		log "$label: $name failed in round $round"
		rm -f "$out"
	fi
}

# --- servers (all up for the whole run) -------------------------------------------
start_etcd "$tmp" "$ETCD_PORT" "cairn-lock-bench-$$"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp" \
	>"$tmp/redis.log" 2>&1 &
redis_pid=$!
wait_until redis sh -c "redis-cli -h 127.0.0.1 -p $REDIS_PORT ping | grep -q PONG"
log "redis: ready on 127.0.0.1:$REDIS_PORT (persistence off)"
log "lockd: starting a 3-node cluster (base port $BASE_PORT)"
cairn_up=1
"$CAIRN" cluster up --detach --no-fault-proxy --services lockd --base-port "$BASE_PORT" \
	--cluster-dir "$tmp/cairn" "${cairn_tls[@]}" >&2 || die "the lockd cluster did not start"

# --- interleaved rounds ----------------------------------------------------------
for w in "${workloads[@]}"; do
	for ((round = 1; round <= ROUNDS; round++)); do
		run_one etcd "$round" "$w" --target etcd --endpoints "$etcd_endpoints" "${etcd_tls_flags[@]}"
		run_one redis "$round" "$w" --target redis --endpoints "127.0.0.1:$REDIS_PORT"
		run_one lockd "$round" "$w" --target lockd --cluster-dir "$tmp/cairn"
	done
done

# --- report ---------------------------------------------------------------------
echo
f='%-12s %10s %10s %10s %8s %11s %8s %11s %11s %11s\n'
printf "$f" scenario "lockd/s" "etcd/s" "redis/s" "l/etcd" "rounds l/e" "l/redis" "lockd p99" "etcd p99" "redis p99"
for w in "${workloads[@]}"; do
	name=${w%%|*}
	metric=cycle_p99_ms
	[[ $name == contended ]] && metric=handoff_p99_ms
	l=$(round_values "$tmp" lockd "$ROUNDS" "$name" throughput)
	e=$(round_values "$tmp" etcd "$ROUNDS" "$name" throughput)
	awk -v f="$f" -v n="$name" -v rr="$(ratio_range "$l" "$e")" \
		-v l="$(echo "$l" | median)" -v e="$(echo "$e" | median)" \
		-v r="$(round_values "$tmp" redis "$ROUNDS" "$name" throughput | median)" \
		-v lp="$(round_values "$tmp" lockd "$ROUNDS" "$name" $metric | median)" \
		-v ep="$(round_values "$tmp" etcd "$ROUNDS" "$name" $metric | median)" \
		-v rp="$(round_values "$tmp" redis "$ROUNDS" "$name" $metric | median)" '
	function tp(x) { return x == "" ? "-" : sprintf("%.0f", x) }
	function ratio(a, b) { return (a != "" && b != "" && b + 0 > 0) ? sprintf("%.2fx", a / b) : "-" }
	function lat(x) { return x == "" ? "-" : sprintf("%.2fms", x) }
	BEGIN {
		printf f, n, tp(l), tp(e), tp(r), ratio(l, e), rr, ratio(l, r), lat(lp), lat(ep), lat(rp)
	}'
done
echo "(medians of $ROUNDS interleaved rounds; grants/s; l/etcd and l/redis are lockd's median over"
echo " theirs, rounds l/e the range of the per-round ratios; p99 is of acquire+release, and of the"
echo " hand-off for contended. Redis is a single node with persistence off and gives no fencing"
echo " token: it is not a safe lock, only a latency floor.)"
