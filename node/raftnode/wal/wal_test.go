package wal

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"cairn.dev/cairn/node/nodetest"

	"github.com/hashicorp/raft"
	"github.com/stretchr/testify/require"
)

func open(t testing.TB, dir string, segSize int64) *Log {
	t.Helper()
	l, err := Open(Options{Dir: dir, SegmentSize: segSize})
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	return l
}

// entry returns a deterministic entry for index with the given term.
func entry(index, term uint64) *raft.Log {
	e := &raft.Log{Index: index, Term: term, Type: raft.LogCommand,
		Data: fmt.Appendf(nil, "data-%d-%d", index, term), AppendedAt: time.Unix(1700000000, int64(index)).UTC()}
	if index%3 == 0 {
		e.Extensions = []byte{byte(index), 1, 2}
	}
	if index%5 == 0 {
		e.Data = nil
		e.Type = raft.LogNoop
	}
	return e
}

func entries(from, to, term uint64) []*raft.Log {
	var out []*raft.Log
	for i := from; i <= to; i++ {
		out = append(out, entry(i, term))
	}
	return out
}

// requireLog asserts that l holds exactly [first, last] and that each entry
// equals want(index).
func requireLog(t *testing.T, l *Log, first, last uint64, want func(uint64) *raft.Log) {
	t.Helper()
	f, err := l.FirstIndex()
	require.NoError(t, err)
	la, err := l.LastIndex()
	require.NoError(t, err)
	require.Equal(t, [2]uint64{first, last}, [2]uint64{f, la}, "first, last")
	var got raft.Log
	if first > 0 {
		require.ErrorIs(t, l.GetLog(first-1, &got), raft.ErrLogNotFound)
	}
	require.ErrorIs(t, l.GetLog(last+1, &got), raft.ErrLogNotFound)
	for i := first; i <= last && last > 0; i++ {
		require.NoError(t, l.GetLog(i, &got), "index %d", i)
		requireEntry(t, want(i), &got)
	}
}

func requireEntry(t *testing.T, want, got *raft.Log) {
	t.Helper()
	require.Equal(t, want.Index, got.Index)
	require.Equal(t, want.Term, got.Term, "term of %d", want.Index)
	require.Equal(t, want.Type, got.Type)
	require.Equal(t, want.Data, got.Data)
	require.Equal(t, want.Extensions, got.Extensions)
	require.True(t, want.AppendedAt.Equal(got.AppendedAt), "appended at %v, want %v", got.AppendedAt, want.AppendedAt)
}

func TestStoreGetReopen(t *testing.T) {
	dir := t.TempDir()
	l := open(t, dir, 0)
	requireLog(t, l, 0, 0, nil)
	require.NoError(t, l.StoreLog(entry(1, 1)))
	require.NoError(t, l.StoreLogs(entries(2, 50, 2)))
	term := func(i uint64) *raft.Log { return entry(i, map[bool]uint64{true: 1, false: 2}[i == 1]) }
	requireLog(t, l, 1, 50, term)
	require.NoError(t, l.Close())
	require.ErrorIs(t, l.StoreLog(entry(51, 2)), ErrClosed)
	var e raft.Log
	require.ErrorIs(t, l.GetLog(1, &e), ErrClosed)

	l = open(t, dir, 0)
	requireLog(t, l, 1, 50, term)
	require.NoError(t, l.StoreLogs(entries(51, 60, 2)))
	requireLog(t, l, 1, 60, term)
}

func TestZeroTimeAndEmptyFieldsRoundTrip(t *testing.T) {
	l := open(t, t.TempDir(), 0)
	in := &raft.Log{Index: 7, Term: 3, Type: raft.LogConfiguration}
	require.NoError(t, l.StoreLog(in))
	var out raft.Log
	require.NoError(t, l.GetLog(7, &out))
	require.True(t, out.AppendedAt.IsZero())
	require.Nil(t, out.Data)
	require.Nil(t, out.Extensions)
	require.Equal(t, raft.LogConfiguration, out.Type)
}

