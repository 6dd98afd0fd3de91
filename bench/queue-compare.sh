#!/usr/bin/env bash
# queue-compare.sh — run the `cairn bench queue` scenarios against a 3-node
# RabbitMQ cluster (a quorum queue: publisher confirms, manual acks, prefetch),
# two 3-node NATS clusters (a JetStream work-queue stream: file storage, 3
# replicas, explicit acks) and a 3-node queued cluster, all kept up for the
# whole run, in ROUNDS interleaved rounds (rabbitmq, nats29, nats215, queued,
# rabbitmq, ... for each scenario), and print, per scenario, one row per
# target with its durability, its median and the range of queued's per-round
# ratio to it.
#
# Durability of an acknowledged send on each side (the report's rows say it):
#   queued    committed and fsynced on a quorum (2 of 3) before the reply.
#   rabbitmq  quorum queue: written and fsynced by a quorum before the confirm.
#   nats29    Debian's nats-server 2.9: stored on a quorum of the stream's
#             replicas, fsynced only every sync_interval (2 minutes by
#             default; 2.9 has no setting to fsync every write): weaker.
#   nats215   nats-server v2.15.3 with `sync_interval: always`: every write
#             fsynced before it is acknowledged, on a quorum of the replicas:
#             the same durability as queued's.
#
# rabbitmq-server and the 2.9 nats-server come from Debian's packages,
# installed with apt-get when missing; nats-server v2.15.3 is built here from
# the Go module proxy (`go install github.com/nats-io/nats-server/v2@v2.15.3`
# into the run's temporary directory; it is no dependency of cairn's go.mod).
# All run in plaintext on loopback (RabbitMQ and NATS are not given TLS here,
# so neither is queued). Everything started here is stopped on exit.
#
# Environment: CAIRN (binary, default bin/cairn; `make build`), ROUNDS (default
# 3), TOTAL (messages per scenario and round, default 20000; consume drains a
# backlog of TOTAL), PRODUCERS (default 16), CONSUMERS (default 4), PREFETCH
# (default 100), MESSAGE_BYTES (default 1024), SCENARIOS (default "publish
# consume e2e"), RABBIT_PORT (AMQP of node 1, default 25672; node i uses
# RABBIT_PORT+i-1, Erlang distribution RABBIT_PORT+10+i-1), NATS_PORT (client
# port of the 2.9 cluster's node 1, default 24222; routes NATS_PORT+10..; the
# 2.15.3 cluster uses NATS_PORT+20.. and routes NATS_PORT+30..),
# NATS_VERSION (the module version built, default v2.15.3), BASE_PORT
# (cairn, default 18000), HEALTH_TIMEOUT (seconds, default 120).
set -euo pipefail

cd "$(dirname "$0")/.."
SCRIPT=queue-compare.sh
CAIRN=${CAIRN:-bin/cairn}
ROUNDS=${ROUNDS:-3}
TOTAL=${TOTAL:-20000}
PRODUCERS=${PRODUCERS:-16}
CONSUMERS=${CONSUMERS:-4}
PREFETCH=${PREFETCH:-100}
MESSAGE_BYTES=${MESSAGE_BYTES:-1024}
SCENARIOS=${SCENARIOS:-publish consume e2e}
RABBIT_PORT=${RABBIT_PORT:-25672}
NATS_PORT=${NATS_PORT:-24222}
NATS_VERSION=${NATS_VERSION:-v2.15.3}
BASE_PORT=${BASE_PORT:-18000}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-120}
# shellcheck source=bench/lib.sh
. bench/lib.sh

[[ -x $CAIRN ]] || die "$CAIRN not found; run 'make build' first"
need_pkgs rabbitmq-server=rabbitmq-server nats-server=nats-server
RMQ_BIN=/usr/lib/rabbitmq/bin
[[ -x $RMQ_BIN/rabbitmq-server ]] || die "$RMQ_BIN/rabbitmq-server not found (Debian's rabbitmq-server package)"
NATS29=$(command -v nats-server)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cairn-queue-compare.XXXXXX")
# nats-server $NATS_VERSION from the Go module proxy, outside cairn's module
# (GOWORK off, built from the temporary directory) so go.mod is untouched.
log "building nats-server $NATS_VERSION (go install from the module proxy)"
(cd "$tmp" && GOWORK=off GOFLAGS= GOBIN=$tmp/gobin go install "github.com/nats-io/nats-server/v2@$NATS_VERSION") ||
	die "could not build nats-server $NATS_VERSION"
