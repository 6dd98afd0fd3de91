//go:build failpoints

package failpoint

// Enabled reports whether this binary was built with failpoints.
const Enabled = true

// Inject runs the action armed at name, if any.
func Inject(name string) { eval(name) }