func TestAppendMustBeContiguous(t *testing.T) {
	l := open(t, t.TempDir(), 0)
	require.ErrorIs(t, l.StoreLog(entry(0, 1)), ErrNotContiguous, "index 0")
	require.NoError(t, l.StoreLogs(entries(10, 12, 1)), "an empty log starts anywhere")
	require.ErrorIs(t, l.StoreLog(entry(12, 1)), ErrNotContiguous, "overwrite without DeleteRange")
	require.ErrorIs(t, l.StoreLog(entry(5, 1)), ErrNotContiguous, "before the end")
	require.ErrorIs(t, l.StoreLogs([]*raft.Log{entry(13, 1), entry(15, 1)}), ErrNotContiguous, "gap inside a batch")
	requireLog(t, l, 10, 12, func(i uint64) *raft.Log { return entry(i, 1) })
	require.NoError(t, l.StoreLogs(nil))
}

// TestAppendPastAGapStartsAfresh: Raft appends past the end only after
// installing a snapshot that covers the gap; the log then holds only the new
// entries, also after a reopen.
func TestAppendPastAGapStartsAfresh(t *testing.T) {
	dir := t.TempDir()
	l := open(t, dir, 200) // several segments
	require.NoError(t, l.StoreLogs(entries(1, 20, 1)))
	require.NoError(t, l.StoreLogs(entries(100, 104, 2)))
	term2 := func(i uint64) *raft.Log { return entry(i, 2) }
	requireLog(t, l, 100, 104, term2)
	require.NoError(t, l.Close())
	l = open(t, dir, 200)
	requireLog(t, l, 100, 104, term2)
	names, err := filepath.Glob(filepath.Join(dir, "*"+segmentExt))
	require.NoError(t, err)
	require.Equal(t, []string{filepath.Join(dir, segmentName(100))}, names)
}

func TestDeleteRange(t *testing.T) {
	for _, segSize := range []int64{0, 300} { // one segment; a few entries per segment
		t.Run(fmt.Sprintf("segment=%d", segSize), func(t *testing.T) {
			dir := t.TempDir()
			l := open(t, dir, segSize)
			for i := uint64(1); i <= 100; i += 4 {
				require.NoError(t, l.StoreLogs(entries(i, i+3, 1)))
			}
			term1 := func(i uint64) *raft.Log { return entry(i, 1) }

			require.ErrorIs(t, l.DeleteRange(40, 50), ErrNotContiguous, "a hole")
			require.NoError(t, l.DeleteRange(200, 300), "outside the log")
			require.NoError(t, l.DeleteRange(1, 30), "compaction")
			requireLog(t, l, 31, 100, term1)
			require.NoError(t, l.DeleteRange(91, 100), "conflicting suffix")
			requireLog(t, l, 31, 90, term1)
			require.ErrorIs(t, l.StoreLog(entry(90, 2)), ErrNotContiguous)
			require.NoError(t, l.StoreLogs(entries(91, 95, 2)))
			mixed := func(i uint64) *raft.Log {
				if i > 90 {
					return entry(i, 2)
				}
				return entry(i, 1)
			}
			requireLog(t, l, 31, 95, mixed)

			require.NoError(t, l.Close())
			l = open(t, dir, segSize)
			f, _ := l.FirstIndex()
			require.LessOrEqual(t, f, uint64(31), "a reopened log may start earlier, never later")
			requireLog(t, l, f, 95, mixed)
			if segSize > 0 {
				require.Greater(t, f, uint64(1), "whole compacted segments are gone")
			}

			require.NoError(t, l.DeleteRange(f, 95), "everything (after a snapshot install)")
			requireLog(t, l, 0, 0, nil)
			names, err := filepath.Glob(filepath.Join(dir, "*"+segmentExt))
			require.NoError(t, err)
			require.Empty(t, names)
			require.NoError(t, l.StoreLogs(entries(500, 510, 3)), "starts again anywhere")
			require.NoError(t, l.Close())
			l = open(t, dir, segSize)
			requireLog(t, l, 500, 510, func(i uint64) *raft.Log { return entry(i, 3) })
		})
	}
}

