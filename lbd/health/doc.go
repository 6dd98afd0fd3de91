// Package health decides which of a load balancer's backends may receive
// traffic. It has three parts, all keyed by backend name:
//
//   - Active checks. A Monitor runs one goroutine per backend that checks it
//     with a Probe (TCPProbe, HTTPProbe, GRPCProbe) every Interval, spread by
//     jitter, and feeds each result to an Active rise/fall state machine: the
//     initial check decides at once, then Rise passing checks bring a backend
//     Up and Fall failing checks take it Down. OnChange reports every change
//     with its reason.
//   - Passive outlier ejection. An Outlier counts the results of real traffic
//     and ejects a backend after consecutive failures or a failure rate over a
//     window, for an ejection time that doubles on repeated ejections up to a
//     cap and decays while the backend stays healthy, never ejecting more than
//     a set share of the members.
//   - Slow start. SlowStart gives the share of its weight a backend that just
//     came up should get, ramping up over a window.
//
// The package holds no pool: the caller (lbd's pool) combines the three. A
// backend is eligible when the Monitor says Up and the Outlier does not say
// ejected; its weight is scaled by SlowStart since it became eligible.
//
// Use:
//
//	probe, err := health.HTTPProbe(health.HTTPCheck{Path: "/healthz", Expect: "200"})
//	if err != nil { ... }
//	mon, err := health.NewMonitor(health.MonitorConfig{
//		Probe:    probe,
//		Interval: 2 * time.Second,
//		OnChange: func(backend string, up bool, reason string) {
//			pool.setUp(backend, up) // rebuild the picker
//		},
//	})
//	if err != nil { ... }
//	defer mon.Close()
//	mon.Set(map[string]string{"web-1": "10.0.0.1:8080", "web-2": "10.0.0.2:8080"})
//
//	out, err := health.NewOutlier(health.OutlierConfig{BaseEjection: 10 * time.Second})
//	if err != nil { ... }
//	out.SetMembers([]string{"web-1", "web-2"})
//	// after each proxied request or connection:
//	if ejected, reason := out.Record("web-1", failed, time.Now()); ejected {
//		log.Info("ejected", "backend", "web-1", "reason", reason)
//		// rebuild the picker now, and again at out.NextChange(time.Now())
//	}
//	weight := float64(w) * health.SlowStart(time.Since(upSince), 30*time.Second)
//
// Outlier, Active and SlowStart take time from the caller, so tests drive
// them with a fake clock; the Monitor's jitter comes from MonitorConfig.Seed.
package health
