package blobbench

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// client is one benchmark client, with connections of its own, used by one
// goroutine at a time.
type client interface {
	// put writes object key with the content of b.
	put(ctx context.Context, bucket, key string, b *body) error
	// get reads object key to its end and checks its size and CRC-32C
	// (verify).
	get(ctx context.Context, bucket, key string, size int64, crc uint32) error
	// remove deletes object key.
	remove(ctx context.Context, bucket, key string) error
	// ensureBucket creates bucket unless the caller already owns it; it
	// reports whether it created it.
	ensureBucket(ctx context.Context, bucket string) (created bool, err error)
	// removeBucket deletes bucket, which must be empty.
	removeBucket(ctx context.Context, bucket string) error
	// Close drops the client's connections.
	Close() error
}

// newClient returns a client of cfg.Target for endpoint.
func newClient(cfg Config, endpoint string) (client, error) {
	if cfg.Target == TargetGRPC {
		return newGRPCClient(cfg, endpoint)
	}
	return newS3Client(cfg, endpoint), nil
}

// s3Client is an S3 client with its own HTTP transport, so that its
// requests travel on its own connection.
type s3Client struct {
	s3        *s3.Client
	transport *http.Transport
	// putOpts are the per-call options of PutObject (unsigned payload
	// unless Config.SignPayload).
	putOpts []func(*s3.Options)
	// buf receives GET bodies.
	buf []byte
}

// newS3Client returns an S3 client for endpoint with cfg's credentials.
func newS3Client(cfg Config, endpoint string) *s3Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         dialer.DialContext,
		MaxIdleConns:        2,
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		// Large enough that 64 MiB bodies do not crawl through small
		// socket writes.
		WriteBufferSize: 256 << 10,
		ReadBufferSize:  256 << 10,
	}
	if strings.HasPrefix(endpoint, "https://") && cfg.TLS != nil {
		tr.TLSClientConfig = cfg.TLS.Clone()
	}
	opts := s3.Options{
		Region:       cfg.Region,
		BaseEndpoint: aws.String(strings.TrimSuffix(endpoint, "/")),
		UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: cfg.AccessKey, SecretAccessKey: cfg.SecretKey, Source: "blobbench"}, nil
		}),
		HTTPClient: &http.Client{Transport: tr},
		// Every failure counts: no retries behind the benchmark's back.
		RetryMaxAttempts: 1,
		// No "Expect: 100-continue" on large PUTs: the body follows the
		// headers at once, as with most S3 clients.
		ContinueHeaderThresholdBytes: -1,
		// Plain requests: no CRC headers or aws-chunked trailers the
		// server would have to check, and no response checksum checks (the
		// benchmark checks every byte itself).
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	c := &s3Client{s3: s3.New(opts), transport: tr, buf: make([]byte, 256<<10)}
	if !cfg.SignPayload {
		c.putOpts = []func(*s3.Options){func(o *s3.Options) {
			o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
		}}
	}
	return c
}

func (c *s3Client) Close() error {
	c.transport.CloseIdleConnections()
	return nil
}

func (c *s3Client) put(ctx context.Context, bucket, key string, b *body) error {
	_, err := c.s3.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(bucket),
		Key:           aws.String(key),
		Body:          b,
		ContentLength: aws.Int64(b.Len()),
		ContentType:   aws.String("application/octet-stream"),
	}, c.putOpts...)
	return err
}

func (c *s3Client) get(ctx context.Context, bucket, key string, size int64, crc uint32) error {
	out, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return err
	}
	defer out.Body.Close()
	return verify(out.Body, c.buf, size, crc)
}

func (c *s3Client) remove(ctx context.Context, bucket, key string) error {
	_, err := c.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	return err
}

func (c *s3Client) ensureBucket(ctx context.Context, bucket string) (created bool, err error) {
	if _, err := c.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err == nil {
		return false, nil
	}
	_, err = c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	var owned *types.BucketAlreadyOwnedByYou
	if errors.As(err, &owned) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, nil
}

func (c *s3Client) removeBucket(ctx context.Context, bucket string) error {
	_, err := c.s3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
	return err
}

// errorText is err shortened to what an S3 error says (code and message)
// when it is one.
func errorText(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode() + ": " + api.ErrorMessage()
	}
	return err.Error()
}
