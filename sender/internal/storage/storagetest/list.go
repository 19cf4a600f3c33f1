package storagetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/reason"
	"github.com/minipush/minipush/sender/internal/storage"
)

// testListMatches: List's reason, recipient and creation-time filters, alone,
// combined with each other and with app and status, over every page size
// (each page continuing from the previous one's cursor).
func testListMatches(t *testing.T, s storage.Store) {
	var in []message.Message
	for i, to := range []string{"a1", "a2", "a3", "a4", "a5", "a6"} {
		m := msg("app1", to)
		m.CreatedAt = at(time.Duration(i) * time.Minute)
		in = append(in, m)
	}
	same := msg("app2", "a1") // the same recipient in another app
	same.CreatedAt = at(10 * time.Minute)
	other := msg("app2", "b1")
	other.CreatedAt = at(20 * time.Minute)
	in = append(in, same, other)
	for _, m := range in {
		enqueue(t, s, m) // one call each: insertion order is the list's
	}
	// a1 (both apps), a2 failed not_subscribed; a3 failed
	// platform_unavailable; a4 rejected risky_content; the others queued.
	drive(t, s, map[string]storage.Update{
		"a1": {Status: message.StatusFailed, LastCode: "43101", Reason: reason.NotSubscribed},
		"a2": {Status: message.StatusFailed, LastCode: "43101", Reason: reason.NotSubscribed},
		"a3": {Status: message.StatusFailed, LastCode: "-1", Reason: reason.PlatformUnavailable},
		"a4": {Status: message.StatusRejected, LastCode: "risky:1", Reason: reason.RiskyContent},
	})
	all := map[string]message.Message{}
	order := listAll(t, s, storage.Filter{})
	for _, id := range order {
		all[id] = get(t, s, id)
	}
	if len(order) != 8 {
		t.Fatalf("%d messages listed, want 8", len(order))
	}
	// want is the unfiltered list (newest first) narrowed by pred, and
	// must have n messages (so a predicate cannot select nothing by
	// mistake).
	want := func(n int, pred func(m message.Message) bool) []string {
		t.Helper()
		var out []string
		for _, id := range order {
			if pred(all[id]) {
				out = append(out, id)
			}
		}
		if len(out) != n {
			t.Fatalf("the oracle selects %d messages, want %d", len(out), n)
		}
		return out
	}
	created := func(m message.Message, from, to time.Duration) bool {
		return !m.CreatedAt.Before(at(from)) && m.CreatedAt.Before(at(to))
	}
	tests := []struct {
		name string
		f    storage.Filter
		want []string
	}{
		{"reason", storage.Filter{Reason: reason.NotSubscribed},
			want(3, func(m message.Message) bool { return m.Reason == reason.NotSubscribed })},
		{"reason and app", storage.Filter{App: "app1", Reason: reason.NotSubscribed},
			want(2, func(m message.Message) bool { return m.App == "app1" && m.Reason == reason.NotSubscribed })},
		{"reason and status", storage.Filter{Status: message.StatusRejected, Reason: reason.RiskyContent},
			want(1, func(m message.Message) bool { return m.To == "a4" })},
		{"reason and other status", storage.Filter{Status: message.StatusQueued, Reason: reason.NotSubscribed}, nil},
		{"unknown reason", storage.Filter{Reason: "no_such_reason"}, nil},
		{"to", storage.Filter{To: "a1"}, want(2, func(m message.Message) bool { return m.To == "a1" })},
		{"to and app", storage.Filter{App: "app2", To: "a1"}, want(1, func(m message.Message) bool { return m.ID == all[order[1]].ID })},
		{"to is exact", storage.Filter{To: "a"}, nil},
		{"created from", storage.Filter{CreatedFrom: at(4 * time.Minute)},
			want(4, func(m message.Message) bool { return !m.CreatedAt.Before(at(4 * time.Minute)) })},
		{"created to", storage.Filter{CreatedTo: at(2 * time.Minute)},
			want(2, func(m message.Message) bool { return m.CreatedAt.Before(at(2 * time.Minute)) })},
		{"created range", storage.Filter{CreatedFrom: at(2 * time.Minute), CreatedTo: at(4 * time.Minute)},
			want(2, func(m message.Message) bool { return created(m, 2*time.Minute, 4*time.Minute) })},
		{"created range, from inclusive, to exclusive", storage.Filter{CreatedFrom: at(time.Minute), CreatedTo: at(time.Minute + time.Millisecond)},
			want(1, func(m message.Message) bool { return m.To == "a2" })},
		{"reason and created", storage.Filter{Reason: reason.NotSubscribed, CreatedFrom: at(time.Minute)},
			want(2, func(m message.Message) bool {
				return m.Reason == reason.NotSubscribed && !m.CreatedAt.Before(at(time.Minute))
			})},
		{"all of them", storage.Filter{App: "app1", Status: message.StatusFailed, Reason: reason.NotSubscribed, To: "a2",
			CreatedFrom: at(0), CreatedTo: at(time.Hour)}, want(1, func(m message.Message) bool { return m.App == "app1" && m.To == "a2" })},
		{"all of them but the time", storage.Filter{App: "app1", Status: message.StatusFailed, Reason: reason.NotSubscribed, To: "a2",
			CreatedFrom: at(time.Hour)}, nil},
	}
	for _, tc := range tests {
		for _, limit := range []int{1, 2, 100} {
			t.Run(fmt.Sprintf("%s/limit %d", tc.name, limit), func(t *testing.T) {
				f := tc.f
				f.Limit = limit
				if got := listAll(t, s, f); !slices.Equal(got, tc.want) {
					t.Errorf("List(%+v) = %v, want %v", f, got, tc.want)
				}
			})
		}
	}
	// A page of a filtered list continues from its cursor even when newer
	// matching messages arrived in between.
	ctx := context.Background()
	f := storage.Filter{To: "a1", Limit: 1}
	first, next, err := s.List(ctx, f)
	if err != nil || len(first) != 1 || next == "" {
		t.Fatalf("first page: %d messages, next %q, %v", len(first), next, err)
	}
	late := msg("app1", "a1")
	late.CreatedAt = at(time.Hour)
	enqueue(t, s, late)
	f.Cursor = next
	rest := listAll(t, s, f)
	if got, want := append(ids(first), rest...), tests[5].want; !slices.Equal(got, want) {
		t.Errorf("paging across an insert = %v, want %v", got, want)
	}
}

