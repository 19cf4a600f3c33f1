package sender_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/sender"
	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage/sqlite"
)

// No app secret, API key or access token appears in any log line (debug
// level), API answer or error, through successes, token errors (a wrong
// secret: 40125), transport errors on the legacy token endpoint (whose URL
// carries the secret) and send faults.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	const (
		secret   = "S3CRET-do-not-leak-7f3a9c41"
		apiKey   = "APIKEY-do-not-leak-5b2e8d90"
		wrongID  = "wxe2e00000000000003" // the mock knows it with another secret
		legacyID = "wxe2e00000000000004" // fetches tokens with GET /cgi-bin/token?secret=…
		deadID   = "wxe2e00000000000005" // its base URL refuses connections
	)
	sd := seed()
	sd.Apps[0].Secret = secret
	extra := func(id, sec string) mockapi.App {
		a := sd.Apps[1]
		a.AppID, a.Secret = id, sec
		return a
	}
	sd.Apps = append(sd.Apps, extra(wrongID, "the-mock-has-another-secret"), extra(legacyID, secret))
	mock := startMock(t, mockserver.WithSeed(sd))

	// A port with nothing listening.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + ln.Addr().String()
	ln.Close()

	legacy := false
	cfg := testConfig(t, mock.URL)
	cfg.APIKeys = []config.APIKey{{Name: "secret-test", Key: apiKey}}
	cfg.Apps = []config.App{
		{Name: shopApp, Platform: "wechat", AppID: shopAppID, Secret: secret, BaseURL: mock.URL},
		{Name: "wrong", Platform: "wechat", AppID: wrongID, Secret: secret, BaseURL: mock.URL},
		{Name: "legacy", Platform: "wechat", AppID: legacyID, Secret: secret, BaseURL: mock.URL, UseStableToken: &legacy},
		{Name: "dead", Platform: "wechat", AppID: deadID, Secret: secret, BaseURL: deadURL, UseStableToken: &legacy},
	}
	cfg.Delivery.MaxAttempts = 2
	var logs syncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := startService(t, mock, cfg, log)
	do := func(method, path string, body any) (int, []byte) {
		t.Helper()
		return s.doKey(method, path, apiKey, body)
	}
	send := func(app, to, marker string) string {
		t.Helper()
		code, b := do(http.MethodPost, "/v1/messages", msg(app, to, marker))
		var a accepted
		mustJSON(t, b, &a)
		if code != http.StatusAccepted {
			t.Fatalf("POST: %d %s", code, b)
		}
		return a.ID
	}
	waitAttempts := func(id string, n int) message.Message {
		t.Helper()
		var m message.Message
		err := eventually(10*time.Second, func() bool {
			_, b := do(http.MethodGet, "/v1/messages/"+id, nil)
			mustJSON(t, b, &m)
			return len(m.Attempts) >= n && m.Status != message.StatusSending
		})
		if err != nil {
			t.Fatalf("message %s: %+v, want %d attempts", id, m, n)
		}
		return m
	}

	// Success, then send faults: -1, HTTP 502, a dropped connection.
	waitAttempts(send(shopApp, users[0], "secret-ok"), 1)
	addFault(t, mock, mockapi.Fault{Endpoint: "subscribe_send", AppID: shopAppID, ErrCode: ptr(-1), Times: 1})
	waitAttempts(send(shopApp, users[1], "secret-busy"), 2)
	addFault(t, mock, mockapi.Fault{Endpoint: "subscribe_send", AppID: shopAppID, HTTPStatus: 502, Times: 1})
	waitAttempts(send(shopApp, users[2], "secret-502"), 2)
	addFault(t, mock, mockapi.Fault{Endpoint: "subscribe_send", AppID: shopAppID, Drop: true, Times: 1})
	waitAttempts(send(shopApp, users[3], "secret-drop"), 2)
	// A token expired mid-run: 42001, refetch.
	if _, err := mock.Control.Advance(context.Background(), 7201*time.Second); err != nil {
		t.Fatal(err)
	}
	waitAttempts(send(shopApp, users[4], "secret-expired"), 1)

	// The wrong secret: the token endpoint answers 40125.
	m := waitAttempts(send("wrong", users[0], "secret-wrong"), 1)
	if m.LastCode != "40125" {
		t.Errorf("wrong secret: last_code %q, want 40125", m.LastCode)
	}
	// The legacy token endpoint drops the connection: Go's *url.Error
	// quotes the URL, whose query holds the secret. Many times, because
	// the transport retries an idempotent GET by itself on each reused
	// connection it has idle: with two drops, a pool of idle connections
	// (the apps share one client) sometimes absorbed both and the first
	// fetch succeeded.
	// The fault goes once the first attempt has failed: the retry fetches
	// the token the end of the test reads.
	dropID, err := mock.Control.AddFault(context.Background(), mockapi.Fault{Platform: "wechat", Endpoint: "token",
		AppID: legacyID, Drop: true, Times: 16})
	if err != nil {
		t.Fatal(err)
	}
	legacyMsg := send("legacy", users[0], "secret-legacy-drop")
	m = waitAttempts(legacyMsg, 1)
	if m.Attempts[0].Code != "network" {
		t.Errorf("legacy token drop: attempts %+v, want a network error first", m.Attempts)
	}
	if err := mock.Control.DeleteFault(context.Background(), dropID); err != nil {
		t.Fatal(err)
	}
	// Its one retry may have come before the fault went: then redrive it.
	if m = waitAttempts(legacyMsg, len(m.Attempts)); m.Status == message.StatusFailed {
		do(http.MethodPost, "/v1/messages/"+legacyMsg+"/retry", nil)
	}
	if err := eventually(10*time.Second, func() bool {
		_, b := do(http.MethodGet, "/v1/messages/"+legacyMsg, nil)
		mustJSON(t, b, &m)
		return m.Status == message.StatusDelivered
	}); err != nil {
		t.Fatalf("legacy message after the fault went: %+v", m)
	}
	// Connection refused on the legacy token endpoint.
	m = waitAttempts(send("dead", users[0], "secret-dead"), cfg.Delivery.MaxAttempts)
	if m.Status != message.StatusFailed || m.LastError == "" {
		t.Errorf("dead app: %+v, want failed with an error", m)
	}
	for _, path := range []string{"/v1/messages?limit=1000", "/v1/messages?status=failed", "/v1/messages?status=retrying"} {
		do(http.MethodGet, path, nil)
	}
	s.doKey(http.MethodGet, "/metrics", "", nil)
	s.doKey(http.MethodGet, "/readyz", "", nil)
	s.doKey(http.MethodGet, "/v1/messages", "not-"+apiKey, nil) // a 401

	// The tokens in use, read from the database after the service stops.
	s.stop()
	store, err := sqlite.Open(context.Background(), cfg.Storage.Path)
	if err != nil {
		t.Fatal(err)
	}
	var tokens []string
	for _, key := range []string{"wechat/" + shopAppID + "/stable", "wechat/" + legacyID + "/token"} {
		tok, _, err := store.Token(context.Background(), key)
		if err != nil {
			t.Fatalf("token %s: %v", key, err)
		}
		tokens = append(tokens, tok)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}

	// Config printing, in every way fmt and slog can reach it.
	var printed strings.Builder
	fmt.Fprintf(&printed, "%v %+v %#v %s %v %+v %#v %v %+v\n", cfg, *cfg, *cfg, cfg, cfg.Apps, cfg.Apps[0], cfg.Apps[0], cfg.APIKeys, cfg.APIKeys[0])
	slog.New(slog.NewJSONHandler(&printed, nil)).Info("config", "cfg", cfg, "value", *cfg, "app", cfg.Apps[0], "key", cfg.APIKeys[0])
	slog.New(slog.NewTextHandler(&printed, nil)).Info("config", "cfg", cfg, "app", cfg.Apps[0], "apps", cfg.Apps)

	// Errors building a service: a bad app id, a storage path that cannot
	// be created.
	var buildErrs []string
	bad := *cfg
	bad.Apps = append([]config.App(nil), cfg.Apps...)
	bad.Apps[0].AppID = "wx bad id"
	bad.Storage.Path = filepath.Join(t.TempDir(), "db2", "minipush.db")
	if _, err := sender.New(context.Background(), &bad, log); err == nil {
		t.Errorf("sender.New accepted app id %q", bad.Apps[0].AppID)
	} else {
		buildErrs = append(buildErrs, err.Error())
	}
	bad = *cfg
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	bad.Storage.Path = filepath.Join(blocker, "minipush.db")
	if _, err := sender.New(context.Background(), &bad, log); err == nil {
		t.Errorf("sender.New opened storage under a file")
	} else {
		buildErrs = append(buildErrs, err.Error())
	}
	if err := bad.Validate(); err != nil {
		buildErrs = append(buildErrs, err.Error())
	}
	printed.WriteString(strings.Join(buildErrs, "\n"))

	logText := logs.String()
	s.mu.Lock()
	answers := strings.Join(s.answers, "\n")
	s.mu.Unlock()
	leaks := map[string]string{"app secret": secret, "API key": apiKey}
	for i, tok := range tokens {
		leaks[fmt.Sprintf("access token %d", i)] = tok
	}
	for what, v := range leaks {
		if v == "" {
			t.Fatalf("%s is empty", what)
		}
		for where, text := range map[string]string{"a log line": logText, "an API answer": answers, "printed config or an error": printed.String()} {
			if i := strings.Index(text, v); i >= 0 {
				t.Errorf("the %s appears in %s: …%s…", what, where, text[max(0, i-200):min(len(text), i+len(v)+50)])
			}
		}
	}
	// The logs did see the errors (the test would prove nothing otherwise).
	for _, want := range []string{`"code":"40125"`, `"code":"-1"`, `"code":"http 502"`, `"code":"network"`, `"level":"DEBUG"`} {
		if !strings.Contains(logText, want) {
			t.Errorf("no log line has %s; logs:\n%s", want, logText)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(logText), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("log line is not JSON: %s", line)
		}
	}
	// The database file is the one place the token may be (it must survive
	// a restart); the secret never.
	if b, err := os.ReadFile(cfg.Storage.Path); err == nil && strings.Contains(string(b), secret) {
		t.Errorf("the app secret is stored in the database")
	}
	if wal, err := os.ReadFile(filepath.Clean(cfg.Storage.Path + "-wal")); err == nil && strings.Contains(string(wal), secret) {
		t.Errorf("the app secret is in the database's WAL")
	}
}
