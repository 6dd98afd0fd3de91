package lockd

import (
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"cairn.dev/cairn/node"
	lockdv1 "cairn.dev/cairn/proto/cairn/lockd/v1"
)

func testLimits() limits { return DefaultConfig().limits() }

func TestValidateRequests(t *testing.T) {
	l := testLimits()
	long := strings.Repeat("n", 257)
	big := make([]byte, 4097)
	for _, tc := range []struct {
		name    string
		check   func() error
		wantErr error
		code    codes.Code
		mention string
	}{
		{"ok acquire", func() error {
			_, err := l.validateAcquire(&lockdv1.AcquireRequest{SessionId: 1, Name: "a"})
			return err
		}, nil, codes.OK, ""},
		{"no session", func() error { _, err := l.validateAcquire(&lockdv1.AcquireRequest{Name: "a"}); return err }, ErrInvalidArgument, codes.InvalidArgument, "session_id"},
		{"empty name", func() error { _, err := l.validateAcquire(&lockdv1.AcquireRequest{SessionId: 1}); return err }, ErrInvalidArgument, codes.InvalidArgument, "name"},
		{"long name", func() error {
			_, err := l.validateAcquire(&lockdv1.AcquireRequest{SessionId: 1, Name: long})
			return err
		}, ErrTooLarge, codes.ResourceExhausted, "max_name_bytes"},
		// Regression (issue 12): invalid UTF-8 is InvalidArgument naming the field.
		{"invalid utf-8 name", func() error {
			_, err := l.validateAcquire(&lockdv1.AcquireRequest{SessionId: 1, Name: "bad\xff"})
			return err
		}, ErrInvalidArgument, codes.InvalidArgument, "name \"bad\\xff\" is not valid UTF-8"},
		{"invalid utf-8 election", func() error { return l.validateCampaign(1, "\xc3", nil) }, ErrInvalidArgument, codes.InvalidArgument, "election"},
		{"invalid utf-8 prefix", func() error { _, err := l.validateList("\xff", "", 0); return err }, ErrInvalidArgument, codes.InvalidArgument, "prefix"},
		{"invalid utf-8 start_after", func() error { _, err := l.validateList("", "\xff", 0); return err }, ErrInvalidArgument, codes.InvalidArgument, "start_after"},
		{"empty campaign value", func() error { return l.validateCampaign(1, "e1", nil) }, nil, codes.OK, ""},
		{"max name", func() error {
			_, err := l.validateAcquire(&lockdv1.AcquireRequest{SessionId: 1, Name: long[:256]})
			return err
		}, nil, codes.OK, ""},
		{"big owner", func() error {
			_, err := l.validateAcquire(&lockdv1.AcquireRequest{SessionId: 1, Name: "a", Owner: big})
			return err
		}, ErrTooLarge, codes.ResourceExhausted, "max_owner_bytes"},
		{"bad mode", func() error {
			_, err := l.validateAcquire(&lockdv1.AcquireRequest{SessionId: 1, Name: "a", Mode: 7})
			return err
		}, ErrInvalidArgument, codes.InvalidArgument, "mode"},
		{"long delay", func() error {
			_, err := l.validateAcquire(&lockdv1.AcquireRequest{SessionId: 1, Name: "a", LockDelay: durationpb.New(2 * time.Minute)})
			return err
		}, ErrInvalidArgument, codes.InvalidArgument, "max_lock_delay"},
		{"negative delay", func() error {
			_, err := l.validateAcquire(&lockdv1.AcquireRequest{SessionId: 1, Name: "a", LockDelay: durationpb.New(-time.Second)})
			return err
		}, ErrInvalidArgument, codes.InvalidArgument, "lock_delay"},
		{"ttl ok", func() error {
			_, err := l.validateCreateSession(&lockdv1.CreateSessionRequest{Ttl: durationpb.New(10 * time.Second)})
			return err
		}, nil, codes.OK, ""},
		{"ttl missing", func() error { _, err := l.validateCreateSession(&lockdv1.CreateSessionRequest{}); return err }, ErrBadTTL, codes.InvalidArgument, "min_session_ttl"},
		{"ttl short", func() error {
			_, err := l.validateCreateSession(&lockdv1.CreateSessionRequest{Ttl: durationpb.New(999 * time.Millisecond)})
			return err
		}, ErrBadTTL, codes.InvalidArgument, "[1s, 1h0m0s]"},
		{"ttl long", func() error {
			_, err := l.validateCreateSession(&lockdv1.CreateSessionRequest{Ttl: durationpb.New(time.Hour + time.Millisecond)})
			return err
		}, ErrBadTTL, codes.InvalidArgument, "max_session_ttl"},
		{"ttl sub-ms", func() error {
			_, err := l.validateCreateSession(&lockdv1.CreateSessionRequest{Ttl: durationpb.New(time.Second + 1)})
			return err
		}, ErrBadTTL, codes.InvalidArgument, "milliseconds"},
		{"permits zero", func() error {
			return l.validateSemaphoreAcquire(&lockdv1.SemaphoreAcquireRequest{SessionId: 1, Name: "s"})
		}, ErrInvalidArgument, codes.InvalidArgument, "permits"},
		{"permits huge", func() error {
			return l.validateSemaphoreAcquire(&lockdv1.SemaphoreAcquireRequest{SessionId: 1, Name: "s", Permits: 1<<16 + 1})
		}, ErrInvalidArgument, codes.InvalidArgument, "max_permits"},
		{"campaign value", func() error { return l.validateCampaign(1, "e", big) }, ErrTooLarge, codes.ResourceExhausted, "value"},
		{"campaign no election", func() error { return l.validateCampaign(1, "", nil) }, ErrInvalidArgument, codes.InvalidArgument, "election"},
		{"release no session", func() error { return l.validateRelease(0, "name", "a") }, ErrInvalidArgument, codes.InvalidArgument, "session_id"},
		{"list negative", func() error { _, err := l.validateList("", "", -1); return err }, ErrInvalidArgument, codes.InvalidArgument, "limit"},
		{"list prefix", func() error { _, err := l.validateList(long, "", 0); return err }, ErrTooLarge, codes.ResourceExhausted, "prefix"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.check()
			if tc.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.wantErr)
			require.Contains(t, err.Error(), tc.mention)
			require.Equal(t, tc.code, status.Code(toStatus(err)))
		})
	}
	n, err := l.validateList("", "", 0)
	require.NoError(t, err)
	require.Equal(t, 1000, n)
}

