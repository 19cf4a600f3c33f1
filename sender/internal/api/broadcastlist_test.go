package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

// Broadcasts lists the memStore's broadcasts as the drivers do, through
// storage.PageBroadcasts (the drivers' own are held to the conformance
// suite).
func (s *memStore) Broadcasts(ctx context.Context, f storage.BroadcastFilter) ([]storage.BroadcastCounts, string, error) {
	s.mu.Lock()
	var all []message.Broadcast
	for _, b := range s.broadcasts {
		if (f.App == "" || b.App == f.App) && (f.CreatedFrom.IsZero() || !b.CreatedAt.Before(f.CreatedFrom)) &&
			(f.CreatedTo.IsZero() || b.CreatedAt.Before(f.CreatedTo)) {
			all = append(all, b)
		}
	}
	s.mu.Unlock()
	key := func(b message.Broadcast) string { return storage.BroadcastKey(b.CreatedAt, b.ID) }
	slices.SortFunc(all, func(x, y message.Broadcast) int { return strings.Compare(key(y), key(x)) })
	walk := func(_ context.Context, after string, n int) ([]message.Broadcast, error) {
		var out []message.Broadcast
		for _, b := range all {
			if (after == "" || key(b) < after) && len(out) < n {
				out = append(out, b)
			}
		}
		return out, nil
	}
	count := func(ctx context.Context, bs []message.Broadcast) ([]map[message.Status]int, error) {
		out := make([]map[message.Status]int, len(bs))
		for i, b := range bs {
			_, c, err := s.Broadcast(ctx, b.ID)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	}
	waiting := func(ctx context.Context, b message.Broadcast) (bool, error) {
		_, c, err := s.Broadcast(ctx, b.ID)
		return c[message.StatusQueued]+c[message.StatusSending]+c[message.StatusRetrying] > 0, err
	}
	return storage.PageBroadcasts(ctx, f, walk, count, waiting)
}

// GET /v1/broadcasts: newest first across pages, one app's, each item
// with its counts and state; every bad parameter named.
func TestListBroadcasts(t *testing.T) {
	t.Parallel()
	hs, _, _ := server(t)
	var ids []string
	for _, to := range []string{`["u1","u2"]`, `["u3"]`, `["u4"]`} {
		code, b := do(t, hs, http.MethodPost, "/v1/broadcasts", "Bearer "+key,
			[]byte(`{"app":"shop","to":`+to+`,"template_id":"t","data":{"thing1":"x"}}`))
		if code != http.StatusAccepted {
			t.Fatalf("POST /v1/broadcasts = %d %s", code, b)
		}
		var bc struct{ ID string }
		if err := json.Unmarshal(b, &bc); err != nil {
			t.Fatal(err)
		}
		ids = append([]string{bc.ID}, ids...) // newest first
	}
	type page struct {
		Items []struct {
			ID         string
			App        string
			Recipients int
			Counts     map[string]int
			State      string
		}
		NextCursor string `json:"next_cursor"`
	}
	var got []string
	cursor := ""
	for range 5 {
		path := "/v1/broadcasts?app=shop&limit=2"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		code, b := do(t, hs, http.MethodGet, path, "Bearer "+key, nil)
		if code != http.StatusOK {
			t.Fatalf("GET %s = %d %s", path, code, b)
		}
		var p page
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
		for _, it := range p.Items {
			got = append(got, it.ID)
			if it.State != "sending" || it.Counts["queued"] != it.Recipients || it.Recipients == 0 {
				t.Errorf("item %+v: want sending with every recipient queued", it)
			}
		}
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	if !slices.Equal(got, ids) {
		t.Errorf("pages = %v, want %v (newest first)", got, ids)
	}
	if code, b := do(t, hs, http.MethodGet, "/v1/broadcasts?app=tok", "Bearer "+key, nil); code != http.StatusOK || !strings.Contains(string(b), `"items":[]`) {
		t.Errorf("another app's list = %d %s, want an empty page", code, b)
	}
	for _, tc := range []struct{ query, field string }{
		{"app=nope", "app"},
		{"state=finished", "state"},
		{"schedule=a%20b", "schedule"},
		{"created_from=yesterday", "created_from"},
		{"created_from=2026-01-02T00:00:00Z&created_to=2026-01-01T00:00:00Z", "created_to"},
		{"limit=0", "limit"},
		{"cursor=not%20a%20cursor", "cursor"},
		{"cursor=123-bc_x", "cursor"}, // well-formed, but no page gave it
		{"colour=red", "colour"},
	} {
		code, b := do(t, hs, http.MethodGet, "/v1/broadcasts?"+tc.query, "Bearer "+key, nil)
		if code != http.StatusBadRequest || !strings.Contains(string(b), `"field":"`+tc.field+`"`) {
			t.Errorf("GET /v1/broadcasts?%s = %d %s, want 400 naming %s", tc.query, code, b, tc.field)
		}
	}
}
