package push_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/internal/clock"
	"github.com/minipush/minipush/mockserver/internal/faults"
	"github.com/minipush/minipush/mockserver/internal/push"
	"github.com/minipush/minipush/mockserver/internal/store"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// testCodec is a minimal platform: JSON bodies, an X-Corrupt header that
// names the corruption asked for, 200 "ok" accepted, a GET handshake that
// wants "pong".
type testCodec struct{}

func (testCodec) CheckConfig(app *store.App, in mockapi.PushConfig) (push.Config, string, error) {
	if err := push.CheckURL(in.URL); err != nil {
		return push.Config{}, "url", err
	}
	return push.Config{AppID: app.AppID, URL: in.URL, Token: in.Token, Format: "json", Mode: "plain"}, "", nil
}

func (testCodec) Encode(cfg push.Config, ev *push.Event, a push.Attempt) (*push.Request, error) {
	body, err := ev.Body.MarshalJSON()
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Attempt", fmt.Sprint(a.Number))
	h.Set("X-Key", a.Key)
	h.Set("X-Time", fmt.Sprint(a.Now.Unix()))
	if a.Corrupt != "" {
		h.Set("X-Corrupt", a.Corrupt)
	}
	return &push.Request{Method: http.MethodPost, URL: cfg.URL, Header: h, Body: body}, nil
}

func (testCodec) Accept(status int, body []byte) error {
	if status != 200 || string(body) != "ok" {
		return fmt.Errorf("HTTP %d %q", status, body)
	}
	return nil
}

func (testCodec) Handshake(cfg push.Config, a push.Attempt) (*push.Request, func(int, []byte) error, error) {
	check := func(status int, body []byte) error {
		if string(body) != "pong" {
			return fmt.Errorf("answer %q is not pong", body)
		}
		return nil
	}
	return &push.Request{Method: http.MethodGet, URL: cfg.URL + "?ping=1", Header: http.Header{}, Event: "verify"}, check, nil
}

func (testCodec) FaultEndpoints() []string { return []string{push.EndpointPush} }
func (testCodec) Corruptions() []string    { return []string{push.CorruptSignature} }

// receiver is a developer's server that records what it gets and answers
// with answer (default 200 "ok").
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	got      []received
	arrived  chan received
	answer   func(w http.ResponseWriter, r *http.Request)
	inFlight atomic.Int32
	maxSeen  atomic.Int32
}

type received struct {
	method, query string
	header        http.Header
	body          string
}

