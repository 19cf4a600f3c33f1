package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/api"
	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/consent"
	"github.com/minipush/minipush/sender/internal/contentrules"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
	"github.com/minipush/minipush/sender/internal/storage/storagetest/drivers"
)

// pageRows is one more than the largest page: a list holding that many
// has a next page at limit=1000.
const pageRows = 1001

// TestFullPagesOnEveryDriver: every list of the API, over each storage
// driver, holding one more row than the largest page — a full page (at
// limit=1000 and at the default 100) carries a next_cursor, and following
// the cursors reads every row once. A store cutting the page before the
// one extra row that tells "there is more" silently loses rows.
func TestFullPagesOnEveryDriver(t *testing.T) {
	t.Parallel()
	for name, open := range drivers.All {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			seedLists(t, s)
			hs := pagesServer(t, s)
			for _, path := range []string{
				"/v1/messages?app=shop&status=cancelled", // not the broadcasts' messages
				"/v1/webhooks/deliveries",
				"/v1/consents?app=shop",
				"/v1/broadcasts?app=shop",
				"/v1/schedules?app=shop",
				"/v1/groups?app=shop",
			} {
				for _, limit := range []int{1000, 0} {
					checkPages(t, hs, path, limit)
				}
			}
		})
	}
}

// checkPages walks path's pages at limit (0: the default, 100) and checks
// that every full page but the last has a next_cursor and that the pages
// hold pageRows distinct items.
func checkPages(t *testing.T, hs *httptest.Server, path string, limit int) {
	t.Helper()
	size := storage.PageSize(limit)
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > pageRows {
			t.Fatalf("%s limit %d: more pages than rows", path, limit)
		}
		u, err := url.Parse(path)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		if limit > 0 {
			q.Set("limit", fmt.Sprint(limit))
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		u.RawQuery = q.Encode()
		p := u.String()
		code, b := do(t, hs, http.MethodGet, p, "Bearer "+key, nil)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", p, code, b)
		}
		var pg struct {
			Items      []map[string]any `json:"items"`
			NextCursor string           `json:"next_cursor"`
		}
		if err := json.Unmarshal(b, &pg); err != nil {
			t.Fatalf("GET %s: %v", p, err)
		}
		for _, it := range pg.Items {
			id := itemKey(it)
			if seen[id] {
				t.Fatalf("GET %s: %s listed twice", p, id)
			}
			seen[id] = true
		}
		if len(pg.Items) > size {
			t.Fatalf("GET %s: %d items, more than the page size %d", p, len(pg.Items), size)
		}
		if pg.NextCursor == "" {
			if len(seen) != pageRows {
				t.Errorf("GET %s: the last page (no next_cursor) after %d items; %d exist — rows lost", p, len(seen), pageRows)
			}
			return
		}
		if len(pg.Items) < size {
			t.Logf("GET %s: a short page (%d) with a next_cursor", p, len(pg.Items))
		}
		cursor = pg.NextCursor
	}
}

// itemKey names a list item: its id, or for consents and groups the key
// they are listed by.
func itemKey(it map[string]any) string {
	if id, ok := it["id"].(string); ok {
		return id
	}
	if u, ok := it["user"].(string); ok {
		return fmt.Sprint(u, "/", it["template_id"])
	}
	return fmt.Sprint(it["name"])
}

// seedLists writes pageRows of every listed resource of app shop into s,
// straight through the store (several writers at once, as a busy service
// would).
func seedLists(t *testing.T, s storage.Store) {
	t.Helper()
	ctx := context.Background()
	if err := s.SetWebhookScope(ctx, storage.WebhookScope{Apps: []string{"shop"}}); err != nil {
		t.Fatal(err)
	}
	sched, ok := s.(storage.Schedules)
	if !ok {
		t.Fatal("the store keeps no schedules")
	}
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	msgs := make([]message.Message, pageRows)
	for i := range msgs {
		msgs[i] = message.Message{App: "shop", Platform: "wechat", To: fmt.Sprintf("u%04d", i), TemplateID: "tpl",
			Data: map[string]string{"thing1": "x"}, CreatedAt: t0}
	}
	if _, _, err := s.Enqueue(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	// Every message cancelled: one webhook delivery each.
	for n := 0; n < pageRows; {
		k, err := s.CancelMatching(ctx, storage.Selection{App: "shop"}, t0.Add(time.Second), pageRows)
		if err != nil || k == 0 {
			t.Fatalf("CancelMatching = %d, %v", k, err)
		}
		n += k
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < pageRows; i += 8 {
				if err := seedOne(ctx, s, sched, t0, i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// seedOne writes the i-th consent entry, broadcast, schedule and group.
func seedOne(ctx context.Context, s storage.Store, sched storage.Schedules, t0 time.Time, i int) error {
	k := consent.Key{App: "shop", User: fmt.Sprintf("u%04d", i), TemplateID: "tpl"}
	if _, _, err := s.ApplyConsent(ctx, k, consent.Change{Kind: consent.Accept}, t0); err != nil {
		return fmt.Errorf("consent %d: %w", i, err)
	}
	b := message.Broadcast{ID: fmt.Sprintf("bc%04d", i), App: "shop", Platform: "wechat", TemplateID: "tpl", Data: map[string]string{"thing1": "x"},
		CreatedAt: t0.Add(time.Duration(i) * time.Millisecond)}
	m := message.Message{ID: b.ID + "-m", App: "shop", Platform: "wechat", To: "u", TemplateID: "tpl",
		Data: map[string]string{"thing1": "x"}, CreatedAt: b.CreatedAt}
	if _, _, err := s.CreateBroadcast(ctx, b, []message.Message{m}); err != nil {
		return fmt.Errorf("broadcast %d: %w", i, err)
	}
	sc := message.Schedule{ID: fmt.Sprintf("sch_%04d", i), App: "shop", Cron: "0 9 * * 1", TimeZone: "Asia/Shanghai",
		Group: "vip", TemplateID: "tpl", Data: map[string]string{"thing1": "x"}, CatchUp: "last", CreatedAt: t0, UpdatedAt: t0, Runs: []message.ScheduleRun{}}
	if err := sched.CreateSchedule(ctx, sc); err != nil {
		return fmt.Errorf("schedule %d: %w", i, err)
	}
	if _, _, err := s.PutGroup(ctx, "shop", fmt.Sprintf("g%04d", i), storage.Members("m1"), "", nil); err != nil {
		return fmt.Errorf("group %d: %w", i, err)
	}
	return nil
}

// pagesServer serves the API over s with app shop and key.
func pagesServer(t *testing.T, s storage.Store) *httptest.Server {
	t.Helper()
	cfg := config.Defaults()
	cfg.APIKeys = []config.APIKey{{Name: "t", Key: key}}
	cfg.APIRate.PerSecond = 0
	cfg.Apps = []config.App{{Name: "shop", Platform: "wechat", AppID: "wx1", Secret: "s"}}
	rules, err := contentrules.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	a := api.New(s, &cfg, rules, api.Hooks{}, slog.New(slog.DiscardHandler))
	hs := httptest.NewServer(contract(t).Wrap(a.Handler()))
	t.Cleanup(hs.Close)
	return hs
}
