package schema

import (
	"bytes"
	"testing"

	"cairn.dev/cairn/raftkv/sql/value"
)

func sampleTable() *Table {
	def := value.NewInt(7)
	return &Table{ID: 100, Name: "t", PrimaryKeyName: "t_pkey", NextColumnID: 4, NextIndexID: 3,
		Columns: []Column{
			{ID: 1, Name: "id", Type: value.Int4, NotNull: true, Sequence: "t_id_seq", Default: "nextval('t_id_seq')"},
			{ID: 3, Name: "n", Type: value.Int8, AddedDefault: &def, Default: "7"},
			{ID: 2, Name: "s", Type: value.Type{Kind: value.KindText, Length: 10, Varchar: true}},
		},
		PrimaryKey: []int{0},
		Indexes:    []Index{{ID: 2, Name: "t_s_key", Columns: []int{2}, Unique: true, Constraint: true}},
		Checks:     []Check{{Name: "t_n_check", Expr: "n > 0", Columns: []int{1}}},
	}
}

func TestDescriptorRoundTrip(t *testing.T) {
	tb := sampleTable()
	b, err := encodeTable(tb, map[string]*Table{"t": tb})
	if err != nil {
		t.Fatal(err)
	}
	got, fks, err := decodeTable(b)
	if err != nil || len(fks) != 0 {
		t.Fatal(err, fks)
	}
	b2, err := encodeTable(got, map[string]*Table{"t": got})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, b2) {
		t.Fatalf("round trip changed the descriptor:\n%s\n%s", b, b2)
	}
	if got.Columns[1].AddedDefault == nil || got.Columns[1].AddedDefault.Int != 7 {
		t.Fatalf("added default %+v", got.Columns[1].AddedDefault)
	}
}

// FuzzDecodeTable checks that no stored descriptor, however corrupt, makes
// decoding panic, and that what decodes re-encodes to a descriptor that
// decodes the same.
func FuzzDecodeTable(f *testing.F) {
	tb := sampleTable()
	b, err := encodeTable(tb, map[string]*Table{"t": tb})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"id":1,"name":"x","columns":[{"id":1,"name":"a"}],"primary_key":[2]}`))
	f.Add([]byte(`{"columns":[{"id":1,"added_default":"AAAA"}],"primary_key":[1],"checks":[{"columns":[9]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, _, err := decodeTable(b)
		if err != nil {
			return
		}
		b2, err := encodeTable(got, map[string]*Table{got.Name: got})
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if _, _, err := decodeTable(b2); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
	})
}
