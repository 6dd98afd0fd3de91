package searchchaos

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"

	"cairn.dev/cairn/cluster/chaos"
)

// The operation kinds recorded by the Docs workload. Key is a document id
// ("w<client>-<n>", each id put at most once), Via the node the request went
// to.
const (
	// KindPut indexes document Key; Value is the SHA-256 of its source.
	KindPut chaos.OpKind = "s-put"
	// KindDelete deletes document Key (only ever after its put was
	// acknowledged).
	KindDelete chaos.OpKind = "s-delete"
	// KindFound is an observation of the checker: searching through node
	// Via found document Key with source hash Value.
	KindFound chaos.OpKind = "s-found"
)

var kinds = chaos.Kinds{
	KindPut: chaos.ClassWrite, KindDelete: chaos.ClassWrite,
	KindFound: chaos.ClassEvent,
}

// Docs is the searchd workload. Before the faults it creates the index
// IndexName (Shards shards, Replicas replicas); then Writers clients each
// put new documents and, with probability DeleteRatio, delete one of their
// own acknowledged ones, each request to the next node in turn. A client has
// one request in flight, so its operations are ordered.
//
// A Docs is used by one scenario run.
type Docs struct {
	// IndexName is the index; default "chaos".
	IndexName string
	// Shards and Replicas shape the index; defaults 3 and 1.
	Shards, Replicas int
	// Writers is the number of clients; default 3.
	Writers int
	// DeleteRatio is the probability that an operation is a delete; default 0.25.
	DeleteRatio float64
	// Every is the pause of a writer between operations; default 20ms.
	Every time.Duration
	// Timeout bounds each request; default 5s.
	Timeout time.Duration
	// ClientBase is the first client number; default 3000.
	ClientBase int
}

// Name implements chaos.Workload.
func (w *Docs) Name() string { return "docs" }

// Kinds implements chaos.Workload.
func (w *Docs) Kinds() chaos.Kinds { return kinds }

func (w *Docs) index() string   { return defaultString(w.IndexName, "chaos") }
func (w *Docs) shards() int     { return defaultInt(w.Shards, 3) }
func (w *Docs) replicas() int   { return defaultInt(w.Replicas, 1) }
func (w *Docs) writers() int    { return defaultInt(w.Writers, 3) }
func (w *Docs) clientBase() int { return defaultInt(w.ClientBase, 3000) }
func (w *Docs) every() time.Duration {
	return defaultDuration(w.Every, 20*time.Millisecond)
}
func (w *Docs) timeout() time.Duration { return defaultDuration(w.Timeout, 5*time.Second) }
func (w *Docs) deleteRatio() float64 {
	if w.DeleteRatio == 0 {
		return 0.25
	}
	return w.DeleteRatio
}

// source returns the JSON source of document id: a keyword uid, a text body
// with a word unique to the document, and a number.
func source(id string, n int) []byte {
	b, _ := json.Marshal(map[string]any{
		"uid":  id,
		"body": fmt.Sprintf("chaos document %s token%s written %d", id, hashOf([]byte(id))[:12], n),
		"n":    n,
	})
	return b
}

// hashOf is the hex SHA-256 of b.
func hashOf(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Run implements chaos.Workload.
func (w *Docs) Run(ctx context.Context, env *chaos.Env) error {
	cs := newConns(env)
	defer cs.close()
	if err := w.createIndex(ctx, env, cs); err != nil {
		return err
	}
	var wg sync.WaitGroup
	for i := range w.writers() {
		wg.Go(func() { w.writer(ctx, env, cs, i) })
	}
	wg.Wait()
	return nil
}

// indexMappings are the chaos index's mappings: strict, so a document that
// parses differently on a replica would fail loudly.
const indexMappings = `{"dynamic":"strict","properties":{"uid":{"type":"keyword"},"body":{"type":"text"},"n":{"type":"long"}}}`

// createIndex creates the index through any node, retrying until it exists
// (INDEX_EXISTS counts: an earlier attempt may have created it).
func (w *Docs) createIndex(ctx context.Context, env *chaos.Env, cs *conns) error {
	nodes := env.Nodes()
	var last error
	for i := 0; ctx.Err() == nil; i++ {
		c, err := cs.indexes(nodes[i%len(nodes)])
		if err == nil {
			cctx, cancel := context.WithTimeout(ctx, w.timeout())
			_, err = c.CreateIndex(cctx, &searchdv1.CreateIndexRequest{Name: w.index(),
				Settings:     &searchdv1.IndexSettings{Shards: int32(w.shards()), Replicas: int32(w.replicas())},
				MappingsJson: []byte(indexMappings)})
			cancel()
			if err == nil || status.Code(err) == codes.AlreadyExists {
				return nil
			}
		}
		last = err
		chaos.Hold(ctx, 200*time.Millisecond)
	}
	return fmt.Errorf("searchchaos: create index %s: %w", w.index(), last)
}

// writer is client i's loop.
func (w *Docs) writer(ctx context.Context, env *chaos.Env, cs *conns, i int) {
	id := w.clientBase() + i
	rng := env.Rand(chaos.Stream(w.Name(), i))
	nodes := env.Nodes()
	var live []string // this writer's acknowledged, undeleted documents
	for n := 0; ctx.Err() == nil; n++ {
		node := nodes[n%len(nodes)]
		if len(live) > 0 && rng.Float64() < w.deleteRatio() {
			k := rng.IntN(len(live))
			doc := live[k]
			live = append(live[:k], live[k+1:]...) // deleted once, whatever the outcome
			w.delete(ctx, env, cs, id, node, doc)
		} else {
			doc := fmt.Sprintf("w%d-%d", id, n)
			if w.put(ctx, env, cs, id, node, doc, n) == chaos.OK {
				live = append(live, doc)
			}
		}
		chaos.Hold(ctx, w.every())
	}
}

// put indexes document doc through node and records it.
func (w *Docs) put(ctx context.Context, env *chaos.Env, cs *conns, client int, node, doc string, n int) chaos.Outcome {
	src := source(doc, n)
	op := env.History.Invoke(chaos.Op{Client: client, Via: node, Kind: KindPut, Key: doc, Value: hashOf(src)})
	c, err := cs.docs(node)
	if err != nil {
		env.History.Complete(op, chaos.Fail, err, nil)
		return chaos.Fail
	}
	cctx, cancel := context.WithTimeout(ctx, w.timeout())
	defer cancel()
	_, err = c.PutDocument(cctx, &searchdv1.PutDocumentRequest{Index: w.index(), Id: doc, SourceJson: src})
	out := outcomeOf(err)
	env.History.Complete(op, out, err, nil)
	return out
}

// delete deletes document doc through node and records it.
func (w *Docs) delete(ctx context.Context, env *chaos.Env, cs *conns, client int, node, doc string) {
	op := env.History.Invoke(chaos.Op{Client: client, Via: node, Kind: KindDelete, Key: doc})
	c, err := cs.docs(node)
	if err != nil {
		env.History.Complete(op, chaos.Fail, err, nil)
		return
	}
	cctx, cancel := context.WithTimeout(ctx, w.timeout())
	defer cancel()
	_, err = c.DeleteDocument(cctx, &searchdv1.DeleteDocumentRequest{Index: w.index(), Id: doc})
	env.History.Complete(op, outcomeOf(err), err, nil)
}

func defaultString(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

func defaultInt(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}

func defaultDuration(v, d time.Duration) time.Duration {
	if v <= 0 {
		return d
	}
	return v
}
