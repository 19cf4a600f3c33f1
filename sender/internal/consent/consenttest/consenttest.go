// Package consenttest holds a consent.Store in memory for the tests of
// the ledger's users (the gate, the dispatcher): atomic under one lock,
// like a real backend's ApplyConsent. Storage backends are held to the
// same behaviour by the conformance suite (storage/storagetest).
package consenttest

import (
	"context"
	"sync"
	"time"

	"github.com/minipush/minipush/sender/internal/consent"
)

// Store is a consent.Store in memory. The zero value is ready to use.
type Store struct {
	mu      sync.Mutex
	entries map[consent.Key]consent.Entry
	// Applied counts ApplyConsent calls (writes the gate chose to make).
	Applied int
	// ReadErr, when set, fails every Consent read.
	ReadErr error
}

// Consent implements consent.Store.
func (s *Store) Consent(_ context.Context, k consent.Key) (consent.Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ReadErr != nil {
		return consent.Entry{}, s.ReadErr
	}
	return s.entries[k], nil
}

// ApplyConsent implements consent.Store.
func (s *Store) ApplyConsent(_ context.Context, k consent.Key, c consent.Change, at time.Time) (consent.Entry, consent.Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Applied++
	before := s.entries[k]
	after, changed := c.Apply(before, at)
	if changed {
		if s.entries == nil {
			s.entries = map[consent.Key]consent.Entry{}
		}
		s.entries[k] = after
	}
	return before, after, nil
}

// Entry reads one entry.
func (s *Store) Entry(k consent.Key) consent.Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.entries[k]
}

// Set applies c to k's entry now.
func (s *Store) Set(k consent.Key, c consent.Change) {
	_, _, _ = s.ApplyConsent(context.Background(), k, c, time.Now())
}
