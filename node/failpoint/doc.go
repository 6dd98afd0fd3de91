// Package failpoint lets tests arm named points in daemon code to panic, exit or
// stall, to prove that a crash or a stall at that exact instant is survived.
//
// Code marks a point with Inject:
//
//	failpoint.Inject("raftkv/after-apply")
//
// Inject does something only in binaries built with the "failpoints" build tag
// (go build -tags failpoints); otherwise it is an empty function that the compiler
// inlines away, so production builds pay nothing.
//
// Points are armed with terms (see Arm): from the CAIRN_FAILPOINTS environment
// variable at start-up ("name=term;name=term"), or over the admin HTTP server at
// /debug/failpoints (GET lists, PUT /debug/failpoints/<name> with the term as body
// arms, DELETE disarms).
package failpoint
