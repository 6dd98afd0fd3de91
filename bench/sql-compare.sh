#!/usr/bin/env bash
# sql-compare.sh — pgbench against PostgreSQL 15 (one node, fsync=on,
# synchronous_commit=on) and against cairn's SQL endpoint (a 3-node raftkv
# cluster, through the PostgreSQL wire protocol), both kept up for the whole
# run, in ROUNDS interleaved rounds (pg, cairn, pg, cairn, ... for each
# workload), reporting per workload each side's median tps and the median of
# the per-round cairn/pg tps ratios with their min-max, plus a line per round.
#
# Workloads: pgbench's built-in scripts, select-only (-S: one SELECT by
# primary key) and tpcb (the default TPC-B-like script: BEGIN; three
# UPDATEs by primary key, a SELECT and an INSERT into pgbench_history; END),
# each at every CLIENTS count. pgbench runs with -n (no VACUUM, which cairn
# does not have) and --max-tries (serialization failures, SQLSTATE 40001,
# are retried; cairn is SERIALIZABLE by default, PostgreSQL READ COMMITTED
# unless PG_ISOLATION says otherwise): tps counts committed transactions,
# and the retried and failed counts are reported.
#
# Tables: `pgbench -i` would create them WITH (fillfactor=100) and add the
# primary keys afterwards with ALTER TABLE … ADD PRIMARY KEY, then VACUUM —
# none of which cairn's SQL subset has. So this script creates the four
# tables itself, with PRIMARY KEY inline, on both sides, and then loads them
# with `pgbench -i -I g` (client-side generation: TRUNCATE of the four
# tables in one statement, INSERTs into pgbench_branches and
# pgbench_tellers, and COPY pgbench_accounts FROM STDIN WITH (FREEZE ON),
# in one transaction). If that fails on cairn (INIT=auto), the same rows
# are loaded with plain COPY … FROM STDIN in chunks of COPY_CHUNK rows
# instead (INIT=copy forces that on both sides). PostgreSQL then gets
# VACUUM ANALYZE, as `pgbench -i` would give it.
#
# PostgreSQL comes from Debian's packages, installed with apt-get when
# missing, and runs from a temp dir (as the postgres user when we are root).
# Everything started here is stopped on exit.
#
# Environment: CAIRN (default bin/cairn; `make build`), ROUNDS (default 3),
# DURATION (seconds per pgbench run, default 10), CLIENTS (default "1 32"),
# WORKLOADS (default "select-only tpcb"), SCALE (pgbench scale factor,
# default 1: 100000 accounts), PROTOCOL (pgbench -M: simple, extended or
# prepared; default simple), MAX_TRIES (pgbench --max-tries, default 0:
# unlimited within DURATION), PG_ISOLATION (default_transaction_isolation of
# PostgreSQL's database, e.g. serializable; default: PostgreSQL's own),
# INIT (auto, pgbench or copy; default auto), COPY_CHUNK (default 10000),
# TARGETS (default "pg cairn"; "pg" measures PostgreSQL alone), TLS
# (default 0: both plaintext, cairn with --insecure; 1: PostgreSQL with
# ssl=on and a certificate made here by openssl, cairn with its mutual
# TLS), PG_PORT (default 25434), BASE_PORT (cairn, default 18600),
# LOG_STATEMENTS=1 (PostgreSQL logs every statement; the log is kept in
# the temp dir, so set KEEP=1 too), HEALTH_TIMEOUT (seconds, default 60),
# KEEP=1 (keep the temp dir).
set -euo pipefail

cd "$(dirname "$0")/.."
SCRIPT=sql-compare.sh
CAIRN=${CAIRN:-bin/cairn}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CLIENTS=${CLIENTS:-1 32}
WORKLOADS=${WORKLOADS:-select-only tpcb}
SCALE=${SCALE:-1}
PROTOCOL=${PROTOCOL:-simple}
MAX_TRIES=${MAX_TRIES:-0}
PG_ISOLATION=${PG_ISOLATION:-}
INIT=${INIT:-auto}
COPY_CHUNK=${COPY_CHUNK:-10000}
TARGETS=${TARGETS:-pg cairn}
TLS=${TLS:-0}
PG_PORT=${PG_PORT:-25434}
BASE_PORT=${BASE_PORT:-18600}
LOG_STATEMENTS=${LOG_STATEMENTS:-0}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-60}
# shellcheck source=bench/lib.sh
. bench/lib.sh

