package storagetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/consent"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

// The platform events, the consent ledger, receipts and reasons (issue
// 10, docs/events.md).

func event(app, key string, received time.Time) message.Event {
	return message.Event{App: app, Platform: "wechat", Key: key, Name: "subscribe_msg_popup_event", User: "u1",
		Payload: []byte(`{"event":"subscribe_msg_popup_event"}`), ReceivedAt: received}
}

func putEvent(t *testing.T, s storage.Store, e message.Event) (message.Event, bool) {
	t.Helper()
	got, dup, err := s.PutEvent(context.Background(), e)
	if err != nil {
		t.Fatalf("PutEvent(%s): %v", e.Key, err)
	}
	return got, dup
}

func pending(t *testing.T, s storage.Store, limit int) []string {
	t.Helper()
	es, err := s.PendingEvents(context.Background(), limit)
	if err != nil {
		t.Fatalf("PendingEvents: %v", err)
	}
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

func testEventsDedupe(t *testing.T, s storage.Store) {
	first, dup := putEvent(t, s, event("app1", "k1", t0))
	if dup || first.ID == "" || first.App != "app1" || first.Key != "k1" || !first.ReceivedAt.Equal(t0) {
		t.Fatalf("first put: %+v dup %v", first, dup)
	}
	again := event("app1", "k1", at(time.Second))
	again.Payload = []byte(`{"other":true}`)
	got, dup := putEvent(t, s, again)
	if !dup || got.ID != first.ID || string(got.Payload) != string(first.Payload) || !got.ReceivedAt.Equal(t0) {
		t.Errorf("re-sent push: %+v dup %v; want the first one back, dup", got, dup)
	}
	if _, dup := putEvent(t, s, event("app2", "k1", t0)); dup {
		t.Error("the same key of another app is a duplicate")
	}
	if ids := pending(t, s, 10); len(ids) != 2 {
		t.Errorf("pending %v, want the two distinct pushes", ids)
	}
	stored, err := s.Event(context.Background(), first.ID)
	if err != nil || stored.Name != first.Name || stored.User != "u1" || string(stored.Payload) != string(first.Payload) ||
		!stored.ProcessedAt.IsZero() {
		t.Errorf("Event(%s) = %+v, %v", first.ID, stored, err)
	}
	if _, err := s.Event(context.Background(), "nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Event(unknown): err = %v, want ErrNotFound", err)
	}
	for _, bad := range []message.Event{{Key: "k"}, {App: "a"}} {
		if _, _, err := s.PutEvent(context.Background(), bad); err == nil {
			t.Errorf("PutEvent(%+v) without app or key: no error", bad)
		}
	}
}

func testEventsDedupeConcurrent(t *testing.T, s storage.Store) {
	const n = 16
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		ids  = map[string]bool{}
		news int
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, dup, err := s.PutEvent(context.Background(), event("app1", "same", t0))
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			ids[e.ID] = true
			if !dup {
				news++
			}
		}()
	}
	wg.Wait()
	if news != 1 || len(ids) != 1 {
		t.Errorf("%d pushes stored as new, %d ids; want one", news, len(ids))
	}
}