NATS215=$tmp/gobin/nats-server
log "$("$NATS29" --version) (Debian); $("$NATS215" --version) (built); rabbitmq-server $(dpkg-query -W -f '${Version}' rabbitmq-server 2>/dev/null || echo '?')"
nats_pids=()
cairn_up=0
rabbit_nodes=()
rabbitmqctl() { HOME=$tmp/rabbit "$RMQ_BIN/rabbitmqctl" "$@"; }
cleanup() {
	local n
	for n in "${rabbit_nodes[@]}"; do rabbitmqctl -n "$n" stop >/dev/null 2>&1 || true; done
	stop_pids "${nats_pids[@]}"
	if [[ $cairn_up -eq 1 ]]; then
		"$CAIRN" cluster down --cluster-dir "$tmp/cairn" >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- RabbitMQ: three nodes of one cluster ----------------------------------------
# Each node runs detached from the terminal (setsid), or the broker hangs at boot.
mkdir -p "$tmp/rabbit"
printf 'cairn-queue-compare-%s' "$$" >"$tmp/rabbit/.erlang.cookie"
chmod 400 "$tmp/rabbit/.erlang.cookie"
rabbit_eps=""
for i in 1 2 3; do
	node=rabbit$i-$$@localhost
	rabbit_nodes+=("$node")
	d=$tmp/rabbit/n$i
	mkdir -p "$d"
	echo "[]." >"$d/plugins"
	HOME=$tmp/rabbit RABBITMQ_NODENAME=$node RABBITMQ_NODE_PORT=$((RABBIT_PORT + i - 1)) \
		RABBITMQ_DIST_PORT=$((RABBIT_PORT + 10 + i - 1)) RABBITMQ_MNESIA_BASE=$d/mnesia \
		RABBITMQ_LOG_BASE=$d/log RABBITMQ_ENABLED_PLUGINS_FILE=$d/plugins RABBITMQ_PID_FILE=$d/pid \
		setsid "$RMQ_BIN/rabbitmq-server" >"$d/out.log" 2>&1 </dev/null &
	rabbit_eps+=${rabbit_eps:+,}127.0.0.1:$((RABBIT_PORT + i - 1))
done
for n in "${rabbit_nodes[@]}"; do
	wait_until "rabbitmq $n" rabbitmqctl -n "$n" await_startup
done
for n in "${rabbit_nodes[@]:1}"; do
	rabbitmqctl -n "$n" stop_app >/dev/null
	rabbitmqctl -n "$n" join_cluster "${rabbit_nodes[0]}" >/dev/null
	rabbitmqctl -n "$n" start_app >/dev/null
done
wait_until "rabbitmq cluster of 3" sh -c "HOME=$tmp/rabbit $RMQ_BIN/rabbitmqctl -n ${rabbit_nodes[0]} cluster_status --formatter json | grep -o 'running_nodes\":\[[^]]*' | grep -o '@' | wc -l | grep -qx 3"
log "rabbitmq: 3-node cluster on $rabbit_eps"

# --- NATS: two clusters of three JetStream servers ----------------------------------
# start_nats <label> <binary> <first client port> <extra jetstream settings>:
# a 3-node cluster (clients on port..port+2, routes on port+10..port+12);
# sets nats_eps.
start_nats() {
	local label=$1 bin=$2 port=$3 js=$4 routes="" i d
	nats_eps=""
	for i in 1 2 3; do routes+="${routes:+, }nats-route://127.0.0.1:$((port + 10 + i - 1))"; done
	for i in 1 2 3; do
		d=$tmp/$label/n$i
		mkdir -p "$d"
		cat >"$d/nats.conf" <<CONF
server_name: $label-n$i
listen: 127.0.0.1:$((port + i - 1))
jetstream { store_dir: "$d/js"$js }
cluster {
  name: cairn-queue-compare-$label
  listen: 127.0.0.1:$((port + 10 + i - 1))
  routes: [ $routes ]
}
CONF
		"$bin" -c "$d/nats.conf" >"$d/out.log" 2>&1 &
		nats_pids+=($!)
		nats_eps+=${nats_eps:+,}127.0.0.1:$((port + i - 1))
	done
	log "$label: 3-node JetStream cluster on $nats_eps ($("$bin" --version))"
}
start_nats nats29 "$NATS29" "$NATS_PORT" ""
nats29_eps=$nats_eps
start_nats nats215 "$NATS215" $((NATS_PORT + 20)) ", sync_interval: always"
nats215_eps=$nats_eps

# --- queued ------------------------------------------------------------------------
log "queued: starting a 3-node cluster (base port $BASE_PORT)"
cairn_up=1
"$CAIRN" cluster up --detach --no-fault-proxy --insecure --services queued --base-port "$BASE_PORT" \
	--cluster-dir "$tmp/cairn" >&2 || die "the queued cluster did not start"

common=(--producers "$PRODUCERS" --consumers "$CONSUMERS" --prefetch "$PREFETCH"
	--message-bytes "$MESSAGE_BYTES" --total "$TOTAL" --output json)
# The JetStream meta group elects a leader a few seconds after boot: a first
# stream may fail before it. Warm every target up with a small run.
wait_until "nats 2.9 jetstream" "$CAIRN" bench queue publish --target nats --endpoints "$nats29_eps" --total 10 --producers 1
wait_until "nats $NATS_VERSION jetstream" "$CAIRN" bench queue publish --target nats --endpoints "$nats215_eps" --total 10 --producers 1
wait_until "rabbitmq quorum queue" "$CAIRN" bench queue publish --target rabbitmq --endpoints "$rabbit_eps" --total 10 --producers 1
wait_until "queued" "$CAIRN" bench queue publish --target queued --cluster-dir "$tmp/cairn" --total 10 --producers 1

# run_one <label> <round> <scenario> <flags...>: writes $tmp/<label>.r<round>.<scenario>.json.
run_one() {
	local label=$1 round=$2 scenario=$3 out
	shift 3
	out=$tmp/$label.r$round.$scenario.json
	log "round $round/$ROUNDS $label: bench queue $scenario --total $TOTAL"
	if "$CAIRN" bench queue "$scenario" "${common[@]}" "$@" >"$out"; then
		cat "$out" >&2
	else
		log "$label: $scenario failed in round $round"
		rm -f "$out"
	fi
}

for s in $SCENARIOS; do
	for ((round = 1; round <= ROUNDS; round++)); do
		run_one rabbitmq "$round" "$s" --target rabbitmq --endpoints "$rabbit_eps"
		run_one nats29 "$round" "$s" --target nats --endpoints "$nats29_eps"
		run_one nats215 "$round" "$s" --target nats --endpoints "$nats215_eps"
		run_one queued "$round" "$s" --target queued --cluster-dir "$tmp/cairn"
	done
done

# --- report ---------------------------------------------------------------------
# One row per scenario and target: its durability, median rate, queued's median
# over it and the range of the per-round ratios, and the median p99.
declare -A durability=(
	[queued]="fsync on a quorum before the reply"
	[rabbitmq]="quorum queue: fsync on a quorum"
	[nats29]="quorum, fsync every 2 min: weaker"
	[nats215]="sync_interval always: fsync on a quorum"
)
declare -A target_name=(
	[queued]="queued"
	[rabbitmq]="rabbitmq $(dpkg-query -W -f '${Version}' rabbitmq-server 2>/dev/null | cut -d- -f1)"
	[nats29]="nats $("$NATS29" --version | sed 's/.*v//') (Debian)"
	[nats215]="nats ${NATS_VERSION#v}"
)
echo
f='%-8s %-22s %-40s %10s %8s %11s %10s\n'
printf "$f" scenario target durability "msgs/s" "q/target" "rounds q/t" "p99"
for s in $SCENARIOS; do
	rate=send_rate metric=send_p99_ms
	[[ $s == consume ]] && rate=receive_rate metric=none
	[[ $s == e2e ]] && metric=e2e_p99_ms
	q=$(round_values "$tmp" queued "$ROUNDS" "$s" $rate)
	for label in queued rabbitmq nats29 nats215; do
		v=$(round_values "$tmp" "$label" "$ROUNDS" "$s" $rate)
		rr=$(ratio_range "$q" "$v")
		[[ $label == queued ]] && rr=""
		awk -v f="$f" -v s="$s" -v t="${target_name[$label]}" -v d="${durability[$label]}" -v rr="$rr" -v self="$([[ $label == queued ]] && echo 1)" \
			-v q="$(echo "$q" | median)" -v v="$(echo "$v" | median)" \
			-v p="$(round_values "$tmp" "$label" "$ROUNDS" "$s" $metric | median)" '
		function tp(x) { return x == "" ? "-" : sprintf("%.0f", x) }
		function ratio(a, b) { return (self == "" && a != "" && b != "" && b + 0 > 0) ? sprintf("%.2fx", a / b) : "-" }
		function lat(x) { return x == "" ? "-" : sprintf("%.2fms", x) }
		BEGIN { printf f, s, t, d, tp(v), ratio(q, v), (rr == "" ? "-" : rr), lat(p) }'
	done
done
echo "(medians of $ROUNDS interleaved rounds of $TOTAL ${MESSAGE_BYTES}-byte messages, $PRODUCERS producers,"
echo " $CONSUMERS consumers with prefetch $PREFETCH; publish and e2e: confirmed sends/s, consume: acked"
echo " deliveries/s draining a backlog; q/target is queued's median over the target's, rounds q/t the"
echo " range of the per-round ratios; p99 is of send-to-confirm (publish, consume's fill is not measured"
echo " so its p99 is '-') and of send-to-delivery (e2e). Equal durability: queued, rabbitmq and"
echo " nats ${NATS_VERSION#v} fsync on a quorum before acknowledging; Debian's nats 2.9 does not.)"
