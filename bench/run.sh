#!/usr/bin/env bash
# run.sh — what `make bench` runs: start a fresh 3-node raftkv cluster in a
# temporary directory, run the `cairn bench kv` scenarios against it at 1 client
# and at 256 clients on 16 connections, and tear the cluster down.
#
# Environment: CAIRN (binary, default bin/cairn), BASE_PORT (default 18000),
# TOTAL (requests per scenario, default 100000; the 1-client runs use TOTAL/10),
# KEYS (key space, default 10000), OUTPUT (table or json, default table).
set -euo pipefail

cd "$(dirname "$0")/.."
CAIRN=${CAIRN:-bin/cairn}
BASE_PORT=${BASE_PORT:-18000}
TOTAL=${TOTAL:-100000}
KEYS=${KEYS:-10000}
OUTPUT=${OUTPUT:-table}

if [[ ! -x $CAIRN ]]; then
	echo "run.sh: $CAIRN not found; run 'make bench' (it builds it first)" >&2
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench.XXXXXX")
teardown() {
	"$CAIRN" cluster down --cluster-dir "$tmp" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap teardown EXIT
trap 'exit 130' INT TERM

echo "== starting a 3-node raftkv cluster in $tmp (base port $BASE_PORT, no fault proxies)"
"$CAIRN" cluster up --detach --no-fault-proxy --services raftkv --base-port "$BASE_PORT" --cluster-dir "$tmp"

common=(--cluster-dir "$tmp" --key-size 8 --val-size 256 --keys "$KEYS" --output "$OUTPUT")
one_total=$((TOTAL / 10))
[[ $one_total -ge 1 ]] || one_total=1

bench() { # bench <clients> <conns> <total> <scenario> [flags...]
	local clients=$1 conns=$2 total=$3
	shift 3
	echo "== bench kv $* --clients $clients --conns $conns --total $total"
	"$CAIRN" bench kv "$@" --clients "$clients" --conns "$conns" --total "$total" "${common[@]}"
}

for load in "1 1 $one_total" "256 16 $TOTAL"; do
	read -r clients conns total <<<"$load"
	bench "$clients" "$conns" "$total" put
	bench "$clients" "$conns" "$total" get --consistency linearizable
	bench "$clients" "$conns" "$total" get --consistency serializable
	bench "$clients" "$conns" "$total" mixed --consistency linearizable
done
