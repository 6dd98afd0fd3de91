package sqs

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/node/rpcerr"
	"cairn.dev/cairn/node/sigv4"
)

func TestToError(t *testing.T) {
	reason := func(r rpcerr.Reason, md ...string) error {
		m := map[string]string{}
		for i := 0; i+1 < len(md); i += 2 {
			m[md[i]] = md[i+1]
		}
		return rpcerr.Error(r, "queued says "+string(r), m)
	}
	tests := []struct {
		action string
		err    error
		status int
		code   string
	}{
		{"", errorf(400, CodeMissingAction, "m"), 400, CodeMissingAction},
		{"", fmt.Errorf("wrapped: %w", errorf(400, CodeInvalidAction, "m")), 400, CodeInvalidAction},

		{"", fmt.Errorf("%w", sigv4.ErrMissingAuth), 403, CodeMissingAuthToken},
		{"", fmt.Errorf("%w: x", sigv4.ErrIncompleteSignature), 400, CodeIncompleteSignature},
		{"", sigv4.ErrUnsupportedAlgorithm, 400, CodeIncompleteSignature},
		{"", sigv4.ErrMalformedChunk, 400, CodeIncompleteSignature},
		{"", sigv4.ErrInvalidScope, 403, CodeSignatureDoesNotMatch},
		{"", fmt.Errorf("%w: %q", sigv4.ErrUnknownAccessKey, "AKID"), 403, CodeInvalidClientTokenID},
		{"", sigv4.ErrInvalidSessionToken, 403, CodeInvalidClientTokenID},
		{"", &sigv4.MismatchError{}, 403, CodeSignatureDoesNotMatch},
		{"", sigv4.ErrUnsupportedPayload, 403, CodeSignatureDoesNotMatch},
		{"", sigv4.ErrPayloadHashMismatch, 403, CodeSignatureDoesNotMatch},
		{"", sigv4.ErrRequestTimeTooSkewed, 400, CodeRequestExpired},
		{"", sigv4.ErrRequestExpired, 400, CodeRequestExpired},
		{"", sigv4.ErrBodyTooLarge, 413, CodeRequestEntityTooLarge},

		{"SendMessage", reason(rpcerr.QueueNotFound), 400, CodeNonExistentQueue},
		{"CreateQueue", reason(rpcerr.QueueExists), 400, CodeQueueAlreadyExists},
		{"SendMessage", reason(rpcerr.InvalidArgument, rpcerr.KeyField, "entries[0].body"), 400, CodeInvalidParameterValue},
		{"DeleteMessage", reason(rpcerr.InvalidArgument, rpcerr.KeyField, "entries[0].receipt_handle"), 400, CodeReceiptHandleInvalid},
		{"SendMessage", reason(rpcerr.QueueMismatch), 400, CodeInvalidParameterValue},
		{"SetQueueAttributes", reason(rpcerr.DeadLetterLoop), 400, CodeInvalidParameterValue},
		{"SendMessage", reason(rpcerr.LimitExceeded, rpcerr.KeyField, "entries[0].body"), 400, CodeInvalidParameterValue},
		{"SendMessageBatch", reason(rpcerr.LimitExceeded, rpcerr.KeyField, "entries", rpcerr.KeyLimitName, "max_batch_bytes"), 400, CodeBatchRequestTooLong},
		{"ReceiveMessage", reason(rpcerr.LimitExceeded, rpcerr.KeyLimitName, "max_waiters"), 403, CodeOverLimit},
		{"DeleteMessage", reason(rpcerr.ReceiptInvalid), 400, CodeReceiptHandleInvalid},
		{"ChangeMessageVisibility", reason(rpcerr.ReceiptInvalid), 400, CodeReceiptHandleInvalid},
		{"DeleteMessage", reason(rpcerr.ReceiptStale), 400, CodeReceiptHandleInvalid},
		{"DeleteMessageBatch", reason(rpcerr.ReceiptExpired), 400, CodeReceiptHandleInvalid},
		{"ChangeMessageVisibility", reason(rpcerr.ReceiptStale), 400, CodeMessageNotInflight},
		{"ChangeMessageVisibilityBatch", reason(rpcerr.ReceiptExpired), 400, CodeMessageNotInflight},
		{"SendMessage", reason(rpcerr.NoLeader), 503, CodeServiceUnavailable},
		{"SendMessage", reason(rpcerr.NotLeader), 503, CodeServiceUnavailable},
		{"SendMessage", reason(rpcerr.NoQuorum), 503, CodeServiceUnavailable},
		{"SendMessage", reason(rpcerr.ShuttingDown), 503, CodeServiceUnavailable},
		{"SendMessage", reason(rpcerr.OutcomeUnknown), 503, CodeServiceUnavailable},
		{"SendMessage", reason(rpcerr.Internal), 500, CodeInternalFailure},
		{"SendMessage", reason(rpcerr.TopicNotFound), 500, CodeInternalFailure},
		{"SendMessage", status.Error(codes.DeadlineExceeded, "deadline"), 503, CodeServiceUnavailable},
		{"SendMessage", status.Error(codes.Unavailable, "transport"), 503, CodeServiceUnavailable},
		{"SendMessage", context.Canceled, 503, CodeServiceUnavailable},
		{"SendMessage", errors.New("something else"), 500, CodeInternalFailure},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%v", tt.action, tt.err), func(t *testing.T) {
			got := toError(tt.action, tt.err)
			if got.Status != tt.status || got.Code != tt.code || got.Message == "" {
				t.Fatalf("toError = %d %s %q, want %d %s", got.Status, got.Code, got.Message, tt.status, tt.code)
			}
			if got.Sender() != (tt.status < 500) {
				t.Fatalf("Sender() = %v for %d", got.Sender(), tt.status)
			}
		})
	}
	if toError("x", nil) != nil {
		t.Fatal("toError(nil) is not nil")
	}
}
