package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/config"
)

// The shape the issue fixes must load as written.
const issueExample = `
listen: 127.0.0.1:9200
storage: {driver: sqlite, path: ./data/minipush.db}
api_keys: [{name: demo, key: demo-key}]
apps:
  - {name: shop-wechat, platform: wechat, app_id: wxdemo0000000001, secret: demo-secret, base_url: http://127.0.0.1:9100}
  - {name: shop-alipay, platform: alipay, app_id: "2021000000000001", private_key_file: ./keys/app.pem, alipay_public_key_file: ./keys/alipay_pub.pem, base_url: http://127.0.0.1:9100}
`

func write(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func noenv(string) string { return "" }

func TestLoadIssueExample(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	write(t, dir, "keys/app.pem", "-----BEGIN PRIVATE KEY-----\nAPPKEY\n-----END PRIVATE KEY-----\n")
	write(t, dir, "keys/alipay_pub.pem", "-----BEGIN PUBLIC KEY-----\nPUB\n-----END PUBLIC KEY-----\n")
	p := write(t, dir, "minipush.yaml", issueExample)
	c, err := config.Load(p, noenv)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if c.Listen != "127.0.0.1:9200" || len(c.Apps) != 2 || c.Apps[1].AppID != "2021000000000001" {
		t.Fatalf("unexpected config: %+v", c)
	}
	if !strings.Contains(c.Apps[1].PrivateKey, "APPKEY") {
		t.Fatal("private_key_file was not read")
	}
	if c.Delivery.Workers != config.Defaults().Delivery.Workers {
		t.Fatal("defaults not applied")
	}
}

func TestEnvOverrides(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "c.yaml", `
api_keys: [{name: demo, key: demo-key-1}]
apps: [{name: shop-wechat, platform: wechat, app_id: wx1}]
`)
	env := map[string]string{
		"MINIPUSH_LISTEN":                 "127.0.0.1:9300",
		"MINIPUSH_APP_SHOP_WECHAT_SECRET": "from-env",
		"MINIPUSH_DELIVERY_WORKERS":       "7",
		"MINIPUSH_DELIVERY_LEASE":         "45s",
		"MINIPUSH_API_KEYS":               "ci:ci-key-123,ops:ops-key-456",
		"MINIPUSH_RETENTION_DELIVERED":    "48h",
		"MINIPUSH_RETENTION_REJECTED":     "0",
	}
	c, err := config.Load(p, func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if c.Listen != "127.0.0.1:9300" || c.Apps[0].Secret != "from-env" || c.Delivery.Workers != 7 ||
		c.Delivery.Lease != 45*time.Second || len(c.APIKeys) != 2 || c.APIKeys[1].Key != "ops-key-456" {
		t.Fatalf("env not applied: %+v", c)
	}
	// Retention: the variables win, the rest keeps its default.
	if c.Retention != (config.Retention{Delivered: 48 * time.Hour, Failed: config.DefaultRetainFailed,
		Cancelled: config.DefaultRetainFailed}) {
		t.Fatalf("retention %+v, want delivered 48h from the environment, failed and cancelled 30 days, rejected 0 (forever)", c.Retention)
	}
}

func TestValidationNamesTheSetting(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, yaml, want string
	}{
		{"no apps", `api_keys: [{name: a, key: aaaaaaaa}]`, "apps:"},
		{"short retention", `api_keys: [{name: a, key: aaaaaaaa}]
apps: [{name: x, platform: wechat, app_id: wx1, secret: s}]
retention: {delivered: 10m}`, "retention.delivered"},
		{"bad platform", `api_keys: [{name: a, key: aaaaaaaa}]
apps: [{name: x, platform: line, app_id: 1, secret: s}]`, "apps[0].platform"},
		{"missing secret", `api_keys: [{name: a, key: aaaaaaaa}]
apps: [{name: x, platform: wechat, app_id: wx1}]`, "apps[0].secret"},
		{"alipay keys", `api_keys: [{name: a, key: aaaaaaaa}]
apps: [{name: x, platform: alipay, app_id: "2021"}]`, "apps[0].private_key"},
		{"bad base url", `api_keys: [{name: a, key: aaaaaaaa}]
apps: [{name: x, platform: wechat, app_id: wx1, secret: s, base_url: "ftp://x"}]`, "apps[0].base_url"},
		{"short api key", `api_keys: [{name: a, key: short}]
apps: [{name: x, platform: wechat, app_id: wx1, secret: s}]`, "api_keys[0].key"},
		{"bad regex", `api_keys: [{name: a, key: aaaaaaaa}]
apps: [{name: x, platform: wechat, app_id: wx1, secret: s}]
content_rules: [{name: r, regex: "("}]`, "content_rules[0].regex"},
		{"unknown field", `api_keys: [{name: a, key: aaaaaaaa}]
apps: [{name: x, platform: wechat, app_id: wx1, secret: s, sekret: y}]`, "sekret"},
		{"lease vs timeout", `api_keys: [{name: a, key: aaaaaaaa}]
apps: [{name: x, platform: wechat, app_id: wx1, secret: s}]
delivery: {lease: 5s, send_timeout: 10s}`, "delivery.lease"},
		{"bad storage driver", `storage: {driver: mysql, path: x}
api_keys: [{name: a, key: aaaaaaaa}]
apps: [{name: x, platform: wechat, app_id: wx1, secret: s}]`, "storage.driver"},
		{"template without keywords", `api_keys: [{name: a, key: aaaaaaaa}]
apps: [{name: x, platform: kuaishou, app_id: ks1, secret: s, templates: {t1: []}}]`, "apps[0].templates.t1"},
		{"template with a repeated keyword", `api_keys: [{name: a, key: aaaaaaaa}]
apps: [{name: x, platform: kuaishou, app_id: ks1, secret: s, templates: {t1: [thing01, thing01]}}]`, "apps[0].templates.t1"},
		{"template list where there is none", `api_keys: [{name: a, key: aaaaaaaa}]
apps: [{name: x, platform: kuaishou, app_id: ks1, secret: s, template_list: true}]`, "apps[0].template_list"},
		{"template list on douyin v1", `api_keys: [{name: a, key: aaaaaaaa}]
apps: [{name: x, platform: douyin, app_id: tt1, secret: s, douyin_api: v1, template_list: true}]`, "apps[0].template_list"},
		{"short template refresh", `api_keys: [{name: a, key: aaaaaaaa}]
apps: [{name: x, platform: wechat, app_id: wx1, secret: s, template_refresh: 5s}]`, "apps[0].template_refresh"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := write(t, t.TempDir(), "c.yaml", tc.yaml)
			_, err := config.Load(p, noenv)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to name %q", err, tc.want)
			}
		})
	}
}

