// Package blobbench measures S3 object stores with the workload of `cairn
// bench blob`: PUT and GET of whole objects of a few sizes (4 KiB, 1 MiB
// and 64 MiB by default) by Clients concurrent clients, each with its own
// HTTP connection, sending one request after another.
//
// It speaks plain S3 (path-style addressing, SigV4 with static
// credentials, a custom endpoint over http or https) through AWS's Go SDK,
// so the same client code measures blobd's S3 API and any other S3 server
// (bench/blob-compare.sh runs it against SeaweedFS's S3 gateway in the
// same run). Payloads are sent UNSIGNED-PAYLOAD by default (the client does
// not hash the body before sending it; SignPayload hashes it, as the AWS
// CLI does over plain http), and no flexible checksums are added, so both
// servers receive the same plain PUT.
//
// For every size the run writes objects (op put) and then reads them back
// (op get): Count objects per op, or as many as fit in Duration (then the
// reads cycle through the objects written). A GET counts as done only when
// the whole body has arrived and its length and CRC-32C match what was
// written: a wrong or short answer is counted in Result.Corrupt, never as a
// success, so a fast wrong server cannot win. Object contents are random
// (seeded), distinct per object, and the latency of a GET runs to its last
// byte.
//
// Target grpc runs the same workload and checks against blobd's own gRPC
// API (cairn.blobd.v1) through blobd/client, one client (own connections)
// per benchmark client, its bodies handed over unseekable so that a failed
// put is counted, not retried.
//
// Every run writes into Config.Bucket (created if missing, and removed at
// the end when the run created it) under a prefix unique to the run, and
// deletes its objects afterwards unless Keep is set.
//
//	cfg := blobbench.DefaultConfig()
//	cfg.Endpoints = []string{"https://127.0.0.1:17620"}
//	cfg.AccessKey, cfg.SecretKey = id, secret
//	cfg.TLS = tlsConfigTrustingTheClusterCA
//	results, err := blobbench.Run(ctx, cfg)
//	blobbench.WriteTable(os.Stdout, results...)
package blobbench
