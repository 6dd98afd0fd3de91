package sqs

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"google.golang.org/grpc/codes"

	"cairn.dev/cairn/node/rpcerr"
	"cairn.dev/cairn/node/sigv4"
)

// SQS error codes, as the query protocol names them (botocore's service
// model gives the AWS.SimpleQueueService. prefix to some).
const (
	CodeAccessDenied          = "AccessDenied"
	CodeBatchEntryIDsNotDist  = "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"
	CodeBatchRequestTooLong   = "AWS.SimpleQueueService.BatchRequestTooLong"
	CodeEmptyBatchRequest     = "AWS.SimpleQueueService.EmptyBatchRequest"
	CodeIncompleteSignature   = "IncompleteSignature"
	CodeInternalFailure       = "InternalFailure"
	CodeInvalidAction         = "InvalidAction"
	CodeInvalidAddress        = "InvalidAddress"
	CodeInvalidAttributeName  = "InvalidAttributeName"
	CodeInvalidAttributeValue = "InvalidAttributeValue"
	CodeInvalidBatchEntryID   = "AWS.SimpleQueueService.InvalidBatchEntryId"
	CodeInvalidClientTokenID  = "InvalidClientTokenId"
	CodeInvalidMessageContent = "InvalidMessageContents"
	CodeInvalidParameterValue = "InvalidParameterValue"
	CodeMalformedQueryString  = "MalformedQueryString"
	CodeMessageNotInflight    = "AWS.SimpleQueueService.MessageNotInflight"
	CodeMissingAction         = "MissingAction"
	CodeMissingAuthToken      = "MissingAuthenticationToken"
	CodeMissingParameter      = "MissingParameter"
	CodeNonExistentQueue      = "AWS.SimpleQueueService.NonExistentQueue"
	CodeOverLimit             = "OverLimit"
	CodeQueueAlreadyExists    = "QueueAlreadyExists"
	CodeReceiptHandleInvalid  = "ReceiptHandleIsInvalid"
	CodeRequestEntityTooLarge = "RequestEntityTooLarge"
	CodeRequestExpired        = "RequestExpired"
	CodeSerialization         = "SerializationException"
	CodeServiceUnavailable    = "ServiceUnavailable"
	CodeSignatureDoesNotMatch = "SignatureDoesNotMatch"
	CodeTooManyEntries        = "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"
	CodeUnsupportedOperation  = "AWS.SimpleQueueService.UnsupportedOperation"
)

