// Package gwconfig is the gateway's declarative configuration document: its
// types (Document and the structs it holds), the YAML parser that fills
// defaults, and the validation that rejects a whole document with errors
// naming each problem's path in it.
//
// Read a document with Parse, which decodes strictly (unknown fields,
// duplicate keys and values of the wrong type are errors), fills defaults
// (FillDefaults) and validates (Validate):
//
//	doc, err := gwconfig.Parse(src)
//	if err != nil {
//		// err is an Errors: every problem, sorted by path, e.g.
//		// routes[2].rate_limits[0].per: must be at least 1s (line 14)
//	}
//
// A Document built in Go needs FillDefaults then Validate. Marshal writes a
// document back as YAML that Parse reads to an equal document (the bytes
// stored in raftkv); Fingerprint hashes one upstream's spec so a reload can
// keep the pools of unchanged upstreams. ParsePattern splits a path pattern
// for package route.
//
// Limits: a document is at most MaxDocumentBytes; lists have the Max*
// counts below; aliases may not expand a document beyond about a million
// nodes. Documents are plain values: not safe for concurrent mutation, safe
// to share read-only.
package gwconfig
