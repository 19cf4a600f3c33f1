package storagetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/reason"
	"github.com/minipush/minipush/sender/internal/storage"
)

// Campaign rules (docs/campaigns.md): a message's Admission is checked and
// counted in the write that stores it.

// dedupMsg is a message of app to user with a dedup entry key, admitted at
// now for window.
func dedupMsg(app, to, key string, now time.Time, window time.Duration) message.Message {
	m := msg(app, to)
	m.NextAttemptAt = now
	m.Admission = &message.Admission{At: now, DedupKey: key, DedupUntil: now.Add(window)}
	return m
}

func testCampaignDedup(t *testing.T, s storage.Store) {
	ctx := context.Background()
	first := enqueue(t, s, dedupMsg("app1", "u1", "u1|tpl-1|order-9", t0, time.Hour))[0]
	if first.Status != message.StatusQueued || first.Reason != "" || first.DuplicateOf != "" {
		t.Fatalf("first = status %s, reason %q, duplicate_of %q; want queued", first.Status, first.Reason, first.DuplicateOf)
	}
	// Within the window, in one call with another key and alone.
	out := enqueue(t, s, dedupMsg("app1", "u1", "u1|tpl-1|order-9", at(59*time.Minute), time.Hour),
		dedupMsg("app1", "u1", "u1|tpl-1|order-10", at(59*time.Minute), time.Hour))
	if out[0].Status != message.StatusRejected || out[0].Reason != reason.Duplicate || out[0].DuplicateOf != first.ID {
		t.Errorf("second = status %s, reason %q, duplicate_of %q; want rejected, duplicate, %s",
			out[0].Status, out[0].Reason, out[0].DuplicateOf, first.ID)
	}
	if out[1].Status != message.StatusQueued {
		t.Errorf("another dedup key: status %s, want queued", out[1].Status)
	}
	got := get(t, s, out[0].ID)
	if got.Status != message.StatusRejected || got.Reason != reason.Duplicate || got.DuplicateOf != first.ID {
		t.Errorf("stored duplicate = status %s, reason %q, duplicate_of %q", got.Status, got.Reason, got.DuplicateOf)
	}
	// Another app's same key is its own.
	if o := enqueue(t, s, dedupMsg("app2", "u1", "u1|tpl-1|order-9", at(time.Minute), time.Hour))[0]; o.Status != message.StatusQueued {
		t.Errorf("app2: status %s, want queued", o.Status)
	}
	// A duplicate is not claimed.
	for _, c := range claim(t, s, at(2*time.Hour), 100, time.Minute) {
		if c.ID == out[0].ID {
			t.Errorf("duplicate %s was claimed", c.ID)
		}
	}
	// After the window the key is free again; the new message holds it.
	third := enqueue(t, s, dedupMsg("app1", "u1", "u1|tpl-1|order-9", at(time.Hour), time.Hour))[0]
	if third.Status != message.StatusQueued {
		t.Fatalf("after the window: status %s, want queued", third.Status)
	}
	fourth := enqueue(t, s, dedupMsg("app1", "u1", "u1|tpl-1|order-9", at(90*time.Minute), time.Hour))[0]
	if fourth.DuplicateOf != third.ID {
		t.Errorf("duplicate_of = %q, want the message that holds the window now (%s)", fourth.DuplicateOf, third.ID)
	}
	counts, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts[message.StatusRejected] != 2 {
		t.Errorf("rejected count = %d, want 2 (%v)", counts[message.StatusRejected], counts)
	}
}

// testCampaignDedupConcurrent: many concurrent admissions of one dedup key
// → exactly one accepted, every other a duplicate of it.
func testCampaignDedupConcurrent(t *testing.T, s storage.Store) {
	CampaignDedupConcurrent(t, s, s)
}