// Error is an SQS error: what the ErrorResponse body and the HTTP status
// carry. Handlers return one for what they find wrong in a request; every
// other error becomes one through toError.
type Error struct {
	// Status is the HTTP status: 400 for most sender faults, 403 for
	// authentication, 5xx for the server's own failures.
	Status int
	// Code is the SQS error code (Error/Code).
	Code string
	// Message is for people (Error/Message).
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Sender reports whether the fault is the request's (Error/Type Sender)
// rather than the server's (Receiver).
func (e *Error) Sender() bool { return e.Status < 500 }

func errorf(status int, code, msg string) *Error {
	return &Error{Status: status, Code: code, Message: msg}
}

// invalidParam is InvalidParameterValue with SQS's wording.
func invalidParam(name, value, reason string) *Error {
	return errorf(http.StatusBadRequest, CodeInvalidParameterValue,
		"Value "+value+" for parameter "+name+" is invalid. Reason: "+reason)
}

// missingParam is MissingParameter with SQS's wording.
func missingParam(name string) *Error {
	return errorf(http.StatusBadRequest, CodeMissingParameter, "The request must contain the parameter "+name+".")
}

// nonExistentQueue is SQS's answer for a queue that does not exist.
func nonExistentQueue() *Error {
	return errorf(http.StatusBadRequest, CodeNonExistentQueue, "The specified queue does not exist.")
}

// Actions whose receipt errors SQS reports as MessageNotInflight.
var visibilityActions = map[string]bool{"ChangeMessageVisibility": true, "ChangeMessageVisibilityBatch": true}

// toError is the one place where errors become SQS errors: an *Error passes
// through; node/sigv4's sentinels become the authentication codes SQS
// answers; errors of the in-process queued calls (gRPC status errors with
// rpcerr reasons, decoded by rpcerr.FromError) become SQS codes, action
// telling apart the receipt errors of a delete from those of a visibility
// change; anything else is an InternalFailure. The message of a queued
// error is queued's own, which names the field or queue.
func toError(action string, err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	const bad, forbidden = http.StatusBadRequest, http.StatusForbidden
	switch {
	case errors.Is(err, sigv4.ErrMissingAuth):
		return errorf(forbidden, CodeMissingAuthToken, "Request is missing Authentication Token.")
	case errors.Is(err, sigv4.ErrIncompleteSignature), errors.Is(err, sigv4.ErrUnsupportedAlgorithm),
		errors.Is(err, sigv4.ErrMalformedChunk):
		return errorf(bad, CodeIncompleteSignature, err.Error())
	case errors.Is(err, sigv4.ErrUnknownAccessKey), errors.Is(err, sigv4.ErrInvalidSessionToken):
		return errorf(forbidden, CodeInvalidClientTokenID, "The security token included in the request is invalid.")
	case errors.Is(err, sigv4.ErrSignatureMismatch), errors.Is(err, sigv4.ErrInvalidScope),
		errors.Is(err, sigv4.ErrUnsupportedPayload), errors.Is(err, sigv4.ErrPayloadHashMismatch):
		return errorf(forbidden, CodeSignatureDoesNotMatch,
			"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. ("+err.Error()+")")
	case errors.Is(err, sigv4.ErrRequestTimeTooSkewed), errors.Is(err, sigv4.ErrRequestExpired):
		return errorf(bad, CodeRequestExpired, "Request has expired. ("+err.Error()+")")
	case errors.Is(err, sigv4.ErrBodyTooLarge):
		return errorf(http.StatusRequestEntityTooLarge, CodeRequestEntityTooLarge, err.Error())
	}
	info, ok := rpcerr.FromError(err)
	if !ok {
		return errorf(http.StatusInternalServerError, CodeInternalFailure, err.Error())
	}
	msg := info.Message
	field := info.Metadata[rpcerr.KeyField]
	switch info.Reason {
	case rpcerr.QueueNotFound:
		return nonExistentQueue()
	case rpcerr.QueueExists:
		return errorf(bad, CodeQueueAlreadyExists, "A queue already exists with the same name and a different value for attribute(s). ("+msg+")")
	case rpcerr.InvalidArgument:
		if strings.HasSuffix(field, "receipt_handle") {
			return errorf(bad, CodeReceiptHandleInvalid, "The input receipt handle is invalid. ("+msg+")")
		}
		return errorf(bad, CodeInvalidParameterValue, msg)
	case rpcerr.QueueMismatch, rpcerr.DeadLetterLoop:
		return errorf(bad, CodeInvalidParameterValue, msg)
	case rpcerr.LimitExceeded:
		switch {
		case info.Metadata[rpcerr.KeyLimitName] == "max_waiters":
			return errorf(forbidden, CodeOverLimit, msg)
		case field == "entries" || info.Metadata[rpcerr.KeyLimitName] == "max_batch_bytes":
			return errorf(bad, CodeBatchRequestTooLong, msg)
		}
		return errorf(bad, CodeInvalidParameterValue, msg)
	case rpcerr.ReceiptInvalid:
		return errorf(bad, CodeReceiptHandleInvalid, "The input receipt handle is invalid. ("+msg+")")
	case rpcerr.ReceiptStale, rpcerr.ReceiptExpired:
		if visibilityActions[action] {
			return errorf(bad, CodeMessageNotInflight, "Message does not exist or is not available for visibility timeout change. ("+msg+")")
		}
		return errorf(bad, CodeReceiptHandleInvalid, "The receipt handle has expired. ("+msg+")")
	case rpcerr.NoLeader, rpcerr.NotLeader, rpcerr.NoQuorum, rpcerr.ShuttingDown, rpcerr.NotServing,
		rpcerr.OutcomeUnknown, rpcerr.Unreachable, rpcerr.NotSent:
		return errorf(http.StatusServiceUnavailable, CodeServiceUnavailable, msg)
	}
	switch info.Code {
	case codes.DeadlineExceeded, codes.Canceled, codes.Unavailable:
		return errorf(http.StatusServiceUnavailable, CodeServiceUnavailable, msg)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return errorf(http.StatusServiceUnavailable, CodeServiceUnavailable, msg)
	}
	return errorf(http.StatusInternalServerError, CodeInternalFailure, msg)
}
