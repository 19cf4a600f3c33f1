package sqlite_test

import (
	"context"
	"crypto/sha256"
	"path/filepath"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/storage"
)

// A put sweeps the sessions expired by its creation: an old session is
// gone even for a read that would still find it current.
func TestSessionsSweptByPut(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "minipush.db"))
	ctx := context.Background()
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	old, kept, fresh := sha256.Sum256([]byte("old")), sha256.Sum256([]byte("kept")), sha256.Sum256([]byte("fresh"))
	put := func(h [32]byte, created time.Time, life time.Duration) {
		t.Helper()
		if err := s.PutSession(ctx, h, storage.Session{KeyName: "ops", CSRF: "x", Created: created, Expires: created.Add(life)}, 0); err != nil {
			t.Fatal(err)
		}
	}
	put(old, t0, time.Hour)
	put(kept, t0, 3*time.Hour)
	put(fresh, t0.Add(2*time.Hour), time.Hour) // old has expired by now
	if _, ok, err := s.GetSession(ctx, old, t0.Add(time.Minute)); err != nil || ok {
		t.Fatalf("the expired session after a later put: %v, %v, want swept", ok, err)
	}
	if _, ok, err := s.GetSession(ctx, kept, t0.Add(2*time.Hour)); err != nil || !ok {
		t.Fatalf("a current session after the sweep: %v, %v, want kept", ok, err)
	}
}

// A reopened file keeps the sessions (the console's restart).
func TestSessionsReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "minipush.db")
	ctx := context.Background()
	h := sha256.Sum256([]byte("cookie"))
	now := time.Now().Truncate(time.Millisecond)
	s := openStore(t, path)
	if err := s.PutSession(ctx, h, storage.Session{KeyName: "ops", CSRF: "tok", Created: now, Expires: now.Add(time.Hour)}, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, path)
	got, ok, err := s.GetSession(ctx, h, now)
	if err != nil || !ok || got.KeyName != "ops" || got.CSRF != "tok" {
		t.Fatalf("session after reopening: %+v, %v, %v", got, ok, err)
	}
}
