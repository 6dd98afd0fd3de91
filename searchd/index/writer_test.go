package index

import (
	"errors"
	"fmt"

	"cairn.dev/cairn/searchd/mapping"
	"io"
	"maps"
	"os"
	"path/filepath"
	"testing"
)

func getSource(t *testing.T, w *Writer, id string) (string, bool) {
	t.Helper()
	src, ok, err := w.Get(id)
	must(t, err)
	return string(src), ok
}

func TestReplaceDeleteGet(t *testing.T) {
	w := openTest(t, t.TempDir(), nil)
	must(t, w.Index(newDoc("a", keyword("k", "v1"))))
	must(t, w.Index(newDoc("b", keyword("k", "v1"))))
	must(t, w.Refresh()) // a, b in segment 1
	must(t, w.Index(newDoc("c", keyword("k", "v2"))))
	// Replace a (in a segment) and c (in the buffer).
	a2 := newDoc("a", keyword("k", "v3"))
	a2.Source = []byte("a2")
	must(t, w.Index(a2))
	c2 := newDoc("c", keyword("k", "v4"))
	c2.Source = []byte("c2")
	must(t, w.Index(c2))
	if src, ok := getSource(t, w, "a"); !ok || src != "a2" {
		t.Fatalf("realtime get a: %q %v", src, ok)
	}
	if src, ok := getSource(t, w, "c"); !ok || src != "c2" {
		t.Fatalf("realtime get c: %q %v", src, ok)
	}
	if src, ok := getSource(t, w, "b"); !ok || src != `{"id":"b"}` {
		t.Fatalf("get b from a segment: %q %v", src, ok)
	}
	// The reader of the first refresh does not see the replacements.
	r1 := w.Acquire()
	defer r1.Release()
	if ids := liveIDs(r1); len(ids) != 2 || !ids["a"] || !ids["b"] {
		t.Fatalf("reader 1 %v", ids)
	}
	must(t, w.Refresh())
	r2 := w.Acquire()
	defer r2.Release()
	if r2.NumDocs() != 3 || r1.NumDocs() != 2 {
		t.Fatalf("docs %d %d", r1.NumDocs(), r2.NumDocs())
	}
	if ids := liveIDs(r2); len(ids) != 3 {
		t.Fatalf("reader 2 %v", ids)
	}
	if got := countTerm(r2, "k", "v1"); got != 1 {
		t.Fatalf("live v1 %d", got)
	}
	if got := countTerm(r2, "k", "v4"); got != 1 || countTerm(r2, "k", "v2") != 0 {
		t.Fatalf("live v4 %d", got)
	}
	ok, err := w.Delete("b")
	must(t, err)
	if !ok {
		t.Fatal("delete b: not found")
	}
	if ok, _ := w.Delete("b"); ok {
		t.Fatal("delete b twice")
	}
	if ok, _ := w.Delete("zz"); ok {
		t.Fatal("delete missing")
	}
	if _, ok := getSource(t, w, "b"); ok {
		t.Fatal("get deleted b")
	}
	if ids := liveIDs(r2); !ids["b"] {
		t.Fatal("reader 2 lost b before a refresh")
	}
	must(t, w.Refresh())
	r3 := w.Acquire()
	defer r3.Release()
	if ids := liveIDs(r3); len(ids) != 2 || ids["b"] {
		t.Fatalf("reader 3 %v", ids)
	}
	st := w.Stats()
	if st.Docs != 2 || st.DeletedDocs != 3 || st.Segments != 2 {
		t.Fatalf("stats %+v", st)
	}
}

// countTerm counts a term's live docs.
func countTerm(r *Reader, field, term string) int {
	n := 0
	for _, s := range r.Segments {
		td := s.Terms(field)
		if td == nil {
			continue
		}
		ti, ok := td.Get([]byte(term))
		if !ok {
			continue
		}
		p := td.Postings(ti, false)
		for d := p.Next(); d != NoMoreDocs; d = p.Next() {
			if s.Live(d) {
				n++
			}
		}
	}
	return n
}

