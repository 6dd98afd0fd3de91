package kvbench

import (
	"context"

	"google.golang.org/grpc"

	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
	"cairn.dev/cairn/raftkv/client"
)

// Driver sends single requests to a store. A Driver is used by many clients at
// once, so it must be safe for concurrent use. It does not own its connection.
type Driver interface {
	// Put writes value to key.
	Put(ctx context.Context, key, value []byte) error
	// Get reads key with consistency c and reports whether it exists.
	Get(ctx context.Context, key []byte, c Consistency) (found bool, err error)
}

// NewCairnDriver returns a Driver for raftkv's KVService over cc.
func NewCairnDriver(cc grpc.ClientConnInterface) Driver {
	return cairnDriver{kv: raftkvv1.NewKVServiceClient(cc)}
}

type cairnDriver struct {
	kv raftkvv1.KVServiceClient
	// writes, when set, sends the puts instead of kv: raftkv's Go client,
	// which sends them to the leader.
	writes *client.Client
}

func (d cairnDriver) Put(ctx context.Context, key, value []byte) error {
	if d.writes != nil {
		_, err := d.writes.Put(ctx, string(key), string(value))
		return err
	}
	_, err := d.kv.Put(ctx, &raftkvv1.PutRequest{Key: key, Value: value})
	return err
}

func (d cairnDriver) Get(ctx context.Context, key []byte, c Consistency) (bool, error) {
	cons := raftkvv1.Consistency_CONSISTENCY_LINEARIZABLE
	if c == Serializable {
		cons = raftkvv1.Consistency_CONSISTENCY_SERIALIZABLE
	}
	resp, err := d.kv.Range(ctx, &raftkvv1.RangeRequest{Key: key, Consistency: cons})
	if err != nil {
		return false, err
	}
	return len(resp.GetKvs()) > 0, nil
}

func (c Config) driverFactory() func(grpc.ClientConnInterface) Driver {
	switch {
	case c.NewDriver != nil:
		return c.NewDriver
	case c.Target == TargetEtcd:
		return NewEtcdDriver
	default:
		return NewCairnDriver
	}
}
