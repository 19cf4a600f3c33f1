package storagetest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"sync"
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
	if err := ss.PutSession(ctx, a, sa, 0); err != nil {
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
	if err := ss.PutSession(ctx, a, sa2, 0); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := ss.GetSession(ctx, a, now); err != nil || !ok || got.KeyName != "reader" || got.CSRF != "csrf-a2" {
		t.Fatalf("GetSession(a) after a second put = %+v, %v, %v, want the second", got, ok, err)
	}
	sb := storage.Session{KeyName: "ops", CSRF: "csrf-b", Created: now, Expires: now.Add(2 * time.Hour)}
	if err := ss.PutSession(ctx, b, sb, 0); err != nil {
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
	if err := ss.PutSession(ctx, c, storage.Session{KeyName: "ops", CSRF: "x", Created: now.Add(-2 * time.Hour), Expires: now.Add(-time.Hour)}, 0); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := ss.GetSession(ctx, c, now); err != nil || ok {
		t.Fatalf("GetSession(expired at put) = %v, %v, want none", ok, err)
	}
}

// testSessionsCap: a put with perKey revokes the key's oldest live
// sessions beyond it — never the one put, never another key's — and
// neither ended (expired, signed out) sessions count.
func testSessionsCap(t *testing.T, s storage.Store) {
	ss, ok := s.(storage.Sessions)
	if !ok {
		t.Fatalf("%T does not implement storage.Sessions", s)
	}
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	hash := func(name string, i int) [32]byte { return sha256.Sum256([]byte(fmt.Sprint(name, i))) }
	put := func(name string, i int, created, expires time.Time, perKey int) {
		t.Helper()
		if err := ss.PutSession(ctx, hash(name, i), storage.Session{KeyName: name, CSRF: "x", Created: created, Expires: expires}, perKey); err != nil {
			t.Fatalf("PutSession(%s %d): %v", name, i, err)
		}
	}
	live := func(name string, n int) []int {
		t.Helper()
		var out []int
		for i := range n {
			if _, ok, err := ss.GetSession(ctx, hash(name, i), now); err != nil {
				t.Fatal(err)
			} else if ok {
				out = append(out, i)
			}
		}
		return out
	}
	// An ended session of ops: expired, and one signed out below.
	put("ops", 100, now.Add(-2*time.Hour), now.Add(-time.Hour), 0)
	at := func(i int) time.Time { return now.Add(time.Duration(i) * time.Millisecond) }
	put("reader", 0, at(0), at(0).Add(time.Hour), 3)
	for i := range 5 {
		put("ops", i, at(i+1), at(i+1).Add(time.Hour), 3)
	}
	put("reader", 1, at(10), at(10).Add(time.Hour), 3)
	if got := live("ops", 5); !slices.Equal(got, []int{2, 3, 4}) {
		t.Fatalf("ops's live sessions after 5 sign-ins at 3 a key: %v, want the newest 3, [2 3 4]", got)
	}
	if got := live("reader", 2); !slices.Equal(got, []int{0, 1}) {
		t.Fatalf("reader's sessions: %v, want both (another key's sign-ins revoke none)", got)
	}
	// Signed out: no longer counts.
	if err := ss.DeleteSession(ctx, hash("ops", 4)); err != nil {
		t.Fatal(err)
	}
	put("ops", 5, at(20), at(20).Add(time.Hour), 3)
	if got := live("ops", 6); !slices.Equal(got, []int{2, 3, 5}) {
		t.Fatalf("ops after a sign-out and a sign-in: %v, want [2 3 5] (the signed-out one does not count)", got)
	}
	// A cap of one keeps only the session put.
	put("ops", 6, at(30), at(30).Add(time.Hour), 1)
	if got := live("ops", 7); !slices.Equal(got, []int{6}) {
		t.Fatalf("ops at 1 a key: %v, want [6]", got)
	}
	// Concurrent sign-ins of one key: however they interleave (on Redis
	// two may name the same sessions to revoke), exactly the cap's number
	// stay live — none beyond it, none revoked beyond it.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			h := hash("burst", i)
			if err := ss.PutSession(ctx, h, storage.Session{KeyName: "burst", CSRF: "x", Created: at(40 + i), Expires: at(40 + i).Add(time.Hour)}, 3); err != nil {
				t.Errorf("PutSession(burst %d): %v", i, err)
			}
		})
	}
	wg.Wait()
	if got := live("burst", 8); len(got) != 3 {
		t.Fatalf("8 concurrent sign-ins at 3 a key: live %v, want 3 of them", got)
	}
}
