package blobd

import (
	"slices"
	"testing"

	blobdpeerv1 "cairn.dev/cairn/proto/cairn/blobd/peer/v1"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

func TestPlacerPick(t *testing.T) {
	up := map[string]*blobdraftv1.ServerRecord{}
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		up[id] = &blobdraftv1.ServerRecord{Id: id, State: blobdraftv1.ServerState_SERVER_STATE_UP}
	}
	up["e"].FreeBytes = 100 // the most free space wins a tie
	tests := []struct {
		name         string
		load, total  map[string]int
		covered      []string
		want         []string
		replicas     int
		wantAfterAdd []string
	}{
		{name: "empty cluster: by free space, then id", replicas: 3, want: []string{"e", "a", "b"}, wantAfterAdd: []string{"c", "d", "e"}},
		{name: "uncovered servers first", replicas: 3, covered: []string{"a", "b", "c"},
			load: map[string]int{"a": 1, "b": 1, "c": 1}, want: []string{"e", "d", "a"}, wantAfterAdd: []string{"b", "c", "e"}},
		{name: "fewest writable, then fewest volumes", replicas: 2, covered: []string{"a", "b", "c", "d", "e"},
			load: map[string]int{"a": 2, "b": 1, "c": 1, "d": 1, "e": 2}, total: map[string]int{"b": 9, "c": 3, "d": 4},
			want: []string{"c", "d"}, wantAfterAdd: []string{"b", "e"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := placer{up: up, load: map[string]int{}, total: map[string]int{}, covered: map[string]bool{}}
			for k, v := range tt.load {
				p.load[k] = v
			}
			for k, v := range tt.total {
				p.total[k] = v
			}
			for _, id := range tt.covered {
				p.covered[id] = true
			}
			got := slices.Clone(p.pick(tt.replicas, ""))
			if !slices.Equal(got, tt.want) {
				t.Fatalf("pick = %v, want %v", got, tt.want)
			}
			p.add(got)
			if got := p.pick(tt.replicas, ""); !slices.Equal(got, tt.wantAfterAdd) {
				t.Fatalf("second pick = %v, want %v", got, tt.wantAfterAdd)
			}
		})
	}
}

func TestPlacerLeavesOut(t *testing.T) {
	// Every live server must be left out of some writable volume, so that a
	// write whose replica fails has another volume to go to at once.
	up := map[string]*blobdraftv1.ServerRecord{}
	for _, id := range []string{"a", "b", "c", "d"} {
		up[id] = &blobdraftv1.ServerRecord{Id: id, State: blobdraftv1.ServerState_SERVER_STATE_UP}
	}
	p := placer{up: up, load: map[string]int{}, total: map[string]int{}, covered: map[string]bool{}}
	p.add([]string{"a", "b", "c"})
	p.add([]string{"a", "b", "d"})
	for id, want := range map[string]bool{"a": false, "b": false, "c": true, "d": true} {
		if got := p.leavesOut(id); got != want {
			t.Errorf("leavesOut(%s) = %v, want %v", id, got, want)
		}
	}
	got := p.pick(3, "a")
	if slices.Contains(got, "a") || len(got) != 3 {
		t.Fatalf("pick without a = %v", got)
	}
	p.add(got)
	if !p.leavesOut("a") {
		t.Fatalf("after %v, a must be left out of a volume", got)
	}
}

func TestNeedsRegistration(t *testing.T) {
	rec := &blobdraftv1.ServerRecord{Id: "a", Addr: "h:1", S3Addr: "h:2", CapacityBytes: 1000, FreeBytes: 500, State: blobdraftv1.ServerState_SERVER_STATE_UP}
	req := func(mod func(*blobdpeerv1.HeartbeatRequest)) *blobdpeerv1.HeartbeatRequest {
		r := &blobdpeerv1.HeartbeatRequest{ServerId: "a", Addr: "h:1", S3Addr: "h:2", CapacityBytes: 1000, FreeBytes: 500}
		if mod != nil {
			mod(r)
		}
		return r
	}
	down := &blobdraftv1.ServerRecord{Id: "a", Addr: "h:1", S3Addr: "h:2", CapacityBytes: 1000, FreeBytes: 500, State: blobdraftv1.ServerState_SERVER_STATE_DOWN}
	draining := &blobdraftv1.ServerRecord{Id: "a", Addr: "h:1", S3Addr: "h:2", CapacityBytes: 1000, FreeBytes: 500, State: blobdraftv1.ServerState_SERVER_STATE_DRAINING}
	tests := []struct {
		name string
		rec  *blobdraftv1.ServerRecord
		req  *blobdpeerv1.HeartbeatRequest
		want bool
	}{
		{"unknown", nil, req(nil), true},
		{"unchanged", rec, req(nil), false},
		{"down comes back", down, req(nil), true},
		{"draining stays", draining, req(nil), false},
		{"moved", rec, req(func(r *blobdpeerv1.HeartbeatRequest) { r.Addr = "h:9" }), true},
		{"s3 moved", rec, req(func(r *blobdpeerv1.HeartbeatRequest) { r.S3Addr = "h:9" }), true},
		{"capacity changed", rec, req(func(r *blobdpeerv1.HeartbeatRequest) { r.CapacityBytes = 2000 }), true},
		{"free drifts a little", rec, req(func(r *blobdpeerv1.HeartbeatRequest) { r.FreeBytes = 460 }), false},
		{"free drops by over 5%", rec, req(func(r *blobdpeerv1.HeartbeatRequest) { r.FreeBytes = 440 }), true},
		{"free grows by over 5%", rec, req(func(r *blobdpeerv1.HeartbeatRequest) { r.FreeBytes = 560 }), true},
	}
	for _, tt := range tests {
		if got := needsRegistration(tt.rec, tt.req); got != tt.want {
			t.Errorf("%s: needsRegistration = %v, want %v", tt.name, got, tt.want)
		}
	}
}
