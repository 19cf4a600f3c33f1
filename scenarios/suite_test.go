package scenarios_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cucumber/godog"
	"github.com/testcontainers/testcontainers-go"

	"github.com/minipush/minipush/scenarios"
)

// Switches (environment):
//
//	MINIPUSH_BDD_MODE=containers   run against FROM scratch images of the mock and the sender
//	                               on a private Docker network (default: in-process)
//	MINIPUSH_REQUIRE_DOCKER=1      containers mode fails, not skips, without a usable Docker
//	MINIPUSH_BDD_TAGS=@wip         an extra godog tag filter (e.g. "@isolated", "~@isolated")
//	MINIPUSH_BDD_CONCURRENCY=N     scenarios run at once (default 6 in-process, 4 in containers)
//
// Reports land in build/reports/ at the repository root:
// bdd-<mode>.xml (JUnit), bdd-<mode>.json (Cucumber), plus the in-process
// senders' log (bdd-inprocess-sender.log) or the containers' logs
// (bdd-containers-logs/).

func TestMain(m *testing.M) {
	if os.Getenv("MINIPUSH_BDD_MODE") == "containers" {
		// No reaper image can be pulled here; testcontainers reads this
		// before its first call, and only the literal "true" turns it off.
		os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
		if os.Getenv("TESTCONTAINERS_HOST_OVERRIDE") == "" && localDaemon() {
			// The test may itself run in a container: reach mapped ports
			// on the loopback, not through a gateway address.
			os.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
		}
	}
	os.Exit(m.Run())
}

func localDaemon() bool {
	h := os.Getenv("DOCKER_HOST")
	return h == "" || strings.HasPrefix(h, "unix://")
}

func TestSuite(t *testing.T) {
	mode := os.Getenv("MINIPUSH_BDD_MODE")
	if mode == "" {
		mode = "inprocess"
	}
	concurrency := 6
	tags := scenarios.TagFilter(mode)
	if mode == "containers" {
		dockerGate(t)
		concurrency = 4
	}
	if s := os.Getenv("MINIPUSH_BDD_CONCURRENCY"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("MINIPUSH_BDD_CONCURRENCY=%q: want a positive number", s)
		}
		concurrency = n
	}
	if extra := os.Getenv("MINIPUSH_BDD_TAGS"); extra != "" {
		tags += " && " + extra
	}

	root := repoRoot(t)
	reports := filepath.Join(root, "build", "reports")
	if err := os.MkdirAll(reports, 0o755); err != nil {
		t.Fatal(err)
	}
	var logw io.Writer = io.Discard
	if mode == "inprocess" {
		f, err := os.Create(filepath.Join(reports, "bdd-inprocess-sender.log"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		logw = f
	}

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	suite, err := scenarios.NewSuite(ctx, t, mode, t.TempDir(), reports, slog.New(slog.NewTextHandler(logw, nil)))
	if err != nil {
		t.Fatalf("start the %s world: %v", mode, err)
	}
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := suite.Close(cctx); err != nil {
			t.Errorf("stop the shared world: %v", err)
		}
	})

	status := godog.TestSuite{
		Name:                "minipush-" + mode,
		ScenarioInitializer: suite.InitializeScenario,
		Options: &godog.Options{
			Format: fmt.Sprintf("pretty,junit:%s,cucumber:%s",
				filepath.Join(reports, "bdd-"+mode+".xml"), filepath.Join(reports, "bdd-"+mode+".json")),
			Paths:       []string{filepath.Join(root, "features")},
			Tags:        tags,
			Strict:      true, // undefined or pending steps fail the run
			Concurrency: concurrency,
			TestingT:    t,
		},
	}.Run()
	if status != 0 {
		t.Fatalf("godog exit status %d (reports in %s)", status, reports)
	}
}

// dockerGate skips the containers mode without a usable Docker daemon,
// or fails it when MINIPUSH_REQUIRE_DOCKER=1 (CI, make bdd-containers).
func dockerGate(t *testing.T) {
	t.Helper()
	p, err := testcontainers.NewDockerProvider()
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		err = p.Health(ctx)
		cancel()
	}
	if err == nil {
		return
	}
	if os.Getenv("MINIPUSH_REQUIRE_DOCKER") == "1" {
		t.Fatalf("MINIPUSH_BDD_MODE=containers needs Docker (MINIPUSH_REQUIRE_DOCKER=1): %v", err)
	}
	t.Skipf("MINIPUSH_BDD_MODE=containers but Docker is not usable, skipping (set MINIPUSH_REQUIRE_DOCKER=1 to fail instead): %v", err)
}

// repoRoot walks up from the test's directory to the go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal(errors.New("no go.mod above the test's directory"))
		}
		dir = parent
	}
}
