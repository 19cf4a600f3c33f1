package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/internal/connprobe"
	"github.com/minipush/minipush/internal/httpserver"
	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/seed"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseDefaults(t *testing.T) {
	t.Parallel()
	c, err := parse(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := config{addr: "127.0.0.1:9100", inboxLimit: mockserver.DefaultInboxLimit,
		journalLimit: mockserver.DefaultJournalLimit, bodyLimit: mockserver.DefaultJournalBodyLimit, ui: true,
		pushQueue: mockserver.DefaultPushQueue, pushConc: mockserver.DefaultPushConcurrency,
		pushJournal: mockserver.DefaultPushJournalLimit, logFormat: "text", logLevel: "info", limits: httpserver.Defaults()}
	if c != want {
		t.Fatalf("defaults %+v, want %+v", c, want)
	}
}

func TestParsePrecedence(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want func(c config) bool
	}{
		{"env sets every flag", nil, map[string]string{
			"MINIPUSH_MOCK_ADDR": "0.0.0.0:9200", "MINIPUSH_MOCK_SEED": "s.yaml", "MINIPUSH_MOCK_DEMO": "true",
			"MINIPUSH_MOCK_INBOX_LIMIT": "7", "MINIPUSH_MOCK_JOURNAL_LIMIT": "8", "MINIPUSH_MOCK_JOURNAL_BODY_LIMIT": "9",
			"MINIPUSH_MOCK_UI": "false", "MINIPUSH_MOCK_LOG_FORMAT": "json", "MINIPUSH_MOCK_LOG_LEVEL": "debug",
			"MINIPUSH_MOCK_PUSH_QUEUE": "9", "MINIPUSH_MOCK_PUSH_CONCURRENCY": "2", "MINIPUSH_MOCK_PUSH_JOURNAL_LIMIT": "11",
		}, func(c config) bool {
			return c == config{addr: "0.0.0.0:9200", seedFile: "s.yaml", demo: true, inboxLimit: 7, journalLimit: 8, bodyLimit: 9,
				ui: false, pushQueue: 9, pushConc: 2, pushJournal: 11, logFormat: "json", logLevel: "debug", limits: httpserver.Defaults()}
		}},
		{"flag turns the UI off", []string{"-ui=false"}, map[string]string{"MINIPUSH_MOCK_UI": "true"},
			func(c config) bool { return !c.ui }},
		{"flag beats env", []string{"-addr", "127.0.0.1:1", "-inbox-limit", "3", "-demo=false"},
			map[string]string{"MINIPUSH_MOCK_ADDR": "0.0.0.0:9200", "MINIPUSH_MOCK_INBOX_LIMIT": "7", "MINIPUSH_MOCK_DEMO": "1"},
			func(c config) bool { return c.addr == "127.0.0.1:1" && c.inboxLimit == 3 && !c.demo }},
		{"env fills what flags leave", []string{"-demo"}, map[string]string{"MINIPUSH_MOCK_LOG_FORMAT": "json"},
			func(c config) bool { return c.demo && c.logFormat == "json" && c.addr == "127.0.0.1:9100" }},
		{"empty env is unset", nil, map[string]string{"MINIPUSH_MOCK_ADDR": ""},
			func(c config) bool { return c.addr == "127.0.0.1:9100" }},
		{"other prefixes are ignored", nil, map[string]string{"MINIPUSH_ADDR": "x", "ADDR": "y"},
			func(c config) bool { return c.addr == "127.0.0.1:9100" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := parse(tc.args, env(tc.env), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.want(c) {
				t.Fatalf("config %+v", c)
			}
		})
	}
}

