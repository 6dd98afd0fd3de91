#!/usr/bin/env bash
# stream-compare.sh — run the `cairn bench stream` scenarios against a 3-node
# streamd cluster and a 3-node NATS JetStream cluster (one stream per
# partition, file storage, 3 replicas), both kept up for the whole run, in
# ROUNDS interleaved rounds (streamd, nats, streamd, nats, ... for each
# scenario), and measure the disk's sequential write bandwidth with dd in
# every round. Prints each side's median, the median and the range of
# streamd's per-round ratio to NATS, and streamd's MiB/s as a fraction of
# the disk's.
#
# Durability of an acknowledged produce on each side:
#   streamd acks=all     fsynced on every in-sync replica (3 of 3 here).
#   streamd acks=leader  fsynced on the partition leader only: weaker.
#   nats (NATS_VERSION)  stored on a quorum (2 of 3) of the stream's
#                        replicas, each fsyncing every write (sync_interval:
#                        always): equal to acks=all on a quorum.
#   nats 2.9 (NATS29=1)  Debian's nats-server: quorum, but fsynced only every
#                        2 minutes (2.9 has no per-write fsync): weaker.
# The ratio at equal durability is the acks=all row's (and the consume and
# e2e rows, which produce with acks=all).
#
# nats-server NATS_VERSION is built from the Go module proxy into the run's
# temporary directory (`go install`, never in go.mod) unless NATS_SERVER names
# a binary. Everything runs in plaintext on loopback and is stopped on exit.
#
# Environment: CAIRN (binary, default bin/cairn; `make build`), ROUNDS
# (default 3), TOTAL (records per scenario and round, default 500000),
# RECORD_BYTES (default 100), PARTITIONS (default 6), BATCH_BYTES (default
# 100000), PRODUCERS (default 1), E2E_RATE (records/s of e2e-paced, default
# 20000), SCENARIOS (default "produce-leader produce-all consume-1 consume-3
# e2e e2e-paced"), GROWTH_BYTES (bytes of values of a streamd growth run
# after the rounds, default 0: none), NATS_VERSION (default v2.15.3),
# NATS_SERVER, NATS29 (1: also Debian's nats-server 2.9, default 0), DD_MB
# (size of each dd run, default 512), NATS_PORT (client port of node 1,
# default 24322; routes NATS_PORT+10..; the 2.9 cluster NATS_PORT+20..),
# BASE_PORT (cairn, default 18500), HEALTH_TIMEOUT (seconds, default 120).
set -euo pipefail

cd "$(dirname "$0")/.."
SCRIPT=stream-compare.sh
CAIRN=${CAIRN:-bin/cairn}
ROUNDS=${ROUNDS:-3}
TOTAL=${TOTAL:-500000}
RECORD_BYTES=${RECORD_BYTES:-100}
PARTITIONS=${PARTITIONS:-6}
BATCH_BYTES=${BATCH_BYTES:-100000}
PRODUCERS=${PRODUCERS:-1}
E2E_RATE=${E2E_RATE:-20000}
SCENARIOS=${SCENARIOS:-produce-leader produce-all consume-1 consume-3 e2e e2e-paced}
GROWTH_BYTES=${GROWTH_BYTES:-0}
NATS_VERSION=${NATS_VERSION:-v2.15.3}
NATS29=${NATS29:-0}
DD_MB=${DD_MB:-512}
NATS_PORT=${NATS_PORT:-24322}
BASE_PORT=${BASE_PORT:-18500}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-120}
# shellcheck source=bench/lib.sh
. bench/lib.sh

