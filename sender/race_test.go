//go:build race

package sender_test

// raceEnabled: the race detector slows everything several times, so load
// tests use fewer messages.
const raceEnabled = true
