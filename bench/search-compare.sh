#!/usr/bin/env bash
# search-compare.sh — run the workload of `cairn bench search` (package
# bench/searchbench) against searchd and the engines it is compared with, all
# kept up for the whole run, in ROUNDS interleaved rounds (bleve, cairn,
# cairn-cluster, sphinx, xapian, then again): the same corpus file, the same
# DOCS documents indexed in batches of BATCH by WRITERS writers (docs/s, to
# the end of a refresh), the same query mix (term, phrase, fuzzy, prefix,
# facet; generated from the corpus with SEED) by CLIENTS concurrent clients
# for DURATION after WARMUP, and the index's size on disk. Every round builds
# every index anew. Prints each engine's median docs/s, QPS, p50/p99 (all
# kinds, and p99 per kind) and size, then cairn's ratios to each anchor: the
# median of the per-round ratios and their range.
#
# Corpus: Debian's package descriptions from `apt-cache dumpavail`, written
# once to a file (cairn bench search --save-corpus) that every engine reads.
# TRANSLATIONS=1 (default) first fetches apt's English translations
# (apt-get update -o Acquire::Languages=en), which hold the long
# descriptions; without them (Debian's container images set
# Acquire::Languages "none") a document is its one-line title. The corpus is
# replicated with new ids up to DOCS.
#
# Settings, each engine:
#   cairn          searchd/engine in-process (`cairn bench search
#                  --in-process`): one shard, Mapping's fields, searchd's
#                  default analyzer, BM25 (k1 1.2, b 0.75), put per document,
#                  one refresh at the end, a commit at Close before the size.
#   cairn-cluster  a 3-node searchd cluster (`cairn cluster up --services
#                  searchd`, which brings its streamd up too) over gRPC:
#                  index with SHARDS shards and REPLICAS replicas, Bulk
#                  requests of BATCH, each write acknowledged once in
#                  streamd (acks=all); size = one copy's. TLS=0 (default):
#                  plaintext; TLS=1: the cluster's mutual TLS.
#   bleve          Bleve v2 (go.mod's version) in-process: scorch, scoring
#                  model bm25, analyzer "en" on title and description,
#                  keyword fields for the facets, one Batch per BATCH.
#   sphinx         Sphinx 2.2 (Debian's sphinxsearch) searchd with a
#                  realtime index (rt_mem_limit 256M, dict keywords,
#                  morphology stem_en, min_prefix_len 3 for prefix queries,
#                  binlog on with its default flush: every transaction
#                  written, fsynced each second), SphinxQL over the MySQL
#                  protocol; one multi-row REPLACE per BATCH; ranker=bm25;
#                  FACET section; total_found from SHOW META (one more round
#                  trip per query). No fuzzy queries (Sphinx 2.2 has none).
#   xapian         Xapian 1.4 (xapian-tools, python3-xapian): a python3
#                  helper indexes (TermGenerator, English stemmer, one
#                  writer) and, per client, queries through xapian-tcpsrv
#                  (QueryParser, BM25Weight, ValueCountMatchSpy on section
#                  for the facet); latencies include a pipe round trip to
#                  the helper. No fuzzy queries (Xapian 1.4 has none).
#   all            loopback and one disk on this machine; the client runs on
#                  the same cores as the engine. Ratios are cairn/anchor:
#                  docs/s above 1 is better, p99 and size below 1.
#
# Packages (sphinxsearch, xapian-tools, python3-xapian) are installed with
# apt-get when missing; the sphinxsearch package's own service is not used
# (ours runs from this script's config on SPHINX_PORT).
#
# Environment: CAIRN (binary, default bin/cairn; `make build`), ROUNDS
# (default 3), DOCS (default 60000), BATCH (500), WRITERS (2), CLIENTS (8),
# WARMUP (3s), DURATION (30s), KINDS (term,phrase,fuzzy,prefix,facet), SEED
# (1), SIDES (default "bleve cairn cairn-cluster sphinx xapian"), SHARDS (3)
# and REPLICAS (1) of the cluster's index, TLS (0|1, default 0),
# TRANSLATIONS (0|1, default 1), BASE_PORT (cairn cluster, default 18900),
# SPHINX_PORT (default 24600), XAPIAN_PORT (default 24601), HEALTH_TIMEOUT
# (seconds, default 180). On a 2-core machine shared with other work the
# numbers are noisy; small runs (DOCS=2000 DURATION=3s ROUNDS=1) check that
# every path works.
#
# Every process the script starts is stopped on exit.
set -euo pipefail