func TestParseErrorsNameTheSetting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string // the error mentions all of these
	}{
		{"bad env int", nil, map[string]string{"MINIPUSH_MOCK_INBOX_LIMIT": "many"}, []string{"MINIPUSH_MOCK_INBOX_LIMIT"}},
		{"bad env bool", nil, map[string]string{"MINIPUSH_MOCK_DEMO": "yes please"}, []string{"MINIPUSH_MOCK_DEMO"}},
		{"zero inbox", []string{"-inbox-limit", "0"}, nil, []string{"-inbox-limit", "MINIPUSH_MOCK_INBOX_LIMIT"}},
		{"zero inbox from env", nil, map[string]string{"MINIPUSH_MOCK_INBOX_LIMIT": "0"}, []string{"MINIPUSH_MOCK_INBOX_LIMIT"}},
		{"negative journal", []string{"-journal-limit", "-1"}, nil, []string{"-journal-limit"}},
		{"zero push queue", []string{"-push-queue", "0"}, nil, []string{"-push-queue", "MINIPUSH_MOCK_PUSH_QUEUE"}},
		{"zero push concurrency", nil, map[string]string{"MINIPUSH_MOCK_PUSH_CONCURRENCY": "0"}, []string{"MINIPUSH_MOCK_PUSH_CONCURRENCY"}},
		{"zero push journal", []string{"-push-journal-limit", "0"}, nil, []string{"-push-journal-limit"}},
		{"negative body limit", []string{"-journal-body-limit", "-1"}, nil, []string{"-journal-body-limit", "MINIPUSH_MOCK_JOURNAL_BODY_LIMIT"}},
		{"log format", []string{"-log-format", "xml"}, nil, []string{"-log-format", "xml"}},
		{"log level", []string{"-log-level", "loud"}, nil, []string{"-log-level", "loud"}},
		{"addr without port", []string{"-addr", "localhost"}, nil, []string{"-addr"}},
		{"addr from env", nil, map[string]string{"MINIPUSH_MOCK_ADDR": "nonsense"}, []string{"MINIPUSH_MOCK_ADDR"}},
		{"unknown flag", []string{"-port", "1"}, nil, []string{"port"}},
		{"flag bad int", []string{"-inbox-limit", "x"}, nil, []string{"inbox-limit"}},
		{"stray argument", []string{"serve"}, nil, []string{"serve"}},
		{"negative write timeout", []string{"-write-timeout", "-1s"}, nil, []string{"-write-timeout", "MINIPUSH_MOCK_WRITE_TIMEOUT"}},
		{"tiny header cap", nil, map[string]string{"MINIPUSH_MOCK_MAX_HEADER_BYTES": "10"}, []string{"MINIPUSH_MOCK_MAX_HEADER_BYTES"}},
		{"tiny conn cap", []string{"-max-conns", "2"}, nil, []string{"-max-conns"}},
		{"short control token", nil, map[string]string{"MINIPUSH_MOCK_CONTROL_TOKEN": "abc"}, []string{"MINIPUSH_MOCK_CONTROL_TOKEN"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := parse(tc.args, env(tc.env), io.Discard)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestHelpIsNotAnError(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, env(nil), &out, nil); err != nil {
		t.Fatalf("run -h = %v", err)
	}
	if _, err := parse([]string{"-h"}, env(nil), io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("parse -h = %v", err)
	}
	for _, w := range []string{"MINIPUSH_MOCK_", "-inbox-limit", "-seed", "-demo", "-log-format", "-addr", "A development tool",
		"unauthenticated", "-control-token", "-max-conns", "-write-timeout", "-idle-timeout", "-read-timeout", "-max-header-bytes"} {
		if !strings.Contains(out.String(), w) {
			t.Fatalf("usage lacks %q:\n%s", w, out.String())
		}
	}
}

func TestLoadSeedCombinesDemoAndFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "extra.json")
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	b, _ := json.Marshal(mockapi.Seed{
		Apps:         []mockapi.App{{Platform: "wechat", AppID: "wxextra", Secret: "s"}},
		ContentRules: &mockapi.ContentRules{Risky: []mockapi.ContentWord{{Word: "x"}}},
		Start:        &start,
	})
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := loadSeed(config{demo: true, seedFile: file})
	if err != nil {
		t.Fatal(err)
	}
	demo := len(seed.Demo().Apps)
	if len(s.Apps) != demo+1 || s.Apps[0].AppID != seed.DemoWeChatAppID || s.Apps[demo].AppID != "wxextra" {
		t.Fatalf("apps %+v", s.Apps)
	}
	if len(s.ContentRules.Risky) != 1 || s.Start == nil || !s.Start.Equal(start) {
		t.Fatalf("file's rules and start should replace the demo's: %+v %v", s.ContentRules, s.Start)
	}
	if s, _ := loadSeed(config{demo: true}); len(s.Apps) != len(seed.Demo().Apps) || s.ContentRules == nil {
		t.Fatalf("demo alone: %+v", s)
	}
	if s, _ := loadSeed(config{}); len(s.Apps) != 0 {
		t.Fatalf("no seed: %+v", s)
	}
	if _, err := loadSeed(config{seedFile: filepath.Join(dir, "missing.yaml")}); err == nil {
		t.Fatal("missing seed file accepted")
	}
}

