package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minipush/minipush/sender/internal/config"
)

// marker is a secret the seeds put in every place a secret can be written,
// rightly or wrongly.
const marker = "S3cretMarker0042"

// FuzzLoad: whatever the YAML, Load returns a config or an error without
// panicking; an error never quotes the secret marker, wherever the input
// put it; a loaded config validates again and prints every secret
// redacted.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{
		issueExample,
		"api_keys: [{name: a, key: " + marker + "}]\napps: [{name: w, platform: wechat, app_id: wx1, secret: " + marker + "}]\n",
		"api_keys: " + marker + "\n",
		"apps: [{name: w, platform: wechat, app_id: wx1, secret: s, rate: {per_second: " + marker + "}}]\n",
		"apps: [{name: w, platform: wechat, app_id: wx1, secret: [" + marker + "]}]\n",
		"delivery: {lease: " + marker + "}\n",
		"server: {max_conns: " + marker + "}\n",
		"tls: {cert_file: " + marker + "}\n",
		"api_rate: {per_second: -1, burst: 0}\napi_keys: [{name: a, key: aaaaaaaa, rate: {per_second: 1, burst: 0}}]\n",
		"a: &a [*a, *a]\nb: *a\n",
		"- " + marker + "\n",
		"{" + marker + ": 1}\n",
		"api_keys: [{name: a, key: " + marker + ", key_file: /nonexistent}]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, yaml []byte) {
		p := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(p, yaml, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := config.Load(p, noenv)
		if err != nil {
			if strings.Contains(err.Error(), marker) {
				t.Fatalf("the error quotes the secret: %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("a loaded config does not validate: %v", err)
		}
		r := c.Redacted()
		for _, k := range r.APIKeys {
			if k.Key != "[redacted]" {
				t.Fatalf("key %q of %s is not redacted", k.Key, k.Name)
			}
		}
		for _, a := range r.Apps {
			for _, s := range []string{a.Secret, a.PrivateKey} {
				if s != "" && s != "[redacted]" {
					t.Fatalf("app %s: secret %q is not redacted", a.Name, s)
				}
			}
		}
		if strings.Contains(c.String(), marker) {
			t.Fatalf("the printed config shows the secret:\n%s", c.String())
		}
	})
}
