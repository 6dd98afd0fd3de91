package schema

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"cairn.dev/cairn/raftkv/sql/kvtxn"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// Catalog is every table and sequence as one transaction saw them. It is
// immutable once returned by Load and safe for concurrent use, so an engine
// may share one between transactions that read the same Version.
type Catalog struct {
	version string // hex of the version key's value; "" before the first DDL
	counter uint64 // the DDL counter inside the version
	tables  map[string]*Table
	byID    map[uint32]*Table
	seqs    map[string]*Sequence
}

// Sequence is a sequence (SERIAL and identity columns, hidden rowids).
type Sequence struct {
	Name      string
	Start     int64
	Increment int64
	Min, Max  int64
	// OwnerTable and OwnerColumn name the column the sequence belongs to
	// (dropped with it); "" for none.
	OwnerTable, OwnerColumn string

	counter       string // hex id of the counter key
	ownerTableID  uint32
	ownerColumnID uint32
}

// Version returns the catalog version the transaction sees: an opaque token,
// different after every DDL (also across rolled-back DDL), "" when no DDL
// ever ran. Reading it puts the version key in txn's read set, so txn
// conflicts with any DDL committed after its snapshot.
func Version(ctx context.Context, txn *kvtxn.Txn) (string, error) {
	b, found, err := txn.Get(ctx, keyVersion)
	if err != nil {
		return "", err
	}
	if !found {
		return "", nil
	}
	return hex.EncodeToString(b), nil
}

