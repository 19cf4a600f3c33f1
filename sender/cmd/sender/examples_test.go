package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/minipush/minipush/internal/mdblocks"
)

// Every configuration under configs/ and every sender configuration the
// README shows passes sender -check. configs/demo.yaml (make run) loads as
// it is; the others name their secrets as files a deployment provides, and
// get them here the documented way, from MINIPUSH_* variables.
func TestDocumentedConfigsLoad(t *testing.T) {
	// Paths in the configurations are relative to the repository root
	// (make run starts there).
	t.Chdir(filepath.Join("..", "..", ".."))
	configs, err := filepath.Glob("configs/*.yaml")
	if err != nil || len(configs) < 2 {
		t.Fatalf("configs/*.yaml: %v %v, want demo.yaml and production.example.yaml", configs, err)
	}
	type example struct{ name, text string }
	var examples []example
	for _, p := range configs {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		examples = append(examples, example{p, string(b)})
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, b := range mdblocks.Parse(readme) {
		if b.Lang == "yaml" && isSenderConfig(b.Text) {
			examples = append(examples, example{"README.md:" + itoa(b.Line), b.Text})
			found++
		}
	}
	if found == 0 {
		t.Fatal("the README shows no sender configuration: the test would prove nothing")
	}
	certFile, keyFile := selfSignedCert(t)
	for _, ex := range examples {
		t.Run(ex.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "sender.yaml")
			if err := os.WriteFile(path, []byte(ex.text), 0o600); err != nil {
				t.Fatal(err)
			}
			vars := map[string]string{
				// The database goes where the test can write.
				"MINIPUSH_STORAGE_PATH": filepath.Join(dir, "data", "minipush.db"),
			}
			if ex.name != "configs/demo.yaml" {
				deploymentSecrets(t, ex.text, vars, certFile, keyFile)
			}
			alipayHasDefaultPage(t, ex.text)
			var out strings.Builder
			if err := run(context.Background(), []string{"-config", path, "-check"}, env(vars), &out); err != nil {
				t.Fatalf("sender -check: %v\n%s", err, out.String())
			}
		})
	}
}

// isSenderConfig tells a sender configuration from the mock's seeds.
func isSenderConfig(text string) bool {
	return strings.Contains(text, "\napps:") && (strings.Contains(text, "api_keys:") || strings.HasPrefix(text, "listen:"))
}

// deploymentSecrets sets the variables a deployment would: each app's
// secret or keys, each API key, the TLS files, the push settings' secrets.
func deploymentSecrets(t *testing.T, text string, vars map[string]string, certFile, keyFile string) {
	t.Helper()
	var cfg struct {
		TLS     *struct{} `yaml:"tls"`
		APIKeys []struct {
			Name    string         `yaml:"name"`
			Webhook map[string]any `yaml:"webhook"`
		} `yaml:"api_keys"`
		Apps []struct {
			Name     string         `yaml:"name"`
			Platform string         `yaml:"platform"`
			Events   map[string]any `yaml:"events"`
			Webhook  map[string]any `yaml:"webhook"`
		} `yaml:"apps"`
	}
	if err := yaml.Unmarshal([]byte(text), &cfg); err != nil {
		t.Fatalf("not YAML: %v", err)
	}
	name := func(s string) string { return strings.ToUpper(strings.ReplaceAll(s, "-", "_")) }
	if cfg.TLS != nil {
		vars["MINIPUSH_TLS_CERT_FILE"], vars["MINIPUSH_TLS_KEY_FILE"] = certFile, keyFile
	}
	for _, k := range cfg.APIKeys {
		vars["MINIPUSH_API_KEY_"+name(k.Name)] = "example-key-" + k.Name
		if k.Webhook != nil {
			vars["MINIPUSH_API_KEY_"+name(k.Name)+"_WEBHOOK_SECRET"] = "example-webhook-secret-" + k.Name
		}
	}
	for _, a := range cfg.Apps {
		p := "MINIPUSH_APP_" + name(a.Name) + "_"
		if a.Platform == "alipay" {
			vars[p+"PRIVATE_KEY_FILE"] = "configs/demo-keys/app_private.pem"
			vars[p+"ALIPAY_PUBLIC_KEY_FILE"] = "configs/demo-keys/alipay_public.pem"
		} else {
			vars[p+"SECRET"] = "example-secret-" + a.Name
		}
		if a.Webhook != nil {
			vars[p+"WEBHOOK_SECRET"] = "example-webhook-secret-" + a.Name
		}
		if a.Events != nil && a.Platform == "wechat" {
			vars[p+"EVENTS_TOKEN"] = "ExampleToken1"
			vars[p+"EVENTS_ENCODING_AES_KEY"] = strings.Repeat("A", 43)
		}
	}
}

// alipayHasDefaultPage: Alipay's send needs a page, so an example whose
// Alipay app has no default_page fails every message sent without one.
func alipayHasDefaultPage(t *testing.T, text string) {
	t.Helper()
	var cfg struct {
		Apps []struct {
			Name        string `yaml:"name"`
			Platform    string `yaml:"platform"`
			DefaultPage string `yaml:"default_page"`
		} `yaml:"apps"`
	}
	if err := yaml.Unmarshal([]byte(text), &cfg); err != nil {
		t.Fatalf("not YAML: %v", err)
	}
	for _, a := range cfg.Apps {
		if a.Platform == "alipay" && a.DefaultPage == "" {
			t.Errorf("app %s (alipay) has no default_page: a message without page would fail", a.Name)
		}
	}
}

// selfSignedCert writes a certificate and key for localhost.
func selfSignedCert(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }
