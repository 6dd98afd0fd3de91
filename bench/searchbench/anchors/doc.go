// Package anchors holds the engines searchd is compared with, as
// searchbench.Targets: Bleve v2 in-process (NewBleve), Sphinx 2.2's searchd
// over SphinxQL (NewSphinx) and Xapian 1.4 through its Python bindings,
// served by xapian-tcpsrv (NewXapian). It is bench-only code: nothing
// outside bench/ imports it, so the anchors stay out of the cairn binary;
// bench/searchbench/anchorbench is the program bench/search-compare.sh
// runs them with.
//
// Each anchor gets the fields of searchbench.Mapping with its own defaults
// for English text (a stemmer; stop words only where the engine's English
// setup has them) and BM25 ranking. The kinds an engine cannot answer are
// left out (Supports): Sphinx 2.2 and Xapian 1.4 have no fuzzy (edit
// distance) matching.
package anchors
