#!/usr/bin/env bash
# s3-compat.sh — run Debian's awscli (/usr/bin/aws, awscli 2.9.19) and s3cmd
# (/usr/bin/s3cmd, 2.3.0) against the S3 API of a fresh 3-node blobd cluster
# and check what they print: buckets (mb, rb, ls, head, location), uploads
# and downloads byte for byte (a small object with headers and metadata, a
# 20 MB object that awscli sends as a multipart upload, a 17 MB one s3cmd
# sends in 5 MB parts), recursive listings, ranged reads, copies, presigned
# URLs fetched with curl, sync up and down (a second sync uploads nothing),
# multi-delete, multipart bookkeeping (create, list, abort), lifecycle rules,
# storage classes and restores, and the error codes of bad requests and bad
# signatures. It prints one line per check and a summary, and exits 1 on any
# mismatch.
#
# It builds nothing: it runs $CAIRN (default bin/cairn; `make build` first).
# /usr/bin/aws is named explicitly, since a pip-installed awscli may come
# first on PATH; awscli and s3cmd are installed with apt-get when missing.
# The cluster runs with TLS (awscli, s3cmd and curl trust the cluster CA
# through AWS_CA_BUNDLE / CURL_CA_BUNDLE from `cairn cluster env`) unless
# INSECURE=1; it is stopped and its directory removed on exit.
#
# Environment: CAIRN (binary), BASE_PORT (default 17600: the cluster's
# --base-port), INSECURE=1 (plain HTTP), HEALTH_TIMEOUT (seconds, default
# 60), VERBOSE=1 (print every command's output). S3_ENDPOINT, with
# AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_CA_BUNDLE for https),
# runs the checks against an S3 API that is already up instead of starting
# a cluster (the checks that need the cairn CLI are then skipped).
set -euo pipefail

cd "$(dirname "$0")/.."
CAIRN=${CAIRN:-bin/cairn}
BASE_PORT=${BASE_PORT:-17600}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-60}
INSECURE=${INSECURE:-0}
SCRIPT=s3-compat.sh
AWS=/usr/bin/aws
S3CMD=/usr/bin/s3cmd

# shellcheck source=bench/lib.sh
. bench/lib.sh

need_pkgs "$AWS=awscli" "$S3CMD=s3cmd" python3=python3 curl=curl
log "$($AWS --version 2>&1); s3cmd $($S3CMD --version 2>&1 | awk '{print $3}')"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cairn-s3-compat.XXXXXX")
cairn_up=0
cleanup() {
	if [[ $cairn_up -eq 1 ]]; then
		"$CAIRN" cluster down >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

with_cairn=0
if [[ -n ${S3_ENDPOINT:-} ]]; then
	endpoint=$S3_ENDPOINT
	log "S3 API at $endpoint (no cluster started)"
else
	[[ -x $CAIRN ]] || die "$CAIRN not found; run 'make build' first"
	export CAIRN_CLUSTER_DIR=$tmp/cairn
	up_flags=(--detach --no-fault-proxy --services blobd --nodes 3 --base-port "$BASE_PORT")
	[[ $INSECURE == 1 ]] && up_flags+=(--insecure)
	log "blobd: starting a 3-node cluster in $CAIRN_CLUSTER_DIR (base port $BASE_PORT)"
	cairn_up=1
	"$CAIRN" cluster up "${up_flags[@]}" >"$tmp/up.log" 2>&1 || {
		cat "$tmp/up.log" >&2
		die "the blobd cluster did not start"
	}
	# The exports: CAIRN_S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
	# AWS_DEFAULT_REGION and, with TLS, AWS_CA_BUNDLE and CURL_CA_BUNDLE.
	eval "$("$CAIRN" cluster env)"
	endpoint=${CAIRN_S3_ENDPOINT:-}
	with_cairn=1
fi
[[ -n $endpoint && -n ${AWS_ACCESS_KEY_ID:-} && -n ${AWS_SECRET_ACCESS_KEY:-} ]] ||
	die "no S3 endpoint or keys (cairn cluster env exported none?)"
export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1}
[[ -n ${AWS_CA_BUNDLE:-} ]] && export CURL_CA_BUNDLE=${CURL_CA_BUNDLE:-$AWS_CA_BUNDLE}
# awscli reads nothing of the user's own configuration.
export AWS_CONFIG_FILE=$tmp/aws-config AWS_SHARED_CREDENTIALS_FILE=$tmp/aws-credentials
export AWS_PAGER="" AWS_EC2_METADATA_DISABLED=true
: >"$AWS_CONFIG_FILE"
log "S3 at $endpoint, region $AWS_DEFAULT_REGION, key $AWS_ACCESS_KEY_ID"

