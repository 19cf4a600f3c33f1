package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minipush/minipush/sender/internal/config"
)

// Every secret the sender holds can come from a *_file setting, from its
// variable, or from its variable's _FILE form; the values are read (a
// trailing newline dropped) and never printed.
func TestSecretsFromFilesAndEnv(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secretFile := write(t, dir, "wechat.secret", "wechat-secret-from-file\n")
	keyFile := write(t, dir, "api.key", "api-key-from-file-0001\n")
	privFile := write(t, dir, "app.pem", "-----BEGIN PRIVATE KEY-----\nAPPKEY\n-----END PRIVATE KEY-----\n")
	envSecretFile := write(t, dir, "douyin.secret", "douyin-secret-from-env-file")
	envKeyFile := write(t, dir, "ops.key", "ops-key-from-env-file-01")
	keysFile := write(t, dir, "keys", "# name:key\nci:ci-key-from-keys-file\n\nbot: bot-key-from-keys-file\n")
	p := write(t, dir, "c.yaml", `
api_keys:
  - {name: demo, key_file: `+keyFile+`}
  - {name: ops, key: placeholder-replaced}
apps:
  - {name: w, platform: wechat, app_id: wx1, secret_file: `+secretFile+`}
  - {name: d, platform: douyin, app_id: tt1}
  - {name: k, platform: kuaishou, app_id: ks1, secret: replaced-by-env}
  - {name: a, platform: alipay, app_id: "2021", private_key_file: `+privFile+`, alipay_public_key: PUB}
`)
	env := map[string]string{
		"MINIPUSH_APP_D_SECRET_FILE":   envSecretFile,
		"MINIPUSH_APP_K_SECRET":        "kuaishou-secret-from-env",
		"MINIPUSH_API_KEY_OPS_FILE":    envKeyFile,
		"MINIPUSH_APP_A_PRIVATE_KEY":   "",
		"MINIPUSH_APP_W_SECRET_FILE":   "",
		"MINIPUSH_API_KEY_DEMO":        "",
		"MINIPUSH_TLS_CERT_FILE":       "",
		"MINIPUSH_API_KEYS_FILE":       "",
		"MINIPUSH_APP_A_ALIPAY_PUBLIC": "",
	}
	c, err := config.Load(p, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{"api_keys[0]": c.APIKeys[0].Key, "api_keys[1]": c.APIKeys[1].Key,
		"w": c.Apps[0].Secret, "d": c.Apps[1].Secret, "k": c.Apps[2].Secret}
	want := map[string]string{"api_keys[0]": "api-key-from-file-0001", "api_keys[1]": "ops-key-from-env-file-01",
		"w": "wechat-secret-from-file", "d": "douyin-secret-from-env-file", "k": "kuaishou-secret-from-env"}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %q, want %q", k, got[k], w)
		}
	}
	if !strings.Contains(c.Apps[3].PrivateKey, "APPKEY") {
		t.Error("private_key_file not read")
	}
	out := c.String()
	for _, s := range want {
		if strings.Contains(out, s) {
			t.Errorf("the redacted config shows %q", s)
		}
	}
	if strings.Contains(out, "APPKEY") {
		t.Error("the redacted config shows the private key")
	}

	// MINIPUSH_API_KEYS_FILE replaces the list.
	env["MINIPUSH_API_KEYS_FILE"] = keysFile
	c, err = config.Load(p, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if len(c.APIKeys) != 2 || c.APIKeys[0].Name != "ci" || c.APIKeys[1].Key != "bot-key-from-keys-file" {
		t.Fatalf("keys from MINIPUSH_API_KEYS_FILE: %v", c.APIKeys)
	}
}

func TestSecretFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secretFile := write(t, dir, "s", "s3cret-from-file")
	for name, tc := range map[string]struct{ yaml, want string }{
		"both": {`api_keys: [{name: a, key: aaaaaaaa}]
apps: [{name: w, platform: wechat, app_id: wx1, secret: inline, secret_file: ` + secretFile + `}]`, "give secret or secret_file"},
		"missing file": {`api_keys: [{name: a, key_file: ` + filepath.Join(dir, "nope") + `}]
apps: [{name: w, platform: wechat, app_id: wx1, secret: s}]`, "api_keys[0].key_file"},
		"tls half": {`tls: {cert_file: ` + secretFile + `}
api_keys: [{name: a, key: aaaaaaaa}]
apps: [{name: w, platform: wechat, app_id: wx1, secret: s}]`, "tls.key_file"},
		"tls not PEM": {`tls: {cert_file: ` + secretFile + `, key_file: ` + secretFile + `}
api_keys: [{name: a, key: aaaaaaaa}]
apps: [{name: w, platform: wechat, app_id: wx1, secret: s}]`, "tls:"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Load(write(t, t.TempDir(), "c.yaml", tc.yaml), noenv)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to name %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret-from-file") {
				t.Fatalf("error shows the secret: %v", err)
			}
		})
	}
}

// Exposed names the files holding secrets that group or others can read:
// the config file only when it holds secrets itself.
func TestExposed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secretFile := write(t, dir, "s", "s3cret-value")
	if err := os.Chmod(secretFile, 0o640); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "db.sqlite")
	if err := os.WriteFile(db, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	inline := write(t, dir, "inline.yaml", "storage: {path: "+db+"}\napi_keys: [{name: a, key: aaaaaaaa}]\napps: [{name: w, platform: wechat, app_id: wx1, secret: s}]\n")
	fromFiles := write(t, dir, "files.yaml", "storage: {path: "+filepath.Join(dir, "new.db")+"}\napi_keys: [{name: a, key_file: "+secretFile+"}]\napps: [{name: w, platform: wechat, app_id: wx1, secret_file: "+secretFile+"}]\n")
	for _, p := range []string{inline, fromFiles} {
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	whats := func(p string) map[string]bool {
		c, err := config.Load(p, noenv)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, e := range c.Exposed() {
			m[e.What] = true
		}
		return m
	}
	if got := whats(inline); !got["config file"] || !got["storage.path"] || len(got) != 2 {
		t.Errorf("inline secrets, 0644 database: exposed %v", got)
	}
	if got := whats(fromFiles); got["config file"] || !got["api_keys[0].key_file"] || !got["apps[0] (w).secret_file"] || len(got) != 2 {
		t.Errorf("secrets from a 0640 file: exposed %v", got)
	}
}
