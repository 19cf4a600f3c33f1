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

// Operator control (issue 11): where a message came from, token refresh
// attempts, cancel, bulk cancel and redrive, per-app counts and pauses.

// drive claims every due message at t0 and records each one's update by
// recipient (the dispatcher's way to a status).
func drive(t *testing.T, s storage.Store, updates map[string]storage.Update) {
	t.Helper()
	for _, m := range claim(t, s, t0, 1000, time.Minute) {
		u, ok := updates[m.To]
		if !ok {
			u = storage.Update{Status: message.StatusQueued, NextAttemptAt: t0}
		}
		var a *message.Attempt
		if u.Status != message.StatusQueued {
			a = &message.Attempt{At: t0, Outcome: message.OutcomePermanent, Code: u.LastCode, Reason: u.Reason}
		}
		if err := s.Record(context.Background(), m.ID, m.Lease.Fence, a, u); err != nil {
			t.Fatalf("Record %s: %v", m.To, err)
		}
	}
}

// testMessageOrigin: send_at and the API key's name are kept, on single
// messages and on a broadcast's (list and group).
func testMessageOrigin(t *testing.T, s storage.Store) {
	ctx := context.Background()
	in := msg("app1", "u1")
	in.SendAt, in.NextAttemptAt, in.APIKey = at(time.Hour), at(time.Hour), "orders"
	out := enqueue(t, s, in)[0]
	if got := get(t, s, out.ID); !got.SendAt.Equal(at(time.Hour)) || got.APIKey != "orders" {
		t.Errorf("Get: send_at %v, api_key %q; want %v, orders", got.SendAt, got.APIKey, at(time.Hour))
	}
	listed := listAll(t, s, storage.Filter{App: "app1"})
	if !slices.Equal(listed, []string{out.ID}) {
		t.Fatalf("List = %v", listed)
	}
	b := message.Broadcast{ID: "bc-origin", App: "app1", TemplateID: "tpl-1", Data: map[string]string{"k": "v"},
		SendAt: at(2 * time.Hour), APIKey: "batch"}
	m := msg("app1", "u2")
	m.NextAttemptAt, m.SendAt, m.APIKey = at(2*time.Hour), at(2*time.Hour), "batch"
	if _, _, err := s.CreateBroadcast(ctx, b, []message.Message{m}); err != nil {
		t.Fatal(err)
	}
	putGroup(t, s, "app1", "g", members("u3", "u4"))
	gb := message.Broadcast{ID: "bc-group", App: "app1", Group: "g", TemplateID: "tpl-1", Data: map[string]string{"k": "v"},
		SendAt: at(3 * time.Hour), APIKey: "batch"}
	if _, _, err := s.CreateBroadcast(ctx, gb, nil); err != nil {
		t.Fatal(err)
	}
	fanOutAll(t, s, 10)
	for _, f := range []storage.Filter{{BroadcastID: "bc-origin"}, {BroadcastID: "bc-group"}} {
		for _, id := range listAll(t, s, f) {
			got := get(t, s, id)
			if got.APIKey != "batch" || got.SendAt.IsZero() || !got.SendAt.Equal(got.NextAttemptAt) {
				t.Errorf("broadcast %s message %+v: want api_key batch and send_at = next_attempt_at", f.BroadcastID, got)
			}
		}
	}
	if got, _, err := s.Broadcast(ctx, "bc-group"); err != nil || got.APIKey != "batch" {
		t.Errorf("Broadcast = %+v, %v; want api_key batch", got, err)
	}
}