# s3cmd's configuration: path-style requests to the endpoint.
hostport=${endpoint#*://}
use_https=True
[[ $endpoint == http://* ]] && use_https=False
cat >"$tmp/s3cfg" <<EOF
[default]
access_key = $AWS_ACCESS_KEY_ID
secret_key = $AWS_SECRET_ACCESS_KEY
host_base = $hostport
host_bucket = $hostport
use_https = $use_https
ca_certs_file = ${AWS_CA_BUNDLE:-}
signature_v2 = False
bucket_location = $AWS_DEFAULT_REGION
progress_meter = False
EOF

# aws <args...>: awscli against $endpoint; output on stdout, errors in $tmp/err.
aws() { "$AWS" --endpoint-url "$endpoint" --output json "$@" 2>"$tmp/err"; }
s3cmd() { "$S3CMD" -c "$tmp/s3cfg" "$@" 2>"$tmp/err"; }

passed=0
failed=0
ok() {
	passed=$((passed + 1))
	echo "ok    $1"
}
bad() {
	failed=$((failed + 1))
	echo "FAIL  $1" >&2
	[[ -s $tmp/err ]] && sed 's/^/      /' "$tmp/err" >&2
	return 0
}
# run <name> <tool> <args...>: run aws or s3cmd, keep its output in $out,
# and count a failure (with the tool's error) when it fails.
out=""
run() {
	local name=$1
	shift
	if out=$("$@"); then
		[[ ${VERBOSE:-0} == 1 ]] && echo "$out" | sed 's/^/      /'
		return 0
	fi
	bad "$name: $1 ${2:-} ${3:-} failed"
	out="{}"
	return 1
}
# py <expression> [json]: evaluate a Python expression over the JSON
# document d (default $out) and print the result.
py() {
	python3 -c 'import json,sys; d=json.loads(sys.argv[2] or "{}"); r=eval(sys.argv[1]); print(r if not isinstance(r, (dict, list)) else json.dumps(r, sort_keys=True))' "$1" "${2:-$out}"
}
# expect <name> <want> <got>
expect() {
	if [[ $2 == "$3" ]]; then ok "$1"; else
		: >"$tmp/err"
		bad "$1: want $2, got $3"
	fi
}
# expect_error <name> <code> <tool> <args...>: the command must fail with code.
expect_error() {
	local name=$1 code=$2
	shift 2
	if "$@" >/dev/null; then
		: >"$tmp/err"
		bad "$name: succeeded, want $code"
	elif grep -qF "$code" "$tmp/err"; then
		ok "$name: $code"
	else
		bad "$name: want $code"
	fi
}
md5f() { md5sum "$1" | cut -d' ' -f1; }

b=compat-bucket
b2=compat-s3cmd

# --- buckets ----------------------------------------------------------------
run "s3 mb" aws s3 mb "s3://$b" && ok "aws s3 mb s3://$b"
expect_error "s3 mb of an existing bucket" BucketAlreadyOwnedByYou aws s3 mb "s3://$b"
expect_error "create-bucket with a bad name" InvalidBucketName aws s3api create-bucket --bucket Bad_Bucket_Name
run head-bucket aws s3api head-bucket --bucket "$b" && ok "s3api head-bucket"
expect_error "head-bucket of a missing bucket" 404 aws s3api head-bucket --bucket no-such-bucket
run get-bucket-location aws s3api get-bucket-location --bucket "$b" &&
	expect "get-bucket-location: us-east-1 is null" None "$(py 'd.get("LocationConstraint")')"
run list-buckets aws s3api list-buckets &&
	expect "list-buckets names $b" True "$(py '"'"$b"'" in [x["Name"] for x in d["Buckets"]]')"

# --- objects ----------------------------------------------------------------
printf 'hello from awscli\n' >"$tmp/small.txt"
head -c 20000005 /dev/urandom >"$tmp/big.bin"
run "cp small up" aws s3 cp "$tmp/small.txt" "s3://$b/docs/small.txt" --content-type text/plain --metadata who=awscli,team=storage \
	--cache-control max-age=60 --content-disposition inline && ok "aws s3 cp small.txt up, with headers and metadata"
run "cp big up" aws s3 cp "$tmp/big.bin" "s3://$b/videos/big.bin" && ok "aws s3 cp big.bin (20 MB, multipart) up"
run "cp big down" aws s3 cp "s3://$b/videos/big.bin" "$tmp/back.bin" &&
	expect "aws s3 cp big.bin down: the same bytes" "$(md5f "$tmp/big.bin")" "$(md5f "$tmp/back.bin")"
run head-object aws s3api head-object --bucket "$b" --key docs/small.txt &&
	expect "head-object: type, length, metadata, cache-control, disposition, etag" \
		"text/plain 18 awscli storage max-age=60 inline \"$(md5f "$tmp/small.txt")\"" \
		"$(py '" ".join([d["ContentType"], str(d["ContentLength"]), d["Metadata"]["who"], d["Metadata"]["team"], d["CacheControl"], d["ContentDisposition"], d["ETag"]])')"
run head-big aws s3api head-object --bucket "$b" --key videos/big.bin &&
	expect "head-object of the multipart upload: a 3-part etag, the size" "True 20000005" "$(py 'str(d["ETag"].endswith("-3\"")) + " " + str(d["ContentLength"])')"
run ranged-get aws s3api get-object --bucket "$b" --key videos/big.bin --range bytes=1000-1999 "$tmp/range.bin" &&
	expect "get-object --range bytes=1000-1999: those bytes and Content-Range" \
		"$(tail -c +1001 "$tmp/big.bin" | head -c 1000 | md5sum | cut -d' ' -f1) bytes 1000-1999/20000005" \
		"$(md5f "$tmp/range.bin") $(py 'd["ContentRange"]')"
run suffix-get aws s3api get-object --bucket "$b" --key videos/big.bin --range bytes=-100 "$tmp/suffix.bin" &&
	expect "get-object --range bytes=-100: the last 100 bytes" "$(tail -c 100 "$tmp/big.bin" | md5sum | cut -d' ' -f1)" "$(md5f "$tmp/suffix.bin")"
expect_error "get-object of a missing key" NoSuchKey aws s3api get-object --bucket "$b" --key missing "$tmp/x"
expect_error "get-object with a range past the end" InvalidRange aws s3api get-object --bucket "$b" --key docs/small.txt --range bytes=100-200 "$tmp/x"
etag=$(py 'd["ETag"]' "$(aws s3api head-object --bucket "$b" --key docs/small.txt || echo '{}')")
expect_error "get-object --if-match another etag" PreconditionFailed aws s3api get-object --bucket "$b" --key docs/small.txt --if-match '"0123"' "$tmp/x"
expect_error "get-object --if-none-match its etag" 304 aws s3api get-object --bucket "$b" --key docs/small.txt --if-none-match "$etag" "$tmp/x"
expect_error "put-object with a wrong Content-MD5" BadDigest aws s3api put-object --bucket "$b" --key bad --body "$tmp/small.txt" --content-md5 AAAAAAAAAAAAAAAAAAAAAA==
run put-ia aws s3api put-object --bucket "$b" --key cool/file.txt --body "$tmp/small.txt" --storage-class STANDARD_IA &&
	run head-ia aws s3api head-object --bucket "$b" --key cool/file.txt &&
	expect "put-object --storage-class STANDARD_IA: the storage class" STANDARD_IA "$(py 'd.get("StorageClass")')"
run copy-object aws s3api copy-object --bucket "$b" --key docs/copy.txt --copy-source "$b/docs/small.txt" &&
	expect "copy-object: the source's etag" "$etag" "$(py 'd["CopyObjectResult"]["ETag"]')"
run ls-recursive aws s3 ls "s3://$b/" --recursive &&
	expect "aws s3 ls --recursive: the keys and sizes" "18 cool/file.txt|18 docs/copy.txt|18 docs/small.txt|20000005 videos/big.bin" \
		"$(awk '{print $3, $4}' <<<"$out" | sort -k2 | paste -sd'|')"
run ls-prefixes aws s3 ls "s3://$b/" &&
	expect "aws s3 ls: the common prefixes" "PRE cool/|PRE docs/|PRE videos/" "$(awk '{print $1, $2}' <<<"$out" | sort | paste -sd'|')"
run list-v2 aws s3api list-objects-v2 --bucket "$b" --prefix docs/ --max-items 1 &&
	expect "list-objects-v2 --prefix docs/ --max-items 1: one key and a token" "docs/copy.txt True" "$(py 'd["Contents"][0]["Key"] + " " + str(bool(d.get("NextToken")))')"
run list-v1 aws s3api list-objects --bucket "$b" --delimiter / &&
	expect "list-objects (v1) --delimiter /" "cool/ docs/ videos/" "$(py '" ".join(p["Prefix"] for p in d["CommonPrefixes"])')"

# --- presigned URLs -----------------------------------------------------------
url=$(aws s3 presign "s3://$b/docs/small.txt" --expires-in 300) &&
	curl -sf -o "$tmp/presigned.txt" "$url" &&
	expect "aws s3 presign, fetched with curl" "$(md5f "$tmp/small.txt")" "$(md5f "$tmp/presigned.txt")" ||
	bad "aws s3 presign + curl"
if ! curl -s -o /dev/null -w '%{http_code}' "${url/small.txt/copy.txt}" | grep -q 403; then
	bad "a presigned URL edited to another key must be refused"
else ok "a presigned URL edited to another key: 403"; fi
if [[ $with_cairn == 1 ]]; then
	if purl=$("$CAIRN" blob presign --put "$b/images/logo.png" --expires 5m 2>"$tmp/err") &&
		curl -sf -X PUT --upload-file README.md "$purl" >/dev/null 2>"$tmp/err"; then
		run get-logo aws s3 cp "s3://$b/images/logo.png" "$tmp/logo" &&
			expect "cairn blob presign --put + curl -X PUT, read with awscli" "$(md5f README.md)" "$(md5f "$tmp/logo")"
	else
		bad "cairn blob presign --put + curl"
	fi
fi

# --- sync -------------------------------------------------------------------
mkdir -p "$tmp/site/css" "$tmp/site/img"
echo '<html>' >"$tmp/site/index.html"
echo 'body {}' >"$tmp/site/css/a b.css"
head -c 70000 /dev/urandom >"$tmp/site/img/p.bin"
run "sync up" aws s3 sync "$tmp/site" "s3://$b/site/" &&
	expect "aws s3 sync up: three uploads" 3 "$(grep -o 'upload: ' <<<"$out" | wc -l)"
run "sync again" aws s3 sync "$tmp/site" "s3://$b/site/" &&
	expect "aws s3 sync again: nothing to upload" 0 "$(grep -o 'upload: ' <<<"$out" | wc -l)"
run "sync down" aws s3 sync "s3://$b/site/" "$tmp/site-back" &&
	if diff -r "$tmp/site" "$tmp/site-back" >/dev/null; then ok "aws s3 sync down: the same tree"; else bad "aws s3 sync down: trees differ"; fi

# --- multipart bookkeeping ----------------------------------------------------
run create-mpu aws s3api create-multipart-upload --bucket "$b" --key mpu/abandoned && upload=$(py 'd["UploadId"]') || upload=""
run list-mpu aws s3api list-multipart-uploads --bucket "$b" &&
	expect "list-multipart-uploads: the upload" "mpu/abandoned $upload" "$(py '" ".join(u["Key"] + " " + u["UploadId"] for u in d.get("Uploads", []))')"
head -c 1000 /dev/urandom >"$tmp/part"
run upload-part aws s3api upload-part --bucket "$b" --key mpu/abandoned --upload-id "$upload" --part-number 1 --body "$tmp/part" &&
	run list-parts aws s3api list-parts --bucket "$b" --key mpu/abandoned --upload-id "$upload" &&
	expect "list-parts: part 1, 1000 bytes" "1 1000" "$(py '" ".join(str(p["PartNumber"]) + " " + str(p["Size"]) for p in d["Parts"])')"
run upload-part-2 aws s3api upload-part --bucket "$b" --key mpu/abandoned --upload-id "$upload" --part-number 2 --body "$tmp/part" >/dev/null || true
expect_error "complete-multipart-upload with a part too small before the last" EntityTooSmall aws s3api complete-multipart-upload --bucket "$b" --key mpu/abandoned \
	--upload-id "$upload" --multipart-upload "{\"Parts\":[{\"PartNumber\":1,\"ETag\":\"\\\"$(md5f "$tmp/part")\\\"\"},{\"PartNumber\":2,\"ETag\":\"\\\"$(md5f "$tmp/part")\\\"\"}]}"
expect_error "complete-multipart-upload naming a part never uploaded" InvalidPart aws s3api complete-multipart-upload --bucket "$b" --key mpu/abandoned \
	--upload-id "$upload" --multipart-upload '{"Parts":[{"PartNumber":7,"ETag":"\"0123456789abcdef0123456789abcdef\""}]}'
run abort-mpu aws s3api abort-multipart-upload --bucket "$b" --key mpu/abandoned --upload-id "$upload" && ok "abort-multipart-upload"
expect_error "list-parts of an aborted upload" NoSuchUpload aws s3api list-parts --bucket "$b" --key mpu/abandoned --upload-id "$upload"

# --- lifecycle, archive and restore -----------------------------------------
run put-lifecycle aws s3api put-bucket-lifecycle-configuration --bucket "$b" --lifecycle-configuration \
	'{"Rules":[{"ID":"logs","Status":"Enabled","Filter":{"Prefix":"logs/"},"Transitions":[{"Days":30,"StorageClass":"STANDARD_IA"},{"Days":90,"StorageClass":"GLACIER"}],"Expiration":{"Days":365},"AbortIncompleteMultipartUpload":{"DaysAfterInitiation":7}}]}' &&
	run get-lifecycle aws s3api get-bucket-lifecycle-configuration --bucket "$b" &&
	expect "get-bucket-lifecycle-configuration: the rule back" "logs logs/ 30:STANDARD_IA,90:GLACIER 365 7" \
		"$(py '(lambda r: " ".join([r["ID"], r["Filter"]["Prefix"], ",".join("%d:%s" % (t["Days"], t["StorageClass"]) for t in r["Transitions"]), str(r["Expiration"]["Days"]), str(r["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])]))(d["Rules"][0])')"
