// Package sqs serves the Amazon SQS API over queued: each queued member
// answers SQS clients (awscli, the AWS SDKs) on its own HTTP(S) port, by
// calling the member's QueueService in-process, so that validation, long
// polling, forwarding to the leader and the error contract are queued's.
//
// It speaks the query protocol of API version 2012-11-05, as Debian's
// awscli 2.9.19 does: form-encoded parameters in a POST to "/" or to a
// queue URL ("/<account-id>/<queue-name>"), or in a GET's query string, and
// XML responses and ErrorResponse errors shaped as SQS's. Every request is
// verified with node/sigv4 (service "sqs", the configured region) against
// the configured access keys before anything else is read.
//
// Actions: CreateQueue, GetQueueUrl, ListQueues, DeleteQueue,
// GetQueueAttributes, SetQueueAttributes, PurgeQueue,
// ListDeadLetterSourceQueues, SendMessage, SendMessageBatch,
// ReceiveMessage, DeleteMessage, DeleteMessageBatch,
// ChangeMessageVisibility, ChangeMessageVisibilityBatch. Queue attributes
// map onto queued's (VisibilityTimeout, MessageRetentionPeriod,
// DelaySeconds, MaximumMessageSize, ReceiveMessageWaitTimeSeconds,
// RedrivePolicy with an ARN "arn:aws:sqs:<region>:<account>:<name>",
// FifoQueue, ContentBasedDeduplication) plus the read-only ones (QueueArn,
// the approximate counts, timestamps). New queues follow SQS's naming:
// FIFO queues, and only they, end in ".fifo".
//
// Differences from SQS: tags, policies, KMS and message system attributes
// (AWSTraceHeader) are refused; SenderId is not reported; a FIFO send with
// neither a deduplication id nor content-based deduplication is accepted
// without deduplication; PurgeQueue may be repeated at once.
//
// Errors become SQS codes in one function (toError): node/sigv4's
// sentinels (SignatureDoesNotMatch, InvalidClientTokenId, RequestExpired,
// …) and queued's rpcerr reasons (QUEUE_NOT_FOUND to
// AWS.SimpleQueueService.NonExistentQueue, RECEIPT_INVALID to
// ReceiptHandleIsInvalid, …).
//
// A queued daemon serves it with Attach, between queued.New and Serve:
//
//	srv, err := queued.New(cfg, logger)  // cfg.SQSAddr, SQSCredentialsFile, …
//	api, err := sqs.Attach(srv)          // binds cfg.SQSAddr; nil when empty
//	err = srv.Serve(ctx)                 // serves gRPC and SQS until ctx ends
//
// Tests and other hosts build a Handler with NewHandler and serve it as
// they like.
package sqs
