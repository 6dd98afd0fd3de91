package searchbench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// Doc is one Debian package description, the unit of the benchmark's
// corpus.
type Doc struct {
	// ID is the document id: the package name, or for a replica (see
	// Replicate) the original's id, "~" and the copy number.
	ID      string `json:"id"`
	Package string `json:"package"`
	// Title is the first line of the package's Description.
	Title string `json:"title"`
	// Description is the whole description: the title line, then the long
	// text when the apt lists hold it (Translation-en), paragraphs
	// separated by blank lines.
	Description   string `json:"description"`
	Section       string `json:"section"`
	Priority      string `json:"priority"`
	InstalledSize int64  `json:"installed_size"`
	Maintainer    string `json:"maintainer"`
	Version       string `json:"version"`
}

// Source is the document as JSON, in the shape Mapping maps (without id).
func (d Doc) Source() []byte {
	b, _ := json.Marshal(struct {
		Package       string `json:"package"`
		Title         string `json:"title"`
		Description   string `json:"description"`
		Section       string `json:"section"`
		Priority      string `json:"priority"`
		InstalledSize int64  `json:"installed_size"`
		Maintainer    string `json:"maintainer"`
		Version       string `json:"version"`
	}{d.Package, d.Title, d.Description, d.Section, d.Priority, d.InstalledSize, d.Maintainer, d.Version})
	return b
}

// Mapping is the Elasticsearch mappings of the benchmark's index: the
// package name, section, priority, maintainer and version as keywords (the
// facets), the title and description as text with the default analyzer,
// the installed size as a long.
const Mapping = `{"properties":{` +
	`"package":{"type":"keyword"},` +
	`"title":{"type":"text"},` +
	`"description":{"type":"text"},` +
	`"section":{"type":"keyword"},` +
	`"priority":{"type":"keyword"},` +
	`"installed_size":{"type":"long"},` +
	`"maintainer":{"type":"keyword"},` +
	`"version":{"type":"keyword"}}}`

// stanza is one deb822 paragraph's fields of interest: field name to
// value, continuation lines joined by "\n" (without their leading space).
type stanza map[string]string

// kept are the fields parseStanzas keeps; it skips the others (Depends,
// Tag, checksums...).
var kept = map[string]bool{
	"Package": true, "Description": true, "Description-md5": true, "Description-en": true, "Section": true,
	"Priority": true, "Installed-Size": true, "Maintainer": true, "Version": true,
}

