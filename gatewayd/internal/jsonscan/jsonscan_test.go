package jsonscan

import (
	"encoding/json"
	"testing"
)

func TestValue(t *testing.T) {
	for _, c := range []struct {
		in   string
		at   int
		want string
	}{
		{`"a\"b" ,`, 0, `"a\"b"`},
		{`{"a":[1,{"b":"}"}]} x`, 0, `{"a":[1,{"b":"}"}]}`},
		{`[1,2],3`, 0, `[1,2]`},
		{`12.5e3,`, 0, `12.5e3`},
		{`true}`, 0, `true`},
		{`  null`, 2, `null`},
		{`"\\"x`, 0, `"\\"`},
	} {
		end := Value([]byte(c.in), c.at)
		if got := c.in[c.at:end]; got != c.want {
			t.Errorf("Value(%q, %d) = %q, want %q", c.in, c.at, got, c.want)
		}
	}
	if got := Space([]byte(" \t\r\nx"), 0); got != 4 {
		t.Errorf("Space = %d, want 4", got)
	}
}

// FuzzValue: on a valid JSON value (with trailing white space), Value ends
// exactly where the value ends.
func FuzzValue(f *testing.F) {
	for _, s := range []string{`{"a":"b"}`, `[1,"]",{}]`, `"x\"y"`, `-1.5e-3`, `null`, `{"k":{"n":[true,false]}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(s)
		if !json.Valid(b) {
			Value(b, Space(b, 0)) // must not panic on any index it is given
			return
		}
		start := Space(b, 0)
		end := Value(b, start)
		if end > len(b) || !json.Valid(b[start:end]) || Space(b, end) != len(b) {
			t.Fatalf("Value(%q) ended at %d", s, end)
		}
	})
}
