package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"

	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"
	"cairn.dev/cairn/searchd/es"
)

// queryFlags are the flags of `search query`.
type queryFlags struct {
	fields, facets, filters []string
	fuzzy, highlight        bool
	size, from              int
	raw                     string
}

func newSearchQueryCmd(g *clientFlags) *cobra.Command {
	var f queryFlags
	cmd := &cobra.Command{
		Use:   "query <index> <text> [--field f ...] [--fuzzy] [--facet field ...] [--highlight] [--filter field:value ...] | query <index> --raw body.json",
		Short: "Search an index: full-text match with typo tolerance, facets and highlights",
		Long: `Search an index for text. The query is a multi_match of the text over
--field (default: every text field of the index's mapping), optionally with
fuzziness AUTO (--fuzzy: one typo in words of 3-5 letters, two from 6);
--filter field:value adds a term filter (field>=N, field<=N, field>N, field<N
a range); --facet adds a terms aggregation; --highlight marks the matches.
An empty text matches every document. --raw sends a whole Elasticsearch
_search body from a file ("-" for stdin) instead, and the other query flags
are refused.

The table shows the id, the score, a title-like field, the highlights and
the facets below; --output json prints Elasticsearch's _search answer.

  cairn search query products 'wirless headphones' --fuzzy --facet category --highlight
  cairn search query products '' --filter brand:acme --filter 'price<=100' --size 5`,
		Args: usageArgs(cobra.RangeArgs(1, 2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) == 1 && f.raw == "":
				return usageErrorf("the text to search for is required (\"\" matches everything), or --raw")
			case len(args) == 2 && f.raw != "":
				return usageErrorf("--raw sends its body as it is: give no text beside it")
			}
			text := ""
			if len(args) == 2 {
				text = args[1]
			}
			if f.size < 0 || f.from < 0 {
				return usageErrorf("--size and --from must not be negative")
			}
			var raw []byte
			if f.raw != "" {
				for _, name := range []string{"field", "fuzzy", "facet", "highlight", "filter", "size", "from"} {
					if cmd.Flags().Changed(name) {
						return usageErrorf("--raw sends its body as it is: --%s cannot go with it", name)
					}
				}
				b, err := readJSONFile(cmd, "--raw", f.raw)
				if err != nil {
					return err
				}
				raw = b
			}
			return runSearch(g, cmd, func(ctx context.Context, c *searchConn, w io.Writer) error {
				body := raw
				var textFields []string
				if body == nil || !g.json() {
					resp, err := c.indexes.GetIndex(ctx, &searchdv1.GetIndexRequest{Name: args[0]})
					if err != nil {
						return searchError("", err)
					}
					textFields = mappingTextFields(resp.GetIndex().GetMappingsJson())
				}
				if body == nil {
					fields := f.fields
					if len(fields) == 0 {
						fields = textFields
					}
					b, err := buildQuery(text, fields, f)
					if err != nil {
						return err
					}
					body = b
				}
				resp, err := c.search.Search(ctx, &searchdv1.SearchRequest{Indexes: strings.Split(args[0], ","), BodyJson: body})
				if err != nil {
					return searchError("", err)
				}
				if g.json() {
					out, err := es.SearchResponseJSON(resp)
					if err != nil {
						return err
					}
					return writeJSON(w, out)
				}
				return printHits(w, resp, textFields)
			})
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&f.fields, "field", nil, "field to match (repeat or comma-separate; field^2 boosts; default: every text field)")
	fl.BoolVar(&f.fuzzy, "fuzzy", false, "tolerate typos (fuzziness AUTO)")
	fl.StringSliceVar(&f.facets, "facet", nil, "field to count values of (a terms aggregation; repeat for more)")
	fl.BoolVar(&f.highlight, "highlight", false, "show the matching fragments")
	fl.StringArrayVar(&f.filters, "filter", nil, "field:value (term) or field>=N, field<=N, field>N, field<N (range); repeat for more")
	fl.IntVar(&f.size, "size", 10, "number of hits")
	fl.IntVar(&f.from, "from", 0, "hits to skip")
	fl.StringVar(&f.raw, "raw", "", "file of a whole _search body to send instead (- for stdin)")
	return cmd
}

