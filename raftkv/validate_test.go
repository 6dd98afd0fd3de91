package raftkv

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"cairn.dev/cairn/node"
	"cairn.dev/cairn/node/rpcerr"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

func testLimits() limits {
	cfg := DefaultConfig()
	cfg.MaxKeyBytes = 16
	cfg.MaxValueBytes = 32
	cfg.MaxRequestBytes = 256
	cfg.MaxTxnOps = 3
	return cfg.limits()
}

func TestValidation(t *testing.T) {
	l := testLimits()
	long := []byte(strings.Repeat("k", 17))
	cases := []struct {
		name    string
		err     error
		code    codes.Code
		message string
		check   func() error
	}{
		{"empty key", ErrEmptyKey, codes.InvalidArgument, "put.key must not be empty",
			func() error { return l.validatePut("put", &raftkvv1.PutRequest{}) }},
		{"key too large", ErrKeyTooLarge, codes.ResourceExhausted, "put.key is 17 bytes, the limit (max_key_bytes) is 16",
			func() error { return l.validatePut("put", &raftkvv1.PutRequest{Key: long}) }},
		{"value too large", ErrValueTooLarge, codes.ResourceExhausted, "max_value_bytes",
			func() error {
				return l.validatePut("put", &raftkvv1.PutRequest{Key: []byte("k"), Value: make([]byte, 33)})
			}},
		{"range end before key", ErrBadRange, codes.InvalidArgument, "must sort after key",
			func() error {
				return l.validateRange("range", &raftkvv1.RangeRequest{Key: []byte("b"), RangeEnd: []byte("a")}, false)
			}},
		{"from key is fine", nil, codes.OK, "",
			func() error {
				return l.validateRange("range", &raftkvv1.RangeRequest{Key: []byte("b"), RangeEnd: []byte{0}}, false)
			}},
		{"negative limit", ErrInvalidArgument, codes.InvalidArgument, "range.limit",
			func() error {
				return l.validateRange("range", &raftkvv1.RangeRequest{Key: []byte("a"), Limit: -1}, false)
			}},
		{"revision in txn", ErrInvalidArgument, codes.InvalidArgument, "inside a txn",
			func() error {
				return l.validateTxn(&raftkvv1.TxnRequest{Success: []*raftkvv1.RequestOp{{Request: &raftkvv1.RequestOp_RequestRange{RequestRange: &raftkvv1.RangeRequest{Key: []byte("a"), Revision: 3}}}}})
			}},
		{"too many ops", ErrTooManyOps, codes.InvalidArgument, "max_txn_ops",
			func() error {
				op := &raftkvv1.RequestOp{Request: &raftkvv1.RequestOp_RequestPut{RequestPut: &raftkvv1.PutRequest{Key: []byte("a")}}}
				return l.validateTxn(&raftkvv1.TxnRequest{Failure: []*raftkvv1.RequestOp{op, op, op, op}})
			}},
		{"empty op", ErrInvalidArgument, codes.InvalidArgument, "success[0] has no operation",
			func() error { return l.validateTxn(&raftkvv1.TxnRequest{Success: []*raftkvv1.RequestOp{{}}}) }},
		{"compare without result", ErrInvalidArgument, codes.InvalidArgument, "compare[0].result",
			func() error {
				return l.validateTxn(&raftkvv1.TxnRequest{Compare: []*raftkvv1.Compare{{Key: []byte("a"), Target: raftkvv1.Compare_COMPARE_TARGET_VERSION}}})
			}},
		{"compare target mismatch", ErrInvalidArgument, codes.InvalidArgument, "does not match",
			func() error {
				return l.validateTxn(&raftkvv1.TxnRequest{Compare: []*raftkvv1.Compare{{
					Key: []byte("a"), Result: raftkvv1.Compare_COMPARE_RESULT_EQUAL, Target: raftkvv1.Compare_COMPARE_TARGET_VERSION,
					TargetUnion: &raftkvv1.Compare_Value{Value: []byte("x")},
				}}})
			}},
		{"changed compare takes mod_revision", nil, codes.OK, "",
			func() error {
				return l.validateTxn(&raftkvv1.TxnRequest{Compare: []*raftkvv1.Compare{{
					Key: []byte("a"), RangeEnd: []byte("b"), Result: raftkvv1.Compare_COMPARE_RESULT_LESS, Target: raftkvv1.Compare_COMPARE_TARGET_CHANGED,
					TargetUnion: &raftkvv1.Compare_ModRevision{ModRevision: 7},
				}}})
			}},
		{"changed compare with a version", ErrInvalidArgument, codes.InvalidArgument, "does not match",
			func() error {
				return l.validateTxn(&raftkvv1.TxnRequest{Compare: []*raftkvv1.Compare{{
					Key: []byte("a"), Result: raftkvv1.Compare_COMPARE_RESULT_LESS, Target: raftkvv1.Compare_COMPARE_TARGET_CHANGED,
					TargetUnion: &raftkvv1.Compare_Version{Version: 7},
				}}})
			}},
		{"oversize txn", ErrRequestTooLarge, codes.ResourceExhausted, "max_request_bytes",
			func() error {
				op := &raftkvv1.RequestOp{Request: &raftkvv1.RequestOp_RequestPut{RequestPut: &raftkvv1.PutRequest{Key: []byte("a"), Value: make([]byte, 30)}}}
				big := &raftkvv1.Compare{Key: []byte("a"), Result: raftkvv1.Compare_COMPARE_RESULT_EQUAL, Target: raftkvv1.Compare_COMPARE_TARGET_VALUE, TargetUnion: &raftkvv1.Compare_Value{Value: make([]byte, 300)}}
				return l.validateTxn(&raftkvv1.TxnRequest{Compare: []*raftkvv1.Compare{big}, Success: []*raftkvv1.RequestOp{op}})
			}},
		{"lease ttl zero", ErrBadTTL, codes.InvalidArgument, "ttl 0 must be in [1,",
			func() error { return l.validateLeaseTTL(0) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.check()
			if tc.err == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.err)
			require.Contains(t, err.Error(), tc.message)
			st := status.Convert(toStatus(err))
			require.Equal(t, tc.code, st.Code())
			require.Contains(t, st.Message(), tc.message)
			info, _ := rpcerr.FromError(toStatus(err))
			require.NotEmpty(t, info.Reason)
			require.NotEmpty(t, info.Metadata[rpcerr.KeyField], "metadata names the field")
			if tc.code == codes.ResourceExhausted || tc.err == ErrTooManyOps {
				require.NotEmpty(t, info.Metadata[rpcerr.KeyLimit], "metadata names the limit")
				require.Contains(t, tc.message+" "+st.Message(), info.Metadata[rpcerr.KeyLimitName])
			}
		})
	}
}

