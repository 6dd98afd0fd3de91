package anchors

import (
	"context"
	"fmt"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	bquery "github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"

	"cairn.dev/cairn/bench/searchbench"
)

// Bleve is Bleve v2 as its users set it up for English text, as in
// bench/search-relevance: a scorch index in its own directory, the index
// mapping's scoring model "bm25" (Bleve's default is tf-idf), title and
// description as text fields with the English analyzer "en", package,
// section, priority, maintainer and version as keyword fields, the
// installed size as a number; nothing stored but what queries and facets
// need (Bleve's defaults: term vectors and doc values on). Documents go in
// one batch per Index call. Queries: match (term, facet), match_phrase
// (phrase), match with fuzziness (fuzzy, Elasticsearch's AUTO distance),
// prefix (prefix); the facet is a terms facet on section.
type Bleve struct {
	dir string
	ix  bleve.Index
}

// NewBleve creates the index in dir (which must not exist).
func NewBleve(dir string) (*Bleve, error) {
	text := bleve.NewTextFieldMapping()
	text.Analyzer = en.AnalyzerName
	text.Store = false
	kw := bleve.NewKeywordFieldMapping()
	kw.Analyzer = keyword.Name
	kw.Store = false
	num := bleve.NewNumericFieldMapping()
	num.Store = false
	doc := bleve.NewDocumentStaticMapping()
	for _, f := range []string{"title", "description"} {
		doc.AddFieldMappingsAt(f, text)
	}
	for _, f := range []string{"package", "section", "priority", "maintainer", "version"} {
		doc.AddFieldMappingsAt(f, kw)
	}
	doc.AddFieldMappingsAt("installed_size", num)
	m := bleve.NewIndexMapping()
	m.DefaultMapping = doc
	m.DefaultAnalyzer = en.AnalyzerName
	m.ScoringModel = index.BM25Scoring
	ix, err := bleve.New(dir, m)
	if err != nil {
		return nil, fmt.Errorf("bleve: %w", err)
	}
	return &Bleve{dir: dir, ix: ix}, nil
}

// Name is "bleve".
func (b *Bleve) Name() string { return "bleve" }

// Supports every kind.
func (b *Bleve) Supports(searchbench.Kind) bool { return true }

// Index indexes the documents in one batch.
func (b *Bleve) Index(_ context.Context, docs []searchbench.Doc) error {
	batch := b.ix.NewBatch()
	for _, d := range docs {
		if err := batch.Index(d.ID, map[string]any{
			"package": d.Package, "title": d.Title, "description": d.Description, "section": d.Section,
			"priority": d.Priority, "installed_size": d.InstalledSize, "maintainer": d.Maintainer, "version": d.Version,
		}); err != nil {
			return err
		}
	}
	return b.ix.Batch(batch)
}

// Refresh does nothing: a Bleve batch is searchable when Batch returns.
func (b *Bleve) Refresh(context.Context) error { return nil }

// Search runs the query.
func (b *Bleve) Search(ctx context.Context, q searchbench.Query) (int64, error) {
	var bq bquery.Query
	switch q.Kind {
	case searchbench.KindPhrase:
		p := bleve.NewMatchPhraseQuery(q.Text)
		p.SetField(q.Field)
		bq = p
	case searchbench.KindPrefix:
		p := bleve.NewPrefixQuery(q.Text)
		p.SetField(q.Field)
		bq = p
	default:
		m := bleve.NewMatchQuery(q.Text)
		m.SetField(q.Field)
		if q.Kind == searchbench.KindFuzzy {
			m.SetFuzziness(searchbench.Fuzziness(len(q.Text)))
		}
		bq = m
	}
	req := bleve.NewSearchRequestOptions(bq, searchbench.TopK, 0, false)
	if q.Kind == searchbench.KindFacet {
		req.AddFacet("sections", bleve.NewFacetRequest(searchbench.FacetField, searchbench.FacetSize))
	}
	res, err := b.ix.SearchInContext(ctx, req)
	if err != nil {
		return 0, err
	}
	return int64(res.Total), nil
}

// Finish closes the index (scorch persists what it holds) and measures its
// directory.
func (b *Bleve) Finish(context.Context) (int64, error) {
	if err := b.ix.Close(); err != nil {
		return 0, err
	}
	return searchbench.DirSize(b.dir)
}
