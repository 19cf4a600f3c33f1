//go:build linux

package sender_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/sender/internal/message"
)

// lockedBuffer collects a child's output from its pipe.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// limitFileSize sets the process's RLIMIT_FSIZE: past that offset every
// write to a file fails (EFBIG), the database's and its WAL's included —
// the kernel failing the sender's writes, as a full or failing disk does,
// with no privileges needed and nothing else on the machine touched.
func limitFileSize(t *testing.T, pid int, bytes uint64) {
	t.Helper()
	lim := unix.Rlimit{Cur: bytes, Max: unix.RLIM_INFINITY}
	if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, &lim, nil); err != nil {
		t.Fatalf("prlimit: %v", err)
	}
}

// The third defect: with the disk failing, the sender answered 500
// "storage error", /readyz stayed ready, and messages whose outcome could
// not be written were delivered twice once the disk came back. Now: 503
// with Retry-After (never 500, never 202 for what was not written),
// /readyz not ready while writes fail and ready again when they succeed —
// without a restart — and every accepted message delivered exactly once.
func TestDiskFailure(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary (skipped under -short)")
	}
	t.Parallel()
	bin := buildSender(t)
	mock := startMock(t)
	// Sends take a while: outcomes are due while the disk fails.
	addFault(t, mock, mockapi.Fault{Endpoint: "subscribe_send", AppID: shopAppID, Latency: mockapi.Duration(200 * time.Millisecond)})

	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	cfgPath := filepath.Join(dir, "sender.yaml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf(`listen: %s
storage: {driver: sqlite, path: %s}
api_keys: [{name: e2e, key: %s}]
apps:
  - {name: %s, platform: wechat, app_id: %s, secret: %s, base_url: %s}
delivery: {workers: 8, lease: 3s, send_timeout: 1s, backoff_base: 100ms, backoff_max: 1s, poll_interval: 10ms, shutdown_timeout: 5s}
log: {format: json, level: info}
`, addr, filepath.Join(dir, "data", "minipush.db"), testAPIKey, shopApp, shopAppID, shopSecret, mock.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	cmd := exec.Command(bin, "-config", cfgPath)
	cmd.Stdout, cmd.Stderr = &logs, &logs // pipes: not files, so not limited
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("sender output:\n%s", tail(logs.String(), 60))
		}
	})
	if err := eventually(20*time.Second, func() bool {
		code, _, err := call(base, http.MethodGet, "/readyz", "", nil)
		return err == nil && code == http.StatusOK
	}); err != nil {
		t.Fatalf("the sender did not become ready:\n%s", logs.String())
	}

	var (
		mu       sync.Mutex
		accepted []string // markers answered 202
		seq      int
	)
	post := func() (int, http.Header) {
		mu.Lock()
		seq++
		marker := fmt.Sprintf("disk-%04d", seq)
		mu.Unlock()
		req, _ := http.NewRequest(http.MethodPost, base+"/v1/messages",
			strings.NewReader(mustMarshal(t, msg(shopApp, users[seq%len(users)], marker))))
		req.Header.Set("Authorization", "Bearer "+testAPIKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatalf("POST: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusAccepted {
			mu.Lock()
			accepted = append(accepted, marker)
			mu.Unlock()
		}
		return resp.StatusCode, resp.Header
	}

	// Messages in flight, then the disk fails under them.
	for range 24 {
		if code, _ := post(); code != http.StatusAccepted {
			t.Fatalf("POST before the fault: %d", code)
		}
	}
	time.Sleep(100 * time.Millisecond) // the first sends are under way
	limitFileSize(t, cmd.Process.Pid, 64<<10)
	failedAt := time.Now()

	var saw503, sawNotReady bool
	for time.Since(failedAt) < 5*time.Second { // past the 3 s lease
		code, hdr := post()
		switch code {
		case http.StatusAccepted:
		case http.StatusServiceUnavailable:
			saw503 = true
			if hdr.Get("Retry-After") == "" {
				t.Errorf("503 without Retry-After")
			}
		default:
			t.Fatalf("POST while the disk fails: %d, want 202 or 503", code)
		}
		if code, b, err := call(base, http.MethodGet, "/readyz", "", nil); err == nil && code == http.StatusServiceUnavailable {
			sawNotReady = true
			if !strings.Contains(string(b), `"storage"`) {
				t.Errorf("not ready without naming storage: %s", b)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !saw503 || !sawNotReady {
		t.Fatalf("while writes failed: 503 seen %v, /readyz not ready seen %v; want both", saw503, sawNotReady)
	}

	// The disk comes back: ready again, without a restart.
	limitFileSize(t, cmd.Process.Pid, unix.RLIM_INFINITY)
	if err := eventually(20*time.Second, func() bool {
		code, _, err := call(base, http.MethodGet, "/readyz", "", nil)
		return err == nil && code == http.StatusOK
	}); err != nil {
		t.Fatal("/readyz did not become ready again after the disk came back")
	}
	if code, _ := post(); code != http.StatusAccepted {
		t.Fatalf("POST after the disk came back: %d", code)
	}

	// Every accepted message delivered, exactly once.
	if err := eventually(60*time.Second, func() bool {
		for _, st := range []message.Status{message.StatusQueued, message.StatusSending, message.StatusRetrying} {
			code, b, err := call(base, http.MethodGet, query("/v1/messages", "status", string(st), "limit", "1"), testAPIKey, nil)
			if err != nil || code != http.StatusOK || strings.Contains(string(b), `"id"`) {
				return false
			}
		}
		return true
	}); err != nil {
		t.Fatal("accepted messages were still pending a minute after the disk came back")
	}
	seen := map[string]int{}
	for _, u := range users {
		for _, m := range inbox(t, mock, shopAppID, u, 0) {
			seen[m.Data["character_string3"]]++
		}
	}
	for _, marker := range accepted {
		if n := seen[marker]; n != 1 {
			t.Errorf("%s (answered 202) reached the inbox %d times, want 1", marker, n)
		}
	}
	// The test is only worth something if outcomes did fail to write.
	unwritten := strings.Count(logs.String(), "record outcome: will retry")
	t.Logf("%d messages accepted, %d delivered once each; %d failed outcome writes retried",
		len(accepted), len(accepted), unwritten)
	if unwritten == 0 {
		t.Error("no outcome write failed: the fault came too late to test the outcome path")
	}
}

func mustMarshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
