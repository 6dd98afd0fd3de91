#!/usr/bin/env bash
# gateway-compare.sh — compare cairn's API gateway (gatewayd) with nginx, Caddy
# and Traefik as reverse proxies on this machine, all in front of the same
# fixed upstream (`cairn bench gateway --serve-upstream`: a 100-byte JSON body
# over HTTP/1.1), loaded by wrk with keep-alive connections:
#
#  a. plain: GET /plain proxied as is — nginx (proxy_pass to a keepalive
#     upstream block, X-Forwarded-* and X-Request-Id set as the gateway sets
#     them), Caddy (reverse_proxy), Traefik (file provider, one router), and
#     gatewayd (the route "plain" of `cairn bench gateway --print-config`);
#  b. auth: GET /auth/plain with a bearer JWT (HS256) and a per-consumer rate
#     limit far above the load — gatewayd (a jwt provider with a static key,
#     one consumer, a local rate limit) against nginx with an njs check
#     (bench/gateway-compare.njs: HS256 signature, alg, exp and nbf with 30 s
#     leeway, iss, and a known consumer in sub; then limit_req keyed by the
#     consumer). Caddy and Traefik have no JWT check in their standard builds,
#     so they sit this one out;
#  c. cached: GET /cache/cacheable (the upstream says Cache-Control: public,
#     max-age=60) — gatewayd's response cache (a local in-memory tier in front
#     of one cached node) against nginx's proxy_cache (files under the run's
#     temporary directory, so the page cache). The upstream's request counter
#     shows how many requests each one let through.
#
# Every scenario also runs wrk straight against the upstream (direct), the
# baseline of the "added latency" columns. Rounds are interleaved (direct,
# nginx, cairn, caddy, cairn, ... in each round; the servers stay up for the
# whole run), because a shared host's speed drifts from second to second: the
# table shows the median of each target and, for each anchor, the median of
# the per-round cairn/anchor ratios with their min-max. Each target runs
# twice per round: at CONNS connections (throughput; its latency is mostly
# queueing) and at LAT_CONNS connections for LAT_DURATION (the latency a
# request pays when the proxy is not saturated). Each proxy's CPU time per
# request (all its processes' threads, /proc/<pid>/task/*/schedstat) moves
# far less with the host's drift than req/s does.
#
# wrk, nginx (with its njs module) and caddy come from Debian's packages,
# installed with apt-get only when missing. Traefik is built once from the Go
# module proxy (TRAEFIK_VERSION) through a wrapper module that copies
# Traefik's own replace and exclude lines, under ~/.cache/cairn-bench, with
# nice; if that fails the run goes on without it (the log says why).
#
# Requires `make build` (bin/cairn with `cairn gatewayd`, `cairn cached` and
# `cairn bench gateway`). Everything started here is stopped on exit.
#
# Environment: ROUNDS (default 5), DURATION (wrk -d per target and round,
# default 10s), CONNS (wrk -c, default 50), THREADS (wrk -t, default 2),
# LAT_CONNS (default 1; 0 skips the latency pass), LAT_DURATION (default 5s),
# SCENARIOS (default "plain auth cached"), ANCHORS (default "nginx caddy
# traefik"), CAIRN_GATEWAY (1: run gatewayd, default; 0: only the anchors and
# direct), GATEWAYD_FLAGS (extra `cairn gatewayd` flags), BASE_PORT (upstream;
# nginx +1, caddy +2, traefik +3, gatewayd +4 (its gRPC +5, admin +6), cached
# +10..+12; default 28600), TRAEFIK (a traefik binary to use instead of building one),
# TRAEFIK_VERSION (default v3.6.12), CAIRN (default bin/cairn), HEALTH_TIMEOUT
# (seconds, default 60).
set -euo pipefail

