#!/usr/bin/env bash
# lb-compare.sh — compare cairn's load balancer (lbd) with HAProxy on this
# machine, both balancing over the same local backends (`cairn bench lb
# backends`: three fast HTTP backends answering a 64-byte body, one slow HTTP
# backend that waits SLOW_DELAY first, three TCP sinks):
#
#  a. http: GET / through an HTTP frontend to the three fast backends, round
#     robin (HAProxy: mode http, balance roundrobin, http-reuse always,
#     option forwardfor and the X-Forwarded-* headers lbd sets), loaded by wrk
#     with CONNECTIONS keep-alive connections: req/s, p50/p99; and at
#     LAT_CONNS connections for LAT_DURATION against the proxies and one
#     backend directly: the added p50/p99 (median of the per-round
#     differences to direct);
#  b. tcp: bulk upload through a TCP frontend to the three sinks, round robin
#     (HAProxy: mode tcp with option splice-auto, as lbd splices), by `cairn bench lb tcp` with TCP_CONNS
#     connections: Gb/s of the bytes the sinks acknowledged, also straight to
#     one sink (direct);
#  c. slow: GET / through an HTTP frontend to two fast backends and the slow
#     one: lbd's least_time against HAProxy's leastconn, at SLOW_CONNS
#     connections: req/s, p50/p99 and the share of requests the slow backend
#     got. Fewer connections than CONNECTIONS, so that the p99 shows where
#     requests went more than how long they queued in a saturated proxy.
#
# Every pool has active health checks (HTTP GET of the backends' stats path,
# or a TCP connect, every 2s, rise 2, fall 3) on both sides. Fairness: lbd
# runs with GOMAXPROCS=PROXY_THREADS and HAProxy with nbthread PROXY_THREADS;
# with PROXY_CPUS set (a taskset list, e.g. "1") both are pinned to the same
# CPUs, and wrk, the TCP client and the backends to the others (LOAD_CPUS,
# default: the CPUs not in PROXY_CPUS). Each proxy's CPU time (all threads,
# /proc/<pid>/task/*/schedstat) is reported per request and per GB: it moves
# far less with the host's drift than req/s does.
#
# Rounds are interleaved (in each round and scenario: direct, HAProxy, lbd;
# every server stays up for the whole run), because a shared host's speed
# drifts from second to second: the tables show each target's median over
# the rounds and the median of the per-round lbd/HAProxy ratios with their
# min-max. The goals (issue 20): http req/s >= 1.0x HAProxy, tcp Gb/s >= 0.9x,
# slow p99 below HAProxy's.
#
# wrk and haproxy come from Debian's packages, installed with apt-get when
# missing (the haproxy package may start its own service; ours uses other
# ports). Without wrk the HTTP load falls back to `cairn bench gateway plain`
# (closed-loop Go client; the log says so).
#
# Requires `make build` (bin/cairn with `cairn lbd` and `cairn bench lb`).
# Everything started here is stopped on exit.
#
# Environment: ROUNDS (default 5), DURATION (per load run, default 10s),
# CONNECTIONS (wrk -c, default 64), THREADS (wrk -t, default 2), LAT_CONNS
# (default 1; 0 skips the latency pass), LAT_DURATION (default 5s), TCP_CONNS
# (default 4), SLOW_CONNS (default 16), SLOW_DELAY (default 20ms), SCENARIOS (default "http tcp
# slow"), PROXY_THREADS (default: the number of CPUs, or of PROXY_CPUS),
# PROXY_CPUS, LOAD_CPUS (see above), LBD_FLAGS (extra `cairn lbd` flags),
# PPROF (1: take a CPU profile of lbd during the first round of each
# scenario into PPROF_DIR, default /tmp/lb-compare-pprof), BASE_PORT
# (backends +0..+3 and sinks +10..+12; lbd +20..+24; haproxy +30..+32;
# default 28800), CAIRN (default bin/cairn), HEALTH_TIMEOUT (seconds,
# default 60).
set -euo pipefail

