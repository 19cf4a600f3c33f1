package config_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

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
		for setting, path := range files {
			content := placeholder(setting)
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

// placeholder is file content a *_file setting accepts.
func placeholder(setting string) string {
	switch {
	case strings.Contains(setting, "key_file") && strings.Contains(setting, "public"):
		return "-----BEGIN PUBLIC KEY-----\nPUB\n-----END PUBLIC KEY-----\n"
	case strings.Contains(setting, "private_key_file"):
		return "-----BEGIN PRIVATE KEY-----\nAPPKEY\n-----END PRIVATE KEY-----\n"
	default:
		return "placeholder-secret-0001\n"
	}
}
