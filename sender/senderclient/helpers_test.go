package senderclient_test

import (
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mocktest"
	"github.com/minipush/minipush/mockserver/seed"
	"github.com/minipush/minipush/sender"
	"github.com/minipush/minipush/sender/internal/config"
)

// The demo world (the mock's demo seed) as the sender names it.
const (
	apiKey = "client-test-key-0001"
	app    = "shop-wechat"
	tmpl   = "demo-order-shipped"
)

// stack is a mock with the demo seed and a sender delivering to it.
type stack struct {
	mock *mocktest.Mock
	url  string
	stop func()
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
	c.Apps = []config.App{{Name: app, Platform: "wechat", AppID: seed.DemoWeChatAppID, Secret: seed.DemoWeChatSecret, BaseURL: m.URL}}
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
	return &stack{mock: m, url: "http://" + ln.Addr().String(), stop: func() {
		cancel()
		<-done
		_ = svc.Close()
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
