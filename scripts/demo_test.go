// Package scripts_test runs the repository's scripts as a user would: make
// run's demo (run-demo.sh) on ports of its own, every curl it prints sent
// and followed until delivered.
package scripts_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/senderclient"
)

// freeAddr is a loopback address nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// build compiles the module's commands into dir.
func build(t *testing.T, dir string, cmds ...string) {
	t.Helper()
	for _, c := range cmds {
		out, err := exec.Command("go", "build", "-o", filepath.Join(dir, c), "../"+c+"/cmd/"+c).CombinedOutput()
		if err != nil {
			t.Fatalf("build %s: %v\n%s", c, err, out)
		}
	}
}

var (
	curlSend = regexp.MustCompile(`curl -s -X POST (\S+)/v1/messages .*?-d '(\{.*\})'`)
	// The popup the banner shows: a user's answer the mock pushes to the sender.
	curlPopup = regexp.MustCompile(`curl -s -X POST (\S+)/_mock/popups -d '(\{.*\})'`)
	banner    = regexp.MustCompile(`(?m)^\s+Sender API \(key: demo-key\):\s+(\S+)`)
)

// make run wires the sender to the mock at whatever addresses it is given,
// says so, and every curl it prints — one per platform — is accepted and
// delivered by the mock.
func TestRunDemo(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	t.Parallel()
	bin, data := t.TempDir(), t.TempDir()
	build(t, bin, "mockserver", "sender")
	mockAddr, senderAddr := freeAddr(t), freeAddr(t)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "run-demo.sh")
	cmd.Dir = "."
	cmd.Env = append(os.Environ(), "MOCK_ADDR="+mockAddr, "SENDER_ADDR="+senderAddr, "BIN="+bin, "DATA="+data)
	// Its own process group: the script's children stop with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		_ = cmd.Wait()
	})

	// Read the banner up to its last line.
	var text strings.Builder
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		text.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), "Ctrl-C stops both") || strings.Contains(sc.Text(), "failed to start") {
			break
		}
	}
	go func() { // keep the pipe drained
		for sc.Scan() {
		}
	}()
	out := strings.ReplaceAll(text.String(), "\\\n", "")
	if m := banner.FindStringSubmatch(out); m == nil || m[1] != "http://"+senderAddr {
		t.Fatalf("the banner does not show the sender at http://%s:\n%s", senderAddr, out)
	}
	for _, want := range []string{"http://" + mockAddr + "/_ui/", "base_url → http://" + mockAddr, data + "/minipush.db",
		"http://" + senderAddr + "/console/", `admin key "demo"`} {
		if !strings.Contains(out, want) {
			t.Errorf("the banner does not show %q:\n%s", want, out)
		}
	}

	// The console the banner names lets the demo key in.
	noRedirect := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	login, err := noRedirect.PostForm("http://"+senderAddr+"/console/login", url.Values{"key": {"demo-key"}})
	if err != nil {
		t.Fatal(err)
	}
	login.Body.Close()
	if login.StatusCode != http.StatusSeeOther || len(login.Cookies()) != 1 {
		t.Errorf("signing in to the console with demo-key: %d, cookies %v", login.StatusCode, login.Cookies())
	}

	c, err := senderclient.New("http://"+senderAddr, senderclient.WithAPIKey("demo-key"))
	if err != nil {
		t.Fatal(err)
	}
	sends := curlSend.FindAllStringSubmatch(out, -1)
	platforms := map[string]bool{}
	for _, s := range sends {
		if s[1] != "http://"+senderAddr {
			t.Errorf("a curl goes to %s, not the sender at http://%s", s[1], senderAddr)
		}
		var req senderclient.MessageRequest
		if err := json.Unmarshal([]byte(s[2]), &req); err != nil {
			t.Fatalf("curl body %s: %v", s[2], err)
		}
		a, err := c.Send(ctx, req)
		if err != nil {
			t.Fatalf("%s: %v", req.App, err)
		}
		m := waitFinal(t, ctx, c, a.ID)
		if m.Status != senderclient.StatusDelivered {
			t.Errorf("the %s curl's message: %s %s %s, want delivered", req.App, m.Status, m.LastCode, m.LastError)
		}
		platforms[m.Platform] = true
	}
	if len(platforms) != 5 {
		t.Errorf("curls for %d platforms (%v), want one per platform", len(platforms), platforms)
	}
	if _, err := os.Stat(filepath.Join(data, "minipush.db")); err != nil {
		t.Errorf("the database is not in DATA: %v", err)
	}

	// The popup curl: the mock pushes the answer (safe mode) to the
	// sender, whose ledger shows it.
	p := curlPopup.FindStringSubmatch(out)
	if p == nil || p[1] != "http://"+mockAddr {
		t.Fatalf("the banner shows no popup curl to the mock at http://%s:\n%s", mockAddr, out)
	}
	var popup struct {
		AppID  string   `json:"app_id"`
		OpenID string   `json:"openid"`
		Accept []string `json:"accept"`
	}
	if err := json.Unmarshal([]byte(p[2]), &popup); err != nil || len(popup.Accept) != 1 {
		t.Fatalf("popup body %s: %v", p[2], err)
	}
	resp, err := http.Post(p[1]+"/_mock/popups", "application/json", strings.NewReader(p[2]))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the popup curl: %d", resp.StatusCode)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		l, err := c.Consents(ctx, senderclient.ConsentFilter{App: "shop-wechat", User: popup.OpenID})
		if err == nil && len(l.Items) == 1 && l.Items[0].TemplateID == popup.Accept[0] && l.Items[0].Credits == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the popup never reached the sender's ledger: %+v %v", l, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func waitFinal(t *testing.T, ctx context.Context, c *senderclient.Client, id string) senderclient.Message {
	t.Helper()
	for {
		m, err := c.Message(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if m.Final() {
			return m
		}
		select {
		case <-ctx.Done():
			t.Fatalf("message %s: %v", id, fmt.Errorf("still %s: %w", m.Status, ctx.Err()))
		case <-time.After(50 * time.Millisecond):
		}
	}
}