// testRecordAttempts: the attempts an Update carries (token refreshes)
// are written before Record's own, with their kind and reason; an attempt
// without a kind reads back as a send.
func testRecordAttempts(t *testing.T, s storage.Store) {
	ctx := context.Background()
	m := enqueue(t, s, msg("app1", "u1"))[0]
	c := claim(t, s, t0, 1, time.Minute)
	refresh := message.Attempt{At: t0, Kind: message.KindTokenRefresh, Outcome: message.OutcomeRetryable, Code: "-1",
		Message: "busy", Reason: reason.PlatformUnavailable, LatencyMS: 2}
	ok := message.Attempt{At: at(time.Millisecond), Kind: message.KindTokenRefresh, Outcome: message.OutcomeOK, Code: "0", LatencyMS: 1}
	send := message.Attempt{At: at(2 * time.Millisecond), Outcome: message.OutcomeRetryable, Code: "-1", Reason: reason.PlatformUnavailable}
	if err := s.Record(ctx, m.ID, c[0].Lease.Fence, &send, storage.Update{Status: message.StatusRetrying,
		NextAttemptAt: at(time.Minute), CountRetry: true, LastCode: "-1", Reason: reason.PlatformUnavailable,
		Attempts: []message.Attempt{refresh, ok}}); err != nil {
		t.Fatal(err)
	}
	got := canon(get(t, s, m.ID))
	send.Kind = message.KindSend
	if want := []message.Attempt{refresh, ok, send}; !slices.Equal(got.Attempts, want) {
		t.Errorf("attempts %+v\nwant %+v", got.Attempts, want)
	}
	if got.Reason != reason.PlatformUnavailable {
		t.Errorf("reason %q", got.Reason)
	}
	// Refreshes alone (no attempt of Record's own) are written too.
	c = claim(t, s, at(time.Minute), 1, time.Minute)
	if err := s.Record(ctx, m.ID, c[0].Lease.Fence, nil, storage.Update{Status: message.StatusQueued,
		NextAttemptAt: at(time.Hour), Attempts: []message.Attempt{ok}}); err != nil {
		t.Fatal(err)
	}
	if got := get(t, s, m.ID); len(got.Attempts) != 4 || got.Attempts[3].Kind != message.KindTokenRefresh {
		t.Errorf("attempts after a refresh-only record: %+v", got.Attempts)
	}
}

// testCancel: queued (scheduled ones too) and retrying messages end
// cancelled; others are a conflict; a cancelled message is never claimed
// and can be redriven.
func testCancel(t *testing.T, s storage.Store) {
	ctx := context.Background()
	scheduled := msg("app1", "scheduled")
	scheduled.NextAttemptAt = at(24 * time.Hour)
	ms := enqueue(t, s, msg("app1", "queued"), msg("app1", "retrying"), msg("app1", "sending"),
		msg("app1", "delivered"), msg("app1", "failed"), scheduled)
	byTo := map[string]string{}
	for _, m := range ms {
		byTo[m.To] = m.ID
	}
	// queued stays queued (handed back), sending stays claimed.
	c := claim(t, s, t0, 10, time.Minute)
	for _, m := range c {
		var u storage.Update
		switch m.To {
		case "queued":
			u = storage.Update{Status: message.StatusQueued, NextAttemptAt: t0}
		case "retrying":
			u = storage.Update{Status: message.StatusRetrying, NextAttemptAt: at(time.Minute), LastCode: "-1"}
		case "delivered":
			u = storage.Update{Status: message.StatusDelivered}
		case "failed":
			u = storage.Update{Status: message.StatusFailed, LastCode: "43101", Reason: reason.NotSubscribed}
		default:
			continue
		}
		if err := s.Record(ctx, m.ID, m.Lease.Fence, nil, u); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		to   string
		want error
	}{
		{"queued", nil}, {"retrying", nil}, {"scheduled", nil},
		{"sending", storage.ErrConflict}, {"delivered", storage.ErrConflict}, {"failed", storage.ErrConflict},
	} {
		got, err := s.Cancel(ctx, byTo[tc.to], at(time.Second))
		if tc.want != nil {
			if !errors.Is(err, tc.want) {
				t.Errorf("Cancel %s: err %v, want %v", tc.to, err, tc.want)
			}
			continue
		}
		if err != nil || got.Status != message.StatusCancelled || got.Reason != reason.Cancelled || got.ID != byTo[tc.to] {
			t.Errorf("Cancel %s = %+v, %v; want cancelled, reason cancelled", tc.to, got, err)
		}
	}
	if _, err := s.Cancel(ctx, "nope", t0); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Cancel of an unknown id: %v", err)
	}
	if again, err := s.Cancel(ctx, byTo["queued"], t0); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("Cancel twice = %+v, %v; want a conflict", again, err)
	}
	// Only the message in flight comes back (its lease ran out).
	if got := claim(t, s, at(48*time.Hour), 10, time.Minute); !slices.Equal(ids(got), []string{byTo["sending"]}) {
		t.Errorf("claim after the cancels = %v, want the sending one only", ids(got))
	}
	r, err := s.Redrive(ctx, byTo["scheduled"], at(time.Hour))
	if err != nil || r.Status != message.StatusQueued || r.Reason != "" {
		t.Fatalf("Redrive of a cancelled message = %+v, %v", r, err)
	}
	if got := claim(t, s, at(time.Hour), 10, time.Minute); !slices.Equal(ids(got), []string{byTo["scheduled"]}) {
		t.Errorf("claim after the redrive = %v", ids(got))
	}
}

