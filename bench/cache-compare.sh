#!/usr/bin/env bash
# cache-compare.sh — compare cached with redis-server on this machine:
#
#  1. redis-benchmark -t set (then -t get) -d 100 -r 100000 -c 50 -n 200000 -q,
#     without pipelining (-P 1) and with (-P 16), against redis-server and the
#     RESP port of a 1-node cached cluster (cairn cluster up) in ROUNDS
#     alternating rounds (redis, cached, redis, ...; the table shows each one's
#     median and the range of the per-round ratios, since a shared host's speed
#     drifts from second to second), with each server's CPU time per request
#     (all its threads, from /proc/<pid>/task/*/schedstat), which the host's
#     drift moves far less than req/s; and once against the RESP port of one
#     node of a 3-node cached cluster (about 2/3 of the keys are forwarded to
#     their owner);
#  2. the hit ratio of a Zipf cache-aside workload (cairn bench cache aside
#     --target resp: GET, and SET on a miss) at the same memory limit, against
#     redis-server (maxmemory, allkeys-lru) and a cached node (--max-memory,
#     lru); the same workload through cached's smart gRPC client too;
#  3. cached's ring: Owner lookup ns/op (go test -bench in cached/ring) and the
#     fraction of keys that move when a 4th node joins 3 (TestMovement);
#  4. three nodes against three: redis-benchmark --cluster -t set (then -t
#     get), same options, at -P 1 and -P 16, against a 3-master Redis Cluster
#     of redis-server and the 3-node cached cluster (cached answers CLUSTER
#     NODES/SLOTS, so redis-benchmark sends each key to its owner), in ROUNDS
#     alternating rounds, with the three servers' CPU time per request and
#     the requests cached forwarded (0 when the client routes by slot).
#
# redis-server and redis-benchmark come from Debian's redis-server and
# redis-tools packages, installed with apt-get only when missing. Redis runs
# with persistence off. Everything started here is stopped on exit.
#
# Memory limits are not measured the same way: redis's maxmemory counts its
# own allocator's view of everything it holds, cached's --max-memory charges
# len(key)+len(value)+144 bytes per item (store.ItemOverhead). Equal numbers
# are therefore only roughly equal memory.
#
# Requires `cairn cluster up --services raftkv,cached` and the `cairn cached`
# daemon command (flags --id --grpc-addr --admin-addr --resp-addr --max-memory
# --eviction-policy).
#
# Environment: CLUSTER_ONLY (1: only the 3-node rows and the ring, default 0),
# REDIS_CLUSTER_PORT (the Redis Cluster's three ports from it, default
# REDIS_PORT+10), CACHED3_SERVICES (the services of the 3-node cairn cluster,
# default raftkv,cached: raftkv is its registry; "cached" alone runs static
# membership and takes only the ports of cached's block, BASE_PORT+1200..1299),
# CAIRN (binary, default bin/cairn; `make build`), REQUESTS
# (redis-benchmark -n, default 200000), ROUNDS (default 9: fewer let one fast or
# slow stretch of the host decide the median), REDIS_PORT (default 26379; the
# memory-limited one uses REDIS_PORT+1), BASE_PORT (cairn cluster, default
# 18000; the 3-node cluster uses BASE_PORT+1000), CACHED_PORT (standalone memory-limited cached: gRPC, +1 admin, +2
# RESP; default 28200), MAXMEM (bytes, default 16777216), ZIPF (default 1.1),
# ZIPF_KEYS (default 1000000), ZIPF_TOTAL (default 500000), HEALTH_TIMEOUT
# (seconds, default 60).
set -euo pipefail

cd "$(dirname "$0")/.."
CAIRN=${CAIRN:-bin/cairn}
REQUESTS=${REQUESTS:-200000}
ROUNDS=${ROUNDS:-9}
REDIS_PORT=${REDIS_PORT:-26379}
BASE_PORT=${BASE_PORT:-18000}
CACHED_PORT=${CACHED_PORT:-28200}
MAXMEM=${MAXMEM:-16777216}
ZIPF=${ZIPF:-1.1}
ZIPF_KEYS=${ZIPF_KEYS:-1000000}
ZIPF_TOTAL=${ZIPF_TOTAL:-500000}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-60}
CLUSTER_ONLY=${CLUSTER_ONLY:-0}
REDIS_CLUSTER_PORT=${REDIS_CLUSTER_PORT:-$((REDIS_PORT + 10))}
CACHED3_SERVICES=${CACHED3_SERVICES:-raftkv,cached}
SCRIPT=cache-compare.sh

