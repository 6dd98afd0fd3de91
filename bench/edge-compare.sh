#!/usr/bin/env bash
# edge-compare.sh — compare cairn's edge cache (`cairn gatewayd --role edge`)
# with Varnish, nginx (proxy_cache), Squid and Apache Traffic Server as
# caching reverse proxies on this machine, all in front of the same origin
# (`cairn bench edge origin`: deterministic objects, Cache-Control: public,
# max-age=3600, a strong ETag, a request counter at /stats) and loaded by
# `cairn bench edge` (keep-alive workers, seeded Zipf object choice, every
# 200 checked to carry the object's bytes):
#
#  a. hot-<size>, for each size of SIZES: a hot set that fits in every cache
#     (HOT_OBJECTS objects, fewer when they would take more than a quarter of
#     MEMORY_MIB), uniform choice, CONCURRENCY workers, after a WARMUP: hits/s
#     and req/s, p50/p99, and the hit ratio the caches' headers report;
#  b. latency: the hot 1 KiB set at LAT_CONCURRENCY workers (the proxy is
#     not saturated), against the origin directly too: the added p50/p99 of
#     each cache (median of the per-round differences to direct);
#  c. hitratio: OBJECTS objects with Zipf exponent ZIPF and the size mix
#     HR_SIZES (the working set is far larger than MEMORY_MIB), from a cold
#     key space (a new path prefix per run) for HR_DURATION: the hit ratio at
#     the same memory budget, by the origin's request count (needs no
#     header) and by the headers;
#  d. storm: STORM simultaneous requests for one cold object (a new prefix
#     per run): how many reach the origin (1 is perfect coalescing).
#
# Memory budget (MEMORY_MIB, default 256): Varnish -s malloc; Squid cache_mem
# with no cache_dir; cairn --cache-memory; nginx and Traffic Server keep their
# caches in files, so theirs live on tmpfs (/dev/shm when it exists) and are
# capped at the budget (nginx max_size, ATS storage.config; ATS's RAM cache,
# which copies part of that store, gets the same size). Every anchor is set up
# to coalesce concurrent misses where it can (Varnish does by default; nginx
# proxy_cache_lock; Squid collapsed_forwarding; ATS read-while-writer with
# open-read retries), since that is what an edge should do.
#
# Rounds are interleaved (in each round: direct, then every anchor followed by
# cairn; the servers stay up for the whole run), because a shared host's speed
# drifts from second to second: the tables show each target's median over the
# rounds and, for each anchor, the median of the per-round cairn/anchor ratios
# with their min-max.
#
# The anchors come from Debian's packages (varnish, nginx, squid,
# trafficserver), installed with apt-get (after apt-get update) when missing;
# an anchor whose package cannot be installed is skipped, and the log says so.
# Their Debian services may start on their default ports; ours use others.
#
# Requires `make build` (bin/cairn with `cairn bench edge` and, unless
# CAIRN_EDGE=0, `cairn gatewayd --role edge`). Everything started here is
# stopped on exit.
#
# Environment: ROUNDS (default 3), DURATION (per target, round and hot size,
# default 10s), WARMUP (default 2s), CONCURRENCY (default 32), SIZES (hot
# sizes, default "1KiB 100KiB 10MiB"), HOT_OBJECTS (default 1000),
# LAT_CONCURRENCY (default 1; 0 skips b), OBJECTS (default 100000), ZIPF
# (default 0.99), HR_SIZES (default "1KiB:90,100KiB:9,1MiB:1"), HR_DURATION
# (default 20s), STORM (default 200; 0 skips d), SCENARIOS (default "hot
# latency hitratio storm"), MEMORY_MIB (default 256), ANCHORS (default
# "varnish nginx squid trafficserver"), CAIRN_EDGE (1: run cairn's edge,
# default; 0: only the anchors and direct), EDGE_FLAGS (extra `cairn gatewayd`
# flags), BASE_PORT (origin; varnish +1 (admin +11), nginx +2, squid +3,
# trafficserver +4, cairn +5 (gRPC +6, admin +7); default 28700), SEED
# (default 1), CAIRN (default bin/cairn), HEALTH_TIMEOUT (seconds, default 60).
set -euo pipefail