// testListExaminedBound: a filter the index does not select reads at most
// storage.ListExamined messages per call: the first page of a list whose
// only match is older than that is empty but has a cursor, and following
// the cursors finds the match.
func testListExaminedBound(t *testing.T, s storage.Store) {
	needle := msg("app1", "needle")
	needle.CreatedAt = t0
	id := enqueue(t, s, needle)[0].ID
	// The hay alternates between two apps (a list without an app merges
	// them); every 997th is a hit, to page through across the bounds.
	n := storage.ListExamined + storage.ListExamined/4
	var hits []string
	for i := 0; i < n; i += 1000 {
		batch := make([]message.Message, 0, 1000)
		for j := i; j < min(n, i+1000); j++ {
			m := msg([]string{"app1", "app2"}[j%2], "hay")
			if j%997 == 0 {
				m.To = "hit"
			}
			m.CreatedAt = at(time.Minute)
			batch = append(batch, m)
		}
		for _, m := range enqueue(t, s, batch...) {
			if m.To == "hit" {
				hits = append(hits, m.ID)
			}
		}
	}
	got := listAll(t, s, storage.Filter{To: "hit", Limit: 7})
	if len(got) != len(hits) || len(hits) < 20 {
		t.Errorf("the hits listed: %d, want %d", len(got), len(hits))
	}
	slices.Sort(got)
	slices.Sort(hits)
	if !slices.Equal(slices.Compact(got), hits) {
		t.Errorf("the hits listed are not each hit once")
	}
	for _, f := range []storage.Filter{{To: "needle"}, {CreatedTo: at(time.Second)}, {To: "needle", CreatedFrom: at(-time.Hour)}} {
		var found []string
		requests := 0
		for {
			requests++
			if requests > 10 {
				t.Fatalf("List(%+v) did not end after %d requests", f, requests)
			}
			msgs, next, err := s.List(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			if requests == 1 && (len(msgs) != 0 || next == "") {
				t.Errorf("List(%+v) first page: %d messages, next %q; want none and a cursor", f, len(msgs), next)
			}
			found = append(found, ids(msgs)...)
			if next == "" {
				break
			}
			f.Cursor = next
		}
		if !slices.Equal(found, []string{id}) {
			t.Errorf("List(%+v) found %v, want [%s]", f, found, id)
		}
	}
}