// Load reads the whole catalog in txn (one range read of the catalog keys,
// version key included).
func Load(ctx context.Context, txn *kvtxn.Txn) (*Catalog, error) {
	c := newCatalog()
	type pending struct {
		t   *Table
		fks []fkDesc
	}
	var tables []pending
	start := []byte(catalogPrefix)
	err := txn.Scan(ctx, start, prefixEnd(start), 0, func(kv kvtxn.KV) (bool, error) {
		k := string(kv.Key)
		switch {
		case k == string(keyVersion):
			c.version = hex.EncodeToString(kv.Value)
			if len(kv.Value) >= 8 {
				c.counter = binary.BigEndian.Uint64(kv.Value)
			}
		case strings.HasPrefix(k, tableDescPrefix):
			t, fks, err := decodeTable(kv.Value)
			if err != nil {
				return false, corrupt(k, err)
			}
			tables = append(tables, pending{t, fks})
		case strings.HasPrefix(k, seqDescPrefix):
			var d sequenceDesc
			if err := json.Unmarshal(kv.Value, &d); err != nil {
				return false, corrupt(k, err)
			}
			c.seqs[d.Name] = &Sequence{Name: d.Name, Start: d.Start, Increment: d.Increment, Min: d.Min, Max: d.Max,
				counter: d.Counter, ownerTableID: d.OwnerTableID, ownerColumnID: d.OwnerColumnID}
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	for _, p := range tables {
		c.tables[p.t.Name] = p.t
		c.byID[p.t.ID] = p.t
	}
	for _, p := range tables {
		if err := resolveForeignKeys(p.t, p.fks, c.byID); err != nil {
			return nil, corrupt(tableDescPrefix+p.t.Name, err)
		}
	}
	for _, s := range c.seqs {
		if t := c.byID[s.ownerTableID]; t != nil {
			s.OwnerTable = t.Name
			for _, col := range t.Columns {
				if col.ID == s.ownerColumnID {
					s.OwnerColumn = col.Name
				}
			}
		}
	}
	c.reindex()
	return c, nil
}

func corrupt(key string, err error) error {
	return sqlerr.Wrap(sqlerr.Internal, err, "corrupt catalog entry %q: %v", key, err)
}

func newCatalog() *Catalog {
	return &Catalog{tables: map[string]*Table{}, byID: map[uint32]*Table{}, seqs: map[string]*Sequence{}}
}

// reindex recomputes the derived ReferencedBy lists.
func (c *Catalog) reindex() {
	for _, t := range c.tables {
		t.ReferencedBy = nil
	}
	names := c.tableNames()
	for _, name := range names {
		t := c.tables[name]
		for i, fk := range t.ForeignKeys {
			if ref := c.tables[fk.RefTable]; ref != nil {
				ref.ReferencedBy = append(ref.ReferencedBy, ForeignKeyRef{Table: t.Name, Index: i})
			}
		}
	}
}

func (c *Catalog) tableNames() []string {
	names := make([]string, 0, len(c.tables))
	for n := range c.tables {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Version is the version token the catalog was loaded at (see Version).
func (c *Catalog) Version() string { return c.version }

// Table returns the table named name, or a 42P01 error.
func (c *Catalog) Table(name string) (*Table, error) {
	if t, ok := c.tables[name]; ok {
		return t, nil
	}
	return nil, errUndefinedTable(name)
}

// TableByID returns the table with id id.
func (c *Catalog) TableByID(id uint32) (*Table, bool) {
	t, ok := c.byID[id]
	return t, ok
}

// Tables returns every table, sorted by name.
func (c *Catalog) Tables() []*Table {
	out := make([]*Table, 0, len(c.tables))
	for _, n := range c.tableNames() {
		out = append(out, c.tables[n])
	}
	return out
}

// Sequence returns the sequence named name.
func (c *Catalog) Sequence(name string) (*Sequence, bool) {
	s, ok := c.seqs[name]
	return s, ok
}

// IndexOwner returns the table holding the index (or primary key constraint)
// named name and the index's position in its Indexes (-1: the primary key).
func (c *Catalog) IndexOwner(name string) (*Table, int, bool) {
	for _, tn := range c.tableNames() {
		t := c.tables[tn]
		if t.PrimaryKeyName == name {
			return t, -1, true
		}
		if i, ok := t.IndexByName(name); ok {
			return t, i, true
		}
	}
	return nil, 0, false
}

// relationKind says what owns name in the relation namespace (tables,
// indexes and sequences share it, as in PostgreSQL): "table", "index",
// "sequence" or "".
func (c *Catalog) relationKind(name string) string {
	if _, ok := c.tables[name]; ok {
		return "table"
	}
	if _, ok := c.seqs[name]; ok {
		return "sequence"
	}
	if _, _, ok := c.IndexOwner(name); ok {
		return "index"
	}
	return ""
}

// clone returns a deep copy for a DDL statement to modify.
func (c *Catalog) clone() *Catalog {
	n := newCatalog()
	n.version, n.counter = c.version, c.counter
	for name, t := range c.tables {
		ct := t.clone()
		n.tables[name] = ct
		n.byID[ct.ID] = ct
	}
	for name, s := range c.seqs {
		cs := *s
		n.seqs[name] = &cs
	}
	return n
}

// ddl is one DDL statement's working copy of the catalog and the
// descriptors it changed; commit writes them to the transaction.
type ddl struct {
	ctx      context.Context
	txn      *kvtxn.Txn
	cat      *Catalog
	dirty    map[string]bool // tables to write, by name
	dropped  map[string]bool // table descriptors to delete, by name
	seqDirty map[string]bool
	seqDrop  map[string]bool
}

func newDDL(ctx context.Context, txn *kvtxn.Txn, cat *Catalog) *ddl {
	return &ddl{ctx: ctx, txn: txn, cat: cat.clone(), dirty: map[string]bool{}, dropped: map[string]bool{},
		seqDirty: map[string]bool{}, seqDrop: map[string]bool{}}
}

// putTable records t (new or changed) in the working catalog.
func (d *ddl) putTable(t *Table) {
	d.cat.tables[t.Name] = t
	d.cat.byID[t.ID] = t
	d.dirty[t.Name] = true
	delete(d.dropped, t.Name)
}

// dropTable removes the table named name from the working catalog.
func (d *ddl) dropTable(name string) {
	t := d.cat.tables[name]
	if t == nil {
		return
	}
	delete(d.cat.tables, name)
	delete(d.cat.byID, t.ID)
	delete(d.dirty, name)
	d.dropped[name] = true
}

// renameTable moves t to newName in the working catalog.
func (d *ddl) renameTable(t *Table, newName string) {
	old := t.Name
	delete(d.cat.tables, old)
	delete(d.dirty, old)
	d.dropped[old] = true
	t.Name = newName
	for _, other := range d.cat.tables {
		for i := range other.ForeignKeys {
			if other.ForeignKeys[i].RefTable == old {
				other.ForeignKeys[i].RefTable = newName
			}
		}
	}
	for _, s := range d.cat.seqs {
		if s.OwnerTable == old {
			s.OwnerTable = newName
		}
	}
	d.putTable(t)
}

func (d *ddl) putSequence(s *Sequence) {
	d.cat.seqs[s.Name] = s
	d.seqDirty[s.Name] = true
	delete(d.seqDrop, s.Name)
}

func (d *ddl) dropSequence(name string) {
	s := d.cat.seqs[name]
	if s == nil {
		return
	}
	delete(d.cat.seqs, name)
	delete(d.seqDirty, name)
	d.seqDrop[name] = true
	// The counter goes too; a NextVal racing with the drop may recreate
	// it, which leaves an unreferenced key behind and nothing worse.
	_ = d.txn.Delete(seqCounterKey(s.counter))
}

// commit writes every changed descriptor and a new catalog version.
func (d *ddl) commit() error {
	d.cat.reindex()
	for name := range d.dropped {
		if err := d.txn.Delete([]byte(tableDescPrefix + name)); err != nil {
			return txnErr(err)
		}
	}
	for name := range d.dirty {
		t := d.cat.tables[name]
		b, err := encodeTable(t, d.cat.tables)
		if err != nil {
			return sqlerr.Wrap(sqlerr.Internal, err, "encoding table %q: %v", name, err)
		}
		if err := d.txn.Put([]byte(tableDescPrefix+name), b); err != nil {
			return txnErr(err)
		}
	}
	for name := range d.seqDrop {
		if err := d.txn.Delete([]byte(seqDescPrefix + name)); err != nil {
			return txnErr(err)
		}
	}
	for name := range d.seqDirty {
		s := d.cat.seqs[name]
		sd := sequenceDesc{Name: s.Name, Counter: s.counter, Start: s.Start, Increment: s.Increment, Min: s.Min, Max: s.Max}
		if t := d.cat.tables[s.OwnerTable]; t != nil {
			sd.OwnerTableID = t.ID
			if o, ok := t.Column(s.OwnerColumn); ok {
				sd.OwnerColumnID = t.Columns[o].ID
			}
		}
		b, err := json.Marshal(sd)
		if err != nil {
			return sqlerr.Wrap(sqlerr.Internal, err, "encoding sequence %q: %v", name, err)
		}
		if err := d.txn.Put([]byte(seqDescPrefix+name), b); err != nil {
			return txnErr(err)
		}
	}
	return bumpVersion(d.ctx, d.txn)
}

// bumpVersion rewrites the version key: the DDL counter plus 8 random bytes,
// so a version token never names two different catalogs even when DDL is
// rolled back. It reads the key first, so concurrent DDL conflicts.
func bumpVersion(ctx context.Context, txn *kvtxn.Txn) error {
	b, found, err := txn.Get(ctx, keyVersion)
	if err != nil {
		return txnErr(err)
	}
	var n uint64
	if found && len(b) >= 8 {
		n = binary.BigEndian.Uint64(b)
	}
	v := binary.BigEndian.AppendUint64(nil, n+1)
	var r [8]byte
	if _, err := rand.Read(r[:]); err != nil {
		return sqlerr.Wrap(sqlerr.Internal, err, "catalog version: %v", err)
	}
	return txnErr(txn.Put(keyVersion, append(v, r[:]...)))
}

// allocTableID hands out the next table id (transactional: a rolled-back id
// is handed out again, which is safe because its rows were never written).
func allocTableID(ctx context.Context, txn *kvtxn.Txn) (uint32, error) {
	b, found, err := txn.Get(ctx, keyNextID)
	if err != nil {
		return 0, txnErr(err)
	}
	id := uint32(firstTableID)
	if found {
		if len(b) != 4 {
			return 0, corrupt(string(keyNextID), fmt.Errorf("%d bytes, want 4", len(b)))
		}
		id = binary.BigEndian.Uint32(b)
	}
	if id == ^uint32(0) {
		return 0, sqlerr.New(sqlerr.ProgramLimitExceeded, "table ids exhausted")
	}
	if err := txn.Put(keyNextID, binary.BigEndian.AppendUint32(nil, id+1)); err != nil {
		return 0, txnErr(err)
	}
	return id, nil
}
