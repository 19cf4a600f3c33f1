package config_test

import (
	"strings"
	"testing"

	"github.com/minipush/minipush/sender/internal/config"
)

// Result webhooks: an app's and an API key's, their secrets from a file
// or the environment (never printed), the key's standing before the
// app's, and bad settings named.
func TestWebhookConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secretFile := write(t, dir, "hook.secret", "app-hook-secret-from-file\n")
	p := write(t, dir, "c.yaml", `
api_keys:
  - {name: backend, key: backend-key-0001, webhook: {url: "https://backend.example/hooks"}}
  - {name: ops, key: ops-key-000000001}
apps:
  - {name: shop, platform: wechat, app_id: wx1, secret: s, webhook: {url: "https://shop.example/hooks", secret_file: `+secretFile+`}}
  - {name: club, platform: wechat, app_id: wx2, secret: s}
webhooks: {timeout: 3s, retry_window: 2h}
`)
	env := map[string]string{
		"MINIPUSH_API_KEY_BACKEND_WEBHOOK_SECRET": "key-hook-secret-from-env",
		"MINIPUSH_APP_CLUB_WEBHOOK_URL":           "https://club.example/hooks",
		"MINIPUSH_APP_CLUB_WEBHOOK_SECRET":        "club-hook-secret-from-env",
	}
	c, err := config.Load(p, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if w := c.WebhookOf("shop", "ops"); w == nil || w.URL != "https://shop.example/hooks" || w.Secret != "app-hook-secret-from-file" {
		t.Errorf("shop's webhook for key ops = %+v; want the app's, its secret from the file", w)
	}
	if w := c.WebhookOf("shop", "backend"); w == nil || w.URL != "https://backend.example/hooks" || w.Secret != "key-hook-secret-from-env" {
		t.Errorf("shop's webhook for key backend = %+v; want the key's (it stands before the app's)", w)
	}
	if w := c.WebhookOf("club", "ops"); w == nil || w.URL != "https://club.example/hooks" || w.Secret != "club-hook-secret-from-env" {
		t.Errorf("club's webhook = %+v; want the one its variables made", w)
	}
	if c.Webhooks.Timeout.Seconds() != 3 || c.Webhooks.RetryWindow.Hours() != 2 || c.Webhooks.Workers != config.DefaultWebhookWorkers {
		t.Errorf("webhooks = %+v", c.Webhooks)
	}
	printed := c.String()
	for _, s := range []string{"app-hook-secret-from-file", "key-hook-secret-from-env", "club-hook-secret-from-env"} {
		if strings.Contains(printed, s) {
			t.Errorf("the printed configuration shows the webhook secret %q", s)
		}
	}
	if c.Apps[0].Webhook.Secret != "app-hook-secret-from-file" {
		t.Error("printing redacted the configuration itself")
	}

	for _, tc := range []struct{ yaml, setting string }{
		{`webhook: {url: "ftp://x/hooks", secret: 0123456789abcdef}`, "apps[0].webhook.url"},
		{`webhook: {url: "https://user:pw@x/hooks", secret: 0123456789abcdef}`, "apps[0].webhook.url"},
		{`webhook: {url: "https://x/hooks", secret: short}`, "apps[0].webhook.secret"},
		{`webhook: {url: "https://x/hooks"}`, "apps[0].webhook.secret"},
	} {
		p := write(t, dir, "bad.yaml", `
api_keys: [{name: k, key: key-00000001}]
apps:
  - {name: shop, platform: wechat, app_id: wx1, secret: s, `+tc.yaml+`}
`)
		_, err := config.Load(p, func(string) string { return "" })
		if err == nil || !strings.Contains(err.Error(), tc.setting) || strings.Contains(err.Error(), "pw@") {
			t.Errorf("%s: %v; want an error naming %s (without the URL's password)", tc.yaml, err, tc.setting)
		}
	}
	p = write(t, dir, "bad2.yaml", `
api_keys: [{name: k, key: key-00000001}]
apps: [{name: shop, platform: wechat, app_id: wx1, secret: s}]
webhooks: {backoff_base: 10s, backoff_max: 1s}
`)
	if _, err := config.Load(p, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "webhooks.backoff_max") {
		t.Errorf("backoff_max below backoff_base: %v", err)
	}
}
