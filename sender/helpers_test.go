package sender_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/internal/openapitest"
	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/mocktest"
	"github.com/minipush/minipush/sender"
	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/openapi"
)

// The seeded world every test starts from: two WeChat apps on the mock,
// each with a template, users holding long-term grants and one user who
// never subscribed.
const (
	testAPIKey = "e2e-test-api-key-0001"

	shopApp    = "shop" // the sender's name for the first app
	shopAppID  = "wxe2e00000000000001"
	shopSecret = "e2e-shop-app-secret"
	clubApp    = "club"
	clubAppID  = "wxe2e00000000000002"
	clubSecret = "e2e-club-app-secret"

	tmpl = "tmpl-order-shipped" // keywords thing1, time2, character_string3
	// noGrant is a user of both apps who never accepted the template.
	noGrant  = "o_no_grant"
	noGrant2 = "o_no_grant_2"
)

// users hold long-term grants for tmpl in both apps.
var users = []string{"o_user_1", "o_user_2", "o_user_3", "o_user_4", "o_user_5", "o_user_6"}

func seed() mockapi.Seed {
	app := func(id, secret string) mockapi.App {
		a := mockapi.App{Platform: "wechat", AppID: id, Secret: secret,
			Users: append([]string{noGrant, noGrant2}, users...),
			Templates: []mockapi.Template{{TemplateID: tmpl, Title: "发货通知",
				Keywords: []string{"thing1", "time2", "character_string3"}, Type: mockapi.TemplateLongTerm}}}
		for _, u := range users {
			a.Grants = append(a.Grants, mockapi.Grant{OpenID: u, TemplateID: tmpl, LongTerm: true})
		}
		return a
	}
	return mockapi.Seed{Apps: []mockapi.App{app(shopAppID, shopSecret), app(clubAppID, clubSecret)}}
}

// startMock runs a fresh mock seeded with seed().
func startMock(t testing.TB, opts ...mockserver.Option) *mocktest.Mock {
	t.Helper()
	return mocktest.Start(t, append([]mockserver.Option{mockserver.WithSeed(seed())}, opts...)...)
}

// testConfig is a valid sender configuration for the mock: both apps, a
// database in a temporary directory and delivery timings short enough for
// tests.
func testConfig(t testing.TB, mockURL string) *config.Config {
	t.Helper()
	c := config.Defaults()
	c.Listen = "127.0.0.1:0"
	c.Storage.Path = filepath.Join(t.TempDir(), "db", "minipush.db")
	c.APIKeys = []config.APIKey{{Name: "e2e", Key: testAPIKey}}
	c.Apps = []config.App{
		{Name: shopApp, Platform: "wechat", AppID: shopAppID, Secret: shopSecret, BaseURL: mockURL},
		{Name: clubApp, Platform: "wechat", AppID: clubAppID, Secret: clubSecret, BaseURL: mockURL},
	}
	c.Delivery.Workers = 8
	c.Delivery.Batch = 64
	c.Delivery.MaxAttempts = 4
	c.Delivery.BackoffBase = 50 * time.Millisecond
	c.Delivery.BackoffMax = time.Second
	c.Delivery.ThrottleBackoff = 300 * time.Millisecond
	c.Delivery.PollInterval = 10 * time.Millisecond
	c.Delivery.Lease = 2 * time.Second
	c.Delivery.SendTimeout = time.Second
	c.Delivery.ShutdownTimeout = 5 * time.Second
	if err := c.Validate(); err != nil {
		t.Fatalf("test configuration: %v", err)
	}
	return &c
}

// svc is a running sender and the mock it delivers to.
type svc struct {
	t    testing.TB
	mock *mocktest.Mock
	cfg  *config.Config
	log  *slog.Logger
	URL  string
	Svc  *sender.Service

	stop func() // cancels Run, waits for it and closes storage
	// client checks every call against the API's document
	// (sender/internal/openapi/sender.yaml): a mismatch fails the test.
	client *http.Client

	// answers records every API answer body, for the secrets test.
	mu      sync.Mutex
	answers []string

	// opts are the sender.New options (startServiceWith).
	opts []sender.Option
}