func newReceiver(t *testing.T, answer func(w http.ResponseWriter, r *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{arrived: make(chan received, 1000), answer: answer}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := rc.inFlight.Add(1)
		defer rc.inFlight.Add(-1)
		for {
			m := rc.maxSeen.Load()
			if n <= m || rc.maxSeen.CompareAndSwap(m, n) {
				break
			}
		}
		b, _ := io.ReadAll(r.Body)
		g := received{method: r.Method, query: r.URL.RawQuery, header: r.Header.Clone(), body: string(b)}
		rc.mu.Lock()
		rc.got = append(rc.got, g)
		rc.mu.Unlock()
		rc.arrived <- g
		if rc.answer != nil {
			rc.answer(w, r)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(func() {
		rc.CloseClientConnections()
		rc.Close()
	})
	return rc
}

func (rc *receiver) wait(t *testing.T) received {
	t.Helper()
	select {
	case g := <-rc.arrived:
		return g
	case <-time.After(10 * time.Second):
		t.Fatal("no push arrived within 10s")
		return received{}
	}
}

type fixture struct {
	engine *push.Engine
	faults *faults.Set
	clock  *clock.Clock
}

func newEngine(t *testing.T, opts push.Options, url string) *fixture {
	t.Helper()
	f := &fixture{faults: faults.New(), clock: &clock.Clock{}}
	f.engine = push.New(f.clock, f.faults, nil, opts)
	f.engine.Register("test", testCodec{})
	t.Cleanup(func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		f.engine.Shutdown(ctx)
	})
	if url != "" {
		f.configure(t, "app1", url)
	}
	return f
}

func (f *fixture) configure(t *testing.T, appID, url string) {
	t.Helper()
	cfg, field, err := f.engine.CheckConfig(&store.App{Platform: "test", AppID: appID}, mockapi.PushConfig{URL: url})
	if err != nil {
		t.Fatalf("config field %s: %v", field, err)
	}
	f.engine.SetConfig("test", appID, &cfg)
}

func event(appID string, n int) push.Event {
	return push.Event{Platform: "test", AppID: appID, Name: "ping", OpenID: "u1",
		Body: push.Object{{Name: "n", Value: n}, {Name: "text", Value: "<a&b>"}}}
}

// journal waits until min attempts match and returns them.
func (f *fixture) journal(t *testing.T, min int, match func(*mockapi.Push) bool) []mockapi.Push {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f.engine.Journal().Wait(ctx, match, min)
	got, _ := f.engine.Journal().Filter(match, 0, 0)
	if len(got) < min {
		t.Fatalf("journal: %d matching attempts, want %d: %+v", len(got), min, got)
	}
	return got
}

func outcome(o string) func(*mockapi.Push) bool {
	return func(p *mockapi.Push) bool { return p.Outcome == o }
}

func TestDeliveryJournalsTheAttempt(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	f := newEngine(t, push.Options{}, rc.URL+"/hook")
	f.clock.Set(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	id, ok := f.engine.Enqueue(event("app1", 1))
	if !ok || id == "" {
		t.Fatalf("Enqueue = %q, %v", id, ok)
	}
	g := rc.wait(t)
	if g.body != `{"n":1,"text":"<a&b>"}` {
		t.Errorf("body = %s (fields in order, no HTML escaping)", g.body)
	}
	if g.header.Get("X-Time") != fmt.Sprint(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Unix()) {
		t.Errorf("attempt time %s does not follow the mock clock", g.header.Get("X-Time"))
	}
	p := f.journal(t, 1, outcome(mockapi.PushDelivered))[0]
	if p.ID != id || p.Platform != "test" || p.AppID != "app1" || p.Event != "ping" || p.OpenID != "u1" ||
		p.Attempt != 0 || p.Status != 200 || p.Answer != "ok" || p.URL != rc.URL+"/hook" || p.Method != "POST" ||
		p.ContentType != "application/json" || p.Body != g.body || p.Error != "" || p.LatencyMS <= 0 {
		t.Errorf("journal entry = %+v", p)
	}
	if p.Time.Year() != 2026 {
		t.Errorf("journal time %v is not the mock clock's", p.Time)
	}
	if s := f.engine.Stats(); s.Enqueued != 1 || s.Delivered != 1 || s.Failed != 0 || s.Queued != 0 {
		t.Errorf("stats = %+v", s)
	}
}

func TestNoSettingsNoPush(t *testing.T) {
	t.Parallel()
	f := newEngine(t, push.Options{}, "")
	if id, ok := f.engine.Enqueue(event("app1", 1)); ok || id != "" {
		t.Fatalf("Enqueue without settings = %q, %v; want nothing queued", id, ok)
	}
	if _, err := f.engine.Verify(context.Background(), "test", "app1"); err != push.ErrNoSettings {
		t.Fatalf("Verify without settings: %v", err)
	}
	if _, _, err := f.engine.CheckConfig(&store.App{Platform: "alipay", AppID: "a"}, mockapi.PushConfig{URL: "http://x"}); err != push.ErrNoPush {
		t.Fatalf("CheckConfig on a platform without pushes: %v", err)
	}
}

func TestRetriesThenFails(t *testing.T) {
	t.Parallel()
	// The answering cases get a timeout a loaded machine (race detector,
	// load 16) does not reach: 200 ms read one HTTP 500 as a timeout.
	cases := []struct {
		name    string
		answer  func(w http.ResponseWriter, r *http.Request)
		timeout time.Duration
		errHas  string
	}{
		{"http 500", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(500) }, 5 * time.Second, "HTTP 500"},
		{"wrong answer", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "nope") }, 5 * time.Second, `"nope"`},
		{"timeout", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }, 200 * time.Millisecond, "no answer within 200ms"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rc := newReceiver(t, tc.answer)
			f := newEngine(t, push.Options{Timeout: tc.timeout, RetryDelay: time.Millisecond}, rc.URL)
			id, _ := f.engine.Enqueue(event("app1", 1))
			all := f.journal(t, 1, outcome(mockapi.PushFailed))
			got, _ := f.engine.Journal().Filter(func(p *mockapi.Push) bool { return p.ID == id }, 0, 0)
			if len(got) != 1+push.DefaultRetries {
				t.Fatalf("%d attempts, want 1 + %d re-sends: %+v", len(got), push.DefaultRetries, got)
			}
			keys := map[string]bool{}
			for i, p := range got {
				want := mockapi.PushRetry
				if i == len(got)-1 {
					want = mockapi.PushFailed
				}
				if p.Attempt != i || p.Outcome != want || !strings.Contains(p.Error, tc.errHas) {
					t.Errorf("attempt %d = %+v, want outcome %s and an error naming %s", i, p, want, tc.errHas)
				}
			}
			for range got {
				keys[rc.wait(t).header.Get("X-Key")] = true
			}
			if len(keys) != 1 {
				t.Errorf("the push's key changed across re-sends: %v", keys)
			}
			if all[0].ID != id {
				t.Errorf("failed push %s, want %s", all[0].ID, id)
			}
			if s := f.engine.Stats(); s.Failed != 1 || s.Delivered != 0 {
				t.Errorf("stats = %+v", s)
			}
		})
	}
}

