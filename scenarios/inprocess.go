package scenarios

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minipush/minipush/mockserver/mocktest"
	"github.com/minipush/minipush/sender"
)

// inProcess runs a world's mock and sender inside the test process, on
// loopback listeners: the sender is built from the same configuration file
// and loader as the binary (sender.LoadConfig), only not exec'd.
type inProcess struct {
	dir  string // the world's files (configuration, database)
	log  *slog.Logger
	mock *mocktest.Mock
	// clock is the sender's: the wall clock until a scenario moves it.
	clock *senderClock
}

func newInProcess(dir string, log *slog.Logger) *inProcess {
	return &inProcess{dir: dir, log: log, clock: &senderClock{}}
}

// senderClock is the wall clock shifted by an offset a scenario sets
// (features/campaigns.feature): time goes on from where it was moved to.
type senderClock struct{ offset atomic.Int64 }

func (c *senderClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Set moves the clock to t.
func (c *senderClock) Set(t time.Time) { c.offset.Store(int64(time.Until(t))) }

// senderClock is the in-process sender's clock (sender.WithClock).
func (b *inProcess) senderClock() *senderClock { return b.clock }

func (b *inProcess) mode() string { return modeInProcess }

func (b *inProcess) startMock(context.Context) (string, error) {
	m, err := mocktest.New()
	if err != nil {
		return "", err
	}
	b.mock = m
	return m.URL, nil
}

func (b *inProcess) mockURLForSender() string { return b.mock.URL }

func (b *inProcess) senderURLForMock(s senderProcess) string { return s.URL() }

func (b *inProcess) webhookHost() (string, bool) { return "127.0.0.1", true }

func (b *inProcess) senderDatabase() string { return filepath.Join(b.dir, "db", "minipush.db") }

func (b *inProcess) startSender(ctx context.Context, config []byte) (senderProcess, error) {
	if err := os.MkdirAll(b.dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(b.dir, "sender.yaml")
	if err := os.WriteFile(path, config, 0o600); err != nil {
		return nil, err
	}
	// No environment: a developer's MINIPUSH_* variables must not change
	// the world.
	cfg, err := sender.LoadConfig(path, func(string) string { return "" })
	if err != nil {
		return nil, err
	}
	s := &inProcessSender{cfg: cfg, log: b.log, clock: b.clock}
	if err := s.start(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (b *inProcess) close(context.Context) error {
	if b.mock != nil {
		b.mock.Close()
	}
	return nil
}

// inProcessSender is a sender.Service serving on a loopback port.
type inProcessSender struct {
	cfg   *sender.Config
	log   *slog.Logger
	clock *senderClock

	mu     sync.Mutex
	url    string
	cancel context.CancelFunc
	done   chan error
	svc    *sender.Service
}

func (s *inProcessSender) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

func (s *inProcessSender) start(ctx context.Context) error {
	// The service outlives the step that starts it: it gets its own
	// context, cancelled by stop.
	rctx, cancel := context.WithCancel(context.Background())
	svc, err := sender.New(rctx, s.cfg, s.log, sender.WithClock(s.clock.Now))
	if err != nil {
		cancel()
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		_ = svc.Close()
		return err
	}
	done := make(chan error, 1)
	go func() { done <- svc.Run(rctx, ln) }()
	s.mu.Lock()
	s.url, s.cancel, s.done, s.svc = "http://"+ln.Addr().String(), cancel, done, svc
	s.mu.Unlock()
	return waitReady(ctx, s.URL()+"/readyz")
}

func (s *inProcessSender) stop() error {
	s.mu.Lock()
	cancel, done, svc := s.cancel, s.done, s.svc
	s.cancel = nil
	s.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	return errors.Join(<-done, svc.Close())
}

func (s *inProcessSender) Restart(ctx context.Context) error {
	if err := s.stop(); err != nil {
		return fmt.Errorf("stop the sender: %w", err)
	}
	return s.start(ctx)
}

func (s *inProcessSender) RestartContainer(context.Context) error {
	return errors.New("the sender runs in the test process: there is no container to restart (tag the scenario @containers)")
}

func (s *inProcessSender) Close(context.Context) error { return s.stop() }

// waitReady polls url until it answers 200.
func waitReady(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w", url, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
