package transform_test

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"

	"cairn.dev/cairn/gatewayd/gwconfig"
	"cairn.dev/cairn/gatewayd/transform"
)

func ExampleTransform_ApplyRequest() {
	t, err := transform.Compile(&gwconfig.Transform{
		Headers: gwconfig.HeaderEdits{Add: map[string]string{"X-Gateway": "cairn"}},
		Query:   gwconfig.HeaderEdits{Remove: []string{"api_key"}},
		JSON: &gwconfig.JSONEdits{
			Remove: []string{"debug"},
			Rename: map[string]string{"mail": "contact.email"},
			Add:    map[string]any{"source": "gateway"},
		},
	})
	if err != nil {
		panic(err)
	}
	r := httptest.NewRequest("POST", "/users?api_key=k&page=1", strings.NewReader(`{"id":9007199254740993,"mail":"a@b","debug":true}`))
	r.Header.Set("Content-Type", "application/json")
	if err := t.ApplyRequest(r); err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(r.Body)
	fmt.Println(r.URL.RawQuery, r.Header.Get("X-Gateway"), r.ContentLength)
	fmt.Println(string(body))
	// Output:
	// page=1 cairn 68
	// {"id":9007199254740993,"contact":{"email":"a@b"},"source":"gateway"}
}
