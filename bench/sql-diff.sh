#!/usr/bin/env bash
# sql-diff.sh — the differential SQL test: run bench/sqldiff (see its
# doc.go) against a throwaway PostgreSQL 15 and a 3-node cairn raftkv
# cluster's PostgreSQL endpoint, and print every difference in results or
# SQLSTATEs with a summary. Exit status: sqldiff's (0 all agreed, 1 any
# difference, 2 the run failed).
#
# PostgreSQL comes from Debian's packages (postgresql, postgresql-contrib,
# postgresql-client), installed with apt-get when missing. It runs from a
# temp dir on its own port with fsync on, the C collation (bytewise text
# order, as cairn's) and UTF8; as root, the server runs as the postgres
# user. cairn's SQL URL comes from `cairn sql url`. Everything started here
# is stopped on exit.
#
# Environment: CAIRN (binary, default bin/cairn; `make build`), SEED
# (default: sqldiff picks one and logs it), RANDOM_QUERIES (default 300),
# ONLY_CORPUS=1 (no random queries), PROTOCOL (simple, extended or both:
# one pass each with the same seed; default extended), SQLDIFF_FLAGS (more sqldiff flags, e.g. "-v --show-rows 20"),
# PG_PORT (default 25433), BASE_PORT (cairn, default 18600), TLS (default
# 1: cairn with its mutual TLS, the URL carries the certificates; 0:
# --insecure), TARGETS ("pg cairn", default; "pg" runs sqldiff against two
# databases of the PostgreSQL instance, a self-test that must agree),
# HEALTH_TIMEOUT (seconds, default 60), KEEP=1 (keep the temp dir).
set -euo pipefail

cd "$(dirname "$0")/.."
SCRIPT=sql-diff.sh
CAIRN=${CAIRN:-bin/cairn}
SEED=${SEED:-0}
RANDOM_QUERIES=${RANDOM_QUERIES:-300}
ONLY_CORPUS=${ONLY_CORPUS:-0}
PROTOCOL=${PROTOCOL:-extended}
SQLDIFF_FLAGS=${SQLDIFF_FLAGS:-}
PG_PORT=${PG_PORT:-25433}
BASE_PORT=${BASE_PORT:-18600}
TLS=${TLS:-1}
TARGETS=${TARGETS:-pg cairn}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-60}
# shellcheck source=bench/lib.sh
. bench/lib.sh

with_cairn=0
[[ " $TARGETS " == *" cairn "* ]] && with_cairn=1
if ((with_cairn)); then
	[[ -x $CAIRN ]] || die "$CAIRN not found; run 'make build' first"
	"$CAIRN" sql url --help >/dev/null 2>&1 || die "$CAIRN has no 'sql url'; run 'make build'"
fi
need_pg

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cairn-sql-diff.XXXXXX")
cairn_up=0
cleanup() {
	stop_pg
	if ((cairn_up)); then
		"$CAIRN" cluster down --cluster-dir "$tmp/cairn" >/dev/null 2>&1 || true
	fi
	[[ ${KEEP:-0} == 1 ]] && log "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_pg "$tmp/pg" "$PG_PORT"
psql_pg() { "$pg_bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
psql_pg -c 'CREATE DATABASE sqldiff'
pg_url="postgres://postgres@127.0.0.1:$PG_PORT/sqldiff?sslmode=disable"

if ((with_cairn)); then
	insecure=()
	[[ $TLS == 1 ]] || insecure=(--insecure)
	log "cairn: starting a 3-node raftkv cluster (base port $BASE_PORT${insecure:+, plaintext})"
	cairn_up=1
	"$CAIRN" cluster up --detach --no-fault-proxy --services raftkv --base-port "$BASE_PORT" \
		--cluster-dir "$tmp/cairn" "${insecure[@]}" >&2 || die "the cairn cluster did not start"
	cairn_url=$(CAIRN_CLUSTER_DIR=$tmp/cairn "$CAIRN" sql url) || die "cairn sql url failed"
	[[ -n $cairn_url ]] || die "cairn sql url printed nothing"
	wait_until "cairn's SQL endpoint" "$pg_bin/psql" "$cairn_url" -qAtc 'SELECT 1'
else
	log "TARGETS=$TARGETS: no cairn; comparing PostgreSQL with itself (database sqldiff_b)"
	psql_pg -c 'CREATE DATABASE sqldiff_b'
	cairn_url="postgres://postgres@127.0.0.1:$PG_PORT/sqldiff_b?sslmode=disable"
fi

go build -o "$tmp/sqldiff" ./bench/sqldiff
flags=(--pg "$pg_url" --cairn "$cairn_url" --random "$RANDOM_QUERIES")
[[ $ONLY_CORPUS == 1 ]] && flags+=(--only-corpus)
protocols=$PROTOCOL
if [[ $PROTOCOL == both ]]; then
	protocols="extended simple"
	# Both passes on the same data and queries.
	[[ $SEED != 0 ]] || SEED=$((RANDOM * 32768 + RANDOM + 1))
fi
[[ $SEED == 0 ]] || flags+=(--seed "$SEED")
status=0
for p in $protocols; do
	log "sqldiff, $p protocol"
	# shellcheck disable=SC2086 # SQLDIFF_FLAGS is a word list on purpose
	"$tmp/sqldiff" "${flags[@]}" --protocol "$p" $SQLDIFF_FLAGS || { rc=$?; ((rc > status)) && status=$rc; }
done
exit "$status"
