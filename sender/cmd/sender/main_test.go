package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	fileSecret = "file-secret-do-not-print-91c2"
	envSecret  = "env-secret-do-not-print-44ad"
	fileKey    = "file-api-key-do-not-print-0b7e"
	envKey     = "env-api-key-do-not-print-d310"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sender.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func validConfig(t *testing.T) string {
	return `
listen: 127.0.0.1:0
storage: {driver: sqlite, path: ` + filepath.Join(t.TempDir(), "db", "minipush.db") + `}
api_keys: [{name: ops, key: ` + fileKey + `}]
apps:
  - {name: shop, platform: wechat, app_id: wx0000000000000001, secret: ` + fileSecret + `, base_url: http://127.0.0.1:1}
  - {name: club, platform: wechat, app_id: wx0000000000000002, secret: placeholder, base_url: http://127.0.0.1:1}
log: {format: json, level: debug}
`
}

// -check prints the configuration with every secret and key redacted,
// whether it came from the file or the environment.
func TestCheckRedacts(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, validConfig(t))
	var out strings.Builder
	getenv := env(map[string]string{"MINIPUSH_APP_CLUB_SECRET": envSecret, "MINIPUSH_API_KEYS": "ops:" + fileKey + ",ci:" + envKey})
	if err := run(context.Background(), []string{"-config", path, "-check"}, getenv, &out); err != nil {
		t.Fatalf("run -check: %v", err)
	}
	text := out.String()
	for _, s := range []string{fileSecret, envSecret, fileKey, envKey} {
		if strings.Contains(text, s) {
			t.Errorf("-check printed %q:\n%s", s, text)
		}
	}
	for _, want := range []string{"[redacted]", "wx0000000000000001", "name: ci", "name: ops"} {
		if !strings.Contains(text, want) {
			t.Errorf("-check output lacks %q:\n%s", want, text)
		}
	}
}

// A configuration error names the setting and never echoes a value that
// may be a secret, even one written in the wrong place.
func TestInvalidConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body, want string
	}{
		{"missing secret", "api_keys: [{name: a, key: " + fileKey + "}]\napps: [{name: shop, platform: wechat, app_id: wx1}]\n", "apps[0].secret"},
		{"key as a string", "api_keys: " + fileKey + "\n", "line 1"},
		{"secret as a number field", "api_keys: [{name: a, key: " + fileKey + "}]\napps: [{name: shop, platform: wechat, app_id: wx1, secret: s, rate: {per_second: " + fileSecret + "}}]\n", "line 2"},
		{"short key", "api_keys: [{name: a, key: short}]\napps: [{name: shop, platform: wechat, app_id: wx1, secret: " + fileSecret + "}]\n", "api_keys[0].key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out strings.Builder
			err := run(context.Background(), []string{"-config", writeConfig(t, tc.body), "-check"}, env(nil), &out)
			if err == nil {
				t.Fatalf("no error; output:\n%s", out.String())
			}
			msg := err.Error() + out.String()
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not name %q", msg, tc.want)
			}
			for _, s := range []string{fileSecret, fileKey, fileKey[:7], fileSecret[:7]} {
				if strings.Contains(msg, s) {
					t.Errorf("error echoes %q: %s", s, msg)
				}
			}
		})
	}
}

// The command serves until its context ends, logs JSON without secrets and
// shuts down cleanly.
func TestRunServes(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, validConfig(t))
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-config", path}, env(map[string]string{"MINIPUSH_APP_CLUB_SECRET": envSecret}), pw)
		pw.Close()
	}()

	var (
		mu    sync.Mutex
		lines []string
		url   = make(chan string, 1)
	)
	scanDone := make(chan struct{})
	go func() {
		defer close(scanDone)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			mu.Lock()
			lines = append(lines, sc.Text())
			mu.Unlock()
			var rec struct {
				Msg string `json:"msg"`
				URL string `json:"url"`
			}
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "sender listening" {
				url <- rec.URL
			}
		}
	}()
	var base string
	select {
	case base = <-url:
	case err := <-done:
		t.Fatalf("run ended before listening: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("no 'sender listening' log line within 20s")
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not stop within 20s of its context ending")
	}
	<-scanDone
	mu.Lock()
	defer mu.Unlock()
	text := strings.Join(lines, "\n")
	for _, s := range []string{fileSecret, envSecret, fileKey} {
		if strings.Contains(text, s) {
			t.Errorf("the logs hold %q", s)
		}
	}
	for _, want := range []string{"starting sender", "configuration (redacted)", "sender stopped"} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q log line:\n%s", want, text)
		}
	}
}

// The collector's pace is the sender's default unless GOGC is set, which
// the runtime has applied by itself.
func TestGCPercent(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "GOGC" {
				return v
			}
			return ""
		}
	}
	if pct, ok := gcPercent(env("")); !ok || pct != defaultGCPercent {
		t.Errorf("GOGC unset: gcPercent = %d, %v; want %d, true", pct, ok, defaultGCPercent)
	}
	for _, v := range []string{"100", "off", "50"} {
		if _, ok := gcPercent(env(v)); ok {
			t.Errorf("GOGC=%s: gcPercent wants to set a pace over the environment's", v)
		}
	}
}
