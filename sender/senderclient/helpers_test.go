package senderclient_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mocktest"
	"github.com/minipush/minipush/mockserver/seed"
	"github.com/minipush/minipush/sender"
	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/senderclient"
)

// The demo world (the mock's demo seed) as the sender names it.
const (
	apiKey = "client-test-key-0001"
	app    = "shop-wechat"
	tmpl   = "demo-order-shipped"
)

// hookSecret signs the stack's result webhooks.
const hookSecret = "client-test-webhook-secret"

// stack is a mock with the demo seed, a sender delivering to it and a
// result-webhook receiver that verifies every POST (hooks counts them).
type stack struct {
	mock  *mocktest.Mock
	url   string
	hooks *atomic.Int64
	stop  func()
}

// startStack runs a mock and a sender until stop; dir holds the database.
func startStack(dir string) (*stack, error) {
	m, err := mocktest.New(mockserver.WithSeed(seed.Demo()))
	if err != nil {
		return nil, err
	}
	c := config.Defaults()
	c.Storage.Path = filepath.Join(dir, "minipush.db")
	c.APIKeys = []config.APIKey{{Name: "test", Key: apiKey, Scopes: config.Scopes}}
	hooks := &atomic.Int64{}
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if senderclient.VerifyWebhook([]byte(hookSecret), r.Header.Get(senderclient.HeaderSignature), body, time.Now(), 0) != nil {
			http.Error(w, "bad signature", http.StatusBadRequest)
			return
		}
		hooks.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	c.Apps = []config.App{{Name: app, Platform: "wechat", AppID: seed.DemoWeChatAppID, Secret: seed.DemoWeChatSecret, BaseURL: m.URL,
		Webhook: &config.Webhook{URL: receiver.URL, Secret: hookSecret}}}
	c.Webhooks.PollInterval = 10 * time.Millisecond
	c.Delivery.PollInterval = 10 * time.Millisecond
	c.Delivery.BackoffBase = 50 * time.Millisecond
	c.Metrics.RequireKey = false
	if err := c.Validate(); err != nil {
		m.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := sender.New(ctx, &c, slog.New(slog.DiscardHandler))
	if err != nil {
		cancel()
		m.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		_ = svc.Close()
		m.Close()
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx, ln) }()
	return &stack{mock: m, url: "http://" + ln.Addr().String(), hooks: hooks, stop: func() {
		cancel()
		<-done
		_ = svc.Close()
		receiver.Close()
		m.Close()
	}}, nil
}

func start(t *testing.T) *stack {
	t.Helper()
	s, err := startStack(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.stop)
	return s
}
