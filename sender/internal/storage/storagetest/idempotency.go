package storagetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

// testIdempotencyFingerprint: the same key with the same request is the
// first message; with another request it is refused, nothing stored; an
// unknown fingerprint (a key from before fingerprints) matches any.
func testIdempotencyFingerprint(t *testing.T, s storage.Store) {
	ctx := context.Background()
	keyed := func(to, key, fp string) message.Message {
		m := msg("app1", to)
		m.IdempotencyKey, m.Fingerprint = key, fp
		return m
	}
	first := enqueue(t, s, keyed("u1", "k", "fp-1"))[0]
	out, dup, err := s.Enqueue(ctx, []message.Message{keyed("u1", "k", "fp-1")})
	if err != nil || !dup[0] || out[0].ID != first.ID {
		t.Fatalf("same key, same request: %v %v %v; want the first message", ids(out), dup, err)
	}
	other := keyed("u2", "k", "fp-2")
	other.ID = "other"
	if _, _, err := s.Enqueue(ctx, []message.Message{msg("app1", "with"), other}); !errors.Is(err, storage.ErrIdempotencyMismatch) {
		t.Fatalf("same key, another request: err = %v, want ErrIdempotencyMismatch", err)
	}
	if _, err := s.Get(ctx, "other"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the mismatched message was stored: %v", err)
	}
	// Another app's key space.
	if _, dup, err := s.Enqueue(ctx, []message.Message{func() message.Message {
		m := keyed("u1", "k", "fp-2")
		m.App = "app2"
		return m
	}()}); err != nil || dup[0] {
		t.Errorf("the same key in another app: dup %v, %v", dup, err)
	}
	// An empty fingerprint on either side matches.
	for _, fp := range []string{"", "fp-9"} {
		enqueue(t, s, keyed("u3", "legacy", ""))
		if out, dup, err := s.Enqueue(ctx, []message.Message{keyed("u3", "legacy", fp)}); err != nil || !dup[0] {
			t.Errorf("key recorded without a fingerprint, retried with %q: %v %v %v", fp, ids(out), dup, err)
		}
	}
}

func testBroadcastIdempotency(t *testing.T, s storage.Store) {
	ctx := context.Background()
	list := func(id, fp string) (message.Broadcast, []message.Message) {
		b := message.Broadcast{ID: id, App: "app1", TemplateID: "tpl", IdempotencyKey: "bk", Fingerprint: fp, CreatedAt: t0}
		ms := []message.Message{msg("app1", "x"), msg("app1", "y")}
		for i := range ms {
			ms[i].ID = fmt.Sprintf("%s-%d", id, i)
		}
		return b, ms
	}
	b, ms := list("b1", "fp-1")
	if _, dup, err := s.CreateBroadcast(ctx, b, ms); err != nil || dup {
		t.Fatalf("first broadcast: dup %v, %v", dup, err)
	}
	// A retry of a slow broadcast: no second fan-out.
	b, ms = list("b2", "fp-1")
	got, dup, err := s.CreateBroadcast(ctx, b, ms)
	if err != nil || !dup || got.ID != "b1" || got.Recipients != 2 || got.IdempotencyKey != "bk" {
		t.Fatalf("retried broadcast = %+v, dup %v, %v; want b1 back", got, dup, err)
	}
	if _, _, err := s.Broadcast(ctx, "b2"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the retry was stored: %v", err)
	}
	if _, err := s.Get(ctx, "b2-0"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the retry fanned out: %v", err)
	}
	b, ms = list("b3", "fp-2")
	if _, _, err := s.CreateBroadcast(ctx, b, ms); !errors.Is(err, storage.ErrIdempotencyMismatch) {
		t.Errorf("same key, another broadcast: err = %v, want ErrIdempotencyMismatch", err)
	}
	// Group broadcasts share the key space of the app's broadcasts.
	putGroup(t, s, "app1", "g", members("m1", "m2", "m3"))
	gb := message.Broadcast{ID: "g1", App: "app1", Group: "g", TemplateID: "tpl", IdempotencyKey: "gk", Fingerprint: "fp-g", CreatedAt: t0}
	if _, dup, err := s.CreateBroadcast(ctx, gb, nil); err != nil || dup {
		t.Fatalf("group broadcast: dup %v, %v", dup, err)
	}
	gb.ID = "g2"
	if got, dup, err := s.CreateBroadcast(ctx, gb, nil); err != nil || !dup || got.ID != "g1" || got.Recipients != 3 {
		t.Errorf("retried group broadcast = %+v, dup %v, %v", got, dup, err)
	}
	if total := sum(fanOutAll(t, s, 100)); total != 3 {
		t.Errorf("fanned out %d messages for one group broadcast retried, want 3", total)
	}
}

