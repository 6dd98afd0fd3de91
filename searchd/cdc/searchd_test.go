package cdc

import (
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"

	"cairn.dev/cairn/node/nodetest"
	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"
	"cairn.dev/cairn/searchd/searchdtest"
)

// ids lists a real index's ids after a refresh.
func ids(t *testing.T, conn grpc.ClientConnInterface, index string) []string {
	t.Helper()
	_, err := searchdv1.NewIndexServiceClient(conn).Refresh(ctxT(t), &searchdv1.RefreshRequest{Indexes: []string{index}})
	require.NoError(t, err)
	resp, err := searchdv1.NewSearchServiceClient(conn).Search(ctxT(t), &searchdv1.SearchRequest{Indexes: []string{index}, BodyJson: []byte(`{"size":100}`)})
	require.NoError(t, err)
	var out []string
	for _, h := range resp.GetHits() {
		out = append(out, h.GetId())
	}
	sort.Strings(out)
	return out
}

// Against a real searchd: the sync follows, and after a compaction gap the
// resync deletes the documents whose keys went away in the gap (the paging
// of ids sorted by _id runs on the real engine).
func TestSyncAgainstSearchd(t *testing.T) {
	kv := startRaftKV(t)
	c := searchdtest.New(t, 1, nil)
	conn := c.Leader().Conn
	_, err := searchdv1.NewIndexServiceClient(conn).CreateIndex(ctxT(t), &searchdv1.CreateIndexRequest{Name: "p", Settings: &searchdv1.IndexSettings{Shards: 2}})
	require.NoError(t, err)
	for _, k := range []string{"1", "2", "3"} {
		put(t, kv, "/p/"+k, `{"title":"doc `+k+`"}`)
	}
	_, stop := startSync(t, Config{Prefix: "/p/", Index: "p", PageSize: 2}, kv, conn)
	nodetest.WaitFor(t, 30*time.Second, "synced", func() bool { return len(ids(t, conn, "p")) == 3 })
	rev := del(t, kv, "/p/3")
	nodetest.WaitFor(t, 30*time.Second, "3 deleted", func() bool { return len(ids(t, conn, "p")) == 2 })
	nodetest.WaitFor(t, 10*time.Second, "progress saved", func() bool { return savedRevision(t, kv, "p") >= rev })
	require.NoError(t, stop())

	del(t, kv, "/p/1")
	put(t, kv, "/p/4", `{"title":"doc 4"}`)
	now := put(t, kv, "/elsewhere", "x")
	_, err = kv.Compact(ctxT(t), now)
	require.NoError(t, err)
	s, _ := startSync(t, Config{Prefix: "/p/", Index: "p", PageSize: 2}, kv, conn)
	nodetest.WaitFor(t, 30*time.Second, "resynced", func() bool {
		got := ids(t, conn, "p")
		return len(got) == 2 && got[0] == "2" && got[1] == "4"
	})
	// The resync counts itself after it has applied the documents, so the
	// index may show them a moment before the count does.
	nodetest.WaitFor(t, 10*time.Second, "the resync counted", func() bool { return s.Stats().Resyncs >= 1 })
	require.EqualValues(t, 1, s.Stats().Resyncs)
}
