package transcode

// The blank imports register the descriptors of every service under
// proto/cairn/<name>/v1 in protoregistry.GlobalFiles, and the google.rpc
// error detail types (ErrorInfo, BadRequest, RetryInfo, ...) in
// protoregistry.GlobalTypes so error details render as JSON. A new package
// there must be added here; TestEveryCairnServiceRegistered fails until it
// is. The daemons' peer and per-daemon raft protocols
// (proto/cairn/<daemon>/{peer,raft}/v1) are left out: they are not APIs. A
// descriptor being here exposes nothing by itself: only a route's transcode
// service is ever called.
import (
	_ "google.golang.org/genproto/googleapis/rpc/errdetails"

	_ "cairn.dev/cairn/proto/cairn/blobd/v1"
	_ "cairn.dev/cairn/proto/cairn/cached/v1"
	_ "cairn.dev/cairn/proto/cairn/cluster/v1"
	_ "cairn.dev/cairn/proto/cairn/edge/v1"
	_ "cairn.dev/cairn/proto/cairn/gatewayd/v1"
	_ "cairn.dev/cairn/proto/cairn/lbd/v1"
	_ "cairn.dev/cairn/proto/cairn/lockd/v1"
	_ "cairn.dev/cairn/proto/cairn/queued/v1"
	_ "cairn.dev/cairn/proto/cairn/raft/v1"
	_ "cairn.dev/cairn/proto/cairn/raftkv/v1"
	_ "cairn.dev/cairn/proto/cairn/searchd/v1"
	_ "cairn.dev/cairn/proto/cairn/streamd/v1"
)
