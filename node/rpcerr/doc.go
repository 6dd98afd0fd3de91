// Package rpcerr is cairn's error contract: the stable reason codes that every
// daemon puts in the details of its gRPC errors, and the helpers that build and
// read them. Servers and clients share it, so that a client never has to match
// the text of a message.
//
// A failed RPC carries a status whose code says what kind of failure it is
// (InvalidArgument, Unavailable, …) and whose details hold one
// errdetails.ErrorInfo with Domain "cairn.dev", a Reason from the table below
// and Metadata naming what the message talks about: the field, the limit, the
// leader.
//
// # On the server
//
// Domain packages keep their sentinel errors and never build a status. Each
// daemon has one function at its server edge (toStatus) that maps its sentinels
// to reasons with ToStatus and an ordered list of Rules; every handler returns
// its errors through it. Domain code that knows more than the sentinel says
// (the field that was too large, the limit) attaches it with WithMetadata; the
// mapper copies it into ErrorInfo.Metadata.
//
// A Raft state machine cannot return an error from a command: it records
// the failure in the command's result as a reason, a message and metadata.
// Its package keeps one Sentinels table (sentinel ↔ reason): Split takes an
// error apart when the command is applied, Error turns the result back into
// the sentinel, with its metadata, for the proposer.
//
// # On the client
//
// FromError decodes an error into an Info (code, reason, metadata). TryOther
// tells whether a request failed before it was applied in a way another member
// may not (no leader, not the leader, no quorum, shutting down, unreachable),
// so that a client may send even a write to another member.
//
// # Reasons
//
// Every reason has exactly one gRPC code, given by Reason.Code:
//
//	reason              code                 meaning
//	NO_LEADER           Unavailable          the member knows no leader; not applied (try another member)
//	NOT_LEADER          Unavailable          a leader-only request reached a follower; not applied (metadata leader, leader_addr when known)
//	NO_QUORUM           Unavailable          the leader has not heard from a quorum lately and refused the request; not applied
//	SHUTTING_DOWN       Unavailable          the member is stopping; not applied
//	NOT_SERVING         Unavailable          the member cannot serve yet (cached: no ring); not applied
//	OUTCOME_UNKNOWN     Unavailable          the write was proposed but its commit was not confirmed: it may or may not be applied
//	OWNER_UNREACHABLE   Unavailable          cached: the key's owner did not answer a forwarded request (metadata owner)
//	UNREACHABLE         Unavailable          client side: no member accepted a connection; nothing was sent (metadata endpoints)
//	NOT_SENT            DeadlineExceeded     client side: the deadline passed before the request was handed to any member
//	INVALID_ARGUMENT    InvalidArgument      the request is malformed (metadata field)
//	LIMIT_EXCEEDED      ResourceExhausted    a size or count is over its configured limit (metadata field, size, limit, limit_name)
//	OUT_OF_MEMORY       ResourceExhausted    cached: the store is full and nothing can be evicted
//	KEY_NOT_FOUND       NotFound             the key does not exist
//	LEASE_NOT_FOUND     NotFound             raftkv: the lease does not exist or has expired
//	LEASE_EXISTS        AlreadyExists        raftkv: a lease with that id exists
//	UNKNOWN_MEMBER      NotFound             a membership change named a member that is not in the group
//	COMPACTED           OutOfRange           raftkv: the revision asked for has been compacted
//	FUTURE_REVISION     OutOfRange           raftkv: the revision asked for is newer than the store's
//	SESSION_NOT_FOUND   NotFound             lockd: the session was closed, expired or never existed
//	NOT_HOLDER          PermissionDenied     lockd: another session holds the resource
//	NOT_HELD            FailedPrecondition   lockd: nobody holds the resource
//	PERMITS_MISMATCH    FailedPrecondition   lockd: the semaphore is in use with another size
//	MODE_CONFLICT       FailedPrecondition   lockd: the session holds or waits for the lock in the other mode
//	WAIT_TIMEOUT        DeadlineExceeded     lockd: a blocking acquire's deadline passed; its wait was cancelled (not acquired)
//	WAIT_ENDED          Aborted              lockd: the wait was removed by a concurrent cancel
//	OBSERVER_LAGGED     Aborted              lockd: an Observe stream fell behind
//	NOT_INTEGER         FailedPrecondition   cached: the value is not an integer
//	OVERFLOW            FailedPrecondition   cached: an increment would overflow
//	INTERNAL            Internal             a bug or a storage failure
//	WRONG_TYPE          FailedPrecondition   cached: the key holds another kind of value (a hash where a string is read)
//	QUEUE_NOT_FOUND     NotFound             queued: the queue does not exist (metadata field)
//	QUEUE_EXISTS        AlreadyExists        queued: a queue of that name exists with other attributes
//	TOPIC_NOT_FOUND     NotFound             queued: the topic does not exist
//	RECEIPT_INVALID     InvalidArgument      queued: the receipt handle is malformed or names another queue
//	RECEIPT_STALE       FailedPrecondition   queued: the message was delivered again since this receipt was issued
//	RECEIPT_EXPIRED     FailedPrecondition   queued: the delivery's visibility deadline has passed
//	DEAD_LETTER_LOOP    FailedPrecondition   queued: the dead letter queue would lead back to the queue
//	QUEUE_MISMATCH      FailedPrecondition   queued: the request does not fit the queue (FIFO parameters on a standard queue, a dead letter queue of another type)
//	TOPIC_EXISTS        AlreadyExists        streamd: a topic of that name exists with another configuration
//	PARTITION_NOT_FOUND NotFound             streamd: the topic has no such partition (metadata field, limit = partition count)
//	NOT_PARTITION_LEADER Unavailable         streamd: the node does not lead the partition; not applied (metadata leader, leader_addr when known)
//	PARTITION_OFFLINE   Unavailable          streamd: the partition has no leader (every in-sync replica is down); not applied
//	OFFSET_OUT_OF_RANGE OutOfRange           streamd: the offset is before the log start or past the end (metadata start, end)
//	OFFSET_MISMATCH     FailedPrecondition   streamd: an append with an expected offset found another end offset; not applied (metadata end_offset, expected_offset)
//	NOT_ENOUGH_REPLICAS Unavailable          streamd: fewer in-sync replicas than min_insync_replicas; an acks=all produce was refused (not applied) or its outcome is unknown (metadata isr, limit)
//	FENCED_LEADER_EPOCH FailedPrecondition   streamd: the request carried an older leader epoch than the replica's (metadata epoch)
//	OUT_OF_ORDER_SEQUENCE FailedPrecondition streamd: an idempotent producer's sequence skipped ahead; not applied (metadata expected)
//	PRODUCER_FENCED     FailedPrecondition   streamd: a newer epoch of the producer id exists
//	GROUP_NOT_FOUND     NotFound             streamd: the consumer group does not exist
//	UNKNOWN_GROUP_MEMBER NotFound            streamd: the group has no such member (it left or its session expired): join again
//	ILLEGAL_GENERATION  FailedPrecondition   streamd: the member's generation is not the group's current one: join again
//	REBALANCE_IN_PROGRESS Aborted            streamd: the group is rebalancing: commit, then join again
//	NOT_ASSIGNED        FailedPrecondition   streamd: an offset commit named a partition not assigned to the member
//	CORRUPT_BATCH       InvalidArgument      streamd: a record batch failed its length or CRC check
//	BUCKET_NOT_FOUND    NotFound             blobd: the bucket does not exist (S3 NoSuchBucket)
//	BUCKET_EXISTS       AlreadyExists        blobd: a bucket of that name exists (metadata owner: the S3 layer answers BucketAlreadyOwnedByYou or BucketAlreadyExists)
//	BUCKET_NOT_EMPTY    FailedPrecondition   blobd: the bucket holds objects or multipart uploads (S3 BucketNotEmpty)
//	OBJECT_NOT_FOUND    NotFound             blobd: no object at the key (S3 NoSuchKey)
//	UPLOAD_NOT_FOUND    NotFound             blobd: the multipart upload does not exist, was completed or aborted (S3 NoSuchUpload)
//	PRECONDITION_FAILED FailedPrecondition   blobd: a condition did not hold (If-Match, If-None-Match, a compare-and-set of replicas or of a tier move)
//	INVALID_PART        InvalidArgument      blobd: a completed part does not exist or its etag differs (metadata field, part)
//	INVALID_PART_ORDER  InvalidArgument      blobd: the completed parts are not in ascending part-number order (metadata field)
//	ENTITY_TOO_SMALL    InvalidArgument      blobd: a completed part other than the last is under 5 MiB (metadata field, part, size, limit)
//	INVALID_OBJECT_STATE FailedPrecondition  blobd: the object's tier does not allow it (an archived object not restored, a restore of a non-archived one)
//	VOLUME_NOT_FOUND    NotFound             blobd: no volume of that id
//	SERVER_NOT_FOUND    NotFound             blobd: no volume server of that id is registered
//	ACCESS_KEY_NOT_FOUND NotFound            blobd: no access key of that id
//	BAD_DIGEST          InvalidArgument      blobd: the data's MD5 differs from the Content-MD5 sent; nothing stored
//	INCOMPLETE_BODY     InvalidArgument      blobd: the body ended before its declared size; nothing stored
//	INVALID_RANGE       OutOfRange           blobd: the range starts at or past the object's end
//	NOT_ENOUGH_SERVERS  Unavailable          blobd: fewer volume servers up than the write needs; nothing visible was stored
//	DATA_UNAVAILABLE    Unavailable          blobd: no healthy copy of a chunk could be read (replicas down or corrupt, too few shards)
//	NEEDLE_NOT_FOUND    NotFound             blobd peer: the volume server has no such needle (or another cookie)
//	CORRUPT_DATA        DataLoss             blobd peer: the needle failed its checksum on this server
//	REQUEST_TIMEOUT     DeadlineExceeded     blobd: an upload ran too long to commit safely (over 3/4 of gc_grace); nothing stored; retry
//	INDEX_NOT_FOUND     NotFound             searchd: no such index
//	INDEX_EXISTS        AlreadyExists        searchd: an index of that name exists
//	DOCUMENT_NOT_FOUND  NotFound             searchd: no document with that id
//	VERSION_CONFLICT    AlreadyExists        searchd: create of an id that exists
//	MAPPING_CONFLICT    FailedPrecondition   searchd: a field exists with another type (or the mapping changed meanwhile)
//	STRICT_MAPPING      InvalidArgument      searchd: a field the strict mapping does not name
//	PARSE_ERROR         InvalidArgument      searchd: malformed JSON, document or query; metadata names the field or position
//	TOO_MANY_CLAUSES    InvalidArgument      searchd: a query expands to more clauses than the limit
//	SHARD_UNAVAILABLE   Unavailable          searchd: no started copy of a shard answered
//	INVALID_CONFIG      InvalidArgument      gatewayd: the configuration document is invalid (metadata path)
//	CONFIG_CONFLICT     FailedPrecondition   gatewayd: the stored configuration is not at the expected version
//	CONSUMER_NOT_FOUND  NotFound             gatewayd: no consumer of that name in the configuration
//	API_KEY_NOT_FOUND   NotFound             gatewayd: no API key with that id
//	NO_ISSUER_KEY       FailedPrecondition   gatewayd: the node has no token key (--issuer-key)
//
// Context errors (DeadlineExceeded, Canceled) keep their own codes and carry no
// reason. New reasons are added at the end of the list in reasons.go; a reason
// is never renamed or reused.
package rpcerr