func TestConfigValidate(t *testing.T) {
	cfg := DefaultConfig()
	err := cfg.Validate()
	require.ErrorContains(t, err, "id must be set")
	require.ErrorContains(t, err, "data_dir must be set")
	cfg.ID, cfg.DataDir = "lockd-1", t.TempDir()
	require.NoError(t, cfg.Validate())
	cfg.MaxSessionTTL = time.Millisecond
	cfg.MaxNameBytes = 0
	cfg.Peers = "bad"
	err = cfg.Validate()
	require.ErrorContains(t, err, "max_session_ttl")
	require.ErrorContains(t, err, "max_name_bytes")
	require.ErrorContains(t, err, "peers")
}

// FuzzValidateAcquire checks that validation never panics and that whatever it
// accepts respects the limits.
func FuzzValidateAcquire(f *testing.F) {
	f.Add(uint64(1), "lock", []byte("me"), int32(0), int64(0), int64(1000))
	f.Add(uint64(0), "", []byte(nil), int32(9), int64(-5), int64(-1))
	f.Add(uint64(7), strings.Repeat("x", 300), make([]byte, 5000), int32(1), int64(61), int64(1<<40))
	l := testLimits()
	f.Fuzz(func(t *testing.T, session uint64, name string, owner []byte, mode int32, delaySec int64, ttlMs int64) {
		req := &lockdv1.AcquireRequest{SessionId: session, Name: name, Owner: owner, Mode: lockdv1.LockMode(mode),
			LockDelay: &durationpb.Duration{Seconds: delaySec}}
		d, err := l.validateAcquire(req)
		if err == nil {
			require.NotZero(t, session)
			require.NotEmpty(t, name)
			require.LessOrEqual(t, len(name), l.maxName)
			require.LessOrEqual(t, len(owner), l.maxOwner)
			require.GreaterOrEqual(t, d, time.Duration(0))
			require.LessOrEqual(t, d, l.maxDelay)
		} else {
			require.NotEqual(t, codes.Internal, status.Code(toStatus(err)))
		}
		ttl, err := l.validateCreateSession(&lockdv1.CreateSessionRequest{Ttl: durationpb.New(time.Duration(ttlMs) * time.Millisecond)})
		if err == nil {
			require.GreaterOrEqual(t, ttl, l.minTTL)
			require.LessOrEqual(t, ttl, l.maxTTL)
		}
		_, _ = l.validateList(name, string(owner), delaySec)
		_ = l.validateSemaphoreAcquire(&lockdv1.SemaphoreAcquireRequest{SessionId: session, Name: name, Owner: owner, Permits: uint32(mode)})
	})
}

// Every Config field binds to a flag and loads from the environment, so the
// cairn binary can wire lockd like raftkv.
func TestConfigFlags(t *testing.T) {
	cfg := DefaultConfig()
	fs := pflag.NewFlagSet("lockd", pflag.ContinueOnError)
	require.NoError(t, node.BindFlags(fs, &cfg))
	require.NoError(t, fs.Parse([]string{"--id", "lockd-1", "--grpc-addr", "127.0.0.1:7100", "--admin-addr", "127.0.0.1:7101",
		"--data-dir", t.TempDir(), "--peers", "lockd-1=127.0.0.1:7100,lockd-2=127.0.0.1:7102", "--max-permits", "7", "--max-session-ttl", "2h"}))
	t.Setenv("CAIRN_LOCKD_MAX_NAME_BYTES", "100")
	require.NoError(t, node.Load(fs, &cfg, "CAIRN_LOCKD_", ""))
	require.NoError(t, cfg.Validate())
	require.Equal(t, "lockd-1", cfg.ID)
	require.Equal(t, 7, cfg.MaxPermits)
	require.Equal(t, 2*time.Hour, cfg.MaxSessionTTL)
	require.Equal(t, 100, cfg.MaxNameBytes)
	require.Equal(t, "127.0.0.1:7100", cfg.Server.GRPCAddr)
}