// mappingTextFields returns the text fields of a mappings object, by path
// (a.b for objects), sorted.
func mappingTextFields(mappings []byte) []string {
	var m struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if json.Unmarshal(mappings, &m) != nil {
		return nil
	}
	var out []string
	var walk func(prefix string, props map[string]json.RawMessage)
	walk = func(prefix string, props map[string]json.RawMessage) {
		for name, raw := range props {
			var f struct {
				Type       string                     `json:"type"`
				Properties map[string]json.RawMessage `json:"properties"`
			}
			if json.Unmarshal(raw, &f) != nil {
				continue
			}
			switch {
			case f.Type == "text":
				out = append(out, prefix+name)
			case len(f.Properties) > 0:
				walk(prefix+name+".", f.Properties)
			}
		}
	}
	walk("", m.Properties)
	sort.Strings(out)
	return out
}

// filterRe reads a --filter: field, an operator, a value.
var filterRe = regexp.MustCompile(`^([^:<>=]+)(:|>=|<=|>|<)(.*)$`)

// buildQuery is the _search body of `search query`.
func buildQuery(text string, fields []string, f queryFlags) ([]byte, error) {
	var must any = map[string]any{"match_all": map[string]any{}}
	if strings.TrimSpace(text) != "" {
		mm := map[string]any{"query": text}
		if len(fields) > 0 {
			mm["fields"] = fields
		}
		if f.fuzzy {
			mm["fuzziness"] = "AUTO"
		}
		must = map[string]any{"multi_match": mm}
	}
	var filters []any
	for _, fl := range f.filters {
		m := filterRe.FindStringSubmatch(fl)
		if m == nil || m[3] == "" {
			return nil, usageErrorf("--filter: want field:value or field>=N (>=, <=, >, <), got %q", fl)
		}
		field, op, value := strings.TrimSpace(m[1]), m[2], m[3]
		var v any = value
		if n, err := strconv.ParseFloat(value, 64); err == nil && op != ":" {
			v = n
		}
		if op == ":" {
			filters = append(filters, map[string]any{"term": map[string]any{field: value}})
			continue
		}
		key := map[string]string{">=": "gte", "<=": "lte", ">": "gt", "<": "lt"}[op]
		filters = append(filters, map[string]any{"range": map[string]any{field: map[string]any{key: v}}})
	}
	bq := map[string]any{"must": []any{must}}
	if len(filters) > 0 {
		bq["filter"] = filters
	}
	body := map[string]any{"query": map[string]any{"bool": bq}, "size": f.size}
	if f.from > 0 {
		body["from"] = f.from
	}
	if len(f.facets) > 0 {
		aggs := map[string]any{}
		for _, fc := range f.facets {
			aggs[fc] = map[string]any{"terms": map[string]any{"field": fc, "size": 10}}
		}
		body["aggs"] = aggs
	}
	if f.highlight {
		hf := map[string]any{}
		for _, fld := range fields {
			hf[strings.SplitN(fld, "^", 2)[0]] = map[string]any{}
		}
		if len(hf) == 0 {
			hf["*"] = map[string]any{}
		}
		body["highlight"] = map[string]any{"fields": hf}
	}
	return json.Marshal(body)
}

// titleFields are the fields a hit's title is taken from, in order, before
// the mapping's first text field.
var titleFields = []string{"title", "name", "subject", "headline", "summary"}

