package config_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/minipush/minipush/sender/internal/config"
)

// The redis driver's settings: the URL from the file, a _file, or the
// environment; its password never printed; bad values named.
func TestStorageRedis(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base := "api_keys: [{name: k, key: k-0123456789}]\napps: [{name: w, platform: wechat, app_id: wx1, secret: s}]\n"
	urlFile := write(t, dir, "redis.url", "redis://:pw-from-file@10.0.0.7:6380/2\n")
	tests := []struct {
		name    string
		yaml    string
		env     map[string]string
		wantURL string // the loaded URL
		wantErr string // a substring of the error
	}{
		{name: "inline", yaml: "storage: {driver: redis, url: 'redis://:s3cret-pw@127.0.0.1:6379/0', prefix: shop}\n",
			wantURL: "redis://:s3cret-pw@127.0.0.1:6379/0"},
		{name: "url_file", yaml: "storage: {driver: redis, url_file: " + urlFile + "}\n",
			wantURL: "redis://:pw-from-file@10.0.0.7:6380/2"},
		{name: "env", yaml: "storage: {driver: redis}\n",
			env:     map[string]string{"MINIPUSH_STORAGE_URL": "rediss://:env-pw@redis.internal:6380"},
			wantURL: "rediss://:env-pw@redis.internal:6380"},
		{name: "env file", yaml: "storage: {driver: sqlite}\n",
			env:     map[string]string{"MINIPUSH_STORAGE_DRIVER": "redis", "MINIPUSH_STORAGE_URL_FILE": urlFile, "MINIPUSH_STORAGE_WAIT_REPLICAS": "1", "MINIPUSH_STORAGE_WAIT_TIMEOUT": "250ms"},
			wantURL: "redis://:pw-from-file@10.0.0.7:6380/2"},
		{name: "missing url", yaml: "storage: {driver: redis}\n", wantErr: "storage.url: required"},
		{name: "bad scheme", yaml: "storage: {driver: redis, url: 'http://:leak-me@h:1'}\n", wantErr: "storage.url: want redis://"},
		{name: "bad prefix", yaml: "storage: {driver: redis, url: 'redis://h:1', prefix: 'a{b}'}\n", wantErr: "storage.prefix"},
		{name: "wait on cluster", yaml: "storage: {driver: redis, url: 'redis://h:1', cluster: true, wait_replicas: 1}\n", wantErr: "storage.wait_replicas"},
		{name: "both", yaml: "storage: {driver: redis, url: 'redis://h:1', url_file: " + urlFile + "}\n", wantErr: "give url or url_file"},
		{name: "unknown driver", yaml: "storage: {driver: mysql}\n", wantErr: "supported: sqlite, redis"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := write(t, t.TempDir(), "c.yaml", base+tc.yaml)
			c, err := config.Load(p, func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to name %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "leak-me") {
					t.Errorf("the error quotes the URL's password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Storage.URL != tc.wantURL {
				t.Errorf("url = %q, want %q", c.Storage.URL, tc.wantURL)
			}
			printed := c.String() + fmt.Sprintf("%v %+v %#v", *c, *c, *c)
			for _, pw := range []string{"s3cret-pw", "pw-from-file", "env-pw"} {
				if strings.Contains(printed, pw) {
					t.Errorf("the printed config shows the password %q:\n%s", pw, c.String())
				}
			}
			if host := c.Storage.RedactedURL(); !strings.Contains(printed, host) || !strings.Contains(host, ":redacted@") {
				t.Errorf("the printed config should show the redacted URL %q:\n%s", host, c.String())
			}
		})
	}
}

// A password written in the config file makes it a file holding secrets.
func TestStorageRedisPasswordInFile(t *testing.T) {
	t.Parallel()
	p := write(t, t.TempDir(), "c.yaml", "api_keys: [{name: k, key_file: /dev/null}]\n"+
		"apps: [{name: w, platform: wechat, app_id: wx1, secret_file: /dev/null}]\n"+
		"storage: {driver: redis, url: 'redis://:pw@127.0.0.1:6379'}\n")
	env := map[string]string{"MINIPUSH_API_KEY_K": "k-0123456789", "MINIPUSH_APP_W_SECRET": "s"}
	c, err := config.Load(p, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range c.Exposed() {
		found = found || e.What == "config file"
	}
	if !found {
		t.Errorf("a config file with a Redis password readable by others is not reported: %+v", c.Exposed())
	}
}