func testGroupIdempotency(t *testing.T, s storage.Store) {
	ctx := context.Background()
	fp := func(v string) func() string { return func() string { return v } }
	g, dup, err := s.PutGroup(ctx, "app1", "vip", members("a", "b"), "pk", fp("put-1"))
	if err != nil || dup || g.Size != 2 {
		t.Fatalf("first PUT: %+v, dup %v, %v", g, dup, err)
	}
	// The group changes since; a retry of the first PUT changes nothing
	// and answers as the first did.
	putGroup(t, s, "app1", "vip", members("c"))
	g, dup, err = s.PutGroup(ctx, "app1", "vip", members("a", "b"), "pk", fp("put-1"))
	if err != nil || !dup || g.Size != 2 || g.Name != "vip" {
		t.Fatalf("retried PUT: %+v, dup %v, %v; want the first answer", g, dup, err)
	}
	if _, all := allMembers(t, s, "app1", "vip", 10); !slices.Equal(all, []string{"c"}) {
		t.Errorf("a retried PUT rewrote the group: %v", all)
	}
	if _, _, err := s.PutGroup(ctx, "app1", "vip", members("z"), "pk", fp("put-2")); !errors.Is(err, storage.ErrIdempotencyMismatch) {
		t.Errorf("same key, another PUT: err = %v, want ErrIdempotencyMismatch", err)
	}
	// A DELETE retried after it succeeded answers as the first did.
	del := storage.Idempotency{Key: "dk", Fingerprint: "del-vip"}
	if dup, err := s.DeleteGroup(ctx, "app1", "vip", del); err != nil || dup {
		t.Fatalf("DELETE: dup %v, %v", dup, err)
	}
	if dup, err := s.DeleteGroup(ctx, "app1", "vip", del); err != nil || !dup {
		t.Errorf("retried DELETE: dup %v, %v; want the first answer, not ErrNotFound", dup, err)
	}
	if _, err := s.DeleteGroup(ctx, "app1", "vip", storage.Idempotency{Key: "dk", Fingerprint: "del-other"}); !errors.Is(err, storage.ErrIdempotencyMismatch) {
		t.Errorf("same key, another DELETE: err = %v", err)
	}
	// A DELETE that fails takes no key.
	if _, err := s.DeleteGroup(ctx, "app1", "nope", storage.Idempotency{Key: "dk2", Fingerprint: "x"}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("DELETE of a missing group: %v", err)
	}
	putGroup(t, s, "app1", "nope", members("n"))
	if dup, err := s.DeleteGroup(ctx, "app1", "nope", storage.Idempotency{Key: "dk2", Fingerprint: "x"}); err != nil || dup {
		t.Errorf("the key of a failed DELETE was kept: dup %v, %v", dup, err)
	}
}

// testKeyExpiry: Sweep removes keys recorded before its cut-off, in
// bounded steps; an expired key makes a new message again.
func testKeyExpiry(t *testing.T, s storage.Store) {
	ctx := context.Background()
	var batch []message.Message
	for i := range 250 {
		m := msg("app1", fmt.Sprint("u", i))
		m.IdempotencyKey = fmt.Sprint("k", i)
		batch = append(batch, m)
	}
	first := enqueue(t, s, batch...)
	// Not yet expired: a cut-off in the past removes nothing.
	if n, err := s.Sweep(ctx, time.Now().Add(-time.Hour), 100); err != nil || n != 0 {
		t.Fatalf("Sweep before the keys expire = %d, %v", n, err)
	}
	if _, dup, _ := s.Enqueue(ctx, []message.Message{batch[0]}); !dup[0] {
		t.Fatal("a live key made a second message")
	}
	total := sweepAll(t, s, time.Now().Add(time.Hour), 100)
	if total < 250 {
		t.Errorf("swept %d records, want the 250 keys", total)
	}
	out, dup, err := s.Enqueue(ctx, []message.Message{batch[0]})
	if err != nil || dup[0] || out[0].ID == first[0].ID {
		t.Errorf("after expiry the key made %v (dup %v, %v), want a new message", ids(out), dup, err)
	}
}