cd "$(dirname "$0")/.."
SCRIPT=search-compare.sh
CAIRN=${CAIRN:-bin/cairn}
ROUNDS=${ROUNDS:-3}
DOCS=${DOCS:-60000}
BATCH=${BATCH:-500}
WRITERS=${WRITERS:-2}
CLIENTS=${CLIENTS:-8}
WARMUP=${WARMUP:-3s}
DURATION=${DURATION:-30s}
KINDS=${KINDS:-term,phrase,fuzzy,prefix,facet}
SEED=${SEED:-1}
SIDES=${SIDES:-bleve cairn cairn-cluster sphinx xapian}
SHARDS=${SHARDS:-3}
REPLICAS=${REPLICAS:-1}
TLS=${TLS:-0}
TRANSLATIONS=${TRANSLATIONS:-1}
BASE_PORT=${BASE_PORT:-18900}
SPHINX_PORT=${SPHINX_PORT:-24600}
XAPIAN_PORT=${XAPIAN_PORT:-24601}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-180}
# shellcheck source=bench/lib.sh
. bench/lib.sh

[[ -x $CAIRN ]] || die "$CAIRN not found; run 'make build' first"
CAIRN=$(cd "$(dirname "$CAIRN")" && pwd)/$(basename "$CAIRN")
[[ $TLS == 0 || $TLS == 1 ]] || die "TLS=$TLS: want 0 or 1"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cairn-search-compare.XXXXXX")
sphinx_pid=""
cairn_up=0
cleanup() {
	[[ -n $sphinx_pid ]] && stop_pids "$sphinx_pid"
	if [[ $cairn_up -eq 1 ]]; then
		"$CAIRN" cluster down --cluster-dir "$tmp/cairn" >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

has_side() { [[ " $SIDES " == *" $1 "* ]]; }
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"

# --- packages and corpus --------------------------------------------------------
has_side sphinx && need_pkgs searchd=sphinxsearch >&2
has_side xapian && need_pkgs xapian-tcpsrv=xapian-tools >&2
if has_side xapian && ! /usr/bin/python3 -c 'import xapian' 2>/dev/null; then
	log "installing python3-xapian"
	$sudo apt-get update >&2
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y python3-xapian >&2
fi
if [[ $TRANSLATIONS == 1 ]]; then
	log "fetching apt's English translations (long descriptions)"
	$sudo apt-get update -o Acquire::Languages=en >&2 || log "apt-get update failed: descriptions may be titles only"
fi
log "writing the corpus"
"$CAIRN" bench search --save-corpus "$tmp/corpus.jsonl"
log "corpus: $(wc -l <"$tmp/corpus.jsonl") packages, $(grep -c '\\n\\n' "$tmp/corpus.jsonl" || true) with a long description"

if has_side bleve || has_side sphinx || has_side xapian; then
	log "building anchorbench"
	go build -o "$tmp/anchorbench" ./bench/searchbench/anchorbench
fi

# --- sphinx ---------------------------------------------------------------------
start_sphinx() {
	local d=$tmp/sphinx
	mkdir -p "$d/data" "$d/binlog"
	cat >"$d/sphinx.conf" <<CONF
index packages
{
	type = rt
	path = $d/data/packages
	rt_field = title
	rt_field = description
	rt_attr_string = package
	rt_attr_string = section
	rt_attr_string = priority
	rt_attr_string = maintainer
	rt_attr_string = version
	rt_attr_bigint = installed_size
	rt_mem_limit = 256M
	dict = keywords
	morphology = stem_en
	min_prefix_len = 3
}
searchd
{
	listen = 127.0.0.1:$SPHINX_PORT:mysql41
	log = $d/searchd.log
	pid_file = $d/searchd.pid
	binlog_path = $d/binlog
	workers = threads
	max_packet_size = 64M
}
CONF
	searchd --config "$d/sphinx.conf" --nodetach >"$d/stdout.log" 2>&1 &
	sphinx_pid=$!
	wait_until "sphinx searchd" bash -c "exec 3<>/dev/tcp/127.0.0.1/$SPHINX_PORT"
	log "sphinx: $(searchd --help 2>/dev/null | head -1) on 127.0.0.1:$SPHINX_PORT"
}

# --- cairn cluster ----------------------------------------------------------------
start_cluster() {
	local tls=(--insecure)
	[[ $TLS == 1 ]] && tls=()
	log "searchd: starting a 3-node cluster (base port $BASE_PORT, TLS=$TLS)"
	cairn_up=1
	"$CAIRN" cluster up --detach --no-fault-proxy "${tls[@]}" --services searchd --base-port "$BASE_PORT" \
		--cluster-dir "$tmp/cairn" >&2 || die "the searchd cluster did not start"
}

has_side sphinx && start_sphinx
has_side cairn-cluster && start_cluster

common=(--docs "$DOCS" --batch "$BATCH" --writers "$WRITERS" --clients "$CLIENTS" --warmup "$WARMUP"
	--duration "$DURATION" --seed "$SEED" --corpus "$tmp/corpus.jsonl" --output json)

# run_one <side> <round>: writes $tmp/<side>.r<round>.all.json (one line).
run_one() {
	local side=$1 round=$2 out=$tmp/$1.r$2.all.json
	log "round $round/$ROUNDS: $side"
	case $side in
	cairn) "$CAIRN" bench search --in-process --kinds "$KINDS" "${common[@]}" >"$out" ;;
	cairn-cluster) "$CAIRN" bench search --cluster-dir "$tmp/cairn" --shards "$SHARDS" --replicas "$REPLICAS" \
		--kinds "$KINDS" "${common[@]}" >"$out" ;;
	bleve) "$tmp/anchorbench" -engine bleve -kinds "$KINDS" "${common[@]}" >"$out" ;;
	sphinx) "$tmp/anchorbench" -engine sphinx -sphinx-addr "127.0.0.1:$SPHINX_PORT" -sphinx-index packages \
		-sphinx-data "$tmp/sphinx/data" -kinds "$KINDS" "${common[@]}" >"$out" ;;
	xapian) "$tmp/anchorbench" -engine xapian -xapian-tcpsrv "$(command -v xapian-tcpsrv)" -xapian-port "$XAPIAN_PORT" \
		-kinds "$KINDS" "${common[@]}" >"$out" ;;
	*) die "unknown side $side" ;;
	esac || {
		log "$side failed in round $round"
		rm -f "$out"
	}
	[[ -f $out ]] && cat "$out" >&2
	return 0
}