cd "$(dirname "$0")/.."
CAIRN=${CAIRN:-bin/cairn}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-50}
THREADS=${THREADS:-2}
LAT_CONNS=${LAT_CONNS:-1}
LAT_DURATION=${LAT_DURATION:-5s}
SCENARIOS=${SCENARIOS:-plain auth cached}
ANCHORS=${ANCHORS:-nginx caddy traefik}
CAIRN_GATEWAY=${CAIRN_GATEWAY:-1}
GATEWAYD_FLAGS=${GATEWAYD_FLAGS:-}
BASE_PORT=${BASE_PORT:-28600}
TRAEFIK=${TRAEFIK:-}
TRAEFIK_VERSION=${TRAEFIK_VERSION:-v3.6.12}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-60}
SCRIPT=gateway-compare.sh

# shellcheck source=bench/lib.sh
. bench/lib.sh

[[ -x $CAIRN ]] || die "$CAIRN not found; run 'make build' first"
"$CAIRN" bench gateway --help >/dev/null 2>&1 || die "$CAIRN has no 'bench gateway'; run 'make build'"
if [[ $CAIRN_GATEWAY == 1 ]]; then
	"$CAIRN" gatewayd --help >/dev/null 2>&1 || die "$CAIRN has no 'gatewayd' (CAIRN_GATEWAY=0 runs the anchors alone)"
fi
need_pkgs wrk=wrk nginx=nginx caddy=caddy curl=curl
[[ -f /usr/lib/nginx/modules/ngx_http_js_module.so ]] || need_pkgs /usr/lib/nginx/modules/ngx_http_js_module.so=libnginx-mod-http-js