func TestConfigValidateNamesFields(t *testing.T) {
	cfg := DefaultConfig()
	err := cfg.Validate()
	require.Error(t, err)
	require.Contains(t, err.Error(), "raftkv: id must be set")
	require.Contains(t, err.Error(), "raftkv: data_dir must be set")
	cfg.ID, cfg.DataDir = "a", t.TempDir()
	require.NoError(t, cfg.Validate())
	cfg.MaxKeyBytes = 0
	require.ErrorContains(t, cfg.Validate(), "max_key_bytes")
	cfg.MaxKeyBytes = DefaultConfig().MaxKeyBytes
	cfg.BackendBatchInterval = 0
	require.ErrorContains(t, cfg.Validate(), "backend_batch_interval 0s must be in (0, 10s]")
	cfg.BackendBatchInterval, cfg.BackendBatchLimit = time.Second, 0
	require.ErrorContains(t, cfg.Validate(), "backend_batch_limit 0 must be in [1, 1000000]")
	cfg = DefaultConfig()
	cfg.ID, cfg.DataDir, cfg.Peers = "a", "d", "a=1,b"
	require.ErrorContains(t, cfg.Validate(), "peers")
}

// FuzzValidateTxn feeds arbitrary encoded txns to the validator: it must never
// panic, and whatever it accepts must respect the limits.
func FuzzValidateTxn(f *testing.F) {
	seed := &raftkvv1.TxnRequest{
		Compare: []*raftkvv1.Compare{{Key: []byte("k"), Result: raftkvv1.Compare_COMPARE_RESULT_EQUAL, Target: raftkvv1.Compare_COMPARE_TARGET_VALUE, TargetUnion: &raftkvv1.Compare_Value{Value: []byte("v")}}},
		Success: []*raftkvv1.RequestOp{{Request: &raftkvv1.RequestOp_RequestPut{RequestPut: &raftkvv1.PutRequest{Key: []byte("k"), Value: []byte("v2")}}}},
		Failure: []*raftkvv1.RequestOp{{Request: &raftkvv1.RequestOp_RequestRange{RequestRange: &raftkvv1.RangeRequest{Key: []byte("k")}}}},
	}
	b, _ := proto.Marshal(seed)
	f.Add(b)
	f.Add([]byte{})
	l := testLimits()
	f.Fuzz(func(t *testing.T, data []byte) {
		req := &raftkvv1.TxnRequest{}
		if proto.Unmarshal(data, req) != nil {
			return
		}
		err := l.validateTxn(req)
		if err != nil {
			if st := status.Convert(toStatus(err)); st.Code() == codes.Internal || st.Code() == codes.Unknown {
				t.Fatalf("validation error mapped to %v: %v", st.Code(), err)
			}
			return
		}
		if proto.Size(req) > l.maxRequest {
			t.Fatalf("accepted a %d-byte txn over the limit", proto.Size(req))
		}
		for _, ops := range [][]*raftkvv1.RequestOp{req.GetSuccess(), req.GetFailure()} {
			if len(ops) > l.maxTxnOps {
				t.Fatal("accepted too many ops")
			}
			for _, op := range ops {
				if p := op.GetRequestPut(); p != nil && (len(p.GetKey()) == 0 || len(p.GetKey()) > l.maxKey || len(p.GetValue()) > l.maxValue) {
					t.Fatal("accepted a bad put")
				}
			}
		}
		if errors.Is(err, ErrEmptyKey) {
			t.Fatal("unreachable")
		}
	})
}

// TestConfigRaftSettingsKeepTheirKeys: the shared Raft settings keep their flat
// YAML keys and environment variables.
func TestConfigRaftSettingsKeepTheirKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "raftkv.yaml")
	require.NoError(t, os.WriteFile(path, []byte("id: a\ndata_dir: d\nheartbeat_timeout: 400ms\nsnapshot_interval: 11s\npeers: a=127.0.0.1:1\n"), 0o600))
	t.Setenv("CAIRN_RAFTKV_TRAILING_LOGS", "77")
	cfg := DefaultConfig()
	require.NoError(t, node.Load(nil, &cfg, "CAIRN_RAFTKV_", path))
	require.Equal(t, 400*time.Millisecond, cfg.HeartbeatTimeout)
	require.Equal(t, 11*time.Second, cfg.SnapshotInterval)
	require.Equal(t, uint64(77), cfg.TrailingLogs)
	rc := cfg.raftConfig()
	require.Equal(t, 360*time.Millisecond, rc.LeaderLeaseTimeout)
	require.Equal(t, 11*time.Second, rc.SnapshotInterval)
	require.NoError(t, cfg.Validate())
}