func TestCommitReopen(t *testing.T) {
	dir := t.TempDir()
	w := openTest(t, dir, nil)
	if w.CommitData() != nil {
		t.Fatal("commit data of a new index")
	}
	for _, id := range []string{"a", "b", "c"} {
		must(t, w.Index(newDoc(id, keyword("k", id))))
	}
	must(t, w.Refresh())
	must(t, w.Index(newDoc("d", keyword("k", "d"))))
	if _, err := w.Delete("b"); err != nil {
		t.Fatal(err)
	}
	must(t, w.Commit(map[string]string{"offset": "4"}))
	// Uncommitted: e added, a deleted, c replaced.
	must(t, w.Index(newDoc("e", keyword("k", "e"))))
	w.Delete("a")
	must(t, w.Index(newDoc("c", keyword("k", "c2"))))
	must(t, w.Refresh())
	must(t, w.Close())

	w = openTest(t, dir, nil)
	if got := w.CommitData(); got["offset"] != "4" {
		t.Fatalf("commit data %v", got)
	}
	r := w.Acquire()
	if ids := liveIDs(r); !maps.Equal(ids, map[string]bool{"a": true, "c": true, "d": true}) {
		t.Fatalf("after reopen %v", ids)
	}
	if countTerm(r, "k", "c") != 1 || countTerm(r, "k", "c2") != 0 {
		t.Fatal("c reverted")
	}
	r.Release()
	// Only the commit's files are left.
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if filepath.Ext(e.Name()) == ".tmp" {
			t.Fatalf("left %s", e.Name())
		}
	}
	// Deletes after reopen then a second commit persist too.
	w.Delete("d")
	must(t, w.Commit(map[string]string{"offset": "9"}))
	must(t, w.Close())
	w = openTest(t, dir, nil)
	r = w.Acquire()
	defer r.Release()
	if ids := liveIDs(r); !maps.Equal(ids, map[string]bool{"a": true, "c": true}) || w.CommitData()["offset"] != "9" {
		t.Fatalf("after second reopen %v %v", ids, w.CommitData())
	}
	if src, ok := getSource(t, w, "a"); !ok || src != `{"id":"a"}` {
		t.Fatalf("get a %q", src)
	}
}

func TestCloseWithoutCommitLosesAll(t *testing.T) {
	dir := t.TempDir()
	w := openTest(t, dir, nil)
	must(t, w.Index(newDoc("a")))
	must(t, w.Refresh())
	must(t, w.Close())
	w = openTest(t, dir, nil)
	r := w.Acquire()
	defer r.Release()
	if r.NumDocs() != 0 || len(r.Segments) != 0 {
		t.Fatalf("docs %d", r.NumDocs())
	}
	must(t, w.Close())
	if got := dirFiles(t, dir); len(got) != 1 || got[0] != "write.lock" || HasCommit(dir) {
		t.Fatalf("files left: %v", got)
	}
}

func TestCommitFilesCopy(t *testing.T) {
	dir := t.TempDir()
	w := openTest(t, dir, nil)
	files, ud, release, err := w.CommitFiles()
	must(t, err)
	if len(files) != 0 || ud != nil {
		t.Fatalf("files of no commit: %v", files)
	}
	release()
	for _, id := range []string{"a", "b", "c"} {
		must(t, w.Index(newDoc(id, text("body", "hello "+id, 0))))
	}
	must(t, w.Refresh())
	w.Delete("a")
	must(t, w.Commit(map[string]string{"offset": "3"}))
	files, ud, release, err = w.CommitFiles()
	must(t, err)
	// Later commits delete and replace files, but not the pinned ones.
	must(t, w.Index(newDoc("a", text("body", "again", 0))))
	w.Delete("b")
	must(t, w.Commit(map[string]string{"offset": "5"}))
	must(t, w.ForceMerge(1))
	must(t, w.Commit(map[string]string{"offset": "5"}))

	dst := t.TempDir()
	for _, f := range files {
		in, err := os.Open(filepath.Join(dir, f.Name))
		must(t, err)
		out, err := os.Create(filepath.Join(dst, f.Name))
		must(t, err)
		n, err := io.Copy(out, in)
		must(t, err)
		in.Close()
		must(t, out.Close())
		if n != f.Size {
			t.Fatalf("%s: copied %d of %d", f.Name, n, f.Size)
		}
	}
	release()
	if ud["offset"] != "3" {
		t.Fatalf("user data %v", ud)
	}
	if !HasCommit(dst) {
		t.Fatal("HasCommit of the copy")
	}
	w2 := openTest(t, dst, nil)
	r := w2.Acquire()
	defer r.Release()
	if ids := liveIDs(r); !maps.Equal(ids, map[string]bool{"b": true, "c": true}) || w2.CommitData()["offset"] != "3" {
		t.Fatalf("copy: %v %v", ids, w2.CommitData())
	}
	if countTerm(r, "body", "hello") != 2 {
		t.Fatal("copy: postings")
	}
	// The pinned files are gone from the source once released.
	for _, f := range files[:len(files)-1] {
		if _, err := os.Stat(filepath.Join(dir, f.Name)); err == nil {
			t.Fatalf("%s kept after release", f.Name)
		}
	}
}

// TestIndexBatchParallel indexes batches split over several buffers, with
// an id repeated across the parts of one batch and across batches.
func TestIndexBatchParallel(t *testing.T) {
	w := openTest(t, t.TempDir(), nil)
	var docs []*mapping.Document
	for i := 0; i < 1000; i++ {
		d := newDoc(fmt.Sprint(i%700), keyword("k", fmt.Sprint("v", i)), text("body", "x y", 0))
		d.Source = []byte(fmt.Sprint(i))
		docs = append(docs, d)
	}
	must(t, w.IndexBatch(docs[:500]))
	must(t, w.IndexBatch(docs[500:]))
	for i := 0; i < 700; i++ {
		want := i
		if i < 300 {
			want = i + 700
		}
		if src, ok := getSource(t, w, fmt.Sprint(i)); !ok || src != fmt.Sprint(want) {
			t.Fatalf("get %d: %q %v", i, src, ok)
		}
	}
	must(t, w.Refresh())
	r := w.Acquire()
	defer r.Release()
	if r.NumDocs() != 700 || countTerm(r, "body", "x") != 700 || countTerm(r, "k", "v5") != 0 || countTerm(r, "k", "v705") != 1 {
		t.Fatalf("docs %d", r.NumDocs())
	}
}

