package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Doc is one Cranfield abstract.
type Doc struct {
	// ID is the number after .I (1..1400).
	ID    int
	Title string
	// Body is the .W text: the abstract (which repeats the title).
	Body string
}

// Query is one Cranfield query.
type Query struct {
	// Num is the query's position in cran.qry, 1..225: the number the
	// qrels use (the .I ids in cran.qry run 001..365 with gaps).
	Num int
	// FileID is the .I id as written in cran.qry.
	FileID string
	Text   string
}

// Judgment is one qrels line: doc Doc's grade for the query numbered Query.
type Judgment struct {
	Query, Doc, Grade int
}

// Gain maps a Cranfield relevance grade to the gain nDCG uses: grades 1
// (a complete answer) to 4 (of minimum interest) give 5 - grade, i.e. 4, 3,
// 2, 1; any other grade (-1 in this copy of the qrels, one line per query,
// and 5, "of no interest", which the qrels leave out) gives 0. A document
// is relevant (for MAP and P@10) when its gain is positive.
func Gain(grade int) int {
	if grade >= 1 && grade <= 4 {
		return 5 - grade
	}
	return 0
}

// Collection is the Cranfield test collection.
type Collection struct {
	// Dir is the directory it was read from.
	Dir     string
	Docs    []Doc
	Queries []Query
	// Gains maps a query number to the gain of each judged document
	// (0 for the judged non-relevant ones).
	Gains map[int]map[int]int
}

// LoadCollection reads cran.all.1400, cran.qry and cranqrel from dir and
// checks them: documents numbered 1..N in order, at least one query, and
// judgments only of queries and documents that exist. (The real collection
// has 1400 documents and 225 queries; main says when it has not.)
func LoadCollection(dir string) (*Collection, error) {
	c := Collection{Dir: dir}
	err := readFile(filepath.Join(dir, "cran.all.1400"), func(r io.Reader) (err error) {
		c.Docs, err = ParseDocs(r)
		return err
	})
	if err == nil {
		err = readFile(filepath.Join(dir, "cran.qry"), func(r io.Reader) (err error) {
			c.Queries, err = ParseQueries(r)
			return err
		})
	}
	var qrels []Judgment
	if err == nil {
		err = readFile(filepath.Join(dir, "cranqrel"), func(r io.Reader) (err error) {
			qrels, err = ParseQrels(r)
			return err
		})
	}
	if err != nil {
		return nil, err
	}
	if len(c.Docs) == 0 || len(c.Queries) == 0 {
		return nil, fmt.Errorf("cranfield: %d documents and %d queries in %s", len(c.Docs), len(c.Queries), dir)
	}
	for i, d := range c.Docs {
		if d.ID != i+1 {
			return nil, fmt.Errorf("cranfield: document %d of %s is numbered %d", i+1, dir, d.ID)
		}
	}
	c.Gains = map[int]map[int]int{}
	for _, j := range qrels {
		if j.Query < 1 || j.Query > len(c.Queries) || j.Doc < 1 || j.Doc > len(c.Docs) {
			return nil, fmt.Errorf("cranfield: qrels line %v: query or document out of range", j)
		}
		if c.Gains[j.Query] == nil {
			c.Gains[j.Query] = map[int]int{}
		}
		c.Gains[j.Query][j.Doc] = Gain(j.Grade)
	}
	return &c, nil
}

func readFile(path string, parse func(io.Reader) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("cranfield: %w", err)
	}
	defer f.Close()
	if err := parse(f); err != nil {
		return fmt.Errorf("cranfield: %s: %w", filepath.Base(path), err)
	}
	return nil
}

// record is one .I record: its id and the text of each field marker.
type record struct {
	id     string
	fields map[string]string
}

// parseRecords splits SMART-format text (".I id" starts a record; ".T",
// ".A", ".B", ".W" on a line of their own start a field; CRLF or LF line
// ends) into records. Field texts are joined with single spaces.
func parseRecords(r io.Reader) ([]record, error) {
	var out []record
	var field string
	var text []string
	flush := func() {
		if len(out) > 0 && field != "" {
			out[len(out)-1].fields[field] = strings.Join(strings.Fields(strings.Join(text, " ")), " ")
		}
		field, text = "", nil
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimRight(sc.Text(), "\r")
		switch {
		case strings.HasPrefix(s, ".I ") || s == ".I":
			flush()
			id := strings.TrimSpace(strings.TrimPrefix(s, ".I"))
			if id == "" {
				return nil, fmt.Errorf("line %d: .I without an id", line)
			}
			out = append(out, record{id: id, fields: map[string]string{}})
		case len(s) == 2 && s[0] == '.' && strings.ContainsRune("TABW", rune(s[1])):
			flush()
			if len(out) == 0 {
				return nil, fmt.Errorf("line %d: %s before the first .I", line, s)
			}
			field = s[1:]
		default:
			if field == "" && strings.TrimSpace(s) != "" {
				return nil, fmt.Errorf("line %d: text outside a field", line)
			}
			text = append(text, s)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	flush()
	return out, nil
}

// ParseDocs parses cran.all.1400.
func ParseDocs(r io.Reader) ([]Doc, error) {
	recs, err := parseRecords(r)
	if err != nil {
		return nil, err
	}
	docs := make([]Doc, 0, len(recs))
	for _, rec := range recs {
		id, err := strconv.Atoi(rec.id)
		if err != nil || id < 1 {
			return nil, fmt.Errorf("document id %q: want a positive number", rec.id)
		}
		docs = append(docs, Doc{ID: id, Title: rec.fields["T"], Body: rec.fields["W"]})
	}
	return docs, nil
}

// ParseQueries parses cran.qry, numbering the queries 1, 2, ... in file
// order, as the qrels do.
func ParseQueries(r io.Reader) ([]Query, error) {
	recs, err := parseRecords(r)
	if err != nil {
		return nil, err
	}
	qs := make([]Query, 0, len(recs))
	for i, rec := range recs {
		if rec.fields["W"] == "" {
			return nil, fmt.Errorf("query .I %s: no .W text", rec.id)
		}
		qs = append(qs, Query{Num: i + 1, FileID: rec.id, Text: rec.fields["W"]})
	}
	return qs, nil
}

// ParseQrels parses cranqrel: lines "query doc grade".
func ParseQrels(r io.Reader) ([]Judgment, error) {
	var out []Judgment
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("line %d: %d fields, want 3 (query doc grade)", line, len(f))
		}
		var n [3]int
		for i, s := range f {
			v, err := strconv.Atoi(s)
			if err != nil {
				return nil, fmt.Errorf("line %d: %q is not a number", line, s)
			}
			n[i] = v
		}
		out = append(out, Judgment{Query: n[0], Doc: n[1], Grade: n[2]})
	}
	return out, sc.Err()
}
