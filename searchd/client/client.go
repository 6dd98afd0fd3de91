package client

import (
	"context"
	"crypto/tls"
	"errors"
	"time"

	"google.golang.org/grpc"

	"cairn.dev/cairn/node/clusterconn"
	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"
)

// Config configures a Client.
type Config struct {
	// Endpoints are gRPC addresses of any searchd nodes; at least one.
	Endpoints []string
	// DialTimeout bounds each connection attempt. Default 5s.
	DialTimeout time.Duration
	// RequestTimeout bounds a call whose context has no deadline. Default 10s.
	RequestTimeout time.Duration
	// TLS configures transport security; nil means plaintext.
	TLS *tls.Config
}

// Client talks to a searchd cluster. Safe for concurrent use.
type Client struct {
	conn    *clusterconn.Conn
	indexes searchdv1.IndexServiceClient
	docs    searchdv1.DocumentServiceClient
	search  searchdv1.SearchServiceClient
	cluster searchdv1.ClusterServiceClient
}

// New returns a Client; it connects in the background.
func New(cfg Config) (*Client, error) {
	conn, err := clusterconn.Dial(clusterconn.Config(cfg), "searchd")
	if errors.Is(err, clusterconn.ErrNoEndpoints) {
		return nil, ErrNoEndpoints
	}
	if err != nil {
		return nil, err
	}
	cc := conn.ClientConn()
	c := &Client{conn: conn, indexes: searchdv1.NewIndexServiceClient(cc), docs: searchdv1.NewDocumentServiceClient(cc),
		search: searchdv1.NewSearchServiceClient(cc), cluster: searchdv1.NewClusterServiceClient(cc)}
	conn.FollowLeaderForMarked(c.leads, time.Second)
	return c, nil
}

func (c *Client) leads(ctx context.Context) (bool, error) {
	resp, err := c.cluster.Status(ctx, &searchdv1.StatusRequest{}, grpc.WaitForReady(true))
	return resp.GetState() == "leader", err
}

// Close closes the connections. Idempotent.
func (c *Client) Close() error { return c.conn.Close() }

// call runs one unary RPC: reads are retried on Unavailable, writes only
// when certainly not applied; toLeader marks metadata changes.
func call[T any](ctx context.Context, c *Client, op string, write, toLeader bool, rpc func(context.Context, ...grpc.CallOption) (T, error)) (T, error) {
	var zero T
	if c.conn.Closed() {
		return zero, errs.Local(op, ErrClosed)
	}
	ctx, cancel := c.conn.WithTimeout(ctx)
	defer cancel()
	retry := clusterconn.RetryUnavailable
	if write {
		retry = clusterconn.RetryNotApplied
	}
	if toLeader {
		ctx = clusterconn.ToLeader(ctx)
	}
	resp, err := clusterconn.Call(ctx, c.conn, retry, rpc)
	if err != nil {
		return zero, errs.Wrap(op, write, err)
	}
	return resp, nil
}

// CreateIndex creates an index.
func (c *Client) CreateIndex(ctx context.Context, req *searchdv1.CreateIndexRequest) (*searchdv1.Index, error) {
	resp, err := call(ctx, c, "create-index", true, true, func(ctx context.Context, co ...grpc.CallOption) (*searchdv1.CreateIndexResponse, error) {
		return c.indexes.CreateIndex(ctx, req, co...)
	})
	return resp.GetIndex(), err
}

// DeleteIndex deletes an index.
func (c *Client) DeleteIndex(ctx context.Context, name string) error {
	_, err := call(ctx, c, "delete-index", true, true, func(ctx context.Context, co ...grpc.CallOption) (*searchdv1.DeleteIndexResponse, error) {
		return c.indexes.DeleteIndex(ctx, &searchdv1.DeleteIndexRequest{Name: name}, co...)
	})
	return err
}

// GetIndex describes an index.
func (c *Client) GetIndex(ctx context.Context, name string) (*searchdv1.Index, error) {
	resp, err := call(ctx, c, "get-index", false, false, func(ctx context.Context, co ...grpc.CallOption) (*searchdv1.GetIndexResponse, error) {
		return c.indexes.GetIndex(ctx, &searchdv1.GetIndexRequest{Name: name}, co...)
	})
	return resp.GetIndex(), err
}

// ListIndexes lists every index.
func (c *Client) ListIndexes(ctx context.Context) ([]*searchdv1.Index, error) {
	resp, err := call(ctx, c, "list-indexes", false, false, func(ctx context.Context, co ...grpc.CallOption) (*searchdv1.ListIndexesResponse, error) {
		return c.indexes.ListIndexes(ctx, &searchdv1.ListIndexesRequest{}, co...)
	})
	return resp.GetIndexes(), err
}

// PutMapping adds fields to an index's mappings.
func (c *Client) PutMapping(ctx context.Context, index string, mappingsJSON []byte) (*searchdv1.Index, error) {
	resp, err := call(ctx, c, "put-mapping", true, true, func(ctx context.Context, co ...grpc.CallOption) (*searchdv1.PutMappingResponse, error) {
		return c.indexes.PutMapping(ctx, &searchdv1.PutMappingRequest{Index: index, MappingsJson: mappingsJSON}, co...)
	})
	return resp.GetIndex(), err
}

