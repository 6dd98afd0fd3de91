#!/usr/bin/env bash
# etcd-compare.sh — run the `cairn bench kv` workloads against a 3-member etcd
# cluster and against a fresh 3-node cairn raftkv cluster, one after the other on
# this machine, and print the ratio.
#
# etcd comes from Debian's etcd-server package, installed with apt-get when `etcd`
# is not on PATH. It runs like a real deployment: one data dir per member, default
# fsync on. Everything started here is stopped on exit.
#
# Environment: CAIRN (binary, default bin/cairn; build it with `make build`),
# TOTAL (requests per 256-client scenario, default 100000; 1-client runs use
# TOTAL/10), KEYS (default 10000), ETCD_PORT (first etcd client port, default
# 23790; peers use ETCD_PORT+10..), BASE_PORT (cairn base port, default 18000),
# HEALTH_TIMEOUT (seconds, default 60), SKIP_CAIRN=1 to bench etcd only,
# TLS (default 1: both run mutual TLS, etcd with a CA and certificate made here
# by openssl, cairn with its harness's; 0: both plaintext, cairn with --insecure).
set -euo pipefail

cd "$(dirname "$0")/.."
CAIRN=${CAIRN:-bin/cairn}
TOTAL=${TOTAL:-100000}
KEYS=${KEYS:-10000}
ETCD_PORT=${ETCD_PORT:-23790}
BASE_PORT=${BASE_PORT:-18000}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-60}
SKIP_CAIRN=${SKIP_CAIRN:-0}
TLS=${TLS:-1}

log() { echo "== $*" >&2; }
die() { echo "etcd-compare.sh: $*" >&2; exit 1; }

[[ -x $CAIRN ]] || die "$CAIRN not found; run 'make build' first"

if ! command -v etcd >/dev/null 2>&1; then
	log "etcd not on PATH: installing Debian's etcd-server"
	sudo=""
	[[ $(id -u) -eq 0 ]] || sudo="sudo"
	$sudo apt-get update
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y etcd-server
	# The package may start a system etcd on the default ports; ours use others.
fi
log "$(etcd --version | head -1)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cairn-etcd-compare.XXXXXX")
etcd_pids=()
cairn_up=0