func TestRetrySucceeds(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	f := newEngine(t, push.Options{RetryDelay: time.Millisecond}, rc.URL)
	f.engine.Enqueue(event("app1", 1))
	d := f.journal(t, 1, outcome(mockapi.PushDelivered))[0]
	if d.Attempt != 1 {
		t.Errorf("delivered on attempt %d, want 1", d.Attempt)
	}
	r := f.journal(t, 1, outcome(mockapi.PushRetry))[0]
	if r.Status != http.StatusBadGateway || r.Attempt != 0 {
		t.Errorf("first attempt = %+v", r)
	}
}

func TestNoRetries(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(500) })
	f := newEngine(t, push.Options{Retries: push.NoRetries}, rc.URL)
	f.engine.Enqueue(event("app1", 1))
	f.journal(t, 1, outcome(mockapi.PushFailed))
	if n := f.engine.Journal().Len(); n != 1 {
		t.Errorf("%d attempts with re-sends off, want 1", n)
	}
}

// A receiver that never answers costs Enqueue nothing: it returns at once
// however many pushes wait, and the queue stays bounded.
func TestHangingReceiverNeverBlocksEnqueue(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) })
	f := newEngine(t, push.Options{Queue: 5, Concurrency: 2, Timeout: time.Minute}, rc.URL)
	start := time.Now()
	for i := 0; i < 50; i++ {
		if _, ok := f.engine.Enqueue(event("app1", i)); !ok {
			t.Fatalf("push %d not queued", i)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("50 Enqueue calls took %v with a hanging receiver", d)
	}
	rc.wait(t)
	rc.wait(t)
	s := f.engine.Stats()
	// 2 in flight, at most 5 waiting (fewer when the workers popped theirs
	// after the queue had filled), the rest dropped oldest first.
	if s.InFlight != 2 || s.Queued > 5 || s.Queued+int(s.Dropped) != 48 || s.Dropped < 43 || s.Enqueued != 50 {
		t.Fatalf("stats = %+v, want 2 in flight, at most 5 queued, the rest dropped", s)
	}
	dropped, _ := f.engine.Journal().Filter(outcome(mockapi.PushDropped), 0, 0)
	if len(dropped) != int(s.Dropped) || !strings.Contains(dropped[0].Error, "queue full") {
		t.Fatalf("dropped entries: %d, first %+v", len(dropped), dropped)
	}
	if max := rc.maxSeen.Load(); max > 2 {
		t.Errorf("%d pushes of one app in flight at once, want at most 2", max)
	}
}

