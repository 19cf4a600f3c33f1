package storagetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

// Fault breaks a store's writes the way a full disk does, and mends them.
// A backend supplies one for RunFaults through an honest seam of its own
// (the SQLite backend caps the database's page count, which fails writes
// with the very error a full disk gives).
type Fault interface {
	// Break makes writes that need new space fail from now on.
	Break(t *testing.T)
	// Heal makes room again.
	Heal(t *testing.T)
}

// RunFaults runs the fault suite: what the API and the dispatcher rely on
// when storage fails — an error that says so (storage.ErrUnavailable),
// nothing half-written, Writable telling the truth at once, and recovery
// without a restart. newStore returns a fresh, empty store and its fault.
func RunFaults(t *testing.T, newStore func(t *testing.T) (storage.Store, Fault)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Store, f Fault)
	}{
		{"WritesFailAndRecover", testWritesFailAndRecover},
		{"OutcomeFailsAndRecovers", testOutcomeFailsAndRecovers},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, f := newStore(t)
			tc.fn(t, s, f)
		})
	}
}

// bulky is a batch of messages large enough to need new space.
func bulky(prefix string, n int) []message.Message {
	big := strings.Repeat("x", 2000)
	out := make([]message.Message, n)
	for i := range out {
		out[i] = msg("app1", fmt.Sprintf("%s-%d", prefix, i))
		out[i].ID = fmt.Sprintf("%s-%d", prefix, i)
		out[i].Data = map[string]string{"thing1": big}
	}
	return out
}

// eventuallyWritable waits for Writable to report nil.
func eventuallyWritable(t *testing.T, s storage.Store) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := s.Writable()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("storage was mended but Writable still reports %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testWritesFailAndRecover(t *testing.T, s storage.Store, f Fault) {
	ctx := context.Background()
	enqueue(t, s, msg("app1", "before"))
	if err := s.Writable(); err != nil {
		t.Fatalf("Writable on a healthy store: %v", err)
	}
	f.Break(t)
	_, _, err := s.Enqueue(ctx, bulky("full", 200))
	if !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("Enqueue on a full store: err = %v, want ErrUnavailable", err)
	}
	// At once, from memory: a readiness probe asks right after.
	if err := s.Writable(); !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("Writable right after a failed write: %v, want ErrUnavailable", err)
	}
	if _, _, err := s.CreateBroadcast(ctx, message.Broadcast{ID: "b-full", App: "app1"}, bulky("bfull", 200)); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("CreateBroadcast on a full store: err = %v, want ErrUnavailable", err)
	}
	// Reads go on.
	if _, err := s.Counts(ctx); err != nil {
		t.Errorf("Counts on a full store: %v", err)
	}

	f.Heal(t)
	eventuallyWritable(t, s)
	enqueue(t, s, bulky("after", 200)...)
	for _, id := range []string{"full-0", "full-199", "bfull-0"} {
		if _, err := s.Get(ctx, id); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s was stored by a write that failed: err = %v", id, err)
		}
	}
	if _, _, err := s.Broadcast(ctx, "b-full"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the failed broadcast is stored: err = %v", err)
	}
	if err := s.Writable(); err != nil {
		t.Errorf("Writable after writes succeed again: %v", err)
	}
}

// testOutcomeFailsAndRecovers: an outcome that cannot be written leaves
// the message leased as it was, and the same Record succeeds once there is
// room: the worker that keeps it loses nothing.
func testOutcomeFailsAndRecovers(t *testing.T, s storage.Store, f Fault) {
	ctx := context.Background()
	m := enqueue(t, s, msg("app1", "u1"))[0]
	c := claim(t, s, t0, 1, time.Hour)
	if len(c) != 1 {
		t.Fatalf("claimed %d, want 1", len(c))
	}
	// The attempt's message is large, so the outcome needs new space.
	a := &message.Attempt{At: t0, Outcome: message.OutcomeDelivered, Code: "0", Message: strings.Repeat("y", 200_000)}
	u := storage.Update{Status: message.StatusDelivered, PlatformMsgID: "pm"}
	f.Break(t)
	if err := s.Record(ctx, m.ID, c[0].Lease.Fence, a, u); !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("Record on a full store: err = %v, want ErrUnavailable", err)
	}
	if got := get(t, s, m.ID); got.Status != message.StatusSending || len(got.Attempts) != 0 {
		t.Fatalf("after a failed Record: %+v, want still sending, no attempt", got)
	}
	f.Heal(t)
	if err := s.Record(ctx, m.ID, c[0].Lease.Fence, a, u); err != nil {
		t.Fatalf("the same Record once there is room: %v", err)
	}
	if got := get(t, s, m.ID); got.Status != message.StatusDelivered || len(got.Attempts) != 1 {
		t.Errorf("after the retried Record: %+v", got)
	}
}
