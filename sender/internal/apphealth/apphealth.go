// Package apphealth tracks whether each app's platform credentials work.
// An app is unhealthy from the moment the platform refuses its credentials
// or configuration (a wrong secret or key, an unknown app id, an IP not
// whitelisted, a capability not granted) until a token fetch or a send
// with them succeeds again. The sender shows it in /readyz and exports it
// as minipush_app_healthy; it never makes the sender unready, because the
// other apps' messages still flow and another instance would be refused
// the same way.
package apphealth

import (
	"maps"
	"sync"
	"time"
)

// State is one app's health.
type State struct {
	Healthy bool
	// Reason is the platform's refusal while unhealthy.
	Reason string
	// Since is when the state began (zero: healthy since start).
	Since time.Time
}

// Tracker holds every app's state. Safe for concurrent use.
type Tracker struct {
	now  func() time.Time
	mu   sync.Mutex
	apps map[string]State
}

// New tracks apps, all healthy until refused.
func New(apps []string, now func() time.Time) *Tracker {
	t := &Tracker{now: now, apps: make(map[string]State, len(apps))}
	for _, a := range apps {
		t.apps[a] = State{Healthy: true}
	}
	return t
}

// Refused marks app unhealthy: the platform refused its credentials.
func (t *Tracker) Refused(app, reason string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.apps[app]
	if s.Healthy || s.Since.IsZero() {
		s.Since = t.now()
	}
	s.Healthy, s.Reason = false, reason
	t.apps[app] = s
}

// Works marks app healthy: its credentials were just accepted.
func (t *Tracker) Works(app string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, ok := t.apps[app]; ok && s.Healthy {
		return
	}
	t.apps[app] = State{Healthy: true, Since: t.now()}
}

// Snapshot is every app's state.
func (t *Tracker) Snapshot() map[string]State {
	t.mu.Lock()
	defer t.mu.Unlock()
	return maps.Clone(t.apps)
}
