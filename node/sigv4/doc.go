// Package sigv4 verifies and makes AWS Signature Version 4 signatures, the
// authentication of the HTTP APIs that cairn speaks with outside tools:
// queued's SQS API (query protocol: form-encoded POST bodies) and blobd's S3
// API. It follows AWS's published signing process; nothing in it talks to AWS.
//
// # Verifying
//
// A daemon builds one Verifier from a Config and calls Verify at the start of
// every request, before it reads the body:
//
//	v, err := sigv4.NewVerifier(sigv4.Config{
//		Credentials: sigv4.StaticCredentials{"AKID": {SecretAccessKey: "…", Principal: "ops"}},
//		Service:     "sqs",
//		Region:      "us-east-1", // "" accepts any region
//	})
//	…
//	p, err := v.Verify(r) // p.Name is "ops"; r.Body is readable again
//
// Verify accepts both forms a client may use: the Authorization header
// ("AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…" with
// X-Amz-Date or Date) and presigned URLs (X-Amz-Algorithm, X-Amz-Credential,
// X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Signature in the
// query). It rebuilds the canonical request from what arrived on the wire:
// the path exactly as sent (S3: decoded and encoded once; every other
// service: dot segments and repeated slashes removed, then encoded again),
// the query sorted by encoded key and value, the signed headers with their
// values trimmed and inner runs of spaces collapsed, and the payload hash.
//
// The payload hash is X-Amz-Content-Sha256 when the client sent one, else
// the SHA-256 of the body, which Verify then reads (at most
// Config.MaxBodyBytes) and puts back in r.Body. A claimed hash is checked
// against the body too: at once for a body that fits in MaxBodyBytes, else
// by a reader in r.Body that fails with ErrPayloadHashMismatch at its end,
// so a handler of large bodies must read to io.EOF before it commits
// anything. UNSIGNED-PAYLOAD (S3) and aws-chunked uploads signed chunk by
// chunk (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) are accepted only when the
// Config allows them; for the latter r.Body becomes a decoder that checks
// every chunk's signature before it hands out the chunk's bytes.
//
// # Errors
//
// Every failure wraps one sentinel of errors.go, so that the protocol layer
// of a daemon maps it to the AWS error code its clients expect
// (ErrSignatureMismatch to SignatureDoesNotMatch, ErrUnknownAccessKey to
// InvalidClientTokenId or InvalidAccessKeyId, …). A signature mismatch is a
// *MismatchError carrying the canonical request and string to sign the
// server computed, which S3 returns in its error body.
//
// # Signing
//
// Sign and Presign sign a request for cairn's own clients, for tests, and
// for the presigned URLs that blobd hands out. They share the canonical form
// with Verify; the tests check both against an independent implementation.
package sigv4
