// Package searchbench measures full-text search engines with the workload
// of `cairn bench search`: a corpus of Debian package descriptions (`apt-cache
// dumpavail`, with long descriptions from apt's Translation-en lists when
// present; fields package, title, description, section, priority,
// installed_size, maintainer, version), replicated with new ids up to
// Config.Docs, indexed in batches by Config.Writers writers (documents per
// second, to the end of a refresh), then queried by Config.Clients
// concurrent clients for Config.Duration with a mix of term, phrase, fuzzy,
// prefix and faceted queries (p50/p99 per kind, overall QPS), and the
// index's size on disk.
//
// A Target is the engine under test. This package has searchd's engine as
// a library (InProcess) and a searchd cluster over gRPC (Cluster); the
// anchors it is compared with — Bleve, Sphinx and Xapian — are in
// bench/searchbench/anchors, so that they stay out of the cairn binary.
// Every target gets the same documents and the same queries (Generate,
// from the corpus and Config.Seed); ESBody is the Elasticsearch body of a
// query.
//
//	docs, _, err := searchbench.LoadApt(ctx)
//	t, err := searchbench.NewInProcess(dir, 1)
//	res, err := searchbench.Run(ctx, searchbench.DefaultConfig(), docs, t)
//	searchbench.WriteTable(os.Stdout, res)
package searchbench
