package anchors

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/go-sql-driver/mysql"

	"cairn.dev/cairn/bench/searchbench"
)

// SphinxConfig says where a Sphinx target indexes.
type SphinxConfig struct {
	// Addr is searchd's SphinxQL (mysql41) listener, host:port.
	Addr string
	// Index is a realtime index with the fields title and description and
	// the string attributes package, section, priority, maintainer,
	// version and the bigint attribute installed_size, as
	// bench/search-compare.sh's sphinx.conf declares it. The run empties it
	// first (TRUNCATE RTINDEX).
	Index string
	// DataDir holds the index's files, for its size.
	DataDir string
	// Conns caps the open connections (one per concurrent client or
	// writer is enough).
	Conns int
}

// Sphinx is Sphinx 2.2's searchd with a realtime index, spoken to over
// SphinxQL (the MySQL protocol, through go-sql-driver/mysql with client-side
// parameter interpolation: Sphinx has no prepared statements). Documents go
// in one multi-row REPLACE per Index call (ids: 63-bit FNV-1a of the
// document id); Refresh is FLUSH RTINDEX (the RAM chunk written to disk).
// Queries use MATCH with the field operator (@description, @title), a
// quoted phrase, a prefix with '*', the ranker bm25, and LIMIT TopK; the
// facet is Sphinx's FACET clause on section. The total is total_found
// from SHOW META on the same connection, one more round trip. No fuzzy
// matching in Sphinx 2.2.
type Sphinx struct {
	cfg SphinxConfig
	db  *sql.DB
}

// NewSphinx connects and empties the index.
func NewSphinx(ctx context.Context, cfg SphinxConfig) (*Sphinx, error) {
	mc := mysql.NewConfig()
	mc.Net, mc.Addr = "tcp", cfg.Addr
	mc.InterpolateParams = true
	connector, err := mysql.NewConnector(mc)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(max(cfg.Conns, 1))
	db.SetMaxIdleConns(max(cfg.Conns, 1))
	if _, err := db.ExecContext(ctx, "TRUNCATE RTINDEX "+cfg.Index); err != nil {
		db.Close()
		return nil, fmt.Errorf("sphinx: TRUNCATE RTINDEX %s at %s: %w", cfg.Index, cfg.Addr, err)
	}
	return &Sphinx{cfg: cfg, db: db}, nil
}

// Name is "sphinx".
func (s *Sphinx) Name() string { return "sphinx" }

// Supports every kind but fuzzy.
func (s *Sphinx) Supports(k searchbench.Kind) bool { return k != searchbench.KindFuzzy }

// sphinxID maps a document id to a positive 63-bit integer id.
func sphinxID(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()>>1 | 1
}

// Index REPLACEs the documents in one statement.
func (s *Sphinx) Index(ctx context.Context, docs []searchbench.Doc) error {
	var b strings.Builder
	b.WriteString("REPLACE INTO " + s.cfg.Index + " (id, title, description, package, section, priority, installed_size, maintainer, version) VALUES ")
	args := make([]any, 0, 9*len(docs))
	for i, d := range docs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?,?,?)")
		args = append(args, sphinxID(d.ID), d.Title, d.Description, d.Package, d.Section, d.Priority, d.InstalledSize, d.Maintainer, d.Version)
	}
	_, err := s.db.ExecContext(ctx, b.String(), args...)
	return err
}

// Refresh flushes the RAM chunk to disk (documents are searchable as soon
// as they are inserted).
func (s *Sphinx) Refresh(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, "FLUSH RTINDEX "+s.cfg.Index)
	return err
}

// match is q's MATCH expression. Query texts are lower-case letters and
// spaces (searchbench.Generate), which need no escaping.
func match(q searchbench.Query) string {
	switch q.Kind {
	case searchbench.KindPhrase:
		return "@" + q.Field + ` "` + q.Text + `"`
	case searchbench.KindPrefix:
		return "@" + q.Field + " " + q.Text + "*"
	}
	return "@" + q.Field + " " + q.Text
}

// Search runs the query and SHOW META on one connection.
func (s *Sphinx) Search(ctx context.Context, q searchbench.Query) (int64, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	stmt := fmt.Sprintf("SELECT id FROM %s WHERE MATCH(?) LIMIT %d OPTION ranker=bm25", s.cfg.Index, searchbench.TopK)
	if q.Kind == searchbench.KindFacet {
		stmt += fmt.Sprintf(" FACET %s ORDER BY COUNT(*) DESC LIMIT %d", searchbench.FacetField, searchbench.FacetSize)
	}
	rows, err := conn.QueryContext(ctx, stmt, match(q))
	if err != nil {
		return 0, err
	}
	for {
		for rows.Next() {
		}
		if !rows.NextResultSet() {
			break
		}
	}
	if err := rows.Close(); err != nil {
		return 0, err
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	meta, err := conn.QueryContext(ctx, "SHOW META")
	if err != nil {
		return 0, err
	}
	defer meta.Close()
	var total int64
	for meta.Next() {
		var name, value string
		if err := meta.Scan(&name, &value); err != nil {
			return 0, err
		}
		if name == "total_found" {
			fmt.Sscan(value, &total)
		}
	}
	return total, meta.Err()
}

// Finish flushes the index, measures its files, empties it and closes the
// connections.
func (s *Sphinx) Finish(ctx context.Context) (int64, error) {
	defer s.db.Close()
	if err := s.Refresh(ctx); err != nil {
		return 0, err
	}
	size, err := searchbench.DirSize(s.cfg.DataDir)
	if err != nil {
		return 0, err
	}
	_, err = s.db.ExecContext(ctx, "TRUNCATE RTINDEX "+s.cfg.Index)
	return size, err
}
