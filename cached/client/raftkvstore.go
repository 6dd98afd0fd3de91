package client

import (
	"context"

	kvclient "cairn.dev/cairn/raftkv/client"
)

// RaftKVStore is a Store over raftkv: Load is a linearizable Get, Save a Put,
// Delete a Delete. Keys are stored under Prefix. It is safe for concurrent
// use; the caller owns and closes KV.
type RaftKVStore struct {
	KV     *kvclient.Client
	Prefix string
}

// Load reads key.
func (s RaftKVStore) Load(ctx context.Context, key string) ([]byte, bool, error) {
	resp, err := s.KV.Get(ctx, s.Prefix+key)
	if err != nil {
		return nil, false, err
	}
	if len(resp.GetKvs()) == 0 {
		return nil, false, nil
	}
	return resp.GetKvs()[0].GetValue(), true, nil
}

// Save writes key. Like every raftkv write it is not retried by the raftkv
// client; WriteBehind retries it, which is safe since a Put of the same value
// is idempotent.
func (s RaftKVStore) Save(ctx context.Context, key string, val []byte) error {
	_, err := s.KV.Put(ctx, s.Prefix+key, string(val))
	return err
}

// Delete removes key.
func (s RaftKVStore) Delete(ctx context.Context, key string) error {
	_, err := s.KV.Delete(ctx, s.Prefix+key)
	return err
}
