package s3

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"cairn.dev/cairn/blobd"
	"cairn.dev/cairn/blobd/meta"
	"cairn.dev/cairn/node/rpcerr"
	"cairn.dev/cairn/node/sigv4"
)

// S3 error codes this package answers with.
const (
	CodeAccessDenied                 = "AccessDenied"
	CodeAuthorizationHeaderMalformed = "AuthorizationHeaderMalformed"
	CodeAuthorizationQueryParams     = "AuthorizationQueryParametersError"
	CodeBadDigest                    = "BadDigest"
	CodeBucketAlreadyExists          = "BucketAlreadyExists"
	CodeBucketAlreadyOwnedByYou      = "BucketAlreadyOwnedByYou"
	CodeBucketNotEmpty               = "BucketNotEmpty"
	CodeEntityTooLarge               = "EntityTooLarge"
	CodeEntityTooSmall               = "EntityTooSmall"
	CodeIllegalLocationConstraint    = "IllegalLocationConstraintException"
	CodeIncompleteBody               = "IncompleteBody"
	CodeInternalError                = "InternalError"
	CodeInvalidAccessKeyID           = "InvalidAccessKeyId"
	CodeInvalidArgument              = "InvalidArgument"
	CodeInvalidBucketName            = "InvalidBucketName"
	CodeInvalidDigest                = "InvalidDigest"
	CodeInvalidObjectState           = "InvalidObjectState"
	CodeInvalidPart                  = "InvalidPart"
	CodeInvalidPartOrder             = "InvalidPartOrder"
	CodeInvalidRange                 = "InvalidRange"
	CodeInvalidRequest               = "InvalidRequest"
	CodeInvalidStorageClass          = "InvalidStorageClass"
	CodeInvalidToken                 = "InvalidToken"
	CodeKeyTooLong                   = "KeyTooLongError"
	CodeMalformedXML                 = "MalformedXML"
	CodeMaxMessageLengthExceeded     = "MaxMessageLengthExceeded"
	CodeMetadataTooLarge             = "MetadataTooLarge"
	CodeMethodNotAllowed             = "MethodNotAllowed"
	CodeMissingContentLength         = "MissingContentLength"
	CodeNoSuchBucket                 = "NoSuchBucket"
	CodeNoSuchKey                    = "NoSuchKey"
	CodeNoSuchLifecycleConfiguration = "NoSuchLifecycleConfiguration"
	CodeNoSuchUpload                 = "NoSuchUpload"
	CodeNotImplemented               = "NotImplemented"
	CodeNotModified                  = "NotModified"
	CodePreconditionFailed           = "PreconditionFailed"
	CodeRequestTimeTooSkewed         = "RequestTimeTooSkewed"
	CodeRequestTimeout               = "RequestTimeout"
	CodeServiceUnavailable           = "ServiceUnavailable"
	CodeSignatureDoesNotMatch        = "SignatureDoesNotMatch"
	CodeSlowDown                     = "SlowDown"
	CodeXAmzContentSHA256Mismatch    = "XAmzContentSHA256Mismatch"
)

