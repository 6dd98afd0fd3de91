package cdc

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"cairn.dev/cairn/node/nodetest"
	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"
	kvclient "cairn.dev/cairn/raftkv/client"
	"cairn.dev/cairn/raftkv/raftkvtest"
	"cairn.dev/cairn/searchd/searchdfake"
)

// startRaftKV runs a one-member raftkv group in-process and returns a
// client of it.
func startRaftKV(t *testing.T) *kvclient.Client {
	t.Helper()
	c, err := kvclient.New(kvclient.Config{Endpoints: []string{raftkvtest.Start(t)}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// startSync runs a Syncer in the background; the returned stop ends it
// and returns Run's error.
func startSync(t *testing.T, cfg Config, kv *kvclient.Client, conn grpc.ClientConnInterface) (*Syncer, func() error) {
	t.Helper()
	cfg.Logger = nodetest.Logger(t)
	cfg.ProgressInterval = 10 * time.Millisecond
	s, err := New(cfg, kv, conn)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	stopped := false
	var runErr error
	stop := func() error {
		if !stopped {
			stopped = true
			cancel()
			runErr = <-done
		}
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return s, stop
}

func put(t *testing.T, kv *kvclient.Client, k, v string) int64 {
	t.Helper()
	resp, err := kv.Put(ctxT(t), k, v)
	require.NoError(t, err)
	return resp.GetHeader().GetRevision()
}

func del(t *testing.T, kv *kvclient.Client, k string) int64 {
	t.Helper()
	resp, err := kv.Delete(ctxT(t), k)
	require.NoError(t, err)
	return resp.GetHeader().GetRevision()
}

func createIndex(t *testing.T, conn grpc.ClientConnInterface, name string) {
	t.Helper()
	_, err := searchdv1.NewIndexServiceClient(conn).CreateIndex(ctxT(t), &searchdv1.CreateIndexRequest{Name: name})
	require.NoError(t, err)
}

// waitDocs waits until the index holds exactly want (id -> source).
func waitDocs(t *testing.T, fake *searchdfake.Server, index string, want map[string]string) {
	t.Helper()
	nodetest.WaitFor(t, 20*time.Second, fmt.Sprintf("index %s = %v", index, want), func() bool {
		got := fake.Docs(index)
		if len(got) != len(want) {
			return false
		}
		for id, src := range want {
			if got[id] != src {
				return false
			}
		}
		return true
	})
}

func savedRevision(t *testing.T, kv *kvclient.Client, index string) int64 {
	t.Helper()
	resp, err := kv.Get(ctxT(t), DefaultProgressPrefix+index)
	require.NoError(t, err)
	if len(resp.GetKvs()) == 0 {
		return 0
	}
	var p progress
	require.NoError(t, json.Unmarshal(resp.GetKvs()[0].GetValue(), &p))
	return p.Revision
}

// The seed's pattern end to end: existing keys are resynced, then puts
// and deletes follow; a restart resumes from the saved revision and sees
// what changed while it was down.
func TestSyncFollowsAPrefixAndResumes(t *testing.T) {
	kv := startRaftKV(t)
	fake, conn := searchdfake.Start(t)
	createIndex(t, conn, "products")
	put(t, kv, "/shop/products/p1", `{"title":"wireless headphones"}`)
	put(t, kv, "/shop/products/a/b", `{"title":"nested key"}`)
	put(t, kv, "/shop/products/bad", `not json`)
	put(t, kv, "/shop/other/x", `{"title":"elsewhere"}`)

	s, stop := startSync(t, Config{Prefix: "/shop/products/", Index: "products"}, kv, conn)
	waitDocs(t, fake, "products", map[string]string{"p1": `{"title":"wireless headphones"}`, "a~2Fb": `{"title":"nested key"}`})

	put(t, kv, "/shop/products/p2", `{"title":"laptop"}`)
	put(t, kv, "/shop/products/p1", `{"title":"wireless headphones v2"}`)
	last := del(t, kv, "/shop/products/a/b")
	waitDocs(t, fake, "products", map[string]string{"p1": `{"title":"wireless headphones v2"}`, "p2": `{"title":"laptop"}`})
	nodetest.WaitFor(t, 10*time.Second, "progress saved", func() bool { return savedRevision(t, kv, "products") >= last })
	require.NoError(t, stop())
	st := s.Stats()
	require.EqualValues(t, 1, st.Resyncs)
	require.EqualValues(t, 1, st.Skipped, "the value that is not JSON")
	require.EqualValues(t, 1, st.Deleted)
	require.GreaterOrEqual(t, st.Revision, last)

	// Down: changes pile up in raftkv.
	put(t, kv, "/shop/products/p3", `{"title":"lamp"}`)
	del(t, kv, "/shop/products/p2")
	s2, _ := startSync(t, Config{Prefix: "/shop/products/", Index: "products"}, kv, conn)
	waitDocs(t, fake, "products", map[string]string{"p1": `{"title":"wireless headphones v2"}`, "p3": `{"title":"lamp"}`})
	require.Zero(t, s2.Stats().Resyncs, "resumed from the saved revision, no resync")
}

// A compaction past the saved revision loses the deletes in the gap from
// raftkv's history: the sync notices (ErrCompacted) and resyncs the whole
// prefix, deleting what is gone.
func TestSyncResyncsAfterCompaction(t *testing.T) {
	kv := startRaftKV(t)
	fake, conn := searchdfake.Start(t)
	createIndex(t, conn, "products")
	put(t, kv, "/p/1", `{"n":1}`)
	put(t, kv, "/p/2", `{"n":2}`)
	_, stop := startSync(t, Config{Prefix: "/p/", Index: "products"}, kv, conn)
	waitDocs(t, fake, "products", map[string]string{"1": `{"n":1}`, "2": `{"n":2}`})
	rev := put(t, kv, "/p/3", `{"n":3}`)
	nodetest.WaitFor(t, 10*time.Second, "progress saved", func() bool { return savedRevision(t, kv, "products") >= rev })
	require.NoError(t, stop())

	del(t, kv, "/p/1")
	put(t, kv, "/p/4", `{"n":4}`)
	now := put(t, kv, "/unrelated", "x")
	_, err := kv.Compact(ctxT(t), now)
	require.NoError(t, err)

	s, _ := startSync(t, Config{Prefix: "/p/", Index: "products"}, kv, conn)
	waitDocs(t, fake, "products", map[string]string{"2": `{"n":2}`, "3": `{"n":3}`, "4": `{"n":4}`})
	nodetest.WaitFor(t, 10*time.Second, "a resync", func() bool { return s.Stats().Resyncs == 1 })
}

// --from-revision starts the watch there, without a resync.
func TestSyncFromRevision(t *testing.T) {
	kv := startRaftKV(t)
	fake, conn := searchdfake.Start(t)
	createIndex(t, conn, "i")
	put(t, kv, "/k/old", `{"n":0}`)
	rev := put(t, kv, "/k/new", `{"n":1}`)
	s, _ := startSync(t, Config{Prefix: "/k/", Index: "i", FromRevision: rev}, kv, conn)
	waitDocs(t, fake, "i", map[string]string{"new": `{"n":1}`})
	require.Zero(t, s.Stats().Resyncs)
}

// A Bulk that fails as a whole is retried: nothing is lost.
func TestSyncRetriesAFailedBulk(t *testing.T) {
	kv := startRaftKV(t)
	fake, conn := searchdfake.Start(t)
	createIndex(t, conn, "i")
	_, _ = startSync(t, Config{Prefix: "/k/", Index: "i"}, kv, conn)
	nodetest.WaitFor(t, 10*time.Second, "the initial resync saved", func() bool { return savedRevision(t, kv, "i") > 0 })
	fake.FailNext("Bulk", searchdfake.Error(codes.Unavailable, "NO_LEADER", "no leader", nil))
	put(t, kv, "/k/1", `{"n":1}`)
	waitDocs(t, fake, "i", map[string]string{"1": `{"n":1}`})
}

func TestSyncRefusesBadConfigAndMissingIndex(t *testing.T) {
	require.Error(t, Config{Index: "i"}.Validate())
	require.Error(t, Config{Prefix: "/p/"}.Validate())
	require.ErrorContains(t, Config{Prefix: "/cairn/", Index: "i"}.Validate(), "under the prefix")
	kv := startRaftKV(t)
	_, conn := searchdfake.Start(t)
	s, err := New(Config{Prefix: "/p/", Index: "missing"}, kv, conn)
	require.NoError(t, err)
	require.ErrorContains(t, s.Run(ctxT(t)), "index missing")
}

func TestDocID(t *testing.T) {
	for _, tc := range []struct{ key, id string }{
		{"/p/abc", "abc"}, {"/p/a/b", "a~2Fb"}, {"/p/a b~c", "a~20b~7Ec"}, {"/p/ü", "~C3~BC"}, {"/p/A-Z_0.9", "A-Z_0.9"},
	} {
		id, ok := DocID(tc.key, "/p/")
		require.True(t, ok)
		require.Equal(t, tc.id, id)
		key, err := KeyOf(id, "/p/")
		require.NoError(t, err)
		require.Equal(t, tc.key, key)
	}
	_, ok := DocID("/p/", "/p/")
	require.False(t, ok)
	_, ok = DocID("/q/x", "/p/")
	require.False(t, ok)
	_, err := KeyOf("a~2", "/p/")
	require.Error(t, err)
}

func FuzzDocID(f *testing.F) {
	f.Add("a/b c")
	f.Fuzz(func(t *testing.T, rest string) {
		id, ok := DocID("/p/"+rest, "/p/")
		if !ok {
			if rest != "" {
				t.Fatal("refused")
			}
			return
		}
		key, err := KeyOf(id, "/p/")
		if err != nil || key != "/p/"+rest {
			t.Fatalf("%q -> %q -> %q, %v", rest, id, key, err)
		}
	})
}