// Concurrency is bounded per app: another app's pushes still flow while
// one app's receiver hangs.
func TestConcurrencyIsPerApp(t *testing.T) {
	t.Parallel()
	hang := newReceiver(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	fine := newReceiver(t, nil)
	f := newEngine(t, push.Options{Concurrency: 1, Timeout: time.Minute}, hang.URL)
	f.configure(t, "app2", fine.URL)
	for i := 0; i < 3; i++ {
		f.engine.Enqueue(event("app1", i))
	}
	hang.wait(t)
	for i := 0; i < 3; i++ {
		f.engine.Enqueue(event("app2", i))
	}
	f.journal(t, 3, func(p *mockapi.Push) bool { return p.AppID == "app2" && p.Outcome == mockapi.PushDelivered })
	if s := f.engine.Stats(); s.InFlight != 1 || s.Queued != 2 {
		t.Errorf("stats = %+v: app1 should hold 1 in flight and 2 queued", s)
	}
}

func TestShutdownDrainsThenDrops(t *testing.T) {
	t.Parallel()
	t.Run("drain", func(t *testing.T) {
		t.Parallel()
		rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request) {
			time.Sleep(20 * time.Millisecond)
			_, _ = io.WriteString(w, "ok")
		})
		f := newEngine(t, push.Options{Concurrency: 1}, rc.URL)
		for i := 0; i < 5; i++ {
			f.engine.Enqueue(event("app1", i))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if dropped := f.engine.Shutdown(ctx); dropped != 0 {
			t.Fatalf("Shutdown with time to spare dropped %d", dropped)
		}
		if s := f.engine.Stats(); s.Delivered != 5 {
			t.Fatalf("delivered %d of 5 before shutdown returned", s.Delivered)
		}
		if _, ok := f.engine.Enqueue(event("app1", 9)); ok {
			t.Fatal("Enqueue after Shutdown queued a push")
		}
	})
	t.Run("drop", func(t *testing.T) {
		t.Parallel()
		rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
		f := newEngine(t, push.Options{Concurrency: 1, Timeout: time.Minute}, rc.URL)
		for i := 0; i < 4; i++ {
			f.engine.Enqueue(event("app1", i))
		}
		rc.wait(t)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		if dropped := f.engine.Shutdown(ctx); dropped != 4 {
			t.Fatalf("Shutdown dropped %d, want 4 (1 in flight, 3 queued)", dropped)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Shutdown took %v past its deadline", d)
		}
		got, _ := f.engine.Journal().Filter(outcome(mockapi.PushDropped), 0, 0)
		if len(got) != 4 {
			t.Errorf("%d pushes journaled as dropped, want 4", len(got))
		}
	})
}

func TestResetClearsQueueAndJournal(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	f := newEngine(t, push.Options{Concurrency: 1, Timeout: time.Minute}, rc.URL)
	for i := 0; i < 3; i++ {
		f.engine.Enqueue(event("app1", i))
	}
	rc.wait(t)
	f.engine.Reset()
	if s := f.engine.Stats(); s != (mockapi.PushQueue{}) {
		t.Fatalf("stats after reset = %+v", s)
	}
	if _, ok := f.engine.Config("test", "app1"); ok {
		t.Fatal("settings survived the reset")
	}
	// The cancelled delivery must not journal into the fresh generation.
	time.Sleep(50 * time.Millisecond)
	if n := f.engine.Journal().Len(); n != 0 {
		got, _ := f.engine.Journal().Filter(nil, 0, 0)
		t.Fatalf("journal after reset holds %d entries: %+v", n, got)
	}
	select {
	case g := <-rc.arrived:
		t.Fatalf("a queued push went out after the reset: %+v", g)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestRemovingSettingsDropsQueued(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	f := newEngine(t, push.Options{Concurrency: 1, Timeout: time.Minute}, rc.URL)
	for i := 0; i < 3; i++ {
		f.engine.Enqueue(event("app1", i))
	}
	rc.wait(t)
	f.engine.SetConfig("test", "app1", nil)
	got, _ := f.engine.Journal().Filter(outcome(mockapi.PushDropped), 0, 0)
	if len(got) != 2 || !strings.Contains(got[0].Error, "removed") {
		t.Fatalf("dropped = %+v, want the 2 queued pushes", got)
	}
}

func TestPushFaults(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	f := newEngine(t, push.Options{}, rc.URL)
	// A catch-all fault on the platform's APIs leaves pushes alone.
	code := 45009
	f.faults.Add(mockapi.Fault{Platform: "test", Endpoint: "*", ErrCode: &code})
	corrupt := f.faults.Add(mockapi.Fault{Platform: "test", Endpoint: push.EndpointPush, Corrupt: push.CorruptSignature, Times: 1})
	drop := f.faults.Add(mockapi.Fault{Platform: "test", Endpoint: push.EndpointPush, Drop: true, Times: 1})
	f.engine.Enqueue(event("app1", 1))
	if g := rc.wait(t); g.header.Get("X-Corrupt") != push.CorruptSignature {
		t.Errorf("corrupt fault not passed to the codec: %v", g.header)
	}
	f.journal(t, 1, outcome(mockapi.PushDelivered))
	f.engine.Enqueue(event("app1", 2))
	d := f.journal(t, 1, outcome(mockapi.PushDropped))[0]
	if d.Fault != drop || !strings.Contains(d.Error, "dropped by fault") {
		t.Errorf("drop fault entry = %+v", d)
	}
	del, _ := f.engine.Journal().Filter(outcome(mockapi.PushDelivered), 0, 0)
	if del[0].Fault != corrupt {
		t.Errorf("delivered entry names fault %q, want %q", del[0].Fault, corrupt)
	}
	select {
	case g := <-rc.arrived:
		t.Fatalf("a dropped push arrived: %+v", g)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	good := newReceiver(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "pong") })
	bad := newReceiver(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "nope") })
	f := newEngine(t, push.Options{}, good.URL)
	f.configure(t, "app2", bad.URL)
	res, err := f.engine.Verify(context.Background(), "test", "app1")
	if err != nil || !res.Passed || res.Status != 200 || res.Body != "pong" || res.URL != good.URL+"?ping=1" {
		t.Fatalf("Verify good = %+v, %v", res, err)
	}
	res, err = f.engine.Verify(context.Background(), "test", "app2")
	if err != nil || res.Passed || !strings.Contains(res.Error, "not pong") {
		t.Fatalf("Verify bad = %+v, %v", res, err)
	}
	j, _ := f.engine.Journal().Filter(func(p *mockapi.Push) bool { return p.Event == "verify" }, 0, 0)
	if len(j) != 2 || j[0].Outcome != mockapi.PushPassed || j[1].Outcome != mockapi.PushRejected {
		t.Fatalf("handshakes journaled as %+v", j)
	}
}

