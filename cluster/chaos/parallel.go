//go:build !chaostiming

package chaos

// defaultParallel is how many scenarios of one checkout run at once by
// default (CAIRN_CHAOS_PARALLEL overrides it): two, each on its own port lane,
// so that `go test ./...` keeps both of a two-core host's test slots busy
// instead of leaving one waiting for the other chaos package.
const defaultParallel = 2
