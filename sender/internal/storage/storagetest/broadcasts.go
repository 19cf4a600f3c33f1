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

// listBroadcasts calls Broadcasts on s, which must implement
// storage.BroadcastLister (both drivers do).
func listBroadcasts(t *testing.T, s storage.Store, f storage.BroadcastFilter) ([]storage.BroadcastCounts, string) {
	t.Helper()
	l, ok := s.(storage.BroadcastLister)
	if !ok {
		t.Fatalf("%T does not list broadcasts (storage.BroadcastLister)", s)
	}
	items, next, err := l.Broadcasts(context.Background(), f)
	if err != nil {
		t.Fatalf("Broadcasts(%+v): %v", f, err)
	}
	return items, next
}

// walkBroadcasts pages through every page of f and returns the ids in
// order, with the number of pages.
func walkBroadcasts(t *testing.T, s storage.Store, f storage.BroadcastFilter) ([]string, int) {
	t.Helper()
	var ids []string
	pages := 0
	for {
		items, next := listBroadcasts(t, s, f)
		pages++
		for _, it := range items {
			ids = append(ids, it.ID)
		}
		if next == "" {
			return ids, pages
		}
		if pages > 100 {
			t.Fatalf("more than 100 pages: the cursor does not advance (%q)", next)
		}
		f.Cursor = next
	}
}

// testBroadcastList: GET /v1/broadcasts' storage — newest first across
// apps (ties in time by id), one app's, a time range, paging without a
// repeat or a gap, counts per status, the state and schedule filters.
func testBroadcastList(t *testing.T, s storage.Store) {
	ctx := context.Background()
	// b0…b6 of app1 and app2, one a millisecond apart, b3 and b4 in the
	// same millisecond; b6 is due in an hour (scheduled); b5 is a
	// schedule's run.
	type spec struct {
		id, app string
		created time.Duration
		sendAt  time.Duration
		n       int
		key     string
	}
	specs := []spec{
		{"b0", "app1", 0, 0, 2, ""},
		{"b1", "app2", time.Millisecond, 0, 1, ""},
		{"b2", "app1", 2 * time.Millisecond, 0, 3, ""},
		{"b3", "app2", 3 * time.Millisecond, 0, 1, ""},
		{"b4", "app2", 3 * time.Millisecond, 0, 1, ""},
		{"b5", "app1", 5 * time.Millisecond, 0, 2, "schedule:sch_1@2030-01-02T03:00:00Z"},
		{"b6", "app1", 6 * time.Millisecond, time.Hour, 1, ""},
	}
	for _, sp := range specs {
		b := message.Broadcast{ID: sp.id, App: sp.app, Platform: "wechat", TemplateID: "tpl-1",
			Data: map[string]string{"thing1": "x"}, CreatedAt: at(sp.created), IdempotencyKey: sp.key, Fingerprint: sp.key}
		if sp.sendAt > 0 {
			b.SendAt = at(sp.sendAt)
		}
		msgs := make([]message.Message, sp.n)
		for i := range msgs {
			msgs[i] = msg(sp.app, fmt.Sprintf("%s-u%d", sp.id, i))
			msgs[i].ID = fmt.Sprintf("%s-m%d", sp.id, i)
			if sp.sendAt > 0 {
				msgs[i].NextAttemptAt, msgs[i].SendAt = b.SendAt, b.SendAt
			}
		}
		if _, _, err := s.CreateBroadcast(ctx, b, msgs); err != nil {
			t.Fatal(err)
		}
	}
	// b0's two messages end (cancelled): b0 is done.
	for _, id := range []string{"b0-m0", "b0-m1"} {
		if _, err := s.Cancel(ctx, id, at(time.Second)); err != nil {
			t.Fatal(err)
		}
	}

	all := []string{"b6", "b5", "b4", "b3", "b2", "b1", "b0"}
	if ids, _ := walkBroadcasts(t, s, storage.BroadcastFilter{}); !slices.Equal(ids, all) {
		t.Errorf("every broadcast = %v, want %v (newest first, ties by id)", ids, all)
	}
	for _, limit := range []int{1, 2, 3, 6, 7} {
		ids, pages := walkBroadcasts(t, s, storage.BroadcastFilter{Limit: limit})
		if !slices.Equal(ids, all) {
			t.Errorf("limit %d: pages give %v, want %v", limit, ids, all)
		}
		if want := (len(all) + limit - 1) / limit; pages != want {
			t.Errorf("limit %d: %d pages, want %d", limit, pages, want)
		}
	}
	if ids, _ := walkBroadcasts(t, s, storage.BroadcastFilter{App: "app2", Limit: 2}); !slices.Equal(ids, []string{"b4", "b3", "b1"}) {
		t.Errorf("app2's = %v, want [b4 b3 b1]", ids)
	}
	f := storage.BroadcastFilter{CreatedFrom: at(time.Millisecond), CreatedTo: at(5 * time.Millisecond), Limit: 1}
	if ids, _ := walkBroadcasts(t, s, f); !slices.Equal(ids, []string{"b4", "b3", "b2", "b1"}) {
		t.Errorf("created in [1ms, 5ms) = %v, want [b4 b3 b2 b1] (from inclusive, to exclusive)", ids)
	}
	if ids, _ := walkBroadcasts(t, s, storage.BroadcastFilter{App: "nobody"}); len(ids) != 0 {
		t.Errorf("an app with no broadcasts lists %v", ids)
	}

	// Each item carries its record and its counts, every status present.
	items, _ := listBroadcasts(t, s, storage.BroadcastFilter{App: "app1"})
	byID := map[string]storage.BroadcastCounts{}
	for _, it := range items {
		byID[it.ID] = it
		if len(it.Counts) != len(message.Statuses) {
			t.Errorf("%s: counts %v, want every status", it.ID, it.Counts)
		}
	}
	if b := byID["b2"]; b.Recipients != 3 || b.FannedOut != 3 || b.Counts[message.StatusQueued] != 3 ||
		b.TemplateID != "tpl-1" || !b.CreatedAt.Equal(at(2*time.Millisecond)) {
		t.Errorf("b2 = %+v, want 3 recipients queued, created at +2ms", b)
	}
	if c := byID["b0"].Counts; c[message.StatusCancelled] != 2 || c[message.StatusQueued] != 0 {
		t.Errorf("b0's counts = %v, want 2 cancelled", c)
	}

	// State, at t0+1s: b6 scheduled, b0 done, the others sending.
	now := at(time.Second)
	for state, want := range map[storage.BroadcastState][]string{
		storage.BroadcastScheduled: {"b6"},
		storage.BroadcastDone:      {"b0"},
		storage.BroadcastSending:   {"b5", "b4", "b3", "b2", "b1"},
	} {
		if ids, _ := walkBroadcasts(t, s, storage.BroadcastFilter{State: state, Now: now, Limit: 2}); !slices.Equal(ids, want) {
			t.Errorf("state %s = %v, want %v", state, ids, want)
		}
	}
	if ids, _ := walkBroadcasts(t, s, storage.BroadcastFilter{Schedule: "sch_1"}); !slices.Equal(ids, []string{"b5"}) {
		t.Errorf("schedule sch_1's = %v, want [b5]", ids)
	}
	if ids, _ := walkBroadcasts(t, s, storage.BroadcastFilter{Schedule: "sch_2"}); len(ids) != 0 {
		t.Errorf("schedule sch_2's = %v, want none", ids)
	}

	// A group broadcast is listed from its acceptance, fanning out until
	// its messages exist.
	putGroup(t, s, "app1", "vip", members("g1", "g2", "g3"))
	if _, _, err := s.CreateBroadcast(ctx, message.Broadcast{ID: "b7", App: "app1", Platform: "wechat", Group: "vip",
		TemplateID: "tpl-1", CreatedAt: at(7 * time.Millisecond)}, nil); err != nil {
		t.Fatal(err)
	}
	items, _ = listBroadcasts(t, s, storage.BroadcastFilter{Limit: 1})
	if len(items) != 1 || items[0].ID != "b7" || items[0].Recipients != 3 ||
		storage.BroadcastStateOf(items[0].Broadcast, items[0].Counts, now) != storage.BroadcastFanningOut {
		t.Errorf("newest = %+v, want b7, 3 recipients, fanning out", items)
	}

	// A cursor no page gave is ErrNotFound.
	l := s.(storage.BroadcastLister)
	for _, c := range []string{"nonsense", "12-b1", "abcdefghijklm-b1"} {
		if _, _, err := l.Broadcasts(ctx, storage.BroadcastFilter{Cursor: c}); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("cursor %q: err = %v, want ErrNotFound", c, err)
		}
	}
}