cd "$(dirname "$0")/.."
CAIRN=${CAIRN:-bin/cairn}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONCURRENCY=${CONCURRENCY:-32}
SIZES=${SIZES:-1KiB 100KiB 10MiB}
HOT_OBJECTS=${HOT_OBJECTS:-1000}
LAT_CONCURRENCY=${LAT_CONCURRENCY:-1}
OBJECTS=${OBJECTS:-100000}
ZIPF=${ZIPF:-0.99}
HR_SIZES=${HR_SIZES:-1KiB:90,100KiB:9,1MiB:1}
HR_DURATION=${HR_DURATION:-20s}
STORM=${STORM:-200}
SCENARIOS=${SCENARIOS:-hot latency hitratio storm}
MEMORY_MIB=${MEMORY_MIB:-256}
ANCHORS=${ANCHORS:-varnish nginx squid trafficserver}
CAIRN_EDGE=${CAIRN_EDGE:-1}
EDGE_FLAGS=${EDGE_FLAGS:-}
BASE_PORT=${BASE_PORT:-28700}
SEED=${SEED:-1}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-60}
SCRIPT=edge-compare.sh

# shellcheck source=bench/lib.sh
. bench/lib.sh

[[ -x $CAIRN ]] || die "$CAIRN not found; run 'make build' first"
"$CAIRN" bench edge --help >/dev/null 2>&1 || die "$CAIRN has no 'bench edge'; run 'make build'"
if [[ $CAIRN_EDGE == 1 ]]; then
	"$CAIRN" gatewayd --help 2>&1 | grep -q -- '--role' ||
		die "$CAIRN gatewayd has no --role (the edge role); CAIRN_EDGE=0 runs the anchors alone"
fi
command -v curl >/dev/null 2>&1 || need_pkgs curl=curl

