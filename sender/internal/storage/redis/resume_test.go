package redis_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/minipush/minipush/internal/redistest"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
	"github.com/minipush/minipush/sender/internal/storage/redis"
)

// TestLeasesHeldAfterRedisRestart: a worker's lease runs out while Redis
// is away and the worker holds the outcome it could not write. When Redis
// returns, another instance's claim must not take the message before the
// owner has had ResumeGrace to write the outcome (else the message is
// sent twice); after the grace, an expired lease whose owner is gone is
// taken again. Two apps, so the several-app claim path (peek, shares) is
// held too.
func TestLeasesHeldAfterRedisRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.Start(t, redistest.WithAOF("always"))
	// gap is the default: a shorter one reads a loaded machine's pauses
	// between this test's claims as interruptions.
	const gap, grace, lease = redis.DefaultResumeGap, 3 * time.Second, 200 * time.Millisecond
	cfg := redis.Config{Prefix: "resume", ResumeGap: gap, ResumeGrace: grace}
	owner, other := open(t, srv, cfg), open(t, srv, cfg)

	held, _, err := owner.Enqueue(ctx, []message.Message{{App: "a1", To: "u1", TemplateID: "t"}, {App: "a2", To: "u2", TemplateID: "t"}})
	if err != nil {
		t.Fatal(err)
	}
	claimed, err := owner.Claim(ctx, time.Now(), 10, lease)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("first claim: %d messages, err %v; want both", len(claimed), err)
	}

	srv.Kill()
	time.Sleep(gap + lease) // the leases run out while Redis is away
	srv.Restart(t)

	// The other instance claims as soon as Redis answers: the expired
	// leases are held back.
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := other.Claim(ctx, time.Now(), 10, lease)
		if err == nil {
			if len(got) != 0 {
				t.Fatalf("claim right after Redis returned took %d expired leases (%v): their owner may hold their outcomes", len(got), ids(got))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Redis did not come back: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The owner writes one outcome late, with its fence: accepted.
	if err := owner.Record(ctx, claimed[0].ID, claimed[0].Lease.Fence, nil, storage.Update{Status: message.StatusDelivered}); err != nil {
		t.Fatalf("the owner's late outcome: %v", err)
	}
	// Still within the grace: nothing is claimed.
	if got, err := other.Claim(ctx, time.Now(), 10, lease); err != nil || len(got) != 0 {
		t.Fatalf("claim within the grace: %v, err %v; want none", ids(got), err)
	}
	// The other message's owner never writes (it died): once the grace is
	// over, claims that keep coming take it, with a larger fence.
	var again []message.Message
	deadline = time.Now().Add(grace + 5*time.Second)
	for len(again) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		if again, err = other.Claim(ctx, time.Now(), 10, lease); err != nil {
			t.Fatal(err)
		}
	}
	if len(again) != 1 || again[0].ID != claimed[1].ID || again[0].Lease.Fence <= claimed[1].Lease.Fence {
		t.Fatalf("after the grace: claimed %v; want only %s with a fence above %d", ids(again), claimed[1].ID, claimed[1].Lease.Fence)
	}
	if m, err := other.Get(ctx, claimed[0].ID); err != nil || m.Status != message.StatusDelivered {
		t.Errorf("the late outcome's message: status %q, err %v; want delivered", m.Status, err)
	}
	if !slices.ContainsFunc(held, func(m message.Message) bool { return m.ID == claimed[1].ID }) {
		t.Errorf("claimed %s, not one of the enqueued messages", claimed[1].ID)
	}

	// Without an interruption an expired lease is taken at once.
	if err := other.Record(ctx, again[0].ID, again[0].Lease.Fence, nil, storage.Update{Status: message.StatusDelivered}); err != nil {
		t.Fatal(err)
	}
	fresh, _, err := owner.Enqueue(ctx, []message.Message{{App: "a1", To: "u3", TemplateID: "t"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := owner.Claim(ctx, time.Now(), 10, lease); err != nil || len(got) != 1 {
		t.Fatalf("claim of the fresh message: %v, err %v", ids(got), err)
	}
	var taken []message.Message
	for end := time.Now().Add(lease + gap/2); time.Now().Before(end); time.Sleep(gap / 6) {
		if taken, err = other.Claim(ctx, time.Now(), 10, lease); err != nil || len(taken) != 0 {
			break
		}
	}
	if err != nil || len(taken) != 1 || taken[0].ID != fresh[0].ID {
		t.Errorf("an expired lease with claims flowing: claimed %v, err %v; want %s within the lease and half the gap", ids(taken), err, fresh[0].ID)
	}
}

func ids(ms []message.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}
