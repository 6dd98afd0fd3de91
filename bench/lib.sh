# lib.sh — helpers shared by the comparison scripts (etcd-compare.sh,
# lock-compare.sh, cache-compare.sh, redis-compat.sh). Source it after `set -euo pipefail` and
# after setting SCRIPT (the script's name, for messages), CAIRN and
# HEALTH_TIMEOUT.
#
# The scripts compare cairn with an anchor on a shared machine whose speed
# drifts from second to second, so they run interleaved rounds (anchor, cairn,
# anchor, cairn, ...) against servers kept up for the whole run, and report the
# median of each side and the range of the per-round ratios.

log() { echo "== $*" >&2; }
die() {
	echo "$SCRIPT: $*" >&2
	exit 1
}

# need_pkgs <command=package>...: apt-get install the packages whose command is
# not on PATH.
need_pkgs() {
	local pair pkgs=() sudo=""
	for pair in "$@"; do
		command -v "${pair%%=*}" >/dev/null 2>&1 || pkgs+=("${pair#*=}")
	done
	((${#pkgs[@]} > 0)) || return 0
	log "installing ${pkgs[*]}"
	[[ $(id -u) -eq 0 ]] || sudo="sudo"
	$sudo apt-get update
	# The packages may start system services on their default ports; ours use others.
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y "${pkgs[@]}"
}

# wait_until <what> <command...>: poll the command until it succeeds, or die
# after HEALTH_TIMEOUT seconds.
wait_until() {
	local what=$1 deadline=$((SECONDS + HEALTH_TIMEOUT))
	shift
	until "$@" >/dev/null 2>&1; do
		((SECONDS < deadline)) || die "$what not ready after ${HEALTH_TIMEOUT}s"
		sleep 0.2
	done
}

# field <file> <name>: a number from a one-line JSON result, or empty.
field() { [[ -f $1 ]] && sed -n "s/.*\"$2\":\([-0-9.eE+]*\).*/\1/p" "$1" | head -1 || true; }

# median: the median of the numbers on stdin (one per line; blank lines ignored).
median() { sort -g | awk '$1 != "" { v[n++] = $1 } END { if (n) printf "%s", (n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2) }'; }

# round_values <dir> <label> <rounds> <name> <field>: the field of
# <dir>/<label>.r<k>.<name>.json for k = 1..rounds, one per line.
round_values() {
	local k
	for ((k = 1; k <= $3; k++)); do field "$1/$2.r$k.$4.json" "$5"; echo; done
}

# ratio_range <a values> <b values>: "min-max" of the per-round ratios a/b,
# given two newline-separated lists of the same length ("-" when none).
ratio_range() {
	paste -d' ' <(echo "$1") <(echo "$2") |
		awk '$1 != "" && $2 != "" && $2 > 0 { r = $1 / $2; if (n++ == 0 || r < lo) lo = r; if (r > hi) hi = r } END { if (n) printf "%.2f-%.2f", lo, hi; else printf "-" }'
}

# ratio_stats <a values> <b values>: "median (min-max)" of the per-round
# ratios a/b ("-" when none).
ratio_stats() {
	local med
	med=$(paste -d' ' <(echo "$1") <(echo "$2") | awk '$1 != "" && $2 != "" && $2 > 0 { print $1 / $2 }' | median)
	[[ -n $med ]] || { echo "-"; return; }
	printf '%.2fx (%s)' "$med" "$(ratio_range "$1" "$2")"
}

# diffs <a values> <b values> [printf format]: the per-round differences
# a-b, one per line (default format %.3f).
diffs() { paste -d' ' <(echo "$1") <(echo "$2") | awk -v f="${3:-%.3f}" '$1 != "" && $2 != "" { printf f "\n", $1 - $2 }'; }

# fmt <value> <printf format>: value formatted, "-" when empty or null.
fmt() { awk -v v="$1" -v f="$2" 'BEGIN { if (v == "" || v == "null") printf "-"; else printf f, v }'; }

# etcd_pids holds the members started by start_etcd.
etcd_pids=()

# start_etcd <dir> <first client port> <token>: start a 3-member etcd cluster
# (clients on port..port+2, peers on port+10..port+12, fsync on as in a real
# deployment) with its data under dir, wait until every member is healthy, and
# set etcd_endpoints. With ETCD_TLS_DIR set (a directory made by make_etcd_pki),
# clients and peers use mutual TLS; etcd_tls_flags then holds the `cairn bench`
# flags to reach it.
etcd_endpoints=""
etcd_tls_flags=()
start_etcd() {
	local dir=$1 port=$2 token=$3 i client peer scheme=http cluster="" tls=() curl_tls=()
	if [[ -n ${ETCD_TLS_DIR:-} ]]; then
		scheme=https
		tls=(--cert-file "$ETCD_TLS_DIR/etcd.pem" --key-file "$ETCD_TLS_DIR/etcd-key.pem"
			--trusted-ca-file "$ETCD_TLS_DIR/ca.pem" --client-cert-auth
			--peer-cert-file "$ETCD_TLS_DIR/etcd.pem" --peer-key-file "$ETCD_TLS_DIR/etcd-key.pem"
			--peer-trusted-ca-file "$ETCD_TLS_DIR/ca.pem" --peer-client-cert-auth)
		curl_tls=(--cacert "$ETCD_TLS_DIR/ca.pem" --cert "$ETCD_TLS_DIR/etcd.pem" --key "$ETCD_TLS_DIR/etcd-key.pem")
		etcd_tls_flags=(--tls-ca "$ETCD_TLS_DIR/ca.pem" --tls-cert "$ETCD_TLS_DIR/etcd.pem" --tls-key "$ETCD_TLS_DIR/etcd-key.pem")
	fi
	for i in 1 2 3; do
		cluster+="${cluster:+,}etcd-$i=$scheme://127.0.0.1:$((port + 10 + i - 1))"
	done
	etcd_endpoints=""
	for i in 1 2 3; do
		client=$((port + i - 1))
		peer=$((port + 10 + i - 1))
		etcd_endpoints+="${etcd_endpoints:+,}127.0.0.1:$client"
		mkdir -p "$dir/etcd-$i"
		etcd --name "etcd-$i" --data-dir "$dir/etcd-$i/data" \
			--listen-client-urls "$scheme://127.0.0.1:$client" --advertise-client-urls "$scheme://127.0.0.1:$client" \
			--listen-peer-urls "$scheme://127.0.0.1:$peer" --initial-advertise-peer-urls "$scheme://127.0.0.1:$peer" \
			--initial-cluster "$cluster" --initial-cluster-state new \
			--initial-cluster-token "$token" "${tls[@]}" >"$dir/etcd-$i/etcd.log" 2>&1 &
		etcd_pids+=("$!")
	done
	for i in 1 2 3; do
		wait_until "etcd member $i" sh -c "curl -fsS --max-time 2 ${curl_tls[*]} $scheme://127.0.0.1:$((port + i - 1))/health | grep -q '\"health\":\"true\"'"
	done
	log "etcd: healthy ($scheme, $etcd_endpoints)"
}

# make_etcd_pki <dir>: a CA and one certificate (server and client auth on
# 127.0.0.1) for every etcd member and the bench client, made with openssl, in
# dir: ca.pem, etcd.pem, etcd-key.pem.
make_etcd_pki() {
	local dir=$1
	command -v openssl >/dev/null 2>&1 || die "TLS=1 needs openssl (or run with TLS=0)"
	mkdir -p "$dir"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=etcd-bench-ca \
		-keyout "$dir/ca-key.pem" -out "$dir/ca.pem" 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=etcd \
		-keyout "$dir/etcd-key.pem" -out "$dir/etcd.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' >"$dir/ext.cnf"
	openssl x509 -req -in "$dir/etcd.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" -CAcreateserial \
		-days 2 -extfile "$dir/ext.cnf" -out "$dir/etcd.pem" 2>/dev/null
}

# tls_setup <tmp dir>: reads TLS (default 1). TLS=1: etcd gets certificates
# from make_etcd_pki (ETCD_TLS_DIR) and cairn runs its default mutual TLS; TLS=0:
# both run plaintext (cairn_tls=(--insecure)). Both sides pay for TLS, or
# neither, so the ratio stays fair.
cairn_tls=()
tls_setup() {
	TLS=${TLS:-1}
	if [[ $TLS == 1 ]]; then
		make_etcd_pki "$1/pki"
		ETCD_TLS_DIR=$1/pki
		cairn_tls=()
	else
		ETCD_TLS_DIR=""
		cairn_tls=(--insecure)
	fi
	log "TLS=$TLS: etcd and cairn $([[ $TLS == 1 ]] && echo "with mutual TLS" || echo "in plaintext")"
}

# stop_pids <pid>...: SIGTERM the processes and wait for them.
stop_pids() {
	local pid
	for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "$@"; do wait "$pid" 2>/dev/null || true; done
}

# --- PostgreSQL (sql-diff.sh, sql-compare.sh) ---------------------------------

# need_pg: install Debian's PostgreSQL (server, contrib for pgbench, client)
# with apt-get when its binaries are missing, and set pg_bin to the server's
# bin directory (PG_BIN overrides; PostgreSQL 15 preferred).
pg_bin=""
need_pg() {
	local sudo=""
	pg_bin=${PG_BIN:-}
	if [[ -z $pg_bin ]]; then
		if [[ ! -x /usr/lib/postgresql/15/bin/initdb ]] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
			log "installing postgresql postgresql-contrib postgresql-client"
			[[ $(id -u) -eq 0 ]] || sudo="sudo"
			$sudo apt-get update
			DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y postgresql postgresql-contrib postgresql-client
		fi
		pg_bin=/usr/lib/postgresql/15/bin
		[[ -x $pg_bin/initdb ]] || pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
	fi
	[[ -x $pg_bin/initdb && -x $pg_bin/pgbench && -x $pg_bin/psql ]] || die "no initdb/pgbench/psql in $pg_bin (set PG_BIN)"
}

# pg_as: run a PostgreSQL server command as the postgres user when we are
# root (the server refuses to run as root), else as ourselves.
pg_as() {
	if [[ $(id -u) -eq 0 ]]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# start_pg <dir> <port> [setting=value...]: initdb a throwaway cluster in
# dir (C collation with UTF-8 character classes — LC_COLLATE=C sorts by
# code point as cairn does, LC_CTYPE=C.UTF-8 makes upper/lower Unicode-aware
# as cairn's are —, UTF8, trust auth on 127.0.0.1, fsync and
# synchronous_commit on as in a real deployment), start it on port with the
# extra settings, wait until it accepts connections, and set pg_data.
pg_data=""
start_pg() {
	local dir=$1 port=$2 opts=() kv
	shift 2
	mkdir -p "$dir"
	if [[ $(id -u) -eq 0 ]]; then
		chown postgres: "$dir"
		chmod o+x "$(dirname "$dir")"
	fi
	pg_data=$dir/data
	pg_as "$pg_bin/initdb" -D "$pg_data" -U postgres --auth=trust -E UTF8 --lc-collate=C --lc-ctype=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
		die "initdb failed: $(cat "$dir/initdb.log")"
	for kv in listen_addresses=127.0.0.1 "port=$port" "unix_socket_directories=$dir" fsync=on synchronous_commit=on \
		full_page_writes=on max_connections=200 "$@"; do
		opts+=(-c "$kv")
	done
	pg_as "$pg_bin/pg_ctl" -D "$pg_data" -l "$dir/postgres.log" -w -t "$HEALTH_TIMEOUT" -o "${opts[*]}" start >/dev/null ||
		die "PostgreSQL did not start: $(tail -5 "$dir/postgres.log")"
	wait_until "PostgreSQL on port $port" "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$port"
	log "$("$pg_bin/psql" -h 127.0.0.1 -p "$port" -U postgres -Atc 'SELECT version()' | cut -d, -f1) on 127.0.0.1:$port ($dir)"
}

# stop_pg: fast shutdown of the cluster start_pg started (no-op when none).
stop_pg() {
	[[ -n $pg_data && -d $pg_data ]] || return 0
	pg_as "$pg_bin/pg_ctl" -D "$pg_data" -m fast -w stop >/dev/null 2>&1 || true
	pg_data=""
}