cd "$(dirname "$0")/.."
CAIRN=${CAIRN:-bin/cairn}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
LAT_CONNS=${LAT_CONNS:-1}
LAT_DURATION=${LAT_DURATION:-5s}
TCP_CONNS=${TCP_CONNS:-4}
SLOW_CONNS=${SLOW_CONNS:-16}
SLOW_DELAY=${SLOW_DELAY:-20ms}
SCENARIOS=${SCENARIOS:-http tcp slow}
PROXY_CPUS=${PROXY_CPUS:-}
LOAD_CPUS=${LOAD_CPUS:-}
LBD_FLAGS=${LBD_FLAGS:-}
PPROF=${PPROF:-0}
PPROF_DIR=${PPROF_DIR:-/tmp/lb-compare-pprof}
BASE_PORT=${BASE_PORT:-28800}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-60}
SCRIPT=lb-compare.sh

# shellcheck source=bench/lib.sh
. bench/lib.sh

[[ -x $CAIRN ]] || die "$CAIRN not found; run 'make build' first"
"$CAIRN" bench lb backends --help >/dev/null 2>&1 || die "$CAIRN has no 'bench lb'; run 'make build'"
"$CAIRN" lbd --help >/dev/null 2>&1 || die "$CAIRN has no 'lbd'; run 'make build'"
need_pkgs haproxy=haproxy curl=curl
need_pkgs wrk=wrk || true
use_wrk=1
command -v wrk >/dev/null 2>&1 || {
	use_wrk=0
	log "wrk is not available: HTTP load comes from 'cairn bench gateway plain' instead"
}

# cpu_list <list>: the CPUs of a taskset list ("0,2-3") one per line.
cpu_list() { echo "$1" | tr ',' '\n' | awk -F- 'NF { for (c = $1; c <= (NF > 1 ? $2 : $1); c++) print c }'; }
proxy_pin=() load_pin=()
if [[ -n $PROXY_CPUS ]]; then
	command -v taskset >/dev/null 2>&1 || die "PROXY_CPUS needs taskset (util-linux)"
	if [[ -z $LOAD_CPUS ]]; then
		LOAD_CPUS=$(comm -23 <(seq 0 $(($(nproc) - 1)) | sort) <(cpu_list "$PROXY_CPUS" | sort) | sort -n | paste -sd,)
	fi
	[[ -n $LOAD_CPUS ]] || die "PROXY_CPUS=$PROXY_CPUS leaves no CPU for the load; set LOAD_CPUS"
	proxy_pin=(taskset -c "$PROXY_CPUS")
	load_pin=(taskset -c "$LOAD_CPUS")
	PROXY_THREADS=${PROXY_THREADS:-$(cpu_list "$PROXY_CPUS" | wc -l)}
fi
PROXY_THREADS=${PROXY_THREADS:-$(nproc)}

