package storagetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/reason"
	"github.com/minipush/minipush/sender/internal/storage"
)

// deliveryIDs lists every delivery (all pages of two), newest first.
func deliveryIDs(t *testing.T, s storage.Store, f storage.WebhookFilter) []string {
	t.Helper()
	var out []string
	f.Limit = 2
	for range 100 {
		ds, next, err := s.WebhookDeliveries(context.Background(), f)
		if err != nil {
			t.Fatalf("WebhookDeliveries(%+v): %v", f, err)
		}
		for _, d := range ds {
			out = append(out, d.ID)
		}
		if next == "" {
			return out
		}
		f.Cursor = next
	}
	t.Fatal("WebhookDeliveries: more than 100 pages")
	return nil
}

// testWebhookOutbox: a message in the webhook scope (its app's, or its
// API key's) that reaches a final status — by Record, Cancel or
// CancelMatching — or whose receipt arrives once delivered gets an outbox
// entry in the same step, with the message's state at that moment; a
// message outside the scope, or a retry, gets none. Ids are the message's
// id and the event's number.
func testWebhookOutbox(t *testing.T, s storage.Store) {
	ctx := context.Background()
	if err := s.SetWebhookScope(ctx, storage.WebhookScope{Apps: []string{"hooked"}, APIKeys: []string{"k1"}}); err != nil {
		t.Fatal(err)
	}
	withKey := func(m message.Message, k string) message.Message { m.APIKey = k; return m }
	ms := enqueue(t, s,
		msg("hooked", "a"),               // delivered, then a receipt
		msg("plain", "b"),                // delivered: no webhook
		withKey(msg("plain", "c"), "k1"), // failed: its key's webhook
		withKey(msg("plain", "d"), "k2"), // rejected: no webhook
		msg("hooked", "e"),               // retrying: nothing yet
		msg("hooked", "f"),               // cancelled by id
		withKey(msg("plain", "g"), "k1"), // cancelled by selection
	)
	byTo := map[string]message.Message{}
	for _, m := range ms {
		byTo[m.To] = m
	}
	c := claim(t, s, at(time.Second), 5, time.Minute)
	if len(c) != 5 {
		t.Fatalf("claimed %d, want 5", len(c))
	}
	outcome := map[string]storage.Update{
		"a": {Status: message.StatusDelivered, PlatformMsgID: "pm-a"},
		"b": {Status: message.StatusDelivered, PlatformMsgID: "pm-b"},
		"c": {Status: message.StatusFailed, LastCode: "43101", Reason: reason.NotSubscribed},
		"d": {Status: message.StatusRejected, LastCode: "87014", Reason: reason.RiskyContent},
		"e": {Status: message.StatusRetrying, NextAttemptAt: at(time.Hour), LastCode: "-1"},
	}
	for _, m := range c {
		if err := s.Record(ctx, m.ID, m.Lease.Fence, &message.Attempt{At: at(time.Second), Outcome: message.OutcomeRetryable},
			outcome[m.To]); err != nil {
			t.Fatalf("Record %s: %v", m.To, err)
		}
	}
	if _, err := s.Cancel(ctx, byTo["f"].ID, at(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if n, err := s.CancelMatching(ctx, storage.Selection{App: "plain"}, at(2*time.Second), 10); err != nil || n != 1 {
		t.Fatalf("CancelMatching = %d, %v; want 1", n, err)
	}
	e1, _ := putEvent(t, s, event("hooked", "receipt-1", t0))
	rc := message.Receipt{Status: message.ReceiptFailed, ErrorCode: "10001", ErrorStatus: "system error", At: at(3 * time.Second)}
	if err := s.CompleteEvent(ctx, e1.ID, storage.EventEffects{Receipts: []storage.ReceiptUpdate{
		{App: "hooked", PlatformMsgID: "pm-a", Receipt: rc},
		{App: "plain", PlatformMsgID: "pm-b", Receipt: rc},
	}}, t0); err != nil {
		t.Fatal(err)
	}

	want := []struct {
		to    string
		n     string
		event message.WebhookEvent
		st    message.Status
		rs    reason.Reason
		code  string
	}{
		{"g", "1", message.WebhookCancelled, message.StatusCancelled, reason.Cancelled, ""},
		{"f", "1", message.WebhookCancelled, message.StatusCancelled, reason.Cancelled, ""},
		{"c", "1", message.WebhookFailedEv, message.StatusFailed, reason.NotSubscribed, "43101"},
		{"a", "2", message.WebhookReceipt, message.StatusDelivered, "", "10001"},
		{"a", "1", message.WebhookDelivered, message.StatusDelivered, "", ""},
	}
	all := deliveryIDs(t, s, storage.WebhookFilter{})
	slices.Sort(all)
	var wantIDs []string
	for _, w := range want {
		wantIDs = append(wantIDs, byTo[w.to].ID+"."+w.n)
	}
	slices.Sort(wantIDs)
	if !slices.Equal(all, wantIDs) {
		t.Fatalf("deliveries %v, want %v (a's delivery and receipt, c failed, f and g cancelled; none for b, d, e)", all, wantIDs)
	}
	for _, w := range want {
		id := byTo[w.to].ID + "." + w.n
		d, err := s.WebhookDelivery(ctx, id)
		if err != nil {
			t.Fatalf("WebhookDelivery(%s): %v", id, err)
		}
		if d.MessageID != byTo[w.to].ID || d.App != byTo[w.to].App || d.APIKey != byTo[w.to].APIKey || d.Event != w.event ||
			d.MessageStatus != w.st || d.Reason != w.rs || d.Code != w.code || d.Status != message.WebhookPending ||
			d.AttemptCount != 0 || len(d.Attempts) != 0 || d.CreatedAt.IsZero() || d.NextAttemptAt.IsZero() {
			t.Errorf("delivery %s (%s) = %+v; want event %s, message %s, reason %q, code %q, pending, no attempts",
				id, w.to, d, w.event, w.st, w.rs, w.code)
		}
	}
	if got := deliveryIDs(t, s, storage.WebhookFilter{MessageID: byTo["a"].ID}); !slices.Equal(got,
		[]string{byTo["a"].ID + ".2", byTo["a"].ID + ".1"}) {
		t.Errorf("deliveries of message a: %v, want its receipt then its delivery (newest first)", got)
	}
	if n, err := s.WebhookCounts(ctx); err != nil || n[message.WebhookPending] != 5 || n[message.WebhookFailed] != 0 {
		t.Errorf("WebhookCounts = %v, %v; want 5 pending, 0 failed", n, err)
	}
	if _, err := s.WebhookDelivery(ctx, "nope.1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("unknown delivery: %v, want ErrNotFound", err)
	}
	if _, _, err := s.WebhookDeliveries(ctx, storage.WebhookFilter{Cursor: "not-a-cursor"}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("bad cursor: %v, want ErrNotFound", err)
	}

	// Redriven and delivered again: the message's next event is number 2.
	if _, err := s.Redrive(ctx, byTo["f"].ID, at(4*time.Second)); err != nil {
		t.Fatal(err)
	}
	for _, m := range claim(t, s, at(5*time.Second), 10, time.Minute) {
		if m.ID != byTo["f"].ID {
			continue
		}
		if err := s.Record(ctx, m.ID, m.Lease.Fence, nil, storage.Update{Status: message.StatusDelivered, PlatformMsgID: "pm-f"}); err != nil {
			t.Fatal(err)
		}
	}
	d, err := s.WebhookDelivery(ctx, byTo["f"].ID+".2")
	if err != nil || d.Event != message.WebhookDelivered {
		t.Errorf("f redriven and delivered: %+v, %v; want event 2 message.delivered", d, err)
	}
}

// testWebhookDelivery: claims lease pending deliveries oldest due first,
// records attempts with growing numbers, ends them succeeded or failed;
// a failed one may be redelivered; retention takes deliveries with their
// messages; a new scope applies from then on.
func testWebhookDelivery(t *testing.T, s storage.Store) {
	ctx := context.Background()
	if err := s.SetWebhookScope(ctx, storage.WebhookScope{Apps: []string{"hooked"}}); err != nil {
		t.Fatal(err)
	}
	ms := enqueue(t, s, msg("hooked", "a"), msg("hooked", "b"), msg("hooked", "c"))
	for _, m := range claim(t, s, at(time.Second), 3, time.Minute) {
		if err := s.Record(ctx, m.ID, m.Lease.Fence, nil, storage.Update{Status: message.StatusDelivered}); err != nil {
			t.Fatal(err)
		}
	}
	// The events are due when they happened (the store's clock): claim
	// far enough ahead.
	now := time.Now().Add(time.Hour)
	got, err := s.ClaimWebhooks(ctx, now, 2, time.Minute)
	if err != nil || len(got) != 2 {
		t.Fatalf("ClaimWebhooks(2) = %d, %v; want 2", len(got), err)
	}
	rest, err := s.ClaimWebhooks(ctx, now, 10, time.Minute)
	if err != nil || len(rest) != 1 {
		t.Fatalf("ClaimWebhooks again = %d, %v; want the 1 left (the 2 claimed are leased)", len(rest), err)
	}
	if again, err := s.ClaimWebhooks(ctx, now.Add(30*time.Second), 10, time.Minute); err != nil || len(again) != 0 {
		t.Fatalf("ClaimWebhooks within the leases = %d, %v; want none", len(again), err)
	}
	if again, err := s.ClaimWebhooks(ctx, now.Add(2*time.Minute), 10, time.Minute); err != nil || len(again) != 3 {
		t.Fatalf("ClaimWebhooks after the leases = %d, %v; want all 3 again (their sender died)", len(again), err)
	}
	first := got[0].ID
	attempt := func(code int, errText string, st message.WebhookStatus, next time.Time) {
		t.Helper()
		if err := s.RecordWebhook(ctx, first, message.WebhookAttempt{At: now, StatusCode: code, Error: errText, LatencyMS: 12.5},
			st, next); err != nil {
			t.Fatalf("RecordWebhook: %v", err)
		}
	}
	attempt(500, "status 500", message.WebhookPending, now.Add(time.Hour))
	if again, err := s.ClaimWebhooks(ctx, now.Add(10*time.Minute), 10, time.Minute); err != nil || slices.ContainsFunc(again,
		func(d message.WebhookDelivery) bool { return d.ID == first }) {
		t.Errorf("a delivery retrying in an hour was claimed 10 minutes later (%v)", err)
	}
	attempt(0, "timeout", message.WebhookPending, now)
	attempt(503, "status 503", message.WebhookFailed, time.Time{})
	d, err := s.WebhookDelivery(ctx, first)
	if err != nil || d.Status != message.WebhookFailed || d.AttemptCount != 3 || len(d.Attempts) != 3 {
		t.Fatalf("after 3 attempts: %+v, %v; want failed with 3 attempts", d, err)
	}
	for i, a := range d.Attempts {
		if a.N != i+1 || !a.At.Equal(now.Truncate(time.Millisecond)) || a.LatencyMS != 12.5 {
			t.Errorf("attempt %d = %+v; want number %d at %v", i, a, i+1, now)
		}
	}
	if d.Attempts[0].StatusCode != 500 || d.Attempts[1].Error != "timeout" || d.Attempts[2].StatusCode != 503 {
		t.Errorf("attempts %+v; want 500, timeout, 503 as recorded", d.Attempts)
	}
	if n, err := s.WebhookCounts(ctx); err != nil || n[message.WebhookPending] != 2 || n[message.WebhookFailed] != 1 {
		t.Errorf("WebhookCounts = %v, %v; want 2 pending, 1 failed", n, err)
	}
	if got := deliveryIDs(t, s, storage.WebhookFilter{Status: message.WebhookFailed}); !slices.Equal(got, []string{first}) {
		t.Errorf("failed deliveries: %v, want [%s]", got, first)
	}
	if _, err := s.ClaimWebhooks(ctx, now.Add(24*time.Hour), 10, time.Minute); err != nil {
		t.Fatal(err)
	}
	// Redeliver: pending again with a fresh window; its attempts stay.
	later := now.Add(48 * time.Hour)
	d, err = s.RedeliverWebhook(ctx, first, later)
	if err != nil || d.Status != message.WebhookPending || len(d.Attempts) != 3 || !d.WindowAt.Equal(later.Truncate(time.Millisecond)) {
		t.Fatalf("RedeliverWebhook = %+v, %v; want pending, 3 attempts kept, window from %v", d, err, later)
	}
	if _, err := s.RedeliverWebhook(ctx, first, later); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("redelivering a pending delivery: %v, want ErrConflict", err)
	}
	if _, err := s.RedeliverWebhook(ctx, "nope.1", later); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("redelivering an unknown delivery: %v, want ErrNotFound", err)
	}
	if again, err := s.ClaimWebhooks(ctx, later, 10, time.Minute); err != nil || !slices.ContainsFunc(again,
		func(d message.WebhookDelivery) bool { return d.ID == first }) {
		t.Errorf("the redelivered delivery is not claimed (%v)", err)
	}
	attempt(204, "", message.WebhookSucceeded, time.Time{})
	if d, err = s.WebhookDelivery(ctx, first); err != nil || d.Status != message.WebhookSucceeded || d.Attempts[3].N != 4 {
		t.Errorf("after the 4th attempt: %+v, %v; want succeeded, attempt 4", d, err)
	}
	if err := s.RecordWebhook(ctx, "nope.1", message.WebhookAttempt{}, message.WebhookSucceeded, time.Time{}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("recording an unknown delivery: %v, want ErrNotFound", err)
	}

	// A new scope: later outcomes of the app make no event.
	if err := s.SetWebhookScope(ctx, storage.WebhookScope{}); err != nil {
		t.Fatal(err)
	}
	late := enqueue(t, s, msg("hooked", "d"))[0]
	for _, m := range claim(t, s, at(time.Minute), 10, time.Minute) {
		if err := s.Record(ctx, m.ID, m.Lease.Fence, nil, storage.Update{Status: message.StatusDelivered}); err != nil {
			t.Fatal(err)
		}
	}
	if got := deliveryIDs(t, s, storage.WebhookFilter{MessageID: late.ID}); len(got) != 0 {
		t.Errorf("deliveries of a message out of scope: %v", got)
	}

	// Retention: pruning the messages takes their deliveries.
	r, ok := s.(storage.Retainer)
	if !ok {
		t.Fatalf("%T is no storage.Retainer", s)
	}
	if _, err := r.PruneMessages(ctx, message.StatusDelivered, time.Now().Add(time.Hour), 100); err != nil {
		t.Fatal(err)
	}
	if got := deliveryIDs(t, s, storage.WebhookFilter{}); len(got) != 0 {
		t.Errorf("deliveries after their messages were pruned: %v", got)
	}
	if n, err := s.WebhookCounts(ctx); err != nil || n[message.WebhookPending] != 0 || n[message.WebhookFailed] != 0 {
		t.Errorf("WebhookCounts after pruning = %v, %v; want none", n, err)
	}
	_ = ms
}