[[ -x $CAIRN ]] || die "$CAIRN not found; run 'make build' first"
CAIRN=$(cd "$(dirname "$CAIRN")" && pwd)/$(basename "$CAIRN")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cairn-stream-compare.XXXXXX")
nats_pids=()
cairn_up=0
cleanup() {
	stop_pids "${nats_pids[@]}"
	if [[ $cairn_up -eq 1 ]]; then
		"$CAIRN" cluster down --cluster-dir "$tmp/cairn" >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- nats-server NATS_VERSION ------------------------------------------------------
if [[ -z ${NATS_SERVER:-} ]]; then
	log "building nats-server $NATS_VERSION from the Go module proxy"
	(cd "$tmp" && GOFLAGS= GOBIN=$tmp/bin go install "github.com/nats-io/nats-server/v2@$NATS_VERSION") ||
		die "go install nats-server $NATS_VERSION failed"
	NATS_SERVER=$tmp/bin/nats-server
fi
log "$("$NATS_SERVER" --version)"

# start_nats <label> <binary> <first client port> <sync_interval line>: a
# 3-node JetStream cluster; sets nats_eps.
start_nats() {
	local label=$1 bin=$2 port=$3 sync=$4 i d routes=""
	nats_eps=""
	for i in 1 2 3; do routes+="${routes:+, }nats-route://127.0.0.1:$((port + 10 + i - 1))"; done
	for i in 1 2 3; do
		d=$tmp/$label/n$i
		mkdir -p "$d"
		cat >"$d/nats.conf" <<CONF
server_name: n$i
listen: 127.0.0.1:$((port + i - 1))
jetstream { store_dir: "$d/js"${sync:+, $sync} }
cluster {
  name: cairn-stream-compare-$label
  listen: 127.0.0.1:$((port + 10 + i - 1))
  routes: [ $routes ]
}
CONF
		"$bin" -c "$d/nats.conf" >"$d/out.log" 2>&1 &
		nats_pids+=($!)
		nats_eps+=${nats_eps:+,}127.0.0.1:$((port + i - 1))
	done
}
start_nats nats "$NATS_SERVER" "$NATS_PORT" "sync_interval: always"
nats_new_eps=$nats_eps
log "nats: 3-node JetStream cluster ($NATS_VERSION, sync_interval: always) on $nats_new_eps"
sides=(streamd nats)
if [[ $NATS29 == 1 ]]; then
	need_pkgs nats-server=nats-server
	start_nats nats29 nats-server $((NATS_PORT + 20)) ""
	nats_old_eps=$nats_eps
	log "nats29: 3-node JetStream cluster ($(nats-server --version), fsync every 2 minutes) on $nats_old_eps"
	sides+=(nats29)
fi

# --- streamd -----------------------------------------------------------------------
log "streamd: starting a 3-node cluster (base port $BASE_PORT)"
cairn_up=1
"$CAIRN" cluster up --detach --no-fault-proxy --insecure --services streamd --base-port "$BASE_PORT" \
	--cluster-dir "$tmp/cairn" >&2 || die "the streamd cluster did not start"

common=(--record-bytes "$RECORD_BYTES" --partitions "$PARTITIONS" --replication 3 --batch-bytes "$BATCH_BYTES"
	--producers "$PRODUCERS" --total "$TOTAL" --output json)
side_flags() {
	case $1 in
	streamd) echo "--target streamd --insecure --cluster-dir $tmp/cairn" ;;
	nats) echo "--target nats --endpoints $nats_new_eps" ;;
	nats29) echo "--target nats --endpoints $nats_old_eps" ;;
	esac
}
# The JetStream meta group elects a leader a few seconds after boot: a first
# stream may fail before it. Warm every side up with a small run.
for side in "${sides[@]}"; do
	# shellcheck disable=SC2046
	wait_until "$side" "$CAIRN" bench stream produce $(side_flags "$side") --total 100 --batch-bytes 1000
done

# scenario_flags <scenario>: the bench stream arguments of a scenario.
scenario_flags() {
	case $1 in
	produce-leader) echo "produce --acks leader" ;;
	produce-all) echo "produce --acks all" ;;
	consume-1) echo "consume --consumers 1" ;;
	consume-3) echo "consume --consumers 3" ;;
	e2e) echo "e2e --consumers 3" ;;
	e2e-paced) echo "e2e --consumers 3 --rate $E2E_RATE --linger 5ms" ;;
	*) die "unknown scenario $1" ;;
	esac
}

