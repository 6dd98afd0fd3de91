#!/usr/bin/env bash
# sqs-compat.sh — run Debian's awscli (/usr/bin/aws, awscli 2.9.19, whose
# botocore speaks SQS's query protocol) against the SQS API of a fresh 3-node
# queued cluster, through every action queued/sqs implements, and check what
# it prints: queue URLs and attributes, message bodies, MD5 digests (checked
# against Python's hashlib), batch partial failures, FIFO order and
# deduplication, dead letters after maxReceiveCount, the error codes of bad
# requests and bad signatures, the issue's fan-out example (`aws sqs
# receive-message` of a message published with `cairn topic publish`), and a
# send and receive after the queued leader is killed. It prints one line per
# check and a summary, and exits 1 on any mismatch.
#
# It builds nothing: it runs $CAIRN (default bin/cairn; `make build` first).
# /usr/bin/aws is named explicitly, since a pip-installed awscli v1 may come
# first on PATH; Debian's awscli is installed with apt-get when missing.
# The cluster runs with TLS (awscli trusts the cluster CA through
# AWS_CA_BUNDLE from `cairn cluster env`) unless INSECURE=1; it is stopped and
# its directory removed on exit.
#
# Environment: CAIRN (binary), BASE_PORT (default 18600: the queued nodes'
# ports are BASE_PORT..BASE_PORT+99; the cluster's --base-port is BASE_PORT-300,
# since queued owns the fourth block of the layout), INSECURE=1 (plain HTTP),
# HEALTH_TIMEOUT (seconds, default 60), VERBOSE=1 (print every aws output).
set -euo pipefail

cd "$(dirname "$0")/.."
CAIRN=${CAIRN:-bin/cairn}
BASE_PORT=${BASE_PORT:-18600}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-60}
INSECURE=${INSECURE:-0}
SCRIPT=sqs-compat.sh
AWS=/usr/bin/aws

# shellcheck source=bench/lib.sh
. bench/lib.sh

