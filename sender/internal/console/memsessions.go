package console

import (
	"context"
	"sync"
	"time"

	"github.com/minipush/minipush/sender/internal/storage"
)

// memSessions is the fallback storage.Sessions when the store keeps none:
// this process's memory, at most max sessions (the oldest goes first) and
// a put's perKey per API key. A restart, or another instance behind a
// balancer, then asks again.
type memSessions struct {
	max int

	mu sync.Mutex
	m  map[[32]byte]storage.Session
}

func newMemSessions(max int) *memSessions {
	return &memSessions{max: max, m: map[[32]byte]storage.Session{}}
}

func (ms *memSessions) PutSession(_ context.Context, hash [32]byte, s storage.Session, perKey int) error {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	mine := 0
	for h, old := range ms.m {
		switch {
		case !s.Created.Before(old.Expires):
			delete(ms.m, h)
		case h != hash && old.KeyName == s.KeyName:
			mine++
		}
	}
	delete(ms.m, hash)
	for ; perKey > 0 && mine >= perKey; mine-- {
		ms.dropOldest(func(old storage.Session) bool { return old.KeyName == s.KeyName })
	}
	for ms.max > 0 && len(ms.m) >= ms.max {
		ms.dropOldest(func(storage.Session) bool { return true })
	}
	ms.m[hash] = s
	return nil
}

// dropOldest removes the oldest session of those of.
func (ms *memSessions) dropOldest(of func(storage.Session) bool) {
	var (
		oldest [32]byte
		at     time.Time
	)
	for h, old := range ms.m {
		if of(old) && (at.IsZero() || old.Created.Before(at)) {
			oldest, at = h, old.Created
		}
	}
	delete(ms.m, oldest)
}

func (ms *memSessions) GetSession(_ context.Context, hash [32]byte, now time.Time) (storage.Session, bool, error) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	s, ok := ms.m[hash]
	if ok && !now.Before(s.Expires) {
		delete(ms.m, hash)
		return storage.Session{}, false, nil
	}
	return s, ok, nil
}

func (ms *memSessions) DeleteSession(_ context.Context, hash [32]byte) error {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	delete(ms.m, hash)
	return nil
}
