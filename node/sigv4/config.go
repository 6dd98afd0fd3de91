package sigv4

import (
	"errors"
	"time"
)

// Defaults of Config's zero values.
const (
	// DefaultMaxSkew is how far a request's date may be from the server's
	// clock: AWS's 15 minutes.
	DefaultMaxSkew = 15 * time.Minute
	// DefaultMaxBodyBytes is the longest body Verify reads into memory.
	// It holds SQS's largest request (a 1 MiB batch, form-encoded) with room.
	DefaultMaxBodyBytes = 4 << 20
	// MaxPresignExpiry is the longest X-Amz-Expires that AWS allows and
	// that Verify and Presign accept: seven days.
	MaxPresignExpiry = 7 * 24 * time.Hour
	// MaxChunkBytes is the largest chunk of an aws-chunked body that the
	// decoder accepts; it holds one whole chunk in memory to check its
	// signature before handing it out.
	MaxChunkBytes = 16 << 20
)

// Config says what a Verifier accepts.
type Config struct {
	// Credentials looks up access keys. Required.
	Credentials Credentials
	// Service is the service name the credential scope must carry ("sqs",
	// "s3"). Required. When it is "s3" the path of the canonical request is
	// built the S3 way (decoded and encoded once, not normalised); for any
	// other service it is normalised and encoded a second time.
	Service string
	// Region is the region the credential scope must carry; empty accepts
	// any region.
	Region string
	// MaxSkew is how far the request's date may be from Now, either way.
	// Zero means DefaultMaxSkew.
	MaxSkew time.Duration
	// Now is the clock; nil means time.Now. Tests inject a fixed one.
	Now func() time.Time
	// MaxBodyBytes is the longest body Verify reads into memory to hash it
	// or to check its claimed hash before returning. Zero means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// AllowUnsignedPayload accepts X-Amz-Content-Sha256: UNSIGNED-PAYLOAD,
	// a body the signature does not cover (S3), and
	// STREAMING-UNSIGNED-PAYLOAD-TRAILER, an unsigned aws-chunked body with
	// trailing checksums, which the caller decodes.
	AllowUnsignedPayload bool
	// AllowStreamingPayload accepts aws-chunked bodies signed chunk by
	// chunk (STREAMING-AWS4-HMAC-SHA256-PAYLOAD, S3 uploads).
	AllowStreamingPayload bool
}

// DefaultConfig returns a Config for service with the defaults filled in;
// the caller sets Credentials (and Region, and the payload modes for S3).
func DefaultConfig(service string) Config {
	return Config{
		Service:      service,
		MaxSkew:      DefaultMaxSkew,
		MaxBodyBytes: DefaultMaxBodyBytes,
	}
}

// Validate reports what is wrong with c, if anything.
func (c Config) Validate() error {
	var errs []error
	if c.Credentials == nil {
		errs = append(errs, errors.New("sigv4: config: credentials are required"))
	}
	if c.Service == "" {
		errs = append(errs, errors.New("sigv4: config: service is required"))
	}
	if c.MaxSkew < 0 {
		errs = append(errs, errors.New("sigv4: config: max skew is negative"))
	}
	if c.MaxBodyBytes < 0 {
		errs = append(errs, errors.New("sigv4: config: max body bytes is negative"))
	}
	return errors.Join(errs...)
}

// withDefaults returns c with its zero values replaced by the defaults.
func (c Config) withDefaults() Config {
	if c.MaxSkew == 0 {
		c.MaxSkew = DefaultMaxSkew
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	return c
}
