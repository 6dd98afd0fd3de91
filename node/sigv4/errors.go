package sigv4

import (
	"errors"
	"fmt"
)

// Sentinel errors. Verify wraps exactly one of them (with %w) in every error
// it returns, except errors of the Credentials lookup other than
// ErrUnknownAccessKey, which it passes through wrapped. The AWS codes named
// are what a protocol layer should answer.
var (
	// ErrMissingAuth: the request carries neither an Authorization header
	// nor presigned query parameters. SQS: MissingAuthenticationToken;
	// S3: AccessDenied.
	ErrMissingAuth = errors.New("sigv4: request is not signed")

	// ErrIncompleteSignature: the Authorization header or the presigned
	// query parameters are malformed or lack a part (credential, signed
	// headers, signature, date, expiry; host not signed; both forms at
	// once). SQS: IncompleteSignature; S3: AuthorizationHeaderMalformed or
	// AuthorizationQueryParametersError.
	ErrIncompleteSignature = errors.New("sigv4: incomplete or malformed signature")

	// ErrUnsupportedAlgorithm: the request is signed with an algorithm
	// other than AWS4-HMAC-SHA256 (SigV2, SigV4a). SQS:
	// IncompleteSignature; S3: InvalidArgument.
	ErrUnsupportedAlgorithm = errors.New("sigv4: unsupported signing algorithm")

	// ErrInvalidScope: the credential scope names another service or
	// region than this verifier's, or a date other than the request's.
	// SQS: SignatureDoesNotMatch; S3: AuthorizationHeaderMalformed.
	ErrInvalidScope = errors.New("sigv4: invalid credential scope")

	// ErrUnknownAccessKey: no credential has the access key id. SQS:
	// InvalidClientTokenId; S3: InvalidAccessKeyId.
	ErrUnknownAccessKey = errors.New("sigv4: unknown access key id")

	// ErrInvalidSessionToken: the credential requires a session token and
	// the request carries none or another one. SQS: InvalidClientTokenId;
	// S3: InvalidToken.
	ErrInvalidSessionToken = errors.New("sigv4: invalid session token")

	// ErrSignatureMismatch: the signature is not the one the server
	// computes. Verify returns it as a *MismatchError. Both:
	// SignatureDoesNotMatch.
	ErrSignatureMismatch = errors.New("sigv4: signature does not match")

	// ErrRequestTimeTooSkewed: the request's date is further from the
	// server's clock than the allowed skew (or a presigned URL is dated in
	// the future). S3: RequestTimeTooSkewed; SQS: RequestExpired when the
	// date is in the past.
	ErrRequestTimeTooSkewed = errors.New("sigv4: request time too skewed")

	// ErrRequestExpired: a presigned URL is past its X-Amz-Expires. S3:
	// AccessDenied "Request has expired"; SQS: RequestExpired.
	ErrRequestExpired = errors.New("sigv4: request has expired")

	// ErrUnsupportedPayload: X-Amz-Content-Sha256 names a payload mode
	// that this verifier does not accept (UNSIGNED-PAYLOAD or streaming
	// where not allowed, a trailer variant, or a malformed value). S3:
	// InvalidArgument or NotImplemented; SQS: SignatureDoesNotMatch.
	ErrUnsupportedPayload = errors.New("sigv4: unsupported payload mode")

	// ErrPayloadHashMismatch: the body's SHA-256 is not the one claimed
	// in X-Amz-Content-Sha256. S3: XAmzContentSHA256Mismatch.
	ErrPayloadHashMismatch = errors.New("sigv4: body does not match x-amz-content-sha256")

	// ErrBodyTooLarge: the body that must be hashed is longer than
	// Config.MaxBodyBytes. S3: EntityTooLarge; SQS: RequestEntityTooLarge
	// (413).
	ErrBodyTooLarge = errors.New("sigv4: body too large")

	// ErrMalformedChunk: an aws-chunked body does not follow the chunk
	// framing, is cut short, or decodes to another length than
	// x-amz-decoded-content-length. S3: IncompleteBody or InvalidRequest.
	ErrMalformedChunk = errors.New("sigv4: malformed aws-chunked body")
)

// MismatchError is the error of a request whose signature does not match.
// It wraps ErrSignatureMismatch and tells what the server signed, so that a
// client (S3 returns both strings in its error body) or an operator can see
// where the two sides differ. Neither string holds a secret.
type MismatchError struct {
	// CanonicalRequest is the canonical request the server computed.
	CanonicalRequest string
	// StringToSign is the string to sign the server computed.
	StringToSign string
	// Provided is the signature the request carried (hex).
	Provided string
	// Chunk is, for an aws-chunked body, the 1-based number of the chunk
	// whose signature failed; 0 for the request's own signature.
	Chunk int
}

func (e *MismatchError) Error() string {
	if e.Chunk > 0 {
		return fmt.Sprintf("%v: chunk %d", ErrSignatureMismatch, e.Chunk)
	}
	return ErrSignatureMismatch.Error()
}

// Unwrap returns ErrSignatureMismatch.
func (e *MismatchError) Unwrap() error { return ErrSignatureMismatch }
