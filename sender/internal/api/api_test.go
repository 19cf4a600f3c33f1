package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/internal/openapitest"
	"github.com/minipush/minipush/sender/internal/api"
	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/consent"
	"github.com/minipush/minipush/sender/internal/contentrules"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/openapi"
	"github.com/minipush/minipush/sender/internal/reason"
	"github.com/minipush/minipush/sender/internal/storage"
)

const key = "api-test-key-0001"

// memStore is the API's Store in memory: just enough behaviour (ids,
// idempotency, groups, dead letters) to drive the handlers over HTTP.
type memStore struct {
	mu         sync.Mutex
	msgs       []message.Message
	broadcasts map[string]message.Broadcast
	groups     map[string][]string
	consents   []consent.Entry
	pauses     []message.Pause
	schedules  map[string]message.Schedule
}

func newMemStore() *memStore {
	return &memStore{broadcasts: map[string]message.Broadcast{}, groups: map[string][]string{}}
}

func (s *memStore) Enqueue(_ context.Context, msgs []message.Message) ([]message.Message, []bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out, dup := make([]message.Message, len(msgs)), make([]bool, len(msgs))
	for i, m := range msgs {
		out[i] = m
		if m.IdempotencyKey != "" {
			for _, x := range s.msgs {
				if x.App == m.App && x.IdempotencyKey == m.IdempotencyKey {
					out[i], dup[i] = x, true
				}
			}
		}
		if !dup[i] {
			s.msgs = append(s.msgs, m)
		}
	}
	return out, dup, nil
}

func (s *memStore) CreateBroadcast(_ context.Context, b message.Broadcast, msgs []message.Message) (message.Broadcast, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b.Group != "" && len(msgs) == 0 {
		g, ok := s.groups[b.App+"/"+b.Group]
		if !ok {
			return message.Broadcast{}, false, storage.ErrNotFound
		}
		b.Recipients = len(g)
	} else {
		b.Recipients, b.FannedOut = len(msgs), len(msgs)
	}
	s.broadcasts[b.ID] = b
	s.msgs = append(s.msgs, msgs...)
	return b, false, nil
}

func (s *memStore) Get(_ context.Context, id string) (message.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.msgs {
		if m.ID == id {
			return m, nil
		}
	}
	return message.Message{}, storage.ErrNotFound
}

// List pages newest first; a cursor is the index to continue below.
func (s *memStore) List(_ context.Context, f storage.Filter) ([]message.Message, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	start := len(s.msgs)
	if f.Cursor != "" {
		if _, err := fmt.Sscanf(f.Cursor, "c%d", &start); err != nil || start > len(s.msgs) {
			return nil, "", fmt.Errorf("cursor: %w", storage.ErrNotFound)
		}
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	var out []message.Message
	for i := start - 1; i >= 0; i-- {
		m := s.msgs[i]
		if (f.App != "" && m.App != f.App) || (f.Status != "" && m.Status != f.Status) || (f.BroadcastID != "" && m.BroadcastID != f.BroadcastID) {
			continue
		}
		if (f.Reason != "" && m.Reason != f.Reason) || (f.To != "" && m.To != f.To) ||
			(!f.CreatedFrom.IsZero() && m.CreatedAt.Before(f.CreatedFrom)) || (!f.CreatedTo.IsZero() && !m.CreatedAt.Before(f.CreatedTo)) {
			continue
		}
		if len(out) == limit {
			return out, fmt.Sprintf("c%d", i+1), nil
		}
		out = append(out, m)
	}
	return out, "", nil
}

func (s *memStore) Broadcast(_ context.Context, id string) (message.Broadcast, map[message.Status]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.broadcasts[id]
	if !ok {
		return b, nil, storage.ErrNotFound
	}
	counts := map[message.Status]int{}
	for _, m := range s.msgs {
		if m.BroadcastID == id {
			counts[m.Status]++
		}
	}
	return b, counts, nil
}

func (s *memStore) Redrive(_ context.Context, id string, now time.Time) (message.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, m := range s.msgs {
		if m.ID != id {
			continue
		}
		if !slices.Contains(message.Redrivable, m.Status) {
			return m, fmt.Errorf("status %s: %w", m.Status, storage.ErrConflict)
		}
		m.Status, m.NextAttemptAt, m.Retries, m.Reason = message.StatusQueued, now, 0, ""
		s.msgs[i] = m
		return m, nil
	}
	return message.Message{}, storage.ErrNotFound
}

func (s *memStore) Cancel(_ context.Context, id string, now time.Time) (message.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, m := range s.msgs {
		if m.ID != id {
			continue
		}
		if !slices.Contains(message.Cancellable, m.Status) {
			return m, fmt.Errorf("status %s: %w", m.Status, storage.ErrConflict)
		}
		m.Status, m.Reason, m.UpdatedAt = message.StatusCancelled, reason.Cancelled, now
		s.msgs[i] = m
		return m, nil
	}
	return message.Message{}, storage.ErrNotFound
}

// matching changes up to limit messages sel selects among allowed.
func (s *memStore) matching(sel storage.Selection, allowed []message.Status, limit int, change func(*message.Message)) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for i := range s.msgs {
		m := &s.msgs[i]
		if n == limit || !slices.Contains(allowed, m.Status) || (len(sel.Statuses) > 0 && !slices.Contains(sel.Statuses, m.Status)) ||
			(sel.App != "" && m.App != sel.App) || (sel.Reason != "" && m.Reason != sel.Reason) || (sel.Code != "" && m.LastCode != sel.Code) {
			continue
		}
		change(m)
		n++
	}
	return n
}

