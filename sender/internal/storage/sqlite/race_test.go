//go:build race

package sqlite_test

// raceEnabled: the race detector slows the pure-Go SQLite by an order of
// magnitude, so tests shrink their sizes.
const raceEnabled = true
