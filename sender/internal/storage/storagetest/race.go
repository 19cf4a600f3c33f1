//go:build race

package storagetest

// raceEnabled: the race detector slows a pure-Go SQLite by an order of
// magnitude, so the suite shrinks its bulk sizes.
const raceEnabled = true
