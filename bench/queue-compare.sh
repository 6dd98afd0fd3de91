#!/usr/bin/env bash
# queue-compare.sh — run the `cairn bench queue` scenarios against a 3-node
# RabbitMQ cluster (a quorum queue: publisher confirms, manual acks, prefetch),
# a 3-node NATS cluster (a JetStream work-queue stream: file storage, 3
# replicas, explicit acks) and a 3-node queued cluster, all kept up for the
# whole run, in ROUNDS interleaved rounds (rabbitmq, nats, queued, rabbitmq,
# ... for each scenario), and print each one's median and the range of
# queued's per-round ratio to each.
#
# Durability of an acknowledged send on each side:
#   queued    committed and fsynced on a quorum (2 of 3) before the reply.
#   rabbitmq  quorum queue: written and fsynced by a quorum before the confirm.
#   nats      stored on a quorum of the stream's replicas; fsynced only every
#             sync_interval (2 minutes by default; Debian's 2.9 has no setting
#             to fsync every write): weaker than the other two.
#
# rabbitmq-server and nats-server come from Debian's packages, installed with
# apt-get when missing. All three run in plaintext on loopback (RabbitMQ and
# NATS are not given TLS here, so neither is queued). Everything started here
# is stopped on exit.
#
# Environment: CAIRN (binary, default bin/cairn; `make build`), ROUNDS (default
# 3), TOTAL (messages per scenario and round, default 20000; consume drains a
# backlog of TOTAL), PRODUCERS (default 16), CONSUMERS (default 4), PREFETCH
# (default 100), MESSAGE_BYTES (default 1024), SCENARIOS (default "publish
# consume e2e"), RABBIT_PORT (AMQP of node 1, default 25672; node i uses
# RABBIT_PORT+i-1, Erlang distribution RABBIT_PORT+10+i-1), NATS_PORT (client
# port of node 1, default 24222; routes NATS_PORT+10..), BASE_PORT (cairn,
# default 18000), HEALTH_TIMEOUT (seconds, default 120).
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
BASE_PORT=${BASE_PORT:-18000}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-120}
# shellcheck source=bench/lib.sh
. bench/lib.sh

[[ -x $CAIRN ]] || die "$CAIRN not found; run 'make build' first"
need_pkgs rabbitmq-server=rabbitmq-server nats-server=nats-server
RMQ_BIN=/usr/lib/rabbitmq/bin
[[ -x $RMQ_BIN/rabbitmq-server ]] || die "$RMQ_BIN/rabbitmq-server not found (Debian's rabbitmq-server package)"
log "$(nats-server --version); rabbitmq-server $(dpkg-query -W -f '${Version}' rabbitmq-server 2>/dev/null || echo '?')"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cairn-queue-compare.XXXXXX")
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

# --- NATS: three JetStream servers of one cluster -----------------------------------
nats_eps=""
routes=""
for i in 1 2 3; do routes+="${routes:+, }nats-route://127.0.0.1:$((NATS_PORT + 10 + i - 1))"; done
for i in 1 2 3; do
	d=$tmp/nats/n$i
	mkdir -p "$d"
	cat >"$d/nats.conf" <<CONF
server_name: n$i
listen: 127.0.0.1:$((NATS_PORT + i - 1))
jetstream { store_dir: "$d/js" }
cluster {
  name: cairn-queue-compare
  listen: 127.0.0.1:$((NATS_PORT + 10 + i - 1))
  routes: [ $routes ]
}
CONF
	nats-server -c "$d/nats.conf" >"$d/out.log" 2>&1 &
	nats_pids+=($!)
	nats_eps+=${nats_eps:+,}127.0.0.1:$((NATS_PORT + i - 1))
done
log "nats: 3-node JetStream cluster on $nats_eps"

# --- queued ------------------------------------------------------------------------
log "queued: starting a 3-node cluster (base port $BASE_PORT)"
cairn_up=1
"$CAIRN" cluster up --detach --no-fault-proxy --insecure --services queued --base-port "$BASE_PORT" \
	--cluster-dir "$tmp/cairn" >&2 || die "the queued cluster did not start"

common=(--producers "$PRODUCERS" --consumers "$CONSUMERS" --prefetch "$PREFETCH"
	--message-bytes "$MESSAGE_BYTES" --total "$TOTAL" --output json)
# The JetStream meta group elects a leader a few seconds after boot: a first
# stream may fail before it. Warm every target up with a small run.
wait_until "nats jetstream" "$CAIRN" bench queue publish --target nats --endpoints "$nats_eps" --total 10 --producers 1
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
		run_one nats "$round" "$s" --target nats --endpoints "$nats_eps"
		run_one queued "$round" "$s" --target queued --cluster-dir "$tmp/cairn"
	done
done

# --- report ---------------------------------------------------------------------
echo
f='%-8s %10s %10s %10s %8s %11s %8s %11s %10s %10s %10s\n'
printf "$f" scenario "queued/s" "rabbit/s" "nats/s" "q/rabbit" "rounds q/r" "q/nats" "rounds q/n" "queued p99" "rabbit p99" "nats p99"
for s in $SCENARIOS; do
	rate=send_rate metric=send_p99_ms
	[[ $s == consume ]] && rate=receive_rate metric=none
	[[ $s == e2e ]] && metric=e2e_p99_ms
	q=$(round_values "$tmp" queued "$ROUNDS" "$s" $rate)
	r=$(round_values "$tmp" rabbitmq "$ROUNDS" "$s" $rate)
	n=$(round_values "$tmp" nats "$ROUNDS" "$s" $rate)
	awk -v f="$f" -v s="$s" -v rr="$(ratio_range "$q" "$r")" -v rn="$(ratio_range "$q" "$n")" \
		-v q="$(echo "$q" | median)" -v r="$(echo "$r" | median)" -v n="$(echo "$n" | median)" \
		-v qp="$(round_values "$tmp" queued "$ROUNDS" "$s" $metric | median)" \
		-v rp="$(round_values "$tmp" rabbitmq "$ROUNDS" "$s" $metric | median)" \
		-v np="$(round_values "$tmp" nats "$ROUNDS" "$s" $metric | median)" '
	function tp(x) { return x == "" ? "-" : sprintf("%.0f", x) }
	function ratio(a, b) { return (a != "" && b != "" && b + 0 > 0) ? sprintf("%.2fx", a / b) : "-" }
	function lat(x) { return x == "" ? "-" : sprintf("%.2fms", x) }
	BEGIN { printf f, s, tp(q), tp(r), tp(n), ratio(q, r), rr, ratio(q, n), rn, lat(qp), lat(rp), lat(np) }'
done
echo "(medians of $ROUNDS interleaved rounds of $TOTAL ${MESSAGE_BYTES}-byte messages, $PRODUCERS producers,"
echo " $CONSUMERS consumers with prefetch $PREFETCH; publish and e2e: confirmed sends/s, consume: acked"
echo " deliveries/s draining a backlog; q/rabbit and q/nats are queued's median over theirs, rounds the"
echo " range of the per-round ratios; p99 is of send-to-confirm (publish, consume's fill is not measured"
echo " so its p99 is '-') and of send-to-delivery (e2e). NATS fsyncs only every 2 minutes: weaker.)"
