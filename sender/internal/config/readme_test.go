package config_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/minipush/minipush/sender/internal/config"
)

// readmeBlocks returns the YAML blocks of the README's sender section.
func readmeBlocks(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "\n## The sender")
	if start < 0 {
		t.Fatal("README has no sender section")
	}
	text = text[start:]
	if end := strings.Index(text, "\n## Development"); end > 0 {
		text = text[:end]
	}
	var blocks []string
	for _, m := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(text, -1) {
		blocks = append(blocks, m[1])
	}
	if len(blocks) == 0 {
		t.Fatal("no yaml blocks in the README's sender section")
	}
	return blocks
}

// fileSettings collects every *_file setting of a YAML document.
func fileSettings(n *yaml.Node, out map[string]string) {
	for i := 0; i+1 < len(n.Content); i++ {
		k, v := n.Content[i], n.Content[i+1]
		if n.Kind == yaml.MappingNode && i%2 == 0 && strings.HasSuffix(k.Value, "_file") && v.Kind == yaml.ScalarNode {
			out[k.Value+"="+v.Value] = v.Value
		}
	}
	for _, c := range n.Content {
		fileSettings(c, out)
	}
}

// Every sender configuration the README shows loads as written (the
// files it names are created with placeholder content first).
func TestREADMEConfigsLoad(t *testing.T) {
	for i, block := range readmeBlocks(t) {
		dir := t.TempDir()
		t.Chdir(dir)
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(block), &doc); err != nil {
			t.Fatalf("README yaml block %d: %v", i+1, err)
		}
		files := map[string]string{}
		fileSettings(&doc, files)
		cert, key := selfSigned(t)
		for setting, path := range files {
			content := placeholder(setting)
			switch {
			case strings.HasPrefix(setting, "cert_file="):
				content = cert
			case strings.HasPrefix(setting, "key_file=") && strings.Contains(path, "tls"):
				content = key
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		p := write(t, dir, "minipush.yaml", block)
		if _, err := config.Load(p, noenv); err != nil {
			t.Errorf("README yaml block %d does not load: %v\n%s", i+1, err, block)
		}
	}
}

// The demo configuration (make run) loads as written, its WeChat app
// receiving events.
func TestDemoConfigLoads(t *testing.T) {
	t.Chdir("../../..") // the demo's key files are named from the repository root
	c, err := config.Load("configs/demo.yaml", noenv)
	if err != nil {
		t.Fatalf("configs/demo.yaml: %v", err)
	}
	if a, ok := c.App("shop-wechat"); !ok || a.Events == nil || a.Events.EncodingAESKey == "" {
		t.Errorf("the demo's WeChat app has no events: %+v", a)
	}
}

// placeholder is file content a *_file setting accepts.
func placeholder(setting string) string {
	switch {
	case strings.Contains(setting, "key_file") && strings.Contains(setting, "public"):
		return "-----BEGIN PUBLIC KEY-----\nPUB\n-----END PUBLIC KEY-----\n"
	case strings.Contains(setting, "private_key_file"):
		return "-----BEGIN PRIVATE KEY-----\nAPPKEY\n-----END PRIVATE KEY-----\n"
	case strings.Contains(setting, "encoding_aes_key_file"):
		return "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG\n" // the console's 43 characters
	case strings.Contains(setting, "token_file"):
		return "Placeholder0001\n" // a push Token: letters and digits

	default:
		return "placeholder-secret-0001\n"
	}
}

// selfSigned is a PEM certificate and key for the README's tls settings.
func selfSigned(t *testing.T) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}))
}
