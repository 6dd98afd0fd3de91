#!/usr/bin/env bash
# redis-compat.sh — send the commands of bench/rediscompat/corpus to
# redis-server and to every node of a 3-node cached cluster and compare the
# raw RESP replies (bench/rediscompat; see its doc.go for the corpus format).
# It prints each difference with both replies and a summary ("N agree, M
# differ (K known, U unexpected)"), and exits 0 when only the differences
# listed in bench/rediscompat/expected-differences.txt remain.
#
# redis-server comes from Debian's redis-server package (and redis-cli from
# redis-tools), installed with apt-get only when missing; it runs with
# persistence off. Everything started here is stopped on exit.
#
# Environment: CAIRN (binary, default bin/cairn; `make build`), REDIS_PORT
# (default 26500), BASE_PORT (cairn cluster, default 18300), HEALTH_TIMEOUT
# (seconds, default 60), VERBOSE=1 (print the known differences too).
set -euo pipefail

cd "$(dirname "$0")/.."
CAIRN=${CAIRN:-bin/cairn}
REDIS_PORT=${REDIS_PORT:-26500}
BASE_PORT=${BASE_PORT:-18300}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-60}
SCRIPT=redis-compat.sh

# shellcheck source=bench/lib.sh
. bench/lib.sh

[[ -x $CAIRN ]] || die "$CAIRN not found; run 'make build' first"
need_pkgs redis-server=redis-server redis-cli=redis-tools
log "$(redis-server --version)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cairn-redis-compat.XXXXXX")
redis_pid=""
cairn_up=0
cleanup() {
	if [[ -n $redis_pid ]]; then
		kill -TERM "$redis_pid" 2>/dev/null || true
		wait "$redis_pid" 2>/dev/null || true
	fi
	if [[ $cairn_up -eq 1 ]]; then
		"$CAIRN" cluster down --cluster-dir "$tmp/cairn" >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp" \
	>"$tmp/redis.log" 2>&1 &
redis_pid=$!
wait_until redis sh -c "redis-cli -p $REDIS_PORT ping | grep -q PONG"

log "cached: starting a 3-node cluster (base port $BASE_PORT)"
cairn_up=1
"$CAIRN" cluster up --detach --no-fault-proxy --services raftkv,cached --nodes 3 \
	--base-port "$BASE_PORT" --cluster-dir "$tmp/cairn" || die "the cached cluster did not start"
members3() { [[ $("$CAIRN" cache ring --output json --cluster-dir "$tmp/cairn" | grep -o '"resp_addr"' | wc -l) -eq 3 ]]; }
wait_until "a 3-member cached ring" members3
"$CAIRN" cache ring --output json --cluster-dir "$tmp/cairn" >"$tmp/ring.json"
resp_addrs=$(grep -o '"resp_addr":"[^"]*"' "$tmp/ring.json" | sed 's/.*:"\(.*\)"/\1/' | paste -sd, -)
log "cached: RESP on $resp_addrs"

go build -o "$tmp/rediscompat" ./bench/rediscompat
flags=()
[[ ${VERBOSE:-0} == 1 ]] && flags+=(-v)
"$tmp/rediscompat" "${flags[@]}" -redis "127.0.0.1:$REDIS_PORT" -cached "$resp_addrs" \
	-corpus bench/rediscompat/corpus -expected bench/rediscompat/expected-differences.txt
