package loadtest_test

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The CI smoke, the gate `make test` runs: the loadtest binary as it
// ships (static, no race detector) drives a self-contained mock + sender
// at 300 requests per second for 15 s with the full mix, and must exit 0:
// every threshold held. It runs before this package's parallel tests, so
// nothing of ours shares the machine with it.
//
// Its gates are `make load`'s with a looser p99: the machine is shared
// (2 cores, load averages of 5-10 seen) and `make test` runs other
// packages' tests beside it; rate and reconciliation are gated exactly.
var smokeArgs = []string{"-rate", "300", "-duration", "15s", "-mix", "valid=80,content=5,badkeyword=5,nogrant=5,broadcast=5",
	"-threshold", "p99<1s", "-threshold", "rate>=297", "-threshold", "errors==0", "-threshold", "lost==0",
	"-threshold", "duplicated==0", "-threshold", "unexpected==0", "-threshold", "pending==0",
	"-threshold", "status_mismatch==0", "-threshold", "rejections_missed==0"}

func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("CI smoke: 15 s of load (skipped with -short)")
	}
	bin := buildLoadtest(t)
	dir := t.TempDir()
	jsonPath, junitPath, htmlPath := filepath.Join(dir, "smoke.json"), filepath.Join(dir, "smoke.xml"), filepath.Join(dir, "smoke.html")
	args := append(append([]string(nil), smokeArgs...), "-report-json", jsonPath, "-report-junit", junitPath, "-report-html", htmlPath)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "CI=true")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	t.Logf("loadtest %s (%s):\n%s", strings.Join(args, " "), time.Since(start).Round(time.Millisecond), out.String())
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit) && exit.ExitCode() == 99:
		t.Fatalf("the smoke breached thresholds (exit 99): see the report above")
	case err != nil:
		t.Fatalf("loadtest: %v", err)
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Rate       float64 `json:"rate"`
		Requests   int     `json:"requests"`
		Accepted   int     `json:"accepted"`
		Delivered  int     `json:"delivered"`
		Rejected   int     `json:"rejected"`
		Lost       int     `json:"lost"`
		Duplicated int     `json:"duplicated"`
		Passed     bool    `json:"passed"`
		Thresholds []any   `json:"thresholds"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.Passed || len(rep.Thresholds) != 9 || rep.Requests > 4500 || rep.Requests < 4500*99/100 || rep.Delivered == 0 || rep.Rejected == 0 ||
		rep.Lost != 0 || rep.Duplicated != 0 {
		t.Errorf("JSON report: %+v", rep)
	}
	for _, p := range []string{junitPath, htmlPath} {
		if fi, err := os.Stat(p); err != nil || fi.Size() == 0 {
			t.Errorf("report %s: %v", p, err)
		}
	}
}

// buildLoadtest compiles cmd/loadtest as it ships (static, no cgo, no race
// detector) into a temporary directory.
func buildLoadtest(t *testing.T) string {
	t.Helper()
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		if gobin, err = exec.LookPath("go"); err != nil {
			t.Skip("no go command to build the loadtest with")
		}
	}
	bin := filepath.Join(t.TempDir(), "loadtest")
	cmd := exec.Command(gobin, "build", "-o", bin, "./cmd/loadtest")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/loadtest: %v\n%s", err, out)
	}
	return bin
}