func (s *memStore) CancelMatching(_ context.Context, sel storage.Selection, _ time.Time, limit int) (int, error) {
	return s.matching(sel, message.Cancellable, limit, func(m *message.Message) {
		m.Status, m.Reason = message.StatusCancelled, reason.Cancelled
	}), nil
}

func (s *memStore) RedriveMatching(_ context.Context, sel storage.Selection, now time.Time, limit int) (int, error) {
	return s.matching(sel, message.Redrivable, limit, func(m *message.Message) {
		m.Status, m.Reason, m.NextAttemptAt = message.StatusQueued, "", now
	}), nil
}

func (s *memStore) AppCounts(_ context.Context, app string) (map[message.Status]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[message.Status]int{}
	for _, st := range message.Statuses {
		out[st] = 0
	}
	for _, m := range s.msgs {
		if m.App == app {
			out[m.Status]++
		}
	}
	return out, nil
}

func (s *memStore) Pauses(context.Context) ([]message.Pause, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.pauses), nil
}

func (s *memStore) Groups(_ context.Context, app, after string, limit int) ([]message.Group, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for k := range s.groups {
		if a, name, _ := strings.Cut(k, "/"); a == app && name > after {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	var out []message.Group
	for _, n := range names {
		if len(out) == limit {
			return out, out[len(out)-1].Name, nil
		}
		out = append(out, message.Group{App: app, Name: n, Size: len(s.groups[app+"/"+n]), UpdatedAt: time.Unix(1, 0).UTC()})
	}
	return out, "", nil
}

func (s *memStore) PutGroup(_ context.Context, app, name string, members iter.Seq2[string, error], _ string, _ func() string) (message.Group, bool, error) {
	var ms []string
	for m, err := range members {
		if err != nil {
			return message.Group{}, false, err
		}
		ms = append(ms, m)
	}
	slices.Sort(ms)
	ms = slices.Compact(ms)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[app+"/"+name] = ms
	return message.Group{App: app, Name: name, Size: len(ms), UpdatedAt: time.Unix(1, 0).UTC()}, false, nil
}

// Group hands out every member on one page.
func (s *memStore) Group(_ context.Context, app, name, _ string, limit int) (message.Group, []string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.groups[app+"/"+name]
	if !ok {
		return message.Group{}, nil, "", storage.ErrNotFound
	}
	if limit == 0 {
		return message.Group{App: app, Name: name, Size: len(g)}, []string{}, "", nil
	}
	return message.Group{App: app, Name: name, Size: len(g)}, g, "", nil
}

// Consents lists in the order the entries were added.
func (s *memStore) Consents(_ context.Context, app, user string, after consent.Key, limit int) ([]consent.Entry, consent.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	limit = storage.PageSize(limit)
	var out []consent.Entry
	started := after == (consent.Key{})
	for _, e := range s.consents {
		if !started {
			started = e.User == after.User && e.TemplateID == after.TemplateID
			continue
		}
		if e.App != app || (user != "" && e.User != user) {
			continue
		}
		if len(out) == limit {
			last := out[limit-1]
			return out, consent.Key{User: last.User, TemplateID: last.TemplateID}, nil
		}
		out = append(out, e)
	}
	return out, consent.Key{}, nil
}

func (s *memStore) DeleteGroup(_ context.Context, app, name string, _ storage.Idempotency) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.groups[app+"/"+name]; !ok {
		return false, storage.ErrNotFound
	}
	delete(s.groups, app+"/"+name)
	return false, nil
}

type rejection struct{ app, rule string }

// server serves the API over a memStore; rejected collects the Rejected
// hook's calls. The key has no request rate limit (fuzzers send
// thousands a second).
func server(t testing.TB) (*httptest.Server, *memStore, *[]rejection) {
	t.Helper()
	return serverWith(t, func(c *config.Config) { c.APIRate.PerSecond = 0 })
}

// serverWith is server with the configuration changed by mod.
func serverWith(t testing.TB, mod func(*config.Config)) (*httptest.Server, *memStore, *[]rejection) {
	t.Helper()
	h, st, rejected := handlerWith(t, mod)
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	return hs, st, rejected
}

// handlerWith is the API's handler over a memStore, not served.
func handlerWith(t testing.TB, mod func(*config.Config)) (http.Handler, *memStore, *[]rejection) {
	t.Helper()
	cfg := config.Defaults()
	cfg.APIKeys = []config.APIKey{{Name: "t", Key: key}}
	cfg.Apps = []config.App{{Name: "shop", Platform: "wechat", AppID: "wx1", Secret: "s"},
		{Name: "tok", Platform: "douyin", AppID: "tt1", Secret: "s"}}
	cfg.ContentRules = []config.ContentRule{{Name: "no-fake-invoice", Words: []string{"fake-invoice"}}}
	mod(&cfg)
	rules, err := contentrules.New(cfg.ContentRules)
	if err != nil {
		t.Fatal(err)
	}
	st := newMemStore()
	var (
		mu       sync.Mutex
		rejected []rejection
	)
	a := api.New(st, &cfg, rules, api.Hooks{Rejected: func(app, rule string) {
		mu.Lock()
		rejected = append(rejected, rejection{app, rule})
		mu.Unlock()
	}}, slog.New(slog.DiscardHandler))
	// Every exchange checked against the API's document.
	return contract(t).Wrap(a.Handler()), st, &rejected
}

// contract checks every exchange of a test against the API's document
// (sender/internal/openapi/sender.yaml): a mismatch fails the test.
func contract(t testing.TB) *openapitest.Checker {
	t.Helper()
	c, err := openapitest.New(t, openapi.Document().YAML())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func do(t testing.TB, hs *httptest.Server, method, path, auth string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, hs.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

type errorBody struct {
	Error    string `json:"error"`
	Problems []struct {
		Field, Rule, Message string
	} `json:"problems"`
}

// wellFormed checks an answer: one of the allowed statuses, a JSON body,
// and for errors an error text and complete problems.
func wellFormed(t testing.TB, code int, b []byte, allowed ...int) {
	t.Helper()
	ok := false
	for _, a := range allowed {
		ok = ok || code == a
	}
	if !ok {
		t.Fatalf("status %d (%s), want one of %v", code, b, allowed)
	}
	if code == http.StatusNoContent {
		return
	}
	if !json.Valid(b) {
		t.Fatalf("status %d: body is not JSON: %q", code, b)
	}
	if code < 400 {
		return
	}
	var e errorBody
	if err := json.Unmarshal(b, &e); err != nil || e.Error == "" {
		t.Fatalf("status %d: error body %s", code, b)
	}
	if code < 500 && len(e.Problems) == 0 {
		t.Fatalf("%d without problems: %s", code, b)
	}
	for _, p := range e.Problems {
		if p.Field == "" || p.Rule == "" || p.Message == "" {
			t.Fatalf("incomplete problem in %s", b)
		}
	}
}

// The Bearer scheme is case-insensitive (RFC 9110 §11.1); the key is not.
func TestAuthScheme(t *testing.T) {
	t.Parallel()
	hs, _, _ := server(t)
	for auth, want := range map[string]int{
		"Bearer " + key:                  http.StatusOK,
		"bearer " + key:                  http.StatusOK,
		"BEARER " + key:                  http.StatusOK,
		"Bearer " + strings.ToUpper(key): http.StatusUnauthorized,
		"Bearer  " + key:                 http.StatusUnauthorized,
		"Bearer":                         http.StatusUnauthorized,
		"":                               http.StatusUnauthorized,
		key:                              http.StatusUnauthorized,
	} {
		if code, b := do(t, hs, http.MethodGet, "/v1/messages", auth, nil); code != want {
			t.Errorf("Authorization %q: %d %s, want %d", auth, code, b, want)
		}
	}
}

// Callers choose app names; an unknown one must not become a metrics
// label, a configured one must.
func TestRejectedLabelsOnlyConfiguredApps(t *testing.T) {
	t.Parallel()
	hs, _, rejected := server(t)
	for _, app := range []string{"no-such-app-1", "no-such-app-2", "shop"} {
		body := fmt.Sprintf(`{"app":%q,"to":"u","template_id":"t","data":{"thing1":"fake-invoice"}}`, app)
		code, b := do(t, hs, http.MethodPost, "/v1/messages", "Bearer "+key, []byte(body))
		wellFormed(t, code, b, http.StatusUnprocessableEntity)
	}
	apps := map[string]bool{}
	for _, r := range *rejected {
		apps[r.app] = true
	}
	if len(apps) != 2 || !apps[""] || !apps["shop"] {
		t.Fatalf("rejected labels %v, want only \"\" and shop", *rejected)
	}
}

// A broadcast to a group that does not exist is an invalid body (422),
// not a missing endpoint; a cursor that was never issued is a bad query
// parameter (400 naming it), not a missing endpoint either.
func TestMissingReferencesAreNot404(t *testing.T) {
	t.Parallel()
	hs, _, _ := server(t)
	code, b := do(t, hs, http.MethodPost, "/v1/broadcasts", "Bearer "+key,
		[]byte(`{"app":"shop","group":"nobody","template_id":"t","data":{"thing1":"x"}}`))
	wellFormed(t, code, b, http.StatusUnprocessableEntity)
	if !strings.Contains(string(b), `"field":"group"`) {
		t.Errorf("problems %s do not name group", b)
	}
	code, b = do(t, hs, http.MethodGet, "/v1/messages?cursor=bogus", "Bearer "+key, nil)
	wellFormed(t, code, b, http.StatusBadRequest)
	if !strings.Contains(string(b), `"field":"cursor"`) {
		t.Errorf("problems %s do not name cursor", b)
	}
}

// Recipients are trimmed: " u1" is u1, in messages as in broadcasts.
func TestRecipientTrimmed(t *testing.T) {
	t.Parallel()
	hs, st, _ := server(t)
	code, b := do(t, hs, http.MethodPost, "/v1/messages", "Bearer "+key,
		[]byte(`{"app":"shop","to":"  o_user \t","template_id":"t","data":{"thing1":"x"}}`))
	wellFormed(t, code, b, http.StatusAccepted)
	if got := st.msgs[0].To; got != "o_user" {
		t.Fatalf("stored recipient %q, want o_user", got)
	}
}

// Every body decoder answers a well-formed 2xx, 400, 413 or 422, never a
// 500 or a panic, whatever the body.
func FuzzMessageBody(f *testing.F) {
	for _, s := range []string{
		`{"app":"shop","to":"u","template_id":"t","data":{"thing1":"x","time2":"2024-05-01 12:30"}}`,
		`{"app":"shop","to":"u","template_id":"t","data":{"thing1":"x"},"idempotency_key":"k","send_at":"2030-01-01T00:00:00Z"}`,
		`{"app":"tok","to":"u","template_id":"t","data":{"k":""}}`,
		`{"app":"shop","to":["u"]}`, `{"send_at":"tomorrow"}`, `{}`, `[]`, `null`, ``, `{"a":1}{`, "\x00",
	} {
		f.Add([]byte(s), "")
	}
	f.Add([]byte(`{"app":"shop","to":"u","template_id":"t","data":{"thing1":"x"},"idempotency_key":"a"}`), "b")
	hs, _, _ := server(f)
	f.Fuzz(func(t *testing.T, body []byte, idemKey string) {
		req, err := http.NewRequest(http.MethodPost, hs.URL+"/v1/messages", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		if idemKey != "" && !strings.ContainsAny(idemKey, "\r\n\x00") {
			req.Header.Set("Idempotency-Key", idemKey)
		}
		resp, err := hs.Client().Do(req)
		if err != nil {
			t.Skip("the client refused the request:", err) // e.g. an invalid header value
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		wellFormed(t, resp.StatusCode, b, http.StatusOK, http.StatusAccepted, http.StatusBadRequest,
			http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity)
	})
}

func FuzzBroadcastBody(f *testing.F) {
	for _, s := range []string{
		`{"app":"shop","to":["u1","u2"," "],"template_id":"t","data":{"thing1":"x"}}`,
		`{"app":"shop","group":"g","template_id":"t","data":{"thing1":"x"}}`,
		`{"app":"shop","group":"g","to":["u"],"template_id":"t","data":{"thing1":"x"}}`,
		`{"app":"shop","to":[],"template_id":"t","data":{"thing1":"x"}}`, `{"to":"u"}`, `{}`,
	} {
		f.Add([]byte(s))
	}
	hs, st, _ := server(f)
	_, _, _ = st.PutGroup(context.Background(), "shop", "g", storage.Members("u1", "u2"), "", nil)
	f.Fuzz(func(t *testing.T, body []byte) {
		code, b := do(t, hs, http.MethodPost, "/v1/broadcasts", "Bearer "+key, body)
		wellFormed(t, code, b, http.StatusAccepted, http.StatusBadRequest, http.StatusRequestEntityTooLarge,
			http.StatusUnprocessableEntity)
	})
}

func FuzzGroupBody(f *testing.F) {
	for _, s := range []string{`{"app":"shop","members":["u1","u2"]}`, `{"app":"shop","members":[]}`,
		`{"app":"nope","members":["u"]}`, `{"members":"u"}`} {
		f.Add([]byte(s), "g")
	}
	hs, _, _ := server(f)
	f.Fuzz(func(t *testing.T, body []byte, name string) {
		if name == "" || name == "." || name == ".." {
			t.Skip("not a group name: the router cleans the path")
		}
		code, b := do(t, hs, http.MethodPut, "/v1/groups/"+url.PathEscape(name), "Bearer "+key, body)
		wellFormed(t, code, b, http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge,
			http.StatusUnprocessableEntity, http.StatusNotFound)
	})
}

func FuzzListQuery(f *testing.F) {
	for _, s := range []string{"status=failed&app=shop&limit=1", "limit=0", "limit=x", "status=lost", "cursor=c1",
		"cursor=%zz", "broadcast=bc_1", "app=nope"} {
		f.Add(s)
	}
	hs, _, _ := server(f)
	f.Fuzz(func(t *testing.T, rawQuery string) {
		if strings.IndexFunc(rawQuery, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '#' }) >= 0 {
			// Not a valid request line: net/http's server refuses it before
			// any handler runs.
			t.Skip("not a valid request target")
		}
		req, err := http.NewRequest(http.MethodGet, hs.URL+"/v1/messages", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.URL.RawQuery = rawQuery
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := hs.Client().Do(req)
		if err != nil {
			t.Skip("the client refused the request:", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		wellFormed(t, resp.StatusCode, b, http.StatusOK, http.StatusBadRequest, http.StatusUnprocessableEntity)
	})
}

// Result webhooks: the memStore keeps no deliveries (the storage drivers'
// are tested by storagetest, the HTTP side with real storage in package
// sender's TestWebhooks).
func (s *memStore) WebhookDelivery(_ context.Context, id string) (message.WebhookDelivery, error) {
	return message.WebhookDelivery{}, fmt.Errorf("webhook delivery %s: %w", id, storage.ErrNotFound)
}

func (s *memStore) WebhookDeliveries(_ context.Context, f storage.WebhookFilter) ([]message.WebhookDelivery, string, error) {
	if f.Cursor != "" {
		return nil, "", fmt.Errorf("bad cursor: %w", storage.ErrNotFound)
	}
	return nil, "", nil
}

func (s *memStore) RedeliverWebhook(_ context.Context, id string, _ time.Time) (message.WebhookDelivery, error) {
	return message.WebhookDelivery{}, fmt.Errorf("webhook delivery %s: %w", id, storage.ErrNotFound)
}