[[ -x $CAIRN ]] || die "$CAIRN not found; run 'make build' first"
((BASE_PORT >= 300)) || die "BASE_PORT must be at least 300"
need_pkgs "$AWS=awscli" python3=python3
log "$($AWS --version 2>&1)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cairn-sqs-compat.XXXXXX")
export CAIRN_CLUSTER_DIR=$tmp/cairn
cairn_up=0
cleanup() {
	if [[ $cairn_up -eq 1 ]]; then
		"$CAIRN" cluster down >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

up_flags=(--detach --no-fault-proxy --services queued --nodes 3 --base-port $((BASE_PORT - 300)))
[[ $INSECURE == 1 ]] && up_flags+=(--insecure)
log "queued: starting a 3-node cluster in $CAIRN_CLUSTER_DIR (ports $BASE_PORT..$((BASE_PORT + 99)))"
cairn_up=1
"$CAIRN" cluster up "${up_flags[@]}" >"$tmp/up.log" 2>&1 || {
	cat "$tmp/up.log" >&2
	die "the queued cluster did not start"
}
# The exports: CAIRN_SQS_QUEUED, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
# AWS_DEFAULT_REGION and, with TLS, AWS_CA_BUNDLE.
eval "$("$CAIRN" cluster env)"
[[ -n ${CAIRN_SQS_QUEUED:-} && -n ${AWS_ACCESS_KEY_ID:-} && -n ${AWS_SECRET_ACCESS_KEY:-} ]] ||
	die "cairn cluster env exported no SQS addresses or keys"
IFS=, read -r -a sqs_addrs <<<"$CAIRN_SQS_QUEUED"
scheme=https
[[ $INSECURE == 1 ]] && scheme=http
# awscli reads nothing of the user's own configuration.
export AWS_CONFIG_FILE=$tmp/aws-config AWS_SHARED_CREDENTIALS_FILE=$tmp/aws-credentials
export AWS_PAGER="" AWS_EC2_METADATA_DISABLED=true
: >"$AWS_CONFIG_FILE"
log "SQS on ${sqs_addrs[*]} ($scheme), region $AWS_DEFAULT_REGION, key $AWS_ACCESS_KEY_ID"

endpoint=$scheme://${sqs_addrs[0]}
# sqs <args...>: awscli against $endpoint; output JSON on stdout, errors in $tmp/err.
sqs() {
	"$AWS" --endpoint-url "$endpoint" --output json sqs "$@" 2>"$tmp/err"
}

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
# run <name> <aws sqs args...>: run awscli, keep its output in $out, and
# count a failure (with awscli's error) when it fails.
out=""
run() {
	local name=$1
	shift
	if out=$(sqs "$@"); then
		[[ ${VERBOSE:-0} == 1 ]] && echo "$out" | sed 's/^/      /'
		return 0
	fi
	bad "$name: aws sqs $1 failed"
	out="{}"
	return 1
}
# py <expression> [json]: evaluate a Python expression over the JSON document
# d (default $out) and print the result.
py() {
	python3 -c 'import json,sys,hashlib,struct,base64; d=json.loads(sys.argv[2] or "{}"); r=eval(sys.argv[1]); print(r if not isinstance(r, (dict, list)) else json.dumps(r, sort_keys=True))' "$1" "${2:-$out}"
}
# expect <name> <want> <got>
expect() {
	if [[ $2 == "$3" ]]; then ok "$1"; else
		: >"$tmp/err"
		bad "$1: want $2, got $3"
	fi
}
# expect_error <name> <code> <aws sqs args...>: awscli must fail with code.
expect_error() {
	local name=$1 code=$2
	shift 2
	if sqs "$@" >/dev/null; then
		: >"$tmp/err"
		bad "$name: succeeded, want $code"
	elif grep -qF "($code)" "$tmp/err"; then
		ok "$name: $code"
	else
		bad "$name: want $code"
	fi
}
# attrs_md5 <json of MessageAttributes>: SQS's MD5OfMessageAttributes,
# computed here independently of cairn.
attrs_md5() {
	python3 - "$1" <<'EOF'
import base64, hashlib, json, struct, sys
attrs = json.loads(sys.argv[1])
h = hashlib.md5()
def field(b):
    h.update(struct.pack(">I", len(b)))
    h.update(b)
for name in sorted(attrs):
    v = attrs[name]
    field(name.encode())
    field(v["DataType"].encode())
    if v["DataType"].split(".")[0] == "Binary":
        h.update(b"\x02")
        field(base64.b64decode(v["BinaryValue"]))
    else:
        h.update(b"\x01")
        field(v["StringValue"].encode())
print(h.hexdigest())
EOF
}
md5() { printf '%s' "$1" | md5sum | cut -d' ' -f1; }
account=000000000000
arn=arn:aws:sqs:$AWS_DEFAULT_REGION:$account

# --- queues -----------------------------------------------------------------
run create-queue create-queue --queue-name orders --attributes VisibilityTimeout=45,DelaySeconds=0,MessageRetentionPeriod=3600,ReceiveMessageWaitTimeSeconds=0,MaximumMessageSize=2048 &&
	expect "create-queue orders: QueueUrl" "$endpoint/$account/orders" "$(py 'd["QueueUrl"]')"
run create-queue-again create-queue --queue-name orders --attributes VisibilityTimeout=45 &&
	expect "create-queue orders again, same attributes: same URL" "$endpoint/$account/orders" "$(py 'd["QueueUrl"]')"
expect_error "create-queue orders, another VisibilityTimeout" QueueAlreadyExists create-queue --queue-name orders --attributes VisibilityTimeout=46
expect_error "create-queue with a dot in a standard name" InvalidParameterValue create-queue --queue-name bad.name
expect_error "create-queue FifoQueue without .fifo" InvalidParameterValue create-queue --queue-name jobs --attributes FifoQueue=true
expect_error "create-queue unknown attribute" InvalidAttributeName create-queue --queue-name x --attributes Bogus=1
expect_error "create-queue VisibilityTimeout out of range" InvalidAttributeValue create-queue --queue-name x --attributes VisibilityTimeout=43201
run get-queue-url get-queue-url --queue-name orders &&
	expect "get-queue-url orders" "$endpoint/$account/orders" "$(py 'd["QueueUrl"]')"
expect_error "get-queue-url of a missing queue" AWS.SimpleQueueService.NonExistentQueue get-queue-url --queue-name missing
q=$endpoint/$account/orders

run get-queue-attributes get-queue-attributes --queue-url "$q" --attribute-names All &&
	expect "get-queue-attributes All" \
		"$arn:orders 45 0 3600 0 2048 0 0 0 True True" \
		"$(py '" ".join([d["Attributes"][k] for k in ["QueueArn","VisibilityTimeout","DelaySeconds","MessageRetentionPeriod","ReceiveMessageWaitTimeSeconds","MaximumMessageSize","ApproximateNumberOfMessages","ApproximateNumberOfMessagesNotVisible","ApproximateNumberOfMessagesDelayed"]] + [str(int(d["Attributes"]["CreatedTimestamp"]) > 1600000000), str(int(d["Attributes"]["LastModifiedTimestamp"]) > 1600000000)])')"
run set-queue-attributes set-queue-attributes --queue-url "$q" --attributes VisibilityTimeout=60,ReceiveMessageWaitTimeSeconds=1 &&
	run get-queue-attributes-after-set get-queue-attributes --queue-url "$q" --attribute-names VisibilityTimeout ReceiveMessageWaitTimeSeconds &&
	expect "set-queue-attributes then get" '{"ReceiveMessageWaitTimeSeconds": "1", "VisibilityTimeout": "60"}' "$(py 'd["Attributes"]')"
expect_error "set-queue-attributes FifoQueue" InvalidAttributeName set-queue-attributes --queue-url "$q" --attributes FifoQueue=true
expect_error "get-queue-attributes unknown name" InvalidAttributeName get-queue-attributes --queue-url "$q" --attribute-names Bogus

for n in list-a list-b list-c; do
	run "create-queue $n" create-queue --queue-name "$n" >/dev/null || true
done
run list-queues list-queues --queue-name-prefix list- &&
	expect "list-queues --queue-name-prefix list-" "$endpoint/$account/list-a $endpoint/$account/list-b $endpoint/$account/list-c" "$(py '" ".join(d["QueueUrls"])')"
run list-queues-paged list-queues --queue-name-prefix list- --max-results 2 --no-paginate &&
	expect "list-queues --max-results 2: a page and a NextToken" "2 True" "$(py 'str(len(d["QueueUrls"])) + " " + str(bool(d.get("NextToken")))')" &&
	tok=$(py 'd["NextToken"]') &&
	run list-queues-next list-queues --queue-name-prefix list- --max-results 2 --next-token "$tok" --no-paginate &&
	expect "list-queues --next-token: the rest" "$endpoint/$account/list-c" "$(py '" ".join(d["QueueUrls"])')"

# --- messages ---------------------------------------------------------------
body='{"order":1,"note":"<caf\u00e9> & \"more\""}'
mattrs='{"city":{"DataType":"String","StringValue":"Any City"},"population":{"DataType":"Number","StringValue":"1250800"},"blob":{"DataType":"Binary","BinaryValue":"AAH/"},"note":{"DataType":"String.custom","StringValue":"héllo"}}'
run send-message send-message --queue-url "$q" --message-body "$body" --message-attributes "$mattrs" &&
	expect "send-message: MD5OfMessageBody" "$(md5 "$body")" "$(py 'd["MD5OfMessageBody"]')" &&
	expect "send-message: MD5OfMessageAttributes" "$(attrs_md5 "$mattrs")" "$(py 'd["MD5OfMessageAttributes"]')"
sent_id=$(py 'd.get("MessageId","")')
run receive-message receive-message --queue-url "$q" --attribute-names All --message-attribute-names All --max-number-of-messages 10 --wait-time-seconds 5 &&
	expect "receive-message: the message, body and MD5s" "$sent_id|$body|$(md5 "$body")|$(attrs_md5 "$mattrs")" \
		"$(py '(lambda m: "|".join([m["MessageId"], m["Body"], m["MD5OfBody"], m["MD5OfMessageAttributes"]]))(d["Messages"][0])')" &&
	expect "receive-message: message attributes" "$(py 'json.dumps(d, sort_keys=True)' "$mattrs")" "$(py 'json.dumps(d["Messages"][0]["MessageAttributes"], sort_keys=True)')" &&
	expect "receive-message: system attributes" "1 True True" \
		"$(py '(lambda a: " ".join([a["ApproximateReceiveCount"], str(int(a["SentTimestamp"]) > 1600000000000), str(int(a["ApproximateFirstReceiveTimestamp"]) >= int(a["SentTimestamp"]))]))(d["Messages"][0]["Attributes"])')"
handle=$(py 'd["Messages"][0]["ReceiptHandle"] if d.get("Messages") else ""')
run change-message-visibility change-message-visibility --queue-url "$q" --receipt-handle "$handle" --visibility-timeout 0 && ok "change-message-visibility 0"
run receive-again receive-message --queue-url "$q" --attribute-names ApproximateReceiveCount --wait-time-seconds 5 &&
	expect "receive-message after visibility 0: delivered again" "2" "$(py 'd["Messages"][0]["Attributes"]["ApproximateReceiveCount"]')"
handle2=$(py 'd["Messages"][0]["ReceiptHandle"] if d.get("Messages") else ""')
expect_error "change-message-visibility with the old receipt" AWS.SimpleQueueService.MessageNotInflight change-message-visibility --queue-url "$q" --receipt-handle "$handle" --visibility-timeout 10
expect_error "delete-message with the old receipt" ReceiptHandleIsInvalid delete-message --queue-url "$q" --receipt-handle "$handle"
run delete-message delete-message --queue-url "$q" --receipt-handle "$handle2" && ok "delete-message"
expect_error "delete-message with a malformed receipt" ReceiptHandleIsInvalid delete-message --queue-url "$q" --receipt-handle garbage

# Batches with partial failures: queue list-a takes 1024-byte messages.
big=$(python3 -c 'print("x"*1100)')
run set-small set-queue-attributes --queue-url "$endpoint/$account/list-a" --attributes MaximumMessageSize=1024 >/dev/null || true
entries=$(python3 -c 'import json,sys; print(json.dumps([{"Id":"a","MessageBody":"first"},{"Id":"b","MessageBody":sys.argv[1]},{"Id":"c","MessageBody":"third","DelaySeconds":0}]))' "$big")
run send-message-batch send-message-batch --queue-url "$endpoint/$account/list-a" --entries "$entries" &&
	expect "send-message-batch: a, c sent; b failed (too long, sender's fault)" "a,c|b:InvalidParameterValue:True|$(md5 first)" \
		"$(py '",".join(s["Id"] for s in d["Successful"]) + "|" + ",".join(f["Id"]+":"+f["Code"]+":"+str(f["SenderFault"]) for f in d["Failed"]) + "|" + d["Successful"][0]["MD5OfMessageBody"]')"
expect_error "send-message-batch with repeated ids" AWS.SimpleQueueService.BatchEntryIdsNotDistinct send-message-batch --queue-url "$q" \
	--entries '[{"Id":"x","MessageBody":"1"},{"Id":"x","MessageBody":"2"}]'
many=$(python3 -c 'import json; print(json.dumps([{"Id":"m%d"%i,"MessageBody":"x"} for i in range(11)]))')
expect_error "send-message-batch of 11" AWS.SimpleQueueService.TooManyEntriesInBatchRequest send-message-batch --queue-url "$q" --entries "$many"
got=""
for _ in 1 2 3 4 5; do
	run receive-batch receive-message --queue-url "$endpoint/$account/list-a" --max-number-of-messages 10 --wait-time-seconds 2 || break
	got+=$(py '"".join(m["ReceiptHandle"]+"\n" for m in d.get("Messages", []))')$'\n'
	[[ $(grep -c . <<<"$got") -ge 2 ]] && break
done
mapfile -t handles < <(grep . <<<"$got")
expect "receive-message --max-number-of-messages 10: both batch messages" 2 "${#handles[@]}"
cmv=$(python3 -c 'import json,sys; print(json.dumps([{"Id":"one","ReceiptHandle":sys.argv[1],"VisibilityTimeout":100},{"Id":"bad","ReceiptHandle":"garbage","VisibilityTimeout":100}]))' "${handles[0]:-x}")
run change-message-visibility-batch change-message-visibility-batch --queue-url "$endpoint/$account/list-a" --entries "$cmv" &&
	expect "change-message-visibility-batch: one ok, bad failed" "one|bad:ReceiptHandleIsInvalid" \
		"$(py '",".join(s["Id"] for s in d["Successful"]) + "|" + ",".join(f["Id"]+":"+f["Code"] for f in d["Failed"])')"
dmb=$(python3 -c 'import json,sys; print(json.dumps([{"Id":"d1","ReceiptHandle":sys.argv[1]},{"Id":"d2","ReceiptHandle":sys.argv[2]},{"Id":"d3","ReceiptHandle":"garbage"}]))' "${handles[0]:-x}" "${handles[1]:-x}")
run delete-message-batch delete-message-batch --queue-url "$endpoint/$account/list-a" --entries "$dmb" &&
	expect "delete-message-batch: d1, d2 ok, d3 failed" "d1,d2|d3:ReceiptHandleIsInvalid" \
		"$(py '",".join(s["Id"] for s in d["Successful"]) + "|" + ",".join(f["Id"]+":"+f["Code"] for f in d["Failed"])')"

# Purge and delete.
run send-to-purge send-message --queue-url "$endpoint/$account/list-b" --message-body doomed >/dev/null || true
run purge-queue purge-queue --queue-url "$endpoint/$account/list-b" && ok "purge-queue"
run receive-after-purge receive-message --queue-url "$endpoint/$account/list-b" --wait-time-seconds 1 &&
	expect "receive-message after purge-queue: nothing" 0 "$(py 'len(d.get("Messages", []))')"
run delete-queue delete-queue --queue-url "$endpoint/$account/list-c" && ok "delete-queue"
expect_error "get-queue-url of a deleted queue" AWS.SimpleQueueService.NonExistentQueue get-queue-url --queue-name list-c
expect_error "send-message to a deleted queue" AWS.SimpleQueueService.NonExistentQueue send-message --queue-url "$endpoint/$account/list-c" --message-body x

# --- FIFO -------------------------------------------------------------------
run create-fifo create-queue --queue-name jobs.fifo --attributes FifoQueue=true,ContentBasedDeduplication=true &&
	run get-fifo-attributes get-queue-attributes --queue-url "$endpoint/$account/jobs.fifo" --attribute-names All &&
	expect "FIFO queue attributes" "true true" "$(py 'd["Attributes"]["FifoQueue"] + " " + d["Attributes"]["ContentBasedDeduplication"]')"
fq=$endpoint/$account/jobs.fifo
run fifo-send-1 send-message --queue-url "$fq" --message-body a1 --message-group-id A && id1=$(py 'd["MessageId"]') && seq1=$(py 'd["SequenceNumber"]')
run fifo-send-dup send-message --queue-url "$fq" --message-body a1 --message-group-id A &&
	expect "FIFO content-based deduplication: same MessageId" "${id1:-}" "$(py 'd["MessageId"]')"
run fifo-send-2 send-message --queue-url "$fq" --message-body a2 --message-group-id A --message-deduplication-id a2-id >/dev/null || true
run fifo-send-b send-message --queue-url "$fq" --message-body b1 --message-group-id B >/dev/null || true
expect_error "FIFO send without a group" InvalidParameterValue send-message --queue-url "$fq" --message-body x
run fifo-receive receive-message --queue-url "$fq" --max-number-of-messages 10 --attribute-names All &&
	expect "FIFO receive: each group's head, in order, with group and sequence" "a1:A:${seq1:-} b1:B" \
		"$(py '" ".join(m["Body"]+":"+m["Attributes"]["MessageGroupId"]+(":"+m["Attributes"]["SequenceNumber"] if m["Body"]=="a1" else "") for m in d["Messages"])')"
fh=$(py 'd["Messages"][0]["ReceiptHandle"] if d.get("Messages") else ""')
run fifo-receive-blocked receive-message --queue-url "$fq" --max-number-of-messages 10 &&
	expect "FIFO: no second message of a group in flight" 0 "$(py 'len(d.get("Messages", []))')"
run fifo-delete delete-message --queue-url "$fq" --receipt-handle "$fh" >/dev/null || true
run fifo-receive-next receive-message --queue-url "$fq" --attribute-names MessageDeduplicationId &&
	expect "FIFO: the group's next message after delete" "a2 a2-id" "$(py 'd["Messages"][0]["Body"] + " " + d["Messages"][0]["Attributes"]["MessageDeduplicationId"]')"

# --- dead letters -----------------------------------------------------------
run create-dlq create-queue --queue-name orders-dlq >/dev/null || true
run create-src create-queue --queue-name orders-src --attributes "{\"RedrivePolicy\":\"{\\\"deadLetterTargetArn\\\":\\\"$arn:orders-dlq\\\",\\\"maxReceiveCount\\\":\\\"2\\\"}\"}" &&
	run get-redrive get-queue-attributes --queue-url "$endpoint/$account/orders-src" --attribute-names RedrivePolicy &&
	expect "RedrivePolicy" "{\"deadLetterTargetArn\":\"$arn:orders-dlq\",\"maxReceiveCount\":2}" "$(py 'd["Attributes"]["RedrivePolicy"]')"
run list-dead-letter-source-queues list-dead-letter-source-queues --queue-url "$endpoint/$account/orders-dlq" &&
	expect "list-dead-letter-source-queues" "$endpoint/$account/orders-src" "$(py '" ".join(d["queueUrls"])')"
run send-poison send-message --queue-url "$endpoint/$account/orders-src" --message-body poison >/dev/null || true
for i in 1 2; do
	run "poison delivery $i" receive-message --queue-url "$endpoint/$account/orders-src" --visibility-timeout 0 --wait-time-seconds 5 >/dev/null || true
done
run receive-dlq receive-message --queue-url "$endpoint/$account/orders-dlq" --wait-time-seconds 10 --attribute-names All &&
	expect "after maxReceiveCount deliveries the message is in the dead letter queue" "poison $arn:orders-src" \
		"$(py 'd["Messages"][0]["Body"] + " " + d["Messages"][0]["Attributes"].get("DeadLetterQueueSourceArn", "")')"
expect_error "RedrivePolicy naming another region" InvalidParameterValue set-queue-attributes --queue-url "$endpoint/$account/orders-src" \
	--attributes "{\"RedrivePolicy\":\"{\\\"deadLetterTargetArn\\\":\\\"arn:aws:sqs:xx-north-9:$account:orders-dlq\\\",\\\"maxReceiveCount\\\":3}\"}"

# --- authentication ---------------------------------------------------------
AWS_SECRET_ACCESS_KEY=wrong expect_error "a wrong secret" SignatureDoesNotMatch list-queues
AWS_ACCESS_KEY_ID=AKIDUNKNOWN expect_error "an unknown access key" InvalidClientTokenId list-queues
AWS_DEFAULT_REGION=xx-north-9 expect_error "signed for another region" SignatureDoesNotMatch list-queues

# --- the issue's Done-when: fan-out, read with awscli from another node ------
"$CAIRN" queue create payments >/dev/null && "$CAIRN" queue create email >/dev/null &&
	"$CAIRN" topic create order.created >/dev/null &&
	"$CAIRN" topic subscribe order.created payments >/dev/null && "$CAIRN" topic subscribe order.created email >/dev/null &&
	"$CAIRN" topic publish order.created '{"order":2}' >/dev/null && ok "cairn topic publish order.created to payments and email" ||
	bad "cairn queue/topic commands failed"
endpoint=$scheme://${sqs_addrs[1]}
run payments-url get-queue-url --queue-name payments
payments=$(py 'd.get("QueueUrl", "")')
expect "get-queue-url payments on another node: that node's URL" "$endpoint/$account/payments" "$payments"
# The issue's line, as written: aws --endpoint-url … sqs receive-message --queue-url <payments url>
if out=$("$AWS" --endpoint-url "$endpoint" sqs receive-message --queue-url "$payments" --wait-time-seconds 5 2>"$tmp/err"); then
	expect "aws --endpoint-url $endpoint sqs receive-message --queue-url <payments url>" '{"order":2}' "$(py 'd["Messages"][0]["Body"]')"
else
	bad "aws sqs receive-message of payments"
fi

# --- failover: kill the queued leader, keep working through another node ----
leader=$("$CAIRN" cluster status --output json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(next(n["name"] for n in d["nodes"] if n.get("role") == "leader"))' 2>/dev/null || true)
if [[ -n $leader ]]; then
	"$CAIRN" cluster kill "$leader" >/dev/null
	survivor=""
	for i in 0 1 2; do
		[[ queued-$((i + 1)) != "$leader" ]] && survivor=${sqs_addrs[$i]} && break
	done
	endpoint=$scheme://$survivor
	sent=""
	for _ in $(seq 1 30); do
		if out=$(sqs send-message --queue-url "$endpoint/$account/orders" --message-body after-failover); then sent=1; break; fi
		sleep 1
	done
	if [[ -n $sent ]]; then
		run receive-after-failover receive-message --queue-url "$endpoint/$account/orders" --wait-time-seconds 5 &&
			expect "after killing $leader: send and receive through $survivor" after-failover "$(py 'd["Messages"][0]["Body"]')"
	else
		bad "send-message after killing $leader"
	fi
else
	: >"$tmp/err"
	bad "no queued leader in cairn cluster status"
fi

echo
echo "sqs-compat: $passed passed, $failed failed ($($AWS --version 2>&1 | cut -d' ' -f1), $scheme, 3 queued nodes)"
((failed == 0))