func testEventsComplete(t *testing.T, s storage.Store) {
	ctx := context.Background()
	var all []string
	for i := range 3 {
		e, _ := putEvent(t, s, event("app1", fmt.Sprint("k", i), at(time.Duration(i)*time.Second)))
		all = append(all, e.ID)
	}
	if got := pending(t, s, 10); !slices.Equal(got, all) {
		t.Fatalf("pending %v, want %v oldest first", got, all)
	}
	if got := pending(t, s, 2); !slices.Equal(got, all[:2]) {
		t.Errorf("pending(limit 2) %v, want %v", got, all[:2])
	}
	k := consent.Key{App: "app1", User: "u1", TemplateID: "tpl"}
	fx := storage.EventEffects{Result: "accept tpl", Consent: []storage.ConsentChange{
		{Key: k, Change: consent.Change{Kind: consent.Accept, Source: consent.SourcePopup}},
		{Key: k, Change: consent.Change{Kind: consent.Accept, Source: consent.SourcePopup}},
	}}
	if err := s.CompleteEvent(ctx, all[0], fx, at(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := pending(t, s, 10); !slices.Equal(got, all[1:]) {
		t.Errorf("pending after completing one: %v, want %v", got, all[1:])
	}
	e, err := s.Event(ctx, all[0])
	if err != nil || !e.ProcessedAt.Equal(at(time.Minute)) || e.Result != "accept tpl" {
		t.Errorf("completed event: %+v, %v", e, err)
	}
	c, err := s.Consent(ctx, k)
	if err != nil || c.Credits != 2 || c.Accepts != 2 || c.Source != consent.SourcePopup || !c.UpdatedAt.Equal(at(time.Minute)) {
		t.Errorf("consent after the event: %+v, %v; want 2 credits from 2 accepts", c, err)
	}
	// Processed twice (two processors, or a retry after a lost answer):
	// refused, the effects not applied again.
	if err := s.CompleteEvent(ctx, all[0], fx, at(2*time.Minute)); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("completing twice: err = %v, want ErrConflict", err)
	}
	if c, _ := s.Consent(ctx, k); c.Credits != 2 {
		t.Errorf("after completing twice: %d credits, want 2", c.Credits)
	}
	if err := s.CompleteEvent(ctx, "nope", storage.EventEffects{}, t0); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("completing an unknown event: err = %v, want ErrNotFound", err)
	}
	// All or nothing: an effect that cannot apply leaves the event pending
	// and the ledger as it was.
	bad := storage.EventEffects{Consent: []storage.ConsentChange{
		{Key: k, Change: consent.Change{Kind: consent.Reject}},
		{Key: k, Change: consent.Change{Kind: "bogus"}},
	}}
	if err := s.CompleteEvent(ctx, all[1], bad, t0); err == nil {
		t.Error("an invalid effect was accepted")
	}
	badReceipt := storage.EventEffects{Consent: []storage.ConsentChange{{Key: k, Change: consent.Change{Kind: consent.Reject}}},
		Receipts: []storage.ReceiptUpdate{{App: "app1"}}}
	if err := s.CompleteEvent(ctx, all[1], badReceipt, t0); err == nil {
		t.Error("a receipt without a msgid was accepted")
	}
	if got := pending(t, s, 10); !slices.Equal(got, all[1:]) {
		t.Errorf("pending after refused completions: %v, want %v", got, all[1:])
	}
	if c, _ := s.Consent(ctx, k); c.Rejected || c.Credits != 2 {
		t.Errorf("a refused completion changed the ledger: %+v", c)
	}
}