origin_port=$BASE_PORT
varnish_port=$((BASE_PORT + 1))
nginx_port=$((BASE_PORT + 2))
squid_port=$((BASE_PORT + 3))
ats_port=$((BASE_PORT + 4))
cairn_port=$((BASE_PORT + 5))
memory_bytes=$((MEMORY_MIB << 20))

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cairn-edge-compare.XXXXXX")
chmod 755 "$tmp" # the anchors' workers run as their own users
shm=$tmp
[[ -d /dev/shm && -w /dev/shm ]] && shm=$(mktemp -d /dev/shm/cairn-edge-compare.XXXXXX) && chmod 755 "$shm"
pids=()
cleanup() {
	stop_pids "${pids[@]}"
	rm -rf "$tmp"
	[[ $shm == "$tmp" ]] || rm -rf "$shm"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- packages ----------------------------------------------------------------------
apt_updated=0
# install_anchor <command> <package>: apt-get install the package unless the
# command exists; fails (saying so) when the package cannot be installed.
install_anchor() {
	local cmd=$1 pkg=$2 sudo=""
	command -v "$cmd" >/dev/null 2>&1 && return 0
	[[ $(id -u) -eq 0 ]] || sudo="sudo"
	if ((apt_updated == 0)); then
		log "apt-get update"
		$sudo apt-get update >"$tmp/apt-update.log" 2>&1 || log "apt-get update failed (see below); trying the install anyway"
		apt_updated=1
	fi
	log "installing $pkg"
	if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y "$pkg" >"$tmp/apt-$pkg.log" 2>&1; then
		log "$pkg: not installable here: $(tail -2 "$tmp/apt-$pkg.log" | tr '\n' ' ')"
		return 1
	fi
	command -v "$cmd" >/dev/null 2>&1 || { log "$pkg: installed but $cmd is not on PATH"; return 1; }
}

# --- servers -----------------------------------------------------------------------
targets=() # the caches under test, in round order; cairn goes after each anchor
declare -A url pid_of
url[direct]=http://127.0.0.1:$origin_port
stats_url=${url[direct]}/stats

"$CAIRN" bench edge origin --addr "127.0.0.1:$origin_port" --objects "$OBJECTS" --max-size 1GiB --max-age 1h \
	>"$tmp/origin.log" 2>&1 &
pids+=("$!")
wait_until origin curl -fsS --max-time 2 "$stats_url"
log "origin: ${url[direct]}"

start_varnish() {
	install_anchor varnishd varnish || return 1
	mkdir -p "$tmp/varnish"
	cat >"$tmp/varnish/edge.vcl" <<EOF
vcl 4.1;
backend origin { .host = "127.0.0.1"; .port = "$origin_port"; }
sub vcl_deliver {
	if (obj.hits > 0) { set resp.http.X-Cache = "HIT"; } else { set resp.http.X-Cache = "MISS"; }
}
EOF
	# -F: foreground; the worker process runs as the package's vcache user.
	varnishd -F -n "$tmp/varnish/work" -a "127.0.0.1:$varnish_port" -T "127.0.0.1:$((varnish_port + 10))" \
		-f "$tmp/varnish/edge.vcl" -s "malloc,${MEMORY_MIB}M" >"$tmp/varnish/varnishd.log" 2>&1 &
	pid_of[varnish]=$!
	pids+=("$!")
	url[varnish]=http://127.0.0.1:$varnish_port
	log "varnish: $(varnishd -V 2>&1 | head -1)"
}

start_nginx() {
	install_anchor nginx nginx || return 1
	mkdir -p "$tmp/nginx" "$shm/nginx-cache"
	[[ $(id -u) -ne 0 ]] || chown www-data "$shm/nginx-cache" 2>/dev/null || true
	cat >"$tmp/nginx/nginx.conf" <<EOF
$([[ $(id -u) -ne 0 ]] || echo "user root; # the workers write the cache under the run's private directory")
worker_processes auto;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $tmp/nginx/body;
	proxy_temp_path $shm/nginx-cache/tmp;
	fastcgi_temp_path $tmp/nginx/fastcgi;
	uwsgi_temp_path $tmp/nginx/uwsgi;
	scgi_temp_path $tmp/nginx/scgi;
	proxy_cache_path $shm/nginx-cache levels=1:2 keys_zone=edge:64m max_size=${MEMORY_MIB}m inactive=1h use_temp_path=off;
	upstream origin { server 127.0.0.1:$origin_port; keepalive 256; }
	server {
		listen 127.0.0.1:$nginx_port;
		location / {
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_cache edge;
			proxy_cache_lock on;
			proxy_cache_lock_timeout 30s;
			proxy_cache_lock_age 30s;
			proxy_cache_use_stale updating;
			add_header X-Cache \$upstream_cache_status;
			proxy_pass http://origin;
		}
	}
}
EOF
	nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" >"$tmp/nginx/stdout.log" 2>&1 &
	pid_of[nginx]=$!
	pids+=("$!")
	url[nginx]=http://127.0.0.1:$nginx_port
	log "nginx: $(nginx -v 2>&1 | sed 's/.*: //')"
}

start_squid() {
	install_anchor squid squid || return 1
	mkdir -p "$tmp/squid"
	[[ $(id -u) -ne 0 ]] || chown proxy "$tmp/squid" 2>/dev/null || true
	# Memory only (no cache_dir): objects up to 1 GiB may stay in memory.
	cat >"$tmp/squid/squid.conf" <<EOF
http_port 127.0.0.1:$squid_port accel defaultsite=127.0.0.1 no-vhost
cache_peer 127.0.0.1 parent $origin_port 0 no-query originserver name=origin no-digest
cache_peer_access origin allow all
never_direct allow all
http_access allow all
cache_mem $MEMORY_MIB MB
maximum_object_size_in_memory 1 GB
maximum_object_size 1 GB
memory_cache_shared off
collapsed_forwarding on
workers 1
pid_filename $tmp/squid/squid.pid
cache_log $tmp/squid/cache.log
access_log none
cache_store_log none
coredump_dir $tmp/squid
pinger_enable off
shutdown_lifetime 1 second
client_persistent_connections on
server_persistent_connections on
EOF
	squid -N -f "$tmp/squid/squid.conf" >"$tmp/squid/stdout.log" 2>&1 &
	pid_of[squid]=$!
	pids+=("$!")
	url[squid]=http://127.0.0.1:$squid_port
	log "squid: $(squid -v | head -1 | sed 's/.*Version //')"
}