DURATION=${DURATION%s}
[[ $DURATION =~ ^[0-9]+$ ]] || die "DURATION=$DURATION: want whole seconds"
case $INIT in auto | pgbench | copy) ;; *) die "INIT=$INIT: want auto, pgbench or copy" ;; esac
targets=()
for t in $TARGETS; do
	case $t in pg | cairn) targets+=("$t") ;; *) die "TARGETS: unknown target $t (want pg and/or cairn)" ;; esac
done
((${#targets[@]} > 0)) || die "TARGETS is empty"
with() { [[ " ${targets[*]} " == *" $1 "* ]]; }
if with cairn; then
	[[ -x $CAIRN ]] || die "$CAIRN not found; run 'make build' first"
	"$CAIRN" sql url --help >/dev/null 2>&1 || die "$CAIRN has no 'sql url'; run 'make build'"
fi
need_pg
pgbench=$pg_bin/pgbench
psql=$pg_bin/psql

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cairn-sql-compare.XXXXXX")
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

# --- servers (both up for the whole run) -----------------------------------------
declare -A url
if with pg; then
	settings=()
	ssl=sslmode=disable
	if [[ $TLS == 1 ]]; then
		make_etcd_pki "$tmp/pki"
		mkdir -p "$tmp/pg"
		cp "$tmp/pki/etcd.pem" "$tmp/pki/etcd-key.pem" "$tmp/pg/"
		chmod 600 "$tmp/pg/etcd-key.pem"
		[[ $(id -u) -ne 0 ]] || chown postgres: "$tmp/pg/etcd.pem" "$tmp/pg/etcd-key.pem"
		settings+=(ssl=on "ssl_cert_file=$tmp/pg/etcd.pem" "ssl_key_file=$tmp/pg/etcd-key.pem")
		ssl="sslmode=verify-full&sslrootcert=$tmp/pki/ca.pem"
	fi
	[[ $LOG_STATEMENTS == 1 ]] && settings+=(log_statement=all)
	start_pg "$tmp/pg" "$PG_PORT" "${settings[@]}"
	"$psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qAt -v ON_ERROR_STOP=1 -c 'CREATE DATABASE pgbench'
	if [[ -n $PG_ISOLATION ]]; then
		"$psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qAt -v ON_ERROR_STOP=1 \
			-c "ALTER DATABASE pgbench SET default_transaction_isolation = '$PG_ISOLATION'"
	fi
	url[pg]="postgres://postgres@127.0.0.1:$PG_PORT/pgbench?$ssl"
fi
if with cairn; then
	insecure=()
	[[ $TLS == 1 ]] || insecure=(--insecure)
	log "cairn: starting a 3-node raftkv cluster (base port $BASE_PORT, $([[ $TLS == 1 ]] && echo "mutual TLS" || echo plaintext))"
	cairn_up=1
	"$CAIRN" cluster up --detach --no-fault-proxy --services raftkv --base-port "$BASE_PORT" \
		--cluster-dir "$tmp/cairn" "${insecure[@]}" >&2 || die "the cairn cluster did not start"
	url[cairn]=$(CAIRN_CLUSTER_DIR=$tmp/cairn "$CAIRN" sql url) || die "cairn sql url failed"
	[[ -n ${url[cairn]} ]] || die "cairn sql url printed nothing"
	wait_until "cairn's SQL endpoint" "$psql" "${url[cairn]}" -qAtc 'SELECT 1'
fi

# --- tables and data -------------------------------------------------------------
# sql <target> <psql args...>: psql against the target, stopping at the first error.
sql() {
	local t=$1
	shift
	"$psql" "${url[$t]}" -qAt -v ON_ERROR_STOP=1 "$@"
}

# The four pgbench tables as `pgbench -i` makes them, with the primary keys
# inline (pgbench_history has none, as in pgbench).
create_tables() {
	sql "$1" 2> >(grep -v '^NOTICE:' >&2) <<'SQL'
DROP TABLE IF EXISTS pgbench_history;
DROP TABLE IF EXISTS pgbench_tellers;
DROP TABLE IF EXISTS pgbench_accounts;
DROP TABLE IF EXISTS pgbench_branches;
CREATE TABLE pgbench_branches (bid INTEGER NOT NULL PRIMARY KEY, bbalance INTEGER, filler CHAR(88));
CREATE TABLE pgbench_tellers (tid INTEGER NOT NULL PRIMARY KEY, bid INTEGER, tbalance INTEGER, filler CHAR(84));
CREATE TABLE pgbench_accounts (aid INTEGER NOT NULL PRIMARY KEY, bid INTEGER, abalance INTEGER, filler CHAR(84));
CREATE TABLE pgbench_history (tid INTEGER, bid INTEGER, aid INTEGER, delta INTEGER, mtime TIMESTAMP, filler CHAR(22));
SQL
}

# copy_load <target>: the rows `pgbench -i -I g` generates (SCALE branches,
# 10 tellers and 100000 accounts per branch, balances 0, accounts' filler
# empty), loaded with COPY … FROM STDIN, COPY_CHUNK accounts per COPY.
copy_load() {
	local t=$1 n=$((SCALE * 100000)) lo
	# One table per TRUNCATE: what a failed `pgbench -i -I g` left, if anything.
	sql "$t" -c 'TRUNCATE pgbench_history' -c 'TRUNCATE pgbench_tellers' -c 'TRUNCATE pgbench_accounts' \
		-c 'TRUNCATE pgbench_branches'
	awk -v s="$SCALE" 'BEGIN { for (b = 1; b <= s; b++) printf "%d\t0\t\\N\n", b }' |
		sql "$t" -c 'COPY pgbench_branches (bid, bbalance, filler) FROM STDIN'
	awk -v s="$SCALE" 'BEGIN { for (i = 1; i <= s * 10; i++) printf "%d\t%d\t0\t\\N\n", i, int((i - 1) / 10) + 1 }' |
		sql "$t" -c 'COPY pgbench_tellers (tid, bid, tbalance, filler) FROM STDIN'
	for ((lo = 1; lo <= n; lo += COPY_CHUNK)); do
		awk -v lo="$lo" -v hi="$((lo + COPY_CHUNK - 1 < n ? lo + COPY_CHUNK - 1 : n))" \
			'BEGIN { for (i = lo; i <= hi; i++) printf "%d\t%d\t0\t\n", i, int((i - 1) / 100000) + 1 }' |
			sql "$t" -c 'COPY pgbench_accounts (aid, bid, abalance, filler) FROM STDIN'
	done
}

# init <target>: create and load the tables (see the header), then check
# the counts.
init() {
	local t=$1 start=$SECONDS how=$INIT counts
	create_tables "$t"
	if [[ $how != copy ]]; then
		if "$pgbench" -i -I g -s "$SCALE" "${url[$t]}" >"$tmp/init-$t.log" 2>&1; then
			how=pgbench
		elif [[ $how == auto ]]; then
			log "$t: pgbench -i -I g failed ($(grep -m1 -i error "$tmp/init-$t.log" || tail -1 "$tmp/init-$t.log")); loading with COPY instead"
			how=copy
		else
			die "$t: pgbench -i -I g failed: $(tail -3 "$tmp/init-$t.log")"
		fi
	fi
	[[ $how == pgbench ]] || copy_load "$t"
	[[ $t != pg ]] || sql pg -c 'VACUUM ANALYZE'
	counts=$(sql "$t" -F' ' -c 'SELECT (SELECT count(*) FROM pgbench_branches), (SELECT count(*) FROM pgbench_tellers), (SELECT count(*) FROM pgbench_accounts)')
	[[ $counts == "$SCALE $((SCALE * 10)) $((SCALE * 100000))" ]] || die "$t: loaded $counts rows (branches tellers accounts), want $SCALE $((SCALE * 10)) $((SCALE * 100000))"
	log "$t: pgbench tables loaded at scale $SCALE by $how in $((SECONDS - start))s"
}
for t in "${targets[@]}"; do init "$t"; done

# --- interleaved rounds ----------------------------------------------------------
# run_one <target> <round> <workload> <clients>: one pgbench run; writes
# $tmp/<target>.r<round>.<workload>@<clients>.json with tps, lat_ms,
# processed, failed, retried, aborted.
run_one() {
	local t=$1 k=$2 w=$3 c=$4 name=$3@$4 flags=() out rc=0 j load1
	[[ $w == select-only ]] && flags+=(-S)
	j=$((c < $(nproc) ? c : $(nproc)))
	load1=$(cut -d' ' -f1 /proc/loadavg)
	out=$("$pgbench" -n -M "$PROTOCOL" --max-tries "$MAX_TRIES" -c "$c" -j "$j" -T "$DURATION" "${flags[@]}" "${url[$t]}" 2>&1) || rc=$?
	echo "$out" >"$tmp/$t.r$k.$name.log"
	echo "$out" | awk -v rc="$rc" -v load1="$load1" '
		/^tps = / { tps = $3 }
		/^latency average = / { lat = $4 }
		/^number of transactions actually processed: / { split($6, p, "/"); processed = p[1] }
		/^number of failed transactions: / { failed = $5 }
		/^number of transactions retried: / { retried = $5 }
		/aborted/ { aborted = 1 }
		END {
			if (tps == "") exit 1
			printf "{\"tps\":%s,\"lat_ms\":%s,\"processed\":%d,\"failed\":%d,\"retried\":%d,\"aborted\":%d,\"rc\":%d,\"load1\":%s}\n",
				tps, lat == "" ? "null" : lat, processed, failed, retried, aborted + 0, rc, load1
		}' >"$tmp/$t.r$k.$name.json" || {
		rm -f "$tmp/$t.r$k.$name.json"
		log "round $k/$ROUNDS $name $t: pgbench failed (exit $rc): $(echo "$out" | grep -m2 -iE 'error|fatal' | tr '\n' ' ')"
		return 0
	}
	log "round $k/$ROUNDS $name $t: $(cat "$tmp/$t.r$k.$name.json")"
}

runs=()
for w in $WORKLOADS; do
	case $w in select-only | tpcb) ;; *) die "WORKLOADS: unknown workload $w (want select-only, tpcb)" ;; esac
	for c in $CLIENTS; do runs+=("$w@$c"); done
