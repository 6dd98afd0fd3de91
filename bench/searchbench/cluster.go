package searchbench

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"

	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"
	"cairn.dev/cairn/searchd/client"
)

// ClusterConfig says where a Cluster target indexes.
type ClusterConfig struct {
	// Endpoints are searchd nodes' gRPC host:port addresses; requests are
	// spread over them round robin.
	Endpoints []string
	// TLS configures the connections (a client certificate for searchd's
	// mutual TLS); nil means plaintext.
	TLS *tls.Config
	// Index is the index the run creates (an existing one of that name is
	// deleted first) and deletes at the end.
	Index string
	// Shards and Replicas are the index's settings.
	Shards, Replicas int
}

// Cluster is a running searchd cluster, reached over gRPC
// (cairn.searchd.v1) through searchd/client: documents go in Bulk requests (one per Index call),
// queries are Search requests with ESBody, the size is IndexStats's
// size_bytes divided by the copies of each shard (1 + Replicas).
type Cluster struct {
	cfg ClusterConfig
	c   *client.Client
}

// NewCluster connects and creates the run's index.
func NewCluster(ctx context.Context, cfg ClusterConfig) (*Cluster, error) {
	sc, err := client.New(client.Config{Endpoints: cfg.Endpoints, TLS: cfg.TLS})
	if err != nil {
		return nil, err
	}
	c := &Cluster{cfg: cfg, c: sc}
	if err := sc.DeleteIndex(ctx, cfg.Index); err != nil && !errors.Is(err, client.ErrIndexNotFound) {
		sc.Close()
		return nil, fmt.Errorf("searchbench: deleting an old index %s: %w", cfg.Index, err)
	}
	_, err = sc.CreateIndex(ctx, &searchdv1.CreateIndexRequest{
		Name:         cfg.Index,
		Settings:     &searchdv1.IndexSettings{Shards: int32(cfg.Shards), Replicas: int32(cfg.Replicas)},
		MappingsJson: []byte(Mapping),
	})
	if err != nil {
		sc.Close()
		return nil, fmt.Errorf("searchbench: creating index %s: %w", cfg.Index, err)
	}
	return c, nil
}

// Name is "cairn-cluster".
func (c *Cluster) Name() string { return "cairn-cluster" }

// Supports every kind.
func (c *Cluster) Supports(Kind) bool { return true }

// Index sends the documents in one Bulk request.
func (c *Cluster) Index(ctx context.Context, docs []Doc) error {
	req := &searchdv1.BulkRequest{Index: c.cfg.Index, Items: make([]*searchdv1.BulkItem, len(docs))}
	for i, d := range docs {
		req.Items[i] = &searchdv1.BulkItem{Action: searchdv1.BulkAction_BULK_ACTION_INDEX, Id: d.ID, SourceJson: d.Source()}
	}
	resp, err := c.c.Bulk(ctx, req)
	if err != nil {
		return err
	}
	if resp.GetErrors() {
		for _, it := range resp.GetItems() {
			if it.GetErrorType() != "" {
				return fmt.Errorf("bulk item %s: %s: %s", it.GetId(), it.GetErrorType(), it.GetErrorReason())
			}
		}
		return errors.New("bulk: errors, but no item says which")
	}
	return nil
}

// Refresh refreshes the index on every copy.
func (c *Cluster) Refresh(ctx context.Context) error {
	resp, err := c.c.Refresh(ctx, c.cfg.Index)
	if err == nil && resp.GetSuccessfulShards() < resp.GetTotalShards() {
		err = fmt.Errorf("refresh: %d of %d shards", resp.GetSuccessfulShards(), resp.GetTotalShards())
	}
	return err
}

// Search sends ESBody(q).
func (c *Cluster) Search(ctx context.Context, q Query) (int64, error) {
	resp, err := c.c.Search(ctx, []string{c.cfg.Index}, ESBody(q))
	if err != nil {
		return 0, err
	}
	return resp.GetTotalHits(), nil
}

// Finish reads the index's size, deletes the index and closes the
// connection.
func (c *Cluster) Finish(ctx context.Context) (int64, error) {
	defer c.c.Close()
	st, err := c.c.IndexStats(ctx, c.cfg.Index)
	if err != nil {
		return 0, err
	}
	if err := c.c.DeleteIndex(ctx, c.cfg.Index); err != nil {
		return 0, fmt.Errorf("deleting index %s: %w", c.cfg.Index, err)
	}
	return st.GetSizeBytes() / int64(1+c.cfg.Replicas), nil
}
