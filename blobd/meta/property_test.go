package meta

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/node/raftnode"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

var propSeed = flag.Uint64("meta.seed", 0, "seed of the property tests (0: from the clock)")

func seeded(t *testing.T) *rand.Rand {
	seed := *propSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -meta.seed=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// refList is the reference implementation of ListObjectsV2 over sorted
// keys: every key with the prefix after start, rolled up at the delimiter,
// as entries ("k:" key or "p:" prefix), each once.
func refList(keys []string, prefix, delim, start string) []string {
	var out []string
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) || k <= start {
			continue
		}
		e := "k:" + k
		if delim != "" {
			if i := strings.Index(k[len(prefix):], delim); i >= 0 {
				e = "p:" + k[:len(prefix)+i+len(delim)]
			}
		}
		if len(out) == 0 || out[len(out)-1] != e {
			out = append(out, e)
		}
	}
	return out
}

func entriesOf(r *ListResult) []string {
	var out []string
	for _, o := range r.Objects {
		out = append(out, "k:"+o.Key)
	}
	for _, p := range r.CommonPrefixes {
		out = append(out, "p:"+p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i][2:] < out[j][2:] })
	return out
}

// TestPropertyListObjects lists random key sets with random prefixes,
// delimiters, start-after and page sizes, and compares every page and the
// pages joined by continuation tokens with refList.
func TestPropertyListObjects(t *testing.T) {
	rng := seeded(t)
	alphabet := []string{"a", "b", "/", "-", "é", "z", "€"}
	word := func(n int) string {
		var sb strings.Builder
		for range n {
			sb.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return sb.String()
	}
	for round := range 8 {
		ts := openTestStore(t)
		ts.must(CreateBucket("bkt", "a", 0, nil))
		ts.must(CreateBucket("bka", "a", 0, nil)) // a neighbour whose keys must not leak in
		ts.must(PutObject("bka", "zzz", obj(0, "e", nil), "", ""))
		set := map[string]bool{}
		for range 20 + rng.IntN(120) {
			set[word(1+rng.IntN(6))] = true
		}
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range set {
				if !yield(k) {
					return
				}
			}
		})
		for _, k := range keys {
			ts.must(PutObject("bkt", k, obj(0, "e", nil), "", ""))
		}
		for q := range 60 {
			prefix := ""
			if rng.IntN(3) > 0 {
				prefix = word(rng.IntN(3))
			}
			delim := []string{"", "/", "b", "é", "-a"}[rng.IntN(5)]
			start := ""
			if rng.IntN(2) == 0 {
				start = word(rng.IntN(4))
			}
			max := 1 + rng.IntN(7)
			want := refList(keys, prefix, delim, start)
			at := fmt.Sprintf("round %d query %d: prefix %q delim %q start %q max %d", round, q, prefix, delim, start, max)
			var got []string
			opts := ListOptions{Prefix: prefix, Delimiter: delim, StartAfter: start, MaxKeys: max}
			for page := 0; ; page++ {
				r, err := ts.s.ListObjects("bkt", opts)
				require.NoError(t, err, at)
				require.LessOrEqual(t, r.KeyCount(), max, at)
				e := entriesOf(r)
				got = append(got, e...)
				require.Equal(t, len(got) < len(want), r.IsTruncated, "%s page %d", at, page)
				if !r.IsTruncated {
					require.Empty(t, r.NextContinuationToken, at)
					break
				}
				require.Len(t, e, max, at)
				opts.ContinuationToken = r.NextContinuationToken
				require.Less(t, page, len(keys)+1, at)
			}
			require.Equal(t, want, got, at)
		}
	}
}