stop_etcd() {
	local pid
	for pid in "${etcd_pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${etcd_pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	etcd_pids=()
}
cleanup() {
	stop_etcd
	if [[ $cairn_up -eq 1 ]]; then
		"$CAIRN" cluster down --cluster-dir "$tmp/cairn" >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- workloads ------------------------------------------------------------------
one_total=$((TOTAL / 10))
[[ $one_total -ge 1 ]] || one_total=1
# name|clients|conns|total|args
workloads=(
	"put@1|1|1|$one_total|put"
	"get-lin@1|1|1|$one_total|get --consistency linearizable"
	"get-ser@1|1|1|$one_total|get --consistency serializable"
	"mixed@1|1|1|$one_total|mixed --consistency linearizable"
	"put@256|256|16|$TOTAL|put"
	"get-lin@256|256|16|$TOTAL|get --consistency linearizable"
	"get-ser@256|256|16|$TOTAL|get --consistency serializable"
	"mixed@256|256|16|$TOTAL|mixed --consistency linearizable"
)

# run_workloads <label> <cairn bench kv flags...>: writes $tmp/<label>.<name>.json
run_workloads() {
	local label=$1 w name clients conns total args
	shift
	for w in "${workloads[@]}"; do
		IFS='|' read -r name clients conns total args <<<"$w"
		log "$label: bench kv $args --clients $clients --conns $conns --total $total"
		# shellcheck disable=SC2086 # args is a word list on purpose
		if ! "$CAIRN" bench kv $args --clients "$clients" --conns "$conns" --total "$total" \
			--key-size 8 --val-size 256 --keys "$KEYS" --output json "$@" >"$tmp/$label.$name.json"; then
			log "$label: $name failed"
			rm -f "$tmp/$label.$name.json"
		fi
		if [[ -f $tmp/$label.$name.json ]]; then
			cat "$tmp/$label.$name.json" >&2
		fi
	done
}

# --- TLS ------------------------------------------------------------------------
# Both sides pay for TLS, or neither, so the ratio stays fair.
scheme=http
etcd_tls=()  # etcd flags
bench_tls=() # cairn bench kv flags for etcd
curl_tls=()
cairn_tls=(--insecure)
if [[ $TLS == 1 ]]; then
	command -v openssl >/dev/null 2>&1 || die "TLS=1 needs openssl (or run with TLS=0)"
	pki="$tmp/pki"
	mkdir -p "$pki"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=etcd-bench-ca \
		-keyout "$pki/ca-key.pem" -out "$pki/ca.pem" 2>/dev/null
	# One certificate for every member and the bench client: server and client auth on 127.0.0.1.
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=etcd \
		-keyout "$pki/etcd-key.pem" -out "$pki/etcd.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' >"$pki/ext.cnf"
	openssl x509 -req -in "$pki/etcd.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca-key.pem" -CAcreateserial \
		-days 2 -extfile "$pki/ext.cnf" -out "$pki/etcd.pem" 2>/dev/null
	scheme=https
	etcd_tls=(--cert-file "$pki/etcd.pem" --key-file "$pki/etcd-key.pem" --trusted-ca-file "$pki/ca.pem" --client-cert-auth
		--peer-cert-file "$pki/etcd.pem" --peer-key-file "$pki/etcd-key.pem" --peer-trusted-ca-file "$pki/ca.pem" --peer-client-cert-auth)
	bench_tls=(--tls-ca "$pki/ca.pem" --tls-cert "$pki/etcd.pem" --tls-key "$pki/etcd-key.pem")
	curl_tls=(--cacert "$pki/ca.pem" --cert "$pki/etcd.pem" --key "$pki/etcd-key.pem")
	cairn_tls=()
fi
log "TLS=$TLS: etcd over $scheme, cairn ${cairn_tls[*]:-with mutual TLS}"

# --- etcd -----------------------------------------------------------------------
initial_cluster=""
for i in 1 2 3; do
	initial_cluster+="${initial_cluster:+,}etcd-$i=$scheme://127.0.0.1:$((ETCD_PORT + 10 + i - 1))"
done
etcd_endpoints=""
for i in 1 2 3; do
	client=$((ETCD_PORT + i - 1))
	peer=$((ETCD_PORT + 10 + i - 1))
	etcd_endpoints+="${etcd_endpoints:+,}127.0.0.1:$client"
	mkdir -p "$tmp/etcd-$i"
	etcd --name "etcd-$i" --data-dir "$tmp/etcd-$i/data" \
		--listen-client-urls "$scheme://127.0.0.1:$client" --advertise-client-urls "$scheme://127.0.0.1:$client" \
		--listen-peer-urls "$scheme://127.0.0.1:$peer" --initial-advertise-peer-urls "$scheme://127.0.0.1:$peer" \
		--initial-cluster "$initial_cluster" --initial-cluster-state new "${etcd_tls[@]}" \
		--initial-cluster-token "cairn-bench-$$" >"$tmp/etcd-$i/etcd.log" 2>&1 &
	etcd_pids+=("$!")
done
log "etcd: 3 members starting in $tmp (clients $etcd_endpoints)"

deadline=$((SECONDS + HEALTH_TIMEOUT))
for i in 1 2 3; do
	url="$scheme://127.0.0.1:$((ETCD_PORT + i - 1))/health"
	until curl -fsS --max-time 2 "${curl_tls[@]}" "$url" 2>/dev/null | grep -q '"health":"true"'; do
		if ((SECONDS >= deadline)); then
			tail -n 20 "$tmp"/etcd-*/etcd.log >&2 || true
			die "etcd member $i not healthy after ${HEALTH_TIMEOUT}s"
		fi
		if ! kill -0 "${etcd_pids[$((i - 1))]}" 2>/dev/null; then
			tail -n 20 "$tmp/etcd-$i/etcd.log" >&2 || true
			die "etcd member $i exited"
		fi
		sleep 0.2
	done
done
log "etcd: healthy"
run_workloads etcd --target etcd --endpoints "$etcd_endpoints" "${bench_tls[@]}"
stop_etcd

# --- cairn ----------------------------------------------------------------------
if [[ $SKIP_CAIRN != 1 ]]; then
	log "cairn: starting a 3-node raftkv cluster (base port $BASE_PORT)"
	cairn_up=1
	if "$CAIRN" cluster up --detach --no-fault-proxy --services raftkv --base-port "$BASE_PORT" --cluster-dir "$tmp/cairn" "${cairn_tls[@]}"; then
		run_workloads cairn --target cairn --cluster-dir "$tmp/cairn"
	else
		log "cairn: cluster did not start"
	fi
	"$CAIRN" cluster down --cluster-dir "$tmp/cairn" >/dev/null 2>&1 || true
	cairn_up=0
fi

# --- report ---------------------------------------------------------------------
# field <file> <name>: a number from a one-line JSON result, or empty.
field() { [[ -f $1 ]] && sed -n "s/.*\"$2\":\([-0-9.eE+]*\).*/\1/p" "$1" || true; }

echo
printf '%-12s %12s %12s %8s %12s %12s\n' scenario "cairn req/s" "etcd req/s" ratio "cairn p99" "etcd p99"
for w in "${workloads[@]}"; do
	name=${w%%|*}
	c_tp=$(field "$tmp/cairn.$name.json" throughput)
	e_tp=$(field "$tmp/etcd.$name.json" throughput)
	c_p99=$(field "$tmp/cairn.$name.json" p99_ms)
	e_p99=$(field "$tmp/etcd.$name.json" p99_ms)
	awk -v n="$name" -v ct="$c_tp" -v et="$e_tp" -v cp="$c_p99" -v ep="$e_p99" 'BEGIN {
		f = "%-12s %12s %12s %8s %12s %12s\n"
		r = (ct != "" && et != "" && et + 0 > 0) ? sprintf("%.2fx", ct / et) : "-"
		printf f, n, ct == "" ? "-" : sprintf("%.0f", ct), et == "" ? "-" : sprintf("%.0f", et), r,
			cp == "" ? "-" : sprintf("%.2fms", cp), ep == "" ? "-" : sprintf("%.2fms", ep)
	}'
done
echo "(ratio = cairn req/s / etcd req/s; errors, if any, are in the JSON lines above)"