// startService builds a sender from cfg and serves it on a loopback port
// until the test ends.
func startService(t testing.TB, mock *mocktest.Mock, cfg *config.Config, log *slog.Logger) *svc {
	t.Helper()
	return startServiceWith(t, mock, cfg, log)
}

// startServiceWith is startService with sender.New options.
func startServiceWith(t testing.TB, mock *mocktest.Mock, cfg *config.Config, log *slog.Logger, opts ...sender.Option) *svc {
	t.Helper()
	s := &svc{t: t, mock: mock, cfg: cfg, log: log, opts: opts}
	contract, err := openapitest.New(t, openapi.Document().YAML())
	if err != nil {
		t.Fatal(err)
	}
	s.client = &http.Client{Timeout: httpClient.Timeout, Transport: contract.Transport(nil)}
	s.start()
	t.Cleanup(func() { s.stop() })
	return s
}

func (s *svc) start() {
	s.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	service, err := sender.New(ctx, s.cfg, s.log, s.opts...)
	if err != nil {
		cancel()
		s.t.Fatalf("sender.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		_ = service.Close()
		s.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- service.Run(ctx, ln) }()
	s.Svc, s.URL = service, "http://"+ln.Addr().String()
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				s.t.Errorf("Run: %v", err)
			}
			if err := service.Close(); err != nil {
				s.t.Errorf("Close: %v", err)
			}
		})
	}
	s.waitReady()
}

// restart stops the service (gracefully) and starts a new one on the same
// configuration and database.
func (s *svc) restart() {
	s.t.Helper()
	s.stop()
	s.start()
}

