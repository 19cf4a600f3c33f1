package storagetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

// testRetention: PruneMessages deletes finished messages last changed
// before the cut-off, of the status asked only, at most limit a call,
// with their attempts; never a message still in the queue; counts follow.
// A backend without retention (no storage.Retainer) fails: a sender on it
// would keep every message forever.
func testRetention(t *testing.T, s storage.Store) {
	r, ok := s.(storage.Retainer)
	if !ok {
		t.Fatalf("%T does not implement storage.Retainer: its history would grow without bound (issue 15)", s)
	}
	ctx := context.Background()
	enqueue(t, s, msg("app1", "a"), msg("app1", "b"), msg("app1", "c"), msg("app1", "d"),
		msg("app1", "e"), msg("app1", "f"))
	c := claim(t, s, at(time.Second), 5, time.Minute)
	outcomes := []message.Status{message.StatusDelivered, message.StatusDelivered, message.StatusFailed,
		message.StatusRejected, message.StatusRetrying}
	for i, st := range outcomes {
		a := &message.Attempt{At: at(time.Second), Outcome: message.OutcomePermanent, Code: "x"}
		if err := s.Record(ctx, c[i].ID, c[i].Lease.Fence, a, storage.Update{Status: st, NextAttemptAt: at(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	// Stores stamp UpdatedAt with their own clock: the cut-offs are
	// taken from what they stored.
	last := time.Time{}
	for _, m := range c {
		if u := get(t, s, m.ID).UpdatedAt; u.After(last) {
			last = u
		}
	}
	before, after := last.Add(-time.Hour), last.Add(time.Hour)

	if _, err := r.PruneMessages(ctx, message.StatusQueued, after, 10); err == nil {
		t.Error("PruneMessages(queued): no error; only finished messages may be pruned")
	}
	if _, err := r.PruneMessages(ctx, message.StatusRetrying, after, 10); err == nil {
		t.Error("PruneMessages(retrying): no error")
	}
	if n, err := r.PruneMessages(ctx, message.StatusDelivered, before, 10); err != nil || n != 0 {
		t.Errorf("PruneMessages(delivered, before they changed) = %d, %v; want 0", n, err)
	}
	if n, err := r.PruneMessages(ctx, message.StatusDelivered, after, 1); err != nil || n != 1 {
		t.Errorf("PruneMessages(delivered, limit 1) = %d, %v; want 1", n, err)
	}
	if n, err := r.PruneMessages(ctx, message.StatusDelivered, after, 10); err != nil || n != 1 {
		t.Errorf("PruneMessages(delivered) = %d, %v; want the other 1", n, err)
	}
	if n, err := r.PruneMessages(ctx, message.StatusDelivered, after, 10); err != nil || n != 0 {
		t.Errorf("PruneMessages(delivered) once none is left = %d, %v; want 0", n, err)
	}
	for _, m := range c[:2] {
		if _, err := s.Get(ctx, m.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("pruned message %s: Get err = %v, want ErrNotFound", m.ID, err)
		}
	}
	// The failed one keeps its attempt until failed messages are pruned.
	if got := get(t, s, c[2].ID); got.Status != message.StatusFailed || len(got.Attempts) != 1 {
		t.Errorf("failed message after pruning delivered ones: %+v", got)
	}
	counts, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[message.Status]int{message.StatusQueued: 1, message.StatusFailed: 1, message.StatusRejected: 1,
		message.StatusRetrying: 1}
	for _, st := range message.Statuses {
		if counts[st] != want[st] {
			t.Errorf("Counts[%s] = %d, want %d (after pruning)", st, counts[st], want[st])
		}
	}
	for _, st := range []message.Status{message.StatusFailed, message.StatusRejected} {
		if n, err := r.PruneMessages(ctx, st, after, 10); err != nil || n != 1 {
			t.Errorf("PruneMessages(%s) = %d, %v; want 1", st, n, err)
		}
	}
	// What is still in the queue stays, whatever the cut-off.
	left := listAll(t, s, storage.Filter{App: "app1"})
	if len(left) != 2 {
		t.Errorf("after pruning every finished message, %d remain (%v), want the retrying and the queued one", len(left), left)
	}
}