func TestRedactedHidesSecrets(t *testing.T) {
	t.Parallel()
	p := write(t, t.TempDir(), "c.yaml", `
api_keys: [{name: demo, key: api-key-very-secret}]
apps:
  - {name: w, platform: wechat, app_id: wx1, secret: wechat-secret-xyz}
  - {name: a, platform: alipay, app_id: "2021", private_key: PRIVATE-KEY-PEM-abc, alipay_public_key: PUBKEY-def}
`)
	c, err := config.Load(p, noenv)
	if err != nil {
		t.Fatal(err)
	}
	out := c.String()
	for _, secret := range []string{"api-key-very-secret", "wechat-secret-xyz", "PRIVATE-KEY-PEM-abc"} {
		if strings.Contains(out, secret) {
			t.Fatalf("redacted config shows %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "wx1") || !strings.Contains(out, "[redacted]") {
		t.Fatalf("redacted config lost non-secret fields:\n%s", out)
	}
	if c.Apps[0].Secret != "wechat-secret-xyz" {
		t.Fatal("Redacted modified the original")
	}
}

// A key without scopes keeps what every key could do before scopes
// existed (send, read); scopes are given in the file or the environment,
// and an unknown one stops the start naming it.
func TestScopes(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "c.yaml", `
api_keys:
  - {name: app, key: app-key-0001}
  - {name: ops, key: ops-key-0001, scopes: [read, admin]}
apps: [{name: shop, platform: wechat, app_id: wx1, secret: s}]
`)
	c, err := config.Load(p, func(k string) string {
		if k == "MINIPUSH_API_KEY_APP_SCOPES" {
			return "send, read,admin"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.APIKeys[0].ScopesOf(); strings.Join(got, ",") != "send,read,admin" {
		t.Errorf("env scopes = %v", got)
	}
	if k := c.APIKeys[1]; !k.Allows(config.ScopeAdmin) || k.Allows(config.ScopeSend) {
		t.Errorf("ops scopes = %v", k.ScopesOf())
	}
	c, err = config.Load(p, noenv)
	if err != nil {
		t.Fatal(err)
	}
	if k := c.APIKeys[0]; !k.Allows(config.ScopeSend) || !k.Allows(config.ScopeRead) || k.Allows(config.ScopeAdmin) {
		t.Errorf("default scopes = %v, want send and read", k.ScopesOf())
	}
	bad := write(t, dir, "bad.yaml", `
api_keys: [{name: x, key: x-key-00001, scopes: [send, root]}]
apps: [{name: shop, platform: wechat, app_id: wx1, secret: s}]
`)
	if _, err := config.Load(bad, noenv); err == nil || !strings.Contains(err.Error(), `api_keys[0].scopes: unknown scope "root"`) {
		t.Errorf("unknown scope: %v", err)
	}
}