for ((round = 1; round <= ROUNDS; round++)); do
	for side in $SIDES; do
		run_one "$side" "$round"
	done
done

# --- report -----------------------------------------------------------------------
vals() { round_values "$tmp" "$1" "$ROUNDS" all "$2"; }
fmt_num() { awk -v x="$1" -v p="${2:-1}" 'BEGIN { if (x == "") print "-"; else printf "%.*f\n", p, x }'; }
echo
f='%-14s %10s %9s %9s %9s %10s\n'
printf "$f" engine "docs/s" QPS "p50 ms" "p99 ms" "size MiB"
for side in $SIDES; do
	printf "$f" "$side" "$(fmt_num "$(vals "$side" docs_s | median)" 0)" "$(fmt_num "$(vals "$side" qps | median)" 0)" \
		"$(fmt_num "$(vals "$side" p50_ms | median)" 2)" "$(fmt_num "$(vals "$side" p99_ms | median)" 2)" \
		"$(fmt_num "$(awk -v b="$(vals "$side" size_bytes | median)" 'BEGIN { if (b != "") print b / 1048576 }')" 1)"
done
echo
echo "p99 per query kind (ms, median of the rounds; - where the engine has no such query):"
printf '%-14s' engine
for k in ${KINDS//,/ }; do printf ' %9s' "$k"; done
echo
for side in $SIDES; do
	printf '%-14s' "$side"
	for k in ${KINDS//,/ }; do printf ' %9s' "$(fmt_num "$(vals "$side" "${k}_p99_ms" | median)" 2)"; done
	echo
done
echo
echo "mean matches per query (sanity: engines should roughly agree):"
for side in $SIDES; do
	printf '%-14s' "$side"
	for k in ${KINDS//,/ }; do printf ' %9s' "$(fmt_num "$(vals "$side" "${k}_mean_total" | median)" 0)"; done
	echo
done
# ratio_line <cairn side> <anchor> <field>: "median (range)" of the per-round ratios.
ratio_line() {
	local a b
	a=$(vals "$1" "$3")
	b=$(vals "$2" "$3")
	printf '%s (%s)' "$(paste -d' ' <(echo "$a") <(echo "$b") | awk '$1 != "" && $2 > 0 { print $1 / $2 }' | median |
		awk '{ printf "%.2fx", $1 } END { if (NR == 0) printf "-" }')" "$(ratio_range "$a" "$b")"
}
echo
f='%-26s %20s %20s %20s %20s\n'
printf "$f" "ratio (median, range)" "docs/s" "p99" "QPS" "size"
for c in cairn cairn-cluster; do
	has_side "$c" || continue
	for a in bleve sphinx xapian; do
		has_side "$a" || continue
		printf "$f" "$c/$a" "$(ratio_line "$c" "$a" docs_s)" "$(ratio_line "$c" "$a" p99_ms)" \
			"$(ratio_line "$c" "$a" qps)" "$(ratio_line "$c" "$a" size_bytes)"
	done
done
echo
echo "(medians of $ROUNDS interleaved rounds; $DOCS documents, batches of $BATCH by $WRITERS writers; $CLIENTS clients"
echo " for $DURATION after $WARMUP of warm-up; kinds $KINDS. p99 and QPS over the kinds each engine runs: Sphinx"
echo " and Xapian run no fuzzy queries, so compare them per kind. Other processes share this machine: noisy.)"