// TestPropertyRefcounts applies random put/copy/delete/replace/tier-move
// and multipart sequences to two stores and checks after every command
// that both return the same bytes, that the references the store holds are
// exactly those of the manifests of its objects and parts, and that the
// freed needles are exactly those whose count dropped to 0, each once.
// Needles come fresh from the counter or are copies of referenced ones
// (never a freed one: the proposer deletes those).
func TestPropertyRefcounts(t *testing.T) {
	rng := seeded(t)
	a, b := openTestStore(t), openTestStore(t)
	a.cluster()
	b.cluster()
	keys := []string{"k1", "k2", "k3", "d/k4"}
	next := uint64(1)
	var live []uint64
	needle := func() uint64 {
		if len(live) > 0 && rng.IntN(3) == 0 {
			return live[rng.IntN(len(live))]
		}
		next++
		return next - 1
	}
	manifest := func(size int64) []*blobdraftv1.Chunk {
		var nids []uint64
		for range (size + MaxChunkBytes - 1) / MaxChunkBytes {
			nids = append(nids, needle())
		}
		return repl(size, nids...)
	}
	small := func() int64 { return int64(1 + rng.IntN(3)) }
	var uploads []*blobdraftv1.UploadRecord
	prev := map[uint64]int{}
	outcomes := map[string]int{}
	defer func() { t.Logf("outcomes: %v", outcomes) }()

	for step := range 600 {
		key := keys[rng.IntN(len(keys))]
		// Mostly uploads in progress: completed and aborted ones leave.
		uploads = slices.DeleteFunc(uploads, func(u *blobdraftv1.UploadRecord) bool {
			_, err := a.s.Upload(u.Bucket, u.Key, u.UploadId)
			return err != nil && rng.IntN(4) > 0
		})
		var cmd *blobdraftv1.Command
		switch r := rng.IntN(100); {
		case r < 30:
			size := small()
			if rng.IntN(4) == 0 {
				size = MaxChunkBytes + small()
			}
			cmd = PutObject("bkt", key, obj(size, fmt.Sprint("e", step), manifest(size)), "", "")
		case r < 45:
			cmd = DeleteObject("bkt", key)
		case r < 52:
			o, err := a.s.Object("bkt", key)
			if err != nil {
				continue
			}
			cmd = SetObjectTier("bkt", key, o.Etag, ManifestIndex(o), blobdraftv1.Tier_TIER_COOL, manifest(o.Size))
		case r < 60:
			cmd = CreateMultipartUpload("bkt", key, nil, 0)
		case r < 80:
			if len(uploads) == 0 {
				continue
			}
			u := uploads[rng.IntN(len(uploads))]
			size := small()
			if rng.IntN(2) == 0 {
				size = MinPartSize
			}
			cmd = PutPart(u.Bucket, u.Key, u.UploadId, &blobdraftv1.PartRecord{Number: int32(1 + rng.IntN(4)), Size: size,
				Etag: md5hex(fmt.Sprint(step)), Chunks: manifest(size)})
		case r < 92:
			if len(uploads) == 0 {
				continue
			}
			u := uploads[rng.IntN(len(uploads))]
			parts, _, err := a.s.ListParts(u.Bucket, u.Key, u.UploadId, 0, 0)
			if err != nil {
				continue
			}
			var cps []*blobdraftv1.CompletedPart
			for _, p := range parts {
				if rng.IntN(4) > 0 {
					cps = append(cps, &blobdraftv1.CompletedPart{Number: p.Number, Etag: p.Etag})
				}
			}
			cmd = CompleteMultipartUpload(u.Bucket, u.Key, u.UploadId, cps, "", "")
		default:
			if len(uploads) == 0 {
				continue
			}
			u := uploads[rng.IntN(len(uploads))]
			cmd = AbortMultipartUpload(u.Bucket, u.Key, u.UploadId)
		}
		at := fmt.Sprintf("step %d (%v)", step, cmd)
		ea, eb := a.entry(cmd), b.entry(cmd)
		ra, err := a.s.ApplyBatch([]raftnode.Entry{ea})
		require.NoError(t, err, at)
		rb, err := b.s.ApplyBatch([]raftnode.Entry{eb})
		require.NoError(t, err, at)
		require.True(t, bytes.Equal(ra[0], rb[0]), "%s: replicas disagree", at)
		dec := decodeResult(t, ra[0])
		outcomes[fmt.Sprintf("%T/%s/freed=%v", cmd.GetOp(), dec.GetError(), len(dec.GetFreed()) > 0)]++
		if u := dec.GetUpload(); u != nil && cmd.GetCreateMultipartUpload() != nil {
			uploads = append(uploads, u)
		}

		want := manifestRefs(t, a.s, uploads)
		got := map[uint64]int{}
		for r, err := range a.s.NeedleRefs(1) {
			require.NoError(t, err, at)
			got[r.Nid]++
		}
		require.Equal(t, want, got, "%s: references differ from the manifests", at)
		var freed []uint64
		for nid, n := range prev {
			if n > 0 && got[nid] == 0 {
				freed = append(freed, nid)
			}
		}
		slices.Sort(freed)
		require.Equal(t, freed, freedNids(dec), at)
		prev = got
		live = live[:0]
		for nid := range got {
			live = append(live, nid)
		}
		slices.Sort(live)
	}
}

func decodeResult(t *testing.T, b []byte) *blobdraftv1.CommandResult {
	res := &blobdraftv1.CommandResult{}
	require.NoError(t, unmarshalInto(b, res))
	return res
}

// manifestRefs counts, per needle, the chunks of the objects and of the
// parts of live uploads that name it.
func manifestRefs(t *testing.T, s *Store, uploads []*blobdraftv1.UploadRecord) map[uint64]int {
	out := map[uint64]int{}
	count := func(chunks []*blobdraftv1.Chunk) {
		for _, c := range chunks {
			out[c.GetReplicated().GetNid()]++
		}
	}
	for _, k := range []string{"k1", "k2", "k3", "d/k4"} {
		if o, err := s.Object("bkt", k); err == nil {
			count(o.Chunks)
		}
	}
	for _, u := range uploads {
		parts, _, err := s.ListParts(u.Bucket, u.Key, u.UploadId, 0, 0)
		if err != nil {
			require.ErrorIs(t, err, ErrUploadNotFound)
			continue
		}
		for _, p := range parts {
			count(p.Chunks)
		}
	}
	return out
}