func TestSegmentsRotate(t *testing.T) {
	dir := t.TempDir()
	l := open(t, dir, 1000)
	for i := uint64(1); i <= 200; i++ {
		require.NoError(t, l.StoreLog(entry(i, 1)))
	}
	names, err := filepath.Glob(filepath.Join(dir, "*"+segmentExt))
	require.NoError(t, err)
	require.Greater(t, len(names), 5)
	for _, n := range names {
		st, err := os.Stat(n)
		require.NoError(t, err)
		require.LessOrEqual(t, st.Size(), int64(1000))
	}
	require.NoError(t, l.Close())
	l = open(t, dir, 1000)
	requireLog(t, l, 1, 200, func(i uint64) *raft.Log { return entry(i, 1) })
}

// TestAppendsFillPreallocatedSpace checks that appends write zeros ahead of
// themselves (PreallocStep at a time, never past the segment size) and that
// the zeros after the last record are the clean end of a segment, sealed or
// newest: reopening keeps every entry, reports no torn tail and appends on.
func TestAppendsFillPreallocatedSpace(t *testing.T) {
	dir := t.TempDir()
	var logged bytes.Buffer
	reopen := func() *Log {
		l, err := Open(Options{Dir: dir, SegmentSize: 3 * PreallocStep, Logger: slog.New(slog.NewTextHandler(&logged, nil))})
		require.NoError(t, err)
		t.Cleanup(func() { l.Close() })
		return l
	}
	big := func(i uint64) *raft.Log {
		return &raft.Log{Index: i, Term: 1, Type: raft.LogCommand, Data: bytes.Repeat([]byte{byte(i)}, 100<<10)}
	}
	l := reopen()
	require.NoError(t, l.StoreLog(big(1)))
	path := filepath.Join(dir, segmentName(1))
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, int64(PreallocStep), st.Size(), "the first append writes zeros up to one step")
	require.NoError(t, l.Close())

	// Across reopens and past the first step, into a second segment.
	l = reopen()
	last := uint64(1)
	for ; last < 150; last++ {
		require.NoError(t, l.StoreLog(big(last+1)))
		if last%30 == 0 {
			require.NoError(t, l.Close())
			l = reopen()
		}
	}
	requireLog(t, l, 1, 150, big)
	require.NoError(t, l.Close())
	l = reopen()
	requireLog(t, l, 1, 150, big)
	require.NotContains(t, logged.String(), "torn", "preallocated zeros are not damage")

	names, err := filepath.Glob(filepath.Join(dir, "*"+segmentExt))
	require.NoError(t, err)
	require.Len(t, names, 5) // 30 entries of 100 KiB fill a segment
	for _, n := range names {
		st, err := os.Stat(n)
		require.NoError(t, err)
		require.Equal(t, int64(3*PreallocStep), st.Size(), "%s: zeros up to the segment size, not past it", n)
		require.Less(t, int64(len(readRecords(t, n))), st.Size(), "%s ends in zeros", n)
	}

	// A suffix deletion gives the space back; appends preallocate again.
	require.NoError(t, l.DeleteRange(145, 150))
	require.NoError(t, l.StoreLog(&raft.Log{Index: 145, Term: 2, Type: raft.LogCommand, Data: []byte("after")}))
	require.NoError(t, l.Close())
	l = reopen()
	requireLog(t, l, 1, 145, func(i uint64) *raft.Log {
		if i == 145 {
			return &raft.Log{Index: 145, Term: 2, Type: raft.LogCommand, Data: []byte("after")}
		}
		return big(i)
	})
}

