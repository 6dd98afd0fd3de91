// Package client is the Go client of searchd (cairn.searchd.v1) over
// node/clusterconn: calls go round robin to any node, which forwards what it
// does not hold; index changes go to the metadata leader. Reads are retried
// on Unavailable; writes only when they certainly were not applied
// (otherwise they fail with ErrUnknownOutcome). Errors match the sentinels
// with errors.Is and keep their gRPC status and rpcerr metadata.
//
//	c, err := client.New(client.Config{Endpoints: []string{"127.0.0.1:7600"}})
//	_, err = c.CreateIndex(ctx, &searchdv1.CreateIndexRequest{Name: "products"})
//	_, err = c.Put(ctx, &searchdv1.PutDocumentRequest{Index: "products", Id: "1", SourceJson: []byte(`{"title":"wireless"}`)})
//	resp, err := c.Search(ctx, []string{"products"}, []byte(`{"query":{"match":{"title":"wireless"}}}`))
package client