be_port=$BASE_PORT
sink_port=$((BASE_PORT + 10))
lbd_port=$((BASE_PORT + 20))
ha_port=$((BASE_PORT + 30))
host=127.0.0.1

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cairn-lb-compare.XXXXXX")
pids=()
cleanup() {
	stop_pids "${pids[@]}"
	[[ ${KEEP:-0} == 1 ]] && log "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- backends ----------------------------------------------------------------------
"${load_pin[@]}" "$CAIRN" bench lb backends --http 3 --tcp 3 --http-port "$be_port" --tcp-port "$sink_port" \
	--slow-delay "$SLOW_DELAY" >"$tmp/backends.log" 2>&1 &
pids+=("$!")
stats_path=/_lbbench/requests
for i in 0 1 2 3; do
	wait_until "backend $i" curl -fsS --max-time 2 "http://$host:$((be_port + i))$stats_path"
done
log "backends: http $host:$be_port-$((be_port + 2)), slow $host:$((be_port + 3)) (+$SLOW_DELAY), tcp sinks $host:$sink_port-$((sink_port + 2))"
slow_requests() { curl -fsS --max-time 5 "http://$host:$((be_port + 3))$stats_path"; }

# --- lbd ---------------------------------------------------------------------------
mkdir -p "$tmp/lbd"
health_http="{type: http, path: $stats_path, interval: 2s, timeout: 1s, rise: 2, fall: 3}"
cat >"$tmp/lbd/lb.yaml" <<EOF
frontends:
  - {name: web, mode: http, listen: "$host:$lbd_port", default_pool: web}
  - {name: slow, mode: http, listen: "$host:$((lbd_port + 1))", default_pool: slow}
  - {name: bulk, mode: tcp, listen: "$host:$((lbd_port + 2))", pool: bulk}
pools:
  - name: web
    algorithm: round_robin
    backends:
      - {name: web-1, address: "$host:$be_port"}
      - {name: web-2, address: "$host:$((be_port + 1))"}
      - {name: web-3, address: "$host:$((be_port + 2))"}
    health: $health_http
  - name: slow
    algorithm: least_time
    backends:
      - {name: web-2, address: "$host:$((be_port + 1))"}
      - {name: web-3, address: "$host:$((be_port + 2))"}
      - {name: slow, address: "$host:$((be_port + 3))"}
    health: $health_http
  - name: bulk
    algorithm: round_robin
    backends:
      - {name: sink-1, address: "$host:$sink_port"}
      - {name: sink-2, address: "$host:$((sink_port + 1))"}
      - {name: sink-3, address: "$host:$((sink_port + 2))"}
    health: {type: tcp, interval: 2s, timeout: 1s, rise: 2, fall: 3}
EOF
lbd_admin=$host:$((lbd_port + 4))
# shellcheck disable=SC2086
GOMAXPROCS=$PROXY_THREADS "${proxy_pin[@]}" "$CAIRN" lbd --id lb-bench --insecure --lb-file "$tmp/lbd/lb.yaml" \
	--grpc-addr "$host:$((lbd_port + 3))" --admin-addr "$lbd_admin" --log-level warn $LBD_FLAGS >"$tmp/lbd/lbd.log" 2>&1 &
lbd_pid=$!
pids+=("$!")

# --- HAProxy -----------------------------------------------------------------------
mkdir -p "$tmp/haproxy"
cat >"$tmp/haproxy/haproxy.cfg" <<EOF
global
	nbthread $PROXY_THREADS
	maxconn 4000 # its file descriptors (about 4x with splicing pipes) must fit under the limit
	log stderr format short local0 warning

defaults
	log global
	timeout connect 3s
	timeout client 5m
	timeout server 60s
	timeout http-keep-alive 5m
	retries 2
	option redispatch

frontend web
	mode http
	bind $host:$ha_port
	default_backend web

frontend slow
	mode http
	bind $host:$((ha_port + 1))
	default_backend slow

frontend bulk
	mode tcp
	bind $host:$((ha_port + 2))
	default_backend bulk

backend web
	mode http
	balance roundrobin
	http-reuse always
	option forwardfor
	http-request set-header X-Forwarded-Proto http
	http-request set-header X-Forwarded-Host %[req.hdr(host)]
	option httpchk GET $stats_path
	default-server check inter 2s rise 2 fall 3
	server web-1 $host:$be_port
	server web-2 $host:$((be_port + 1))
	server web-3 $host:$((be_port + 2))

backend slow
	mode http
	balance leastconn
	http-reuse always
	option forwardfor
	http-request set-header X-Forwarded-Proto http
	http-request set-header X-Forwarded-Host %[req.hdr(host)]
	option httpchk GET $stats_path
	default-server check inter 2s rise 2 fall 3
	server web-2 $host:$((be_port + 1))
	server web-3 $host:$((be_port + 2))
	server slow $host:$((be_port + 3))

backend bulk
	mode tcp
	balance roundrobin
	option splice-auto # lbd splices too (io.Copy between TCP sockets)
	default-server check inter 2s rise 2 fall 3
	server sink-1 $host:$sink_port
	server sink-2 $host:$((sink_port + 1))
	server sink-3 $host:$((sink_port + 2))
EOF
haproxy -c -f "$tmp/haproxy/haproxy.cfg" >"$tmp/haproxy/check.log" 2>&1 || die "haproxy.cfg: $(cat "$tmp/haproxy/check.log")"
"${proxy_pin[@]}" haproxy -db -f "$tmp/haproxy/haproxy.cfg" >"$tmp/haproxy/haproxy.log" 2>&1 &
ha_pid=$!
pids+=("$!")

declare -A http_url slow_url tcp_addr pid_of
http_url[direct]=http://$host:$be_port/
http_url[haproxy]=http://$host:$ha_port/
http_url[lbd]=http://$host:$lbd_port/
slow_url[haproxy]=http://$host:$((ha_port + 1))/
slow_url[lbd]=http://$host:$((lbd_port + 1))/
tcp_addr[direct]=$host:$sink_port
tcp_addr[haproxy]=$host:$((ha_port + 2))
tcp_addr[lbd]=$host:$((lbd_port + 2))
pid_of[haproxy]=$ha_pid
pid_of[lbd]=$lbd_pid

for t in haproxy lbd; do
	wait_until "$t http frontend" curl -fsS --max-time 2 "${http_url[$t]}"
	wait_until "$t slow frontend" curl -fsS --max-time 2 "${slow_url[$t]}"
done
# Every member up on both sides (rise 2 at 2s) before measuring: a request
# per backend, round robin, must reach each of them.
settle() {
	local t before after i
	for t in haproxy lbd; do
		before=$(for i in 0 1 2; do curl -fsS --max-time 2 "http://$host:$((be_port + i))$stats_path"; echo; done)
		for i in 1 2 3 4 5 6; do curl -fsS --max-time 2 -o /dev/null "${http_url[$t]}"; done
		after=$(for i in 0 1 2; do curl -fsS --max-time 2 "http://$host:$((be_port + i))$stats_path"; echo; done)
		paste -d' ' <(echo "$before") <(echo "$after") | awk '$2 - $1 < 1 { bad = 1 } END { exit bad }' || return 1
	done
}
wait_until "every backend healthy behind both proxies" settle
log "haproxy $(haproxy -v | sed -n 's/^HAProxy version \([^ ]*\).*/\1/p') (pid $ha_pid, nbthread $PROXY_THREADS), lbd (pid $lbd_pid, GOMAXPROCS $PROXY_THREADS)${PROXY_CPUS:+, both on CPUs $PROXY_CPUS, load on $LOAD_CPUS}"

# --- rounds ------------------------------------------------------------------------
cat >"$tmp/report.lua" <<'EOF'
-- One JSON line at the end of a wrk run.
done = function(summary, latency, requests)
	local e = summary.errors
	io.write(string.format('{"requests":%d,"duration_s":%.3f,"rps":%.1f,"mean_ms":%.3f,"p50_ms":%.3f,"p99_ms":%.3f,"errors":%d}\n',
		summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6), latency.mean / 1000,
		latency:percentile(50) / 1000, latency:percentile(99) / 1000,
		e.connect + e.read + e.write + e.timeout + e.status))
