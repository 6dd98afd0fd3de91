package transform

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/gatewayd/gwconfig"
)

func TestJSONEdits(t *testing.T) {
	tests := []struct {
		name  string
		edits gwconfig.JSONEdits
		in    string
		want  string // "" means unchanged
	}{
		{"remove top", gwconfig.JSONEdits{Remove: []string{"b"}},
			`{"a":1,"b":2,"c":3}`, `{"a":1,"c":3}`},
		{"remove nested keeps order", gwconfig.JSONEdits{Remove: []string{"user.password"}},
			`{"z":0,"user":{"name":"x","password":"p","age":3},"a":1}`, `{"z":0,"user":{"name":"x","age":3},"a":1}`},
		{"remove missing is no change", gwconfig.JSONEdits{Remove: []string{"user.email", "nope"}},
			`{"user":{"name":"x"}}`, ""},
		{"remove through scalar is no change", gwconfig.JSONEdits{Remove: []string{"a.b"}},
			`{"a":5}`, ""},
		{"remove duplicates", gwconfig.JSONEdits{Remove: []string{"a"}},
			`{"a":1,"b":2,"a":3}`, `{"b":2}`},
		{"rename moves to end", gwconfig.JSONEdits{Rename: map[string]string{"a": "x"}},
			`{"a":1,"b":2}`, `{"b":2,"x":1}`},
		{"rename into nested creates", gwconfig.JSONEdits{Rename: map[string]string{"email": "contact.email"}},
			`{"email":"e@x","n":1}`, `{"n":1,"contact":{"email":"e@x"}}`},
		{"rename out of nested", gwconfig.JSONEdits{Rename: map[string]string{"a.b": "c"}},
			`{"a":{"b":[1,2],"k":true},"c":null}`, `{"a":{"k":true},"c":[1,2]}`},
		{"rename missing is no change", gwconfig.JSONEdits{Rename: map[string]string{"q": "r"}},
			`{"a":1}`, ""},
		{"add replaces in place", gwconfig.JSONEdits{Add: map[string]any{"b": "new"}},
			`{"a":1,"b":2,"c":3}`, `{"a":1,"b":"new","c":3}`},
		{"add appends", gwconfig.JSONEdits{Add: map[string]any{"d": 4}},
			`{"a":1}`, `{"a":1,"d":4}`},
		{"add creates intermediates", gwconfig.JSONEdits{Add: map[string]any{"meta.gw.node": "n1"}},
			`{"a":1}`, `{"a":1,"meta":{"gw":{"node":"n1"}}}`},
		{"add through scalar skipped", gwconfig.JSONEdits{Add: map[string]any{"a.b": 1}},
			`{"a":"s"}`, ""},
		{"add object value sorted", gwconfig.JSONEdits{Add: map[string]any{"o": map[string]any{"z": 1, "a": []any{true, nil}}}},
			`{}`, `{"o":{"a":[true,null],"z":1}}`},
		{"parent then child add", gwconfig.JSONEdits{Add: map[string]any{"a": map[string]any{"x": 1}, "a.y": 2}},
			`{}`, `{"a":{"x":1,"y":2}}`},
		{"order remove rename add", gwconfig.JSONEdits{Remove: []string{"a"}, Rename: map[string]string{"b": "a"}, Add: map[string]any{"b": 9}},
			`{"a":1,"b":2}`, `{"a":2,"b":9}`},
		{"numbers keep precision", gwconfig.JSONEdits{Remove: []string{"x"}},
			`{"big":123456789012345678901234567890,"f":1.000000000000000000001,"e":1E400,"x":1}`,
			`{"big":123456789012345678901234567890,"f":1.000000000000000000001,"e":1E400}`},
		{"untouched bytes kept", gwconfig.JSONEdits{Remove: []string{"x"}},
			`{"s":"caf\u00e9 <b>","n":{ "k" : [ 1 , 2 ] },"x":1}`, `{"s":"caf\u00e9 <b>","n":{ "k" : [ 1 , 2 ] }}`},
		{"key escapes", gwconfig.JSONEdits{Add: map[string]any{"k": 1}},
			`{"a\"b\n":1}`, `{"a\"b\u000a":1,"k":1}`},
		{"not an object", gwconfig.JSONEdits{Add: map[string]any{"k": 1}}, `[1,2]`, ""},
		{"invalid json", gwconfig.JSONEdits{Add: map[string]any{"k": 1}}, `{"a":}`, ""},
		{"trailing data", gwconfig.JSONEdits{Add: map[string]any{"k": 1}}, `{"a":1} {}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := Compile(&gwconfig.Transform{JSON: &tc.edits})
			require.NoError(t, err)
			out, changed := tr.EditJSON([]byte(tc.in))
			if tc.want == "" {
				require.False(t, changed)
				require.Equal(t, tc.in, string(out))
				return
			}
			require.True(t, changed)
			require.Equal(t, tc.want, string(out))
			require.True(t, json.Valid(out))
		})
	}
}

func TestCompileJSONErrors(t *testing.T) {
	for _, e := range []gwconfig.JSONEdits{
		{Remove: []string{""}},
		{Remove: []string{"a..b"}},
		{Rename: map[string]string{"a": "b."}},
		{Add: map[string]any{".a": 1}},
	} {
		_, err := Compile(&gwconfig.Transform{JSON: &e})
		require.ErrorIs(t, err, ErrBadPath, "%+v", e)
	}
	_, err := Compile(&gwconfig.Transform{JSON: &gwconfig.JSONEdits{Add: map[string]any{"a": func() {}}}})
	require.ErrorIs(t, err, ErrBadValue)
	// YAML may hand maps with non-string keys.
	tr, err := Compile(&gwconfig.Transform{JSON: &gwconfig.JSONEdits{Add: map[string]any{"a": map[any]any{1: "x"}}}})
	require.NoError(t, err)
	out, _ := tr.EditJSON([]byte(`{}`))
	require.Equal(t, `{"a":{"1":"x"}}`, string(out))
}

// FuzzJSONEdit: edits never panic, never turn a valid object into invalid
// JSON, and never change the value of a member no edit names.
func FuzzJSONEdit(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":{"c":2}}`, `{}`, `[]`, `{"a":{"a":{"a":1}}}`, `{"x":"\ud800"}`, `{"a":1,"a":2}`, `nul`, `{"b":1e999}`} {
		f.Add([]byte(s), "a.b", "b", "c.d")
	}
	f.Fuzz(func(t *testing.T, body []byte, remove, renameTo, add string) {
		e := gwconfig.JSONEdits{Remove: []string{remove}, Rename: map[string]string{"b": renameTo}, Add: map[string]any{add: "v"}}
		tr, err := Compile(&gwconfig.Transform{JSON: &e})
		if err != nil {
			return
		}
		// The member scanner agrees with encoding/json.
		var want map[string]json.RawMessage
		wantErr := json.Unmarshal(body, &want)
		o, err := parseObject(body)
		require.Equal(t, wantErr == nil && want != nil, err == nil, "parse of %q: %v / %v", body, wantErr, err)
		if err == nil {
			last := map[string]string{}
			for _, m := range o.members {
				last[m.key] = string(m.raw)
			}
			require.Len(t, last, len(want))
			for k, v := range want {
				require.Equal(t, string(v), last[k], "member %q of %q", k, body)
			}
		}
		out, changed := tr.EditJSON(body)
		if !changed {
			require.Equal(t, body, out)
			return
		}
		require.True(t, json.Valid(out), "edited %q into invalid %q", body, out)
		var before, after map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(body, &before))
		require.NoError(t, json.Unmarshal(out, &after))
		touched := func(k string) bool {
			for _, p := range []string{remove, "b", renameTo, add} {
				if k == p || len(p) > len(k) && p[:len(k)+1] == k+"." {
					return true
				}
			}
			return false
		}
		for k, v := range before {
			if !touched(k) {
				require.Equal(t, string(v), string(after[k]), "member %q", k)
			}
		}
	})
}
