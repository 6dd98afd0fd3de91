package raftnode

import (
	"time"

	"github.com/hashicorp/raft"

	raftv1 "cairn.dev/cairn/proto/cairn/raft/v1"
)

// This file converts between hashicorp/raft's RPC structs and the cairn.raft.v1 messages.
//
// Every field raft still reads is carried. The deprecated fields that raft keeps only for
// compatibility with protocol version 0 peers (AppendEntriesRequest.Leader,
// RequestVoteRequest.Candidate, InstallSnapshotRequest.Leader) are not on the wire: the
// receiver fills them from RPCHeader.Addr, which is what every protocol version ≥ 1 sender
// puts there. RequestVoteResponse.Peers and InstallSnapshotRequest.Peers (protocol
// version 0 only; raft ignores them when SnapshotVersion ≥ 1) are dropped.

func rpcHeaderToProto(h raft.RPCHeader) *raftv1.RpcHeader {
	return &raftv1.RpcHeader{
		ProtocolVersion: int64(h.ProtocolVersion),
		Id:              h.ID,
		Addr:            h.Addr,
	}
}

func rpcHeaderFromProto(h *raftv1.RpcHeader) raft.RPCHeader {
	if h == nil {
		return raft.RPCHeader{}
	}
	return raft.RPCHeader{
		ProtocolVersion: raft.ProtocolVersion(h.GetProtocolVersion()),
		ID:              h.GetId(),
		Addr:            h.GetAddr(),
	}
}

