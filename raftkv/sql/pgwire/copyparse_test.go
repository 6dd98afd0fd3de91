package pgwire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// parseAll parses data with the given format into rows (nil = NULL).
func parseAll(data string, cols int, f CopyFormat) ([][]*string, error) {
	p, err := newCopyParser(bufio.NewReaderSize(strings.NewReader(data), 16), cols, f)
	if err != nil {
		return nil, err
	}
	var rows [][]*string
	for {
		r, err := p.next()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, r)
	}
}

// show renders rows with NULL as <nil>.
func show(rows [][]*string) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		for _, f := range r {
			if f == nil {
				out[i] = append(out[i], "<nil>")
			} else {
				out[i] = append(out[i], *f)
			}
		}
	}
	return out
}

func TestCopyParser(t *testing.T) {
	text, csv, bin := CopyFormat{}, CopyFormat{Kind: CopyCSV}, CopyFormat{Kind: CopyBinary}
	binRow := func(fields ...[]byte) string {
		b := binary.BigEndian.AppendUint16(nil, uint16(len(fields)))
		for _, f := range fields {
			if f == nil {
				b = binary.BigEndian.AppendUint32(b, 0xffffffff)
				continue
			}
			b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
			b = append(b, f...)
		}
		return string(b)
	}
	header := "PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x02xx"
	cases := []struct {
		name string
		data string
		cols int
		f    CopyFormat
		want [][]string
		code string
	}{
		{"text basic", "a\tb\n\\N\t\n", 2, text, [][]string{{"a", "b"}, {"<nil>", ""}}, ""},
		{"text escapes", `\b\f\n\r\t\v\\\q\0\101\1012\x4a\x4A1\xg` + "\n", 1, text, [][]string{{"\b\f\n\r\t\v\\q\x00AA2JJ1xg"}}, ""},
		{"text escaped delimiter", "a\\\tb\tc\n", 2, text, [][]string{{"a\tb", "c"}}, ""},
		{"text no final newline", "a\tb", 2, text, [][]string{{"a", "b"}}, ""},
		{"text crlf", "a\tb\r\nc\td\r\n", 2, text, [][]string{{"a", "b"}, {"c", "d"}}, ""},
		{"text end marker", "a\n\\.\nb\n", 1, text, [][]string{{"a"}}, ""},
		{"text header", "h\nx\n", 1, CopyFormat{Header: true}, [][]string{{"x"}}, ""},
		{"text quoted NULL is text", "\\\\N\n", 1, text, [][]string{{`\N`}}, ""},
		{"text trailing backslash", "a\\\n", 1, text, nil, "22P04"},
		{"text too few", "a\n", 2, text, nil, "22P04"},
		{"text too many", "a\tb\tc\n", 2, text, nil, "22P04"},
		{"text long line", strings.Repeat("x", 100) + "\n", 1, text, [][]string{{strings.Repeat("x", 100)}}, ""},
		{"text zero columns", "\n\n", 0, text, [][]string{nil, nil}, ""},
		{"csv basic", "a,b\n,\"\"\n", 2, csv, [][]string{{"a", "b"}, {"<nil>", ""}}, ""},
		{"csv quotes", "\"a,\"\"b\"\"\",c\n", 2, csv, [][]string{{`a,"b"`, "c"}}, ""},
		{"csv multiline", "\"a\nb\r\nc\",d\r\n", 2, csv, [][]string{{"a\nb\r\nc", "d"}}, ""},
		{"csv header and delimiter", "x;y\n1;2\n", 2, CopyFormat{Kind: CopyCSV, Header: true, Delimiter: ';'}, [][]string{{"1", "2"}}, ""},
		{"csv quoted end marker is data", "\"\\.\"\n", 1, csv, [][]string{{`\.`}}, ""},
		{"csv end marker", "a\n\\.\n", 1, csv, [][]string{{"a"}}, ""},
		{"csv backslash is data", "a\\N,\\N\n", 2, csv, [][]string{{`a\N`, `\N`}}, ""},
		{"csv unterminated", "\"abc\n", 1, csv, nil, "22P04"},
		{"csv too many", "a,b\n", 1, csv, nil, "22P04"},
		{"binary", header + binRow([]byte("ab"), nil) + binRow([]byte{}, []byte{0, 1}) + "\xff\xff", 2, bin, [][]string{{"ab", "<nil>"}, {"", "\x00\x01"}}, ""},
		{"binary without trailer", header + binRow([]byte("a")), 1, bin, [][]string{{"a"}}, ""},
		{"binary bad signature", "PGCOPY\nxx", 1, bin, nil, "22P04"},
		{"binary empty", "", 1, bin, nil, "22P04"},
		{"binary oids", "PGCOPY\n\xff\r\n\x00\x00\x01\x00\x00\x00\x00\x00\x00", 1, bin, nil, "22P04"},
		{"binary field count", header + binRow([]byte("a"), []byte("b")), 1, bin, nil, "22P04"},
		{"binary truncated field", header + "\x00\x01\x00\x00\x00\x05ab", 1, bin, nil, "22P04"},
		{"binary negative length", header + "\x00\x01\xff\xff\xff\xfe", 1, bin, nil, "22P04"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := parseAll(tc.data, tc.cols, tc.f)
			if tc.code != "" {
				if sqlerr.Code(err) != tc.code {
					t.Fatalf("got %v, want SQLSTATE %s", err, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := show(rows); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
	for _, f := range []CopyFormat{{Delimiter: '\\'}, {Kind: CopyCSV, Delimiter: '"'}, {Delimiter: '\n'}, {Kind: 9}} {
		if _, err := newCopyParser(bufio.NewReader(strings.NewReader("")), 1, f); err == nil {
			t.Errorf("format %+v accepted", f)
		}
	}
}

// encodeText and encodeCSV write rows as a PostgreSQL client would.
func encodeText(rows [][]*string) string {
	var b strings.Builder
	r := strings.NewReplacer("\\", `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`)
	for _, row := range rows {
		for i, f := range row {
			if i > 0 {
				b.WriteByte('\t')
			}
			if f == nil {
				b.WriteString(`\N`)
			} else {
				b.WriteString(r.Replace(*f))
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func encodeCSV(rows [][]*string) string {
	var b strings.Builder
	for _, row := range rows {
		for i, f := range row {
			if i > 0 {
				b.WriteByte(',')
			}
			if f != nil {
				b.WriteString(`"` + strings.ReplaceAll(*f, `"`, `""`) + `"`)
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func encodeBinary(rows [][]*string) string {
	b := []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	for _, row := range rows {
		b = binary.BigEndian.AppendUint16(b, uint16(len(row)))
		for _, f := range row {
			if f == nil {
				b = binary.BigEndian.AppendUint32(b, 0xffffffff)
				continue
			}
			b = binary.BigEndian.AppendUint32(b, uint32(len(*f)))
			b = append(b, *f...)
		}
	}
	return string(append(b, 0xff, 0xff))
}

// TestCopyRoundTrip encodes random rows in each format and parses them back.
func TestCopyRoundTrip(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	alphabet := []byte("ab,\"\\\t\n\r .N\x00é")
	for iter := range 300 {
		cols := 1 + rng.IntN(4)
		rows := make([][]*string, rng.IntN(5))
		for i := range rows {
			rows[i] = make([]*string, cols)
			for j := range rows[i] {
				if rng.IntN(5) == 0 {
					continue
				}
				s := make([]byte, rng.IntN(6))
				for k := range s {
					s[k] = alphabet[rng.IntN(len(alphabet))]
				}
				str := string(s)
				rows[i][j] = &str
			}
		}
		for _, tc := range []struct {
			f    CopyFormat
			data string
		}{{CopyFormat{}, encodeText(rows)}, {CopyFormat{Kind: CopyCSV}, encodeCSV(rows)}, {CopyFormat{Kind: CopyBinary}, encodeBinary(rows)}} {
			got, err := parseAll(tc.data, cols, tc.f)
			if err != nil {
				t.Fatalf("seed %d iteration %d %v: %v (data %q)", seed, iter, tc.f.Kind, err, tc.data)
			}
			if !reflect.DeepEqual(show(got), show(rows)) {
				t.Fatalf("seed %d iteration %d %v: got %q, want %q (data %q)", seed, iter, tc.f.Kind, show(got), show(rows), tc.data)
			}
		}
	}
}

func FuzzCopyParser(f *testing.F) {
	f.Add("a\tb\n\\N\t\\x41\n", uint8(0), uint8(2))
	f.Add("\"a\nb\",c\n", uint8(1), uint8(2))
	f.Add(encodeBinary([][]*string{{nil}}), uint8(2), uint8(1))
	f.Fuzz(func(t *testing.T, data string, kind, cols uint8) {
		_, _ = parseAll(data, int(cols%5), CopyFormat{Kind: CopyKind(kind % 3)})
	})
}