# run_one <side> <round> <scenario>: writes $tmp/<side>.r<round>.<scenario>.json.
run_one() {
	local side=$1 round=$2 s=$3 out
	out=$tmp/$side.r$round.$s.json
	log "round $round/$ROUNDS $side: bench stream $(scenario_flags "$s") --total $TOTAL"
	# shellcheck disable=SC2046
	if "$CAIRN" bench stream $(scenario_flags "$s") $(side_flags "$side") "${common[@]}" >"$out"; then
		cat "$out" >&2
	else
		log "$side: $s failed in round $round"
		rm -f "$out"
	fi
}

# dd_one <round> <name> <dd flags...>: the disk's sequential write bandwidth
# in MiB/s, written as {"mib_s":N} to $tmp/dd.r<round>.<name>.json.
dd_one() {
	local round=$1 name=$2 line
	shift 2
	line=$(dd if=/dev/zero of="$tmp/dd.bin" bs=1M count="$DD_MB" "$@" 2>&1 | tail -1)
	rm -f "$tmp/dd.bin"
	echo "$line" | awk '{ printf "{\"mib_s\":%.1f}\n", $1 / $(NF - 3) / 1048576 }' >"$tmp/dd.r$round.$name.json"
	log "round $round/$ROUNDS dd $*: $(cat "$tmp/dd.r$round.$name.json")"
}

for ((round = 1; round <= ROUNDS; round++)); do
	dd_one "$round" direct oflag=direct
	dd_one "$round" fdatasync conv=fdatasync
	for s in $SCENARIOS; do
		for side in "${sides[@]}"; do
			# NATS has one ack mode: its produce runs once per round.
			[[ $side != streamd && $s == produce-leader && " $SCENARIOS " == *" produce-all "* ]] && continue
			run_one "$side" "$round" "$s"
		done
	done
done
for side in "${sides[@]}"; do
	[[ $side == streamd || " $SCENARIOS " != *" produce-all "* ]] && continue
	for ((round = 1; round <= ROUNDS; round++)); do
		[[ -f $tmp/$side.r$round.produce-all.json ]] && cp "$tmp/$side.r$round.produce-all.json" "$tmp/$side.r$round.produce-leader.json"
	done
done

growth=""
if [[ $GROWTH_BYTES -gt 0 ]]; then
	log "streamd growth: $GROWTH_BYTES bytes of values, acks=all"
	growth=$("$CAIRN" bench stream growth --target streamd --insecure --cluster-dir "$tmp/cairn" --acks all \
		--record-bytes "$RECORD_BYTES" --partitions "$PARTITIONS" --batch-bytes "$BATCH_BYTES" --producers "$PRODUCERS" \
		--total-bytes "$GROWTH_BYTES" --interval-bytes $((GROWTH_BYTES / 10)) --request-timeout 2m --output table) ||
		log "growth run failed"
fi

# --- report ---------------------------------------------------------------------
echo
ddd=$(round_values "$tmp" dd "$ROUNDS" direct mib_s)
ddf=$(round_values "$tmp" dd "$ROUNDS" fdatasync mib_s)
printf 'disk (dd bs=1M count=%s, MiB/s per round): oflag=direct %s (median %s); conv=fdatasync %s (median %s)\n' \
	"$DD_MB" "$(echo $ddd)" "$(echo "$ddd" | median)" "$(echo $ddf)" "$(echo "$ddf" | median)"
