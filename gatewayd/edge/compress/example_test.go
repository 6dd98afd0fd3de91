package compress_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"cairn.dev/cairn/gatewayd/edge/compress"
)

func ExampleNegotiate() {
	fmt.Printf("%q\n", compress.Negotiate("gzip, deflate, br, zstd"))
	fmt.Printf("%q\n", compress.Negotiate("br;q=0.5, gzip"))
	fmt.Printf("%q\n", compress.Negotiate("*;q=0"))
	// Output:
	// "br"
	// "gzip"
	// ""
}

func ExampleHandler() {
	page := strings.Repeat("<p>hello from the edge</p>\n", 100)
	site := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("ETag", `"v1"`)
		io.WriteString(w, page)
	})
	h := compress.Handler(site, compress.Options{})

	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Accept-Encoding", "gzip, br")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Header().Get("Content-Encoding"), w.Header().Get("Vary"), w.Header().Get("ETag"), w.Body.Len() < len(page))
	// Output:
	// br Accept-Encoding W/"v1" true
}