// hitTitle picks a title-like value of a hit's source.
func hitTitle(src []byte, textFields []string) string {
	var m map[string]any
	if json.Unmarshal(src, &m) != nil {
		return ""
	}
	for _, f := range append(append([]string(nil), titleFields...), textFields...) {
		if s, ok := m[f].(string); ok && s != "" {
			return truncate(s, 60)
		}
	}
	return ""
}

func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// printHits prints a search's table: the hits, then the facets.
func printHits(w io.Writer, resp *searchdv1.SearchResponse, textFields []string) error {
	rel := ""
	if resp.GetTotalRelation() == "gte" {
		rel = "≥"
	}
	fmt.Fprintf(w, "%s%d hits in %d ms\n", rel, resp.GetTotalHits(), resp.GetTookMs())
	if len(resp.GetHits()) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSCORE\tTITLE\tHIGHLIGHTS")
		for _, h := range resp.GetHits() {
			score := "-"
			if !math.IsNaN(h.GetScore()) {
				score = strconv.FormatFloat(h.GetScore(), 'f', 3, 64)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", h.GetId(), score, hitTitle(h.GetSourceJson(), textFields), highlights(h.GetHighlightJson()))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return printFacets(w, resp.GetAggregationsJson())
}

// highlights joins a hit's highlight fragments: field: fragment … .
func highlights(b []byte) string {
	var m map[string][]string
	if len(b) == 0 || json.Unmarshal(b, &m) != nil {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+": "+truncate(strings.Join(m[k], " … "), 80))
	}
	return strings.Join(parts, "; ")
}

// printFacets prints the buckets of each terms (or other bucket)
// aggregation: the facet's name, then key (count) lines.
func printFacets(w io.Writer, aggs []byte) error {
	var m map[string]struct {
		Buckets []struct {
			Key      any   `json:"key"`
			KeyStr   any   `json:"key_as_string"`
			DocCount int64 `json:"doc_count"`
		} `json:"buckets"`
		Value any `json:"value"`
	}
	if len(aggs) == 0 || json.Unmarshal(aggs, &m) != nil {
		return nil
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, n := range names {
		a := m[n]
		if a.Value != nil {
			fmt.Fprintf(w, "\n%s: %v\n", n, a.Value)
			continue
		}
		fmt.Fprintf(w, "\n%s:\n", n)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, b := range a.Buckets {
			key := b.Key
			if b.KeyStr != nil {
				key = b.KeyStr
			}
			fmt.Fprintf(tw, "  %v\t%d\n", key, b.DocCount)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func newSearchSuggestCmd(g *clientFlags) *cobra.Command {
	var size int
	var fields []string
	var exact bool
	cmd := &cobra.Command{
		Use:   "suggest <index> <prefix> [--size N]",
		Short: "Complete a prefix from the indexed words (typo tolerant), most frequent first",
		Args:  usageArgs(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if size < 1 || size > 100 {
				return usageErrorf("--size: want 1..100, got %d", size)
			}
			return runSearch(g, cmd, func(ctx context.Context, c *searchConn, w io.Writer) error {
				resp, err := c.search.Suggest(ctx, &searchdv1.SuggestRequest{Index: args[0], Prefix: args[1], Fields: fields, Size: int32(size), Fuzzy: !exact})
				if err != nil {
					return searchError("", err)
				}
				return g.printer(cmd).print(resp, func(w io.Writer) error {
					tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "SUGGESTION\tDOCS\tEDITS")
					for _, s := range resp.GetSuggestions() {
						fmt.Fprintf(tw, "%s\t%d\t%d\n", s.GetText(), s.GetDocFreq(), s.GetEdits())
					}
					return tw.Flush()
				})
			})
		},
	}
	cmd.Flags().IntVar(&size, "size", 5, "number of suggestions (at most 100)")
	cmd.Flags().StringSliceVar(&fields, "field", nil, "text fields to complete from (default: every text field)")
	cmd.Flags().BoolVar(&exact, "exact", false, "no typo tolerance: only words that start with the prefix")
	return cmd
}