// parseStanzas reads deb822 paragraphs (Packages, `apt-cache dumpavail`,
// Translation-en) and calls each with the kept fields of every paragraph,
// in order. The stanza is reused: each must not keep it.
func parseStanzas(r io.Reader, each func(stanza) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	cur := stanza{}
	last := "" // the field continuation lines extend; "" when skipped
	flush := func() error {
		if len(cur) == 0 {
			return nil
		}
		err := each(cur)
		clear(cur)
		last = ""
		return err
	}
	for sc.Scan() {
		line := sc.Bytes()
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		switch {
		case len(line) == 0:
			if err := flush(); err != nil {
				return err
			}
		case line[0] == ' ' || line[0] == '\t':
			if last != "" {
				cur[last] += "\n" + string(line[1:])
			}
		default:
			name, value, ok := bytes.Cut(line, []byte(":"))
			if !ok {
				return fmt.Errorf("searchbench: line %q: not a field", line)
			}
			last = ""
			if kept[string(name)] {
				last = string(name)
				cur[last] = string(bytes.TrimSpace(value))
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return flush()
}

// longText turns a deb822 description's continuation lines into text:
// a line "." is a paragraph break.
func longText(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		l = strings.TrimSpace(l)
		switch {
		case l == ".":
			b.WriteString("\n\n")
		case l != "":
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
				b.WriteByte(' ')
			}
			b.WriteString(l)
		}
	}
	return strings.TrimSpace(b.String())
}

// ParsePackages reads package records (`apt-cache dumpavail` output) into
// documents, one per package name (the first record wins); long
// descriptions come from the record or, when it has none, from
// translations (Description-md5 to the long text, see ParseTranslations).
func ParsePackages(r io.Reader, translations map[string]string) ([]Doc, error) {
	docs, md5s, err := parsePackages(r, 0)
	addTranslations(docs, md5s, translations)
	return docs, err
}

// errEnough stops a parse that has what it wants.
var errEnough = errors.New("searchbench: enough")

// parsePackages is ParsePackages without translations, stopping after
// limit documents when limit > 0; md5s[i] is docs[i]'s Description-md5.
func parsePackages(r io.Reader, limit int) (docs []Doc, md5s []string, err error) {
	seen := map[string]bool{}
	err = parseStanzas(r, func(s stanza) error {
		name := s["Package"]
		if name == "" || seen[name] {
			return nil
		}
		if limit > 0 && len(docs) == limit {
			return errEnough
		}
		seen[name] = true
		lines := strings.Split(s["Description"], "\n")
		title := strings.TrimSpace(lines[0])
		desc := title
		if long := longText(lines[1:]); long != "" {
			desc += "\n\n" + long
		}
		size, _ := strconv.ParseInt(s["Installed-Size"], 10, 64)
		docs = append(docs, Doc{
			ID: name, Package: name, Title: title, Description: desc,
			Section: s["Section"], Priority: s["Priority"], InstalledSize: size,
			Maintainer: s["Maintainer"], Version: s["Version"],
		})
		md5s = append(md5s, s["Description-md5"])
		return nil
	})
	if errors.Is(err, errEnough) {
		err = nil
	}
	return docs, md5s, err
}

// addTranslations appends to each title-only description the long text
// translations hold for its Description-md5.
func addTranslations(docs []Doc, md5s []string, translations map[string]string) {
	for i := range docs {
		if long := translations[md5s[i]]; long != "" && docs[i].Description == docs[i].Title {
			docs[i].Description += "\n\n" + long
		}
	}
}

// ParseTranslations reads Translation-en records into a map from
// Description-md5 to the long description (without its title line).
func ParseTranslations(r io.Reader, into map[string]string) error {
	return parseTranslations(r, into, nil)
}

// parseTranslations is ParseTranslations keeping only the md5s in want
// (all when want is nil).
func parseTranslations(r io.Reader, into map[string]string, want map[string]bool) error {
	return parseStanzas(r, func(s stanza) error {
		md5 := s["Description-md5"]
		d, ok := s["Description-en"]
		if md5 == "" || !ok || want != nil && !want[md5] {
			return nil
		}
		_, long, _ := strings.Cut(d, "\n")
		if t := longText(strings.Split(long, "\n")); t != "" {
			into[md5] = t
		}
		return nil
	})
}

// LoadApt reads the package descriptions apt knows: `apt-cache dumpavail`
// for the records, and the English translation files (`apt-get indextargets
// -o Acquire::Languages=en`, those present, decompressed by apt-helper
// cat-file) for the long descriptions. Hosts
// whose apt leaves translations out (Acquire::Languages "none", as Debian's
// container images do) give title-only descriptions; `apt-get update -o
// Acquire::Languages=en` fetches them. withLong counts the documents that
// have a long description.
func LoadApt(ctx context.Context) (docs []Doc, withLong int, err error) {
	return loadApt(ctx, 0)
}

// loadApt is LoadApt, keeping the first limit packages when limit > 0.
func loadApt(ctx context.Context, limit int) (docs []Doc, withLong int, err error) {
	var md5s []string
	err = runInto(ctx, func(r io.Reader) (err error) {
		docs, md5s, err = parsePackages(r, limit)
		return err
	}, "apt-cache", "dumpavail")
	if err != nil {
		return nil, 0, err
	}
	if len(docs) == 0 {
		return nil, 0, errors.New("searchbench: apt-cache dumpavail listed no packages (run apt-get update)")
	}
	want := map[string]bool{}
	for i, d := range docs {
		if d.Description == d.Title && md5s[i] != "" {
			want[md5s[i]] = true
		}
	}
	translations := map[string]string{}
	out, err := exec.CommandContext(ctx, "apt-get", "indextargets", "-o", "Acquire::Languages=en",
		"--format", "$(FILENAME)", "Identifier: Translations").Output()
	if err == nil && len(want) > 0 {
		for _, f := range strings.Fields(string(out)) {
			if _, serr := os.Stat(f); serr != nil {
				continue
			}
			if err := runInto(ctx, func(r io.Reader) error { return parseTranslations(r, translations, want) },
				"/usr/lib/apt/apt-helper", "cat-file", f); err != nil {
				return nil, 0, err
			}
		}
	}
	addTranslations(docs, md5s, translations)
	for _, d := range docs {
		if d.Description != d.Title {
			withLong++
		}
	}
	return docs, withLong, nil
}

// runInto runs a command and hands its standard output to parse.
func runInto(ctx context.Context, parse func(io.Reader) error, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("searchbench: %s: %w", name, err)
	}
	perr := parse(out)
	_, _ = io.Copy(io.Discard, out)
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("searchbench: %s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return perr
}

// Replicate returns n documents: the corpus, then copies of it whose ids
// are "<id>~<copy>" (copy 1, 2, ...), cut at n; fewer than the corpus when
// n is smaller.
func Replicate(docs []Doc, n int) []Doc {
	if len(docs) == 0 {
		return nil
	}
	out := make([]Doc, n)
	for i := range out {
		d := docs[i%len(docs)]
		if c := i / len(docs); c > 0 {
			d.ID += "~" + strconv.Itoa(c)
		}
		out[i] = d
	}
	return out
}

// WriteCorpus writes documents as JSON lines, as ReadCorpus reads them.
func WriteCorpus(w io.Writer, docs []Doc) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for _, d := range docs {
		if err := enc.Encode(d); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// ReadCorpus reads documents written by WriteCorpus.
func ReadCorpus(r io.Reader) ([]Doc, error) {
	dec := json.NewDecoder(bufio.NewReader(r))
	var docs []Doc
	for {
		var d Doc
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("searchbench: corpus document %d: %w", len(docs)+1, err)
		}
		if d.ID == "" {
			return nil, fmt.Errorf("searchbench: corpus document %d: no id", len(docs)+1)
		}
		docs = append(docs, d)
	}
}

// LoadCorpus reads the corpus from path (JSON lines, as WriteCorpus writes
// them) or, when path is empty, from apt (LoadApt).
func LoadCorpus(ctx context.Context, path string) ([]Doc, error) {
	if path == "" {
		docs, _, err := LoadApt(ctx)
		return docs, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("searchbench: corpus: %w", err)
	}
	defer f.Close()
	docs, err := ReadCorpus(f)
	if err == nil && len(docs) == 0 {
		err = fmt.Errorf("searchbench: corpus %s holds no documents", path)
	}
	return docs, err
}
