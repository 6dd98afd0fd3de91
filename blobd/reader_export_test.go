package blobd

import "io"

// ObjectReaderReloads returns how many times the reader GetObject
// returned re-read the object's manifest (-1 for another reader).
func ObjectReaderReloads(rc io.ReadCloser) int {
	if r, ok := rc.(*objectReader); ok {
		return r.reloads
	}
	return -1
}

// ReadAheadInUse returns how many of the node's read-ahead slots readers
// hold.
func (s *Server) ReadAheadInUse() int { return len(s.core.readAhead) }
