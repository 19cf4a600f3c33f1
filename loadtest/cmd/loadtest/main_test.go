package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut strings.Builder
	code = run(context.Background(), args, &out, &errOut, func(k string) string { return env[k] })
	return code, out.String(), errOut.String()
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"-no-such-flag"}, "flag provided but not defined"},
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"-threshold", "p99<fast"}, "want a duration"},
		{[]string{"-threshold", "latency<5ms"}, "unknown metric"},
		{[]string{"-mix", "valid=1,spam=2"}, "unknown kind"},
		{[]string{"-ramp", "100,zero"}, "ramp step"},
		{[]string{"-progress", "sometimes"}, "-progress"},
		{[]string{"-log-level", "loud"}, "-log-level"},
		{[]string{"-app", "shop"}, "-sender-url"},
		{[]string{"-target", "mock", "-mix", "valid=1,broadcast=1"}, "no broadcast API"},
		{[]string{"-target", "sender", "-sender-url", "http://127.0.0.1:1", "-mock-url", "http://127.0.0.1:2"}, "-api-key"},
		{[]string{"-fault", "errcode=-1"}, "endpoint is required"},
		{[]string{"-rate", "0"}, "-max-workers"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			code, _, stderr := runCLI(t, nil, tt.args...)
			if code != exitUsage || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, exitUsage, tt.wantErr)
			}
		})
	}
}

func TestVersionAndHelp(t *testing.T) {
	t.Parallel()
	if code, out, _ := runCLI(t, nil, "-version"); code != exitOK || !strings.Contains(out, "loadtest dev") {
		t.Errorf("-version: exit %d, %q", code, out)
	}
	code, _, stderr := runCLI(t, nil, "-h")
	if code != exitOK || !strings.Contains(stderr, "Exit codes: 0 ok, 99 threshold breached") || !strings.Contains(stderr, "-threshold") {
		t.Errorf("-h: exit %d, %q", code, stderr)
	}
}

// The API key comes from the environment when the flag is not given (a
// flag would show in ps).
func TestAPIKeyFromEnvironment(t *testing.T) {
	t.Parallel()
	code, _, stderr := runCLI(t, map[string]string{"MINIPUSH_LOADTEST_API_KEY": "k-0123456789"},
		"-sender-url", "http://127.0.0.1:1", "-mock-url", "http://127.0.0.1:1", "-rate", "1", "-duration", "1s")
	if strings.Contains(stderr, "-api-key") {
		t.Errorf("the key from MINIPUSH_LOADTEST_API_KEY was not used: %s", stderr)
	}
	if code != exitFailed || !strings.Contains(stderr, "not ready") {
		t.Errorf("exit %d, %q; want 1 and an unreachable mock", code, stderr)
	}
	if strings.Contains(stderr, "k-0123456789") {
		t.Error("the API key appears in the output")
	}
}

// A breached threshold exits 99 and names it; the reports are written
// either way.
func TestExitCodes(t *testing.T) {
	if testing.Short() {
		t.Skip("load runs (skipped with -short)")
	}
	t.Parallel()
	tests := []struct {
		name      string
		threshold string
		code      int
		progress  string
	}{
		{"pass", "lost==0", exitOK, "auto"},
		{"breach", "requests>=1000000", exitBreached, "auto"},
		{"progress", "lost==0", exitOK, "on"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			j, x, h := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.xml"), filepath.Join(dir, "r.html")
			code, stdout, stderr := runCLI(t, map[string]string{"CI": "true"}, "-progress", tt.progress, "-target", "mock", "-rate", "50", "-duration", "1500ms",
				"-threshold", "lost==0", "-threshold", tt.threshold, "-report-json", j, "-report-junit", x, "-report-html", h)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			if tt.code == exitBreached && !strings.Contains(stderr, "1 threshold(s) breached: requests>=1000000") {
				t.Errorf("stderr does not name the breached threshold:\n%s", stderr)
			}
			if !strings.Contains(stdout, "reconciliation") {
				t.Errorf("stdout lacks the summary:\n%s", stdout)
			}
			if want := "reports\tJSON " + j + ", JUnit " + x + ", HTML " + h + "\n"; !strings.Contains(stdout, want) {
				t.Errorf("stdout does not say where the reports went (%q):\n%s", want, stdout)
			}
			// auto: no terminal here (and CI=true), so no progress line.
			if hasProgress := strings.Contains(stdout, "\r\033[K[") && strings.Contains(stdout, "/s  requests"); hasProgress != (tt.progress == "on") {
				t.Errorf("progress line shown = %v with -progress %s:\n%q", hasProgress, tt.progress, stdout)
			}
			b, err := os.ReadFile(j)
			if err != nil {
				t.Fatal(err)
			}
			var rep struct {
				Requests int  `json:"requests"`
				Passed   bool `json:"passed"`
			}
			// 50 rps for 1.5 s plans 75 requests; on a starved machine the
			// last one or two may miss the deadline.
			if err := json.Unmarshal(b, &rep); err != nil || rep.Requests < 70 || rep.Requests > 75 || rep.Passed != (tt.code == exitOK) {
				t.Errorf("JSON report %+v, %v", rep, err)
			}
			for _, p := range []string{x, h} {
				if fi, err := os.Stat(p); err != nil || fi.Size() == 0 {
					t.Errorf("report %s: %v", p, err)
				}
			}
		})
	}
}