// Refresh makes every acknowledged write of the indexes (all when none
// are named) searchable.
func (c *Client) Refresh(ctx context.Context, indexes ...string) (*searchdv1.RefreshResponse, error) {
	return call(ctx, c, "refresh", false, false, func(ctx context.Context, co ...grpc.CallOption) (*searchdv1.RefreshResponse, error) {
		return c.indexes.Refresh(ctx, &searchdv1.RefreshRequest{Indexes: indexes}, co...)
	})
}

// IndexStats returns an index's counts and sizes.
func (c *Client) IndexStats(ctx context.Context, name string) (*searchdv1.IndexStatsResponse, error) {
	return call(ctx, c, "index-stats", false, false, func(ctx context.Context, co ...grpc.CallOption) (*searchdv1.IndexStatsResponse, error) {
		return c.indexes.IndexStats(ctx, &searchdv1.IndexStatsRequest{Name: name}, co...)
	})
}

// Put indexes a document (id "" generates one).
func (c *Client) Put(ctx context.Context, req *searchdv1.PutDocumentRequest) (*searchdv1.PutDocumentResponse, error) {
	return call(ctx, c, "put", true, false, func(ctx context.Context, co ...grpc.CallOption) (*searchdv1.PutDocumentResponse, error) {
		return c.docs.PutDocument(ctx, req, co...)
	})
}

// Get reads a document by id (realtime).
func (c *Client) Get(ctx context.Context, index, id string) (*searchdv1.GetDocumentResponse, error) {
	return call(ctx, c, "get", false, false, func(ctx context.Context, co ...grpc.CallOption) (*searchdv1.GetDocumentResponse, error) {
		return c.docs.GetDocument(ctx, &searchdv1.GetDocumentRequest{Index: index, Id: id}, co...)
	})
}

// Delete deletes a document by id.
func (c *Client) Delete(ctx context.Context, req *searchdv1.DeleteDocumentRequest) (*searchdv1.DeleteDocumentResponse, error) {
	return call(ctx, c, "delete", true, false, func(ctx context.Context, co ...grpc.CallOption) (*searchdv1.DeleteDocumentResponse, error) {
		return c.docs.DeleteDocument(ctx, req, co...)
	})
}

// Bulk applies many actions; each item has its own result.
func (c *Client) Bulk(ctx context.Context, req *searchdv1.BulkRequest) (*searchdv1.BulkResponse, error) {
	return call(ctx, c, "bulk", true, false, func(ctx context.Context, co ...grpc.CallOption) (*searchdv1.BulkResponse, error) {
		return c.docs.Bulk(ctx, req, co...)
	})
}

// Search runs an Elasticsearch _search body over the indexes.
func (c *Client) Search(ctx context.Context, indexes []string, body []byte) (*searchdv1.SearchResponse, error) {
	return call(ctx, c, "search", false, false, func(ctx context.Context, co ...grpc.CallOption) (*searchdv1.SearchResponse, error) {
		return c.search.Search(ctx, &searchdv1.SearchRequest{Indexes: indexes, BodyJson: body}, co...)
	})
}

// Count counts the documents matching a {"query": ...} body.
func (c *Client) Count(ctx context.Context, indexes []string, body []byte) (int64, error) {
	resp, err := call(ctx, c, "count", false, false, func(ctx context.Context, co ...grpc.CallOption) (*searchdv1.CountResponse, error) {
		return c.search.Count(ctx, &searchdv1.CountRequest{Indexes: indexes, BodyJson: body}, co...)
	})
	return resp.GetCount(), err
}

// Suggest completes a prefix from an index's words.
func (c *Client) Suggest(ctx context.Context, req *searchdv1.SuggestRequest) ([]*searchdv1.Suggestion, error) {
	resp, err := call(ctx, c, "suggest", false, false, func(ctx context.Context, co ...grpc.CallOption) (*searchdv1.SuggestResponse, error) {
		return c.search.Suggest(ctx, req, co...)
	})
	return resp.GetSuggestions(), err
}

// Status asks a node for its view of the metadata group.
func (c *Client) Status(ctx context.Context) (*searchdv1.StatusResponse, error) {
	return call(ctx, c, "status", false, false, func(ctx context.Context, co ...grpc.CallOption) (*searchdv1.StatusResponse, error) {
		return c.cluster.Status(ctx, &searchdv1.StatusRequest{}, co...)
	})
}

// ListNodes lists the nodes with their liveness and copy counts.
func (c *Client) ListNodes(ctx context.Context) ([]*searchdv1.NodeInfo, error) {
	resp, err := call(ctx, c, "list-nodes", false, false, func(ctx context.Context, co ...grpc.CallOption) (*searchdv1.ListNodesResponse, error) {
		return c.cluster.ListNodes(ctx, &searchdv1.ListNodesRequest{}, co...)
	})
	return resp.GetNodes(), err
}
