// Package mocktest starts an in-process mock on a loopback listener for Go
// tests and hands back its URL and a typed control client. Each call starts
// an independent mock, so parallel tests do not share state.
package mocktest

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mockclient"
)

// Mock is a running in-process mock.
type Mock struct {
	// URL is the base URL to give platform clients in place of the real
	// host (e.g. instead of https://api.weixin.qq.com).
	URL     string
	Server  *mockserver.Server
	Control *mockclient.Client

	hs *httptest.Server
}

// Start runs a mock until the test ends. It fails the test if the options
// (e.g. a seed) are invalid.
func Start(tb testing.TB, opts ...mockserver.Option) *Mock {
	tb.Helper()
	m, err := New(opts...)
	if err != nil {
		tb.Fatalf("start mock: %v", err)
	}
	tb.Cleanup(m.Close)
	return m
}

// New runs a mock until Close, for code that has no testing.TB (examples,
// TestMain, tools). Tests should prefer Start, which closes it for them.
func New(opts ...mockserver.Option) (*Mock, error) {
	srv, err := mockserver.New(opts...)
	if err != nil {
		return nil, err
	}
	hs := httptest.NewServer(srv.Handler())
	c := mockclient.New(hs.URL, mockclient.WithHTTPClient(hs.Client()), mockclient.WithToken(srv.ControlToken()))
	return &Mock{URL: hs.URL, Server: srv, Control: c, hs: hs}, nil
}

// Close stops the mock. Connections are cut first so that a call still in
// flight — say a GET /_mock/messages?wait=5m — cannot hold Close up; then
// its pushes stop.
func (m *Mock) Close() {
	m.Server.Close()
	m.hs.CloseClientConnections()
	m.hs.Close()
	dropNow, cancel := context.WithCancel(context.Background())
	cancel()
	m.Server.Shutdown(dropNow) // pushes still queued or in flight are dropped
}