// TestTornTail cuts the newest segment at every byte of its last record (a
// crash during an append) and checks that Open drops exactly that record and
// that appending goes on.
func TestTornTail(t *testing.T) {
	src := t.TempDir()
	l := open(t, src, 0)
	require.NoError(t, l.StoreLogs(entries(1, 9, 1)))
	require.NoError(t, l.StoreLog(entry(10, 1)))
	require.NoError(t, l.Close())
	data := readRecords(t, filepath.Join(src, segmentName(1)))
	lastLen := len(appendRecord(nil, entry(10, 1)))
	term1 := func(i uint64) *raft.Log { return entry(i, 1) }

	for cut := len(data) - lastLen; cut < len(data); cut++ {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, segmentName(1)), data[:cut], 0o644))
		l := open(t, dir, 0)
		requireLog(t, l, 1, 9, term1)
		require.NoError(t, l.StoreLog(entry(10, 2)))
		require.NoError(t, l.Close())
		l = open(t, dir, 0)
		requireLog(t, l, 1, 10, func(i uint64) *raft.Log { return entry(i, 1+i/10) })
	}

	// A flipped bit in the last record is the same as a torn one, and so is a
	// record cut short in preallocated space (zeros after the cut).
	withZeros := append(bytes.Clone(data[:len(data)-5]), make([]byte, 4096)...)
	for _, damaged := range [][]byte{flip(data, len(data)-3), withZeros} {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, segmentName(1)), damaged, 0o644))
		l := open(t, dir, 0)
		requireLog(t, l, 1, 9, term1)
		require.NoError(t, l.StoreLog(entry(10, 2)))
		require.NoError(t, l.Close())
		l = open(t, dir, 0)
		requireLog(t, l, 1, 10, func(i uint64) *raft.Log { return entry(i, 1+i/10) })
	}

	// Zeros after the last whole record are preallocated space, not damage.
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, segmentName(1)), append(bytes.Clone(data), make([]byte, 100)...), 0o644))
	l = open(t, dir, 0)
	requireLog(t, l, 1, 10, term1)

	// A newest segment with nothing intact is removed.
	dir = t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, segmentName(1)), data, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, segmentName(11)), data[:5], 0o644))
	l = open(t, dir, 0)
	requireLog(t, l, 1, 10, term1)
	_, err := os.Stat(filepath.Join(dir, segmentName(11)))
	require.ErrorIs(t, err, os.ErrNotExist)
}

// readRecords returns the records of a segment file without the preallocated
// zeros after them.
func readRecords(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	off := 0
	for off < len(data) {
		n, err := recordSize(data[off:])
		if err != nil {
			break
		}
		off += n
	}
	require.True(t, allZero(data[off:]), "%s: damage at offset %d", path, off)
	return data[:off]
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x40
	return c
}

func TestDamageBeforeTheTailIsAnError(t *testing.T) {
	src := t.TempDir()
	l := open(t, src, 200)
	require.NoError(t, l.StoreLogs(entries(1, 5, 1)))
	require.NoError(t, l.StoreLogs(entries(6, 10, 1)))
	require.NoError(t, l.Close())
	names, _ := filepath.Glob(filepath.Join(src, "*"+segmentExt))
	require.Len(t, names, 2)
	data := readRecords(t, names[0])

	cases := map[string]func(dir string){
		"bit flip in a sealed segment": func(dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(names[0])), flip(data, 30), 0o644))
		},
		"sealed segment cut short": func(dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(names[0])), data[:len(data)-1], 0o644))
		},
		"missing segment": func(dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, filepath.Base(names[0]))))
			require.NoError(t, os.WriteFile(filepath.Join(dir, segmentName(3)), nil, 0o644))
		},
		"stray file": func(dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "7.wal"), nil, 0o644))
		},
	}
	for name, damage := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for _, n := range names {
				b, err := os.ReadFile(n)
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(n)), b, 0o644))
			}
			damage(dir)
			_, err := Open(Options{Dir: dir})
			require.ErrorIs(t, err, ErrCorrupt)
		})
	}
}

