// Package chaos is the harness of minipush's chaos suite (make chaos,
// make chaos-smoke; docs/chaos.md): the probes that found issue 9's
// defects, repeated as tests with pass/fail figures. The probes themselves
// are this package's tests; this file holds what they share — the gate
// that keeps them out of make test, the real binaries run as child
// processes (bin/sender, bin/mockserver from make build), and the figures
// each probe records for docs/chaos.md.
//
// It is a top-level package of its own, not part of loadtest, because
// most probes are about processes (SIGKILL, file descriptors, a full
// disk) rather than load; the one that is about load (every platform
// under faults and token storms) drives loadtest as a library.
package chaos

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Mode is how much of the suite runs.
type Mode string

// Modes, from MINIPUSH_CHAOS.
const (
	Off   Mode = ""
	Smoke Mode = "smoke" // reduced sizes: fits CI (≤ 4 minutes)
	Full  Mode = "full"  // the sizes (1,000,000 recipients, 20,000 connections, 10 kills)
)

// ModeFromEnv reads MINIPUSH_CHAOS: "smoke", "full" (or "1"), or unset.
func ModeFromEnv() (Mode, error) {
	switch v := strings.TrimSpace(os.Getenv("MINIPUSH_CHAOS")); strings.ToLower(v) {
	case "":
		return Off, nil
	case "smoke":
		return Smoke, nil
	case "full", "1", "true":
		return Full, nil
	default:
		return Off, fmt.Errorf("MINIPUSH_CHAOS=%q: want smoke or full", v)
	}
}

// Gate skips t unless the suite was asked for (make chaos, make
// chaos-smoke) and returns the mode. The probes run minutes and hog the
// machine: make test must not run them.
func Gate(t *testing.T) Mode {
	t.Helper()
	m, err := ModeFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if m == Off {
		t.Skip("chaos suite: opt-in, run make chaos (MINIPUSH_CHAOS=full) or make chaos-smoke (MINIPUSH_CHAOS=smoke)")
	}
	return m
}

// Pick returns smoke or full by mode.
func Pick[T any](m Mode, smoke, full T) T {
	if m == Full {
		return full
	}
	return smoke
}

// Bin is the path of a binary make build leaves in bin/
// (MINIPUSH_CHAOS_BIN overrides the directory). A missing binary fails
// the test: the suite was asked for and cannot run without it.
func Bin(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("MINIPUSH_CHAOS_BIN")
	if dir == "" {
		dir = filepath.Join("..", "bin")
	}
	p, err := filepath.Abs(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s: %v (run make build first, or set MINIPUSH_CHAOS_BIN)", p, err)
	}
	return p
}

// Proc is a binary running as a child process.
type Proc struct {
	Cmd *exec.Cmd
	// URL is the base URL from the process's "listening" log line.
	URL string
	// LogPath holds everything it wrote to stderr and stdout.
	LogPath string
	exited  chan struct{}
	err     error
}

// Start runs bin with args, its output appended to logPath, and waits
// for the JSON log line whose msg is listening (the url attribute: both
// binaries log one) — so the child can listen on port 0.
func Start(t *testing.T, bin, logPath, listening string, env []string, args ...string) *Proc {
	t.Helper()
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start %s: %v", bin, err)
	}
	p := &Proc{Cmd: cmd, LogPath: logPath, exited: make(chan struct{})}
	urlc := make(chan string, 1)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			line := sc.Bytes()
			_, _ = logf.Write(append(line, '\n'))
			var l struct {
				Msg string `json:"msg"`
				URL string `json:"url"`
			}
			if json.Unmarshal(line, &l) == nil && l.Msg == listening && l.URL != "" {
				select {
				case urlc <- l.URL:
				default:
				}
			}
		}
		_, _ = io.Copy(logf, pr)
	}()
	go func() {
		p.err = cmd.Wait()
		pw.Close()
		<-copied
		logf.Close()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.exited
	})
	select {
	case p.URL = <-urlc:
	case <-p.exited:
		t.Fatalf("%s exited before listening: %v\n%s", filepath.Base(bin), p.err, Tail(logPath, 30))
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not log %q within 60 s\n%s", filepath.Base(bin), listening, Tail(logPath, 30))
	}
	return p
}

// Pid is the child's process id.
func (p *Proc) Pid() int { return p.Cmd.Process.Pid }

// Exited is closed once the process is gone.
func (p *Proc) Exited() <-chan struct{} { return p.exited }

// Kill sends SIGKILL and waits until the process is gone.
func (p *Proc) Kill() error {
	if err := p.Cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	<-p.exited
	return nil
}

// Stop sends SIGTERM and waits up to within for a clean exit.
func (p *Proc) Stop(within time.Duration) error {
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-p.exited:
		return p.err
	case <-time.After(within):
		return fmt.Errorf("still running %s after SIGTERM", within)
	}
}

// Tail is the last n lines of a file, for failure messages.
func Tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// WaitHTTP polls url until it answers want, for up to within.
func WaitHTTP(ctx context.Context, url string, want int, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	hc := &http.Client{Timeout: 5 * time.Second}
	last := "no answer"
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := hc.Do(req)
		if err == nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == want {
				return nil
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, b)
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not answer %d within %s (last: %s)", url, want, within, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// LoadAverage is the 1-minute load average (-1 where unknown).
func LoadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}

// Figures are one probe's results: what docs/chaos.md records.
type Figures struct {
	Probe     string         `json:"probe"`
	Mode      Mode           `json:"mode"`
	Passed    bool           `json:"passed"`
	LoadStart float64        `json:"load_start"`
	LoadEnd   float64        `json:"load_end"`
	Seconds   float64        `json:"seconds"`
	Values    map[string]any `json:"values"`
	started   time.Time
	mu        sync.Mutex
}

// NewFigures starts a probe's figures (the load average now).
func NewFigures(probe string, m Mode) *Figures {
	return &Figures{Probe: probe, Mode: m, LoadStart: LoadAverage(), Values: map[string]any{}, started: time.Now()}
}

// Set records one figure.
func (f *Figures) Set(key string, v any) {
	f.mu.Lock()
	f.Values[key] = v
	f.mu.Unlock()
}

// Report logs the figures and appends them as one JSON line to
// MINIPUSH_CHAOS_REPORT (make chaos: build/reports/chaos.jsonl), passed
// as the test ends.
func (f *Figures) Report(t *testing.T) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Passed, f.LoadEnd, f.Seconds = !t.Failed(), LoadAverage(), time.Since(f.started).Seconds()
	keys := make([]string, 0, len(f.Values))
	for k := range f.Values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%v", k, f.Values[k])
	}
	verdict := "PASS"
	if !f.Passed {
		verdict = "FAIL"
	}
	t.Logf("FIGURES %s %s (%s, %.0f s, load %.1f→%.1f):%s", f.Probe, verdict, f.Mode, f.Seconds, f.LoadStart, f.LoadEnd, b.String())
	path := os.Getenv("MINIPUSH_CHAOS_REPORT")
	if path == "" {
		return
	}
	line, err := json.Marshal(f)
	if err != nil {
		t.Errorf("figures: %v", err)
		return
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Errorf("figures: %v", err)
		return
	}
	file, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Errorf("figures: %v", err)
		return
	}
	defer file.Close()
	if _, err := file.Write(append(line, '\n')); err != nil {
		t.Errorf("figures: %v", err)
	}
}

// Percentile is the p-th percentile (0..100) of ds, nearest rank.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}
