#!/usr/bin/env bash
# blob-compare.sh — run `cairn bench blob` (PUT then GET of whole objects by
# CLIENTS concurrent clients, every GET checked byte for byte) against a
# 5-node blobd cluster's S3 API and against SeaweedFS's S3 gateway, both kept
# up for the whole run, in ROUNDS interleaved rounds (seaweed, blobd,
# seaweed, blobd, ... for each size), with the disk's sequential write
# bandwidth measured by dd in every round. The same client code (AWS's Go
# SDK: path-style, SigV4, UNSIGNED-PAYLOAD bodies, no added checksums) talks
# to both. Prints each side's median MiB/s and p99, the median and the range
# of blobd's per-round ratio to SeaweedFS, and for the largest size blobd's
# PUT MiB/s as a fraction of the disk's bandwidth (dd oflag=direct, median
# of the rounds) divided by the replicas (3).
#
# Settings, each side:
#   blobd     `cairn cluster up --services blobd` defaults: 5 nodes, each a
#             metadata Raft voter, a volume server and an S3 front end; hot
#             tier, every chunk (8 MiB) on 3 volume servers, each copy
#             fsynced before the PUT is acknowledged; metadata committed
#             through Raft (fsynced on a quorum). The clients talk to one
#             node's S3 address (BLOBD_ENDPOINTS=all: client i to node i
#             mod 5). No fault proxy.
#   seaweed   SeaweedFS SEAWEEDFS_VERSION (built from the Go module proxy,
#             cached in CACHE_DIR): one master (-defaultReplication=002,
#             -volumeSizeLimitMB=1024), 3 volume servers on one rack (data
#             center dc1, rack r1, -max=0: as many volumes as the disk
#             holds), one filer (embedded leveldb store, -maxMB=8: 8 MiB
#             chunks like blobd's) with its S3 gateway (-s3, one identity,
#             the same static key as blobd). The bucket path /buckets/ is
#             set with `fs.configure -replication=002 -fsync`: every chunk
#             on 3 volume servers (002: two more copies on other servers of
#             the same rack), each copy fsynced before the write returns.
#             The filer's metadata (leveldb) is not fsynced per write, a
#             weaker point than blobd's Raft log: the ratio is at equal data
#             durability, not equal metadata durability.
#   both      everything on loopback of this one machine and one disk: 3
#             copies of every byte land on the same disk on both sides. TLS=0
#             (default): plaintext S3 on both sides (blobd --insecure: its
#             peer links are plaintext too). TLS=1: blobd with its default
#             mutual TLS between nodes and TLS on S3 (the cluster's CA);
#             SeaweedFS's S3 gateway with TLS (a certificate from openssl)
#             but its internal links plaintext: TLS=1 favours SeaweedFS.
#   client    CLIENTS clients, each its own connection and one request in
#             flight; for each size a PUT phase then a GET phase of DURATION
#             each, then the objects are deleted. Sizes of 16 MiB and more
#             handle LARGE_PER_CLIENT objects per client and op instead (one
#             64 MiB PUT can outlast DURATION on a busy machine); COUNT > 0
#             sets the objects per op for every size. One bucket per side,
#             created by a warm-up run.
#
# Environment: CAIRN (binary, default bin/cairn; `make build`), ROUNDS
# (default 3), SIZES (default "4KiB 1MiB 64MiB"), CLIENTS (default 4),
# DURATION (per op and size, default 10s), LARGE_PER_CLIENT (objects per
# client and op for sizes of 16 MiB and more, default 3), COUNT (objects per
# op and size instead of both, default 0), SIDES (default "seaweed blobd"),
# BLOBD_ENDPOINTS (one|all, default one), TLS (0|1, default 0), DD_MB (size
# of each dd run, default 512), SEAWEEDFS_VERSION (default
# v0.0.0-20261109003541-7506e5f91cd6), WEED (a weed binary to use instead of
# building one), CACHE_DIR (default ${XDG_CACHE_HOME:-~/.cache}/cairn-bench),
# WEED_PORT (master port; volume servers +1..+3, filer +4, S3 +5, their
# gRPC ports +10000; default 24400), BASE_PORT (cairn, default 18700),
# HEALTH_TIMEOUT (seconds, default 180).
#
# Building weed takes about 8 minutes on 2 idle cores (over 30 on a busy
# machine): `go install` refuses the
# seaweedfs module (its go.mod has a replace directive), so the script makes
# a wrapper module that requires it, with the same replace
# (github.com/tyler-smith/go-bip39 => github.com/cosmos/go-bip39 v1.0.0), and
# builds github.com/seaweedfs/seaweedfs/weed into CACHE_DIR/weed-<version>;
# later runs reuse that binary. Nothing goes into cairn's go.mod.
#
# Every process the script starts is stopped on exit.
set -euo pipefail