// Error is an S3 error: the HTTP status and what the XML <Error> body
// carries. Handlers return one for what they find wrong in a request;
// every other error becomes one through toError.
type Error struct {
	// Status is the HTTP status.
	Status int
	// Code is S3's error code (Error/Code).
	Code string
	// Message is for people (Error/Message).
	Message string
	// RetryAfter, when > 0, is sent as Retry-After (seconds).
	RetryAfter int
	// StringToSign and CanonicalRequest are what the server signed, for a
	// SignatureDoesNotMatch.
	StringToSign, CanonicalRequest string
	// Extra are more elements of the body (ArgumentName, PartNumber, ...).
	Extra map[string]string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// errorf returns an *Error.
func errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// invalidArg is an InvalidArgument about a named argument.
func invalidArg(name, format string, args ...any) *Error {
	e := errorf(http.StatusBadRequest, CodeInvalidArgument, format, args...)
	e.Extra = map[string]string{"ArgumentName": name}
	return e
}

// retryAfter is the Retry-After of the transient errors: a new metadata
// leader is usually elected within a second or two.
const retryAfter = 1

// toError maps any error of a request to an S3 error: an *Error as is;
// node/sigv4's sentinels to the authentication errors; the object API's
// errors by their rpcerr reason (blobd.ReasonOf), never by their text.
func toError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if e := sigv4Error(err); e != nil {
		return e
	}
	md := rpcerr.MetadataOf(err)
	msg := messageOf(err)
	switch blobd.ReasonOf(err) {
	case rpcerr.BucketNotFound:
		return errorf(http.StatusNotFound, CodeNoSuchBucket, "The specified bucket does not exist")
	case rpcerr.BucketExists:
		return errorf(http.StatusConflict, CodeBucketAlreadyExists, "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.")
	case rpcerr.BucketNotEmpty:
		return errorf(http.StatusConflict, CodeBucketNotEmpty, "The bucket you tried to delete is not empty")
	case rpcerr.ObjectNotFound:
		return errorf(http.StatusNotFound, CodeNoSuchKey, "The specified key does not exist.")
	case rpcerr.UploadNotFound:
		return errorf(http.StatusNotFound, CodeNoSuchUpload, "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
	case rpcerr.PreconditionFailed:
		return errorf(http.StatusPreconditionFailed, CodePreconditionFailed, "At least one of the pre-conditions you specified did not hold")
	case rpcerr.InvalidPart:
		e := errorf(http.StatusBadRequest, CodeInvalidPart, "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.")
		addPart(e, md)
		return e
	case rpcerr.InvalidPartOrder:
		return errorf(http.StatusBadRequest, CodeInvalidPartOrder, "The list of parts was not in ascending order. The parts list must be specified in order by part number.")
	case rpcerr.EntityTooSmall:
		e := errorf(http.StatusBadRequest, CodeEntityTooSmall, "Your proposed upload is smaller than the minimum allowed object size.")
		addPart(e, md)
		return e
	case rpcerr.InvalidObjectState:
		return errorf(http.StatusForbidden, CodeInvalidObjectState, "The operation is not valid for the object's storage class: %s", msg)
	case rpcerr.BadDigest:
		return errorf(http.StatusBadRequest, CodeBadDigest, "The Content-MD5 you specified did not match what we received.")
	case rpcerr.IncompleteBody:
		return errorf(http.StatusBadRequest, CodeIncompleteBody, "You did not provide the number of bytes specified by the Content-Length HTTP header")
	case rpcerr.InvalidRange:
		return errorf(http.StatusRequestedRangeNotSatisfiable, CodeInvalidRange, "The requested range is not satisfiable")
	case rpcerr.AccessKeyNotFound:
		return errorf(http.StatusForbidden, CodeInvalidAccessKeyID, "The AWS Access Key Id you provided does not exist in our records.")
	case rpcerr.LimitExceeded:
		switch f := md[rpcerr.KeyField]; {
		case f == "key":
			return errorf(http.StatusBadRequest, CodeKeyTooLong, "Your key is too long")
		case strings.HasPrefix(f, "headers.user_metadata"):
			return errorf(http.StatusBadRequest, CodeMetadataTooLarge, "Your metadata headers exceed the maximum allowed metadata size")
		case strings.HasPrefix(f, "headers."):
			return invalidArg(strings.TrimPrefix(f, "headers."), "%s", msg)
		case f == "rules":
			return errorf(http.StatusBadRequest, CodeInvalidRequest, "%s", msg)
		}
		return errorf(http.StatusBadRequest, CodeEntityTooLarge, "Your proposed upload exceeds the maximum allowed size: %s", msg)
	case rpcerr.InvalidArgument:
		if md[rpcerr.KeyField] == "bucket" {
			return errorf(http.StatusBadRequest, CodeInvalidBucketName, "The specified bucket is not valid: %s", msg)
		}
		return invalidArg(md[rpcerr.KeyField], "%s", msg)
	case rpcerr.NotLeader, rpcerr.NoLeader, rpcerr.NoQuorum, rpcerr.NotServing, rpcerr.Unreachable,
		rpcerr.NotSent, rpcerr.ShuttingDown, rpcerr.NotEnoughServers, rpcerr.DataUnavailable:
		e := errorf(http.StatusServiceUnavailable, CodeServiceUnavailable, "Please reduce your request rate or try again: %s", msg)
		e.RetryAfter = retryAfter
		return e
	case rpcerr.OutcomeUnknown:
		e := errorf(http.StatusInternalServerError, CodeInternalError, "We encountered an internal error and do not know whether the request took effect; read the state before retrying: %s", msg)
		e.RetryAfter = retryAfter
		return e
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return errorf(http.StatusServiceUnavailable, CodeSlowDown, "The request did not finish in time; please retry.")
	case errors.Is(err, context.Canceled):
		return errorf(http.StatusBadRequest, CodeRequestTimeout, "The request was cancelled.")
	}
	return errorf(http.StatusInternalServerError, CodeInternalError, "We encountered an internal error. Please try again.")
}

// addPart names the part an error is about, as S3's PartNumber element.
func addPart(e *Error, md map[string]string) {
	if p := md[meta.KeyPart]; p != "" {
		e.Extra = map[string]string{"PartNumber": p}
	}
}

// messageOf is the message of err without the sentinel's prefix.
func messageOf(err error) string {
	s := err.Error()
	for _, p := range []string{"meta: ", "blobd: "} {
		s = strings.TrimPrefix(s, p)
	}
	return s
}

// sigv4Error maps node/sigv4's sentinels (nil for any other error).
func sigv4Error(err error) *Error {
	var mm *sigv4.MismatchError
	switch {
	case errors.As(err, &mm):
		e := errorf(http.StatusForbidden, CodeSignatureDoesNotMatch, "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
		if mm.Chunk > 0 {
			e.Message = fmt.Sprintf("The signature of chunk %d of the aws-chunked body does not match.", mm.Chunk)
		}
		e.StringToSign, e.CanonicalRequest = mm.StringToSign, mm.CanonicalRequest
		return e
	case errors.Is(err, sigv4.ErrMissingAuth):
		return errorf(http.StatusForbidden, CodeAccessDenied, "Access Denied: the request is not signed")
	case errors.Is(err, sigv4.ErrRequestExpired):
		return errorf(http.StatusForbidden, CodeAccessDenied, "Request has expired")
	case errors.Is(err, sigv4.ErrIncompleteSignature), errors.Is(err, sigv4.ErrInvalidScope):
		return errorf(http.StatusBadRequest, CodeAuthorizationHeaderMalformed, "The authorization header is malformed: %s", strings.TrimPrefix(err.Error(), "sigv4: "))
	case errors.Is(err, sigv4.ErrUnsupportedAlgorithm):
		return invalidArg("Authorization", "Only AWS4-HMAC-SHA256 is supported: %s", strings.TrimPrefix(err.Error(), "sigv4: "))
	case errors.Is(err, sigv4.ErrUnknownAccessKey):
		return errorf(http.StatusForbidden, CodeInvalidAccessKeyID, "The AWS Access Key Id you provided does not exist in our records.")
	case errors.Is(err, sigv4.ErrInvalidSessionToken):
		return errorf(http.StatusBadRequest, CodeInvalidToken, "The provided token is malformed or otherwise invalid.")
	case errors.Is(err, sigv4.ErrRequestTimeTooSkewed):
		return errorf(http.StatusForbidden, CodeRequestTimeTooSkewed, "The difference between the request time and the server's time is too large.")
	case errors.Is(err, sigv4.ErrUnsupportedPayload):
		return invalidArg("x-amz-content-sha256", "%s", strings.TrimPrefix(err.Error(), "sigv4: "))
	case errors.Is(err, sigv4.ErrPayloadHashMismatch):
		return errorf(http.StatusBadRequest, CodeXAmzContentSHA256Mismatch, "The provided 'x-amz-content-sha256' header does not match what was computed.")
	case errors.Is(err, sigv4.ErrBodyTooLarge):
		return errorf(http.StatusBadRequest, CodeMaxMessageLengthExceeded, "Your request was too big: %s", strings.TrimPrefix(err.Error(), "sigv4: "))
	case errors.Is(err, sigv4.ErrMalformedChunk):
		return errorf(http.StatusBadRequest, CodeIncompleteBody, "The aws-chunked body is malformed: %s", strings.TrimPrefix(err.Error(), "sigv4: "))
	}
	return nil
}

// errorBody is S3's <Error> document.
type errorBody struct {
	XMLName          xml.Name `xml:"Error"`
	Code             string   `xml:"Code"`
	Message          string   `xml:"Message"`
	Resource         string   `xml:"Resource,omitempty"`
	RequestID        string   `xml:"RequestId"`
	HostID           string   `xml:"HostId,omitempty"`
	StringToSign     string   `xml:"StringToSign,omitempty"`
	CanonicalRequest string   `xml:"CanonicalRequest,omitempty"`
	Extra            []extraElement
}

// extraElement is one more element of an error body.
type extraElement struct {
	XMLName xml.Name
	Value   string `xml:",chardata"`
}
