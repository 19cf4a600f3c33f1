package sender_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/internal/connprobe"
	"github.com/minipush/minipush/sender"
)

// loadConfig writes a minimal YAML configuration for the mock at mockURL
// (extra appended) and loads it with env as the environment, the way the
// binary does.
func loadConfig(t *testing.T, mockURL, extra string, env map[string]string) *sender.Config {
	t.Helper()
	cfg, _ := loadConfigFile(t, mockURL, extra, env)
	return cfg
}

// loadConfigFile is loadConfig that also returns the file's path.
func loadConfigFile(t *testing.T, mockURL, extra string, env map[string]string) (*sender.Config, string) {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "sender.yaml")
	body := fmt.Sprintf(`listen: 127.0.0.1:0
storage: {driver: sqlite, path: %s}
api_keys: [{name: e2e, key: %s}]
apps:
  - {name: %s, platform: wechat, app_id: %s, secret: %s, base_url: %s}
`, filepath.Join(dir, "db", "minipush.db"), testAPIKey, shopApp, shopAppID, shopSecret, mockURL) + extra
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := sender.LoadConfig(p, func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("load config: %v", err)
	}
	return cfg, p
}

// The sender's listener carries the server limits, set from the
// environment (MINIPUSH_SERVER_*) like every other setting: an idle flood
// past max_conns leaves /healthz answering and the server holding no more
// than the cap; an idle keep-alive connection is closed after
// idle_timeout; a trickled body is cut by read_timeout; 1 MB of headers
// answers 431.
func TestServerLimits(t *testing.T) {
	t.Parallel()
	mock := startMock(t)
	cfg := loadConfig(t, mock.URL, "", map[string]string{
		"MINIPUSH_SERVER_MAX_CONNS":           "100",
		"MINIPUSH_SERVER_IDLE_TIMEOUT":        "300ms",
		"MINIPUSH_SERVER_READ_TIMEOUT":        "500ms",
		"MINIPUSH_SERVER_READ_HEADER_TIMEOUT": "500ms",
	})
	s := startService(t, mock, cfg, nil)
	connprobe.Test(t, strings.TrimPrefix(s.URL, "http://"), connprobe.Limits{Health: "/healthz", MaxConns: 100, Flood: 1000,
		IdleTimeout: 300 * time.Millisecond, ReadTimeout: 500 * time.Millisecond,
		Trickle: "/v1/messages", TrickleHeaders: []string{"Authorization: Bearer " + testAPIKey, "Content-Type: application/json"}})
}

// Each API key is held to its request rate (MINIPUSH_API_RATE_*): past
// the burst the sender answers 429 with Retry-After.
func TestAPIRateLimit(t *testing.T) {
	t.Parallel()
	mock := startMock(t)
	cfg := loadConfig(t, mock.URL, "", map[string]string{"MINIPUSH_API_RATE_PER_SECOND": "0.1", "MINIPUSH_API_RATE_BURST": "2"})
	s := startService(t, mock, cfg, nil)
	for i := range 2 {
		if code, b := s.do(http.MethodGet, "/v1/messages", nil); code != http.StatusOK {
			t.Fatalf("request %d within the burst: %d %s", i+1, code, b)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/v1/messages", nil)
	req.Header.Set("Authorization", "Bearer "+testAPIKey)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("3rd request at 0.1/s burst 2: %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// Probes are not rate-limited.
	for range 5 {
		if code, _ := s.doKey(http.MethodGet, "/healthz", "", nil); code != http.StatusOK {
			t.Fatalf("/healthz: %d", code)
		}
	}
}

// /metrics can require an API key (metrics.require_key); it is open by
// default.
func TestMetricsRequireKey(t *testing.T) {
	t.Parallel()
	mock := startMock(t)
	open := startService(t, mock, loadConfig(t, mock.URL, "", nil), nil)
	if code, _ := open.doKey(http.MethodGet, "/metrics", "", nil); code != http.StatusOK {
		t.Fatalf("/metrics by default: %d, want 200", code)
	}
	s := startService(t, mock, loadConfig(t, mock.URL, "", map[string]string{"MINIPUSH_METRICS_REQUIRE_KEY": "true"}), nil)
	if code, _ := s.doKey(http.MethodGet, "/metrics", "", nil); code != http.StatusUnauthorized {
		t.Fatalf("/metrics without a key: %d, want 401", code)
	}
	if code, b := s.do(http.MethodGet, "/metrics", nil); code != http.StatusOK || !strings.Contains(string(b), "minipush_") {
		t.Fatalf("/metrics with a key: %d", code)
	}
}
