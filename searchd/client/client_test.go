package client_test

import (
	"context"
	"errors"
	"testing"
	"time"

	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"
	"cairn.dev/cairn/searchd/client"
	"cairn.dev/cairn/searchd/searchdtest"
)

func TestClient(t *testing.T) {
	c := searchdtest.New(t, 1, nil)
	cli, err := client.New(client.Config{Endpoints: c.Endpoints()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := cli.CreateIndex(ctx, &searchdv1.CreateIndexRequest{Name: "books"}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.CreateIndex(ctx, &searchdv1.CreateIndexRequest{Name: "books"}); !errors.Is(err, client.ErrIndexExists) {
		t.Fatalf("second create: %v", err)
	}
	put, err := cli.Put(ctx, &searchdv1.PutDocumentRequest{Index: "books", SourceJson: []byte(`{"title":"dune"}`), Refresh: searchdv1.Refresh_REFRESH_TRUE})
	if err != nil || len(put.GetId()) != 20 {
		t.Fatalf("put: %v %v", put, err)
	}
	if n, err := cli.Count(ctx, []string{"books"}, []byte(`{"query":{"match":{"title":"dune"}}}`)); err != nil || n != 1 {
		t.Fatalf("count %d %v", n, err)
	}
	got, err := cli.Get(ctx, "books", put.GetId())
	if err != nil || !got.GetFound() {
		t.Fatalf("get: %v %v", got, err)
	}
	if _, err := cli.Search(ctx, []string{"missing"}, nil); !errors.Is(err, client.ErrIndexNotFound) {
		t.Fatalf("search of a missing index: %v", err)
	}
	if _, err := cli.Put(ctx, &searchdv1.PutDocumentRequest{Index: "books", Id: "x", SourceJson: []byte(`{bad`)}); !errors.Is(err, client.ErrParse) {
		t.Fatalf("malformed document: %v", err)
	}
	nodes, err := cli.ListNodes(ctx)
	if err != nil || len(nodes) != 1 || !nodes[0].GetAlive() || nodes[0].GetCopies() != 1 {
		t.Fatalf("nodes: %v %v", nodes, err)
	}
	if err := cli.DeleteIndex(ctx, "books"); err != nil {
		t.Fatal(err)
	}
}