# shellcheck source=bench/lib.sh
. bench/lib.sh

[[ -x $CAIRN ]] || die "$CAIRN not found; run 'make build' first"
need_pkgs redis-server=redis-server redis-benchmark=redis-tools
log "$(redis-server --version)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cairn-cache-compare.XXXXXX")
pids=()
rc_pids=()
cached3_pids=()
cairn_up=0
cairn3_up=0
cleanup() {
	local pid
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	if [[ $cairn_up -eq 1 ]]; then
		"$CAIRN" cluster down --cluster-dir "$tmp/cairn" >/dev/null 2>&1 || true
	fi
	if [[ $cairn3_up -eq 1 ]]; then
		"$CAIRN" cluster down --cluster-dir "$tmp/cairn3" >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM


# --- servers --------------------------------------------------------------------
# cpu_ns <pid>...: the CPU time of every thread of the pids so far, in ns.
cpu_ns() { cat $(printf '/proc/%s/task/*/schedstat ' "$@") 2>/dev/null | awk '{ s += $1 } END { printf "%.0f", s }'; }

if [[ $CLUSTER_ONLY != 1 ]]; then
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp" \
	>"$tmp/redis.log" 2>&1 &
pids+=("$!")
redis-server --port "$((REDIS_PORT + 1))" --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp" \
	--maxmemory "$MAXMEM" --maxmemory-policy allkeys-lru >"$tmp/redis-lru.log" 2>&1 &
pids+=("$!")
wait_until redis sh -c "redis-cli -p $REDIS_PORT ping | grep -q PONG"
wait_until "redis (maxmemory)" sh -c "redis-cli -p $((REDIS_PORT + 1)) ping | grep -q PONG"
log "redis: 127.0.0.1:$REDIS_PORT, and 127.0.0.1:$((REDIS_PORT + 1)) with maxmemory $MAXMEM allkeys-lru"

log "cached: starting a 1-node cluster (base port $BASE_PORT)"
cairn_up=1
"$CAIRN" cluster up --detach --no-fault-proxy --services raftkv,cached --nodes 1 \
	--base-port "$BASE_PORT" --cluster-dir "$tmp/cairn" || die "the cached cluster did not start"
"$CAIRN" cache ring --output json --cluster-dir "$tmp/cairn" >"$tmp/ring.json"
resp_addr=$(sed -n 's/.*"resp_addr":"\([^"]*\)".*/\1/p' "$tmp/ring.json" | head -1)
[[ -n $resp_addr ]] || die "the cached ring reports no RESP address: $(cat "$tmp/ring.json")"
resp_host=${resp_addr%:*}
resp_port=${resp_addr##*:}
log "cached: RESP on $resp_addr"

redis_pid=${pids[0]}
cached_pid=$("$CAIRN" cluster status --output json --cluster-dir "$tmp/cairn" |
	awk '/"name": "cached-1"/ { c = 1 } c && /"pid":/ { gsub(/[^0-9]/, ""); print; exit }')

fi

# --- 1. redis-benchmark -----------------------------------------------------------
# bench <label> <host> <port> <pipeline> [server pid...]: writes "<SET req/s> <GET req/s>" to
# $tmp/rb.<label>.<P> and, with pids, "<SET ns> <GET ns>" of the servers' CPU per
# request to $tmp/cpu.<label>.<P>. SET runs first, so GET reads the keys it wrote.
# RB_FLAGS adds redis-benchmark flags (--cluster).
bench() {
	local label=$1 host=$2 port=$3 p=$4 t out rps=() cpu=() before
	shift 4
	for t in set get; do
		log "redis-benchmark ${RB_FLAGS:-}-t $t -P $p against $label ($host:$port)"
		(($# == 0)) || before=$(cpu_ns "$@")
		# shellcheck disable=SC2086
		out=$(redis-benchmark ${RB_FLAGS:-} -h "$host" -p "$port" -t "$t" -d 100 -r 100000 -c 50 -n "$REQUESTS" -P "$p" -q 2>&1 | tr '\r' '\n')
		(($# == 0)) || cpu+=("$(awk -v a="$before" -v b="$(cpu_ns "$@")" -v n="$REQUESTS" 'BEGIN { printf "%.0f", (b - a) / n }')")
		echo "$out" >&2
		rps+=("$(echo "$out" | sed -n 's/^[A-Z]*: \([0-9.]*\) requests per second.*/\1/p' | tail -1)")
	done
	printf '%s %s\n' "${rps[@]}" >"$tmp/rb.$label.$p"
	(($# == 0)) || printf '%s %s\n' "${cpu[@]}" >"$tmp/cpu.$label.$p"
}
if [[ $CLUSTER_ONLY != 1 ]]; then
for p in 1 16; do
	for ((round = 1; round <= ROUNDS; round++)); do
		bench "redis.r$round" 127.0.0.1 "$REDIS_PORT" "$p" "$redis_pid"
		bench "cached.r$round" "$resp_host" "$resp_port" "$p" "$cached_pid"
	done
done
log "cached: stopping the 1-node cluster"
"$CAIRN" cluster down --cluster-dir "$tmp/cairn" >/dev/null 2>&1 || true
cairn_up=0
fi

log "cached: starting a 3-node cluster (base port $((BASE_PORT + 1000)), services $CACHED3_SERVICES)"
cairn3_up=1
"$CAIRN" cluster up --detach --no-fault-proxy --services "$CACHED3_SERVICES" --nodes 3 \
	--base-port "$((BASE_PORT + 1000))" --cluster-dir "$tmp/cairn3" || die "the 3-node cached cluster did not start"
# Wait until every node's ring has the three members (registry joins).
members3() { [[ $("$CAIRN" cache ring --output json --cluster-dir "$tmp/cairn3" | grep -o '"resp_addr"' | wc -l) -eq 3 ]]; }
wait_until "3-member ring" members3
"$CAIRN" cache ring --output json --cluster-dir "$tmp/cairn3" >"$tmp/ring3.json"
resp3=$(sed -n 's/.*"resp_addr":"\([^"]*\)".*/\1/p' "$tmp/ring3.json" | head -1)
[[ -n $resp3 ]] || die "the 3-node ring reports no RESP address: $(cat "$tmp/ring3.json")"
if [[ $CLUSTER_ONLY != 1 ]]; then
	log "cached (3 nodes): benchmarking through ${resp3}"
	for p in 1 16; do
		bench cached3 "${resp3%:*}" "${resp3##*:}" "$p"
	done
fi

# --- 4. three nodes against three: redis-benchmark --cluster --------------------------
for i in 0 1 2; do
	redis-server --port "$((REDIS_CLUSTER_PORT + i))" --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp" \
		--cluster-enabled yes --cluster-config-file "$tmp/nodes-$((REDIS_CLUSTER_PORT + i)).conf" \
		>"$tmp/redis-cluster-$i.log" 2>&1 &
	pids+=("$!")
	rc_pids+=("$!")
done
for i in 0 1 2; do
	wait_until "redis cluster node $i" sh -c "redis-cli -p $((REDIS_CLUSTER_PORT + i)) ping | grep -q PONG"
done
redis-cli --cluster create "127.0.0.1:$REDIS_CLUSTER_PORT" "127.0.0.1:$((REDIS_CLUSTER_PORT + 1))" \
	"127.0.0.1:$((REDIS_CLUSTER_PORT + 2))" --cluster-yes >"$tmp/redis-cluster-create.log" 2>&1 ||
	die "redis-cli --cluster create failed: $(cat "$tmp/redis-cluster-create.log")"
for i in 0 1 2; do
	wait_until "redis cluster state ok on node $i" sh -c "redis-cli -p $((REDIS_CLUSTER_PORT + i)) cluster info | grep -q cluster_state:ok"
done
# Both clusters must show every slot to a cluster client.
covered() { redis-cli --cluster check "$1" 2>&1 | grep -q 'All 16384 slots covered'; }
wait_until "redis cluster slots" covered "127.0.0.1:$REDIS_CLUSTER_PORT"
covered "$resp3" || die "redis-cli --cluster check $resp3: $(redis-cli --cluster check "$resp3" 2>&1 | tail -3)"
log "redis cluster: 127.0.0.1:$REDIS_CLUSTER_PORT..$((REDIS_CLUSTER_PORT + 2)); cached cluster: $resp3 (all slots covered)"
read -r -a cached3_pids <<<"$("$CAIRN" cluster status --output json --cluster-dir "$tmp/cairn3" |
	awk '/"name": "cached-/ { c = 1 } c && /"pid":/ { gsub(/[^0-9]/, ""); printf "%s ", $0; c = 0 }')"
cached3_admin=$("$CAIRN" cluster status --output json --cluster-dir "$tmp/cairn3" |
	awk '/"name": "cached-/ { c = 1 } c && /"admin_addr":/ { gsub(/[",]/, "", $2); print $2; c = 0 }')
# forwarded: the requests the cached nodes forwarded to an owner so far.
forwarded() {
	local a n=0 v
	for a in $cached3_admin; do
		v=$(curl -fsS --max-time 5 "http://$a/metrics" | sed -n 's/^cairn_cached_forwarded_total \([0-9.e+]*\)$/\1/p')
		n=$(awk -v n="$n" -v v="${v:-0}" 'BEGIN { printf "%.0f", n + v }')
	done
	echo "$n"
}
fwd_before=$(forwarded)
for p in 1 16; do
	for ((round = 1; round <= ROUNDS; round++)); do
		RB_FLAGS="--cluster " bench "rcluster.r$round" 127.0.0.1 "$REDIS_CLUSTER_PORT" "$p" "${rc_pids[@]}"
		RB_FLAGS="--cluster " bench "ccluster.r$round" "${resp3%:*}" "${resp3##*:}" "$p" "${cached3_pids[@]}"
	done
done
fwd_cluster=$(($(forwarded) - fwd_before))
"$CAIRN" cluster down --cluster-dir "$tmp/cairn3" >/dev/null 2>&1 || true
cairn3_up=0

# --- 2. Zipf hit ratio at a memory limit -------------------------------------------
if [[ $CLUSTER_ONLY != 1 ]]; then
log "cached: starting a standalone node with --max-memory $MAXMEM"
"$CAIRN" cached --id cached-lru --grpc-addr "127.0.0.1:$CACHED_PORT" --admin-addr "127.0.0.1:$((CACHED_PORT + 1))" \
	--resp-addr "127.0.0.1:$((CACHED_PORT + 2))" --max-memory "$MAXMEM" --eviction-policy lru --insecure >"$tmp/cached-lru.log" 2>&1 &
pids+=("$!")
wait_until "cached (max-memory)" "$CAIRN" cache ring --endpoints "127.0.0.1:$CACHED_PORT" --insecure --timeout 2s
zipf_args=(aside --zipf "$ZIPF" --keys "$ZIPF_KEYS" --total "$ZIPF_TOTAL" --val-size 100 --clients 50 --output json)
log "zipf: redis (allkeys-lru)"
"$CAIRN" bench cache "${zipf_args[@]}" --target resp --endpoints "127.0.0.1:$((REDIS_PORT + 1))" >"$tmp/zipf.redis.json"
log "zipf: cached over RESP"
"$CAIRN" bench cache "${zipf_args[@]}" --target resp --endpoints "127.0.0.1:$((CACHED_PORT + 2))" >"$tmp/zipf.cached-resp.json"
"$CAIRN" cache stats --endpoints "127.0.0.1:$CACHED_PORT" --insecure >&2 || true
log "zipf: cached over gRPC (smart client), after FLUSHALL over RESP (if supported; else on a warm cache)"
redis-cli -p "$((CACHED_PORT + 2))" flushall >&2 || true
"$CAIRN" bench cache "${zipf_args[@]}" --target cached --endpoints "127.0.0.1:$CACHED_PORT" --insecure >"$tmp/zipf.cached-grpc.json"
redis_mem=$(redis-cli -p "$((REDIS_PORT + 1))" info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p' | tr -d '\r')
fi

# --- 3. the ring -------------------------------------------------------------------
ring_ns="-"
moved="-"
if command -v go >/dev/null 2>&1; then
	ring_ns=$(go test -run '^$' -bench 'BenchmarkOwner/members=3$' ./cached/ring | sed -n 's/^BenchmarkOwner\/members=3[^ ]*[[:space:]]*[0-9]*[[:space:]]*\([0-9.]*\) ns\/op.*/\1/p' | head -1)
	moved=$(go test -run '^TestMovement$' -v ./cached/ring | sed -n 's/.*join 3→4: moved \([0-9.]*\).*/\1/p' | head -1)
else
	log "go not found: skipping the ring measurements"
fi

# --- report ------------------------------------------------------------------------
echo
# column <label> <P> <1|2> [kind]: the SET (1) or GET (2) req/s (kind rb) or server CPU ns
# per request (kind cpu) of every round of label.
column() { for ((round = 1; round <= ROUNDS; round++)); do cut -d' ' -f"$3" "$tmp/${4:-rb}.$1.r$round.$2" 2>/dev/null || true; done; }
# ratios <P> <1|2> [cached label] [redis label]: "min-max" of the per-round cached/redis ratios.
ratios() { ratio_range "$(column "${3:-cached}" "$1" "$2")" "$(column "${4:-redis}" "$1" "$2")"; }
if [[ $CLUSTER_ONLY != 1 ]]; then
printf '%-14s %12s %12s %8s %11s %14s %8s %10s %10s %7s\n' "redis-benchmark" "cached req/s" "redis req/s" "c/r" "rounds c/r" "3-node req/s" "c3/r" "cached ns" "redis ns" "r/c cpu"
for p in 1 16; do
	for f in 1 2; do
		op=SET
		[[ $f -eq 1 ]] || op=GET
		c=$(column cached "$p" "$f" | median)
		r=$(column redis "$p" "$f" | median)
		cc=$(column cached "$p" "$f" cpu | median)
		rc=$(column redis "$p" "$f" cpu | median)
		t=$(cut -d' ' -f"$f" "$tmp/rb.cached3.$p" 2>/dev/null || true)
		awk -v name="$op -P $p" -v c="$c" -v r="$r" -v t="$t" -v rr="$(ratios "$p" "$f")" -v cc="$cc" -v rc="$rc" '
		function ratio(a, b) { return (a != "" && b != "" && b + 0 > 0) ? sprintf("%.2fx", a / b) : "-" }
		function v(x) { return x == "" ? "-" : sprintf("%.0f", x) }
		BEGIN { printf "%-14s %12s %12s %8s %11s %14s %8s %10s %10s %7s\n", name, v(c), v(r), ratio(c, r), rr, v(t), ratio(t, r), v(cc), v(rc), ratio(rc, cc) }'
	done
done
echo "(medians of $ROUNDS alternating rounds; 3-node: one round, ratio to redis's median;"
echo " cached ns, redis ns: the server's CPU time per request, all threads; r/c cpu: redis's over cached's)"
echo
fi
printf '%-26s %12s %12s %8s %11s %10s %10s %7s\n' "redis-benchmark --cluster" "cached req/s" "redis req/s" "c/r" "rounds c/r" "cached ns" "redis ns" "r/c cpu"
for p in 1 16; do
	for f in 1 2; do
		op=SET
		[[ $f -eq 1 ]] || op=GET
		c=$(column ccluster "$p" "$f" | median)
		r=$(column rcluster "$p" "$f" | median)
		cc=$(column ccluster "$p" "$f" cpu | median)
		rc=$(column rcluster "$p" "$f" cpu | median)
		awk -v name="$op -P $p (3 nodes)" -v c="$c" -v r="$r" -v rr="$(ratios "$p" "$f" ccluster rcluster)" -v cc="$cc" -v rc="$rc" '
		function ratio(a, b) { return (a != "" && b != "" && b + 0 > 0) ? sprintf("%.2fx", a / b) : "-" }
		function v(x) { return x == "" ? "-" : sprintf("%.0f", x) }
		BEGIN { printf "%-26s %12s %12s %8s %11s %10s %10s %7s\n", name, v(c), v(r), ratio(c, r), rr, v(cc), v(rc), ratio(rc, cc) }'
	done
done
echo "(3-master Redis Cluster against the 3-node cached cluster, medians of $ROUNDS alternating rounds;"
echo " ns: the three servers' CPU time per request; requests cached forwarded meanwhile: $fwd_cluster)"
echo
if [[ $CLUSTER_ONLY != 1 ]]; then
printf '%-26s %10s %10s\n' "zipf $ZIPF, $ZIPF_KEYS keys" "hit ratio" "req/s"
for l in redis cached-resp cached-grpc; do
	printf '%-26s %10s %10s\n' "$l" "$(field "$tmp/zipf.$l.json" hit_ratio)" "$(field "$tmp/zipf.$l.json" throughput)"
done
echo "(memory limit $MAXMEM bytes; redis used_memory at the end: ${redis_mem:-?} bytes)"
echo
fi
echo "ring Owner lookup (3 members, 160 vnodes): ${ring_ns:-?} ns/op; keys moved when a 4th node joins 3: ${moved:-?} (ideal 0.25)"