// testBroadcastListBound: a State or Schedule filter reads at most
// storage.BroadcastsExamined broadcasts a call; a short page with a cursor
// continues below them, and every match is found once.
func testBroadcastListBound(t *testing.T, s storage.Store) {
	ctx := context.Background()
	n := storage.BroadcastsExamined + 150
	if raceEnabled {
		n = storage.BroadcastsExamined + 20
	}
	hits := map[int]bool{3: true, n - 40: true, n - 2: true} // oldest first
	for i := range n {
		b := message.Broadcast{ID: fmt.Sprintf("bb%05d", i), App: []string{"app1", "app2"}[i%2], Platform: "wechat",
			TemplateID: "tpl-1", CreatedAt: at(time.Duration(i) * time.Millisecond)}
		if hits[i] {
			b.IdempotencyKey = fmt.Sprintf("schedule:sch_x@2030-01-02T00:%02d:00Z", i%60) // a key per run
			b.Fingerprint = b.IdempotencyKey
		}
		m := msg(b.App, "u")
		m.ID = b.ID + "-m"
		if _, _, err := s.CreateBroadcast(ctx, b, []message.Message{m}); err != nil {
			t.Fatal(err)
		}
	}
	items, next := listBroadcasts(t, s, storage.BroadcastFilter{Schedule: "sch_x", Limit: 10})
	// The newest BroadcastsExamined hold two hits (n-2 and n-40).
	if len(items) != 2 || next == "" {
		t.Fatalf("first call: %d items, next %q; want the 2 hits among the newest %d and a cursor", len(items), next, storage.BroadcastsExamined)
	}
	ids, _ := walkBroadcasts(t, s, storage.BroadcastFilter{Schedule: "sch_x", Limit: 10})
	want := []string{fmt.Sprintf("bb%05d", n-2), fmt.Sprintf("bb%05d", n-40), "bb00003"}
	if !slices.Equal(ids, want) {
		t.Errorf("walk = %v, want %v", ids, want)
	}
}
