// Package scenarios runs the Gherkin features in ../features against the
// mock and the sender: godog step definitions, per-scenario state, and the
// two worlds they run in — in-process (default) or containers
// (MINIPUSH_BDD_MODE=containers). Run it with go test ./scenarios/...; see
// suite_test.go for the switches.
package scenarios

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cucumber/godog"

	"github.com/minipush/minipush/internal/openapitest"
	"github.com/minipush/minipush/mockserver/mockcontainer"
	"github.com/minipush/minipush/sender/senderclient"
	"github.com/minipush/minipush/sender/sendercontainer"
)

// Modes.
const (
	modeInProcess  = "inprocess"
	modeContainers = "containers"
)

// Tags the suite acts on.
const (
	// tagIsolated gives the scenario a mock and a sender of its own.
	tagIsolated = "@isolated"
	// tagContainers marks scenarios only the containers mode can run.
	tagContainers = "@containers"
	// tagPendingClient marks scenarios whose platform client the sender
	// does not have yet; they are excluded, never counted as passing.
	tagPendingClient = "@pending-client"
	// tagRedis marks the scenarios of several sender instances on one
	// Redis: they run in TestRedisFeatures, each with a redis-server of
	// its own, not in the shared worlds.
	tagRedis = "@redis"
	// tagSenderClock marks scenarios that move the sender's clock: the
	// in-process sender takes an injected clock (sender.WithClock); the
	// sender binary in its container reads the wall clock, and no
	// container can move that (it is the host kernel's), so they run
	// in-process only.
	tagSenderClock = "@sender-clock"
	// tagInProcess marks scenarios only the in-process mode can run (none
	// today: the webhook receiver in the test process is reached from the
	// sender's container at the network's gateway).
	tagInProcess = "@in-process"
)

// TagFilter is the godog tag filter of a mode: scenarios waiting for a
// platform client never run, container-only scenarios only in containers.
func TagFilter(mode string) string {
	f := "~" + tagPendingClient + " && ~" + tagRedis
	if mode != modeContainers {
		f += " && ~" + tagContainers
	} else {
		f += " && ~" + tagSenderClock
		f += " && ~" + tagInProcess
	}
	return f
}

// Suite is one run of the features: its mode, the shared world and what
// isolated worlds are made from.
type Suite struct {
	tb      testing.TB // the test the run belongs to: containers are cleaned up with it
	mode    string
	run     string       // names the run's containers (label org.minipush.run)
	dir     string       // in-process worlds' files
	logsDir string       // containers' logs
	log     *slog.Logger // in-process senders' log
	keys    *alipayKeys
	shared  *world
	// contract checks every call the scenarios make to the sender against
	// its OpenAPI document: a mismatch fails the run.
	contract *openapitest.Checker

	scenarios atomic.Int64
}

// NewSuite prepares a run: Alipay keys, the images (containers mode) and
// the shared world. dir holds in-process worlds' files; containers' logs
// are saved under reports; log receives in-process senders' logs. Every
// container and network is also handed to testcontainers' clean-up of tb,
// a safety net behind Close and the scenarios' own clean-up.
func NewSuite(ctx context.Context, tb testing.TB, mode, dir, reports string, log *slog.Logger) (*Suite, error) {
	if mode != modeInProcess && mode != modeContainers {
		return nil, fmt.Errorf("mode %q: want %s or %s", mode, modeInProcess, modeContainers)
	}
	s := &Suite{tb: tb, mode: mode, dir: dir, log: log, run: time.Now().Format("20060102T150405")}
	if mode == modeContainers {
		// One directory per run's logs, emptied first: world names repeat.
		s.logsDir = filepath.Join(reports, "bdd-containers-logs")
		if err := os.RemoveAll(s.logsDir); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(s.logsDir, 0o755); err != nil {
			return nil, err
		}
	}
	keys, err := newAlipayKeys()
	if err != nil {
		return nil, err
	}
	s.keys = keys
	if mode == modeContainers {
		// Built once for the whole run; every world starts containers from
		// these tags.
		bctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		defer cancel()
		if err := mockcontainer.BuildImage(bctx, mockcontainer.DefaultImage); err != nil {
			return nil, err
		}
		if err := sendercontainer.BuildImage(bctx, sendercontainer.DefaultImage); err != nil {
			return nil, err
		}
	}
	w, err := newWorld(ctx, s.backend("shared"), false, sharedPool, quickDelivery, keys)
	if err != nil {
		return nil, err
	}
	s.shared = w
	// Start the shared sender now, not inside the first scenario's time.
	url, err := w.senderURL(ctx)
	if err != nil {
		_ = w.close(ctx)
		return nil, err
	}
	// The contract is the document the sender serves.
	if s.contract, err = contractOf(ctx, tb, url); err != nil {
		_ = w.close(ctx)
		return nil, err
	}
	return s, nil
}

// contractOf reads the OpenAPI document the sender at url serves and
// makes a checker of it reporting to tb.
func contractOf(ctx context.Context, tb testing.TB, url string) (*openapitest.Checker, error) {
	c, err := senderclient.New(url)
	if err != nil {
		return nil, err
	}
	doc, err := c.OpenAPI(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the sender's OpenAPI document: %w", err)
	}
	return openapitest.New(tb, doc)
}

// Close stops the shared world.
func (s *Suite) Close(ctx context.Context) error {
	if s.shared == nil {
		return nil
	}
	return s.shared.close(ctx)
}

func (s *Suite) backend(name string) backend {
	if s.mode == modeContainers {
		return newContainers(s.tb, suiteLabels(s.run), s.logsDir, name)
	}
	return newInProcess(filepath.Join(s.dir, name), s.log.With("world", name))
}

// isolatedWorld makes a world for one scenario. Its sender retries
// patiently: these scenarios restart it with messages waiting.
func (s *Suite) isolatedWorld(ctx context.Context, name string) (*world, error) {
	return newWorld(ctx, s.backend(name), true, isolatedPool, patientDelivery, s.keys)
}

// InitializeScenario is the godog ScenarioInitializer: each scenario gets
// its own state, and its own world when tagged @isolated.
func (s *Suite) InitializeScenario(sc *godog.ScenarioContext) {
	st := &scenario{suite: s}
	sc.Before(st.before)
	sc.After(st.after)
	st.register(sc)
}
