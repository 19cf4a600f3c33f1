package api_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/api"
	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/contentrules"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/reason"
)

func jsonOf(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

// A message's cancel ends a waiting one cancelled (409 for others); retry
// takes a cancelled one back; the bulk actions cancel and redrive by
// filter and answer the count; their filters are checked.
func TestCancelAndBulkActions(t *testing.T) {
	t.Parallel()
	hs, st, _ := serverWith(t, withScopedKeys)
	admin := "Bearer " + scopedKeys[config.ScopeAdmin]
	now := time.Now().UTC()
	st.msgs = []message.Message{
		{ID: "msg_q1", App: "shop", Platform: "wechat", To: "u1", TemplateID: "t", Data: map[string]string{"thing1": "x"}, Status: message.StatusQueued, CreatedAt: now, UpdatedAt: now},
		{ID: "msg_q2", App: "shop", Platform: "wechat", To: "u2", TemplateID: "t", Data: map[string]string{"thing1": "x"}, Status: message.StatusRetrying, CreatedAt: now, UpdatedAt: now},
		{ID: "msg_d1", App: "shop", Platform: "wechat", To: "u3", TemplateID: "t", Data: map[string]string{"thing1": "x"}, Status: message.StatusDelivered, CreatedAt: now, UpdatedAt: now},
		{ID: "msg_f1", App: "shop", Platform: "wechat", To: "u4", TemplateID: "t", Data: map[string]string{"thing1": "x"}, Status: message.StatusFailed,
			LastCode: "43101", Reason: reason.NotSubscribed, CreatedAt: now, UpdatedAt: now},
		{ID: "msg_t1", App: "tok", Platform: "douyin", To: "u5", TemplateID: "t", Data: map[string]string{"k": "x"}, Status: message.StatusQueued, CreatedAt: now, UpdatedAt: now},
	}
	code, b := do(t, hs, http.MethodPost, "/v1/messages/msg_q1/cancel", "Bearer "+key, nil)
	wellFormed(t, code, b, http.StatusOK)
	var m message.Message
	jsonOf(t, b, &m)
	if m.Status != message.StatusCancelled || m.Reason != reason.Cancelled {
		t.Fatalf("cancel = %s", b)
	}
	for _, id := range []string{"msg_q1", "msg_d1"} {
		code, b = do(t, hs, http.MethodPost, "/v1/messages/"+id+"/cancel", "Bearer "+key, nil)
		wellFormed(t, code, b, http.StatusConflict)
	}
	code, b = do(t, hs, http.MethodPost, "/v1/messages/nope/cancel", "Bearer "+key, nil)
	wellFormed(t, code, b, http.StatusNotFound)
	code, b = do(t, hs, http.MethodPost, "/v1/messages/msg_q1/retry", "Bearer "+key, nil)
	wellFormed(t, code, b, http.StatusAccepted)
	m = message.Message{}
	if jsonOf(t, b, &m); m.Status != message.StatusQueued || m.Reason != "" {
		t.Fatalf("retry of the cancelled = %s", b)
	}

	// Bulk: shop's waiting messages (q1 again, q2), not tok's.
	code, b = do(t, hs, http.MethodPost, "/v1/messages/cancel", admin, []byte(`{"app":"shop"}`))
	wellFormed(t, code, b, http.StatusOK)
	var n struct{ Count int }
	if jsonOf(t, b, &n); n.Count != 2 {
		t.Fatalf("bulk cancel = %s, want 2", b)
	}
	code, b = do(t, hs, http.MethodPost, "/v1/messages/retry", admin, []byte(`{"app":"shop","reason":"not_subscribed","code":"43101"}`))
	wellFormed(t, code, b, http.StatusOK)
	if jsonOf(t, b, &n); n.Count != 1 {
		t.Fatalf("bulk retry by reason = %s, want 1", b)
	}
	code, b = do(t, hs, http.MethodPost, "/v1/messages/retry", admin, []byte(`{"app":"shop","status":["cancelled"]}`))
	wellFormed(t, code, b, http.StatusOK)
	if jsonOf(t, b, &n); n.Count != 2 {
		t.Fatalf("bulk retry of the cancelled = %s, want 2", b)
	}
	for _, tc := range []struct{ body, field string }{
		{`{}`, "app"},
		{`{"app":"nope"}`, "app"},
		{`{"app":"shop","status":["delivered"]}`, "status[0]"},
		{`{"app":"shop","reason":"bogus"}`, "reason"},
		{`{"app":"shop","created_from":"2030-01-02T00:00:00Z","created_to":"2030-01-01T00:00:00Z"}`, "created_to"},
	} {
		code, b := do(t, hs, http.MethodPost, "/v1/messages/cancel", admin, []byte(tc.body))
		wellFormed(t, code, b, http.StatusUnprocessableEntity)
		var e errorBody
		if jsonOf(t, b, &e); e.Problems[0].Field != tc.field {
			t.Errorf("bulk cancel %s = %s, want a problem naming %s", tc.body, b, tc.field)
		}
	}
	code, b = do(t, hs, http.MethodPost, "/v1/messages/cancel", admin, []byte(`{"app":"shop","status":"queued"}`))
	wellFormed(t, code, b, http.StatusBadRequest)
	// The default key may not act in bulk.
	code, b = do(t, hs, http.MethodPost, "/v1/messages/cancel", "Bearer "+key, []byte(`{"app":"shop"}`))
	wellFormed(t, code, b, http.StatusForbidden)
}

// GET /v1/apps and /v1/apps/{name} show each app with its pause, token,
// health, rate and queue; POST /v1/apps/{name}/resume calls the resume
// and answers the app; unknown apps are 404.
func TestApps(t *testing.T) {
	t.Parallel()
	cfg := config.Defaults()
	cfg.APIKeys = []config.APIKey{{Name: "ops", Key: key, Scopes: config.Scopes}}
	cfg.Apps = []config.App{{Name: "shop", Platform: "wechat", AppID: "wx1", Secret: "s"},
		{Name: "tok", Platform: "douyin", AppID: "tt1", Secret: "s", Consent: config.ConsentEnforce, Events: &config.Events{}}}
	rules, _ := contentrules.New(nil)
	st := newMemStore()
	until := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	st.pauses = []message.Pause{{App: "shop", Until: until, Reason: reason.QuotaExceeded, Code: "45009", Message: "quota", Since: time.Now()},
		{App: "tok", Until: time.Now().Add(-time.Minute), Reason: reason.RateLimited}}
	st.msgs = []message.Message{{ID: "m1", App: "shop", Status: message.StatusRetrying}, {ID: "m2", App: "shop", Status: message.StatusQueued}}
	var resumed []string
	tokenUntil := time.Now().Add(2 * time.Hour).UTC().Truncate(time.Millisecond)
	a := api.New(st, &cfg, rules, api.Hooks{
		Runtime: func(app string) api.AppRuntime {
			if app == "shop" {
				return api.AppRuntime{TokenValidUntil: tokenUntil, TokenRefreshedAt: time.Now(), Healthy: true, RatePerSecond: 5, RateBurst: 1}
			}
			return api.AppRuntime{Healthy: false, HealthReason: "40013 invalid appid", TokenFailures: 3}
		},
		Resume: func(_ context.Context, app string) (int, error) {
			resumed = append(resumed, app)
			st.mu.Lock()
			st.pauses = st.pauses[1:]
			st.mu.Unlock()
			return 1, nil
		},
	}, slog.New(slog.DiscardHandler))
	hs := httptest.NewServer(contract(t).Wrap(a.Handler()))
	t.Cleanup(hs.Close)

	type app struct {
		Name            string                 `json:"name"`
		Platform        string                 `json:"platform"`
		PausedUntil     *time.Time             `json:"paused_until"`
		PauseReason     *string                `json:"pause_reason"`
		PauseCode       string                 `json:"pause_code"`
		TokenValidUntil *time.Time             `json:"token_valid_until"`
		TokenFailures   int                    `json:"token_failures"`
		Healthy         bool                   `json:"healthy"`
		HealthReason    string                 `json:"health_reason"`
		Consent         string                 `json:"consent"`
		Events          bool                   `json:"events"`
		Queue           map[message.Status]int `json:"queue"`
		Rate            struct {
			PerSecond float64 `json:"per_second"`
		} `json:"rate"`
	}
	code, b := do(t, hs, http.MethodGet, "/v1/apps", "Bearer "+key, nil)
	wellFormed(t, code, b, http.StatusOK)
	var list struct {
		Items      []app  `json:"items"`
		NextCursor string `json:"next_cursor"`
	}
	jsonOf(t, b, &list)
	if len(list.Items) != 2 || list.Items[0].Name != "shop" || list.Items[1].Name != "tok" {
		t.Fatalf("GET /v1/apps = %s", b)
	}
	shop, tok := list.Items[0], list.Items[1]
	if shop.PausedUntil == nil || !shop.PausedUntil.Equal(until) || shop.PauseReason == nil || *shop.PauseReason != "quota_exceeded" ||
		shop.PauseCode != "45009" || shop.TokenValidUntil == nil || !shop.TokenValidUntil.Equal(tokenUntil) || !shop.Healthy ||
		shop.Queue[message.StatusRetrying] != 1 || shop.Queue[message.StatusQueued] != 1 || shop.Rate.PerSecond != 5 {
		t.Errorf("shop = %+v", shop)
	}
	// tok's pause ended a minute ago: not paused.
	if tok.PausedUntil != nil || tok.PauseReason != nil || tok.Healthy || tok.HealthReason == "" || tok.TokenFailures != 3 ||
		tok.TokenValidUntil != nil || tok.Consent != "enforce" || !tok.Events {
		t.Errorf("tok = %+v (%s)", tok, b)
	}
	if !strings.Contains(string(b), `"paused_until":null`) || !strings.Contains(string(b), `"token_valid_until":null`) {
		t.Errorf("a field without a value is not null: %s", b)
	}
	code, b = do(t, hs, http.MethodGet, "/v1/apps/shop", "Bearer "+key, nil)
	wellFormed(t, code, b, http.StatusOK)
	code, b = do(t, hs, http.MethodPost, "/v1/apps/shop/resume", "Bearer "+key, nil)
	wellFormed(t, code, b, http.StatusOK)
	var after app
	if jsonOf(t, b, &after); after.PausedUntil != nil || len(resumed) != 1 || resumed[0] != "shop" {
		t.Errorf("resume = %s (resumed %v)", b, resumed)
	}
	for _, p := range []string{"/v1/apps/nope", "/v1/apps/nope/resume"} {
		method := http.MethodGet
		if strings.HasSuffix(p, "resume") {
			method = http.MethodPost
		}
		code, b := do(t, hs, method, p, "Bearer "+key, nil)
		wellFormed(t, code, b, http.StatusNotFound)
	}
	code, b = do(t, hs, http.MethodGet, "/v1/apps?app=shop", "Bearer "+key, nil)
	wellFormed(t, code, b, http.StatusBadRequest)
}

// GET /v1/groups lists an app's groups by name with their sizes, page by
// page; PUT answers the group itself.
func TestGroupList(t *testing.T) {
	t.Parallel()
	hs, _, _ := server(t)
	for _, g := range []string{"vip", "all", "new"} {
		code, b := do(t, hs, http.MethodPut, "/v1/groups/"+g, "Bearer "+key, []byte(`{"app":"shop","members":["u1","u2"]}`))
		wellFormed(t, code, b, http.StatusOK)
		var put struct {
			App, Name string
			Size      int
		}
		if jsonOf(t, b, &put); put.Name != g || put.App != "shop" || put.Size != 2 {
			t.Fatalf("PUT %s = %s, want the group with its name and size", g, b)
		}
	}
	var names []string
	cursor := ""
	for range 4 {
		code, b := do(t, hs, http.MethodGet, "/v1/groups?app=shop&limit=2&cursor="+cursor, "Bearer "+key, nil)
		wellFormed(t, code, b, http.StatusOK)
		var p struct {
			Items []struct {
				Name string
				Size int
			}
			NextCursor string `json:"next_cursor"`
		}
		jsonOf(t, b, &p)
		for _, g := range p.Items {
			names = append(names, g.Name)
		}
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	if strings.Join(names, ",") != "all,new,vip" {
		t.Errorf("groups = %v", names)
	}
	code, b := do(t, hs, http.MethodGet, "/v1/groups?app=nope", "Bearer "+key, nil)
	wellFormed(t, code, b, http.StatusBadRequest)
}

// Every refusal, whatever its status, names at least one problem.
func TestEveryRefusalNamesAProblem(t *testing.T) {
	t.Parallel()
	hs, _, _ := serverWith(t, func(c *config.Config) {
		c.APIRate.PerSecond = 0
		c.APIKeys = append(c.APIKeys, config.APIKey{Name: "slow", Key: "slow-key-00001", Rate: &config.KeyRate{PerSecond: 0.001, Burst: 1}})
	})
	big := []byte(`{"app":"shop","to":"` + strings.Repeat("x", 2<<20) + `"}`)
	for _, tc := range []struct {
		method, path, auth string
		body               []byte
		want               int
	}{
		{http.MethodGet, "/v1/messages/msg_1", "", nil, http.StatusUnauthorized},
		{http.MethodGet, "/v1/messages/msg_1", "Bearer wrong-key-0000", nil, http.StatusUnauthorized},
		{http.MethodPost, "/v1/messages/cancel", "Bearer " + key, []byte(`{"app":"shop"}`), http.StatusForbidden},
		{http.MethodGet, "/v1/messages/msg_1", "Bearer " + key, nil, http.StatusNotFound},
		{http.MethodGet, "/v1/nothing", "Bearer " + key, nil, http.StatusNotFound},
		{http.MethodDelete, "/v1/messages", "Bearer " + key, nil, http.StatusMethodNotAllowed},
		{http.MethodPost, "/v1/messages", "Bearer " + key, []byte(`{`), http.StatusBadRequest},
		{http.MethodPost, "/v1/messages", "Bearer " + key, big, http.StatusRequestEntityTooLarge},
		{http.MethodPost, "/v1/messages", "Bearer " + key, []byte(`{}`), http.StatusUnprocessableEntity},
		{http.MethodGet, "/v1/messages?bogus=1", "Bearer " + key, nil, http.StatusBadRequest},
		// A value of the wrong type (issue 11: 400 type errors had no problems).
		{http.MethodPost, "/v1/messages", "Bearer " + key, []byte(`{"app":"shop","data":{"thing1":5}}`), http.StatusBadRequest},
		{http.MethodPut, "/v1/groups/g?app=shop", "Bearer " + key, []byte(`{"members":[1]}`), http.StatusBadRequest},
		// The checks before the 202: a keyword its template lacks.
		{http.MethodPost, "/v1/messages", "Bearer " + key, []byte(`{"app":"shop","to":"u","template_id":"t","data":{"thing1":"x"},"page":"https://x"}`),
			http.StatusUnprocessableEntity},
	} {
		code, b := do(t, hs, tc.method, tc.path, tc.auth, tc.body)
		wellFormed(t, code, b, tc.want)
	}
	// 415: a body not sent as JSON.
	req, _ := http.NewRequest(http.MethodPost, hs.URL+"/v1/messages", strings.NewReader("x"))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "text/plain")
	resp, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var e errorBody
	_ = json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType || len(e.Problems) == 0 || e.Problems[0].Field != "Content-Type" {
		t.Errorf("415: %d %+v", resp.StatusCode, e)
	}
	// 429: the slow key's second request.
	do(t, hs, http.MethodGet, "/v1/messages", "Bearer slow-key-00001", nil)
	code, b := do(t, hs, http.MethodGet, "/v1/messages", "Bearer slow-key-00001", nil)
	wellFormed(t, code, b, http.StatusTooManyRequests)
}

// GET /v1/messages narrows by reason, recipient and creation time (from
// inclusive, to exclusive), combined with the other filters and paged by
// cursor.
func TestListMessagesFilters(t *testing.T) {
	t.Parallel()
	hs, st, _ := server(t)
	t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	mk := func(id, app, to string, st message.Status, rs reason.Reason, created time.Time) message.Message {
		return message.Message{ID: id, App: app, Platform: "wechat", To: to, TemplateID: "t", Data: map[string]string{"thing1": "x"},
			Status: st, Reason: rs, CreatedAt: created, UpdatedAt: created}
	}
	st.msgs = []message.Message{ // oldest first: lists answer newest first
		mk("msg_1", "shop", "u1", message.StatusFailed, reason.NotSubscribed, t0),
		mk("msg_2", "shop", "u2", message.StatusFailed, reason.NotSubscribed, t0.Add(time.Minute)),
		mk("msg_3", "shop", "u1", message.StatusDelivered, "", t0.Add(2*time.Minute)),
		mk("msg_4", "tok", "u1", message.StatusFailed, reason.NotSubscribed, t0.Add(3*time.Minute)),
		mk("msg_5", "shop", "u3", message.StatusRejected, reason.RiskyContent, t0.Add(4*time.Minute)),
	}
	list := func(query string) []string {
		t.Helper()
		var got []string
		path := "/v1/messages?" + query
		for range 10 {
			code, b := do(t, hs, http.MethodGet, path, "Bearer "+key, nil)
			wellFormed(t, code, b, http.StatusOK)
			var p struct {
				Items      []message.Message `json:"items"`
				NextCursor string            `json:"next_cursor"`
			}
			jsonOf(t, b, &p)
			for _, m := range p.Items {
				got = append(got, m.ID)
			}
			if p.NextCursor == "" {
				return got
			}
			path = "/v1/messages?" + query + "&cursor=" + url.QueryEscape(p.NextCursor)
		}
		t.Fatalf("%s: no last page after 10", query)
		return nil
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"reason=not_subscribed", []string{"msg_4", "msg_2", "msg_1"}},
		{"reason=not_subscribed&app=shop&limit=1", []string{"msg_2", "msg_1"}},
		{"to=u1", []string{"msg_4", "msg_3", "msg_1"}},
		{"to=u1&status=failed&limit=1", []string{"msg_4", "msg_1"}},
		{"created_from=2026-01-02T03:01:00Z&created_to=2026-01-02T03:03:00Z", []string{"msg_3", "msg_2"}},
		{"created_from=" + url.QueryEscape("2026-01-02T11:02:00+08:00"), []string{"msg_5", "msg_4", "msg_3"}},
		{"created_to=2026-01-02T03:00:00.001Z", []string{"msg_1"}},
		{"reason=not_subscribed&to=u1&created_from=2026-01-02T03:00:00Z&created_to=2026-01-02T03:03:00Z", []string{"msg_1"}},
		{"reason=risky_content&to=u1", nil},
	} {
		if got := list(tc.query); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.query, got, tc.want)
		}
	}
}
