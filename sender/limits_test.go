package sender_test

import (
	"fmt"
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
	return cfg
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
