package analysis_test

import (
	"fmt"

	"cairn.dev/cairn/searchd/analysis"
)

func ExampleNewRegistry() {
	reg, err := analysis.NewRegistry([]byte(`{
	  "analyzer": {"products": {"tokenizer": "standard", "filter": ["lowercase", "syn", "porter2"]}},
	  "filter": {
	    "syn": {"type": "synonym", "synonyms": ["laptop, notebook", "tv => television"]},
	    "porter2": {"type": "stemmer", "language": "english"}
	  }}`))
	if err != nil {
		panic(err)
	}
	a, _ := reg.Lookup("products")
	for _, tok := range a.Analyze("Cheap TV and Laptops", nil) {
		fmt.Println(tok.Term, tok.Position)
	}
	// Output:
	// cheap 0
	// televis 1
	// and 2
	// laptop 3
}

func ExampleSurfaceForms() {
	fmt.Println(analysis.SurfaceForms("Running Cafés", nil))
	// Output: [running cafes]
}