// syncBuffer is a log sink the server goroutine and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startRun runs the binary's run on a free port and returns its base URL,
// a stop function that cancels it, and the channel its result arrives on.
func startRun(t *testing.T, args []string, getenv func(string) string, logs io.Writer) (string, context.CancelFunc, <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), getenv, logs, func(a net.Addr) { addrc <- a })
	}()
	select {
	case a := <-addrc:
		return "http://" + a.String(), cancel, done
	case err := <-done:
		t.Fatalf("run ended before listening: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not start listening")
	}
	return "", nil, nil
}

func getJSON(t *testing.T, u string, v any) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

func TestRunServesAndShutsDown(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	base, stop, done := startRun(t, []string{"-demo", "-log-format", "json"},
		env(map[string]string{"MINIPUSH_MOCK_INBOX_LIMIT": "5"}), logs)

	if code := getJSON(t, base+"/readyz", nil); code != http.StatusOK {
		t.Fatalf("readyz %d", code)
	}
	var apps struct {
		Apps []mockapi.AppInfo `json:"apps"`
	}
	getJSON(t, base+"/_mock/apps", &apps)
	if len(apps.Apps) != len(seed.Demo().Apps) || !slices.ContainsFunc(apps.Apps, func(a mockapi.AppInfo) bool { return a.AppID == seed.DemoWeChatAppID }) {
		t.Fatalf("the demo seed is not loaded: %+v", apps)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	getJSON(t, base+"/cgi-bin/token?grant_type=client_credential&appid="+seed.DemoWeChatAppID+"&secret="+seed.DemoWeChatSecret, &tok)
	if tok.AccessToken == "" {
		t.Fatal("no token from the demo app")
	}

	// A long wait in flight must not hold up the shutdown.
	waited := make(chan error, 1)
	go func() {
		resp, err := http.Get(base + "/_mock/messages?wait=60s")
		if err == nil {
			resp.Body.Close()
		}
		waited <- err
	}()
	time.Sleep(100 * time.Millisecond) // let the wait start
	start := time.Now()
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v on shutdown", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("shutdown took %v with a wait in flight", took)
	}
	if err := <-waited; err != nil {
		t.Fatalf("the waiting GET failed instead of being answered: %v", err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("still serving after shutdown")
	}
	out := logs.String()
	if !strings.Contains(out, `"msg":"mockserver listening"`) || !strings.Contains(out, `"inbox_limit":5`) ||
		!strings.Contains(out, `"msg":"shutting down"`) {
		t.Fatalf("JSON log lines missing:\n%s", out)
	}
	if strings.Contains(out, seed.DemoWeChatSecret) {
		t.Fatalf("the log holds the app secret:\n%s", out)
	}
}

func TestRunDebugAccessLogOmitsQueries(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	base, stop, done := startRun(t, []string{"-demo", "-log-level", "debug"}, env(nil), logs)
	getJSON(t, base+"/cgi-bin/token?grant_type=client_credential&appid="+seed.DemoWeChatAppID+"&secret="+seed.DemoWeChatSecret, nil)
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if !strings.Contains(out, "path=/cgi-bin/token") || !strings.Contains(out, "status=200") {
		t.Fatalf("no access log line for the call:\n%s", out)
	}
	if strings.Contains(out, seed.DemoWeChatSecret) {
		t.Fatalf("the access log holds the secret:\n%s", out)
	}
}

func TestRunDropFaultWithAccessLog(t *testing.T) {
	t.Parallel()
	base, stop, done := startRun(t, []string{"-demo", "-log-level", "debug"}, env(nil), io.Discard)
	body := strings.NewReader(`{"platform":"wechat","endpoint":"token","drop":true}`)
	resp, err := http.Post(base+"/_mock/faults", "application/json", body)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("add fault: %v %v", resp, err)
	}
	resp.Body.Close()
	if resp, err := http.Get(base + "/cgi-bin/token"); err == nil {
		resp.Body.Close()
		t.Fatalf("drop fault answered %d", resp.StatusCode)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestRunFailures(t *testing.T) {
	t.Parallel()
	// A port in use.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() }) // not defer: the parallel subtests run after this function returns
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("apps:\n  - platform: wechat\n    app_id: wx\n    secret: s\n    templates: [{template_id: t, keywords: [nope1]}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"port in use", []string{"-addr", ln.Addr().String()}, "address already in use"},
		{"bad flag", []string{"-inbox-limit", "0"}, "inbox-limit"},
		{"missing seed", []string{"-seed", "/nonexistent/seed.yaml"}, "seed"},
		{"seed that does not load", []string{"-seed", bad}, "wx"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := run(ctx, tc.args, env(nil), io.Discard, func(net.Addr) { t.Error("listening although it should fail") })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("run = %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

// The mock's listener carries the server limits, set like every flag from
// MINIPUSH_MOCK_* (so on a mock without them the settings are ignored and
// each probe fails).
func TestRunServerLimits(t *testing.T) {
	t.Parallel()
	base, _, _ := startRun(t, []string{"-demo"}, env(map[string]string{
		"MINIPUSH_MOCK_MAX_CONNS": "100", "MINIPUSH_MOCK_IDLE_TIMEOUT": "300ms",
		"MINIPUSH_MOCK_READ_TIMEOUT": "500ms", "MINIPUSH_MOCK_READ_HEADER_TIMEOUT": "500ms",
	}), io.Discard)
	connprobe.Test(t, strings.TrimPrefix(base, "http://"), connprobe.Limits{Health: "/healthz", MaxConns: 100, Flood: 1000,
		IdleTimeout: 300 * time.Millisecond, ReadTimeout: 500 * time.Millisecond,
		Trickle: "/_mock/apps", TrickleHeaders: []string{"Content-Type: application/json"}})
}

// Long polls (?wait=) and injected latencies are exempt from the write
// timeout: each extends its own answer's deadline by its bounded length.
func TestRunWriteTimeoutExemptions(t *testing.T) {
	t.Parallel()
	base, _, _ := startRun(t, []string{"-demo", "-write-timeout", "200ms"}, env(nil), io.Discard)
	start := time.Now()
	var msgs mockapi.Messages
	if code := getJSON(t, base+"/_mock/messages?wait=800ms", &msgs); code != http.StatusOK {
		t.Fatalf("long poll: %d", code)
	}
	if took := time.Since(start); took < 800*time.Millisecond {
		t.Fatalf("long poll answered after %s, before its wait", took)
	}
	resp, err := http.Post(base+"/_mock/faults", "application/json",
		strings.NewReader(`{"platform":"wechat","endpoint":"token","latency":"700ms"}`))
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("add fault: %v %v", resp, err)
	}
	resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	getJSON(t, base+"/cgi-bin/token?grant_type=client_credential&appid="+seed.DemoWeChatAppID+"&secret="+seed.DemoWeChatSecret, &tok)
	if tok.AccessToken == "" {
		t.Fatal("a 700ms latency fault with a 200ms write timeout lost the answer")
	}
	// Anything else is cut by the write timeout: a slow answer the
	// latency fault does not explain would be a dropped connection. (The
	// httpserver package tests that directly.)
}

// With a control token, /_mock/… needs it; platform paths and probes do
// not; the typed client sends it.
func TestRunControlToken(t *testing.T) {
	t.Parallel()
	const token = "mock-control-token-0001"
	base, _, _ := startRun(t, []string{"-demo"}, env(map[string]string{"MINIPUSH_MOCK_CONTROL_TOKEN": token}), io.Discard)
	get := func(path, auth string) int {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		path, auth string
		want       int
	}{
		{"/_mock/apps", "", http.StatusUnauthorized},
		{"/_mock/apps", "Bearer wrong-token-000000", http.StatusUnauthorized},
		{"/_mock/apps", "Basic " + token, http.StatusUnauthorized},
		{"/_mock/messages?wait=5s", "", http.StatusUnauthorized},
		{"/_mock", "", http.StatusUnauthorized},
		{"/_mock/nope", "", http.StatusUnauthorized},
		{"/_mock/apps", "Bearer " + token, http.StatusOK},
		{"/_mock/apps", "bearer " + token, http.StatusOK},
		{"/healthz", "", http.StatusOK},
		{"/readyz", "", http.StatusOK},
		{"/cgi-bin/token?grant_type=client_credential&appid=" + seed.DemoWeChatAppID + "&secret=" + seed.DemoWeChatSecret, "", http.StatusOK},
	} {
		if got := get(tc.path, tc.auth); got != tc.want {
			t.Errorf("GET %s (%q): %d, want %d", tc.path, tc.auth, got, tc.want)
		}
	}
	ctx := context.Background()
	if _, err := mockclient.New(base).Apps(ctx); err == nil {
		t.Error("a client without the token was let in")
	}
	if apps, err := mockclient.New(base, mockclient.WithToken(token)).Apps(ctx); err != nil || len(apps) == 0 {
		t.Errorf("client with the token: %v %v", apps, err)
	}
}

// The UI is on by default; its live streams end when the server shuts down
// (debug logging on, so the access log's writer wrapper is in the way and
// must pass flushes through).
func TestRunServesTheUIAndEndsItsStreams(t *testing.T) {
	t.Parallel()
	// Short server timeouts: a stream outlives them by design.
	base, stop, done := startRun(t, []string{"-demo", "-log-level", "debug"}, env(map[string]string{
		"MINIPUSH_MOCK_WRITE_TIMEOUT": "300ms", "MINIPUSH_MOCK_READ_TIMEOUT": "300ms", "MINIPUSH_MOCK_READ_HEADER_TIMEOUT": "300ms"}), io.Discard)
	resp, err := http.Get(base + "/_ui/phone")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /_ui/phone: %v %v", resp, err)
	}
	resp.Body.Close()
	stream, err := http.Get(base + "/_ui/events/journal?since=1.0")
	if err != nil || stream.StatusCode != http.StatusOK {
		t.Fatalf("stream: %v %v", stream, err)
	}
	defer stream.Body.Close()
	body := bufio.NewReader(stream.Body)
	first, err := body.ReadString('\n')
	if err != nil || !strings.HasPrefix(first, "retry:") {
		t.Fatalf("the stream's first line %q, %v: flushes do not reach the client", first, err)
	}
	time.Sleep(time.Second) // past the read and write timeouts
	getJSON(t, base+"/cgi-bin/token?grant_type=client_credential&appid="+seed.DemoWeChatAppID+"&secret="+seed.DemoWeChatSecret, nil)
	for {
		line, err := body.ReadString('\n')
		if err != nil {
			t.Fatalf("the stream ended after the server timeouts: %v", err)
		}
		if strings.HasPrefix(line, "event: item") {
			break
		}
	}
	start := time.Now()
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("an open UI stream held the shutdown")
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("shutdown took %v with a stream open", took)
	}

	off, stopOff, doneOff := startRun(t, []string{"-demo", "-ui=false"}, env(nil), io.Discard)
	resp, err = http.Get(off + "/_ui/phone")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("-ui=false: /_ui/phone answered %d", resp.StatusCode)
	}
	stopOff()
	<-doneOff
}

// A seed file sets push settings; a stop delivers the pushes still queued
// before run returns.
func TestRunSeedPushAndShutdownDrain(t *testing.T) {
	t.Parallel()
	got := make(chan string, 10)
	dev := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		time.Sleep(300 * time.Millisecond) // still in flight when the stop comes
		got <- string(b)
		_, _ = io.WriteString(w, "success")
	}))
	defer dev.Close()
	file := filepath.Join(t.TempDir(), "seed.yaml")
	yaml := `apps:
  - platform: wechat
    app_id: wxpushseed000001
    secret: s3cret
    users: [o_seed_user]
    templates: [{template_id: t1, title: 通知, keywords: [thing1], type: long_term}]
    grants: [{openid: o_seed_user, template_id: t1, long_term: true}]
    push: {url: "` + dev.URL + `/wx", token: seedtoken, format: json}
`
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	base, stop, done := startRun(t, []string{"-seed", file}, env(nil), logs)
	var apps struct {
		Apps []mockapi.AppInfo `json:"apps"`
	}
	getJSON(t, base+"/_mock/apps", &apps)
	if len(apps.Apps) != 1 || apps.Apps[0].Push == nil || !apps.Apps[0].Push.TokenSet || apps.Apps[0].Push.Format != "json" {
		t.Fatalf("seeded push settings: %+v", apps.Apps)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	getJSON(t, base+"/cgi-bin/token?grant_type=client_credential&appid=wxpushseed000001&secret=s3cret", &tok)
	body := `{"touser":"o_seed_user","template_id":"t1","data":{"thing1":{"value":"x"}}}`
	resp, err := http.Post(base+"/cgi-bin/message/subscribe/send?access_token="+tok.AccessToken, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run = %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return")
	}
	select {
	case b := <-got:
		if !strings.Contains(b, "subscribe_msg_sent_event") {
			t.Fatalf("pushed %s", b)
		}
	default:
		t.Fatal("the queued push was not delivered before run returned")
	}
	if strings.Contains(logs.String(), "seedtoken") {
		t.Fatalf("the log holds the push token:\n%s", logs.String())
	}
}

// A handshake with a slow developer's server is answered even past the
// write timeout: the call extends its own deadline by the push timeout.
func TestRunHandshakeOutlivesWriteTimeout(t *testing.T) {
	t.Parallel()
	dev := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(600 * time.Millisecond)
		_, _ = io.WriteString(w, r.URL.Query().Get("echostr"))
	}))
	defer dev.Close()
	base, _, _ := startRun(t, []string{"-demo", "-write-timeout", "200ms"}, env(nil), io.Discard)
	body := `{"platform":"wechat","app_id":"` + seed.DemoWeChatAppID + `","push":{"url":"` + dev.URL + `","token":"slowtoken"}}`
	req, _ := http.NewRequest(http.MethodPut, base+"/_mock/apps/push", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("the answer was cut: %v", err)
	}
	defer resp.Body.Close()
	var out mockapi.PushSettingsResult
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Verify == nil || !out.Verify.Passed {
		t.Fatalf("PUT /_mock/apps/push = %d %+v %v", resp.StatusCode, out, err)
	}
}
