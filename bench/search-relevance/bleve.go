package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
)

// bleveSystem is Bleve v2 as its users would set it up for English text:
// a scorch index in dir, BM25 scoring (the index mapping's ScoringModel
// "bm25"; Bleve's default is tf-idf), the fields title and body mapped as
// text with Bleve's English analyzer "en" (unicode tokenizer, possessive
// filter, lowercase, English stop words, Porter stemmer), and a query that
// is the disjunction of a match query on each field (Bleve has no
// dis_max, and a disjunction is how a Bleve user searches two fields).
type bleveSystem struct {
	ix bleve.Index
}

func newBleve(dir string) (*bleveSystem, error) {
	text := bleve.NewTextFieldMapping()
	text.Analyzer = en.AnalyzerName
	doc := bleve.NewDocumentStaticMapping()
	doc.AddFieldMappingsAt("title", text)
	doc.AddFieldMappingsAt("body", text)
	m := bleve.NewIndexMapping()
	m.DefaultMapping = doc
	m.DefaultAnalyzer = en.AnalyzerName
	m.ScoringModel = index.BM25Scoring
	ix, err := bleve.New(dir, m)
	if err != nil {
		return nil, fmt.Errorf("bleve: %w", err)
	}
	return &bleveSystem{ix: ix}, nil
}

func (b *bleveSystem) Name() string { return "bleve" }

func (b *bleveSystem) Index(docs []Doc) error {
	batch := b.ix.NewBatch()
	for _, d := range docs {
		if err := batch.Index(strconv.Itoa(d.ID), map[string]string{"title": d.Title, "body": d.Body}); err != nil {
			return err
		}
	}
	return b.ix.Batch(batch)
}

func (b *bleveSystem) Search(ctx context.Context, text string, k int) ([]int, error) {
	var qs []query.Query
	for _, f := range []string{"title", "body"} {
		q := bleve.NewMatchQuery(text)
		q.SetField(f)
		qs = append(qs, q)
	}
	req := bleve.NewSearchRequestOptions(bleve.NewDisjunctionQuery(qs...), k, 0, false)
	res, err := b.ix.SearchInContext(ctx, req)
	if err != nil {
		return nil, err
	}
	ids := make([]int, 0, len(res.Hits))
	for _, h := range res.Hits {
		id, err := strconv.Atoi(h.ID)
		if err != nil {
			return nil, fmt.Errorf("bleve: hit id %q", h.ID)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func (b *bleveSystem) Close() error { return b.ix.Close() }
