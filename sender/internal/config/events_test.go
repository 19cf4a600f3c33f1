package config_test

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/config"
)

const (
	pushToken = "Tok3nForPushes"
	// aesKey is the console's 43 characters.
	aesKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
)

func TestEventsLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tokenFile := write(t, dir, "push-token", "FromAFile123\n")
	p := write(t, dir, "c.yaml", fmt.Sprintf(`
api_keys: [{name: a, key: aaaaaaaa}]
apps:
  - {name: w, platform: wechat, app_id: wx1, secret: s, consent: enforce, long_term_templates: [lt-1],
     events: {token: %s, encoding_aes_key: %s, max_age: 2m}}
  - {name: f, platform: wechat, app_id: wx2, secret: s, events: {token_file: %s}}
  - {name: d, platform: douyin, app_id: tt1, secret: s, consent: enforce, events: {}}
`, pushToken, aesKey, tokenFile))
	c, err := config.Load(p, noenv)
	if err != nil {
		t.Fatal(err)
	}
	w, f, d := c.Apps[0], c.Apps[1], c.Apps[2]
	if w.Events == nil || w.Events.Token != pushToken || w.Events.EncodingAESKey != aesKey || w.EventsMaxAge() != 2*time.Minute ||
		w.Consent != config.ConsentEnforce || len(w.LongTermTemplates) != 1 {
		t.Errorf("wechat app: %+v %+v", w, w.Events)
	}
	if f.Events.Token != "FromAFile123" || f.EventsMaxAge() != config.DefaultEventsMaxAge {
		t.Errorf("token_file: token %q (the file's final newline must go), max age %s", f.Events.Token, f.EventsMaxAge())
	}
	if d.Events == nil || d.Events.Token != "" {
		t.Errorf("douyin app with events and no token (the app secret signs): %+v", d.Events)
	}
}

func TestEventsFromEnv(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keyFile := write(t, dir, "aes", aesKey+"\n")
	p := write(t, dir, "c.yaml", `
api_keys: [{name: a, key: aaaaaaaa}]
apps: [{name: shop-wechat, platform: wechat, app_id: wx1, secret: s}]
`)
	env := map[string]string{
		"MINIPUSH_APP_SHOP_WECHAT_EVENTS_TOKEN":                 pushToken,
		"MINIPUSH_APP_SHOP_WECHAT_EVENTS_ENCODING_AES_KEY_FILE": keyFile,
		"MINIPUSH_APP_SHOP_WECHAT_CONSENT":                      "enforce",
	}
	c, err := config.Load(p, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	a := c.Apps[0]
	if a.Events == nil || a.Events.Token != pushToken || a.Events.EncodingAESKey != aesKey || a.Consent != "enforce" {
		t.Fatalf("env not applied: %+v %+v", a, a.Events)
	}
}

func TestEventsValidation(t *testing.T) {
	t.Parallel()
	head := "api_keys: [{name: a, key: aaaaaaaa}]\napps:\n  - "
	cases := []struct {
		name, app, want string
	}{
		{"wechat token required", `{name: x, platform: wechat, app_id: wx1, secret: s, events: {}}`, "apps[0].events.token"},
		{"wechat token rule", `{name: x, platform: wechat, app_id: wx1, secret: s, events: {token: "a-b"}}`, "apps[0].events.token"},
		{"short aes key", `{name: x, platform: wechat, app_id: wx1, secret: s, events: {token: abc, encoding_aes_key: abc}}`,
			"apps[0].events.encoding_aes_key: must be 43 characters"},
		{"aes key not base64", fmt.Sprintf(`{name: x, platform: wechat, app_id: wx1, secret: s, events: {token: abc, encoding_aes_key: "%s"}}`,
			strings.Repeat("!", 43)), "apps[0].events.encoding_aes_key"},
		{"negative max age", `{name: x, platform: wechat, app_id: wx1, secret: s, events: {token: abc, max_age: -1s}}`, "apps[0].events.max_age"},
		{"douyin has no aes key", fmt.Sprintf(`{name: x, platform: douyin, app_id: tt1, secret: s, events: {encoding_aes_key: %s}}`, aesKey),
			"apps[0].events.encoding_aes_key"},
		{"alipay pushes nothing", `{name: x, platform: kuaishou, app_id: ks1, secret: s, events: {token: abc}}`, "apps[0].events: kuaishou pushes no events"},
		{"enforce needs events", `{name: x, platform: wechat, app_id: wx1, secret: s, consent: enforce}`, "apps[0].consent: enforce needs events"},
		{"enforce needs pushes", `{name: x, platform: baidu, app_id: bd1, secret: s, consent: enforce}`, "apps[0].consent: enforce needs the platform's consent events"},
		{"unknown consent mode", `{name: x, platform: wechat, app_id: wx1, secret: s, consent: strict}`, "apps[0].consent: want observe or enforce"},
		{"long-term list is wechat's", `{name: x, platform: douyin, app_id: tt1, secret: s, long_term_templates: [a]}`, "apps[0].long_term_templates"},
		{"missing token file", `{name: x, platform: wechat, app_id: wx1, secret: s, events: {token_file: /nonexistent/token}}`, "apps[0] (x).events.token_file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := write(t, t.TempDir(), "c.yaml", head+tc.app+"\n")
			_, err := config.Load(p, noenv)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to name %q", err, tc.want)
			}
			for _, secret := range []string{aesKey, pushToken} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error shows a secret: %v", err)
				}
			}
		})
	}
}

// The push Token and EncodingAESKey are secrets: never printed, logged or
// formatted, and redacting does not touch the configuration in use.
func TestEventsRedacted(t *testing.T) {
	t.Parallel()
	p := write(t, t.TempDir(), "c.yaml", fmt.Sprintf(`
api_keys: [{name: a, key: aaaaaaaa}]
apps: [{name: w, platform: wechat, app_id: wx1, secret: s, events: {token: %s, encoding_aes_key: %s}}]
`, pushToken, aesKey))
	c, err := config.Load(p, noenv)
	if err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "cfg", *c, "app", c.Apps[0])
	r := c.Redacted()
	outs := map[string]string{"String": c.String(), "%+v": fmt.Sprintf("%+v", c.Apps[0]), "%#v": fmt.Sprintf("%#v", *c),
		"slog": logged.String(), "Redacted": fmt.Sprintf("%+v", *r.Apps[0].Events)}
	for how, out := range outs {
		for _, secret := range []string{pushToken, aesKey} {
			if strings.Contains(out, secret) {
				t.Errorf("%s shows a secret:\n%s", how, out)
			}
		}
	}
	if !strings.Contains(c.String(), "encoding_aes_key: '[redacted]'") && !strings.Contains(c.String(), "encoding_aes_key: \"[redacted]\"") {
		t.Errorf("the printed config does not show the key as redacted:\n%s", c.String())
	}
	if c.Apps[0].Events.Token != pushToken || c.Apps[0].Events.EncodingAESKey != aesKey {
		t.Error("Redacted modified the configuration in use")
	}
}