end
EOF

# cpu_ns <pid>: the CPU time so far of every thread of the process.
cpu_ns() {
	[[ -n $1 ]] || { echo 0; return; }
	# shellcheck disable=SC2086
	cat /proc/$1/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f", s }'
}

# http_load <url> <conns> <duration>: one JSON line with requests, rps,
# p50_ms, p99_ms and errors, from wrk (or the fallback).
http_load() {
	local out line
	if ((use_wrk)); then
		out=$("${load_pin[@]}" wrk -t "$(($2 < THREADS ? $2 : THREADS))" -c "$2" -d "$3" --latency -s "$tmp/report.lua" "$1" 2>&1) ||
			die "wrk $1 failed: $out"
		line=$(echo "$out" | grep '^{"requests"' | tail -1)
	else
		out=$("${load_pin[@]}" "$CAIRN" bench gateway plain --url "${1%/}" --conns "$2" --duration "$3" -o json 2>&1) ||
			die "cairn bench gateway $1 failed: $out"
		line=$(echo "$out" | grep '^{' | tail -1 | sed 's/"throughput":/"rps":/')
	fi
	[[ -n $line ]] || die "no load result for $1: $out"
	echo "$line"
}

# measure <file> <target> <command...>: run the command (which prints one
# JSON line), add the target proxy's CPU ns during it (cpu_ns, null for
# direct) and the 1-minute load average, and write it to <file>.
measure() {
	local file=$1 t=$2 before after line load1 pprof_pid=""
	shift 2
	load1=$(cut -d' ' -f1 /proc/loadavg)
	before=$(cpu_ns "${pid_of[$t]:-}")
	if [[ $PPROF == 1 && $t == lbd && $file == *.r1.load.json ]]; then
		mkdir -p "$PPROF_DIR"
		curl -fsS --max-time 120 -o "$PPROF_DIR/$(basename "$file" .json).pprof" \
			"http://$lbd_admin/debug/pprof/profile?seconds=$(($(echo "$DURATION" | tr -dc 0-9) - 1))" &
		pprof_pid=$!
	fi
	line=$("$@")
	[[ -z $pprof_pid ]] || wait "$pprof_pid" || log "pprof of $file failed"
	after=$(cpu_ns "${pid_of[$t]:-}")
	awk -v line="$line" -v t="$t" -v b="$before" -v a="$after" -v l1="$load1" 'BEGIN {
		cpu = (t == "direct") ? "null" : sprintf("%.0f", a - b)
		sub(/}$/, sprintf(",\"cpu_ns\":%s,\"load1\":%s}", cpu, l1), line); print line }' >"$file"
	log "$(basename "$file" .json) $t: $(cat "$file")"
}

