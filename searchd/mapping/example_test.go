package mapping_test

import (
	"fmt"

	"cairn.dev/cairn/searchd/mapping"
)

func ExampleMapping_ParseDocument() {
	m, err := mapping.Parse([]byte(`{"properties": {"title": {"type": "text"}, "price": {"type": "double"}}}`))
	if err != nil {
		panic(err)
	}
	doc, add, err := m.ParseDocument("1", []byte(`{"title": "Running Shoes", "price": 59.5, "brand": "Acme"}`), nil)
	if err != nil {
		panic(err)
	}
	for _, fv := range doc.Fields {
		fmt.Printf("%s %s tokens=%d float=%v keyword=%q\n", fv.Path, fv.Type, len(fv.Tokens), fv.Float, fv.Keyword)
	}
	fmt.Println(string(add.JSON()))
	// Output:
	// title text tokens=2 float=0 keyword=""
	// price double tokens=0 float=59.5 keyword=""
	// brand text tokens=1 float=0 keyword=""
	// brand.keyword keyword tokens=1 float=0 keyword="Acme"
	// {"properties":{"brand":{"type":"text","fields":{"keyword":{"type":"keyword","ignore_above":256}}}}}
}