up_port=$BASE_PORT
nginx_port=$((BASE_PORT + 1))
caddy_port=$((BASE_PORT + 2))
traefik_port=$((BASE_PORT + 3))
cairn_port=$((BASE_PORT + 4))
cached_port=$((BASE_PORT + 10))

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cairn-gateway-compare.XXXXXX")
pids=()
cleanup() {
	stop_pids "${pids[@]}"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- Traefik ---------------------------------------------------------------------
# build_traefik: prints the path of a traefik binary, building it once per
# version from the Go module proxy; fails (with the reason in the log) when it
# cannot.
build_traefik() {
	local dir=$HOME/.cache/cairn-bench/traefik-$TRAEFIK_VERSION mod gomod
	mod=github.com/traefik/traefik/v3
	if [[ -x $dir/traefik ]]; then
		echo "$dir/traefik"
		return 0
	fi
	command -v go >/dev/null 2>&1 || { log "traefik: no go toolchain to build it"; return 1; }
	mkdir -p "$dir"
	log "traefik: building $TRAEFIK_VERSION in $dir (once; takes minutes)"
	gomod=$(cd "$dir" && go mod download -json "$mod@$TRAEFIK_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
	[[ -f $gomod ]] || { log "traefik: go mod download $mod@$TRAEFIK_VERSION failed"; return 1; }
	{
		echo "module cairn.dev/cairn-bench/traefik"
		echo
		sed -n 's/^go \([0-9.]*\)$/go \1/p' "$gomod"
		echo
		# Traefik's own replace and exclude directives, one-line and block forms:
		# a wrapper module must repeat them, or its dependencies resolve elsewhere.
		awk '/^(replace|exclude) \($/ { block = 1 } block { print; if ($0 == ")") block = 0; next } /^(replace|exclude) / { print }' "$gomod"
	} >"$dir/go.mod"
	rm -f "$dir/go.sum"
	if ! (cd "$dir" && nice -n 19 go get "$mod/cmd/traefik@$TRAEFIK_VERSION" &&
		nice -n 19 go build -trimpath -ldflags "-X $mod/pkg/version.Version=$TRAEFIK_VERSION" -o traefik.tmp "$mod/cmd/traefik" &&
		mv traefik.tmp traefik) >"$dir/build.log" 2>&1; then
		log "traefik: build failed (see $dir/build.log):"
		tail -5 "$dir/build.log" >&2
		return 1
	fi
	echo "$dir/traefik"
}

# --- servers -----------------------------------------------------------------------
targets=(direct) # what wrk loads, in round order; cairn goes between the anchors
declare -A url pid_of
url[direct]=http://127.0.0.1:$up_port

"$CAIRN" bench gateway --serve-upstream "127.0.0.1:$up_port" >"$tmp/upstream.log" 2>&1 &
pids+=("$!")
wait_until upstream curl -fsS --max-time 2 "${url[direct]}/plain"
log "upstream: ${url[direct]}"
upstream_requests() { curl -fsS --max-time 5 "${url[direct]}/_upstream/requests"; }

# A fresh HS256 key for the run: gatewayd's provider and nginx's check use it.
secret=$(head -c 32 /dev/urandom | base64 -w0)
token=$("$CAIRN" bench gateway --print-token --jwt-secret "$secret")

start_nginx() {
	mkdir -p "$tmp/nginx/cache"
	sed -e "s|@SECRET@|$secret|" bench/gateway-compare.njs >"$tmp/nginx/jwt.js"
	cat >"$tmp/nginx/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_http_js_module.so;
$([[ $(id -u) -ne 0 ]] || echo "user root; # the workers write the cache under the run's private directory")
worker_processes auto;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $tmp/nginx/body;
	proxy_temp_path $tmp/nginx/proxy;
	fastcgi_temp_path $tmp/nginx/fastcgi;
	uwsgi_temp_path $tmp/nginx/uwsgi;
	scgi_temp_path $tmp/nginx/scgi;
	js_path $tmp/nginx;
	js_import jwt from jwt.js;
	js_set \$jwt_consumer jwt.consumer;
	limit_req_zone \$consumer zone=perconsumer:1m rate=1000000r/s;
	proxy_cache_path $tmp/nginx/cache levels=1:2 keys_zone=bench:10m max_size=64m inactive=10m use_temp_path=off;
	upstream bench { server 127.0.0.1:$up_port; keepalive 256; }
	server {
		listen 127.0.0.1:$nginx_port;
		proxy_http_version 1.1;
		proxy_set_header Connection "";
		proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
		proxy_set_header X-Forwarded-Proto \$scheme;
		proxy_set_header X-Forwarded-Host \$host;
		proxy_set_header X-Request-Id \$request_id;
		location / { proxy_pass http://bench; }
		location /auth/ {
			set \$consumer \$jwt_consumer; # verify once per request
			if (\$consumer = "") { return 401; }
			limit_req zone=perconsumer burst=1000000 nodelay;
			proxy_pass http://bench;
		}
		location /cache/ {
			proxy_cache bench;
			add_header X-Cache \$upstream_cache_status;
			proxy_pass http://bench;
		}
	}
}
EOF
	nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" >"$tmp/nginx/stdout.log" 2>&1 &
	pid_of[nginx]=$!
	pids+=("$!")
	url[nginx]=http://127.0.0.1:$nginx_port
}

start_caddy() {
	mkdir -p "$tmp/caddy"
	cat >"$tmp/caddy/Caddyfile" <<EOF
{
	admin off
	auto_https off
}
http://127.0.0.1:$caddy_port {
	reverse_proxy 127.0.0.1:$up_port
}
EOF
	XDG_DATA_HOME=$tmp/caddy XDG_CONFIG_HOME=$tmp/caddy \
		caddy run --config "$tmp/caddy/Caddyfile" --adapter caddyfile >"$tmp/caddy/caddy.log" 2>&1 &
	pid_of[caddy]=$!
	pids+=("$!")
	url[caddy]=http://127.0.0.1:$caddy_port
}

start_traefik() {
	local bin=$TRAEFIK
	[[ -n $bin ]] || bin=$(build_traefik) || return 1
	mkdir -p "$tmp/traefik"
	cat >"$tmp/traefik/dynamic.yml" <<EOF
http:
  routers:
    bench:
      entryPoints: [web]
      rule: PathPrefix(\`/\`)
      service: bench
  services:
    bench:
      loadBalancer:
        servers:
          - url: http://127.0.0.1:$up_port
EOF
	"$bin" --entryPoints.web.address="127.0.0.1:$traefik_port" --providers.file.filename="$tmp/traefik/dynamic.yml" \
		--log.level=ERROR --global.checkNewVersion=false --global.sendAnonymousUsage=false \
		>"$tmp/traefik/traefik.log" 2>&1 &
	pid_of[traefik]=$!
	pids+=("$!")
	url[traefik]=http://127.0.0.1:$traefik_port
	log "traefik: $bin, version $("$bin" version 2>/dev/null | sed -n 's/^Version: *//p') (built from $TRAEFIK_VERSION unless TRAEFIK was set)"
}

start_cairn() {
	local cache_flags=() cached_pid=""
	mkdir -p "$tmp/cairn"
	if [[ " $SCENARIOS " == *" cached "* ]]; then
		"$CAIRN" cached --id cached-bench --grpc-addr "127.0.0.1:$cached_port" --admin-addr "127.0.0.1:$((cached_port + 1))" \
			--resp-addr "127.0.0.1:$((cached_port + 2))" --insecure >"$tmp/cairn/cached.log" 2>&1 &
		cached_pid=$!
		pids+=("$!")
		wait_until cached "$CAIRN" cache ring --endpoints "127.0.0.1:$cached_port" --insecure --timeout 2s
		cache_flags=(--cache-endpoints "127.0.0.1:$cached_port")
	fi
	"$CAIRN" bench gateway --print-config --jwt-secret "$secret" --upstream "127.0.0.1:$up_port" >"$tmp/cairn/gateway.yaml"
	# shellcheck disable=SC2086
	"$CAIRN" gatewayd --id gatewayd-bench --insecure --config-file "$tmp/cairn/gateway.yaml" --http-addr "127.0.0.1:$cairn_port" \
		--grpc-addr "127.0.0.1:$((cairn_port + 1))" --admin-addr "127.0.0.1:$((cairn_port + 2))" "${cache_flags[@]}" $GATEWAYD_FLAGS >"$tmp/cairn/gatewayd.log" 2>&1 &
	pid_of[cairn]="$! ${cached_pid:-}" # the CPU columns count cached too
	pids+=("$!")
	url[cairn]=http://127.0.0.1:$cairn_port
}

anchors=()
for a in $ANCHORS; do
	case $a in
	nginx) start_nginx ;;
	caddy) start_caddy ;;
	traefik) start_traefik || { log "traefik: skipped"; continue; } ;;
	*) die "unknown anchor $a (want nginx, caddy or traefik)" ;;
	esac
	anchors+=("$a")
done
[[ $CAIRN_GATEWAY != 1 ]] || start_cairn
for t in "${anchors[@]}" $([[ $CAIRN_GATEWAY == 1 ]] && echo cairn); do
	wait_until "$t" curl -fsS --max-time 2 "${url[$t]}/plain"
	log "$t: ${url[$t]} (pid ${pid_of[$t]})"
done
log "nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), caddy $(caddy version | cut -d' ' -f1), wrk $(wrk -v 2>&1 | sed -n 's/^wrk \([^ ]*\).*/\1/p')"

# serves <target> <scenario>: whether the target takes part in the scenario.
serves() {
	case $1/$2 in
	direct/* | cairn/* | */plain | nginx/auth | nginx/cached) return 0 ;;
	*) return 1 ;;
	esac
}

# Check every (target, scenario) once before measuring: a 200, and for the
# cached scenario a hit on the second request.
for sc in $SCENARIOS; do
	path=$(case $sc in plain) echo /plain ;; auth) echo /auth/plain ;; cached) echo /cache/cacheable ;; *) die "unknown scenario $sc" ;; esac)
	for t in direct "${anchors[@]}" $([[ $CAIRN_GATEWAY == 1 ]] && echo cairn); do
		serves "$t" "$sc" || continue
		code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "${url[$t]}$path")
		[[ $code == 200 ]] || die "$t: GET $path answered $code"
		if [[ $sc == auth && $t != direct ]]; then
			code=$(curl -s -o /dev/null -w '%{http_code}' "${url[$t]}$path")
			[[ $code == 401 ]] || die "$t: GET $path without a token answered $code, want 401"
			code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${token%?}x" "${url[$t]}$path")
			[[ $code == 401 ]] || die "$t: GET $path with a bad signature answered $code, want 401"
		fi
		if [[ $sc == cached && $t != direct ]]; then
			curl -s -D "$tmp/headers" -o /dev/null "${url[$t]}$path"
			grep -qiE '^(x-cache: hit|cache-status: .*; *hit)' "$tmp/headers" || die "$t: GET $path twice: no cache hit: $(cat "$tmp/headers")"
		fi
	done
done

# --- rounds ------------------------------------------------------------------------
cat >"$tmp/report.lua" <<'EOF'
-- One JSON line at the end of a wrk run.
done = function(summary, latency, requests)
	local e = summary.errors
	io.write(string.format('{"requests":%d,"duration_s":%.3f,"rps":%.1f,"mean_ms":%.3f,"p50_ms":%.3f,"p99_ms":%.3f,"errors":%d,"non2xx":%d}\n',
		summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6), latency.mean / 1000,
		latency:percentile(50) / 1000, latency:percentile(99) / 1000,
		e.connect + e.read + e.write + e.timeout + e.status, e.status))
end
EOF

# cpu_ns <pid>...: the CPU time so far of every thread of the pids and of
# their children (nginx's workers).
cpu_ns() {
	local p all=("$@")
	for p in "$@"; do all+=($(pgrep -P "$p")); done
	# shellcheck disable=SC2046
	cat $(for p in "${all[@]}"; do printf '/proc/%s/task/*/schedstat ' "$p"; done) 2>/dev/null | awk '{ s += $1 } END { printf "%.0f", s }'
}

# load <scenario> <target> <round> <phase> <conns> <duration>: one wrk run into
# $tmp/<scenario>.<target>.r<round>.<phase>.json, with the proxy's CPU ns per
# request (cpu_ns) and the upstream's requests meanwhile (upstream) added.
load() {
	local sc=$1 t=$2 k=$3 phase=$4 c=$5 d=$6 path before_cpu=0 before_up out line load1
	load1=$(cut -d' ' -f1 /proc/loadavg)
	path=$(case $sc in plain) echo /plain ;; auth) echo /auth/plain ;; cached) echo /cache/cacheable ;; esac)
	# shellcheck disable=SC2086
	[[ $t == direct ]] || before_cpu=$(cpu_ns ${pid_of[${t%@*}]})
	before_up=$(upstream_requests)
	out=$(wrk -t "$((c < THREADS ? c : THREADS))" -c "$c" -d "$d" --latency -s "$tmp/report.lua" \
		-H "Authorization: Bearer $token" "${url[${t%@*}]}$path" 2>&1) || die "wrk against $t failed: $out"
	line=$(echo "$out" | grep '^{"requests"' | tail -1)
	[[ -n $line ]] || die "wrk against $t printed no result: $out"
	awk -v line="$line" -v t="$t" -v b="$before_cpu" -v a="$([[ $t == direct ]] && echo 0 || cpu_ns ${pid_of[${t%@*}]})" \
		-v ub="$before_up" -v ua="$(upstream_requests)" -v l1="$load1" 'BEGIN {
		n = line; sub(/.*"requests":/, "", n); sub(/,.*/, "", n)
		cpu = (t == "direct" || n == 0) ? "null" : sprintf("%.0f", (a - b) / n)
		sub(/}$/, sprintf(",\"cpu_ns\":%s,\"upstream\":%d,\"load1\":%s}", cpu, ua - ub, l1), line); print line }' \
		>"$tmp/$sc.$t.r$k.$phase.json"
	log "$sc r$k $phase $t: $(cat "$tmp/$sc.$t.r$k.$phase.json")"
}

for sc in $SCENARIOS; do
	# Each round: direct, then every anchor of the scenario followed by cairn
	# (stored as cairn@<anchor>, so each ratio pairs runs that were adjacent).
	order=(direct)
	for a in "${anchors[@]}"; do
		serves "$a" "$sc" || continue
		order+=("$a")
		[[ $CAIRN_GATEWAY != 1 ]] || order+=("cairn@$a")
	done
	[[ $CAIRN_GATEWAY != 1 || ${#order[@]} -gt 1 ]] || order+=(cairn@none)
	for ((k = 1; k <= ROUNDS; k++)); do
		for t in "${order[@]}"; do
			load "$sc" "$t" "$k" load "$CONNS" "$DURATION"
			((LAT_CONNS == 0)) || load "$sc" "$t" "$k" lat "$LAT_CONNS" "$LAT_DURATION"
		done
	done
done

# --- report ------------------------------------------------------------------------
# values <scenario> <target> <phase> <field>: one value per round; target
# cairn stands for the median of every cairn@<anchor> run of the round.
values() {
	local k f t=$2
	[[ $t != cairn ]] || t='cairn@*'
	for ((k = 1; k <= ROUNDS; k++)); do
		for f in "$tmp/$1".$t".r$k.$3.json"; do
			[[ -f $f ]] && field "$f" "$4" && echo
		done | median
		echo
	done
}

echo
echo "gateway-compare: $ROUNDS interleaved rounds; wrk -t$THREADS -c$CONNS -d$DURATION (load) and -c$LAT_CONNS -d$LAT_DURATION (latency);"
loads=$(cat "$tmp"/*.json | sed -n 's/.*"load1":\([0-9.]*\).*/\1/p' | sort -g)
echo "$(nproc) CPUs; 1-minute load average when each wrk run started: $(echo "$loads" | head -1)-$(echo "$loads" | tail -1),"
echo "median $(echo "$loads" | median) (the host is shared: compare ratios and CPU per request, not absolutes)"
for sc in $SCENARIOS; do
	echo
	printf '%-8s %-8s %10s %9s %9s %10s %10s %9s %9s %8s %9s\n' "$sc" target "req/s" "p50 ms" "p99 ms" "+p50 c=$LAT_CONNS" "+p99 c=$LAT_CONNS" "CPU µs/r" "errors" "upstr/1k" "cairn/x"
	dp50=$(values "$sc" direct lat p50_ms)
	dp99=$(values "$sc" direct lat p99_ms)
	for t in direct "${anchors[@]}" $([[ $CAIRN_GATEWAY == 1 ]] && echo cairn); do
		serves "$t" "$sc" || continue
		rps=$(values "$sc" "$t" load rps)
		add50="" add99=""
		if ((LAT_CONNS > 0)); then
			add50=$(diffs "$(values "$sc" "$t" lat p50_ms)" "$dp50" | median)
			add99=$(diffs "$(values "$sc" "$t" lat p99_ms)" "$dp99" | median)
		fi
		errs=$(values "$sc" "$t" load errors | awk '{ s += $1 } END { print s + 0 }')
		upk=$(paste -d' ' <(values "$sc" "$t" load upstream) <(values "$sc" "$t" load requests) |
			awk '$2 > 0 { print 1000 * $1 / $2 }' | median)
		ratio="-"
		[[ $t == cairn || $t == direct || $CAIRN_GATEWAY != 1 ]] || ratio=$(ratio_stats "$(values "$sc" "cairn@$t" load rps)" "$rps")
		printf '%-8s %-8s %10s %9s %9s %10s %10s %9s %9s %8s %9s\n' "" "$t" "$(fmt "$(echo "$rps" | median)" %.0f)" \
			"$(fmt "$(values "$sc" "$t" load p50_ms | median)" %.2f)" "$(fmt "$(values "$sc" "$t" load p99_ms | median)" %.2f)" \
			"$(fmt "$add50" %.3f)" "$(fmt "$add99" %.3f)" "$(fmt "$(values "$sc" "$t" load cpu_ns | grep -v null | median)" %.0f | awk '$1 != "-" { printf "%.1f", $1 / 1000; next } { print }')" \
			"$errs" "$(fmt "$upk" %.1f)" "$ratio"
	done
done
echo
echo "(req/s, p50, p99: medians over rounds at c=$CONNS; +p50/+p99: median of the per-round differences to direct at c=$LAT_CONNS, ms;"
echo " CPU µs/r: the proxy's CPU time per request, all processes and threads; upstr/1k: upstream requests per 1000 answered;"
echo " cairn/x: median of the per-round req/s ratios cairn/anchor, (min-max); cairn runs after every anchor in a round)"
