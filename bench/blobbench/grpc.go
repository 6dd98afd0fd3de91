package blobbench

import (
	"context"
	"errors"
	"io"

	blobdclient "cairn.dev/cairn/blobd/client"
)

// grpcClient speaks blobd's own API through blobd/client, with connections
// of its own. Bodies are handed over as plain readers, so that the client
// does not retry a failed put behind the benchmark's back (it retries only
// seekable bodies).
type grpcClient struct {
	c   *blobdclient.Client
	buf []byte
}

// newGRPCClient returns a blobd client of the nodes at cfg.Endpoints;
// endpoint, the one this benchmark client is given, comes first.
func newGRPCClient(cfg Config, endpoint string) (*grpcClient, error) {
	eps := []string{endpoint}
	for _, ep := range cfg.Endpoints {
		if ep != endpoint {
			eps = append(eps, ep)
		}
	}
	c, err := blobdclient.New(blobdclient.Config{Endpoints: eps, TLS: cfg.TLS, RequestTimeout: cfg.RequestTimeout})
	if err != nil {
		return nil, err
	}
	return &grpcClient{c: c, buf: make([]byte, 256<<10)}, nil
}

func (g *grpcClient) put(ctx context.Context, bucket, key string, b *body) error {
	_, err := g.c.Put(ctx, bucket, key, struct{ io.Reader }{b}, b.Len())
	return err
}

func (g *grpcClient) get(ctx context.Context, bucket, key string, size int64, crc uint32) error {
	r, err := g.c.Get(ctx, bucket, key)
	if err != nil {
		return err
	}
	defer r.Close()
	return verify(r, g.buf, size, crc)
}

func (g *grpcClient) remove(ctx context.Context, bucket, key string) error {
	_, err := g.c.Delete(ctx, bucket, key)
	return err
}

func (g *grpcClient) ensureBucket(ctx context.Context, bucket string) (bool, error) {
	if _, err := g.c.Bucket(ctx, bucket); err == nil {
		return false, nil
	}
	_, err := g.c.CreateBucket(ctx, bucket)
	if errors.Is(err, blobdclient.ErrBucketExists) {
		return false, nil
	}
	return err == nil, err
}

func (g *grpcClient) removeBucket(ctx context.Context, bucket string) error {
	return g.c.DeleteBucket(ctx, bucket)
}

func (g *grpcClient) Close() error { return g.c.Close() }