cd "$(dirname "$0")/.."
SCRIPT=blob-compare.sh
CAIRN=${CAIRN:-bin/cairn}
ROUNDS=${ROUNDS:-3}
SIZES=${SIZES:-4KiB 1MiB 64MiB}
CLIENTS=${CLIENTS:-4}
DURATION=${DURATION:-10s}
COUNT=${COUNT:-0}
LARGE_PER_CLIENT=${LARGE_PER_CLIENT:-3}
SIDES=${SIDES:-seaweed blobd}
BLOBD_ENDPOINTS=${BLOBD_ENDPOINTS:-one}
TLS=${TLS:-0}
DD_MB=${DD_MB:-512}
SEAWEEDFS_VERSION=${SEAWEEDFS_VERSION:-v0.0.0-20261109003541-7506e5f91cd6}
CACHE_DIR=${CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cairn-bench}
WEED_PORT=${WEED_PORT:-24400}
BASE_PORT=${BASE_PORT:-18700}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-180}
REPLICAS=3
# shellcheck source=bench/lib.sh
. bench/lib.sh

[[ -x $CAIRN ]] || die "$CAIRN not found; run 'make build' first"
CAIRN=$(cd "$(dirname "$CAIRN")" && pwd)/$(basename "$CAIRN")
[[ $TLS == 0 || $TLS == 1 ]] || die "TLS=$TLS: want 0 or 1"
[[ $BLOBD_ENDPOINTS == one || $BLOBD_ENDPOINTS == all ]] || die "BLOBD_ENDPOINTS=$BLOBD_ENDPOINTS: want one or all"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cairn-blob-compare.XXXXXX")
weed_pids=()
cairn_up=0
# stop_weed: SIGTERM the SeaweedFS processes, filer first; SIGKILL those
# still running after 20 seconds (a filer whose master is gone can linger).
stop_weed() {
	local i pid deadline=$((SECONDS + 20))
	for ((i = ${#weed_pids[@]} - 1; i >= 0; i--)); do kill -TERM "${weed_pids[i]}" 2>/dev/null || true; done
	for pid in "${weed_pids[@]}"; do
		while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}
cleanup() {
	stop_weed
	if [[ $cairn_up -eq 1 ]]; then
		"$CAIRN" cluster down --cluster-dir "$tmp/cairn" >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

has_side() { [[ " $SIDES " == *" $1 "* ]]; }

# One access key for both sides: blobd's is the cluster's (read after it
# starts); SeaweedFS gets the same pair in its S3 identity file.
access_key=AKCABENCH$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n' | tr a-f A-F)
secret_key=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')

# --- weed ----------------------------------------------------------------------
# build_weed: sets WEED to CACHE_DIR/weed-<version>, building it first when
# it is missing.
build_weed() {
	local bin=$CACHE_DIR/weed-$SEAWEEDFS_VERSION src
	if [[ -x $bin ]]; then
		WEED=$bin
		return
	fi
	log "building SeaweedFS $SEAWEEDFS_VERSION's weed (about 8 minutes on 2 cores; cached in $bin)"
	mkdir -p "$CACHE_DIR"
	src=$(mktemp -d "$CACHE_DIR/build.XXXXXX")
	cat >"$src/go.mod" <<MOD
module cairn.dev/blob-compare/weedbuild

go 1.25

require github.com/seaweedfs/seaweedfs $SEAWEEDFS_VERSION

replace github.com/tyler-smith/go-bip39 => github.com/cosmos/go-bip39 v1.0.0
MOD
	cat >"$src/tools.go" <<'GO'
//go:build tools

// Package weedbuild pins SeaweedFS's weed command for blob-compare.sh.
package weedbuild

import _ "github.com/seaweedfs/seaweedfs/weed"
GO
	(cd "$src" && GOFLAGS=-mod=mod go build -trimpath -o "$bin.tmp" github.com/seaweedfs/seaweedfs/weed) ||
		die "building weed failed (wrapper module left in $src)"
	mv "$bin.tmp" "$bin"
	rm -rf "$src"
	WEED=$bin
}

weed_s3_endpoint=""
start_seaweed() {
	local d=$tmp/weed m=127.0.0.1:$WEED_PORT i scheme=http s3tls=()
	mkdir -p "$d/master" "$d/filer"
	if [[ $TLS == 1 ]]; then
		make_etcd_pki "$tmp/pki"
		s3tls=(-s3.cert.file "$tmp/pki/etcd.pem" -s3.key.file "$tmp/pki/etcd-key.pem")
		scheme=https
	fi
	cat >"$d/s3.json" <<JSON
{"identities": [{"name": "bench", "credentials": [{"accessKey": "$access_key", "secretKey": "$secret_key"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
JSON
	"$WEED" master -ip 127.0.0.1 -ip.bind 127.0.0.1 -port "$WEED_PORT" -mdir "$d/master" -peers none \
		-defaultReplication 002 -volumeSizeLimitMB 1024 -telemetry=false >"$d/master.log" 2>&1 &
	weed_pids+=($!)
	for i in 1 2 3; do
		mkdir -p "$d/vol$i"
		"$WEED" volume -ip 127.0.0.1 -ip.bind 127.0.0.1 -port $((WEED_PORT + i)) -dir "$d/vol$i" -max 0 -preStopSeconds 0 \
			-master "$m" -dataCenter dc1 -rack r1 >"$d/vol$i.log" 2>&1 &
		weed_pids+=($!)
	done
	"$WEED" filer -ip 127.0.0.1 -ip.bind 127.0.0.1 -port $((WEED_PORT + 4)) -master "$m" -defaultStoreDir "$d/filer" \
		-maxMB 8 -defaultReplicaPlacement 002 -s3 -s3.port $((WEED_PORT + 5)) -s3.config "$d/s3.json" \
		-s3.port.iceberg 0 -s3.port.lance 0 "${s3tls[@]}" >"$d/filer.log" 2>&1 &
	weed_pids+=($!)
	weed_s3_endpoint=$scheme://127.0.0.1:$((WEED_PORT + 5))
	wait_until "the SeaweedFS filer" curl -fsS -o /dev/null "http://127.0.0.1:$((WEED_PORT + 4))/"
	wait_until "fs.configure" sh -c "echo 'fs.configure -locationPrefix=/buckets/ -replication=002 -fsync -apply' |
		'$WEED' shell -master '$m' -filer 127.0.0.1:$((WEED_PORT + 4)) 2>&1 | grep -q '\"fsync\": *true'"
	log "seaweed: master, 3 volume servers, filer + S3 on $weed_s3_endpoint (replication 002, fsync on /buckets/)"
}

# --- blobd ---------------------------------------------------------------------
blobd_flags=()
start_blobd() {
	local tls=(--insecure) eps
	[[ $TLS == 1 ]] && tls=()
	log "blobd: starting a 5-node cluster (base port $BASE_PORT, TLS=$TLS)"
	cairn_up=1
	"$CAIRN" cluster up --detach --no-fault-proxy "${tls[@]}" --services blobd --base-port "$BASE_PORT" \
		--cluster-dir "$tmp/cairn" >&2 || die "the blobd cluster did not start"
	blobd_flags=(--cluster-dir "$tmp/cairn")
	if [[ $BLOBD_ENDPOINTS == all ]]; then
		eps=$("$CAIRN" cluster env --cluster-dir "$tmp/cairn" | sed -n "s/^export CAIRN_S3_BLOBD='\(.*\)'$/\1/p")
		[[ -n $eps ]] || die "cairn cluster env printed no CAIRN_S3_BLOBD"
		local scheme=http
		[[ $TLS == 1 ]] && scheme=https
		blobd_flags+=(--endpoints "$(echo "$eps" | tr ',' '\n' | sed "s|^|$scheme://|" | paste -sd,)")
	fi
}

if has_side seaweed; then
	[[ -n ${WEED:-} ]] || build_weed
	log "weed: $("$WEED" version 2>&1 | head -1)"
	start_seaweed
fi
has_side blobd && start_blobd

side_flags() {
	case $1 in
	seaweed)
		echo --endpoints "$weed_s3_endpoint" --access-key "$access_key" --secret-key "$secret_key" --cluster-dir "$tmp/none"
		[[ $TLS == 1 ]] && echo --ca-file "$tmp/pki/ca.pem"
		;;
	blobd) echo "${blobd_flags[@]}" ;;
	esac
}

common=(--clients "$CLIENTS" --bucket cairn-blob-compare --output json)

# size_bytes <size>: a size as `cairn bench blob --sizes` reads it, in bytes.
size_bytes() {
	local s=${1^^}
	s=${s%B}
	s=${s%I}
	case $s in
	*K) echo $((${s%K} << 10)) ;;
	*M) echo $((${s%M} << 20)) ;;
	*G) echo $((${s%G} << 30)) ;;
	*) echo "$s" ;;
	esac
}

# amount <size>: how much of the size a run handles (see the header).
amount() {
	if [[ $COUNT -gt 0 ]]; then
		echo --count "$COUNT"
	elif [[ $(size_bytes "$1") -ge $((16 << 20)) ]]; then
		echo --count $((LARGE_PER_CLIENT * CLIENTS))
	else
		echo --duration "$DURATION"
	fi
}

# Warm up every side: the first request waits for leaders, volume growth and
# the bucket, which the warm-up creates and leaves (--keep) for the rounds.
for side in $SIDES; do
	# shellcheck disable=SC2046
	wait_until "$side's S3 API" "$CAIRN" bench blob $(side_flags "$side") --bucket cairn-blob-compare \
		--sizes 4KiB,1MiB --count 8 --clients 2 --keep --prefix warm-up --request-timeout 20s
	log "$side: warmed up"
done
if has_side seaweed; then
	# The warm-up's bucket is a collection whose volumes must be 002.
	vl=$(echo volume.list | "$WEED" shell -master 127.0.0.1:$WEED_PORT -filer 127.0.0.1:$((WEED_PORT + 4)) 2>&1)
	n=$(echo "$vl" | grep -c 'ReplicaPlacement:002, Collection:cairn-blob-compare,' || true)
	other=$(echo "$vl" | grep 'Collection:cairn-blob-compare,' | grep -vc 'ReplicaPlacement:002,' || true)
	[[ $n -gt 0 && $other -eq 0 ]] || die "seaweed: the bucket's volumes are not all replication 002 ($n are, $other are not)"
	log "seaweed: the bucket's volume copies: $n, all ReplicaPlacement:002 (3 copies on 3 servers)"
fi

# run_one <side> <round> <size>: writes $tmp/<side>.r<round>.<op>-<size>.json
# for op put and get.
run_one() {
	local side=$1 round=$2 size=$3 out op
	out=$tmp/$side.r$round.$size.jsonl
	log "round $round/$ROUNDS $side: bench blob --sizes $size $(amount "$size")"
	# shellcheck disable=SC2046
	"$CAIRN" bench blob $(side_flags "$side") --sizes "$size" $(amount "$size") "${common[@]}" >"$out" ||
		log "$side: $size failed in round $round (exit $?)"
	cat "$out" >&2
	for op in put get; do
		grep "\"op\":\"$op\"" "$out" >"$tmp/$side.r$round.$op-$size.json" || rm -f "$tmp/$side.r$round.$op-$size.json"
	done
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
	for size in $SIZES; do
		for side in $SIDES; do
			run_one "$side" "$round" "$size"
		done
	done
done

# --- report --------------------------------------------------------------------
# vals <side> <name> <field>: the field of <side>'s result <name> in each
# round, one line per round (empty when that run failed).
vals() {
	local k
	for ((k = 1; k <= ROUNDS; k++)); do echo "$(field "$tmp/$1.r$k.$2.json" "$3")"; done
}
echo
ddd=$(vals dd direct mib_s)
ddf=$(vals dd fdatasync mib_s)
dd_med=$(echo "$ddd" | median)
printf 'disk (dd bs=1M count=%s, MiB/s per round): oflag=direct %s (median %s); conv=fdatasync %s (median %s)\n' \
	"$DD_MB" "$(echo $ddd)" "$dd_med" "$(echo $ddf)" "$(echo "$ddf" | median)"
echo
f='%-11s %11s %9s %11s %9s %7s %11s %11s %11s %7s %7s\n'
printf "$f" "size op" "blobd MiB/s" "sw MiB/s" "blobd obj/s" "sw obj/s" "b/sw" "rounds b/sw" "blobd p99" "sw p99" "b errs" "sw errs"
for size in $SIZES; do
	for op in put get; do
		a=$(vals blobd "$op-$size" mib_s)
		b=$(vals seaweed "$op-$size" mib_s)
		awk -v f="$f" -v name="$size $op" -v rr="$(ratio_range "$a" "$b")" \
			-v a="$(echo "$a" | median)" -v b="$(echo "$b" | median)" \
			-v ao="$(vals blobd "$op-$size" objects_s | median)" -v bo="$(vals seaweed "$op-$size" objects_s | median)" \
			-v ratio="$(paste -d' ' <(echo "$a") <(echo "$b") | awk '$1 != "" && $2 > 0 { print $1 / $2 }' | median)" \
			-v ap="$(vals blobd "$op-$size" p99_ms | median)" \
			-v bp="$(vals seaweed "$op-$size" p99_ms | median)" \
			-v ae="$(vals blobd "$op-$size" errors | awk '{ s += $1 } END { print s + 0 }')" \
			-v be="$(vals seaweed "$op-$size" errors | awk '{ s += $1 } END { print s + 0 }')" '
		function tp(x) { return x == "" ? "-" : sprintf("%.1f", x) }
		function lat(x) { return x == "" ? "-" : sprintf("%.1fms", x) }
		BEGIN { printf f, name, tp(a), tp(b), tp(ao), tp(bo), (ratio == "" ? "-" : sprintf("%.2fx", ratio)), rr, lat(ap), lat(bp), ae, be }'
	done
done
echo
echo "per round (MiB/s, round 1..$ROUNDS; objects/s in brackets):"
for size in $SIZES; do
	for op in put get; do
		for side in $SIDES; do
			printf '  %-7s %-4s %-8s %s\n' "$size" "$op" "$side" "$(paste -d' ' \
				<(vals "$side" "$op-$size" mib_s) <(vals "$side" "$op-$size" objects_s) |
				awk 'NF == 2 { printf "%s%.1f (" ($2 < 10 ? "%.2f" : "%.0f") ")", (n++ ? "  " : ""), $1, $2 } NF < 2 { printf "%s-", (n++ ? "  " : "") }')"
		done
	done
done
largest=$(echo "$SIZES" | tr ' ' '\n' | tail -1)
if has_side blobd && [[ -n $dd_med ]]; then
	m=$(vals blobd "put-$largest" mib_s | median)
	echo
	awk -v m="$m" -v dd="$dd_med" -v r="$REPLICAS" -v s="$largest" 'BEGIN {
		if (m == "") { print "blobd " s " put: no result"; exit }
		printf "blobd %s put: %.1f MiB/s = %.0f%% of the disk bandwidth / %d replicas (%.1f / %d = %.1f MiB/s; goal >= 50%%)\n",
			s, m, 100 * m * r / dd, r, dd, r, dd / r }'
fi
echo
echo "(medians of $ROUNDS interleaved rounds; each run: $CLIENTS clients, one request in flight each, PUT then GET"
echo " $([[ $COUNT -gt 0 ]] && echo "$COUNT objects per op and size" || echo "for $DURATION per op, $((LARGE_PER_CLIENT * CLIENTS)) objects per op from 16 MiB up"); b/sw is the median of blobd's per-round ratios to"
echo " SeaweedFS $SEAWEEDFS_VERSION, rounds their range. Both store 3 copies, each fsynced before the ack, all"
echo " on this one disk; SeaweedFS's filer metadata is not fsynced per write. MiB/s counts object content"
echo " (2^20 bytes). TLS=$TLS. Other processes share this machine: the numbers are noisy.)"
