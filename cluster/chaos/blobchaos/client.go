package blobchaos

import (
	"context"
	"errors"
	"io"
	"time"

	"cairn.dev/cairn/blobd/client"
	blobdv1 "cairn.dev/cairn/proto/cairn/blobd/v1"

	"cairn.dev/cairn/cluster/chaos"
)

// blobdStore is an objectStore over blobd's Go client, connected to every
// node of the service (through their client proxies when the scenario has
// them). The client sends metadata writes to the leader, spreads transfers
// over the nodes, and retries only what was certainly not applied (a PUT
// of the workload's content, which is not an io.Seeker, not even that);
// the workload records what it finally answers.
type blobdStore struct {
	c *client.Client
}

// newStore dials a client of the cluster.
func newStore(env *chaos.Env, timeout time.Duration) (objectStore, error) {
	var eps []string
	for _, n := range env.Nodes() {
		eps = append(eps, env.Via(n))
	}
	c, err := client.New(client.Config{Endpoints: eps, RequestTimeout: timeout, DialTimeout: 2 * time.Second, TLS: env.TLS})
	if err != nil {
		return nil, err
	}
	return blobdStore{c}, nil
}

func (s blobdStore) CreateBucket(ctx context.Context, bucket string) error {
	_, err := s.c.CreateBucket(ctx, bucket)
	if errors.Is(err, client.ErrBucketExists) {
		return nil
	}
	return err
}

func (s blobdStore) Put(ctx context.Context, bucket, key string, body io.Reader, size int64) error {
	_, err := s.c.Put(ctx, bucket, key, body, size)
	return err
}

func (s blobdStore) Get(ctx context.Context, bucket, key string, w io.Writer) error {
	r, err := s.c.Get(ctx, bucket, key)
	if err != nil {
		return err
	}
	defer r.Close()
	_, err = io.CopyBuffer(w, r, make([]byte, 256<<10))
	return err
}

func (s blobdStore) Delete(ctx context.Context, bucket, key string) error {
	_, err := s.c.Delete(ctx, bucket, key)
	return err
}

func (s blobdStore) List(ctx context.Context, bucket, prefix string) ([]string, error) {
	var keys []string
	for e, err := range s.c.List(ctx, bucket, client.WithPrefix(prefix)) {
		if err != nil {
			return nil, err
		}
		keys = append(keys, e.Name())
	}
	return keys, nil
}

func (s blobdStore) Repair(ctx context.Context) (RepairStatus, error) {
	resp, err := s.c.RepairStatus(ctx)
	if err != nil {
		return RepairStatus{}, err
	}
	st := RepairStatus{Healthy: resp.GetHealthy(), Volumes: int(resp.GetVolumes()), Degraded: int(resp.GetDegraded()),
		Repairing: int(resp.GetRepairing()), BytesToCopy: resp.GetBytesToCopy(), CorruptFound: resp.GetCorruptFound()}
	for _, sv := range resp.GetServers() {
		if sv.GetState() == blobdv1.ServerState_SERVER_STATE_DOWN {
			st.Down++
		}
	}
	return st, nil
}

func (s blobdStore) Close() error { return s.c.Close() }
