package raftnode

import (
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	raftv1 "cairn.dev/cairn/proto/cairn/raft/v1"
)

// wireRoundTrip marshals and unmarshals m, as the gRPC codec does, so that the tests
// also cover what proto3 does to empty fields.
func wireRoundTrip[M proto.Message](t *testing.T, m M) M {
	t.Helper()
	b, err := proto.Marshal(m)
	require.NoError(t, err)
	out := m.ProtoReflect().New().Interface().(M)
	require.NoError(t, proto.Unmarshal(b, out))
	return out
}

var transportTestHeader = raft.RPCHeader{
	ProtocolVersion: raft.ProtocolVersionMax,
	ID:              []byte("node-1"),
	Addr:            []byte("127.0.0.1:7001"),
}

func TestTransportConvertAppendEntries(t *testing.T) {
	appended := time.Unix(1_700_000_000, 123456789)
	tests := []struct {
		name string
		req  *raft.AppendEntriesRequest
	}{
		{name: "empty", req: &raft.AppendEntriesRequest{}},
		{name: "heartbeat", req: &raft.AppendEntriesRequest{RPCHeader: transportTestHeader, Term: 7}},
		{name: "entries", req: &raft.AppendEntriesRequest{
			RPCHeader:         transportTestHeader,
			Term:              9,
			PrevLogEntry:      41,
			PrevLogTerm:       8,
			LeaderCommitIndex: 40,
			Entries: []*raft.Log{
				{Index: 42, Term: 9, Type: raft.LogCommand, Data: []byte("set x=1"), Extensions: []byte{1, 2, 3}, AppendedAt: appended},
				{Index: 43, Term: 9, Type: raft.LogConfiguration, Data: []byte{0xff}},
				{Index: 44, Term: 9, Type: raft.LogNoop},
				{Index: 45, Term: 9, Type: raft.LogBarrier, AppendedAt: appended.Add(time.Second)},
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := appendEntriesRequestFromProto(wireRoundTrip(t, appendEntriesRequestToProto(tt.req)))
			want := *tt.req
			want.Leader = want.Addr // filled from the header for raft's compatibility path
			requireSameAppendEntries(t, &want, got)
		})
	}
}

func requireSameAppendEntries(t *testing.T, want, got *raft.AppendEntriesRequest) {
	t.Helper()
	require.Equal(t, want.ProtocolVersion, got.ProtocolVersion)
	require.Equal(t, string(want.ID), string(got.ID))
	require.Equal(t, string(want.Addr), string(got.Addr))
	require.Equal(t, string(want.Leader), string(got.Leader))
	require.Equal(t, want.Term, got.Term)
	require.Equal(t, want.PrevLogEntry, got.PrevLogEntry)
	require.Equal(t, want.PrevLogTerm, got.PrevLogTerm)
	require.Equal(t, want.LeaderCommitIndex, got.LeaderCommitIndex)
	require.Len(t, got.Entries, len(want.Entries))
	for i, w := range want.Entries {
		g := got.Entries[i]
		require.Equal(t, w.Index, g.Index, "entry %d", i)
		require.Equal(t, w.Term, g.Term, "entry %d", i)
		require.Equal(t, w.Type, g.Type, "entry %d", i)
		require.Equal(t, string(w.Data), string(g.Data), "entry %d", i)
		require.Equal(t, string(w.Extensions), string(g.Extensions), "entry %d", i)
		require.True(t, w.AppendedAt.Equal(g.AppendedAt), "entry %d: appended at %v, got %v", i, w.AppendedAt, g.AppendedAt)
		require.Equal(t, w.AppendedAt.IsZero(), g.AppendedAt.IsZero(), "entry %d", i)
	}
}

func TestTransportConvertResponses(t *testing.T) {
	t.Run("append entries", func(t *testing.T) {
		for _, want := range []raft.AppendEntriesResponse{
			{},
			{RPCHeader: transportTestHeader, Term: 3, LastLog: 99, Success: true},
			{RPCHeader: transportTestHeader, Term: 4, LastLog: 1, NoRetryBackoff: true},
		} {
			var got raft.AppendEntriesResponse
			appendEntriesResponseFromProto(wireRoundTrip(t, appendEntriesResponseToProto(&want)), &got)
			requireSameHeader(t, want.RPCHeader, got.RPCHeader)
			want.RPCHeader, got.RPCHeader = raft.RPCHeader{}, raft.RPCHeader{}
			require.Equal(t, want, got)
		}
	})
	t.Run("request vote", func(t *testing.T) {
		for _, want := range []raft.RequestVoteResponse{{}, {RPCHeader: transportTestHeader, Term: 5, Granted: true}} {
			var got raft.RequestVoteResponse
			requestVoteResponseFromProto(wireRoundTrip(t, requestVoteResponseToProto(&want)), &got)
			requireSameHeader(t, want.RPCHeader, got.RPCHeader)
			require.Equal(t, want.Term, got.Term)
			require.Equal(t, want.Granted, got.Granted)
		}
	})
	t.Run("request pre-vote", func(t *testing.T) {
		for _, want := range []raft.RequestPreVoteResponse{{}, {RPCHeader: transportTestHeader, Term: 6, Granted: true}} {
			var got raft.RequestPreVoteResponse
			requestPreVoteResponseFromProto(wireRoundTrip(t, requestPreVoteResponseToProto(&want)), &got)
			requireSameHeader(t, want.RPCHeader, got.RPCHeader)
			require.Equal(t, want.Term, got.Term)
			require.Equal(t, want.Granted, got.Granted)
		}
	})
	t.Run("timeout now", func(t *testing.T) {
		want := raft.TimeoutNowResponse{RPCHeader: transportTestHeader}
		var got raft.TimeoutNowResponse
		timeoutNowResponseFromProto(wireRoundTrip(t, timeoutNowResponseToProto(&want)), &got)
		requireSameHeader(t, want.RPCHeader, got.RPCHeader)
	})
	t.Run("install snapshot", func(t *testing.T) {
		for _, want := range []raft.InstallSnapshotResponse{{}, {RPCHeader: transportTestHeader, Term: 8, Success: true}} {
			var got raft.InstallSnapshotResponse
			installSnapshotResponseFromProto(wireRoundTrip(t, installSnapshotResponseToProto(&want)), &got)
			requireSameHeader(t, want.RPCHeader, got.RPCHeader)
			require.Equal(t, want.Term, got.Term)
			require.Equal(t, want.Success, got.Success)
		}
	})
}

func requireSameHeader(t *testing.T, want, got raft.RPCHeader) {
	t.Helper()
	require.Equal(t, want.ProtocolVersion, got.ProtocolVersion)
	require.Equal(t, string(want.ID), string(got.ID))
	require.Equal(t, string(want.Addr), string(got.Addr))
}

func TestTransportConvertRequests(t *testing.T) {
	t.Run("request vote", func(t *testing.T) {
		for _, want := range []raft.RequestVoteRequest{
			{},
			{RPCHeader: transportTestHeader, Term: 3, LastLogIndex: 10, LastLogTerm: 2},
			{RPCHeader: transportTestHeader, Term: 4, LastLogIndex: 11, LastLogTerm: 3, LeadershipTransfer: true},
		} {
			got := requestVoteRequestFromProto(wireRoundTrip(t, requestVoteRequestToProto(&want)))
			requireSameHeader(t, want.RPCHeader, got.RPCHeader)
			require.Equal(t, string(want.Addr), string(got.Candidate))
			require.Equal(t, want.Term, got.Term)
			require.Equal(t, want.LastLogIndex, got.LastLogIndex)
			require.Equal(t, want.LastLogTerm, got.LastLogTerm)
			require.Equal(t, want.LeadershipTransfer, got.LeadershipTransfer)
		}
	})
	t.Run("request pre-vote", func(t *testing.T) {
		for _, want := range []raft.RequestPreVoteRequest{{}, {RPCHeader: transportTestHeader, Term: 3, LastLogIndex: 10, LastLogTerm: 2}} {
			got := requestPreVoteRequestFromProto(wireRoundTrip(t, requestPreVoteRequestToProto(&want)))
			requireSameHeader(t, want.RPCHeader, got.RPCHeader)
			want.RPCHeader, got.RPCHeader = raft.RPCHeader{}, raft.RPCHeader{}
			require.Equal(t, want, *got)
		}
	})
	t.Run("timeout now", func(t *testing.T) {
		want := raft.TimeoutNowRequest{RPCHeader: transportTestHeader}
		got := timeoutNowRequestFromProto(wireRoundTrip(t, timeoutNowRequestToProto(&want)))
		requireSameHeader(t, want.RPCHeader, got.RPCHeader)
	})
	t.Run("install snapshot", func(t *testing.T) {
		conf := raft.EncodeConfiguration(raft.Configuration{Servers: []raft.Server{
			{Suffrage: raft.Voter, ID: "a", Address: "127.0.0.1:1"},
			{Suffrage: raft.Nonvoter, ID: "b", Address: "127.0.0.1:2"},
		}})
		for _, want := range []raft.InstallSnapshotRequest{
			{},
			{
				RPCHeader:          transportTestHeader,
				SnapshotVersion:    raft.SnapshotVersionMax,
				Term:               12,
				LastLogIndex:       1000,
				LastLogTerm:        11,
				Configuration:      conf,
				ConfigurationIndex: 900,
				Size:               5 << 20,
			},
		} {
			got := installSnapshotRequestFromProto(wireRoundTrip(t, &raftv1.InstallSnapshotRequest{
				Message: &raftv1.InstallSnapshotRequest_Metadata{Metadata: installSnapshotRequestToProto(&want)},
			}).GetMetadata())
			requireSameHeader(t, want.RPCHeader, got.RPCHeader)
			require.Equal(t, string(want.Addr), string(got.Leader))
			require.Equal(t, want.SnapshotVersion, got.SnapshotVersion)
			require.Equal(t, want.Term, got.Term)
			require.Equal(t, want.LastLogIndex, got.LastLogIndex)
			require.Equal(t, want.LastLogTerm, got.LastLogTerm)
			require.Equal(t, string(want.Configuration), string(got.Configuration))
			require.Equal(t, want.ConfigurationIndex, got.ConfigurationIndex)
			require.Equal(t, want.Size, got.Size)
			if len(want.Configuration) > 0 {
				require.Equal(t, raft.DecodeConfiguration(want.Configuration), raft.DecodeConfiguration(got.Configuration))
			}
		}
	})
}

func TestTransportIsHeartbeat(t *testing.T) {
	tests := []struct {
		name string
		req  raft.AppendEntriesRequest
		want bool
	}{
		{"heartbeat", raft.AppendEntriesRequest{RPCHeader: transportTestHeader, Term: 2}, true},
		{"no term", raft.AppendEntriesRequest{RPCHeader: transportTestHeader}, false},
		{"no leader address", raft.AppendEntriesRequest{Term: 2}, false},
		{"prev log", raft.AppendEntriesRequest{RPCHeader: transportTestHeader, Term: 2, PrevLogEntry: 1, PrevLogTerm: 1}, false},
		{"commit index", raft.AppendEntriesRequest{RPCHeader: transportTestHeader, Term: 2, LeaderCommitIndex: 3}, false},
		{"entries", raft.AppendEntriesRequest{RPCHeader: transportTestHeader, Term: 2, Entries: []*raft.Log{{Index: 1}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Classify after a trip over the wire, as the server does.
			got := appendEntriesRequestFromProto(wireRoundTrip(t, appendEntriesRequestToProto(&tt.req)))
			require.Equal(t, tt.want, isHeartbeat(got))
		})
	}
}
