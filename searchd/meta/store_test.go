package meta

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"cairn.dev/cairn/node/raftnode"
	"cairn.dev/cairn/node/rpcerr"
)

// harness applies commands to a store as the Raft log would.
type harness struct {
	t     *testing.T
	st    *Store
	index uint64
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	st, err := Open(filepath.Join(t.TempDir(), "meta.db"), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return &harness{t: t, st: st}
}

func (h *harness) apply(ctx context.Context, cmd []byte) ([]byte, error) {
	h.index++
	out, err := h.st.ApplyBatch([]raftnode.Entry{{Index: h.index, Term: 1, Data: cmd}})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

func (h *harness) do(cmd *Command) (*Result, error) {
	return Propose(context.Background(), h.apply, time.Unix(100, 0), cmd)
}

func (h *harness) must(cmd *Command) *Index {
	h.t.Helper()
	res, err := h.do(cmd)
	if err != nil {
		h.t.Fatalf("%s: %v", cmd.Op, err)
	}
	return res.Index
}

func newIndex(name string, shards int, nodes ...string) *Index {
	ix := &Index{Name: name, UUID: "u-" + name, Topic: "searchd." + name, Shards: shards, Replicas: len(nodes) - 1, RefreshInterval: time.Second}
	for s := 0; s < shards; s++ {
		var cs []Copy
		for _, n := range nodes {
			cs = append(cs, Copy{Node: n, State: Started})
		}
		ix.Copies = append(ix.Copies, cs)
	}
	return ix
}

func TestCreateGetDelete(t *testing.T) {
	h := newHarness(t)
	ix := h.must(CreateIndex(newIndex("products", 3, "a", "b")))
	if ix.MappingVersion != 1 || ix.CreatedUnixNs != time.Unix(100, 0).UnixNano() || ix.Copies[2][1].AllocID != 1 {
		t.Fatalf("created %+v", ix)
	}
	if _, err := h.do(CreateIndex(newIndex("products", 1, "a"))); !errors.Is(err, ErrIndexExists) {
		t.Fatalf("second create: %v", err)
	}
	got, err := h.st.Index("products")
	if err != nil || got.UUID != "u-products" || got.Health() != "green" {
		t.Fatalf("Index: %+v %v", got, err)
	}
	all, _ := h.st.Indexes()
	if len(all) != 1 {
		t.Fatalf("Indexes: %d", len(all))
	}
	if _, err := h.do(DeleteIndex("products", "other-uuid")); !errors.Is(err, ErrIndexNotFound) {
		t.Fatalf("delete of another uuid: %v", err)
	}
	h.must(DeleteIndex("products", ""))
	if _, err := h.st.Index("products"); !errors.Is(err, ErrIndexNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

func TestValidationNamesField(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		mutate func(*Index)
		field  string
	}{
		{func(ix *Index) { ix.Name = "Upper" }, "name"},
		{func(ix *Index) { ix.Name = "_x" }, "name"},
		{func(ix *Index) { ix.Name = "a b" }, "name"},
		{func(ix *Index) { ix.Name = "a#b" }, "name"},
		{func(ix *Index) { ix.Name = string(bytes.Repeat([]byte("a"), 256)) }, "name"},
		{func(ix *Index) { ix.Shards = 65 }, "settings.shards"},
		{func(ix *Index) { ix.Replicas = -1 }, "settings.replicas"},
		{func(ix *Index) { ix.Copies = ix.Copies[:1] }, "copies"},
	} {
		ix := newIndex("ok", 2, "a")
		tc.mutate(ix)
		_, err := h.do(CreateIndex(ix))
		if !errors.Is(err, ErrInvalidArgument) || rpcerr.MetadataOf(err)[rpcerr.KeyField] != tc.field {
			t.Errorf("%s: err %v, metadata %v", tc.field, err, rpcerr.MetadataOf(err))
		}
	}
	for _, ok := range []string{"a", "products-2024", "a.b", "ünïcode"} {
		if err := ValidateIndexName("name", ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}

func TestPutMappingVersions(t *testing.T) {
	h := newHarness(t)
	h.must(CreateIndex(newIndex("i", 1, "a")))
	ix := h.must(PutMapping("i", 1, []byte(`{"properties":{"t":{"type":"text"}}}`)))
	if ix.MappingVersion != 2 || !bytes.Contains(ix.MappingsJSON, []byte(`"t"`)) {
		t.Fatalf("after put: %+v", ix)
	}
	if _, err := h.do(PutMapping("i", 1, []byte(`{}`))); !errors.Is(err, ErrMappingConflict) {
		t.Fatalf("stale put: %v", err)
	}
	if _, err := h.do(PutMapping("nope", 1, []byte(`{}`))); !errors.Is(err, ErrIndexNotFound) {
		t.Fatalf("put on missing index: %v", err)
	}
}

func TestCopyLifecycle(t *testing.T) {
	h := newHarness(t)
	h.must(CreateIndex(newIndex("i", 2, "a", "b")))
	h.must(SetCopyState("i", "u-i", 1, "b", 0, Lost))
	if _, err := h.do(AddCopy("i", "u-i", 1, "a")); !errors.Is(err, ErrCopyConflict) {
		t.Fatalf("second copy on a node: %v", err)
	}
	ix := h.must(AddCopy("i", "u-i", 1, "c"))
	c, ok := ix.CopyOn(1, "c")
	if !ok || c.State != Initializing || c.AllocID != 4 || ix.Health() != "yellow" {
		t.Fatalf("added copy %+v %v health %s", c, ok, ix.Health())
	}
	if _, err := h.do(SetCopyState("i", "u-i", 1, "c", 99, Started)); !errors.Is(err, ErrCopyConflict) {
		t.Fatalf("state of another allocation: %v", err)
	}
	h.must(SetCopyState("i", "u-i", 1, "c", 4, Started))
	ix = h.must(RemoveCopy("i", "u-i", 1, "b", 0))
	if len(ix.Copies[1]) != 2 || ix.Health() != "green" || len(ix.Started(1)) != 2 {
		t.Fatalf("after replace: %+v", ix.Copies[1])
	}
	if _, err := h.do(SetCopyState("i", "u-i", 5, "c", 0, Started)); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("unknown shard: %v", err)
	}
}

func TestSkipsReplayedEntriesAndSnapshots(t *testing.T) {
	h := newHarness(t)
	h.must(CreateIndex(newIndex("i", 1, "a")))
	cmd, _ := json.Marshal(DeleteIndex("i", ""))
	// A replay of entry 1's index must be skipped.
	if _, err := h.st.ApplyBatch([]raftnode.Entry{{Index: 1, Data: cmd}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.Index("i"); err != nil {
		t.Fatalf("replayed entry applied: %v", err)
	}
	snap, err := h.st.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := snap.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	snap.Release()
	h2 := newHarness(t)
	if err := h2.st.Restore(&buf); err != nil {
		t.Fatal(err)
	}
	if ix, err := h2.st.Index("i"); err != nil || ix.UUID != "u-i" || h2.st.AppliedIndex() != 1 {
		t.Fatalf("restored: %+v %v applied %d", ix, err, h2.st.AppliedIndex())
	}
}

func FuzzValidateIndexName(f *testing.F) {
	for _, s := range []string{"a", "A", "-a", "a,b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if err := ValidateIndexName("name", name); err == nil {
			if name == "" || len(name) > MaxIndexNameBytes || bytes.ContainsAny([]byte(name), "\\/*?\"<>| ,#:") {
				t.Fatalf("accepted %q", name)
			}
		}
	})
}
