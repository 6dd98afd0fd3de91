#!/usr/bin/env bash
# etcd-compare.sh — run the `cairn bench kv` workloads against a 3-member etcd
# cluster and a 3-node cairn raftkv cluster, both kept up for the whole run, in
# ROUNDS interleaved rounds (etcd, cairn, etcd, cairn, ... for each workload),
# and print each side's median and the range of the per-round ratios. A shared
# machine's speed drifts from minute to minute; interleaving lets both sides
# meet the same drift, so the ratio measures the code, not the host.
#
# etcd comes from Debian's etcd-server package, installed with apt-get when `etcd`
# is not on PATH. It runs like a real deployment: one data dir per member, default
# fsync on. Everything started here is stopped on exit.
#
# Environment: CAIRN (binary, default bin/cairn; build it with `make build`),
# ROUNDS (interleaved rounds per workload, default 5), TOTAL (requests per
# 256-client round, default 30000; 1-client rounds use TOTAL/10), KEYS (default
# 10000), WORKLOADS (space-separated names to run, default all), ETCD_PORT (first
# etcd client port, default 23790; peers use ETCD_PORT+10..), BASE_PORT (cairn
# base port, default 18000), HEALTH_TIMEOUT (seconds, default 60), TLS (default 1:
# both run mutual TLS, etcd with a CA and certificate made here by openssl, cairn
# with its harness's; 0: both plaintext, cairn with --insecure).
set -euo pipefail

cd "$(dirname "$0")/.."
SCRIPT=etcd-compare.sh
CAIRN=${CAIRN:-bin/cairn}
ROUNDS=${ROUNDS:-5}
TOTAL=${TOTAL:-30000}
KEYS=${KEYS:-10000}
WORKLOADS=${WORKLOADS:-}
ETCD_PORT=${ETCD_PORT:-23790}
BASE_PORT=${BASE_PORT:-18000}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-60}
# shellcheck source=bench/lib.sh
. bench/lib.sh

[[ -x $CAIRN ]] || die "$CAIRN not found; run 'make build' first"
need_pkgs etcd=etcd-server
log "$(etcd --version | head -1)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cairn-etcd-compare.XXXXXX")
cairn_up=0
cleanup() {
	stop_pids "${etcd_pids[@]}"
	if [[ $cairn_up -eq 1 ]]; then
		"$CAIRN" cluster down --cluster-dir "$tmp/cairn" >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
tls_setup "$tmp"

# --- workloads ------------------------------------------------------------------
one_total=$((TOTAL / 10))
[[ $one_total -ge 1 ]] || one_total=1
# name|clients|conns|total|args
workloads=()
for w in \
	"put@1|1|1|$one_total|put" \
	"get-lin@1|1|1|$one_total|get --consistency linearizable" \
	"get-ser@1|1|1|$one_total|get --consistency serializable" \
	"mixed@1|1|1|$one_total|mixed --consistency linearizable" \
	"put@256|256|16|$TOTAL|put" \
	"get-lin@256|256|16|$TOTAL|get --consistency linearizable" \
	"get-ser@256|256|16|$TOTAL|get --consistency serializable" \
	"mixed@256|256|16|$TOTAL|mixed --consistency linearizable"; do
	if [[ -z $WORKLOADS || " $WORKLOADS " == *" ${w%%|*} "* ]]; then
		workloads+=("$w")
	fi
done
((${#workloads[@]} > 0)) || die "WORKLOADS=$WORKLOADS names no workload"

# run_one <label> <round> <workload> <cairn bench kv flags...>: writes
# $tmp/<label>.r<round>.<name>.json (removed when the run fails).
run_one() {
	local label=$1 round=$2 name clients conns total args out
	IFS='|' read -r name clients conns total args <<<"$3"
	shift 3
	out=$tmp/$label.r$round.$name.json
	log "round $round/$ROUNDS $label: bench kv $args --clients $clients --conns $conns --total $total"
	# shellcheck disable=SC2086 # args is a word list on purpose
	if "$CAIRN" bench kv $args --clients "$clients" --conns "$conns" --total "$total" \
		--key-size 8 --val-size 256 --keys "$KEYS" --output json "$@" >"$out"; then
		cat "$out" >&2
	else
		log "$label: $name failed in round $round"
		rm -f "$out"
	fi
}

# --- servers (both up for the whole run) -----------------------------------------
start_etcd "$tmp" "$ETCD_PORT" "cairn-bench-$$"
log "cairn: starting a 3-node raftkv cluster (base port $BASE_PORT)"
cairn_up=1
"$CAIRN" cluster up --detach --no-fault-proxy --services raftkv --base-port "$BASE_PORT" \
	--cluster-dir "$tmp/cairn" "${cairn_tls[@]}" >&2 || die "the cairn cluster did not start"

# --- interleaved rounds ----------------------------------------------------------
for w in "${workloads[@]}"; do
	for ((round = 1; round <= ROUNDS; round++)); do
		run_one etcd "$round" "$w" --target etcd --endpoints "$etcd_endpoints" "${etcd_tls_flags[@]}"
		run_one cairn "$round" "$w" --target cairn --cluster-dir "$tmp/cairn"
	done
done

# --- report ---------------------------------------------------------------------
echo
f='%-12s %12s %12s %8s %11s %11s %11s\n'
printf "$f" scenario "cairn req/s" "etcd req/s" ratio "rounds c/e" "cairn p99" "etcd p99"
for w in "${workloads[@]}"; do
	name=${w%%|*}
	c=$(round_values "$tmp" cairn "$ROUNDS" "$name" throughput)
	e=$(round_values "$tmp" etcd "$ROUNDS" "$name" throughput)
	awk -v f="$f" -v n="$name" -v ct="$(echo "$c" | median)" -v et="$(echo "$e" | median)" -v rr="$(ratio_range "$c" "$e")" \
		-v cp="$(round_values "$tmp" cairn "$ROUNDS" "$name" p99_ms | median)" \
		-v ep="$(round_values "$tmp" etcd "$ROUNDS" "$name" p99_ms | median)" 'BEGIN {
		r = (ct != "" && et != "" && et + 0 > 0) ? sprintf("%.2fx", ct / et) : "-"
		printf f, n, ct == "" ? "-" : sprintf("%.0f", ct), et == "" ? "-" : sprintf("%.0f", et), r, rr,
			cp == "" ? "-" : sprintf("%.2fms", cp), ep == "" ? "-" : sprintf("%.2fms", ep)
	}'
done
echo "(medians of $ROUNDS interleaved rounds; ratio = cairn's median req/s over etcd's;"
echo " rounds c/e = the range of the per-round ratios; errors, if any, are in the JSON lines above)"