echo
f='%-15s %10s %10s %8s %11s %9s %9s %11s %11s\n'
printf "$f" scenario "streamd/s" "nats/s" "s/nats" "rounds s/n" "s MiB/s" "s x3/dd" "streamd p99" "nats p99"
for s in $SCENARIOS; do
	rate=produce_rate mib=produce_mib_s metric=produce_p99_ms
	[[ $s == consume-* ]] && rate=consume_rate mib=consume_mib_s metric=none
	[[ $s == e2e* ]] && metric=e2e_p99_ms
	a=$(round_values "$tmp" streamd "$ROUNDS" "$s" $rate)
	b=$(round_values "$tmp" nats "$ROUNDS" "$s" $rate)
	awk -v f="$f" -v s="$s" -v rr="$(ratio_range "$a" "$b")" \
		-v a="$(echo "$a" | median)" -v b="$(echo "$b" | median)" \
		-v ratios="$(paste -d' ' <(echo "$a") <(echo "$b") | awk '$1 != "" && $2 > 0 { print $1 / $2 }' | median)" \
		-v m="$(round_values "$tmp" streamd "$ROUNDS" "$s" $mib | median)" -v dd="$(echo "$ddd" | median)" \
		-v ap="$(round_values "$tmp" streamd "$ROUNDS" "$s" $metric | median)" \
		-v bp="$(round_values "$tmp" nats "$ROUNDS" "$s" $metric | median)" '
	function tp(x) { return x == "" ? "-" : sprintf("%.0f", x) }
	function lat(x) { return x == "" ? "-" : sprintf("%.1fms", x) }
	BEGIN {
		printf f, s, tp(a), tp(b), (ratios == "" ? "-" : sprintf("%.2fx", ratios)), rr,
			(m == "" ? "-" : sprintf("%.1f", m)), ((m == "" || dd == "") ? "-" : sprintf("%.1f%%", 300 * m / dd)), lat(ap), lat(bp)
	}'
done
echo
echo "per round (records/s, round 1..$ROUNDS):"
for s in $SCENARIOS; do
	rate=produce_rate
	[[ $s == consume-* ]] && rate=consume_rate
	for side in "${sides[@]}"; do
		printf '  %-15s %-8s %s\n' "$s" "$side" "$(round_values "$tmp" "$side" "$ROUNDS" "$s" $rate | awk 'NF { printf "%s%.0f", (n++ ? " " : ""), $1 }')"
	done
done
if [[ $NATS29 == 1 ]]; then
	echo
	echo "weaker anchor, Debian's nats-server 2.9 (fsync every 2 minutes), medians:"
	for s in $SCENARIOS; do
		rate=produce_rate
		[[ $s == consume-* ]] && rate=consume_rate
		a=$(round_values "$tmp" streamd "$ROUNDS" "$s" $rate)
		b=$(round_values "$tmp" nats29 "$ROUNDS" "$s" $rate)
		printf '  %-15s nats29/s %8s  streamd/nats29 %s (rounds %s)\n' "$s" "$(echo "$b" | median | awk '{printf "%.0f", $1}')" \
			"$(paste -d' ' <(echo "$a") <(echo "$b") | awk '$1 != "" && $2 > 0 { print $1 / $2 }' | median | awk '{printf "%.2fx", $1}')" \
			"$(ratio_range "$a" "$b")"
	done
fi
if [[ -n $growth ]]; then
	echo
	echo "streamd growth (acks=all; the page cache holds about $(free -g | awk '/^Mem:/ { print $2 }') GiB):"
	echo "$growth"
fi
echo "(medians of $ROUNDS interleaved rounds of $TOTAL ${RECORD_BYTES}-byte records, $PARTITIONS partitions, 3 replicas,"
echo " $PRODUCERS producer(s) with $BATCH_BYTES-byte batches, one in flight per partition; s/nats is the median of"
echo " streamd's per-round ratios to NATS $NATS_VERSION, rounds their range. Durability: streamd acks=all fsyncs on"
echo " every in-sync replica, NATS with sync_interval: always on each replica of a quorum (equal); produce-leader"
echo " fsyncs on the leader only (weaker) and is compared with the same NATS runs. consume-N: N consumers (a"
echo " consumer group) draining TOTAL records; e2e: 3 consumers beside the producer, p99 from creation to receipt;"
echo " e2e-paced at $E2E_RATE records/s. s MiB/s is of record values; s x3/dd is that times the 3 replicas (all on"
echo " this one disk) over dd oflag=direct. Other processes share this machine: the numbers are noisy.)"