run delete-lifecycle aws s3api delete-bucket-lifecycle --bucket "$b" && ok "delete-bucket-lifecycle"
expect_error "get-bucket-lifecycle-configuration after delete" NoSuchLifecycleConfiguration aws s3api get-bucket-lifecycle-configuration --bucket "$b"
run put-glacier aws s3api put-object --bucket "$b" --key archive/old.txt --body "$tmp/small.txt" --storage-class GLACIER && ok "put-object --storage-class GLACIER"
expect_error "get-object of an archived object" InvalidObjectState aws s3api get-object --bucket "$b" --key archive/old.txt "$tmp/x"
run restore aws s3api restore-object --bucket "$b" --key archive/old.txt --restore-request Days=1 && ok "restore-object Days=1"
run head-restoring aws s3api head-object --bucket "$b" --key archive/old.txt &&
	expect "head-object: a restore asked for (x-amz-restore)" True "$(py '"ongoing-request" in d.get("Restore", "")')"

# --- multi-delete and rm ----------------------------------------------------
run delete-objects aws s3api delete-objects --bucket "$b" --delete '{"Objects":[{"Key":"docs/copy.txt"},{"Key":"never-there"}]}' &&
	expect "delete-objects: both reported deleted" "docs/copy.txt never-there" "$(py '" ".join(sorted(x["Key"] for x in d["Deleted"]))')"
