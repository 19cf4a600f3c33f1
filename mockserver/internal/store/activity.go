package store

import (
	"errors"
	"maps"
	"sort"
	"sync"
	"time"
)

// Activities are the shared cards of updatable (动态) messages: an app
// creates an activity id, the mini-program shares a card with it, and the
// app moves the card through its states. The store keeps each activity's
// current state; the platform emulation owns the rules of the states.

// ErrUnknownActivity is an activity id the app never created.
var ErrUnknownActivity = errors.New("unknown activity id")

// activityMemory: activities are forgotten this long after they expire
// (then their ids answer as unknown), keeping memory flat.
const activityMemory = 7 * 24 * time.Hour

// Activity is one updatable-message card.
type Activity struct {
	Platform, AppID string
	ID              string
	OpenID, UnionID string // who it was created for (private messages), if anyone
	Created         time.Time
	Expires         time.Time
	// State is the platform's target_state last set (0 when only created);
	// Params its parameters by name; Updates counts accepted changes.
	State     int
	Params    map[string]string
	Updates   int
	UpdatedAt time.Time
}

type activityKey struct{ platform, appID, id string }

type activityState struct {
	mu    sync.Mutex
	items map[activityKey]*Activity
}

func (a *activityState) clear() {
	a.mu.Lock()
	a.items = nil
	a.mu.Unlock()
}

// CreateActivity stores a new activity, forgetting ones long expired.
func (s *Store) CreateActivity(a Activity, now time.Time) {
	st := &s.activities
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.items == nil {
		st.items = map[activityKey]*Activity{}
	}
	for k, old := range st.items {
		if now.Sub(old.Expires) > activityMemory {
			delete(st.items, k)
		}
	}
	st.items[activityKey{a.Platform, a.AppID, a.ID}] = &a
}

// UpdateActivity changes an activity atomically: update gets a copy and
// returns an error to leave the stored one unchanged.
func (s *Store) UpdateActivity(platform, appID, id string, update func(*Activity) error) (Activity, error) {
	st := &s.activities
	st.mu.Lock()
	defer st.mu.Unlock()
	cur, ok := st.items[activityKey{platform, appID, id}]
	if !ok {
		return Activity{}, ErrUnknownActivity
	}
	next := *cur
	next.Params = maps.Clone(cur.Params)
	if err := update(&next); err != nil {
		return *cur, err
	}
	*cur = next
	return next, nil
}

// Activities lists an app's activities, oldest first.
func (s *Store) Activities(platform, appID string) []Activity {
	st := &s.activities
	st.mu.Lock()
	defer st.mu.Unlock()
	var out []Activity
	for k, a := range st.items {
		if k.platform == platform && k.appID == appID {
			c := *a
			c.Params = maps.Clone(a.Params)
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out
}
