package sqlite_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
	"github.com/minipush/minipush/sender/internal/storage/sqlite"
)

// fanoutEnv names the database the fan-out helper process works on.
const fanoutEnv = "MINIPUSH_SQLITE_FANOUT_DB"

func generatedMembers(n int) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for i := range n {
			if !yield(fmt.Sprintf("m%07d", i), nil) {
				return
			}
		}
	}
}

// TestHelperFanOut is the child of TestFanOutSurvivesKill: it fans out
// the broadcast already in the database, printing "step <n>" after every
// committed step, until killed.
func TestHelperFanOut(t *testing.T) {
	path := os.Getenv(fanoutEnv)
	if path == "" {
		t.Skip("helper process for TestFanOutSurvivesKill")
	}
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	for {
		n, more, err := s.FanOut(ctx, 500)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fan out:", err)
			os.Exit(3)
		}
		fmt.Fprintf(os.Stdout, "step %d\n", n)
		if !more {
			os.Exit(4) // the parent kills us long before
		}
	}
}

// TestFanOutSurvivesKill SIGKILLs a process in the middle of fanning a
// group broadcast out; after a restart the fan-out carries on where the
// last committed step left it: every member gets exactly one message.
func TestFanOutSurvivesKill(t *testing.T) {
	t.Parallel()
	n := 60_000
	if raceEnabled {
		n = 12_000
	}
	path := filepath.Join(t.TempDir(), "minipush.db")
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.PutGroup(ctx, "app1", "all", generatedMembers(n), "", nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateBroadcast(ctx, message.Broadcast{ID: "b1", App: "app1", Group: "all", TemplateID: "tpl"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperFanOut$", "-test.count=1")
	cmd.Env = append(os.Environ(), fanoutEnv+"="+path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	steps, killed := 0, false
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if !strings.HasPrefix(sc.Text(), "step ") {
			continue
		}
		if steps++; steps == n/500/3 && !killed {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !killed || !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("helper was not killed mid fan-out (%d steps, killed %v): %v\n%s", steps, killed, err, stderr.String())
	}

	s = openStore(t, path)
	b, _, err := s.Broadcast(ctx, "b1")
	if err != nil {
		t.Fatal(err)
	}
	if b.FannedOut == 0 || b.FannedOut >= n {
		t.Fatalf("after the kill %d of %d are fanned out: the kill did not land mid fan-out", b.FannedOut, n)
	}
	t.Logf("killed after %d steps; %d of %d recipients fanned out", steps, b.FannedOut, n)
	for more := true; more; {
		if _, more, err = s.FanOut(ctx, 2000); err != nil {
			t.Fatal(err)
		}
	}
	seen := make(map[string]int, n)
	for cursor := ""; ; {
		page, next, err := s.List(ctx, storage.Filter{BroadcastID: "b1", Limit: 1000, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page {
			seen[m.To]++
		}
		if cursor = next; next == "" {
			break
		}
	}
	if len(seen) != n {
		t.Errorf("%d distinct recipients have a message, want %d", len(seen), n)
	}
	for to, c := range seen {
		if c != 1 {
			t.Errorf("%s has %d messages, want 1", to, c)
		}
	}
	if b, _, _ := s.Broadcast(ctx, "b1"); b.FannedOut != n || b.Recipients != n {
		t.Errorf("broadcast %+v, want %d recipients fanned out", b, n)
	}
}
