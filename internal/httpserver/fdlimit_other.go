//go:build !unix

package httpserver

// openFileLimit is unknown here: the cap is used as configured.
func openFileLimit() (uint64, bool) { return 0, false }