func TestCheckFault(t *testing.T) {
	t.Parallel()
	f := newEngine(t, push.Options{}, "")
	code := 1
	cases := []struct {
		fault mockapi.Fault
		field string
	}{
		{mockapi.Fault{Platform: "test", Endpoint: push.EndpointPush, Corrupt: push.CorruptSignature}, ""},
		{mockapi.Fault{Platform: "test", Endpoint: push.EndpointPush, Drop: true}, ""},
		{mockapi.Fault{Platform: "test", Endpoint: push.EndpointPush, ErrCode: &code}, "errcode"},
		{mockapi.Fault{Platform: "test", Endpoint: push.EndpointPush, HTTPStatus: 500}, "http_status"},
		{mockapi.Fault{Platform: "test", Endpoint: push.EndpointPush, Corrupt: push.CorruptAppID}, "corrupt"},
		{mockapi.Fault{Platform: "test", Endpoint: push.EndpointSentEvent, ErrCode: &code}, ""},
		{mockapi.Fault{Platform: "test", Endpoint: push.EndpointSentEvent, Latency: 1}, "latency"},
		{mockapi.Fault{Platform: "test", Endpoint: "send", Corrupt: push.CorruptSignature}, "corrupt"},
		{mockapi.Fault{Platform: "other", Endpoint: "send", Corrupt: push.CorruptSignature}, "corrupt"},
	}
	for _, tc := range cases {
		field, err := f.engine.CheckFault(tc.fault)
		if field != tc.field || (err == nil) != (tc.field == "") {
			t.Errorf("CheckFault(%+v) = %q, %v; want field %q", tc.fault, field, err, tc.field)
		}
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	for s, ok := range map[string]bool{
		"http://127.0.0.1:8080/hook": true, "https://example.com/wx?app=1": true,
		"": false, "ftp://x": false, "http://": false, "https://u:p@example.com/": false,
		"http://x/#f": false, "::": false, "/relative": false,
	} {
		if err := push.CheckURL(s); (err == nil) != ok {
			t.Errorf("CheckURL(%q) = %v, want ok %v", s, err, ok)
		}
	}
}

// Settings set twice, removed, and removed again keep the engine's count of
// configured apps right: pushes go exactly to apps that have settings.
func TestSettingsLifecycle(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	f := newEngine(t, push.Options{}, rc.URL)
	f.configure(t, "app1", rc.URL+"/again")
	f.configure(t, "app2", rc.URL)
	f.engine.SetConfig("test", "app1", nil)
	f.engine.SetConfig("test", "app1", nil)
	f.engine.SetConfig("test", "nobody", nil)
	if _, ok := f.engine.Enqueue(event("app1", 1)); ok {
		t.Fatal("queued for an app whose settings were removed")
	}
	if _, ok := f.engine.Enqueue(event("app2", 1)); !ok {
		t.Fatal("not queued for an app with settings")
	}
	f.engine.SetConfig("test", "app2", nil)
	if _, ok := f.engine.Config("test", "app2"); ok {
		t.Fatal("settings still there")
	}
	f.configure(t, "app1", rc.URL)
	if cfg, ok := f.engine.Config("test", "app1"); !ok || cfg.URL != rc.URL {
		t.Fatalf("settings after re-adding: %+v %v", cfg, ok)
	}
}