tcp_load() { "${load_pin[@]}" "$CAIRN" bench lb tcp --addr "$1" --conns "$TCP_CONNS" --duration "$DURATION" -o json; }

# slow_load <url>: http_load at SLOW_CONNS, with the slow backend's share
# of the requests (slow_share, %) added.
slow_load() {
	local before line
	before=$(slow_requests)
	line=$(http_load "$1" "$SLOW_CONNS" "$DURATION")
	awk -v line="$line" -v b="$before" -v a="$(slow_requests)" 'BEGIN {
		n = line; sub(/.*"requests":/, "", n); sub(/,.*/, "", n)
		sub(/}$/, sprintf(",\"slow_share\":%.3f", n > 0 ? 100 * (a - b) / n : 0) "}", line); print line }'
}

for sc in $SCENARIOS; do
	case $sc in
	http | tcp) order=(direct haproxy lbd) ;;
	slow) order=(haproxy lbd) ;;
	*) die "unknown scenario $sc (want http, tcp or slow)" ;;
	esac
	for ((k = 1; k <= ROUNDS; k++)); do
		for t in "${order[@]}"; do
			case $sc in
			http)
				measure "$tmp/http.$t.r$k.load.json" "$t" http_load "${http_url[$t]}" "$CONNECTIONS" "$DURATION"
				((LAT_CONNS == 0)) || measure "$tmp/http.$t.r$k.lat.json" "$t" http_load "${http_url[$t]}" "$LAT_CONNS" "$LAT_DURATION"
				;;
			tcp) measure "$tmp/tcp.$t.r$k.load.json" "$t" tcp_load "${tcp_addr[$t]}" ;;
			slow) measure "$tmp/slow.$t.r$k.load.json" "$t" slow_load "${slow_url[$t]}" ;;
			esac
		done
	done
done

# --- report ------------------------------------------------------------------------
# vals <scenario> <target> <phase> <field>: one value per round.
vals() { round_values "$tmp" "$1.$2" "$ROUNDS" "$3" "$4"; }
# per <a values> <b values> <scale>: the median of the per-round a/b*scale.
per() { paste -d' ' <(echo "$1") <(echo "$2") | awk -v s="$3" '$1 != "" && $2 > 0 { print $1 / $2 * s }' | median; }

