// Package compress negotiates and applies HTTP content codings (br, zstd,
// gzip) for the edge.
//
// Negotiate picks a coding from a request's Accept-Encoding, honouring
// q-values; Compressible says whether a response of a content type and
// size is worth compressing; NewWriter returns an encoder for one coding;
// Handler wraps an http.Handler so that its eligible responses are
// compressed on the fly:
//
//	h := compress.Handler(next, compress.Options{})
//
// Handler never encodes a response twice (one that already has a
// Content-Encoding passes through), never touches a Range request's
// response, a 206, a response with Cache-Control: no-transform, nor one
// smaller than Options.MinSize. A compressed response loses its
// Content-Length, gains Content-Encoding and Vary: Accept-Encoding, and a
// strong ETag becomes weak (W/"..."), so that conditional requests still
// match under weak comparison while no strong validator names two
// different byte sequences.
//
// Every function here is safe for concurrent use. Encoders are pooled:
// a writer returned by NewWriter must be closed, and is not used after.
package compress