func (s *svc) waitReady() {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if code, _ := s.doKey(http.MethodGet, "/readyz", "", nil); code == http.StatusOK {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.t.Fatal("sender did not become ready within 10s")
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

// do calls the API with the test key. body is JSON-encoded unless it is a
// string or []byte. hdr holds header name/value pairs.
func (s *svc) do(method, path string, body any, hdr ...string) (int, []byte) {
	s.t.Helper()
	return s.doKey(method, path, testAPIKey, body, hdr...)
}

func (s *svc) doKey(method, path, key string, body any, hdr ...string) (int, []byte) {
	s.t.Helper()
	code, b, err := callWith(s.client, s.URL, method, path, key, body, hdr...)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	s.mu.Lock()
	s.answers = append(s.answers, string(b))
	s.mu.Unlock()
	return code, b
}

// call is one API request; safe to use from any goroutine.
func call(base, method, path, key string, body any, hdr ...string) (int, []byte, error) {
	return callWith(httpClient, base, method, path, key, body, hdr...)
}

// callWith is call through hc.
func callWith(hc *http.Client, base, method, path, key string, body any, hdr ...string) (int, []byte, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// msg is a valid message body for tmpl; marker makes its data unique.
func msg(app, to, marker string) map[string]any {
	return map[string]any{"app": app, "to": to, "template_id": tmpl, "page": "pages/order/detail?id=" + marker,
		"data": map[string]string{"thing1": "咖啡豆已发货", "time2": "2024-05-01 12:30", "character_string3": marker}}
}

type accepted struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	Recipients int    `json:"recipients"`
}

// send posts a message and expects 202.
func (s *svc) send(body map[string]any, hdr ...string) string {
	s.t.Helper()
	code, b := s.do(http.MethodPost, "/v1/messages", body, hdr...)
	if code != http.StatusAccepted {
		s.t.Fatalf("POST /v1/messages: %d %s", code, b)
	}
	var a accepted
	mustJSON(s.t, b, &a)
	if a.ID == "" || a.Status != "queued" {
		s.t.Fatalf("POST /v1/messages answered %s, want {id, status: queued}", b)
	}
	return a.ID
}

func (s *svc) get(id string) message.Message {
	s.t.Helper()
	code, b := s.do(http.MethodGet, "/v1/messages/"+id, nil)
	if code != http.StatusOK {
		s.t.Fatalf("GET /v1/messages/%s: %d %s", id, code, b)
	}
	var m message.Message
	mustJSON(s.t, b, &m)
	return m
}

// wait polls the message until its status is want (or any final status
// when want is empty) and fails the test after timeout.
func (s *svc) wait(id string, want message.Status, timeout time.Duration) message.Message {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	var m message.Message
	for {
		m = s.get(id)
		if m.Status == want || (want == "" && m.Status.Final()) {
			return m
		}
		if m.Status.Final() || time.Now().After(deadline) {
			s.t.Fatalf("message %s: status %s (last_code %q, last_error %q, %d attempts), want %s",
				id, m.Status, m.LastCode, m.LastError, len(m.Attempts), orFinal(want))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func orFinal(s message.Status) string {
	if s == "" {
		return "a final status"
	}
	return string(s)
}

// inbox reads the mock inbox for an app, waiting for at least min messages.
func inbox(t testing.TB, m *mocktest.Mock, appID, openID string, min int) []mockapi.Message {
	t.Helper()
	f := mockclient.MessageFilter{Platform: "wechat", AppID: appID, OpenID: openID, Limit: 100_000}
	if min > 0 {
		f.Wait, f.Min = 20*time.Second, min
	}
	got, err := m.Control.Messages(context.Background(), f)
	if err != nil {
		t.Fatalf("read inbox: %v", err)
	}
	return got.Messages
}

// journal returns the mock's record of calls to one WeChat endpoint
// ("subscribe_send", "stable_token", …), oldest first.
func journal(t testing.TB, m *mocktest.Mock, endpoint, appID string) []mockapi.Request {
	t.Helper()
	got, err := m.Control.Requests(context.Background(), mockclient.RequestFilter{Platform: "wechat",
		Endpoint: endpoint, AppID: appID, Limit: 100_000})
	if err != nil {
		t.Fatalf("read journal: %v", err)
	}
	rs := got.Requests
	sort.Slice(rs, func(i, j int) bool { return rs[i].Seq < rs[j].Seq })
	return rs
}

func addFault(t testing.TB, m *mocktest.Mock, f mockapi.Fault) {
	t.Helper()
	if f.Platform == "" {
		f.Platform = "wechat"
	}
	if _, err := m.Control.AddFault(context.Background(), f); err != nil {
		t.Fatalf("add fault: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

func mustJSON(t testing.TB, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

// problems decodes a 422 answer.
type problemsBody struct {
	Error    string `json:"error"`
	Problems []struct {
		Field   string `json:"field"`
		Rule    string `json:"rule"`
		Message string `json:"message"`
	} `json:"problems"`
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// query builds a path with query parameters.
func query(path string, kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return path + "?" + q.Encode()
}

// metric returns the sum of a counter's samples whose labels contain all of
// labels (`app="shop"` …), from a /metrics text.
func metric(text, name string, labels ...string) (float64, bool) {
	var sum float64
	found := false
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, name) || strings.HasPrefix(line, "#") {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(rest, l)
		}
		if !ok {
			continue
		}
		var v float64
		if _, err := fmt.Sscan(rest[strings.LastIndexByte(rest, ' ')+1:], &v); err != nil {
			continue
		}
		sum, found = sum+v, true
	}
	return sum, found
}

var errTimeout = errors.New("timeout")

// eventually polls cond every 20ms until it holds or timeout passes.
func eventually(timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return errTimeout
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// sends are m's attempts that called the platform's send API; the others
// are the token refreshes the sends needed (kind token_refresh).
func sends(m message.Message) []message.Attempt {
	var out []message.Attempt
	for _, a := range m.Attempts {
		if a.Kind == message.KindSend {
			out = append(out, a)
		}
	}
	return out
}

// refreshes are m's token_refresh attempts.
func refreshes(m message.Message) []message.Attempt {
	var out []message.Attempt
	for _, a := range m.Attempts {
		if a.Kind == message.KindTokenRefresh {
			out = append(out, a)
		}
	}
	return out
}
