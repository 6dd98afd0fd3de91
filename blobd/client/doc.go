// Package client is the Go client of blobd, cairn's replicated blob store.
//
// A Client connects to every configured endpoint. Metadata writes (buckets,
// deletes, multipart bookkeeping, tiers, access keys) go to the metadata
// Raft leader, which the client finds by asking each node's
// ClusterService.Status; data transfers (Put, Get, UploadPart, Copy) and
// reads go round robin over the ready nodes, spreading the work of chunking,
// checksumming and fanning out to volume servers that any node does. Unary
// calls wait for a ready node, bounded by their context; those whose
// context has no deadline get Config.RequestTimeout. Transfers are bounded
// by their context only: a large object may take longer than any fixed
// timeout.
//
// # Retry policy
//
//   - Reads (Stat, Bucket, Buckets, List, ListParts, ListUploads, admin
//     listings, Status) are retried with backoff on codes.Unavailable until
//     the deadline; so is opening a Get, until its first message arrives.
//   - Writes whose repetition has the same effect (Delete, DeleteBucket,
//     PutLifecycle, SetTier, AbortMultipartUpload, DeleteAccessKey) are
//     retried on Unavailable too.
//   - Other writes (Put, UploadPart, Copy, CreateBucket,
//     CreateMultipartUpload, CompleteMultipartUpload, Restore,
//     CreateAccessKey) are retried only when the failure says they were not
//     applied (rpcerr.TryOther: no leader, not the leader, shutting down,
//     unreachable); a Put or UploadPart is retried so only when its body can
//     be read again (an io.Seeker). When one fails otherwise with
//     Unavailable, DeadlineExceeded or Canceled its outcome is unknown:
//     IsUnknownOutcome reports true. NOT_ENOUGH_SERVERS and
//     DATA_UNAVAILABLE say nothing visible was stored.
//
// Errors are *Error values: they keep the gRPC status and match, with
// errors.Is, a sentinel chosen by the rpcerr reason (ErrObjectNotFound,
// ErrBadDigest, …), never by the message text.
//
// # Example
//
//	c, err := client.New(client.Config{Endpoints: []string{"127.0.0.1:7500"}})
//	if err != nil { ... }
//	defer c.Close()
//	_, err = c.CreateBucket(ctx, "photos")
//	f, _ := os.Open("cat.jpg")
//	obj, err := c.Put(ctx, "photos", "cats/1.jpg", f, -1, client.WithContentType("image/jpeg"))
//	r, err := c.Get(ctx, "photos", "cats/1.jpg")
//	defer r.Close()
//	io.Copy(w, r) // r.Object() is the record: size, etag, headers
//	for e, err := range c.List(ctx, "photos", client.WithPrefix("cats/")) { ... }
//
// Files larger than a few chunks upload faster as parallel parts:
// PutMultipart splits a body into parts (WithPartSize) and uploads
// WithConcurrency of them at once, aborting the upload on failure.
package client
