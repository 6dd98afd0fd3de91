package store

import (
	"sync"
	"testing"
	"time"
)

type change struct {
	kind    ChangeKind
	key     string
	version uint64
}

type changeLog struct {
	mu  sync.Mutex
	got []change
}

func (l *changeLog) record(kind ChangeKind, key string, version uint64) {
	l.mu.Lock()
	l.got = append(l.got, change{kind, key, version})
	l.mu.Unlock()
}

func (l *changeLog) take() []change {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.got
	l.got = nil
	return out
}

func TestOnChange(t *testing.T) {
	var log changeLog
	now := time.Unix(1000, 0)
	var clockMu sync.Mutex
	clock := func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return now }
	s, err := New(Config{Shards: 1, OnChange: log.record, Clock: clock, MaxBytes: 3 * (ItemOverhead + 2)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	expect := func(step string, want ...change) {
		t.Helper()
		got := log.take()
		if len(got) != len(want) {
			t.Fatalf("%s: got %v, want %v", step, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: got %v, want %v", step, got, want)
			}
		}
	}

	v1, _ := s.Set("a", []byte("1"), SetOptions{})
	expect("set", change{ChangeSet, "a", v1})
	n, _ := s.IncrBy("a", 1)
	if n != 2 {
		t.Fatalf("incr = %d", n)
	}
	it, _ := s.Peek("a")
	if st := s.Stats(); st.Hits != 0 || st.Misses != 0 {
		t.Fatalf("Peek counted: %+v", st)
	}
	expect("incr", change{ChangeSet, "a", it.Version})
	if _, err := s.Append("a", []byte("x")); err != nil {
		t.Fatal(err)
	}
	expect("append", change{ChangeSet, "a", it.Version + 1})
	s.Expire("a", 0)
	expect("expire 0", change{ChangeDelete, "a", it.Version + 1})

	vb, _ := s.Set("b", []byte("1"), SetOptions{TTL: time.Second})
	log.take()
	clockMu.Lock()
	now = now.Add(2 * time.Second)
	clockMu.Unlock()
	if _, ok, _ := s.Get("b"); ok {
		t.Fatal("b should have expired")
	}
	expect("lazy expiry", change{ChangeExpire, "b", vb})

	// Fill the store: the fourth key evicts the least recently used.
	var vs []uint64
	for _, k := range []string{"c", "d", "e"} {
		v, err := s.Set(k, []byte("1"), SetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	log.take()
	vf, err := s.Set("f", []byte("1"), SetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	expect("evict", change{ChangeEvict, "c", vs[0]}, change{ChangeSet, "f", vf})

	s.Delete("d", "missing")
	expect("delete", change{ChangeDelete, "d", vs[1]})
	s.GetDel("e")
	expect("getdel", change{ChangeDelete, "e", vs[2]})
	s.Expire("f", time.Minute)
	s.Persist("f")
	expect("metadata")
	s.FlushAll()
	expect("flush", change{ChangeFlush, "", 0})
}

func TestChangeKindString(t *testing.T) {
	for k, want := range map[ChangeKind]string{ChangeSet: "set", ChangeDelete: "delete", ChangeExpire: "expire", ChangeEvict: "evict", ChangeFlush: "flush", 9: "ChangeKind(9)"} {
		if k.String() != want {
			t.Errorf("%d: %q, want %q", k, k.String(), want)
		}
	}
}
