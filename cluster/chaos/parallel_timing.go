//go:build chaostiming

package chaos

// defaultParallel is how many scenarios of one checkout run at once by
// default (CAIRN_CHAOS_PARALLEL overrides it): with -tags chaostiming one,
// since those scenarios measure timings and load the whole host.
const defaultParallel = 1
