// Package storagetest is the conformance suite every storage.Store backend
// must pass: the behaviour the API and the dispatcher rely on, written
// against the interface only. A backend's tests call Run with a factory.
package storagetest

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/consent"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

// Run runs the suite. newStore returns a fresh, empty store and arranges
// (t.Cleanup) for it to be closed; closing an already closed store must be
// harmless. Subtests run in parallel, each with its own store.
func Run(t *testing.T, newStore func(t *testing.T) storage.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Store)
	}{
		{"EnqueueGet", testEnqueueGet},
		{"EnqueueDefaults", testEnqueueDefaults},
		{"EnqueueAllOrNone", testEnqueueAllOrNone},
		{"EnqueueFailureIsolated", testEnqueueFailureIsolated},
		{"Idempotency", testIdempotency},
		{"IdempotencyConcurrent", testIdempotencyConcurrent},
		{"IdempotencyFingerprint", testIdempotencyFingerprint},
		{"BroadcastIdempotency", testBroadcastIdempotency},
		{"GroupIdempotency", testGroupIdempotency},
		{"KeyExpiry", testKeyExpiry},
		{"GetNotFound", testGetNotFound},
		{"CanceledContext", testCanceledContext},
		{"List", testList},
		{"ListFilters", testListFilters},
		{"ListLimits", testListLimits},
		{"ListBadCursor", testListBadCursor},
		{"ListMatches", testListMatches},
		{"ListExaminedBound", testListExaminedBound},
		{"Counts", testCounts},
		{"CountsKept", testCountsKept},
		{"CountsEveryMove", testCountsEveryMove},
		{"Broadcast", testBroadcast},
		{"BroadcastAllOrNone", testBroadcastAllOrNone},
		{"ClaimDueOrder", testClaimDueOrder},
		{"ClaimLeaseExpiry", testClaimLeaseExpiry},
		{"ClaimConcurrent", testClaimConcurrent},
		{"Record", testRecord},
		{"RecordErrors", testRecordErrors},
		{"LeaseFence", testLeaseFence},
		{"Redrive", testRedrive},
		{"Groups", testGroups},
		{"GroupsLarge", testGroupsLarge},
		{"GroupPutFails", testGroupPutFails},
		{"GroupBroadcast", testGroupBroadcast},
		{"Sweep", testSweep},
		{"Tokens", testTokens},
		{"EventsDedupe", testEventsDedupe},
		{"EventsDedupeConcurrent", testEventsDedupeConcurrent},
		{"EventsComplete", testEventsComplete},
		{"EventsPrune", testEventsPrune},
		{"ConsentLedger", testConsentLedger},
		{"ConsentConcurrentTakes", testConsentConcurrentTakes},
		{"ConsentList", testConsentList},
		{"Receipts", testReceipts},
		{"Reason", testReason},
		{"MessageOrigin", testMessageOrigin},
		{"RecordAttempts", testRecordAttempts},
		{"Cancel", testCancel},
		{"BulkCancelRedrive", testBulkCancelRedrive},
		{"AppCounts", testAppCounts},
		{"Pauses", testPauses},
		{"GroupList", testGroupList},
		{"Retention", testRetention},
		{"WebhookOutbox", testWebhookOutbox},
		{"WebhookDelivery", testWebhookDelivery},
		{"Audience", testAudience},
		{"AudienceIdempotency", testAudienceIdempotency},
		{"Schedules", testSchedules},
		{"ScheduleClaimConcurrent", testScheduleClaimConcurrent},
		{"BroadcastList", testBroadcastList},
		{"BroadcastListBound", testBroadcastListBound},
		{"Closed", testClosed},
		{"CampaignDedup", testCampaignDedup},
		{"CampaignDedupConcurrent", testCampaignDedupConcurrent},
		{"CampaignCaps", testCampaignCaps},
		{"CampaignCapsConcurrent", testCampaignCapsConcurrent},
		{"CampaignHeldReason", testCampaignHeldReason},
		{"CampaignBroadcast", testCampaignBroadcast},
		{"CampaignFanOut", testCampaignFanOut},
		{"CampaignFanOutConcurrent", testCampaignFanOutConcurrent},
		{"Sessions", testSessions},
		{"SessionsCap", testSessionsCap},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

// t0 is the suite's clock: every time a test passes is relative to it, and
// whole milliseconds, the precision backends must keep.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 6_000_000, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

// msg builds a message for app due at t0.
func msg(app, to string) message.Message {
	return message.Message{
		App: app, Platform: "wechat", To: to, TemplateID: "tpl-1",
		Data: map[string]string{"thing1": "hello " + to}, Page: "pages/index",
		NextAttemptAt: t0,
	}
}

func enqueue(t *testing.T, s storage.Store, msgs ...message.Message) []message.Message {
	t.Helper()
	out, dup, err := s.Enqueue(context.Background(), msgs)
	if err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	if len(out) != len(msgs) || len(dup) != len(msgs) {
		t.Fatalf("Enqueue returned %d messages, %d dup flags for %d", len(out), len(dup), len(msgs))
	}
	return out
}

func get(t *testing.T, s storage.Store, id string) message.Message {
	t.Helper()
	m, err := s.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	return m
}

func claim(t *testing.T, s storage.Store, now time.Time, limit int, lease time.Duration) []message.Message {
	t.Helper()
	ms, err := s.Claim(context.Background(), now, limit, lease)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	return ms
}

func ids(ms []message.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// canon makes messages comparable with reflect.DeepEqual: times in UTC.
func canon(m message.Message) message.Message {
	m.NextAttemptAt, m.CreatedAt, m.UpdatedAt = m.NextAttemptAt.UTC(), m.CreatedAt.UTC(), m.UpdatedAt.UTC()
	m.Fingerprint = "" // written with the key, not with the message
	if len(m.Attempts) == 0 {
		m.Attempts = nil
	}
	for i := range m.Attempts {
		m.Attempts[i].At = m.Attempts[i].At.UTC()
	}
	return m
}

func sameMessage(t *testing.T, got, want message.Message) {
	t.Helper()
	if g, w := canon(got), canon(want); !reflect.DeepEqual(g, w) {
		t.Errorf("message differs\n got: %+v\nwant: %+v", g, w)
	}
}

func testEnqueueGet(t *testing.T, s storage.Store) {
	in := msg("app1", "u1")
	in.ID = "m-explicit"
	in.IdempotencyKey = "k1"
	in.NextAttemptAt = at(time.Hour)
	in.CreatedAt = at(-time.Minute)
	in.UpdatedAt = at(-time.Minute)
	in.Status = message.StatusQueued
	out := enqueue(t, s, in, msg("app1", "u2"))
	sameMessage(t, out[0], in)
	got := get(t, s, "m-explicit")
	sameMessage(t, got, in)
	if got.Attempts != nil {
		t.Errorf("new message has attempts %v", got.Attempts)
	}
	second := get(t, s, out[1].ID)
	sameMessage(t, second, out[1])
	if second.Data["thing1"] != "hello u2" {
		t.Errorf("data = %v", second.Data)
	}
}

func testEnqueueDefaults(t *testing.T, s storage.Store) {
	in := msg("app1", "u1")
	in.NextAttemptAt = time.Time{}
	in.Data = nil
	before := time.Now().Add(-time.Second)
	out := enqueue(t, s, in)[0]
	if out.ID == "" {
		t.Fatal("no id assigned")
	}
	if out.Status != message.StatusQueued {
		t.Errorf("status = %q, want queued", out.Status)
	}
	if out.CreatedAt.Before(before) || out.CreatedAt.After(time.Now().Add(time.Second)) {
		t.Errorf("created_at = %v, want about now", out.CreatedAt)
	}
	if !out.NextAttemptAt.Equal(out.CreatedAt) {
		t.Errorf("next_attempt_at = %v, want created_at %v (due at once)", out.NextAttemptAt, out.CreatedAt)
	}
	sameMessage(t, get(t, s, out.ID), out)
	// Due at once: a claim at the real present finds it.
	if got := claim(t, s, time.Now().Add(time.Second), 10, time.Minute); len(got) != 1 || got[0].ID != out.ID {
		t.Errorf("claim = %v, want [%s]", ids(got), out.ID)
	}
}

func testEnqueueAllOrNone(t *testing.T, s storage.Store) {
	ctx := context.Background()
	first := msg("app1", "u1")
	first.ID = "m1"
	enqueue(t, s, first)

	a, b := msg("app1", "u2"), msg("app1", "u3")
	a.ID, b.ID = "m2", "m1" // m1 exists
	if _, _, err := s.Enqueue(ctx, []message.Message{a, b}); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("Enqueue with a taken id: err = %v, want ErrConflict", err)
	}
	if _, err := s.Get(ctx, "m2"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("m2 stored although its batch failed: err = %v", err)
	}
	if got := get(t, s, "m1"); got.To != "u1" {
		t.Errorf("m1 overwritten: to = %q", got.To)
	}
}

// testEnqueueFailureIsolated: concurrent calls, some failing, must not
// fail or roll back each other (backends batching writes must isolate
// them).
func testEnqueueFailureIsolated(t *testing.T, s storage.Store) {
	ctx := context.Background()
	taken := msg("app1", "u0")
	taken.ID = "taken"
	enqueue(t, s, taken)

	const n = 60
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			a, b := msg("app1", fmt.Sprint("a", i)), msg("app1", fmt.Sprint("b", i))
			a.ID, b.ID = fmt.Sprint("a-", i), fmt.Sprint("b-", i)
			if i%3 == 0 {
				b.ID = "taken"
			}
			_, _, errs[i] = s.Enqueue(ctx, []message.Message{a, b})
		})
	}
	wg.Wait()
	for i, err := range errs {
		_, getErr := s.Get(ctx, fmt.Sprint("a-", i))
		if i%3 == 0 {
			if !errors.Is(err, storage.ErrConflict) {
				t.Errorf("call %d: err = %v, want ErrConflict", i, err)
			}
			if !errors.Is(getErr, storage.ErrNotFound) {
				t.Errorf("call %d failed but its first message is stored (get err %v)", i, getErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("call %d: %v", i, err)
		}
		if getErr != nil {
			t.Errorf("call %d succeeded but its message is missing: %v", i, getErr)
		}
	}
}

func testIdempotency(t *testing.T, s storage.Store) {
	ctx := context.Background()
	keyed := func(app, to, key string) message.Message {
		m := msg(app, to)
		m.IdempotencyKey = key
		return m
	}
	first := enqueue(t, s, keyed("app1", "u1", "k"))[0]

	tests := []struct {
		name    string
		in      []message.Message
		wantDup []bool
	}{
		{"same app and key", []message.Message{keyed("app1", "u9", "k")}, []bool{true}},
		{"other app", []message.Message{keyed("app2", "u1", "k")}, []bool{false}},
		{"other key", []message.Message{keyed("app1", "u1", "k2")}, []bool{false}},
		{"no key never collides", []message.Message{keyed("app1", "u1", ""), keyed("app1", "u1", "")}, []bool{false, false}},
		{"repeated within one call", []message.Message{keyed("app3", "x", "k"), keyed("app3", "y", "k")}, []bool{false, true}},
		{"mixed", []message.Message{keyed("app1", "u1", "k"), keyed("app4", "u1", "k")}, []bool{true, false}},
	}
	for _, tc := range tests {
		out, dup, err := s.Enqueue(ctx, tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !slices.Equal(dup, tc.wantDup) {
			t.Errorf("%s: dup = %v, want %v", tc.name, dup, tc.wantDup)
		}
		for i := range out {
			if !dup[i] {
				continue
			}
			// The first message comes back in place of the duplicate.
			want := first
			if tc.name == "repeated within one call" {
				want = out[0]
			}
			sameMessage(t, out[i], want)
		}
	}
	msgs, _, err := s.List(ctx, storage.Filter{App: "app1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 4 { // k, k2, and two without a key
		t.Errorf("app1 has %d messages, want 4", len(msgs))
	}
}

func testIdempotencyConcurrent(t *testing.T, s storage.Store) {
	ctx := context.Background()
	const n = 100
	var (
		wg   sync.WaitGroup
		gotI = make([]string, n)
		dups = make([]bool, n)
		errs = make([]error, n)
	)
	for i := range n {
		wg.Go(func() {
			m := msg("app1", fmt.Sprint("u", i))
			m.IdempotencyKey = "same-key"
			out, dup, err := s.Enqueue(ctx, []message.Message{m})
			if errs[i] = err; err == nil {
				gotI[i], dups[i] = out[0].ID, dup[0]
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	fresh := 0
	for i := range n {
		if !dups[i] {
			fresh++
		}
		if gotI[i] != gotI[0] {
			t.Errorf("call %d got message %s, call 0 got %s", i, gotI[i], gotI[0])
		}
	}
	if fresh != 1 {
		t.Errorf("%d calls stored a new message, want exactly 1", fresh)
	}
	msgs, _, err := s.List(ctx, storage.Filter{App: "app1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Errorf("stored %d messages for one key, want 1", len(msgs))
	}
}

func testGetNotFound(t *testing.T, s storage.Store) {
	if _, err := s.Get(context.Background(), "nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get(unknown): err = %v, want ErrNotFound", err)
	}
}

func testCanceledContext(t *testing.T, s storage.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := msg("app1", "u1")
	m.ID = "m1"
	if _, _, err := s.Enqueue(ctx, []message.Message{m}); !errors.Is(err, context.Canceled) {
		t.Errorf("Enqueue with a canceled context: err = %v, want context.Canceled", err)
	}
	if _, err := s.Get(context.Background(), "m1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("message stored although Enqueue failed: err = %v", err)
	}
	if err := s.PutToken(ctx, "k", "tok", t0); !errors.Is(err, context.Canceled) {
		t.Errorf("PutToken with a canceled context: err = %v, want context.Canceled", err)
	}
}

// listAll pages through f with page size limit.
func listAll(t *testing.T, s storage.Store, f storage.Filter) []string {
	t.Helper()
	var all []string
	for page := 0; ; page++ {
		if page > 10000 {
			t.Fatal("List does not terminate")
		}
		msgs, next, err := s.List(context.Background(), f)
		if err != nil {
			t.Fatalf("List(%+v): %v", f, err)
		}
		if f.Limit > 0 && len(msgs) > f.Limit {
			t.Fatalf("List returned %d > limit %d", len(msgs), f.Limit)
		}
		all = append(all, ids(msgs)...)
		if next == "" {
			return all
		}
		// Only the conditions checked on the walk's rows may leave a page
		// empty before the end (storage.ListExamined).
		extra := f.Reason != "" || f.To != "" || !f.CreatedFrom.IsZero() || !f.CreatedTo.IsZero()
		if len(msgs) == 0 && (!extra || next == f.Cursor) {
			t.Fatal("List returned an empty page with a next cursor")
		}
		f.Cursor = next
	}
}

func testList(t *testing.T, s storage.Store) {
	var want []string
	for i := range 23 {
		// One call per message: insertion order is the order of the calls.
		want = append(want, enqueue(t, s, msg("app1", fmt.Sprint("u", i)))[0].ID)
	}
	slices.Reverse(want) // newest first
	for _, limit := range []int{1, 5, 10, 23, 50} {
		if got := listAll(t, s, storage.Filter{Limit: limit}); !slices.Equal(got, want) {
			t.Errorf("limit %d: pages = %v, want %v", limit, got, want)
		}
	}
	// A cursor keeps its place when newer messages arrive.
	first, next, err := s.List(context.Background(), storage.Filter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	enqueue(t, s, msg("app1", "late"))
	rest := listAll(t, s, storage.Filter{Limit: 10, Cursor: next})
	if got := append(ids(first), rest...); !slices.Equal(got, want) {
		t.Errorf("paging across an insert = %v, want %v", got, want)
	}
}

func testListFilters(t *testing.T, s storage.Store) {
	ctx := context.Background()
	if _, _, err := s.CreateBroadcast(ctx, message.Broadcast{ID: "b1", App: "app2", TemplateID: "tpl"},
		[]message.Message{msg("app2", "x"), msg("app2", "y")}); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{}
	for i := range 12 {
		app := []string{"app1", "app2", "app3"}[i%3]
		m := enqueue(t, s, msg(app, fmt.Sprint("u", i)))[0]
		want[app] = append([]string{m.ID}, want[app]...)
	}
	// Fail one app2 message (claim, record) to filter by status.
	claimed := claim(t, s, at(time.Minute), 100, time.Minute)
	var (
		failed string
		fence  int64
	)
	for _, m := range claimed {
		if m.App == "app2" && m.BroadcastID == "" {
			failed, fence = m.ID, m.Lease.Fence
			break
		}
	}
	if err := s.Record(ctx, failed, fence, nil, storage.Update{Status: message.StatusFailed}); err != nil {
		t.Fatal(err)
	}
	bcast := listAll(t, s, storage.Filter{BroadcastID: "b1"})
	allApp2 := listAll(t, s, storage.Filter{App: "app2"})

	tests := []struct {
		name string
		f    storage.Filter
		want []string
	}{
		{"app", storage.Filter{App: "app1", Limit: 2}, want["app1"]},
		{"status", storage.Filter{Status: message.StatusFailed}, []string{failed}},
		{"app and status", storage.Filter{App: "app2", Status: message.StatusFailed}, []string{failed}},
		{"app and other status", storage.Filter{App: "app1", Status: message.StatusFailed}, nil},
		{"unknown app", storage.Filter{App: "nope"}, nil},
		{"broadcast and status", storage.Filter{BroadcastID: "b1", Status: message.StatusSending}, bcast},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := listAll(t, s, tc.f); !slices.Equal(got, tc.want) {
				t.Errorf("List(%+v) = %v, want %v", tc.f, got, tc.want)
			}
		})
	}
	if len(bcast) != 2 {
		t.Errorf("broadcast b1 lists %d messages, want 2", len(bcast))
	}
	if len(allApp2) != 6 { // 4 single + 2 broadcast
		t.Errorf("app2 lists %d messages, want 6", len(allApp2))
	}
}

func testListLimits(t *testing.T, s storage.Store) {
	ctx := context.Background()
	batch := make([]message.Message, 1001)
	for i := range batch {
		batch[i] = msg("app1", fmt.Sprint("u", i))
	}
	enqueue(t, s, batch...)
	tests := []struct {
		limit, want int
	}{{0, 100}, {-5, 100}, {7, 7}, {1000, 1000}, {5000, 1000}}
	for _, tc := range tests {
		msgs, next, err := s.List(ctx, storage.Filter{Limit: tc.limit})
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != tc.want || next == "" {
			t.Errorf("limit %d: %d messages (next %q), want %d and a next page", tc.limit, len(msgs), next, tc.want)
		}
	}
}

func testListBadCursor(t *testing.T, s storage.Store) {
	enqueue(t, s, msg("app1", "u1"))
	for _, c := range []string{"garbage!", "AAAA", "%%%"} {
		if _, _, err := s.List(context.Background(), storage.Filter{Cursor: c}); err == nil {
			t.Errorf("List with cursor %q: no error", c)
		}
	}
}

func testCounts(t *testing.T, s storage.Store) {
	ctx := context.Background()
	var batch []message.Message
	for i := range 10 {
		batch = append(batch, msg("app1", fmt.Sprint("u", i)))
	}
	enqueue(t, s, batch...)
	claimed := claim(t, s, at(time.Second), 4, time.Minute)
	if len(claimed) != 4 {
		t.Fatalf("claimed %d, want 4", len(claimed))
	}
	for i, st := range []message.Status{message.StatusDelivered, message.StatusFailed, message.StatusRetrying} {
		if err := s.Record(ctx, claimed[i].ID, claimed[i].Lease.Fence, nil, storage.Update{Status: st, NextAttemptAt: at(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	counts, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[message.Status]int{
		message.StatusQueued: 6, message.StatusSending: 1, message.StatusDelivered: 1,
		message.StatusFailed: 1, message.StatusRetrying: 1, message.StatusRejected: 0,
	}
	for _, st := range message.Statuses {
		if counts[st] != want[st] {
			t.Errorf("counts[%s] = %d, want %d (all: %v)", st, counts[st], want[st], counts)
		}
	}
}

// testCountsKept: Counts follows every path that adds a message or
// changes its status — a list broadcast, a group fan-out, claims, outcomes,
// a redrive — as a count of the messages themselves says.
func testCountsKept(t *testing.T, s storage.Store) {
	ctx := context.Background()
	enqueue(t, s, msg("app1", "a"), msg("app1", "b"))
	if _, _, err := s.CreateBroadcast(ctx, message.Broadcast{ID: "b1", App: "app1"},
		[]message.Message{msg("app1", "x"), msg("app1", "y"), msg("app1", "z")}); err != nil {
		t.Fatal(err)
	}
	putGroup(t, s, "app1", "g", members("m1", "m2", "m3", "m4"))
	if _, _, err := s.CreateBroadcast(ctx, message.Broadcast{ID: "b2", App: "app1", Group: "g", SendAt: t0}, nil); err != nil {
		t.Fatal(err)
	}
	fanOutAll(t, s, 3)
	c := claim(t, s, at(time.Second), 5, time.Minute)
	for i, st := range []message.Status{message.StatusDelivered, message.StatusFailed, message.StatusRetrying} {
		if err := s.Record(ctx, c[i].ID, c[i].Lease.Fence, nil, storage.Update{Status: st, NextAttemptAt: at(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Redrive(ctx, c[1].ID, at(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, st := range message.Statuses {
		n := len(listAll(t, s, storage.Filter{Status: st, Limit: 1000}))
		total += n
		if got[st] != n {
			t.Errorf("Counts[%s] = %d, listing finds %d (all: %v)", st, got[st], n, got)
		}
	}
	if total != 9 {
		t.Errorf("%d messages in all, want 9", total)
	}
}

// checkCounts compares Counts with a listing of each status: the counts
// are kept incrementally (issue 15), so any path that forgets to count a
// move shows here. want is the number of messages in all.
func checkCounts(t *testing.T, s storage.Store, step string, want int) {
	t.Helper()
	got, err := s.Counts(context.Background())
	if err != nil {
		t.Fatalf("%s: Counts: %v", step, err)
	}
	total := 0
	for _, st := range message.Statuses {
		n := len(listAll(t, s, storage.Filter{Status: st, Limit: 1000}))
		total += n
		if got[st] != n {
			t.Errorf("%s: Counts[%s] = %d, listing finds %d (all: %v)", step, st, got[st], n, got)
		}
	}
	if total != want {
		t.Errorf("%s: %d messages in all, want %d", step, total, want)
	}
}

// testCountsEveryMove: every status change keeps Counts exact — claims of
// queued, retrying and expired-lease messages, each outcome, outcomes
// refused for a lost lease, single and bulk cancels and redrives, and many
// claims and outcomes at once (sharing a backend's batches, some of them
// failing).
func testCountsEveryMove(t *testing.T, s storage.Store) {
	ctx := context.Background()
	var batch []message.Message
	for i := range 12 {
		batch = append(batch, msg("app1", fmt.Sprint("u", i)))
	}
	enqueue(t, s, batch...)
	checkCounts(t, s, "enqueued", 12)

	c := claim(t, s, at(time.Second), 6, time.Minute)
	if len(c) != 6 {
		t.Fatalf("claimed %d, want 6", len(c))
	}
	checkCounts(t, s, "claimed 6", 12)
	outcomes := []message.Status{message.StatusDelivered, message.StatusFailed, message.StatusRetrying,
		message.StatusRejected, message.StatusQueued}
	for i, st := range outcomes {
		if err := s.Record(ctx, c[i].ID, c[i].Lease.Fence, nil, storage.Update{Status: st, NextAttemptAt: at(2 * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	checkCounts(t, s, "recorded 5", 12)
	// An outcome under a stale fence or for a settled message changes
	// nothing, counts included.
	if err := s.Record(ctx, c[0].ID, c[0].Lease.Fence, nil, storage.Update{Status: message.StatusFailed}); !errors.Is(err, storage.ErrLeaseLost) {
		t.Errorf("Record of a delivered message: %v, want ErrLeaseLost", err)
	}
	if err := s.Record(ctx, c[5].ID, c[5].Lease.Fence+1, nil, storage.Update{Status: message.StatusFailed}); !errors.Is(err, storage.ErrLeaseLost) {
		t.Errorf("Record under another fence: %v, want ErrLeaseLost", err)
	}
	checkCounts(t, s, "refused outcomes", 12)

	// The lease of c[5] runs out: claimed again (sending → sending),
	// together with the retrying and queued ones.
	again := claim(t, s, at(5*time.Minute), 20, time.Minute)
	if len(again) != 9 {
		t.Fatalf("claimed %d again, want 9 (6 queued, 1 retrying, 1 requeued, 1 expired lease)", len(again))
	}
	checkCounts(t, s, "claimed again", 12)

	// Many outcomes at once, a stale one among them.
	var wg sync.WaitGroup
	for i, m := range again {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := outcomes[i%2] // delivered, failed
			fence := m.Lease.Fence
			if i == 3 {
				fence++ // refused
			}
			err := s.Record(ctx, m.ID, fence, nil, storage.Update{Status: st})
			if i == 3 && !errors.Is(err, storage.ErrLeaseLost) || i != 3 && err != nil {
				t.Errorf("Record %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	checkCounts(t, s, "recorded at once", 12)
	if err := s.Record(ctx, again[3].ID, again[3].Lease.Fence, nil, storage.Update{Status: message.StatusRetrying, NextAttemptAt: at(time.Hour)}); err != nil {
		t.Fatal(err)
	}

	enqueue(t, s, msg("app1", "v1"), msg("app1", "v2"), msg("app1", "v3"))
	queued := listAll(t, s, storage.Filter{Status: message.StatusQueued, Limit: 1000})
	if len(queued) != 3 {
		t.Fatalf("%d queued, want 3", len(queued))
	}
	if _, err := s.Cancel(ctx, queued[0], at(6*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Cancel(ctx, queued[0], at(6*time.Minute)); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("second Cancel: %v, want ErrConflict", err)
	}
	checkCounts(t, s, "cancelled 1", 15)
	failed := listAll(t, s, storage.Filter{Status: message.StatusFailed, Limit: 1000})
	if len(failed) == 0 {
		t.Fatal("no failed message")
	}
	if _, err := s.Redrive(ctx, failed[0], at(6*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Redrive(ctx, failed[0], at(6*time.Minute)); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("second Redrive: %v, want ErrConflict", err)
	}
	checkCounts(t, s, "redriven 1", 15)
	// Bulk: cancel queued and retrying ones, then redrive the failed,
	// rejected and cancelled ones, in steps of 2.
	for _, step := range []struct {
		name string
		run  func() (int, error)
	}{
		{"cancel matching", func() (int, error) {
			return s.CancelMatching(ctx, storage.Selection{App: "app1"}, at(7*time.Minute), 2)
		}},
		{"redrive matching", func() (int, error) {
			return s.RedriveMatching(ctx, storage.Selection{App: "app1"}, at(8*time.Minute), 2)
		}},
	} {
		for i := 0; ; i++ {
			n, err := step.run()
			if err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
			checkCounts(t, s, fmt.Sprintf("%s step %d", step.name, i), 15)
			if n == 0 {
				break
			}
			if i > 20 {
				t.Fatalf("%s: no end", step.name)
			}
		}
	}
	// Everything is queued again but the delivered ones.
	got, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got[message.StatusQueued]+got[message.StatusDelivered] != 15 || got[message.StatusDelivered] == 0 {
		t.Errorf("after the bulk steps: %v, want only queued and delivered", got)
	}
}

func testBroadcast(t *testing.T, s storage.Store) {
	ctx := context.Background()
	n := 1234 // spans several multi-row statements in a batching backend
	if raceEnabled {
		n = 620
	}
	b := message.Broadcast{
		ID: "b1", App: "app1", Group: "vip", TemplateID: "tpl-1",
		Data: map[string]string{"thing1": "sale"}, Page: "pages/sale", CreatedAt: t0,
	}
	msgs := make([]message.Message, n)
	for i := range msgs {
		msgs[i] = msg("app1", fmt.Sprint("u", i))
		msgs[i].ID = fmt.Sprintf("b1-%05d", i)
	}
	stored, dup, err := s.CreateBroadcast(ctx, b, msgs)
	if dup {
		t.Error("a new broadcast reported as a duplicate")
	}
	if err != nil {
		t.Fatal(err)
	}
	got, counts, err := s.Broadcast(ctx, "b1")
	if err != nil {
		t.Fatal(err)
	}
	want := b
	want.Recipients, want.FannedOut = n, n // filled in when zero; a list is fanned out at once
	got.CreatedAt, stored.CreatedAt = got.CreatedAt.UTC(), stored.CreatedAt.UTC()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("broadcast = %+v, want %+v", got, want)
	}
	if !reflect.DeepEqual(stored, want) {
		t.Errorf("CreateBroadcast returned %+v, want %+v", stored, want)
	}
	if counts[message.StatusQueued] != n {
		t.Errorf("counts = %v, want %d queued", counts, n)
	}
	m := get(t, s, "b1-00007")
	if m.BroadcastID != "b1" || m.To != "u7" || m.Status != message.StatusQueued {
		t.Errorf("fanned-out message = %+v", m)
	}

	claimed := claim(t, s, at(time.Second), 3, time.Minute)
	if err := s.Record(ctx, claimed[0].ID, claimed[0].Lease.Fence, nil, storage.Update{Status: message.StatusDelivered}); err != nil {
		t.Fatal(err)
	}
	_, counts, err = s.Broadcast(ctx, "b1")
	if err != nil {
		t.Fatal(err)
	}
	if counts[message.StatusQueued] != n-3 || counts[message.StatusSending] != 2 || counts[message.StatusDelivered] != 1 {
		t.Errorf("counts after claim/record = %v", counts)
	}
	if got := len(listAll(t, s, storage.Filter{BroadcastID: "b1", Limit: 1000})); got != n {
		t.Errorf("List by broadcast: %d messages, want %d", got, n)
	}

	if _, _, err := s.Broadcast(ctx, "nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Broadcast(unknown): err = %v, want ErrNotFound", err)
	}
	if _, _, err := s.CreateBroadcast(ctx, message.Broadcast{ID: "b1", App: "app1"}, nil); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("CreateBroadcast with a taken id: err = %v, want ErrConflict", err)
	}
	// An empty broadcast (empty group) is legal.
	if _, _, err := s.CreateBroadcast(ctx, message.Broadcast{ID: "b2", App: "app1"}, nil); err != nil {
		t.Errorf("empty broadcast: %v", err)
	}
}

func testBroadcastAllOrNone(t *testing.T, s storage.Store) {
	ctx := context.Background()
	taken := msg("app1", "u0")
	taken.ID = "taken"
	enqueue(t, s, taken)

	msgs := make([]message.Message, 700)
	for i := range msgs {
		msgs[i] = msg("app1", fmt.Sprint("u", i))
		msgs[i].ID = fmt.Sprint("b1-", i)
	}
	msgs[650].ID = "taken" // collides late, in the second statement
	if _, _, err := s.CreateBroadcast(ctx, message.Broadcast{ID: "b1", App: "app1", IdempotencyKey: "bk"}, msgs); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("broadcast with a taken message id: err = %v, want ErrConflict", err)
	}
	if _, _, err := s.Broadcast(ctx, "b1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("failed broadcast is stored: err = %v", err)
	}
	if _, err := s.Get(ctx, "b1-0"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("failed broadcast's message is stored: err = %v", err)
	}

	// The failed broadcast did not take its idempotency key either.
	msgs[650].ID = "b1-650"
	if _, dup, err := s.CreateBroadcast(ctx, message.Broadcast{ID: "b1", App: "app1", IdempotencyKey: "bk"}, msgs); err != nil || dup {
		t.Errorf("the same broadcast without the collision: dup %v, %v", dup, err)
	}

	foreign := []message.Message{msg("app1", "u1")}
	foreign[0].BroadcastID = "other"
	if _, _, err := s.CreateBroadcast(ctx, message.Broadcast{ID: "b2", App: "app1"}, foreign); err == nil {
		t.Error("message naming another broadcast: no error")
	}
	keyed := []message.Message{msg("app1", "u1")}
	keyed[0].IdempotencyKey = "k"
	if _, _, err := s.CreateBroadcast(ctx, message.Broadcast{ID: "b3", App: "app1"}, keyed); err == nil {
		t.Error("a broadcast message with an idempotency key of its own: no error")
	}
}

func testClaimDueOrder(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mk := func(id string, due time.Duration, st message.Status) message.Message {
		m := msg("app1", id)
		m.ID, m.NextAttemptAt, m.Status = id, at(due), st
		return m
	}
	enqueue(t, s,
		mk("due3", 3*time.Second, message.StatusQueued),
		mk("due1", 1*time.Second, message.StatusRetrying),
		mk("future", time.Hour, message.StatusQueued),
		mk("due2", 2*time.Second, message.StatusQueued),
		mk("done", 0, message.StatusDelivered),
		mk("dead", 0, message.StatusFailed),
	)
	got := claim(t, s, at(5*time.Second), 2, time.Minute)
	if !slices.Equal(ids(got), []string{"due1", "due2"}) {
		t.Fatalf("first claim = %v, want [due1 due2] (oldest due first, limit)", ids(got))
	}
	for _, m := range got {
		if m.Status != message.StatusSending {
			t.Errorf("claimed %s has status %s, want sending", m.ID, m.Status)
		}
		if g := get(t, s, m.ID); g.Status != message.StatusSending {
			t.Errorf("stored %s has status %s, want sending", m.ID, g.Status)
		}
	}
	if got := claim(t, s, at(6*time.Second), 10, time.Minute); !slices.Equal(ids(got), []string{"due3"}) {
		t.Errorf("second claim = %v, want [due3]", ids(got))
	}
	if got := claim(t, s, at(6*time.Second), 10, time.Minute); len(got) != 0 {
		t.Errorf("third claim = %v, want none", ids(got))
	}
	// Expired leases are due when they expired: due1 and due2 at 1m05s
	// (equal: the older message first), due3 at 1m06s, all before future.
	if got := claim(t, s, at(2*time.Hour), 10, time.Minute); !slices.Equal(ids(got), []string{"due1", "due2", "due3", "future"}) {
		t.Errorf("claim after leases expired = %v, want [due1 due2 due3 future]", ids(got))
	}
	if got, err := s.Claim(ctx, at(time.Hour), 0, time.Minute); err != nil || len(got) != 0 {
		t.Errorf("claim with limit 0 = %v, %v; want nothing", ids(got), err)
	}
}

func testClaimLeaseExpiry(t *testing.T, s storage.Store) {
	ctx := context.Background()
	enqueue(t, s, msg("app1", "u1"), msg("app1", "u2"), msg("app1", "u3"))
	first := claim(t, s, t0, 10, time.Minute)
	if len(first) != 3 {
		t.Fatalf("claimed %d, want 3", len(first))
	}
	if got := claim(t, s, at(59*time.Second), 10, time.Minute); len(got) != 0 {
		t.Fatalf("claimed %v while the lease holds", ids(got))
	}
	// One worker finishes in time; the others die.
	if err := s.Record(ctx, first[0].ID, first[0].Lease.Fence, nil, storage.Update{Status: message.StatusDelivered}); err != nil {
		t.Fatal(err)
	}
	again := claim(t, s, at(time.Minute), 10, time.Minute)
	if !slices.Equal(ids(again), ids(first[1:])) {
		t.Errorf("reclaimed %v, want %v", ids(again), ids(first[1:]))
	}
	if got := claim(t, s, at(90*time.Second), 10, time.Minute); len(got) != 0 {
		t.Errorf("claimed %v under the renewed lease", ids(got))
	}
}

func testClaimConcurrent(t *testing.T, s storage.Store) {
	ctx := context.Background()
	n, claimers, per := 2000, 8, 25
	if raceEnabled {
		n = 600
	}
	batch := make([]message.Message, n)
	for i := range batch {
		batch[i] = msg("app1", fmt.Sprint("u", i))
	}
	enqueue(t, s, batch...)

	var (
		mu    sync.Mutex
		seen  = map[string]int{}
		wg    sync.WaitGroup
		errCh = make(chan error, claimers)
	)
	for range claimers {
		wg.Go(func() {
			for {
				got, err := s.Claim(ctx, at(time.Second), per, time.Hour)
				if err != nil {
					errCh <- err
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, m := range got {
					seen[m.ID]++
				}
				mu.Unlock()
				// Half the claimed messages finish; the rest stay leased.
				for _, m := range got[:len(got)/2] {
					if err := s.Record(ctx, m.ID, m.Lease.Fence, &message.Attempt{At: at(time.Second), Outcome: message.OutcomeDelivered},
						storage.Update{Status: message.StatusDelivered}); err != nil {
						errCh <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errCh)
	for err := range errCh {
		t.Fatal(err)
	}
	if len(seen) != n {
		t.Errorf("claimed %d distinct messages, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("message %s claimed %d times while leased", id, c)
		}
	}
	if got := claim(t, s, at(time.Minute), 100, time.Hour); len(got) != 0 {
		t.Errorf("claimed %d more while every lease holds", len(got))
	}
}

func testRecord(t *testing.T, s storage.Store) {
	ctx := context.Background()
	m := enqueue(t, s, msg("app1", "u1"))[0]
	c1 := claim(t, s, t0, 1, time.Minute)

	a1 := message.Attempt{At: at(time.Second), Kind: message.KindSend, Outcome: message.OutcomeRetryable, Code: "-1",
		Message: "system busy", LatencyMS: 12.5}
	if err := s.Record(ctx, m.ID, c1[0].Lease.Fence, &a1, storage.Update{
		Status: message.StatusRetrying, NextAttemptAt: at(time.Minute), CountRetry: true,
		LastCode: "-1", LastError: "system busy",
	}); err != nil {
		t.Fatal(err)
	}
	got := get(t, s, m.ID)
	if got.Status != message.StatusRetrying || got.Retries != 1 || !got.NextAttemptAt.Equal(at(time.Minute)) ||
		got.LastCode != "-1" || got.LastError != "system busy" {
		t.Errorf("after retryable failure: %+v", got)
	}
	if len(got.Attempts) != 1 || !reflect.DeepEqual(canon(got).Attempts[0], a1) {
		t.Errorf("attempts = %+v, want [%+v]", got.Attempts, a1)
	}
	if c := claim(t, s, at(30*time.Second), 1, time.Minute); len(c) != 0 {
		t.Errorf("claimed before next_attempt_at: %v", ids(c))
	}

	// Throttled: no attempt stored by the caller's choice, no retry spent.
	c2 := claim(t, s, at(time.Minute), 1, time.Minute)
	if err := s.Record(ctx, m.ID, c2[0].Lease.Fence, nil, storage.Update{Status: message.StatusQueued, NextAttemptAt: at(2 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if got := get(t, s, m.ID); got.Retries != 1 || len(got.Attempts) != 1 || got.Status != message.StatusQueued {
		t.Errorf("after a delay without attempt: %+v", got)
	}

	c3 := claim(t, s, at(2*time.Minute), 1, time.Minute)
	a2 := message.Attempt{At: at(2 * time.Minute), Kind: message.KindSend, Outcome: message.OutcomeDelivered, Code: "0", LatencyMS: 3}
	if err := s.Record(ctx, m.ID, c3[0].Lease.Fence, &a2, storage.Update{Status: message.StatusDelivered, PlatformMsgID: "pm-1", LastCode: "0"}); err != nil {
		t.Fatal(err)
	}
	got = canon(get(t, s, m.ID))
	if got.Status != message.StatusDelivered || got.PlatformMsgID != "pm-1" || got.Retries != 1 {
		t.Errorf("after delivery: %+v", got)
	}
	if len(got.Attempts) != 2 || !reflect.DeepEqual(got.Attempts[1], a2) || got.Attempts[0].Code != "-1" {
		t.Errorf("attempts = %+v, want [a1 a2] oldest first", got.Attempts)
	}
	if c := claim(t, s, at(time.Hour), 10, time.Minute); len(c) != 0 {
		t.Errorf("delivered message claimed again: %v", ids(c))
	}
}

func testRecordErrors(t *testing.T, s storage.Store) {
	ctx := context.Background()
	later := msg("app1", "u1")
	later.NextAttemptAt = at(time.Hour)
	queued := enqueue(t, s, later)[0]
	leased := enqueue(t, s, msg("app1", "u2"))[0]
	c := claim(t, s, t0, 10, time.Minute)
	if !slices.Equal(ids(c), []string{leased.ID}) {
		t.Fatalf("claimed %v, want [%s]", ids(c), leased.ID)
	}
	fence := c[0].Lease.Fence
	tests := []struct {
		name  string
		id    string
		fence int64
		u     storage.Update
		want  error
	}{
		{"unknown id", "nope", fence, storage.Update{Status: message.StatusDelivered}, storage.ErrNotFound},
		{"not leased", queued.ID, fence, storage.Update{Status: message.StatusDelivered}, storage.ErrLeaseLost},
		{"not leased is a conflict", queued.ID, fence, storage.Update{Status: message.StatusDelivered}, storage.ErrConflict},
		{"other claim", leased.ID, fence + 1, storage.Update{Status: message.StatusDelivered}, storage.ErrLeaseLost},
		{"no claim", leased.ID, 0, storage.Update{Status: message.StatusDelivered}, storage.ErrLeaseLost},
		{"invalid status", leased.ID, fence, storage.Update{Status: "bogus"}, nil},
		{"sending is no outcome", leased.ID, fence, storage.Update{Status: message.StatusSending}, nil},
	}
	for _, tc := range tests {
		a := &message.Attempt{At: t0, Outcome: message.OutcomeDelivered}
		err := s.Record(ctx, tc.id, tc.fence, a, tc.u)
		switch {
		case err == nil:
			t.Errorf("%s: no error", tc.name)
		case tc.want != nil && !errors.Is(err, tc.want):
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	if got := get(t, s, leased.ID); got.Status != message.StatusSending {
		t.Errorf("after refused records the message is %s, want still sending", got.Status)
	}
	// Nothing above may have left an attempt behind.
	for _, id := range []string{queued.ID, leased.ID} {
		if got := get(t, s, id); len(got.Attempts) != 0 {
			t.Errorf("%s has attempts %v after failed records", id, got.Attempts)
		}
	}
}

// testLeaseFence: a worker whose lease ran out, and whose message another
// worker claimed since, cannot record its outcome over the new owner's;
// each claim grants a larger fence and the lease the caller asked for.
func testLeaseFence(t *testing.T, s storage.Store) {
	ctx := context.Background()
	m := enqueue(t, s, msg("app1", "u1"))[0]
	first := claim(t, s, t0, 1, time.Minute)
	if len(first) != 1 || first[0].ID != m.ID {
		t.Fatalf("claimed %v, want [%s]", ids(first), m.ID)
	}
	if !first[0].Lease.Until.Equal(at(time.Minute)) || first[0].Lease.Fence == 0 {
		t.Errorf("first lease %+v, want a fence and until %v", first[0].Lease, at(time.Minute))
	}
	// The first worker stalls past its lease; a second claims the message.
	second := claim(t, s, at(2*time.Minute), 1, time.Minute)
	if len(second) != 1 || second[0].ID != m.ID {
		t.Fatalf("reclaimed %v, want [%s]", ids(second), m.ID)
	}
	if second[0].Lease.Fence <= first[0].Lease.Fence || !second[0].Lease.Until.Equal(at(3*time.Minute)) {
		t.Errorf("second lease %+v after first %+v: want a larger fence, until %v", second[0].Lease, first[0].Lease, at(3*time.Minute))
	}
	stale := &message.Attempt{At: at(2 * time.Minute), Outcome: message.OutcomeRetryable, Code: "-1"}
	err := s.Record(ctx, m.ID, first[0].Lease.Fence, stale, storage.Update{Status: message.StatusRetrying, NextAttemptAt: at(time.Hour)})
	if !errors.Is(err, storage.ErrLeaseLost) {
		t.Fatalf("stale worker's Record: err = %v, want ErrLeaseLost", err)
	}
	if got := get(t, s, m.ID); got.Status != message.StatusSending || len(got.Attempts) != 0 {
		t.Fatalf("after the stale outcome: %+v, want still sending, no attempt", got)
	}
	won := &message.Attempt{At: at(2 * time.Minute), Outcome: message.OutcomeDelivered, Code: "0"}
	if err := s.Record(ctx, m.ID, second[0].Lease.Fence, won, storage.Update{Status: message.StatusDelivered, PlatformMsgID: "pm"}); err != nil {
		t.Fatalf("current owner's Record: %v", err)
	}
	// Late again, after the owner settled it: still refused.
	if err := s.Record(ctx, m.ID, first[0].Lease.Fence, stale, storage.Update{Status: message.StatusRetrying}); !errors.Is(err, storage.ErrLeaseLost) {
		t.Errorf("stale Record after delivery: err = %v, want ErrLeaseLost", err)
	}
	if got := get(t, s, m.ID); got.Status != message.StatusDelivered || got.PlatformMsgID != "pm" || len(got.Attempts) != 1 {
		t.Errorf("final message %+v, want the owner's delivery only", got)
	}

	// An expired lease nobody has claimed since still takes its outcome.
	n := enqueue(t, s, msg("app1", "u2"))[0]
	c := claim(t, s, at(time.Hour), 1, time.Second)
	if len(c) != 1 || c[0].ID != n.ID {
		t.Fatalf("claimed %v, want [%s]", ids(c), n.ID)
	}
	if err := s.Record(ctx, n.ID, c[0].Lease.Fence, nil, storage.Update{Status: message.StatusDelivered}); err != nil {
		t.Errorf("Record after the lease ran out, before any reclaim: %v", err)
	}
}

func testRedrive(t *testing.T, s storage.Store) {
	ctx := context.Background()
	statuses := []message.Status{message.StatusFailed, message.StatusRejected, message.StatusDelivered, message.StatusRetrying, message.StatusQueued}
	idOf := map[message.Status]string{}
	for _, st := range statuses {
		m := enqueue(t, s, msg("app1", string(st)))[0]
		idOf[st] = m.ID
	}
	// Drive each to its status the way the dispatcher would.
	claimed := claim(t, s, t0, 10, time.Minute)
	if len(claimed) != len(statuses) {
		t.Fatalf("claimed %d, want %d", len(claimed), len(statuses))
	}
	fenceOf := map[string]int64{}
	for _, m := range claimed {
		fenceOf[m.ID] = m.Lease.Fence
	}
	for _, st := range statuses {
		if err := s.Record(ctx, idOf[st], fenceOf[idOf[st]], &message.Attempt{At: t0, Outcome: message.OutcomePermanent},
			storage.Update{Status: st, CountRetry: true, NextAttemptAt: at(5 * time.Hour), LastCode: "x"}); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name string
		id   string
		want error
	}{
		{"failed", idOf[message.StatusFailed], nil},
		{"rejected", idOf[message.StatusRejected], nil},
		{"delivered", idOf[message.StatusDelivered], storage.ErrConflict},
		{"retrying", idOf[message.StatusRetrying], storage.ErrConflict},
		{"queued", idOf[message.StatusQueued], storage.ErrConflict},
		{"unknown", "nope", storage.ErrNotFound},
	}
	now := at(3 * time.Hour)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := s.Redrive(ctx, tc.id, now)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Errorf("err = %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Status != message.StatusQueued || m.Retries != 0 || !m.NextAttemptAt.Equal(now) || m.ID != tc.id {
				t.Errorf("redriven = %+v", m)
			}
			if got := get(t, s, tc.id); got.Status != message.StatusQueued || len(got.Attempts) != 1 {
				t.Errorf("stored after redrive = %+v", got)
			}
		})
	}
	got := ids(claim(t, s, now, 10, time.Minute))
	slices.Sort(got)
	want := []string{idOf[message.StatusFailed], idOf[message.StatusRejected]}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("claim after redrive = %v, want the redriven %v", got, want)
	}
}

var members = storage.Members

// generated yields n members "<prefix>0000000" … in order.
func generated(prefix string, n int) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for i := range n {
			if !yield(fmt.Sprintf("%s%07d", prefix, i), nil) {
				return
			}
		}
	}
}

func putGroup(t *testing.T, s storage.Store, app, name string, ms iter.Seq2[string, error]) message.Group {
	t.Helper()
	g, _, err := s.PutGroup(context.Background(), app, name, ms, "", nil)
	if err != nil {
		t.Fatalf("PutGroup(%s, %s): %v", app, name, err)
	}
	return g
}

// allMembers pages through a group with page size limit.
func allMembers(t *testing.T, s storage.Store, app, name string, limit int) (message.Group, []string) {
	t.Helper()
	var (
		all   []string
		after string
		g     message.Group
	)
	for page := 0; ; page++ {
		if page > 100000 {
			t.Fatal("Group paging does not terminate")
		}
		var (
			ms   []string
			next string
			err  error
		)
		g, ms, next, err = s.Group(context.Background(), app, name, after, limit)
		if err != nil {
			t.Fatalf("Group(%s, %s): %v", app, name, err)
		}
		if len(ms) > limit {
			t.Fatalf("Group returned %d members, over the limit %d", len(ms), limit)
		}
		all = append(all, ms...)
		if next == "" {
			return g, all
		}
		after = next
	}
}

func testGroups(t *testing.T, s storage.Store) {
	ctx := context.Background()
	before := time.Now().Add(-time.Second)
	g := putGroup(t, s, "app1", "vip", members("u2", "u1", "u2"))
	if g.App != "app1" || g.Name != "vip" || g.Size != 2 || g.UpdatedAt.Before(before) {
		t.Errorf("PutGroup = %+v, want app1/vip of 2 members (a repeated member counts once), updated now", g)
	}
	putGroup(t, s, "app2", "vip", members("x"))
	check := func(app, name string, want []string, wantErr error) {
		t.Helper()
		g, got, next, err := s.Group(ctx, app, name, "", 100)
		if wantErr != nil {
			if !errors.Is(err, wantErr) {
				t.Errorf("Group(%s, %s): err = %v, want %v", app, name, err, wantErr)
			}
			return
		}
		if err != nil || !slices.Equal(got, want) || next != "" || g.Size != len(want) {
			t.Errorf("Group(%s, %s) = %+v, %v, next %q, %v; want %v (in order)", app, name, g, got, next, err, want)
		}
	}
	check("app1", "vip", []string{"u1", "u2"}, nil)
	check("app2", "vip", []string{"x"}, nil)
	check("app1", "other", nil, storage.ErrNotFound)
	putGroup(t, s, "app1", "vip", members("u3"))
	check("app1", "vip", []string{"u3"}, nil)
	putGroup(t, s, "app1", "empty", members())
	check("app1", "empty", []string{}, nil)
	// limit 0 reads the group alone.
	if g, ms, _, err := s.Group(ctx, "app1", "vip", "", 0); err != nil || g.Size != 1 || len(ms) != 0 {
		t.Errorf("Group with limit 0 = %+v, %v, %v; want size 1, no members", g, ms, err)
	}
	if _, err := s.DeleteGroup(ctx, "app1", "vip", storage.Idempotency{}); err != nil {
		t.Fatal(err)
	}
	check("app1", "vip", nil, storage.ErrNotFound)
	check("app2", "vip", []string{"x"}, nil)
	if _, err := s.DeleteGroup(ctx, "app1", "vip", storage.Idempotency{}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("DeleteGroup(missing): err = %v, want ErrNotFound", err)
	}
}

// testGroupsLarge: a group larger than any one write, put and read in
// pages; replacing it replaces all of it.
func testGroupsLarge(t *testing.T, s storage.Store) {
	n := 25_000
	if raceEnabled {
		n = 5_000
	}
	if g := putGroup(t, s, "app1", "big", generated("u", n)); g.Size != n {
		t.Fatalf("size %d, want %d", g.Size, n)
	}
	for _, limit := range []int{1000, 777} {
		g, all := allMembers(t, s, "app1", "big", limit)
		if g.Size != n || len(all) != n || !slices.IsSorted(all) || all[0] != "u0000000" || all[n-1] != fmt.Sprintf("u%07d", n-1) {
			t.Fatalf("paged with limit %d: size %d, %d members (sorted %v)", limit, g.Size, len(all), slices.IsSorted(all))
		}
	}
	putGroup(t, s, "app1", "big", generated("w", 3))
	if g, all := allMembers(t, s, "app1", "big", 1000); g.Size != 3 || !slices.Equal(all, []string{"w0000000", "w0000001", "w0000002"}) {
		t.Fatalf("after replacing: %+v %v", g, all)
	}
}

// testGroupPutFails: a PUT whose members fail midway (a malformed body, a
// client gone) leaves the group exactly as it was, however much it wrote.
func testGroupPutFails(t *testing.T, s storage.Store) {
	ctx := context.Background()
	putGroup(t, s, "app1", "vip", members("a", "b"))
	boom := errors.New("malformed body")
	failing := func(yield func(string, error) bool) {
		for i := range 5000 {
			if !yield(fmt.Sprint("new-", i), nil) {
				return
			}
		}
		yield("", boom)
	}
	if _, _, err := s.PutGroup(ctx, "app1", "vip", failing, "", nil); !errors.Is(err, boom) {
		t.Fatalf("PutGroup with failing members: err = %v, want it to wrap %v", err, boom)
	}
	if g, all := allMembers(t, s, "app1", "vip", 100); g.Size != 2 || !slices.Equal(all, []string{"a", "b"}) {
		t.Errorf("after a failed PUT: %+v %v, want the old members", g, all)
	}
	// A new group that fails is not created.
	if _, _, err := s.PutGroup(ctx, "app1", "new", failing, "", nil); !errors.Is(err, boom) {
		t.Fatalf("PutGroup of a new group with failing members: err = %v", err)
	}
	if _, _, _, err := s.Group(ctx, "app1", "new", "", 1); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("a failed PUT created the group: err = %v", err)
	}
	// A canceled context fails the same way.
	cctx, cancel := context.WithCancel(ctx)
	stop := func(yield func(string, error) bool) {
		for i := range 5000 {
			if i == 2500 {
				cancel()
			}
			if !yield(fmt.Sprint("c-", i), nil) {
				return
			}
		}
	}
	if _, _, err := s.PutGroup(cctx, "app1", "vip", stop, "", nil); err == nil {
		t.Error("PutGroup with a context canceled midway: no error")
	}
	if g, all := allMembers(t, s, "app1", "vip", 100); g.Size != 2 || !slices.Equal(all, []string{"a", "b"}) {
		t.Errorf("after a canceled PUT: %+v %v, want the old members", g, all)
	}
}

// fanOutAll runs FanOut steps of limit until none remains and returns the
// sizes of the steps.
func fanOutAll(t *testing.T, s storage.Store, limit int) []int {
	t.Helper()
	var steps []int
	for i := 0; ; i++ {
		if i > 100000 {
			t.Fatal("FanOut does not terminate")
		}
		n, more, err := s.FanOut(context.Background(), limit)
		if err != nil {
			t.Fatalf("FanOut: %v", err)
		}
		if n > limit {
			t.Fatalf("FanOut created %d messages, over its limit %d", n, limit)
		}
		steps = append(steps, n)
		if !more {
			return steps
		}
	}
}

// testGroupBroadcast: a broadcast to a group goes to the members it had
// when the broadcast was made, each exactly once, in bounded steps.
func testGroupBroadcast(t *testing.T, s storage.Store) {
	ctx := context.Background()
	n := 2500
	putGroup(t, s, "app1", "all", generated("u", n))
	if _, _, err := s.FanOut(ctx, 100); err != nil {
		t.Fatalf("FanOut with nothing to do: %v", err)
	}
	b := message.Broadcast{ID: "bg", App: "app1", Platform: "wechat", Group: "all", TemplateID: "tpl",
		Data: map[string]string{"thing1": "sale"}, Page: "p", SendAt: at(time.Hour), CreatedAt: t0}
	got, _, err := s.CreateBroadcast(ctx, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Recipients != n || got.FannedOut != 0 {
		t.Errorf("group broadcast = %+v, want %d recipients, none fanned out yet", got, n)
	}
	// The group changes after the broadcast: the broadcast keeps its
	// members, and a second broadcast gets the new ones.
	putGroup(t, s, "app1", "all", members("late-1", "late-2"))
	b2 := b
	b2.ID, b2.CreatedAt = "bg2", at(time.Second)
	if got, _, err := s.CreateBroadcast(ctx, b2, nil); err != nil || got.Recipients != 2 {
		t.Fatalf("second broadcast = %+v, %v; want 2 recipients", got, err)
	}
	if _, err := s.DeleteGroup(ctx, "app1", "all", storage.Idempotency{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateBroadcast(ctx, message.Broadcast{ID: "bg3", App: "app1", Group: "all"}, nil); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("broadcast to a deleted group: err = %v, want ErrNotFound", err)
	}
	// Sweeping now must not take members a fan-out still needs.
	sweepAll(t, s, t0, 1000)

	steps := fanOutAll(t, s, 1000)
	if total := sum(steps); total != n+2 {
		t.Fatalf("fanned out %d messages in steps %v, want %d", total, steps, n+2)
	}
	bc, counts, err := s.Broadcast(ctx, "bg")
	if err != nil {
		t.Fatal(err)
	}
	if bc.Recipients != n || bc.FannedOut != n || counts[message.StatusQueued] != n || bc.Platform != "wechat" || !bc.SendAt.Equal(at(time.Hour)) {
		t.Errorf("broadcast after fan-out: %+v counts %v; want %d fanned out and queued", bc, counts, n)
	}
	for _, id := range listAll(t, s, storage.Filter{BroadcastID: "bg", Limit: 1000})[:3] {
		m := get(t, s, id)
		if m.App != "app1" || m.Platform != "wechat" || m.TemplateID != "tpl" || m.Data["thing1"] != "sale" ||
			m.Page != "p" || !m.NextAttemptAt.Equal(at(time.Hour)) || m.Status != message.StatusQueued {
			t.Fatalf("fanned-out message %+v", m)
		}
	}
	seen := map[string]int{}
	for i := range n {
		seen[fmt.Sprintf("u%07d", i)] = 0
	}
	for after := ""; ; {
		page, next, err := s.List(ctx, storage.Filter{BroadcastID: "bg", Limit: 1000, Cursor: after})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page {
			seen[m.To]++
		}
		if next == "" {
			break
		}
		after = next
	}
	for to, c := range seen {
		if c != 1 {
			t.Fatalf("recipient %s has %d messages, want 1 (of %d members)", to, c, n)
		}
	}
	if _, counts, _ := s.Broadcast(ctx, "bg2"); counts[message.StatusQueued] != 2 {
		t.Errorf("second broadcast counts %v, want 2 queued", counts)
	}
	// Not due before send_at.
	if c := claim(t, s, at(time.Minute), 10, time.Minute); len(c) != 0 {
		t.Errorf("claimed %d messages of a broadcast due in an hour", len(c))
	}
	if n, more, err := s.FanOut(ctx, 1000); n != 0 || more || err != nil {
		t.Errorf("FanOut after the end = %d, %v, %v", n, more, err)
	}
	// An empty group is no audience.
	putGroup(t, s, "app1", "none", members())
	if _, _, err := s.CreateBroadcast(ctx, message.Broadcast{ID: "bg4", App: "app1", Group: "none"}, nil); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("broadcast to an empty group: err = %v, want ErrConflict", err)
	}
	if _, _, err := s.Broadcast(ctx, "bg4"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the broadcast to an empty group is stored: %v", err)
	}
}

// testSweep: members of replaced and deleted groups go once no fan-out
// needs them; the current members stay.
func testSweep(t *testing.T, s storage.Store) {
	ctx := context.Background()
	putGroup(t, s, "app1", "g", generated("a", 1500))
	putGroup(t, s, "app1", "g", generated("b", 10)) // a* retired
	putGroup(t, s, "app1", "h", generated("c", 10))
	if _, err := s.DeleteGroup(ctx, "app1", "h", storage.Idempotency{}); err != nil { // c* retired
		t.Fatal(err)
	}
	total := sweepAll(t, s, t0, 100)
	if total < 1510 {
		t.Errorf("swept %d records, want at least the 1510 retired members", total)
	}
	if g, all := allMembers(t, s, "app1", "g", 100); g.Size != 10 || len(all) != 10 || all[0] != "b0000000" {
		t.Errorf("the current group after sweeping: %+v %v", g, all)
	}
}

// sweepAll runs Sweep steps of limit until none removes anything, and
// returns how many records they removed in all.
func sweepAll(t *testing.T, s storage.Store, keysBefore time.Time, limit int) int {
	t.Helper()
	total := 0
	for i := 0; ; i++ {
		if i > 100000 {
			t.Fatal("Sweep does not finish")
		}
		n, err := s.Sweep(context.Background(), keysBefore, limit)
		if err != nil {
			t.Fatal(err)
		}
		if n > limit+1 {
			t.Fatalf("a sweep step removed %d records, over its limit %d (+1 for an emptied record)", n, limit)
		}
		if n == 0 {
			return total
		}
		total += n
	}
}

func sum(xs []int) int {
	t := 0
	for _, x := range xs {
		t += x
	}
	return t
}

func testTokens(t *testing.T, s storage.Store) {
	ctx := context.Background()
	if _, _, err := s.Token(ctx, "wechat/app1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Token(missing): err = %v, want ErrNotFound", err)
	}
	exp := at(2 * time.Hour)
	if err := s.PutToken(ctx, "wechat/app1", "tok-1", exp); err != nil {
		t.Fatal(err)
	}
	check := func(want string) {
		t.Helper()
		tok, e, err := s.Token(ctx, "wechat/app1")
		if want == "" {
			if !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("Token = %q, %v; want ErrNotFound", tok, err)
			}
			return
		}
		if err != nil || tok != want || !e.Equal(exp) {
			t.Errorf("Token = %q, %v, %v; want %q, %v", tok, e, err, want, exp)
		}
	}
	check("tok-1")
	// Another instance refreshed: deleting the stale token is a no-op.
	if err := s.PutToken(ctx, "wechat/app1", "tok-2", exp); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteToken(ctx, "wechat/app1", "tok-1"); err != nil {
		t.Fatal(err)
	}
	check("tok-2")
	if err := s.DeleteToken(ctx, "wechat/app1", "tok-2"); err != nil {
		t.Fatal(err)
	}
	check("")
	if err := s.DeleteToken(ctx, "wechat/app1", "tok-2"); err != nil {
		t.Errorf("deleting a missing token: %v", err)
	}
}

func testClosed(t *testing.T, s storage.Store) {
	ctx := context.Background()
	m := enqueue(t, s, msg("app1", "u1"))[0]
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	calls := map[string]func() error{
		"Enqueue": func() error { _, _, err := s.Enqueue(ctx, []message.Message{msg("app1", "u2")}); return err },
		"CreateBroadcast": func() error {
			_, _, err := s.CreateBroadcast(ctx, message.Broadcast{ID: "b", App: "app1"}, nil)
			return err
		},
		"FanOut":      func() error { _, _, err := s.FanOut(ctx, 10); return err },
		"Sweep":       func() error { _, err := s.Sweep(ctx, t0, 10); return err },
		"Get":         func() error { _, err := s.Get(ctx, m.ID); return err },
		"List":        func() error { _, _, err := s.List(ctx, storage.Filter{}); return err },
		"Broadcast":   func() error { _, _, err := s.Broadcast(ctx, "b"); return err },
		"Redrive":     func() error { _, err := s.Redrive(ctx, m.ID, t0); return err },
		"Counts":      func() error { _, err := s.Counts(ctx); return err },
		"Claim":       func() error { _, err := s.Claim(ctx, t0, 1, time.Minute); return err },
		"Record":      func() error { return s.Record(ctx, m.ID, 1, nil, storage.Update{Status: message.StatusQueued}) },
		"PutGroup":    func() error { _, _, err := s.PutGroup(ctx, "a", "g", members("u1"), "", nil); return err },
		"Group":       func() error { _, _, _, err := s.Group(ctx, "a", "g", "", 10); return err },
		"DeleteGroup": func() error { _, err := s.DeleteGroup(ctx, "a", "g", storage.Idempotency{}); return err },
		"Token":       func() error { _, _, err := s.Token(ctx, "k"); return err },
		"PutToken":    func() error { return s.PutToken(ctx, "k", "t", t0) },
		"DeleteToken": func() error { return s.DeleteToken(ctx, "k", "t") },
		"PutEvent": func() error {
			_, _, err := s.PutEvent(ctx, message.Event{App: "a", Key: "k"})
			return err
		},
		"PendingEvents": func() error { _, err := s.PendingEvents(ctx, 1); return err },
		"Event":         func() error { _, err := s.Event(ctx, "e"); return err },
		"CompleteEvent": func() error { return s.CompleteEvent(ctx, "e", storage.EventEffects{}, t0) },
		"PruneEvents":   func() error { _, err := s.PruneEvents(ctx, t0); return err },
		"Consent":       func() error { _, err := s.Consent(ctx, consent.Key{App: "a", User: "u", TemplateID: "t"}); return err },
		"ApplyConsent": func() error {
			_, _, err := s.ApplyConsent(ctx, consent.Key{App: "a", User: "u", TemplateID: "t"}, consent.Change{Kind: consent.Accept}, t0)
			return err
		},
		"Consents": func() error { _, _, err := s.Consents(ctx, "a", "", consent.Key{}, 0); return err },
	}
	for name, call := range calls {
		if err := call(); err == nil {
			t.Errorf("%s after Close: no error", name)
		}
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
