// Package s3 serves the Amazon S3 REST API over a blobd node: each node
// answers S3 clients (awscli, s3cmd, minio-go, the AWS SDKs) on its own
// HTTP(S) port by calling the node's object API in-process (the Backend
// interface, which *blobd.Server satisfies), so that chunking, replication,
// linearizable listings, forwarding to the metadata leader and the error
// contract are blobd's.
//
// A blobd daemon serves it with Attach, between blobd.New and Serve:
//
//	srv, err := blobd.New(cfg, logger) // cfg.S3Addr, S3CredentialsFile, S3Region
//	api, err := s3.Attach(srv)         // binds cfg.S3Addr; nil when empty
//	err = srv.Serve(ctx)               // serves gRPC and S3 until ctx ends
//
// Tests and other hosts build a Handler with NewHandler over any Backend.
//
// # Requests
//
// Buckets are addressed path-style (/bucket/key) or virtual-hosted-style
// (bucket.<domain>/key, for the Config's Domains: "localhost" and the
// listen address's host name by default). Every request is verified with
// node/sigv4 (service "s3", the configured region) before anything else is
// read: an Authorization header or a presigned URL (X-Amz-Expires; an
// expired one is AccessDenied "Request has expired"), with a signed payload
// hash, UNSIGNED-PAYLOAD, aws-chunked bodies signed chunk by chunk
// (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) or aws-chunked bodies with trailing
// checksums (STREAMING-UNSIGNED-PAYLOAD-TRAILER, the AWS SDKs' default).
// Access keys are the bootstrap keys of the configuration and those in
// blobd's metadata (disabled ones are refused). Any valid key may use any
// bucket: there are no ACLs or policies.
//
// Operations: ListBuckets, CreateBucket (a LocationConstraint must be the
// region), DeleteBucket, HeadBucket, GetBucketLocation, ListObjects (v1)
// and ListObjectsV2 (prefix, delimiter, marker, continuation-token,
// start-after, max-keys, encoding-type=url, fetch-owner), PutObject,
// GetObject (Range, also suffix ranges; If-Match, If-None-Match,
// If-Modified-Since, If-Unmodified-Since with S3's precedence; the
// response-* overrides), HeadObject, DeleteObject, DeleteObjects,
// CopyObject (metadata directive COPY or REPLACE, x-amz-copy-source-if-*),
// CreateMultipartUpload, UploadPart, UploadPartCopy, CompleteMultipartUpload,
// AbortMultipartUpload, ListParts, ListMultipartUploads (no delimiter),
// RestoreObject, Get/Put/DeleteBucketLifecycleConfiguration (prefix
// filters; Transition to STANDARD_IA or GLACIER, Expiration and
// AbortIncompleteMultipartUpload, in days), and, answered as a bucket
// without them would be, GetBucketVersioning, Get(Bucket|Object)Acl and
// the policy, CORS, tagging, encryption and website GETs. Writes take
// Content-MD5, x-amz-checksum-* (CRC32, CRC32C, CRC64NVME, SHA1, SHA256;
// verified before the commit), the stored headers (Content-Type,
// Cache-Control, Content-Disposition, Content-Encoding, Expires,
// x-amz-meta-*), x-amz-storage-class (STANDARD, STANDARD_IA, GLACIER: the
// hot, cool and archive tiers) and If-None-Match "*" / If-Match.
// Versioning, object lock, tagging, ACLs, policies, SSE and POST uploads
// from browser forms are not implemented (501 NotImplemented).
//
// Bodies stream both ways: an upload goes to the backend as it arrives
// (checked at its end against its length, hash, chunk signatures and
// checksums before the backend may commit it), a download is copied from
// the backend's lazy reader. XML request bodies are bounded
// (Config.MaxXMLBytes).
//
// # Errors
//
// Errors are S3's <Error> documents (Code, Message, Resource, RequestId)
// with S3's codes and statuses, mapped in one function (toError) from
// node/sigv4's sentinels and from the object API's rpcerr reasons: e.g.
// BUCKET_NOT_FOUND to NoSuchBucket 404, BAD_DIGEST to BadDigest 400,
// NOT_LEADER and NOT_ENOUGH_SERVERS to ServiceUnavailable 503 with
// Retry-After. Every response carries x-amz-request-id.
package s3