start_trafficserver() {
	install_anchor traffic_server trafficserver || return 1
	local root=$tmp/ats etc=$tmp/ats/etc d
	# A private run root (never the system's /etc/trafficserver): the package's
	# configuration copied, then ours on top.
	mkdir -p "$root" "$shm/ats"
	for d in etc var run log data; do mkdir -p "$root/$d"; done
	cp -r /etc/trafficserver/. "$etc/"
	cat >"$root/runroot.yaml" <<EOF
prefix: $root
exec_prefix: /usr
bindir: /usr/bin
sbindir: /usr/sbin
sysconfdir: $etc
datadir: $root/data
includedir: /usr/include
libdir: /usr/lib/trafficserver
libexecdir: /usr/lib/trafficserver/modules
localstatedir: $root/var
runtimedir: $root/run
logdir: $root/log
cachedir: $shm/ats
EOF
	# The store (a file ATS makes in this tmpfs directory) holds the budget;
	# the RAM cache copies part of it.
	echo "$shm/ats ${MEMORY_MIB}M" >"$etc/storage.config"
	echo "map / http://127.0.0.1:$origin_port/" >"$etc/remap.config"
	cat >"$etc/x-cache.conf" <<'EOF'
cond %{SEND_RESPONSE_HDR_HOOK} [AND]
cond %{CACHE} =hit-fresh [OR]
cond %{CACHE} =hit-stale
set-header X-Cache HIT
EOF
	echo "header_rewrite.so $etc/x-cache.conf" >"$etc/plugin.config"
	cat >>"$etc/records.config" <<EOF
CONFIG proxy.config.http.server_ports STRING $ats_port:ipv4:ip-in=127.0.0.1
CONFIG proxy.config.reverse_proxy.enabled INT 1
CONFIG proxy.config.url_remap.remap_required INT 1
CONFIG proxy.config.cache.ram_cache.size INT $memory_bytes
CONFIG proxy.config.cache.enable_read_while_writer INT 1
CONFIG proxy.config.http.cache.max_open_read_retries INT 100
CONFIG proxy.config.http.cache.open_read_retry_time INT 10
CONFIG proxy.config.http.cache.required_headers INT 0
CONFIG proxy.config.http.insert_age_in_response INT 1
CONFIG proxy.config.http.server_session_sharing.match STRING both
EOF
	# As root, ATS switches to the package's trafficserver user.
	[[ $(id -u) -ne 0 ]] || chown -R trafficserver "$root" "$shm/ats" 2>/dev/null || true
	traffic_server --run-root="$root" >"$root/stdout.log" 2>&1 &
	pid_of[trafficserver]=$!
	pids+=("$!")
	url[trafficserver]=http://127.0.0.1:$ats_port
	log "trafficserver: $(traffic_server --version 2>&1 | sed -n 's/^Traffic Server \([^ ]*\).*/\1/p' | head -1)"
}

start_cairn() {
	mkdir -p "$tmp/cairn"
	# shellcheck disable=SC2086
	"$CAIRN" gatewayd --role edge --id edge-1 --insecure --http-addr "127.0.0.1:$cairn_port" \
		--grpc-addr "127.0.0.1:$((cairn_port + 1))" --admin-addr "127.0.0.1:$((cairn_port + 2))" \
		--origin "${url[direct]}" --cache-memory "$((MEMORY_MIB << 20))" $EDGE_FLAGS >"$tmp/cairn/edge.log" 2>&1 &
	pid_of[cairn]=$!
	pids+=("$!")
	url[cairn]=http://127.0.0.1:$cairn_port
}

anchors=()
for a in $ANCHORS; do
	case $a in
	varnish | nginx | squid | trafficserver) "start_$a" || { log "$a: skipped"; continue; } ;;
	*) die "unknown anchor $a (want varnish, nginx, squid or trafficserver)" ;;
	esac
	anchors+=("$a")
