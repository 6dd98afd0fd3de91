// Package sqs serves the Amazon SQS API over queued: each queued member
// answers SQS clients (awscli, the AWS SDKs) on its own HTTP(S) port, by
// calling the member's QueueService in-process, so that validation, long
// polling, forwarding to the leader and the error contract are queued's.
//
// It speaks both protocols of API version 2012-11-05. The query protocol,
// as Debian's awscli 2.9.19 does: form-encoded parameters in a POST to "/"
// or to a queue URL ("/<account-id>/<queue-name>"), or in a GET's query
// string, and XML responses and ErrorResponse errors shaped as SQS's. The
// JSON protocol, as newer botocore, awscli and the AWS SDKs do: a POST with
// "X-Amz-Target: AmazonSQS.<Action>" and a JSON body (Content-Type
// application/x-amz-json-1.0), JSON responses, and errors with "__type"
// and "message" and the query code in x-amzn-query-error. The two are
// codecs around one table of actions: a JSON request is decoded into the
// query protocol's flattened parameters and the action's result is written
// as JSON, so a parameter named in a JSON request's error message is named
// as the query protocol flattens it (MessageAttribute.1.Name). Every
// request is verified with node/sigv4 (service "sqs", the configured
// region) against the configured access keys before anything else is read.
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
// (AWSTraceHeader) are refused; SenderId is not reported; PurgeQueue may be
// repeated at once.
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
