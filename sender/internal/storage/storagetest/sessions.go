package storagetest

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/storage"
)

// testSessions: the console's sessions (storage.Sessions), which every
// backend keeps so that instances on one storage share them.
func testSessions(t *testing.T, s storage.Store) {
	ss, ok := s.(storage.Sessions)
	if !ok {
		t.Fatalf("%T does not implement storage.Sessions", s)
	}
	ctx := context.Background()
	a, b, none := sha256.Sum256([]byte("cookie-a")), sha256.Sum256([]byte("cookie-b")), sha256.Sum256([]byte("never"))
	// Expiry relative to the wall clock, so that a backend's own expiry
	// (Redis's) does not remove them before the test's reads.
	now := time.Now().Truncate(time.Millisecond)
	sa := storage.Session{KeyName: "ops", CSRF: "csrf-a", Created: now, Expires: now.Add(time.Hour)}
	if err := ss.PutSession(ctx, a, sa); err != nil {
		t.Fatal(err)
	}
	got, ok, err := ss.GetSession(ctx, a, now.Add(time.Minute))
	if err != nil || !ok {
		t.Fatalf("GetSession(a) = %v, %v, want the session", ok, err)
	}
	if got.KeyName != sa.KeyName || got.CSRF != sa.CSRF || !got.Created.Equal(sa.Created) || !got.Expires.Equal(sa.Expires) {
		t.Fatalf("GetSession(a) = %+v, want %+v", got, sa)
	}
	if _, ok, err := ss.GetSession(ctx, none, now); err != nil || ok {
		t.Fatalf("GetSession(unknown) = %v, %v, want none", ok, err)
	}
	// Expiry is enforced on read.
	if _, ok, err := ss.GetSession(ctx, a, sa.Expires); err != nil || ok {
		t.Fatalf("GetSession(a) at its expiry = %v, %v, want none", ok, err)
	}
	// A put replaces.
	sa2 := sa
	sa2.KeyName, sa2.CSRF = "reader", "csrf-a2"
	if err := ss.PutSession(ctx, a, sa2); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := ss.GetSession(ctx, a, now); err != nil || !ok || got.KeyName != "reader" || got.CSRF != "csrf-a2" {
		t.Fatalf("GetSession(a) after a second put = %+v, %v, %v, want the second", got, ok, err)
	}
	sb := storage.Session{KeyName: "ops", CSRF: "csrf-b", Created: now, Expires: now.Add(2 * time.Hour)}
	if err := ss.PutSession(ctx, b, sb); err != nil {
		t.Fatal(err)
	}
	// A delete ends one session, not the others; deleting none is no error.
	if err := ss.DeleteSession(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := ss.GetSession(ctx, a, now); err != nil || ok {
		t.Fatalf("GetSession(a) after delete = %v, %v, want none", ok, err)
	}
	if got, ok, err := ss.GetSession(ctx, b, now); err != nil || !ok || got.CSRF != "csrf-b" {
		t.Fatalf("GetSession(b) after a's delete = %+v, %v, %v, want b", got, ok, err)
	}
	if err := ss.DeleteSession(ctx, none); err != nil {
		t.Fatalf("DeleteSession(unknown) = %v, want nil", err)
	}
	// A session already expired when put is never found.
	c := sha256.Sum256([]byte("cookie-c"))
	if err := ss.PutSession(ctx, c, storage.Session{KeyName: "ops", CSRF: "x", Created: now.Add(-2 * time.Hour), Expires: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := ss.GetSession(ctx, c, now); err != nil || ok {
		t.Fatalf("GetSession(expired at put) = %v, %v, want none", ok, err)
	}
}
