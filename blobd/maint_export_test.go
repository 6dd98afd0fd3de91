package blobd

import "time"

// SetMaintClockSkew moves the clock the lifecycle and restore loops decide
// by d ahead (the times they record stay real), so tests reach rules due in
// days.
func (s *Server) SetMaintClockSkew(d time.Duration) { s.maint.skew.Store(int64(d)) }