run rm aws s3 rm "s3://$b/docs/small.txt" && ok "aws s3 rm"
expect_error "s3 rb of a bucket that is not empty" BucketNotEmpty aws s3 rb "s3://$b"
run "rm --recursive" aws s3 rm "s3://$b" --recursive && ok "aws s3 rm --recursive"
run rb aws s3 rb "s3://$b" && ok "aws s3 rb"
expect_error "s3 ls of the removed bucket" NoSuchBucket aws s3 ls "s3://$b"

# --- authentication -----------------------------------------------------------
AWS_SECRET_ACCESS_KEY=wrong-secret-key expect_error "a wrong secret" SignatureDoesNotMatch aws s3 ls
AWS_ACCESS_KEY_ID=AKIDUNKNOWNKEY000 expect_error "an unknown access key" InvalidAccessKeyId aws s3 ls
AWS_DEFAULT_REGION=eu-north-9 expect_error "signed for another region" AuthorizationHeaderMalformed aws s3 ls

# --- s3cmd ------------------------------------------------------------------
head -c 17000000 /dev/urandom >"$tmp/s3cmd.bin"
run "s3cmd mb" s3cmd mb "s3://$b2" && ok "s3cmd mb"
run "s3cmd put" s3cmd put --multipart-chunk-size-mb=5 "$tmp/s3cmd.bin" "s3://$b2/dir/s3cmd.bin" && ok "s3cmd put (17 MB in 5 MB parts)"
run "s3cmd put small" s3cmd put "$tmp/small.txt" "s3://$b2/dir/small.txt" && ok "s3cmd put small.txt"
run "s3cmd get" s3cmd get --force "s3://$b2/dir/s3cmd.bin" "$tmp/s3cmd-back.bin" &&
	expect "s3cmd get: the same bytes" "$(md5f "$tmp/s3cmd.bin")" "$(md5f "$tmp/s3cmd-back.bin")"