func testEventsPrune(t *testing.T, s storage.Store) {
	ctx := context.Background()
	old, _ := putEvent(t, s, event("app1", "old", t0))
	oldPending, _ := putEvent(t, s, event("app1", "old-pending", t0))
	recent, _ := putEvent(t, s, event("app1", "recent", at(time.Hour)))
	for _, id := range []string{old.ID, recent.ID} {
		if err := s.CompleteEvent(ctx, id, storage.EventEffects{Result: "ignored"}, at(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.PruneEvents(ctx, at(time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("PruneEvents = %d, %v; want the one old processed event", n, err)
	}
	if _, err := s.Event(ctx, old.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("pruned event still there: %v", err)
	}
	for _, id := range []string{oldPending.ID, recent.ID} {
		if _, err := s.Event(ctx, id); err != nil {
			t.Errorf("event %s pruned: %v", id, err)
		}
	}
	// A pruned key no longer catches a re-send.
	if _, dup := putEvent(t, s, event("app1", "old", at(2*time.Hour))); dup {
		t.Error("a pruned key still reports duplicates")
	}
}

func testConsentLedger(t *testing.T, s storage.Store) {
	ctx := context.Background()
	k := consent.Key{App: "app1", User: "u1", TemplateID: "tpl"}
	e, err := s.Consent(ctx, k)
	if err != nil || e.Known() || e.App != "app1" || e.User != "u1" || e.TemplateID != "tpl" {
		t.Fatalf("unknown entry: %+v, %v", e, err)
	}
	apply := func(c consent.Change, when time.Time) (consent.Entry, consent.Entry) {
		t.Helper()
		b, a, err := s.ApplyConsent(ctx, k, c, when)
		if err != nil {
			t.Fatalf("ApplyConsent(%s): %v", c.Kind, err)
		}
		return b, a
	}
	// A change that changes nothing writes nothing.
	if b, a := apply(consent.Change{Kind: consent.Take}, t0); b.Known() || a.Known() {
		t.Errorf("take from an unknown entry: %+v → %+v", b, a)
	}
	if e, _ := s.Consent(ctx, k); e.Known() {
		t.Errorf("a no-op change created %+v", e)
	}
	b, a := apply(consent.Change{Kind: consent.Accept, Source: consent.SourcePopup}, at(time.Second))
	if b.Known() || a.Credits != 1 || a.Accepts != 1 || a.Source != consent.SourcePopup || !a.UpdatedAt.Equal(at(time.Second)) {
		t.Errorf("accept: %+v → %+v", b, a)
	}
	if e, _ := s.Consent(ctx, k); e != a {
		t.Errorf("stored %+v, ApplyConsent said %+v", e, a)
	}
	apply(consent.Change{Kind: consent.Reject, Source: consent.SourceSettings}, at(2*time.Second))
	if e, _ := s.Consent(ctx, k); !e.Rejected || e.Credits != 0 || e.Rejects != 1 || e.Accepts != 1 {
		t.Errorf("after a rejection: %+v", e)
	}
	if _, _, err := s.ApplyConsent(ctx, k, consent.Change{Kind: "bogus"}, t0); err == nil {
		t.Error("an unknown change was accepted")
	}
	if _, _, err := s.ApplyConsent(ctx, consent.Key{App: "app1"}, consent.Change{Kind: consent.Accept}, t0); err == nil {
		t.Error("a key without user and template was accepted")
	}
}

// Concurrent takes cannot spend one credit twice.
func testConsentConcurrentTakes(t *testing.T, s storage.Store) {
	ctx := context.Background()
	k := consent.Key{App: "app1", User: "u1", TemplateID: "tpl"}
	for range 3 {
		if _, _, err := s.ApplyConsent(ctx, k, consent.Change{Kind: consent.Accept}, t0); err != nil {
			t.Fatal(err)
		}
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		taken int
	)
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, a, err := s.ApplyConsent(ctx, k, consent.Change{Kind: consent.Take}, t0)
			if err != nil {
				t.Error(err)
				return
			}
			if a.Credits < b.Credits {
				mu.Lock()
				taken++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if e, _ := s.Consent(ctx, k); taken != 3 || e.Credits != 0 {
		t.Errorf("%d takes succeeded on 3 credits, %d left", taken, e.Credits)
	}
}

func testConsentList(t *testing.T, s storage.Store) {
	ctx := context.Background()
	key := func(app, user, tpl string) consent.Key { return consent.Key{App: app, User: user, TemplateID: tpl} }
	for _, k := range []consent.Key{key("app1", "u2", "b"), key("app1", "u1", "b"), key("app1", "u1", "a"), key("app2", "u1", "a")} {
		if _, _, err := s.ApplyConsent(ctx, k, consent.Change{Kind: consent.Accept}, t0); err != nil {
			t.Fatal(err)
		}
	}
	keys := func(es []consent.Entry) []string {
		out := make([]string, len(es))
		for i, e := range es {
			out[i] = e.User + "/" + e.TemplateID
		}
		return out
	}
	u1b := consent.Key{User: "u1", TemplateID: "b"}
	tests := []struct {
		app, user string
		after     consent.Key
		limit     int
		want      []string
		next      consent.Key
	}{
		{"app1", "", consent.Key{}, 0, []string{"u1/a", "u1/b", "u2/b"}, consent.Key{}},
		{"app1", "u1", consent.Key{}, 0, []string{"u1/a", "u1/b"}, consent.Key{}},
		{"app1", "", consent.Key{}, 2, []string{"u1/a", "u1/b"}, u1b},
		{"app1", "", u1b, 2, []string{"u2/b"}, consent.Key{}},
		{"app1", "", consent.Key{}, 3, []string{"u1/a", "u1/b", "u2/b"}, consent.Key{}},
		{"app1", "u1", consent.Key{}, 2, []string{"u1/a", "u1/b"}, consent.Key{}},
		{"app1", "", consent.Key{User: "u1", TemplateID: "a"}, 0, []string{"u1/b", "u2/b"}, consent.Key{}},
		{"app1", "u1", consent.Key{User: "u1", TemplateID: "a"}, 0, []string{"u1/b"}, consent.Key{}},
		// A user filter with a cursor of another user: the cursor is still
		// a position in the order by user then template (the drivers
		// differed: Redis listed from the start).
		{"app1", "u1", u1b, 0, []string{}, consent.Key{}},
		{"app1", "u1", consent.Key{User: "u2", TemplateID: ""}, 0, []string{}, consent.Key{}},
		{"app1", "u1", consent.Key{User: "u2", TemplateID: "b"}, 0, []string{}, consent.Key{}},
		{"app1", "u2", consent.Key{User: "u1", TemplateID: "z"}, 0, []string{"u2/b"}, consent.Key{}},
		{"app1", "u2", consent.Key{User: "u", TemplateID: "z"}, 0, []string{"u2/b"}, consent.Key{}},
		{"app1", "u1", consent.Key{User: "u0", TemplateID: "z"}, 1, []string{"u1/a"}, consent.Key{User: "u1", TemplateID: "a"}},
		{"app2", "", consent.Key{}, 0, []string{"u1/a"}, consent.Key{}},
		{"app3", "", consent.Key{}, 0, []string{}, consent.Key{}},
	}
	for _, tc := range tests {
		got, next, err := s.Consents(ctx, tc.app, tc.user, tc.after, tc.limit)
		if err != nil || !slices.Equal(keys(got), tc.want) || next != tc.next {
			t.Errorf("Consents(%s, %q, %v, %d) = %v, next %v, %v; want %v, next %v", tc.app, tc.user, tc.after, tc.limit,
				keys(got), next, err, tc.want, tc.next)
		}
	}
	// A full page of the largest size, one entry more: the page has
	// PageSize entries and a next key, the next page the last one.
	for i := range 1000 {
		k := key("big", fmt.Sprintf("u%04d", i), "t")
		if _, _, err := s.ApplyConsent(ctx, k, consent.Change{Kind: consent.Accept}, t0); err != nil {
			t.Fatal(err)
		}
	}
	for _, limit := range []int{1000, 5000} {
		got, next, err := s.Consents(ctx, "big", "", consent.Key{}, limit)
		if err != nil || len(got) != 1000 || next != (consent.Key{}) {
			t.Errorf("limit %d over 1000 entries: %d, next %v, %v; want 1000 and no next", limit, len(got), next, err)
		}
	}
	if _, _, err := s.ApplyConsent(ctx, key("big", "u9999", "t"), consent.Change{Kind: consent.Accept}, t0); err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{1000, 5000} {
		got, next, err := s.Consents(ctx, "big", "", consent.Key{}, limit)
		if err != nil || len(got) != 1000 || next != (consent.Key{User: "u0999", TemplateID: "t"}) {
			t.Fatalf("limit %d over 1001 entries: %d, next %v, %v; want 1000 and next u0999/t", limit, len(got), next, err)
		}
		got, next, err = s.Consents(ctx, "big", "", next, limit)
		if err != nil || len(got) != 1 || got[0].User != "u9999" || next != (consent.Key{}) {
			t.Errorf("limit %d, second page: %v, next %v, %v; want u9999 alone", limit, keys(got), next, err)
		}
	}
}

// testReceipts: a receipt shows on the message it names, whether it
// arrived before or after the send's outcome was written, and List
// selects by it.
func testReceipts(t *testing.T, s storage.Store) {
	ctx := context.Background()
	early := enqueue(t, s, msg("app1", "u1"))[0]
	late := enqueue(t, s, msg("app1", "u2"))[0]
	none := enqueue(t, s, msg("app1", "u3"))[0]
	claimed := claim(t, s, t0, 3, time.Minute)
	fence := map[string]int64{}
	for _, m := range claimed {
		fence[m.ID] = m.Lease.Fence
	}
	failed := message.Receipt{Status: message.ReceiptFailed, ErrorCode: "10001", ErrorStatus: "system error", At: at(time.Second)}
	ok := message.Receipt{Status: message.ReceiptDelivered, ErrorCode: "0", ErrorStatus: "success", At: at(2 * time.Second)}
	e1, _ := putEvent(t, s, event("app1", "sent-1", t0))
	if err := s.CompleteEvent(ctx, e1.ID, storage.EventEffects{Receipts: []storage.ReceiptUpdate{
		{App: "app1", PlatformMsgID: "pm-early", Receipt: failed},
		{App: "app2", PlatformMsgID: "pm-late", Receipt: failed}, // another app's message with the same msgid
	}}, t0); err != nil {
		t.Fatal(err)
	}
	deliver := func(id, msgid string) {
		t.Helper()
		if err := s.Record(ctx, id, fence[id], &message.Attempt{At: t0, Outcome: message.OutcomeDelivered},
			storage.Update{Status: message.StatusDelivered, PlatformMsgID: msgid}); err != nil {
			t.Fatal(err)
		}
	}
	deliver(early.ID, "pm-early")
	deliver(late.ID, "pm-late")
	deliver(none.ID, "pm-none")
	e2, _ := putEvent(t, s, event("app1", "sent-2", t0))
	if err := s.CompleteEvent(ctx, e2.ID, storage.EventEffects{Receipts: []storage.ReceiptUpdate{
		{App: "app1", PlatformMsgID: "pm-late", Receipt: ok}}}, t0); err != nil {
		t.Fatal(err)
	}
	check := func(id string, want *message.Receipt) {
		t.Helper()
		got := get(t, s, id).Receipt
		switch {
		case want == nil && got != nil:
			t.Errorf("message %s has receipt %+v, want none", id, got)
		case want != nil && (got == nil || got.Status != want.Status || got.ErrorCode != want.ErrorCode ||
			got.ErrorStatus != want.ErrorStatus || !got.At.Equal(want.At)):
			t.Errorf("message %s receipt %+v, want %+v", id, got, want)
		}
	}
	check(early.ID, &failed)
	check(late.ID, &ok)
	check(none.ID, nil)
	if got := listAll(t, s, storage.Filter{App: "app1", Receipt: message.ReceiptFailed}); !slices.Equal(got, []string{early.ID}) {
		t.Errorf("List(receipt failed) = %v, want [%s]", got, early.ID)
	}
	if got := listAll(t, s, storage.Filter{Receipt: message.ReceiptDelivered}); !slices.Equal(got, []string{late.ID}) {
		t.Errorf("List(receipt delivered) = %v, want [%s]", got, late.ID)
	}
	msgs, _, err := s.List(ctx, storage.Filter{App: "app1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.ID == early.ID && (m.Receipt == nil || m.Receipt.Status != message.ReceiptFailed) {
			t.Errorf("List shows %s without its receipt: %+v", m.ID, m.Receipt)
		}
	}
}

// testReason: Record writes a message's reason, Redrive clears it.
func testReason(t *testing.T, s storage.Store) {
	ctx := context.Background()
	m := enqueue(t, s, msg("app1", "u1"))[0]
	c := claim(t, s, t0, 1, time.Minute)
	a := &message.Attempt{At: t0, Outcome: message.OutcomeRejected, Code: string(message.ReasonNotSubscribed)}
	if err := s.Record(ctx, m.ID, c[0].Lease.Fence, a, storage.Update{Status: message.StatusRejected,
		LastCode: string(message.ReasonNotSubscribed), Reason: message.ReasonNotSubscribed}); err != nil {
		t.Fatal(err)
	}
	if got := get(t, s, m.ID); got.Reason != message.ReasonNotSubscribed || got.Status != message.StatusRejected {
		t.Errorf("after Record: %+v", got)
	}
	if got := listAll(t, s, storage.Filter{Status: message.StatusRejected}); !slices.Equal(got, []string{m.ID}) {
		t.Errorf("List(rejected) = %v", got)
	}
	r, err := s.Redrive(ctx, m.ID, at(time.Minute))
	if err != nil || r.Reason != "" {
		t.Fatalf("Redrive = %+v, %v; want the reason cleared", r, err)
	}
	if got := get(t, s, m.ID); got.Reason != "" {
		t.Errorf("stored after redrive: reason %q", got.Reason)
	}
	// Enqueue ignores reason and receipt: they are outcomes.
	in := msg("app1", "u2")
	in.Reason, in.Receipt = "x", &message.Receipt{Status: message.ReceiptFailed}
	out := enqueue(t, s, in)[0]
	if got := get(t, s, out.ID); got.Reason != "" || got.Receipt != nil || out.Reason != "" {
		t.Errorf("enqueued with an outcome: %+v", got)
	}
}