done
for r in "${runs[@]}"; do
	for ((k = 1; k <= ROUNDS; k++)); do
		for t in "${targets[@]}"; do run_one "$t" "$k" "${r%@*}" "${r#*@}"; done
	done
done

# --- report ----------------------------------------------------------------------
vals() { round_values "$tmp" "$1" "$ROUNDS" "$2" "$3"; }
sum() { awk '{ s += $1 } END { print s + 0 }'; }
pg_version=$("$psql" --version | awk '{ print $3 }')
echo
echo "sql-compare: $ROUNDS interleaved rounds of ${DURATION}s; $(nproc) CPUs; pgbench $pg_version -n -M $PROTOCOL --max-tries $MAX_TRIES, scale $SCALE"
with pg && echo "  pg:    PostgreSQL $(sql pg -c 'SHOW server_version' | cut -d' ' -f1), one node, fsync=$(sql pg -c 'SHOW fsync'), synchronous_commit=$(sql pg -c 'SHOW synchronous_commit'), isolation $(sql pg -c 'SHOW default_transaction_isolation'), TLS=$TLS"
with cairn && echo "  cairn: 3-node raftkv cluster, $(sql cairn -c 'SHOW transaction_isolation' 2>/dev/null || echo '?') isolation, TLS=$TLS"
loads=$(cat "$tmp"/*.json 2>/dev/null | sed -n 's/.*"load1":\([0-9.]*\).*/\1/p' | sort -g)
[[ -z $loads ]] || echo "  1-minute load average when each run started: $(echo "$loads" | head -1)-$(echo "$loads" | tail -1), median $(echo "$loads" | median)"
f='%-16s %11s %11s %20s %10s %10s %9s %8s\n'
echo
printf "$f" workload "cairn tps" "pg tps" "cairn/pg (min-max)" "cairn ms" "pg ms" "retried" "failed"
for r in "${runs[@]}"; do
	ct=$(vals cairn "$r" tps)
	pt=$(vals pg "$r" tps)
	printf "$f" "$r" "$(fmt "$(echo "$ct" | median)" %.0f)" "$(fmt "$(echo "$pt" | median)" %.0f)" \
		"$(ratio_stats "$ct" "$pt")" "$(fmt "$(vals cairn "$r" lat_ms | median)" %.3f)" \
		"$(fmt "$(vals pg "$r" lat_ms | median)" %.3f)" \
		"$(vals cairn "$r" retried | sum)/$(vals pg "$r" retried | sum)" "$(vals cairn "$r" failed | sum)/$(vals pg "$r" failed | sum)"
done
echo
echo "per round (tps):"
for r in "${runs[@]}"; do
	for ((k = 1; k <= ROUNDS; k++)); do
		p=$(field "$tmp/pg.r$k.$r.json" tps)
		c=$(field "$tmp/cairn.r$k.$r.json" tps)
		ratio=$(awk -v c="$c" -v p="$p" 'BEGIN { if (c != "" && p != "" && p > 0) printf "%.3fx", c / p; else printf "-" }')
		printf '  %-16s r%d  pg %10s  cairn %10s  cairn/pg %s\n' "$r" "$k" "$(fmt "$p" %.0f)" "$(fmt "$c" %.0f)" "$ratio"
	done
done
echo "(medians of $ROUNDS interleaved rounds; cairn/pg = median of the per-round ratios (min-max); ms = pgbench's"
echo " latency average; retried and failed: transactions over all rounds, cairn/pg; a missing value is a failed run,"
echo " see the log above)"
