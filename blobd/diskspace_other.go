//go:build !linux && !darwin

package blobd

// diskSpace returns 0, 0: the capacity of the volume directory's file
// system is not known on this platform.
func diskSpace(dir string) (capacity, free uint64) { return 0, 0 }