func TestBloom(t *testing.T) {
	var ids []string
	for i := 0; i < 5000; i++ {
		ids = append(ids, fmt.Sprint("id-", i))
	}
	f := appendBloom(nil, ids)
	for _, id := range ids {
		if !bloomMayContain(f, idHash(id)) {
			t.Fatalf("%s missing", id)
		}
	}
	fp := 0
	for i := 0; i < 10000; i++ {
		if bloomMayContain(f, idHash(fmt.Sprint("other-", i))) {
			fp++
		}
	}
	if fp > 300 {
		t.Fatalf("%d false positives in 10000", fp)
	}
}

func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	must(t, err)
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// copyDir copies the files of dir as they are on disk (a crash image).
func copyDir(t *testing.T, dir string) string {
	t.Helper()
	dst := t.TempDir()
	for _, n := range dirFiles(t, dir) {
		b, err := os.ReadFile(filepath.Join(dir, n))
		must(t, err)
		must(t, os.WriteFile(filepath.Join(dst, n), b, 0o644))
	}
	return dst
}

// TestCrashRecovery opens crash images of a live index: flushed but
// uncommitted segments and a torn newer commit point are dropped, the
// last commit is whole.
func TestCrashRecovery(t *testing.T) {
	dir := t.TempDir()
	w := openTest(t, dir, nil)
	if _, err := Open(Options{Dir: dir}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second writer: %v", err)
	}
	must(t, w.Index(newDoc("a", keyword("k", "a"))))
	must(t, w.Index(newDoc("b", keyword("k", "b"))))
	must(t, w.Commit(map[string]string{"offset": "2"}))
	must(t, w.Index(newDoc("c", keyword("k", "c"))))
	w.Delete("a")
	must(t, w.Refresh())

	img := copyDir(t, dir)
	must(t, os.WriteFile(filepath.Join(img, commitFileName(2)), []byte(`{"gen":2,"segm`), 0o644))
	w2 := openTest(t, img, nil)
	r := w2.Acquire()
	defer r.Release()
	if ids := liveIDs(r); !maps.Equal(ids, map[string]bool{"a": true, "b": true}) || w2.CommitData()["offset"] != "2" {
		t.Fatalf("after crash: %v %v", ids, w2.CommitData())
	}
	for _, n := range dirFiles(t, img) {
		if n != "write.lock" && n != commitFileName(1) && n != segFileName(0) {
			t.Fatalf("left %s: %v", n, dirFiles(t, img))
		}
	}
	// New writes after recovery do not reuse the dropped segments' names.
	must(t, w2.Index(newDoc("d")))
	must(t, w2.Commit(nil))
	must(t, w2.Close())
	w3 := openTest(t, img, nil)
	if w3.Stats().Docs != 3 {
		t.Fatalf("after recommit: %+v", w3.Stats())
	}

	// A corrupt segment of the newest commit is refused.
	img2 := copyDir(t, dir)
	seg := filepath.Join(img2, segFileName(0))
	b, _ := os.ReadFile(seg)
	b[10] ^= 0xff
	must(t, os.WriteFile(seg, b, 0o644))
	if _, err := Open(Options{Dir: img2}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("corrupt segment: %v", err)
	}
}

// TestAutoFlush: past RAMBufferBytes the buffer becomes a segment, seen
// by Get and Stats at once and by readers after the next Refresh.
func TestAutoFlush(t *testing.T) {
	w := openTest(t, t.TempDir(), func(o *Options) { o.RAMBufferBytes = 16 << 10 })
	for i := 0; i < 500; i++ {
		must(t, w.Index(newDoc(fmt.Sprint(i), text("body", "some words to fill the buffer", 0))))
	}
	st := w.Stats()
	if st.Segments == 0 || st.Docs != 500 {
		t.Fatalf("stats %+v", st)
	}
	r := w.Acquire()
	if r.NumDocs() != 0 {
		t.Fatalf("flushed docs visible before a refresh: %d", r.NumDocs())
	}
	r.Release()
	if _, ok := getSource(t, w, "3"); !ok {
		t.Fatal("get of a flushed doc")
	}
	must(t, w.Refresh())
	r = w.Acquire()
	defer r.Release()
	if r.NumDocs() != 500 || len(r.Segments) < 2 {
		t.Fatalf("after refresh %d docs in %d segments", r.NumDocs(), len(r.Segments))
	}
}
