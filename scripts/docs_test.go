package scripts_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/minipush/minipush/internal/mdblocks"
	"github.com/minipush/minipush/mockserver/mocktest"
)

// officialHosts are the public sources a document may link to: the
// platforms' documentation, their SDKs' repositories, and the standards.
var officialHosts = []string{
	"developers.weixin.qq.com", "opendocs.alipay.com", "developer.open-douyin.com", "partner.open-douyin.com",
	"mp.kuaishou.com", "open.kuaishou.com", "smartprogram.baidu.com",
	"github.com", "pkg.go.dev", "go.dev", "datatracker.ietf.org", "www.rfc-editor.org", "spec.openapis.org",
}

// tracked lists the repository's tracked files matching pattern.
func tracked(t *testing.T, patterns ...string) []string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"ls-files", "--"}, patterns...)...)
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	var files []string
	for f := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		if f != "" {
			files = append(files, f)
		}
	}
	return files
}

var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// Every link in the documentation stays in the repository (and names a file
// that exists), or goes to a public official source.
func TestLinksStayInTheRepository(t *testing.T) {
	t.Parallel()
	files := tracked(t, "*.md")
	if len(files) < 5 {
		t.Fatalf("%d Markdown files: the test would prove little", len(files))
	}
	root, _ := filepath.Abs("..")
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join("..", f))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mdLink.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if strings.HasPrefix(target, "#") {
				continue
			}
			if u, err := url.Parse(target); err == nil && u.Scheme != "" {
				if (u.Scheme != "https" && u.Scheme != "http") || !official(u.Host) {
					t.Errorf("%s links to %s: only the repository and public official sources (%v)", f, target, officialHosts)
				}
				continue
			}
			path, _, _ := strings.Cut(target, "#")
			path, _ = url.PathUnescape(path)
			abs, _ := filepath.Abs(filepath.Join("..", filepath.Dir(f), path))
			if !strings.HasPrefix(abs, root+string(filepath.Separator)) && abs != root {
				t.Errorf("%s links to %s, outside the repository", f, target)
			} else if _, err := os.Stat(abs); err != nil {
				t.Errorf("%s links to %s, which does not exist", f, target)
			}
		}
	}
}

func official(host string) bool {
	for _, h := range officialHosts {
		if host == h {
			return true
		}
	}
	return false
}

// No file cites a path outside the repository: the platform facts the code
// relies on are in docs/platforms/, with their public sources.
func TestNoCitationLeavesTheRepository(t *testing.T) {
	t.Parallel()
	outside := []string{"/work/" + "shared", "../" + "shared/", "shared/" + "platforms"}
	for _, f := range tracked(t, "*.go", "*.md", "*.yaml", "*.yml", "*.sh", "Makefile", "*.feature") {
		b, err := os.ReadFile(filepath.Join("..", f))
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range outside {
			if i := bytes.Index(b, []byte(o)); i >= 0 {
				line := bytes.Count(b[:i], []byte("\n")) + 1
				t.Errorf("%s:%d cites %q, outside the repository: cite docs/platforms/ or a public source", f, line, o)
			}
		}
	}
}

var curlBody = regexp.MustCompile(`-d '(\{.*\})'`)

// The README's CI examples (GitHub Actions, GitLab) are valid YAML, use the
// image the README's commands build and push, and seed the mock with a
// body the mock takes.
func TestREADMECIExamples(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := mdblocks.Parse(readme)
	pushed := ""
	for _, b := range blocks {
		if b.Lang == "sh" && strings.Contains(b.Text, "docker push ") {
			_, after, _ := strings.Cut(b.Text, "docker push ")
			pushed = strings.Fields(after)[0]
		}
	}
	if pushed == "" {
		t.Fatal("the README shows no docker push of the mock's image")
	}
	found := 0
	for _, b := range blocks {
		if b.Lang != "yaml" || !strings.Contains(b.Text, "services:") {
			continue
		}
		found++
		var doc any
		if err := yaml.Unmarshal([]byte(b.Text), &doc); err != nil {
			t.Errorf("README.md:%d: not YAML: %v", b.Line, err)
			continue
		}
		if !strings.Contains(b.Text, pushed) {
			t.Errorf("README.md:%d: the service does not use the image pushed above (%s)", b.Line, pushed)
		}
		seeds := curlBody.FindAllStringSubmatch(b.Text, -1)
		if len(seeds) == 0 {
			t.Errorf("README.md:%d: no seed call", b.Line)
		}
		for _, s := range seeds {
			m := mocktest.Start(t)
			resp, err := http.Post(m.URL+"/_mock/apps", "application/json", strings.NewReader(s[1]))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				t.Errorf("README.md:%d: the mock answers the seed call %d, want 201", b.Line, resp.StatusCode)
			}
		}
	}
	if found < 2 {
		t.Errorf("%d CI examples in the README, want GitHub Actions and GitLab", found)
	}
}

// Every JSON block in the documentation parses.
func TestDocumentedJSONParses(t *testing.T) {
	t.Parallel()
	for _, f := range tracked(t, "*.md") {
		b, err := os.ReadFile(filepath.Join("..", f))
		if err != nil {
			t.Fatal(err)
		}
		for _, blk := range mdblocks.Parse(b) {
			if blk.Lang == "json" && !json.Valid([]byte(blk.Text)) {
				t.Errorf("%s:%d: the JSON example does not parse", f, blk.Line)
			}
		}
	}
}
