package scenarios

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
)

// A world is one mock and one sender delivering to it. A run has a shared
// world every scenario uses (isolated from each other by their own apps,
// see pool.go) and, for scenarios tagged @isolated, worlds of their own:
// those move the mock's clock or restart the sender, which would disturb
// everyone else.
//
// The backend decides where the two run: inside the test process on
// loopback listeners, or in containers on a private Docker network.
type world struct {
	no       int
	isolated bool
	backend  backend
	delivery delivery
	pool     *pool

	mockURL string // from the test process
	mock    *mockclient.Client
	// hooks receives the sender's result webhooks (nil where the sender
	// cannot reach the test process).
	hooks *hookReceiver

	mu     sync.Mutex
	sender senderProcess // started on the first lease
	closed bool

	seq atomic.Int64 // ids of apps registered for direct calls
}

// backend starts the two processes of a world.
type backend interface {
	// startMock starts the mock and returns its URL as the test reaches it.
	startMock(ctx context.Context) (string, error)
	// mockURLForSender is the mock's URL as the sender reaches it.
	mockURLForSender() string
	// senderURLForMock is the sender's URL as the mock reaches it (the
	// platform pushes events to it).
	senderURLForMock(s senderProcess) string
	// webhookHost is the test process's address as the sender reaches it,
	// for a result-webhook receiver; false when it cannot (containers).
	webhookHost() (string, bool)
	// senderDatabase is the sender's database path.
	senderDatabase() string
	// startSender starts the sender with a configuration file.
	startSender(ctx context.Context, config []byte) (senderProcess, error)
	// close stops the mock and frees what startMock made (after the
	// sender is closed).
	close(ctx context.Context) error
	mode() string
}

// senderProcess is a running sender.
type senderProcess interface {
	URL() string
	// Restart stops the sender gracefully and starts it again on the same
	// database.
	Restart(ctx context.Context) error
	// RestartContainer stops and starts the sender's container (containers
	// only).
	RestartContainer(ctx context.Context) error
	Close(ctx context.Context) error
}

// Content rules every world's mock starts with: one risky word with
// WeChat's "illegal" label, one word that only needs review, and one risky
// image.
var mockContentRules = mockapi.ContentRules{
	Risky:  []mockapi.ContentWord{{Word: "counterfeit", Label: 20006}},
	Review: []mockapi.ContentWord{{Word: "limited-offer", Label: 20002}},
	// An image the image-checking APIs judge risky (by its link).
	RiskyImages: []string{"https://img.example/counterfeit.png"},
}

var worldCount atomic.Int64

// newWorld starts a world's mock; its sender starts when a scenario first
// leases one of its apps.
func newWorld(ctx context.Context, b backend, isolated bool, sizes poolSizes, d delivery, keys *alipayKeys) (*world, error) {
	no := int(worldCount.Add(1))
	w := &world{no: no, isolated: isolated, backend: b, delivery: d, pool: newPool(no, sizes, keys)}
	u, err := b.startMock(ctx)
	if err != nil {
		_ = b.close(ctx)
		return nil, fmt.Errorf("start the mock: %w", err)
	}
	w.mockURL, w.mock = u, mockclient.New(u)
	if host, ok := b.webhookHost(); ok {
		if w.hooks, err = startHookReceiver(host); err != nil {
			_ = b.close(ctx)
			return nil, fmt.Errorf("start the webhook receiver: %w", err)
		}
	}
	w.mock.HTTP = &http.Client{Timeout: 60 * time.Second}
	if err := w.mock.SetContentRules(ctx, mockContentRules); err != nil {
		_ = b.close(ctx)
		return nil, fmt.Errorf("set the mock's content rules: %w", err)
	}
	return w, nil
}

// senderURL starts the sender if it is not running and returns its URL.
func (w *world) senderURL(ctx context.Context) (string, error) {
	s, err := w.ensureSender(ctx)
	if err != nil {
		return "", err
	}
	return s.URL(), nil
}

func (w *world) ensureSender(ctx context.Context) (senderProcess, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, errors.New("the world is closed")
	}
	if w.sender != nil {
		return w.sender, nil
	}
	hookURL := ""
	if w.hooks != nil {
		hookURL = w.hooks.url
	}
	cfg, err := w.pool.config(w.backend.mockURLForSender(), w.backend.senderDatabase(), w.delivery, hookURL)
	if err != nil {
		return nil, err
	}
	s, err := w.backend.startSender(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("start the sender: %w", err)
	}
	w.sender = s
	return s, nil
}

// restartSender restarts the sender gracefully (isolated worlds only: the
// shared sender serves every scenario at once).
func (w *world) restartSender(ctx context.Context, container bool) error {
	if !w.isolated {
		return errors.New("only a scenario tagged @isolated may restart the sender")
	}
	s, err := w.ensureSender(ctx)
	if err != nil {
		return err
	}
	if container {
		return s.RestartContainer(ctx)
	}
	return s.Restart(ctx)
}

func (w *world) close(ctx context.Context) error {
	w.mu.Lock()
	s := w.sender
	w.closed = true
	w.mu.Unlock()
	var errs []error
	if s != nil {
		errs = append(errs, s.Close(ctx))
	}
	errs = append(errs, w.backend.close(ctx))
	if w.hooks != nil {
		w.hooks.close()
	}
	return errors.Join(errs...)
}