// TestRandomAgainstModel drives a Log and a map through random appends,
// compactions, suffix truncations, resets and reopens (with a tiny segment
// size so every path crosses segments) and compares them after each step.
func TestRandomAgainstModel(t *testing.T) {
	seed := nodetest.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 0))
	dir := t.TempDir()
	const segSize = 700
	l := open(t, dir, segSize)
	model := map[uint64]*raft.Log{}
	var first, last, term uint64 = 0, 0, 1
	want := func(i uint64) *raft.Log { return model[i] }

	for step := range 400 {
		switch op := rng.IntN(20); {
		case op < 12: // append, now and then past a gap
			if last == 0 || rng.IntN(10) == 0 {
				// Past a gap of at least one index: a gap of zero would be an
				// ordinary append, keeping the entries before it.
				first = last + 2 + rng.Uint64N(1000)
				last = first - 1
			}
			n := 1 + rng.Uint64N(8)
			batch := entries(last+1, last+n, term)
			require.NoError(t, l.StoreLogs(batch), "step %d", step)
			for _, e := range batch {
				model[e.Index] = e
			}
			last += n
		case op < 15 && last > 0: // compact a prefix
			max := first + rng.Uint64N(last-first+1)
			if max == last {
				max--
			}
			require.NoError(t, l.DeleteRange(first, max))
			if max >= first {
				first = max + 1
			}
		case op < 18 && last > first: // truncate a suffix, new term
			min := first + 1 + rng.Uint64N(last-first)
			require.NoError(t, l.DeleteRange(min, last))
			last = min - 1
			term++
		case op < 19: // reset
			require.NoError(t, l.DeleteRange(0, ^uint64(0)))
			first, last = 0, 0
		default: // reopen
			require.NoError(t, l.Close())
			l = open(t, dir, segSize)
			f, _ := l.FirstIndex()
			require.LessOrEqual(t, f, first, "step %d", step)
			first = f
		}
		requireLog(t, l, first, last, want)
	}
}

// TestConcurrentReaders reads the whole log from several goroutines while
// entries are appended and compacted (run with -race).
func TestConcurrentReaders(t *testing.T) {
	l := open(t, t.TempDir(), 4096)
	require.NoError(t, l.StoreLogs(entries(1, 10, 1)))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			var e raft.Log
			for {
				select {
				case <-stop:
					return
				default:
				}
				first, _ := l.FirstIndex()
				last, _ := l.LastIndex()
				for i := first; i <= last; i++ {
					err := l.GetLog(i, &e)
					if errors.Is(err, raft.ErrLogNotFound) { // compacted meanwhile
						continue
					}
					if err != nil || e.Index != i || !bytes.Equal(e.Data, entry(i, 1).Data) {
						errs <- fmt.Errorf("GetLog(%d) = %d, %q, %v", i, e.Index, e.Data, err)
						return
					}
				}
			}
		})
	}
	for i := uint64(11); i <= 2000; i += 10 {
		require.NoError(t, l.StoreLogs(entries(i, i+9, 1)))
		if i%200 == 1 {
			require.NoError(t, l.DeleteRange(0, i-100))
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// FuzzOpen opens a newest segment holding arbitrary bytes: Open must not
// panic, and whatever it accepts must read back.
func FuzzOpen(f *testing.F) {
	var seed []byte
	for _, e := range entries(1, 4, 1) {
		seed = appendRecord(seed, e)
	}
	f.Add(seed)
	f.Add(seed[:len(seed)-2])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, segmentName(1)), data, 0o644))
		l, err := Open(Options{Dir: dir, NoSync: true})
		if err != nil {
			return
		}
		defer l.Close()
		first, _ := l.FirstIndex()
		last, _ := l.LastIndex()
		var e raft.Log
		for i := first; i <= last && last > 0; i++ {
			require.NoError(t, l.GetLog(i, &e))
		}
	})
}
