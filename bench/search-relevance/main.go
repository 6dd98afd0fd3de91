// Command search-relevance measures the relevance of searchd's engine
// against Bleve v2 on the Cranfield collection (1400 aerodynamics
// abstracts, 225 queries with graded judgments), both in the same run: it
// indexes each document's title and abstract (.T and .W) into each
// engine with its defaults for English text, runs every query's text
// against both fields (top 100), and prints MAP, nDCG@10 and P@10 of each
// engine and cairn's ratio to Bleve.
//
//	go run ./bench/search-relevance [-data DIR] [-systems bleve,cairn] [-output table|json]
//
// Judgments: the qrels grade a document 1 (a complete answer) to 4 (of
// minimum interest); Gain maps grade g to 5 - g for nDCG (linear gains, log2
// discount, ideal ranking from the judged documents), grades 1..4 are
// relevant for MAP and P@10, and the one judgment per query graded -1 is
// taken as not relevant. Queries are numbered by their position in
// cran.qry, as the qrels number them.
//
// Nothing is tuned to the collection: cairn gets searchd's default text
// analyzer and BM25 (k1 1.2, b 0.75) through a multi_match query; Bleve
// gets its English analyzer "en" and its BM25 scoring model through a
// disjunction of match queries (see bleveSystem). bench/search-relevance.sh
// runs this program.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "search-relevance:", err)
		os.Exit(1)
	}
}

// dataPath is the collection's place in the cairn workspace: beside the
// repository (../shared/data/ir/cranfield from its root).
const dataPath = "shared/data/ir/cranfield"

// findData returns the first directory <ancestor>/shared/data/ir/cranfield
// that holds cran.all.1400, looking from dir up to the file system's root.
func findData(dir string) (string, bool) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	for {
		p := filepath.Join(dir, dataPath)
		if _, err := os.Stat(filepath.Join(p, "cran.all.1400")); err == nil {
			return p, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("search-relevance", flag.ContinueOnError)
	data := fs.String("data", "", "directory holding cran.all.1400, cran.qry and cranqrel (default: "+dataPath+" in the nearest directory above this one that has it)")
	systems := fs.String("systems", "bleve,cairn", "systems to evaluate, in order: bleve, cairn")
	output := fs.String("output", "table", "output format: table or json (one line)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *output != "table" && *output != "json" {
		return fmt.Errorf("-output %q: want table or json", *output)
	}
	if *data == "" {
		d, ok := findData(".")
		if !ok {
			return fmt.Errorf("no %s above the current directory: give -data", dataPath)
		}
		*data = d
	}
	c, err := LoadCollection(*data)
	if err != nil {
		return err
	}
	if len(c.Docs) != 1400 || len(c.Queries) != 225 {
		fmt.Fprintf(os.Stderr, "search-relevance: %d documents and %d queries in %s: not the whole Cranfield collection (1400 and 225)\n", len(c.Docs), len(c.Queries), *data)
	}
	tmp, err := os.MkdirTemp("", "search-relevance-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var scores []Scores
	for _, name := range strings.Split(*systems, ",") {
		s, err := evaluateNamed(ctx, c, strings.TrimSpace(name), filepath.Join(tmp, name))
		if err != nil {
			return err
		}
		scores = append(scores, s)
	}
	if *output == "json" {
		return json.NewEncoder(stdout).Encode(map[string]any{"scores": scores})
	}
	return WriteTable(stdout, scores)
}

// evaluateNamed opens the system called name in dir, evaluates it and
// closes it.
func evaluateNamed(ctx context.Context, c *Collection, name, dir string) (Scores, error) {
	var sys System
	var err error
	switch name {
	case "bleve":
		sys, err = newBleve(dir)
	case "cairn":
		sys, err = newCairn(dir)
	default:
		return Scores{}, fmt.Errorf("-systems: %q: want bleve or cairn", name)
	}
	if err != nil {
		return Scores{}, err
	}
	s, err := Evaluate(ctx, c, sys)
	if cerr := sys.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("%s: close: %w", name, cerr)
	}
	return s, err
}