run "s3cmd ls" s3cmd ls --recursive "s3://$b2" &&
	expect "s3cmd ls --recursive" "17000000 s3://$b2/dir/s3cmd.bin|18 s3://$b2/dir/small.txt" "$(awk '{print $3, $4}' <<<"$out" | paste -sd'|')"
run "s3cmd ls buckets" s3cmd ls &&
	expect "s3cmd ls: the bucket" 1 "$(grep -c "s3://$b2\$" <<<"$out")"
run "s3cmd info" s3cmd info "s3://$b2/dir/small.txt" &&
	expect "s3cmd info: the MD5" True "$( (($(grep -c "$(md5f "$tmp/small.txt")" <<<"$out") >= 1)) && echo True || echo False)"
run "s3cmd cp" s3cmd cp "s3://$b2/dir/small.txt" "s3://$b2/dir/copy.txt" && ok "s3cmd cp"
run "s3cmd del" s3cmd del "s3://$b2/dir/small.txt" && ok "s3cmd del"
expect_error "s3cmd get of a deleted object" "does not exist" s3cmd get --force "s3://$b2/dir/small.txt" "$tmp/x"
run "s3cmd del --recursive" s3cmd del --recursive --force "s3://$b2" && ok "s3cmd del --recursive"
run "s3cmd rb" s3cmd rb "s3://$b2" && ok "s3cmd rb"

echo
echo "s3-compat: $passed passed, $failed failed"
((failed == 0))
