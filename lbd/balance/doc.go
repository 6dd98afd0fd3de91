// Package balance holds lbd's load-balancing algorithms: the shared per-backend
// counters ([Backend]) and one [Picker] per [Algorithm].
//
// A pool keeps one *Backend per server for as long as the server is in its
// configuration, so in-flight counts and the latency EWMA survive picker
// rebuilds. Whenever the set of eligible backends (health, drain, outlier
// ejection) or their weights (slow start) change, it builds a new Picker with
// [New] and swaps it in, for example through an atomic.Pointer; a Picker never
// changes its set. Every connection or request then picks, brackets the work
// with [Backend.Begin] and [Backend.End], and retries with a skip function that
// rejects the backends already tried:
//
//	alg, err := balance.ParseAlgorithm(cfg.Balance) // "least_conn", "ip_hash", …
//	if err != nil {
//		return err
//	}
//	a := balance.NewBackend("app-1", "10.0.0.1:8080", 3)
//	b := balance.NewBackend("app-2", "10.0.0.2:8080", 1)
//	picker, err := balance.New(alg, []*balance.Backend{a, b}, balance.Options{Seed: seed})
//	if err != nil {
//		return err
//	}
//	var key uint64
//	if alg.Hashing() {
//		key = balance.HashKey(clientIP.AsSlice())
//	}
//	tried := func(b *balance.Backend) bool { return slices.Contains(attempted, b.Name) }
//	be := picker.Pick(key, tried)
//	if be == nil {
//		return errNoBackend // every backend was tried, or the set is empty
//	}
//	be.Begin()
//	start := time.Now()
//	err = serve(be.Addr)
//	be.End(time.Since(start)) // a latency of 0 records no sample
//
// The algorithms:
//
//   - round_robin: in turn, ignoring weights.
//   - weighted_round_robin: nginx's smooth weighted round robin; each backend
//     gets exactly its weight's share of every cycle, interleaved (5,1,1 gives
//     a a b a c a a, never a run of 5). A mutex serialises its picks.
//   - least_conn: fewest in flight per unit of weight; ties rotate.
//   - least_time: least (latency EWMA + 100µs) × (in flight + 1) / weight;
//     a backend with no latency sample and nothing in flight goes first.
//   - p2c: two distinct weighted-random draws, the one with fewer in flight
//     per unit of weight wins.
//   - random: weighted random.
//   - ring_hash: consistent hashing with weighted virtual nodes and bounded
//     loads (Mirrokni et al.): a backend takes a key only while below
//     ceil(LoadFactor·(T+1)·w/W) in flight, else the key walks on.
//   - maglev: a Maglev lookup table (Eisenbud et al.), weighted by turns.
//
// Weights are snapshot when a Picker is built, except that the load-aware
// comparisons (least_conn, least_time, p2c's) read [Backend.Weight] live.
// Hashing algorithms are placed by backend Name and the key alone, so every
// lbd node and every run maps a key to the same backend given the same set;
// [HashKey] has no per-process seed for the same reason. Adding one backend to
// N moves about 1/(N+1) of the keys; removing one moves only its keys on the
// ring, and little more than its 1/N share with maglev.
//
// Pickers are safe for concurrent use and do not allocate in Pick (ring_hash
// and maglev with over 1024 backends allocate when skip rejects one).
package balance