// testBulkCancelRedrive: the bulk operations select by app, status,
// reason, code, broadcast and creation time, apply only to the statuses
// they may change, and step by limit.
func testBulkCancelRedrive(t *testing.T, s storage.Store) {
	ctx := context.Background()
	var in []message.Message
	for i, to := range []string{"a1", "a2", "a3", "a4", "a5", "a6"} {
		m := msg("app1", to)
		m.CreatedAt = at(time.Duration(i) * time.Minute)
		in = append(in, m)
	}
	other := msg("app2", "b1")
	in = append(in, other)
	enqueue(t, s, in...)
	// a1, a2 failed 43101 not_subscribed; a3 failed -1; a4 rejected risky;
	// a5 retrying; a6 and b1 queued.
	drive(t, s, map[string]storage.Update{
		"a1": {Status: message.StatusFailed, LastCode: "43101", Reason: reason.NotSubscribed},
		"a2": {Status: message.StatusFailed, LastCode: "43101", Reason: reason.NotSubscribed},
		"a3": {Status: message.StatusFailed, LastCode: "-1", Reason: reason.PlatformUnavailable},
		"a4": {Status: message.StatusRejected, LastCode: "risky:1", Reason: reason.RiskyContent},
		"a5": {Status: message.StatusRetrying, NextAttemptAt: at(time.Hour), LastCode: "-1"},
	})
	count := func(sel storage.Selection, redrive bool, limit int) int {
		t.Helper()
		var n int
		var err error
		if redrive {
			n, err = s.RedriveMatching(ctx, sel, at(2*time.Hour), limit)
		} else {
			n, err = s.CancelMatching(ctx, sel, at(2*time.Hour), limit)
		}
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	statusOf := func(to string) message.Status {
		for _, id := range listAll(t, s, storage.Filter{}) {
			if m := get(t, s, id); m.To == to {
				return m.Status
			}
		}
		t.Fatalf("no message to %s", to)
		return ""
	}
	// Redrive: by code and reason; delivered, queued or retrying are never
	// touched; a status the operation does not apply to selects nothing.
	if n := count(storage.Selection{App: "app1", Code: "43101", Reason: reason.NotSubscribed}, true, 1); n != 1 {
		t.Fatalf("redrive step 1: %d", n)
	}
	if n := count(storage.Selection{App: "app1", Code: "43101"}, true, 10); n != 1 {
		t.Fatalf("redrive step 2: %d, want the second 43101", n)
	}
	if statusOf("a1") != message.StatusQueued || statusOf("a2") != message.StatusQueued || statusOf("a3") != message.StatusFailed {
		t.Fatal("redrive by code changed the wrong messages")
	}
	if n := count(storage.Selection{Statuses: []message.Status{message.StatusQueued, message.StatusRetrying}}, true, 100); n != 0 {
		t.Fatalf("redrive of waiting messages: %d, want 0", n)
	}
	if n := count(storage.Selection{Statuses: []message.Status{message.StatusRejected}}, true, 100); n != 1 || statusOf("a4") != message.StatusQueued {
		t.Fatalf("redrive of the rejected: %d", n)
	}
	// Cancel: by creation time (a3 failed is not waiting: untouched).
	sel := storage.Selection{App: "app1", CreatedFrom: at(2 * time.Minute), CreatedTo: at(5 * time.Minute)}
	if n := count(sel, false, 100); n != 2 || statusOf("a4") != message.StatusCancelled || statusOf("a5") != message.StatusCancelled ||
		statusOf("a3") != message.StatusFailed || statusOf("a6") != message.StatusQueued {
		t.Fatalf("cancel by time: %d", n)
	}
	// By app: the other app's message only.
	if n := count(storage.Selection{App: "app2"}, false, 100); n != 1 || statusOf("b1") != message.StatusCancelled || statusOf("a6") != message.StatusQueued {
		t.Fatalf("cancel by app: %d", n)
	}
	// The cancelled ones carry the reason and can be redriven by it.
	if n := count(storage.Selection{Reason: reason.Cancelled}, true, 100); n != 3 {
		t.Fatalf("redrive of the cancelled: %d, want 3", n)
	}
	// By broadcast.
	b := message.Broadcast{ID: "bc-bulk", App: "app1", TemplateID: "tpl-1", Data: map[string]string{"k": "v"}}
	if _, _, err := s.CreateBroadcast(ctx, b, []message.Message{msg("app1", "c1"), msg("app1", "c2")}); err != nil {
		t.Fatal(err)
	}
	if n := count(storage.Selection{BroadcastID: "bc-bulk"}, false, 100); n != 2 {
		t.Fatalf("cancel by broadcast: %d", n)
	}
	if _, counts, err := s.Broadcast(ctx, "bc-bulk"); err != nil || counts[message.StatusCancelled] != 2 {
		t.Fatalf("broadcast counts %v, %v", counts, err)
	}
}

func testAppCounts(t *testing.T, s storage.Store) {
	ctx := context.Background()
	enqueue(t, s, msg("app1", "a1"), msg("app1", "a2"), msg("app1", "a3"), msg("app2", "b1"))
	drive(t, s, map[string]storage.Update{"a1": {Status: message.StatusFailed, LastCode: "x"}})
	got, err := s.AppCounts(ctx, "app1")
	if err != nil {
		t.Fatal(err)
	}
	want := map[message.Status]int{}
	for _, st := range message.Statuses {
		want[st] = 0
	}
	want[message.StatusQueued], want[message.StatusFailed] = 2, 1
	for _, st := range message.Statuses {
		if got[st] != want[st] {
			t.Errorf("AppCounts(app1)[%s] = %d, want %d (%v)", st, got[st], want[st], got)
		}
	}
	if len(got) != len(message.Statuses) {
		t.Errorf("AppCounts has %d statuses, want every one", len(got))
	}
	if none, err := s.AppCounts(ctx, "none"); err != nil || none[message.StatusQueued] != 0 {
		t.Errorf("AppCounts(none) = %v, %v", none, err)
	}
}

// testPauses: a pause is stored and read back, a shorter one does not
// shorten it, and a resume removes it and makes exactly the messages it
// held due (not those scheduled for later on their own).
func testPauses(t *testing.T, s storage.Store) {
	ctx := context.Background()
	p := message.Pause{App: "app1", Until: at(10 * time.Hour), Reason: reason.QuotaExceeded, Code: "45009",
		Message: "reach max api daily quota limit", Since: t0}
	if err := s.PauseApp(ctx, p); err != nil {
		t.Fatal(err)
	}
	shorter := p
	shorter.Until, shorter.Reason, shorter.Code = at(time.Minute), reason.RateLimited, "45011"
	if err := s.PauseApp(ctx, shorter); err != nil {
		t.Fatal(err)
	}
	other := message.Pause{App: "app2", Until: at(time.Minute), Reason: reason.RateLimited, Since: t0}
	if err := s.PauseApp(ctx, other); err != nil {
		t.Fatal(err)
	}
	ps, err := s.Pauses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(ps, func(a, b message.Pause) int { return cmpString(a.App, b.App) })
	if len(ps) != 2 || !samePause(ps[0], p) || !samePause(ps[1], other) {
		t.Fatalf("Pauses = %+v\nwant %+v and %+v", ps, p, other)
	}
	// app1: a1 held by the pause, a2 scheduled for later on its own, a3
	// held but cancelled since; app2: b1 held.
	later := msg("app1", "a2")
	later.NextAttemptAt = at(5 * time.Hour)
	enqueue(t, s, msg("app1", "a1"), later, msg("app1", "a3"), msg("app2", "b1"))
	for _, m := range claim(t, s, t0, 10, time.Minute) {
		u := storage.Update{Status: message.StatusRetrying, NextAttemptAt: at(10 * time.Hour), Held: true, LastCode: "45009"}
		if err := s.Record(ctx, m.ID, m.Lease.Fence, nil, u); err != nil {
			t.Fatal(err)
		}
	}
	var a3 string
	for _, id := range listAll(t, s, storage.Filter{App: "app1"}) {
		if get(t, s, id).To == "a3" {
			a3 = id
		}
	}
	if _, err := s.Cancel(ctx, a3, t0); err != nil {
		t.Fatal(err)
	}
	n, err := s.ResumeApp(ctx, "app1", at(time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("ResumeApp = %d, %v; want the one held message", n, err)
	}
	if ps, _ := s.Pauses(ctx); len(ps) != 1 || ps[0].App != "app2" {
		t.Fatalf("Pauses after the resume = %+v, want app2's only", ps)
	}
	got := claim(t, s, at(time.Hour), 10, time.Minute)
	if len(got) != 1 || got[0].To != "a1" {
		t.Fatalf("claimed after the resume: %v, want a1 only (a2 is due later, b1 is another app's)", ids(got))
	}
	// A resume of an app without a pause is harmless.
	if n, err := s.ResumeApp(ctx, "app1", at(time.Hour)); err != nil || n != 0 {
		t.Fatalf("second ResumeApp = %d, %v", n, err)
	}
}

func samePause(a, b message.Pause) bool {
	return a.App == b.App && a.Until.Equal(b.Until) && a.Since.Equal(b.Since) && a.Reason == b.Reason &&
		a.Code == b.Code && a.Message == b.Message
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// testGroupList: an app's groups by name, page by page, with their sizes;
// another app's are not listed.
func testGroupList(t *testing.T, s storage.Store) {
	ctx := context.Background()
	putGroup(t, s, "app1", "b", members("u1", "u2"))
	putGroup(t, s, "app1", "a", members("u1"))
	putGroup(t, s, "app1", "c", members("u1", "u2", "u3"))
	putGroup(t, s, "app2", "a", members("u9"))
	var names []string
	var sizes []int
	after := ""
	for range 5 {
		gs, next, err := s.Groups(ctx, "app1", after, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range gs {
			if g.App != "app1" || g.UpdatedAt.IsZero() {
				t.Errorf("group %+v", g)
			}
			names, sizes = append(names, g.Name), append(sizes, g.Size)
		}
		if next == "" {
			break
		}
		after = next
	}
	if !slices.Equal(names, []string{"a", "b", "c"}) || !slices.Equal(sizes, []int{1, 2, 3}) {
		t.Errorf("Groups = %v sizes %v, want a b c sizes 1 2 3", names, sizes)
	}
	if gs, next, err := s.Groups(ctx, "none", "", 10); err != nil || len(gs) != 0 || next != "" {
		t.Errorf("Groups(none) = %v, %q, %v", gs, next, err)
	}
}