// CampaignDedupConcurrent enqueues 64 messages of one dedup key at once,
// half through a and half through b (two instances on one Redis, or two
// openings of one SQLite file): exactly one is accepted, the others are
// duplicates of it.
func CampaignDedupConcurrent(t *testing.T, a, b storage.Store) {
	t.Helper()
	ctx := context.Background()
	const n = 64
	out := make([]message.Message, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		st := a
		if i%2 == 1 {
			st = b
		}
		wg.Go(func() {
			ms, _, err := st.Enqueue(ctx, []message.Message{dedupMsg("app1", "u1", "u1|tpl-1|", t0, time.Hour)})
			if errs[i] = err; err == nil {
				out[i] = ms[0]
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	var accepted []string
	for _, m := range out {
		if m.Status == message.StatusQueued {
			accepted = append(accepted, m.ID)
		}
	}
	if len(accepted) != 1 {
		t.Fatalf("%d of %d concurrent messages accepted, want exactly 1", len(accepted), n)
	}
	for i, m := range out {
		if m.ID == accepted[0] {
			continue
		}
		if m.Status != message.StatusRejected || m.Reason != reason.Duplicate || m.DuplicateOf != accepted[0] {
			t.Errorf("message %d: status %s, reason %q, duplicate_of %q; want a duplicate of %s", i, m.Status, m.Reason, m.DuplicateOf, accepted[0])
		}
	}
}

// capMsg is a message of app to to with one cap slot per entry of dues,
// each counted in counter key+i (limit), admitted at t0.
func capMsg(app, to string, limit int, keys []string, dues []time.Time) message.Message {
	m := msg(app, to)
	ad := &message.Admission{At: t0}
	for i, d := range dues {
		held := message.HeldReason("")
		if i > 0 {
			held = message.HeldFrequencyCap
		}
		ad.Slots = append(ad.Slots, message.Slot{Due: d, Held: held,
			Counters: []message.Counter{{Key: keys[i], Limit: limit, Until: d.Add(24 * time.Hour)}}})
	}
	m.Admission = ad
	return m
}

func testCampaignCaps(t *testing.T, s storage.Store) {
	ctx := context.Background()
	day := []string{"u1|d|2030-01-02"}
	for i := range 3 {
		m := enqueue(t, s, capMsg("app1", "u1", 3, day, []time.Time{t0}))[0]
		if m.Status != message.StatusQueued {
			t.Fatalf("message %d under the cap: status %s reason %q", i, m.Status, m.Reason)
		}
	}
	over := enqueue(t, s, capMsg("app1", "u1", 3, day, []time.Time{t0}))[0]
	if over.Status != message.StatusRejected || over.Reason != reason.FrequencyCap {
		t.Errorf("over the cap: status %s, reason %q; want rejected, frequency_cap", over.Status, over.Reason)
	}
	// Another user, another app: their own counts.
	if m := enqueue(t, s, capMsg("app1", "u2", 3, []string{"u2|d|2030-01-02"}, []time.Time{t0}))[0]; m.Status != message.StatusQueued {
		t.Errorf("u2: status %s", m.Status)
	}
	if m := enqueue(t, s, capMsg("app2", "u1", 3, day, []time.Time{t0}))[0]; m.Status != message.StatusQueued {
		t.Errorf("app2: status %s", m.Status)
	}
	// Hold: the first slot is full, the next has room.
	next := at(21 * time.Hour)
	held := enqueue(t, s, capMsg("app1", "u1", 3, []string{day[0], "u1|d|2030-01-03"}, []time.Time{t0, next}))[0]
	if held.Status != message.StatusQueued || held.HeldReason != message.HeldFrequencyCap || !held.NextAttemptAt.Equal(next) {
		t.Errorf("held = status %s, held_reason %q, next %v; want queued, frequency_cap, %v", held.Status, held.HeldReason, held.NextAttemptAt, next)
	}
	if g := get(t, s, held.ID); g.HeldReason != message.HeldFrequencyCap || !g.NextAttemptAt.Equal(next) {
		t.Errorf("stored held message: held_reason %q, next %v", g.HeldReason, g.NextAttemptAt)
	}
	// Not claimable before its slot.
	for _, c := range claim(t, s, at(time.Hour), 100, time.Minute) {
		if c.ID == held.ID {
			t.Errorf("held message claimed before its slot")
		}
	}
	// A rejected message counted nothing: the next day's count is 1.
	for i := range 2 {
		if m := enqueue(t, s, capMsg("app1", "u1", 3, []string{"u1|d|2030-01-03"}, []time.Time{next}))[0]; m.Status != message.StatusQueued {
			t.Fatalf("next day message %d: status %s", i, m.Status)
		}
	}
	if m := enqueue(t, s, capMsg("app1", "u1", 3, []string{"u1|d|2030-01-03"}, []time.Time{next}))[0]; m.Reason != reason.FrequencyCap {
		t.Errorf("fourth next-day message: status %s reason %q, want frequency_cap", m.Status, m.Reason)
	}
	// A counter whose period ended starts again.
	late := capMsg("app1", "u1", 3, day, []time.Time{t0})
	late.Admission.At = at(25 * time.Hour)
	if m := enqueue(t, s, late)[0]; m.Status != message.StatusQueued {
		t.Errorf("after the period: status %s reason %q", m.Status, m.Reason)
	}
	// Dedup and caps together: a duplicate counts nothing.
	both := capMsg("app1", "u3", 1, []string{"u3|d"}, []time.Time{t0})
	both.Admission.DedupKey, both.Admission.DedupUntil = "u3|tpl-1|", at(time.Hour)
	if m := enqueue(t, s, both)[0]; m.Status != message.StatusQueued {
		t.Fatalf("u3 first: %s", m.Status)
	}
	both2 := capMsg("app1", "u3", 1, []string{"u3|d"}, []time.Time{t0})
	both2.Admission.DedupKey, both2.Admission.DedupUntil = "u3|tpl-1|", at(time.Hour)
	if m := enqueue(t, s, both2)[0]; m.Reason != reason.Duplicate {
		t.Errorf("u3 second: reason %q, want duplicate (dedup is checked first)", m.Reason)
	}
	_ = ctx
}

// testCampaignCapsConcurrent: a cap of 5 and 40 concurrent admissions →
// exactly 5 accepted.
func testCampaignCapsConcurrent(t *testing.T, s storage.Store) {
	ctx := context.Background()
	const n, limit = 40, 5
	out := make([]message.Message, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ms, _, err := s.Enqueue(ctx, []message.Message{capMsg("app1", "u1", limit, []string{"u1|w"}, []time.Time{t0})})
			if errs[i] = err; err == nil {
				out[i] = ms[0]
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	accepted, capped := 0, 0
	for _, m := range out {
		switch {
		case m.Status == message.StatusQueued:
			accepted++
		case m.Reason == reason.FrequencyCap:
			capped++
		}
	}
	if accepted != limit || capped != n-limit {
		t.Errorf("accepted %d, capped %d of %d; want %d and %d", accepted, capped, n, limit, n-limit)
	}
}

// testCampaignHeldReason: a held reason given without slots (quiet hours)
// is stored as given.
func testCampaignHeldReason(t *testing.T, s storage.Store) {
	m := msg("app1", "u1")
	m.NextAttemptAt, m.HeldReason = at(5*time.Hour), message.HeldQuietHours
	out := enqueue(t, s, m)[0]
	g := get(t, s, out.ID)
	if g.HeldReason != message.HeldQuietHours || !g.NextAttemptAt.Equal(at(5*time.Hour)) {
		t.Errorf("held_reason %q, next %v", g.HeldReason, g.NextAttemptAt)
	}
	// In a list broadcast too.
	b := message.Broadcast{ID: "bc_quiet", App: "app1", TemplateID: "tpl-1"}
	m1, m2 := msg("app1", "x"), msg("app1", "y")
	m1.NextAttemptAt, m1.HeldReason = at(5*time.Hour), message.HeldQuietHours
	m2.NextAttemptAt, m2.HeldReason = at(5*time.Hour+time.Second), message.HeldQuietHours
	if _, _, err := s.CreateBroadcast(context.Background(), b, []message.Message{m1, m2}); err != nil {
		t.Fatal(err)
	}
	ms, _, err := s.List(context.Background(), storage.Filter{BroadcastID: "bc_quiet"})
	if err != nil || len(ms) != 2 {
		t.Fatalf("List = %d, %v", len(ms), err)
	}
	for _, m := range ms {
		if m.HeldReason != message.HeldQuietHours {
			t.Errorf("broadcast message %s: held_reason %q", m.To, m.HeldReason)
		}
	}
	if ms[0].NextAttemptAt.Equal(ms[1].NextAttemptAt) {
		t.Errorf("the two broadcast messages share one due time %v: each keeps its own", ms[0].NextAttemptAt)
	}
}

// CampaignAcrossStores checks that a dedup entry and a count written
// through a are seen through b: another instance on the same Redis, or
// the SQLite file opened again after a restart.
func CampaignAcrossStores(t *testing.T, a, b storage.Store) {
	t.Helper()
	first := enqueue(t, a, dedupMsg("app1", "u9", "u9|tpl-1|k", t0, time.Hour))[0]
	second := enqueue(t, b, dedupMsg("app1", "u9", "u9|tpl-1|k", at(time.Minute), time.Hour))[0]
	if second.Reason != reason.Duplicate || second.DuplicateOf != first.ID {
		t.Errorf("through the other store: status %s reason %q duplicate_of %q, want a duplicate of %s",
			second.Status, second.Reason, second.DuplicateOf, first.ID)
	}
	if m := enqueue(t, a, capMsg("app1", "u9", 1, []string{"u9|d"}, []time.Time{t0}))[0]; m.Status != message.StatusQueued {
		t.Fatalf("cap first: %s", m.Status)
	}
	if m := enqueue(t, b, capMsg("app1", "u9", 1, []string{"u9|d"}, []time.Time{t0}))[0]; m.Reason != reason.FrequencyCap {
		t.Errorf("cap through the other store: status %s reason %q, want frequency_cap", m.Status, m.Reason)
	}
	_ = fmt.Sprint
}

// testCampaignBroadcast: a list broadcast's messages are admitted one by
// one in its transaction.
func testCampaignBroadcast(t *testing.T, s storage.Store) {
	ctx := context.Background()
	first := enqueue(t, s, dedupMsg("app1", "u1", "u1|tpl-1|", t0, time.Hour))[0]
	b := message.Broadcast{ID: "bc_campaign", App: "app1", TemplateID: "tpl-1"}
	var msgs []message.Message
	for _, to := range []string{"u1", "u2", "u3"} {
		m := dedupMsg("app1", to, to+"|tpl-1|", at(time.Minute), time.Hour)
		m.BroadcastID = b.ID
		msgs = append(msgs, m)
	}
	if _, _, err := s.CreateBroadcast(ctx, b, msgs); err != nil {
		t.Fatal(err)
	}
	_, counts, err := s.Broadcast(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if counts[message.StatusRejected] != 1 || counts[message.StatusQueued] != 2 {
		t.Errorf("broadcast counts %v, want 1 rejected (u1's duplicate) and 2 queued", counts)
	}
	ms, _, err := s.List(ctx, storage.Filter{BroadcastID: b.ID, Status: message.StatusRejected})
	if err != nil || len(ms) != 1 {
		t.Fatalf("rejected of the broadcast: %d, %v", len(ms), err)
	}
	if ms[0].To != "u1" || ms[0].Reason != reason.Duplicate || ms[0].DuplicateOf != first.ID {
		t.Errorf("rejected = %s reason %q duplicate_of %q, want u1's duplicate of %s", ms[0].To, ms[0].Reason, ms[0].DuplicateOf, first.ID)
	}
}
