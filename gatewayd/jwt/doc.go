// Package jwt verifies and signs JSON Web Tokens (RFC 7519) in the JWS compact
// serialization (RFC 7515) for the gateway, following the JWT best current
// practices of RFC 8725. It is written on the standard library's crypto
// packages only.
//
// # Verifying
//
// NewVerifier turns the document's jwt_providers into a Verifier: each
// provider's keys are parsed once (inline PEM, files holding a PEM public key,
// a certificate, a JWK or a JWKS, base64 HMAC secrets, the cluster issuer key
// of Options.ClusterKey) and JWKS URLs are fetched and refreshed by background
// goroutines that Close stops. Verify is safe for concurrent use and does no
// I/O: it checks, in order,
//
//   - the token is at most 16 KiB, has exactly three base64url parts without
//     padding, and its header and claims are JSON objects without duplicate
//     member names;
//   - alg is a supported algorithm and never "none"; crit is refused; typ, if
//     present, is "JWT" or "at+jwt";
//   - iss names one of the providers passed to Verify, and alg is in that
//     provider's allowlist;
//   - a key of the provider whose type matches alg's family (an RSA key never
//     verifies an HS token, an HMAC secret never an RS one) and whose kid
//     matches verifies the signature (ECDSA signatures must be the raw r||s
//     form of RFC 7518, of exactly the curve's length);
//   - exp is present and not past, nbf and iat not in the future, each with the
//     provider's leeway; exp-iat is at most max_lifetime when set; aud contains
//     one of the provider's audiences when it has any.
//
// Verify remembers recently verified tokens in a fixed-size, lock-free cache
// (Options.CacheSize): a client repeating its token costs a hash and a
// comparison, not a signature check. A hit still rechecks exp, nbf and iat
// against the clock, is dropped when the JWKS that verified it is replaced,
// and is used only when the same provider would accept the token first.
//
// A token whose kid no key of a JWKS provider has asks for one early refetch
// of that provider's key set (at most one every 10 s); the token itself fails
// with ErrUnknownKey, Verify never waits for the network.
//
// Errors match the package's sentinels with errors.Is; Description gives the
// short text safe to send back in WWW-Authenticate. BearerToken takes the
// token from a request's Authorization header.
//
// # Signing
//
// Sign makes a token for every supported algorithm (the cluster's `cairn
// gateway token` and the tests use it), LoadSigningKey reads a PKCS#8 PEM
// private key and PublicKeyID names a public key by its RFC 7638 thumbprint,
// the kid Sign callers put in the header.
package jwt