// timeToUnixNano maps the zero time to 0 so that "not set" survives the round trip.
func timeToUnixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func timeFromUnixNano(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

func appendEntriesRequestToProto(r *raft.AppendEntriesRequest) *raftv1.AppendEntriesRequest {
	m := &raftv1.AppendEntriesRequest{
		Header:            rpcHeaderToProto(r.RPCHeader),
		Term:              r.Term,
		PrevLogEntry:      r.PrevLogEntry,
		PrevLogTerm:       r.PrevLogTerm,
		LeaderCommitIndex: r.LeaderCommitIndex,
	}
	if len(r.Entries) > 0 {
		// One allocation for all entries: AppendEntries carries up to MaxAppendEntries
		// logs and this is the hot path of replication.
		slab := make([]raftv1.Log, len(r.Entries))
		m.Entries = make([]*raftv1.Log, len(r.Entries))
		for i, l := range r.Entries {
			e := &slab[i]
			e.Index = l.Index
			e.Term = l.Term
			e.Type = uint32(l.Type)
			e.Data = l.Data
			e.Extensions = l.Extensions
			e.AppendedAtUnixNano = timeToUnixNano(l.AppendedAt)
			m.Entries[i] = e
		}
	}
	return m
}

func appendEntriesRequestFromProto(m *raftv1.AppendEntriesRequest) *raft.AppendEntriesRequest {
	r := &raft.AppendEntriesRequest{
		RPCHeader:         rpcHeaderFromProto(m.GetHeader()),
		Term:              m.GetTerm(),
		PrevLogEntry:      m.GetPrevLogEntry(),
		PrevLogTerm:       m.GetPrevLogTerm(),
		LeaderCommitIndex: m.GetLeaderCommitIndex(),
	}
	r.Leader = r.Addr
	if n := len(m.GetEntries()); n > 0 {
		slab := make([]raft.Log, n)
		r.Entries = make([]*raft.Log, n)
		for i, e := range m.GetEntries() {
			l := &slab[i]
			l.Index = e.GetIndex()
			l.Term = e.GetTerm()
			l.Type = raft.LogType(e.GetType())
			l.Data = e.GetData()
			l.Extensions = e.GetExtensions()
			l.AppendedAt = timeFromUnixNano(e.GetAppendedAtUnixNano())
			r.Entries[i] = l
		}
	}
	return r
}

func appendEntriesResponseToProto(r *raft.AppendEntriesResponse) *raftv1.AppendEntriesResponse {
	return &raftv1.AppendEntriesResponse{
		Header:         rpcHeaderToProto(r.RPCHeader),
		Term:           r.Term,
		LastLog:        r.LastLog,
		Success:        r.Success,
		NoRetryBackoff: r.NoRetryBackoff,
	}
}

// appendEntriesResponseFromProto fills r, which raft owns, from m.
func appendEntriesResponseFromProto(m *raftv1.AppendEntriesResponse, r *raft.AppendEntriesResponse) {
	*r = raft.AppendEntriesResponse{
		RPCHeader:      rpcHeaderFromProto(m.GetHeader()),
		Term:           m.GetTerm(),
		LastLog:        m.GetLastLog(),
		Success:        m.GetSuccess(),
		NoRetryBackoff: m.GetNoRetryBackoff(),
	}
}

func requestVoteRequestToProto(r *raft.RequestVoteRequest) *raftv1.RequestVoteRequest {
	return &raftv1.RequestVoteRequest{
		Header:             rpcHeaderToProto(r.RPCHeader),
		Term:               r.Term,
		LastLogIndex:       r.LastLogIndex,
		LastLogTerm:        r.LastLogTerm,
		LeadershipTransfer: r.LeadershipTransfer,
	}
}

func requestVoteRequestFromProto(m *raftv1.RequestVoteRequest) *raft.RequestVoteRequest {
	r := &raft.RequestVoteRequest{
		RPCHeader:          rpcHeaderFromProto(m.GetHeader()),
		Term:               m.GetTerm(),
		LastLogIndex:       m.GetLastLogIndex(),
		LastLogTerm:        m.GetLastLogTerm(),
		LeadershipTransfer: m.GetLeadershipTransfer(),
	}
	r.Candidate = r.Addr
	return r
}

func requestVoteResponseToProto(r *raft.RequestVoteResponse) *raftv1.RequestVoteResponse {
	return &raftv1.RequestVoteResponse{
		Header:  rpcHeaderToProto(r.RPCHeader),
		Term:    r.Term,
		Granted: r.Granted,
	}
}

func requestVoteResponseFromProto(m *raftv1.RequestVoteResponse, r *raft.RequestVoteResponse) {
	*r = raft.RequestVoteResponse{
		RPCHeader: rpcHeaderFromProto(m.GetHeader()),
		Term:      m.GetTerm(),
		Granted:   m.GetGranted(),
	}
}

func requestPreVoteRequestToProto(r *raft.RequestPreVoteRequest) *raftv1.RequestPreVoteRequest {
	return &raftv1.RequestPreVoteRequest{
		Header:       rpcHeaderToProto(r.RPCHeader),
		Term:         r.Term,
		LastLogIndex: r.LastLogIndex,
		LastLogTerm:  r.LastLogTerm,
	}
}

func requestPreVoteRequestFromProto(m *raftv1.RequestPreVoteRequest) *raft.RequestPreVoteRequest {
	return &raft.RequestPreVoteRequest{
		RPCHeader:    rpcHeaderFromProto(m.GetHeader()),
		Term:         m.GetTerm(),
		LastLogIndex: m.GetLastLogIndex(),
		LastLogTerm:  m.GetLastLogTerm(),
	}
}

func requestPreVoteResponseToProto(r *raft.RequestPreVoteResponse) *raftv1.RequestPreVoteResponse {
	return &raftv1.RequestPreVoteResponse{
		Header:  rpcHeaderToProto(r.RPCHeader),
		Term:    r.Term,
		Granted: r.Granted,
	}
}

func requestPreVoteResponseFromProto(m *raftv1.RequestPreVoteResponse, r *raft.RequestPreVoteResponse) {
	*r = raft.RequestPreVoteResponse{
		RPCHeader: rpcHeaderFromProto(m.GetHeader()),
		Term:      m.GetTerm(),
		Granted:   m.GetGranted(),
	}
}

func timeoutNowRequestToProto(r *raft.TimeoutNowRequest) *raftv1.TimeoutNowRequest {
	return &raftv1.TimeoutNowRequest{Header: rpcHeaderToProto(r.RPCHeader)}
}

func timeoutNowRequestFromProto(m *raftv1.TimeoutNowRequest) *raft.TimeoutNowRequest {
	return &raft.TimeoutNowRequest{RPCHeader: rpcHeaderFromProto(m.GetHeader())}
}

func timeoutNowResponseToProto(r *raft.TimeoutNowResponse) *raftv1.TimeoutNowResponse {
	return &raftv1.TimeoutNowResponse{Header: rpcHeaderToProto(r.RPCHeader)}
}

func timeoutNowResponseFromProto(m *raftv1.TimeoutNowResponse, r *raft.TimeoutNowResponse) {
	*r = raft.TimeoutNowResponse{RPCHeader: rpcHeaderFromProto(m.GetHeader())}
}

func installSnapshotRequestToProto(r *raft.InstallSnapshotRequest) *raftv1.InstallSnapshotMetadata {
	return &raftv1.InstallSnapshotMetadata{
		Header:             rpcHeaderToProto(r.RPCHeader),
		SnapshotVersion:    int64(r.SnapshotVersion),
		Term:               r.Term,
		LastLogIndex:       r.LastLogIndex,
		LastLogTerm:        r.LastLogTerm,
		Configuration:      r.Configuration,
		ConfigurationIndex: r.ConfigurationIndex,
		Size:               r.Size,
	}
}

func installSnapshotRequestFromProto(m *raftv1.InstallSnapshotMetadata) *raft.InstallSnapshotRequest {
	r := &raft.InstallSnapshotRequest{
		RPCHeader:          rpcHeaderFromProto(m.GetHeader()),
		SnapshotVersion:    raft.SnapshotVersion(m.GetSnapshotVersion()),
		Term:               m.GetTerm(),
		LastLogIndex:       m.GetLastLogIndex(),
		LastLogTerm:        m.GetLastLogTerm(),
		Configuration:      m.GetConfiguration(),
		ConfigurationIndex: m.GetConfigurationIndex(),
		Size:               m.GetSize(),
	}
	r.Leader = r.Addr
	return r
}

func installSnapshotResponseToProto(r *raft.InstallSnapshotResponse) *raftv1.InstallSnapshotResponse {
	return &raftv1.InstallSnapshotResponse{
		Header:  rpcHeaderToProto(r.RPCHeader),
		Term:    r.Term,
		Success: r.Success,
	}
}

func installSnapshotResponseFromProto(m *raftv1.InstallSnapshotResponse, r *raft.InstallSnapshotResponse) {
	*r = raft.InstallSnapshotResponse{
		RPCHeader: rpcHeaderFromProto(m.GetHeader()),
		Term:      m.GetTerm(),
		Success:   m.GetSuccess(),
	}
}
