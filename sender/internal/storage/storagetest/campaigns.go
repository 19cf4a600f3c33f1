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
	// The caller learns what admission made of each message.
	if m := msgs[0]; m.Status != message.StatusRejected || m.Reason != reason.Duplicate || m.DuplicateOf != first.ID {
		t.Errorf("msgs[0] after CreateBroadcast: %s %q duplicate_of %q, want the admission's outcome (a duplicate of %s)",
			m.Status, m.Reason, m.DuplicateOf, first.ID)
	}
	if m := msgs[1]; m.Status != message.StatusQueued || m.Reason != "" {
		t.Errorf("msgs[1] after CreateBroadcast: %s %q, want queued", m.Status, m.Reason)
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

// fanOutAdmitter is s as a storage.FanOutAdmitter (every driver is one).
func fanOutAdmitter(t *testing.T, s storage.Store) storage.FanOutAdmitter {
	t.Helper()
	fa, ok := s.(storage.FanOutAdmitter)
	if !ok {
		t.Fatalf("%T does not apply campaign rules at a group's fan-out (storage.FanOutAdmitter)", s)
	}
	return fa
}

// fanOutRules is a FanOutAdmit as package campaign makes one, with fixed
// keys: a dedup entry per user × template × the broadcast's key (1h), and
// a daily cap of 1 with on_exceed hold: a second slot at at(21h) counted
// in the next day's count.
func fanOutRules(b message.Broadcast, m *message.Message) {
	dk := ""
	if b.Dedup != nil {
		dk = b.Dedup.Key
	}
	m.Admission = &message.Admission{At: at(time.Minute), DedupKey: m.To + "|" + m.TemplateID + "|" + dk,
		DedupUntil: at(time.Hour), Slots: []message.Slot{
			{Due: at(time.Minute), Counters: []message.Counter{{Key: m.To + "|d1", Limit: 1, Until: at(24 * time.Hour)}}},
			{Due: at(21 * time.Hour), Held: message.HeldFrequencyCap,
				Counters: []message.Counter{{Key: m.To + "|d2", Limit: 1, Until: at(48 * time.Hour)}}},
		}}
}

// broadcastMessages lists a broadcast's messages by recipient (each must
// have exactly one).
func broadcastMessages(t *testing.T, s storage.Store, bid string, want int) map[string]message.Message {
	t.Helper()
	out := map[string]message.Message{}
	cursor := ""
	for {
		ms, next, err := s.List(context.Background(), storage.Filter{BroadcastID: bid, Limit: 1000, Cursor: cursor})
		if err != nil {
			t.Fatalf("List broadcast %s: %v", bid, err)
		}
		for _, m := range ms {
			if _, ok := out[m.To]; ok {
				t.Errorf("broadcast %s: %s has two messages", bid, m.To)
			}
			out[m.To] = m
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(out) != want {
		t.Errorf("broadcast %s has messages for %d recipients, want %d", bid, len(out), want)
	}
	return out
}

// testCampaignFanOut: a group broadcast's members are admitted one by one
// as they are fanned out, in bounded steps (docs/campaigns.md): a member
// with a live dedup entry becomes a rejected duplicate, one over its cap
// takes the next slot with room (held) or is rejected, and what they
// write holds the window for the next broadcast.
func testCampaignFanOut(t *testing.T, s storage.Store) {
	ctx := context.Background()
	var (
		mu       sync.Mutex
		admitted = map[string]message.Message{} // by id, as the admitted hook was told
	)
	fanOutAdmitter(t, s).SetFanOutAdmit(fanOutRules, func(b message.Broadcast, ms []message.Message) {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range ms {
			if m.BroadcastID != b.ID {
				t.Errorf("admitted hook: message %s of broadcast %q told with broadcast %s", m.ID, m.BroadcastID, b.ID)
			}
			admitted[m.ID] = m
		}
	})
	const n = 2500
	putGroup(t, s, "app1", "all", generated("u", n))
	// u0000005 got this template with key k already; u0000007 has used
	// both days' slots; u0000009 today's.
	first := enqueue(t, s, dedupMsg("app1", "u0000005", "u0000005|tpl-1|k", t0, time.Hour))[0]
	enqueue(t, s, capMsg("app1", "u0000007", 1, []string{"u0000007|d1"}, []time.Time{t0}),
		capMsg("app1", "u0000007", 1, []string{"u0000007|d2"}, []time.Time{t0}),
		capMsg("app1", "u0000009", 1, []string{"u0000009|d1"}, []time.Time{t0}))

	b := message.Broadcast{ID: "bc_fan1", App: "app1", Platform: "wechat", Group: "all", TemplateID: "tpl-1",
		Data: map[string]string{"thing1": "sale"}, CreatedAt: t0, Dedup: &message.BroadcastDedup{Key: "k", Window: message.Duration(time.Hour)}}
	if _, _, err := s.CreateBroadcast(ctx, b, nil); err != nil {
		t.Fatal(err)
	}
	steps := fanOutAll(t, s, 1000)
	if len(steps) < 3 {
		t.Errorf("fan-out steps %v: want at least 3 bounded steps of 1000", steps)
	}
	got, counts, err := s.Broadcast(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.FannedOut != n || counts[message.StatusRejected] != 2 || counts[message.StatusQueued] != n-2 {
		t.Errorf("broadcast: fanned out %d, counts %v; want %d, 2 rejected (u0000005 duplicate, u0000007 cap), %d queued",
			got.FannedOut, counts, n, n-2)
	}
	ms := broadcastMessages(t, s, b.ID, n)
	if m := ms["u0000005"]; m.Status != message.StatusRejected || m.Reason != reason.Duplicate || m.DuplicateOf != first.ID {
		t.Errorf("u0000005: status %s reason %q duplicate_of %q; want a duplicate of %s", m.Status, m.Reason, m.DuplicateOf, first.ID)
	}
	if m := get(t, s, ms["u0000007"].ID); m.Status != message.StatusRejected || m.Reason != reason.FrequencyCap {
		t.Errorf("u0000007: status %s reason %q; want rejected, frequency_cap", m.Status, m.Reason)
	}
	if m := get(t, s, ms["u0000009"].ID); m.Status != message.StatusQueued || m.HeldReason != message.HeldFrequencyCap ||
		!m.NextAttemptAt.Equal(at(21*time.Hour)) {
		t.Errorf("u0000009: status %s held %q next %v; want queued, held by frequency_cap to %v", m.Status, m.HeldReason,
			m.NextAttemptAt, at(21*time.Hour))
	}
	if m := get(t, s, ms["u0002499"].ID); m.Status != message.StatusQueued || m.HeldReason != "" || m.Data["thing1"] != "sale" {
		t.Errorf("u0002499: status %s held %q data %v; want queued with the broadcast's data", m.Status, m.HeldReason, m.Data)
	}
	// The admitted hook was told each member's outcome once, as stored.
	mu.Lock()
	if len(admitted) != n {
		t.Errorf("admitted hook told %d messages, want %d", len(admitted), n)
	}
	for to, m := range ms {
		a := admitted[m.ID]
		if a.To != to || a.Status != m.Status || a.Reason != m.Reason || a.DuplicateOf != m.DuplicateOf || a.HeldReason != m.HeldReason ||
			!a.NextAttemptAt.Equal(m.NextAttemptAt) {
			t.Errorf("admitted hook for %s: %s %s %q %q held %q next %v; stored %s %q %q held %q next %v", to, a.To, a.Status, a.Reason,
				a.DuplicateOf, a.HeldReason, a.NextAttemptAt, m.Status, m.Reason, m.DuplicateOf, m.HeldReason, m.NextAttemptAt)
			break
		}
	}
	mu.Unlock()

	// The same again: every member but u0000007 (whose message was
	// rejected and holds no window) is a duplicate of its first message;
	// u0000007 has no room today nor tomorrow.
	b2 := b
	b2.ID = "bc_fan2"
	if _, _, err := s.CreateBroadcast(ctx, b2, nil); err != nil {
		t.Fatal(err)
	}
	fanOutAll(t, s, 700)
	_, counts, err = s.Broadcast(ctx, b2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if counts[message.StatusRejected] != n || counts[message.StatusQueued] != 0 {
		t.Errorf("second broadcast counts %v, want all %d rejected", counts, n)
	}
	ms2 := broadcastMessages(t, s, b2.ID, n)
	if m := ms2["u0001234"]; m.Reason != reason.Duplicate || m.DuplicateOf != ms["u0001234"].ID {
		t.Errorf("u0001234 again: reason %q duplicate_of %q, want a duplicate of %s", m.Reason, m.DuplicateOf, ms["u0001234"].ID)
	}
	if m := ms2["u0000007"]; m.Reason != reason.FrequencyCap {
		t.Errorf("u0000007 again: reason %q, want frequency_cap", m.Reason)
	}
	c, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c[message.StatusRejected] != n+2 {
		t.Errorf("store's rejected count %d, want %d", c[message.StatusRejected], n+2)
	}
}

// testCampaignFanOutConcurrent: fan-out steps run at once (two instances
// of a deployment) still make each member's message exactly once and
// admit each once: a group broadcast to members already holding the
// window makes only duplicates.
func testCampaignFanOutConcurrent(t *testing.T, s storage.Store) {
	ctx := context.Background()
	fanOutAdmitter(t, s).SetFanOutAdmit(fanOutRules, nil)
	const n = 3000
	putGroup(t, s, "app1", "all", generated("u", n))
	for _, id := range []string{"bc_c1", "bc_c2"} {
		b := message.Broadcast{ID: id, App: "app1", Platform: "wechat", Group: "all", TemplateID: "tpl-1", CreatedAt: t0}
		if _, _, err := s.CreateBroadcast(ctx, b, nil); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			for range 10000 {
				_, more, err := s.FanOut(ctx, 250)
				if err != nil || !more {
					errs[i] = err
					return
				}
			}
			errs[i] = errors.New("fan-out does not end")
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	fanOutAll(t, s, 250) // whatever a worker left when another said "no more"
	queued, rejected := 0, 0
	for _, id := range []string{"bc_c1", "bc_c2"} {
		_, counts, err := s.Broadcast(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		queued, rejected = queued+counts[message.StatusQueued], rejected+counts[message.StatusRejected]
		ms := broadcastMessages(t, s, id, n)
		for to, m := range ms {
			if m.Status == message.StatusRejected && m.Reason != reason.Duplicate {
				t.Errorf("%s of %s: rejected with reason %q, want duplicate", to, id, m.Reason)
			}
		}
	}
	if queued != n || rejected != n {
		t.Errorf("two broadcasts to %d members: %d queued, %d rejected; want each member once queued, once a duplicate", n, queued, rejected)
	}
}
