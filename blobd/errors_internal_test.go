package blobd

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"

	"cairn.dev/cairn/blobd/meta"
	"cairn.dev/cairn/blobd/volume"
	"cairn.dev/cairn/node/rpcerr"
)

// TestToStatusPeerErrors checks that an error of this package that wraps a
// volume server's gRPC status goes out with this package's reason, not the
// peer's (bug 14 of docs/chaos.md), while a peer's status alone, and the
// usual sentinels, map as before.
func TestToStatusPeerErrors(t *testing.T) {
	peerNotFound := rpcerr.Error(rpcerr.VolumeNotFound, "volume not found: 4: its copy here is lost", nil)
	peerReadOnly := rpcerr.Error(rpcerr.PreconditionFailed, "volume: volume is read-only", nil)
	peerDown := rpcerr.Error(rpcerr.Unreachable, "connection refused", nil)
	tests := []struct {
		name   string
		err    error
		code   codes.Code
		reason rpcerr.Reason
	}{
		{"write failed on a lost copy", fmt.Errorf("%w: 4 attempts failed: %w", ErrNotEnoughServers, fmt.Errorf("server blobd-2: %w", peerNotFound)),
			codes.Unavailable, rpcerr.NotEnoughServers},
		{"write failed on several servers", fmt.Errorf("%w: no writable volume: %w", ErrNotEnoughServers, errors.Join(peerReadOnly, peerDown)),
			codes.Unavailable, rpcerr.NotEnoughServers},
		{"read found no copy", fmt.Errorf("%w: the chunk at offset 0: %w", ErrDataUnavailable, errors.Join(peerNotFound, volume.ErrCorrupt)),
			codes.Unavailable, rpcerr.DataUnavailable},
		{"a peer's status alone passes", peerReadOnly, codes.FailedPrecondition, rpcerr.PreconditionFailed},
		{"a local volume error", fmt.Errorf("store: %w", volume.ErrVolumeNotFound), codes.NotFound, rpcerr.VolumeNotFound},
		{"a meta sentinel", meta.ErrBucketNotFound, codes.NotFound, rpcerr.BucketNotFound},
		{"a context error", fmt.Errorf("write: %w", context.DeadlineExceeded), codes.DeadlineExceeded, ""},
	}
	for _, tt := range tests {
		info, _ := rpcerr.FromError(toStatus(tt.err))
		if info.Code != tt.code || info.Reason != tt.reason {
			t.Errorf("%s: toStatus = %v %s, want %v %s", tt.name, info.Code, info.Reason, tt.code, tt.reason)
		}
	}
}

func TestVolumeRefused(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{rpcerr.Error(rpcerr.VolumeNotFound, "its copy here is lost", nil), true},
		{rpcerr.Error(rpcerr.PreconditionFailed, "read-only", nil), true},
		{rpcerr.Error(rpcerr.LimitExceeded, "volume full", nil), true},
		{rpcerr.Error(rpcerr.CorruptData, "volume damaged", nil), true},
		{fmt.Errorf("local: %w", volume.ErrVolumeNotFound), true},
		{fmt.Errorf("local: %w", volume.ErrReadOnly), true},
		{rpcerr.Error(rpcerr.Unreachable, "connection refused", nil), false},
		{rpcerr.Error(rpcerr.ShuttingDown, "stopping", nil), false},
		{context.DeadlineExceeded, false},
		{errors.New("rpc error: code = Unavailable desc = connection refused"), false},
	}
	for _, tt := range tests {
		if got := volumeRefused(tt.err); got != tt.want {
			t.Errorf("volumeRefused(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