done
[[ $CAIRN_EDGE != 1 ]] || start_cairn
caches=("${anchors[@]}")
[[ $CAIRN_EDGE != 1 ]] || caches+=(cairn)
((${#caches[@]} > 0)) || die "no cache to compare: every anchor was skipped and CAIRN_EDGE=0"

# Check every cache once: a 200 with the object's length, then a hit on the
# second request (by its headers) that did not reach the origin.
origin_requests() { curl -fsS --max-time 5 "$stats_url" | sed -n 's/.*"requests":\([0-9]*\).*/\1/p'; }
for t in "${caches[@]}"; do
	wait_until "$t" curl -fsS --max-time 2 -o /dev/null "${url[$t]}/check/1024/0"
	before=$(origin_requests)
	curl -fsS -D "$tmp/headers.$t" -o "$tmp/body.$t" "${url[$t]}/check/1024/0"
	[[ $(stat -c %s "$tmp/body.$t") == 1024 ]] || die "$t: GET /check/1024/0 gave $(stat -c %s "$tmp/body.$t") bytes, want 1024"
	grep -qiE '^(x-cache: *(hit|stale)|age: *[1-9])' "$tmp/headers.$t" || die "$t: no cache hit on the second GET: $(tr -d '\r' <"$tmp/headers.$t")"
	[[ $(origin_requests) == "$before" ]] || die "$t: the cached GET reached the origin"
	log "$t: ${url[$t]} (pid ${pid_of[$t]}): caches"
done

# --- rounds ------------------------------------------------------------------------
# hot_objects <size>: HOT_OBJECTS, or fewer so the set takes at most a
# quarter of the memory budget.
hot_objects() {
	local bytes
	bytes=$(numfmt --from=iec-i --suffix=B "$1" | tr -d B) || die "size $1: want a number with Ki, Mi or Gi and B (1KiB)"
	awk -v h="$HOT_OBJECTS" -v m="$memory_bytes" -v b="$bytes" 'BEGIN { n = int(m / 4 / b); if (n > h) n = h; if (n < 1) n = 1; print n }'
}

# run <file> <target> <bench edge flags...>: one `cairn bench edge` run into
# <file>: its JSON line without the per-size list (lib.sh's field reads the
# last match of a name; the whole line goes to <file>.full), with the
# 1-minute load average added.
run() {
	local file=$1 t=$2 out load1
	shift 2
	load1=$(cut -d' ' -f1 /proc/loadavg)
	out=$("$CAIRN" bench edge --target "${url[$t]}" --origin-stats "$stats_url" --seed "$SEED" -o json "$@" 2>&1) ||
		die "bench edge against $t failed: $out"
	echo "$out" | tail -1 >"$file.full"
	sed -e 's/,"per_size":\[[^]]*\]//' -e "s/}\$/,\"load1\":$load1}/" "$file.full" >"$file"
	log "$(basename "$file" .json): $(cut -c1-400 "$file")"
}

# order: each round's targets: direct (when the scenario has it), then every
# anchor followed by cairn (stored as cairn@<anchor>, so each ratio pairs
# adjacent runs).
order_of() {
	local a
	[[ $1 != with-direct ]] || echo direct
	for a in "${anchors[@]}"; do
		echo "$a"
		[[ $CAIRN_EDGE != 1 ]] || echo "cairn@$a"
	done
	[[ $CAIRN_EDGE != 1 || ${#anchors[@]} -gt 0 ]] || echo cairn@none
}

for ((k = 1; k <= ROUNDS; k++)); do
	for sc in $SCENARIOS; do
		case $sc in
		hot)
			for size in $SIZES; do
				for t in $(order_of no-direct); do
					run "$tmp/hot-$size.$t.r$k.json" "${t%@*}" --path-prefix /hot --objects "$(hot_objects "$size")" --zipf 0 \
						--sizes "$size" --concurrency "$CONCURRENCY" --warmup "$WARMUP" --duration "$DURATION"
				done
			done
			;;
		latency)
			((LAT_CONCURRENCY > 0)) || continue
			for t in $(order_of with-direct); do
				run "$tmp/latency.$t.r$k.json" "${t%@*}" --path-prefix /hot --objects "$(hot_objects 1KiB)" --zipf 0 \
					--sizes 1KiB --concurrency "$LAT_CONCURRENCY" --warmup "$WARMUP" --duration "$DURATION"
			done
			;;
		hitratio)
			for t in $(order_of no-direct); do
				run "$tmp/hitratio.$t.r$k.json" "${t%@*}" --path-prefix "/hr-${t/@/-}-r$k" --objects "$OBJECTS" --zipf "$ZIPF" \
					--sizes "$HR_SIZES" --concurrency "$CONCURRENCY" --warmup 0s --duration "$HR_DURATION"
			done
			;;
		storm)
			((STORM > 0)) || continue
			for t in $(order_of no-direct); do
				run "$tmp/storm.$t.r$k.json" "${t%@*}" --path-prefix "/storm-${t/@/-}-r$k" --objects "$OBJECTS" \
					--sizes 100KiB --storm --concurrency "$STORM" --storm-object 0
			done
			;;
		*) die "unknown scenario $sc (want hot, latency, hitratio or storm)" ;;
		esac
	done
done

# --- report ------------------------------------------------------------------------
# values <scenario> <target> <field>: one value per round; target cairn
# stands for the median of every cairn@<anchor> run of the round.
values() {
	local k f t=$2
	[[ $t != cairn ]] || t='cairn@*'
	for ((k = 1; k <= ROUNDS; k++)); do
		for f in "$tmp/$1".$t".r$k.json"; do
			[[ -f $f ]] && field "$f" "$3" && echo
		done | median
		echo
	done
}
# hits_per_s <scenario> <target>: per round, hits per second.
hits_per_s() {
	paste -d' ' <(values "$1" "$2" hits) <(values "$1" "$2" duration_s) | awk '$1 != "" && $2 > 0 { printf "%.1f\n", $1 / $2; next } { print "" }'
}
diff_stats() {
	local d
	d=$(diffs "$1" "$2" %.4f)
	[[ -n $d ]] || { echo "-"; return; }
	printf '%+.3f (%s..%s)' "$(echo "$d" | median)" "$(echo "$d" | sort -g | head -1)" "$(echo "$d" | sort -g | tail -1)"
}
report_targets() { echo "${anchors[@]}" "$([[ $CAIRN_EDGE == 1 ]] && echo cairn)"; }

echo
echo "edge-compare: $ROUNDS interleaved rounds; memory budget ${MEMORY_MIB} MiB; seed $SEED"
loads=$(cat "$tmp"/*.json | sed -n 's/.*"load1":\([0-9.]*\).*/\1/p' | sort -g)
echo "$(nproc) CPUs; 1-minute load average when each run started: $(echo "$loads" | head -1)-$(echo "$loads" | tail -1),"
echo "median $(echo "$loads" | median) (the host is shared: compare ratios, not absolutes)"

if [[ " $SCENARIOS " == *" hot "* ]]; then
	for size in $SIZES; do
		sc=hot-$size
		echo
		echo "$sc: $(hot_objects "$size") objects of $size, uniform, c=$CONCURRENCY, $DURATION after $WARMUP warmup"
		printf '  %-14s %10s %10s %8s %9s %9s %10s %7s %16s\n' target "req/s" "hits/s" "hit%" "p50 ms" "p99 ms" "MiB/s" errors "cairn/x hits/s"
		for t in $(report_targets); do
			hps=$(hits_per_s "$sc" "$t")
			ratio="-"
			[[ $t == cairn || $CAIRN_EDGE != 1 ]] || ratio=$(ratio_stats "$(hits_per_s "$sc" "cairn@$t")" "$hps")
			printf '  %-14s %10s %10s %8s %9s %9s %10s %7s %16s\n' "$t" \
				"$(fmt "$(values "$sc" "$t" throughput | median)" %.0f)" "$(fmt "$(echo "$hps" | median)" %.0f)" \
				"$(fmt "$(values "$sc" "$t" hit_ratio | median)" %.4f | awk '$1 != "-" { printf "%.1f", $1 * 100; next } { print }')" \
				"$(fmt "$(values "$sc" "$t" p50_ms | median)" %.3f)" "$(fmt "$(values "$sc" "$t" p99_ms | median)" %.3f)" \
				"$(fmt "$(values "$sc" "$t" bytes_per_s | median)" %.0f | awk '$1 != "-" { printf "%.1f", $1 / 1048576; next } { print }')" \
				"$(values "$sc" "$t" errors | awk '{ s += $1 } END { print s + 0 }')" "$ratio"
		done
	done
fi

if [[ " $SCENARIOS " == *" latency "* ]] && ((LAT_CONCURRENCY > 0)); then
	echo
	echo "latency: hot 1KiB objects at c=$LAT_CONCURRENCY; added = median of per-round differences to the origin direct"
	printf '  %-14s %9s %9s %12s %12s %16s\n' target "p50 ms" "p99 ms" "+p50 ms" "+p99 ms" "cairn-x +p99"
	d50=$(values latency direct p50_ms)
	d99=$(values latency direct p99_ms)
	for t in direct $(report_targets); do
		add50="-" add99="-" cmp="-"
		if [[ $t != direct ]]; then
			add50=$(diffs "$(values latency "$t" p50_ms)" "$d50" %.4f | median)
			add99=$(diffs "$(values latency "$t" p99_ms)" "$d99" %.4f | median)
			[[ $t == cairn || $CAIRN_EDGE != 1 ]] || cmp=$(diff_stats "$(values latency "cairn@$t" p99_ms)" "$(values latency "$t" p99_ms)")
		fi
		printf '  %-14s %9s %9s %12s %12s %16s\n' "$t" "$(fmt "$(values latency "$t" p50_ms | median)" %.3f)" \
			"$(fmt "$(values latency "$t" p99_ms | median)" %.3f)" "$(fmt "$add50" %+.3f)" "$(fmt "$add99" %+.3f)" "$cmp"
	done
fi

if [[ " $SCENARIOS " == *" hitratio "* ]]; then
	echo
	echo "hitratio: $OBJECTS objects, zipf $ZIPF, sizes $HR_SIZES, cold start, c=$CONCURRENCY for $HR_DURATION, ${MEMORY_MIB} MiB"
	printf '  %-14s %12s %12s %10s %10s %22s\n' target "by origin" "by headers" "req/s" "origin/s" "cairn-x (by origin)"
	for t in $(report_targets); do
		cmp="-"
		[[ $t == cairn || $CAIRN_EDGE != 1 ]] || cmp=$(diff_stats "$(values hitratio "cairn@$t" origin_hit_ratio)" "$(values hitratio "$t" origin_hit_ratio)")
		ops=$(paste -d' ' <(values hitratio "$t" origin_requests) <(values hitratio "$t" duration_s) | awk '$2 > 0 { print $1 / $2 }' | median)
		printf '  %-14s %12s %12s %10s %10s %22s\n' "$t" "$(fmt "$(values hitratio "$t" origin_hit_ratio | median)" %.4f)" \
			"$(fmt "$(values hitratio "$t" hit_ratio | median)" %.4f)" "$(fmt "$(values hitratio "$t" throughput | median)" %.0f)" \
			"$(fmt "$ops" %.0f)" "$cmp"
	done
fi

if [[ " $SCENARIOS " == *" storm "* ]] && ((STORM > 0)); then
	echo
	echo "storm: $STORM simultaneous requests for one cold 100KiB object; origin requests (1 = fully coalesced)"
	printf '  %-14s %10s %10s %10s %9s\n' target "median" "min" "max" "errors"
	for t in $(report_targets); do
		v=$(values storm "$t" origin_requests)
		printf '  %-14s %10s %10s %10s %9s\n' "$t" "$(fmt "$(echo "$v" | median)" %.0f)" "$(fmt "$(echo "$v" | sort -g | grep . | head -1)" %.0f)" \
			"$(fmt "$(echo "$v" | sort -g | tail -1)" %.0f)" "$(values storm "$t" errors | awk '{ s += $1 } END { print s + 0 }')"
	done
fi
echo
echo "(medians over rounds; cairn/x: median of the per-round ratios cairn/anchor (min-max); cairn-x: median of the"
echo " per-round differences cairn minus anchor (min..max); cairn runs right after every anchor in a round)"