echo
echo "lb-compare: $ROUNDS interleaved rounds; $(nproc) CPUs; proxies with $PROXY_THREADS threads${PROXY_CPUS:+ on CPUs $PROXY_CPUS (load on $LOAD_CPUS)};"
echo "HTTP load: $([[ $use_wrk == 1 ]] && echo "wrk -t$THREADS" || echo "cairn bench gateway") -c$CONNECTIONS -d$DURATION (latency pass -c$LAT_CONNS -d$LAT_DURATION; slow -c$SLOW_CONNS); TCP: $TCP_CONNS connections for $DURATION"
loads=$(cat "$tmp"/*.json | sed -n 's/.*"load1":\([0-9.]*\).*/\1/p' | sort -g)
echo "1-minute load average when each run started: $(echo "$loads" | head -1)-$(echo "$loads" | tail -1), median $(echo "$loads" | median)"
for sc in $SCENARIOS; do
	echo
	case $sc in
	http)
		printf '%-6s %-8s %10s %8s %8s %11s %11s %9s %6s %16s\n' http target "req/s" "p50 ms" "p99 ms" "+p50 c=$LAT_CONNS" "+p99 c=$LAT_CONNS" "CPU µs/r" errors "lbd/haproxy"
		dp50=$(vals http direct lat p50_ms)
		dp99=$(vals http direct lat p99_ms)
		for t in direct haproxy lbd; do
			rps=$(vals http "$t" load rps)
			add50="" add99="" cpu="" ratio="-"
			if ((LAT_CONNS > 0)) && [[ $t != direct ]]; then
				add50=$(diffs "$(vals http "$t" lat p50_ms)" "$dp50" | median)
				add99=$(diffs "$(vals http "$t" lat p99_ms)" "$dp99" | median)
			fi
			[[ $t == direct ]] || cpu=$(per "$(vals http "$t" load cpu_ns)" "$(vals http "$t" load requests)" 0.001)
			[[ $t != lbd ]] || ratio=$(ratio_stats "$rps" "$(vals http haproxy load rps)")
			printf '%-6s %-8s %10s %8s %8s %11s %11s %9s %6s %16s\n' "" "$t" "$(fmt "$(echo "$rps" | median)" %.0f)" \
				"$(fmt "$(vals http "$t" load p50_ms | median)" %.2f)" "$(fmt "$(vals http "$t" load p99_ms | median)" %.2f)" \
				"$(fmt "$add50" %.3f)" "$(fmt "$add99" %.3f)" "$(fmt "$cpu" %.1f)" \
				"$(vals http "$t" load errors | awk '{ s += $1 } END { print s + 0 }')" "$ratio"
		done
		;;
	tcp)
		printf '%-6s %-8s %8s %12s %7s %16s\n' tcp target "Gb/s" "CPU s/GB" failed "lbd/haproxy"
		for t in direct haproxy lbd; do
			g=$(vals tcp "$t" load gbps)
			cpu="" ratio="-"
			[[ $t == direct ]] || cpu=$(per "$(vals tcp "$t" load cpu_ns)" "$(vals tcp "$t" load acked)" 1)
			[[ $t != lbd ]] || ratio=$(ratio_stats "$g" "$(vals tcp haproxy load gbps)")
			printf '%-6s %-8s %8s %12s %7s %16s\n' "" "$t" "$(fmt "$(echo "$g" | median)" %.2f)" "$(fmt "$cpu" %.3f)" \
				"$(vals tcp "$t" load failed | awk '{ s += $1 } END { print s + 0 }')" "$ratio"
		done
		;;
	slow)
		printf '%-6s %-8s %10s %8s %8s %8s %9s %6s %16s %16s\n' slow target "req/s" "p50 ms" "p99 ms" "slow %" "CPU µs/r" errors "p99 lbd/haproxy" "req/s lbd/hap"
		for t in haproxy lbd; do
			p99=$(vals slow "$t" load p99_ms)
			ratio="-" rratio="-"
			if [[ $t == lbd ]]; then
				ratio=$(ratio_stats "$p99" "$(vals slow haproxy load p99_ms)")
				rratio=$(ratio_stats "$(vals slow lbd load rps)" "$(vals slow haproxy load rps)")
			fi
			printf '%-6s %-8s %10s %8s %8s %8s %9s %6s %16s %16s\n' "" "$t" "$(fmt "$(vals slow "$t" load rps | median)" %.0f)" \
				"$(fmt "$(vals slow "$t" load p50_ms | median)" %.2f)" "$(fmt "$(echo "$p99" | median)" %.2f)" \
				"$(fmt "$(vals slow "$t" load slow_share | median)" %.2f)" \
				"$(fmt "$(per "$(vals slow "$t" load cpu_ns)" "$(vals slow "$t" load requests)" 0.001)" %.1f)" \
				"$(vals slow "$t" load errors | awk '{ s += $1 } END { print s + 0 }')" "$ratio" "$rratio"
		done
		;;
	esac
done
echo
echo "(medians over rounds; +p50/+p99: median of the per-round differences to direct at c=$LAT_CONNS, ms; CPU: the proxy's"
echo " CPU time per request or per GB acknowledged, all threads; slow %: the slow backend's share of the requests;"
echo " x/y: median of the per-round ratios (min-max). Goals: http req/s >= 1.0x, tcp Gb/s >= 0.9x, slow p99 < 1.0x)"
