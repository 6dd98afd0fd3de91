package imageopt_test

import (
	"fmt"
	"net/url"

	"cairn.dev/cairn/gatewayd/edge/imageopt"
)

func ExampleParse() {
	q, _ := url.ParseQuery("height=200&width=300&fit=cover&format=jpg&utm_source=mail")
	p, ok, err := imageopt.Parse(q)
	fmt.Println(p.Canonical(), ok, err)

	_, ok, _ = imageopt.Parse(url.Values{"utm_source": {"mail"}})
	fmt.Println(ok)

	_, _, err = imageopt.Parse(url.Values{"width": {"10000"}})
	fmt.Println(err)
	// Output:
	// width=300&height=200&fit=cover&format=jpeg true <nil>
	// false
	// imageopt: invalid parameter: width is 10000, the limit (max_width) is 1..4096
}
