// Package mocktest starts an in-process mock on a loopback listener for Go
// tests and hands back its URL and a typed control client. Each call starts
// an independent mock, so parallel tests do not share state.
package mocktest

import (
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
}

// Start runs a mock until the test ends. It fails the test if the options
// (e.g. a seed) are invalid.
func Start(tb testing.TB, opts ...mockserver.Option) *Mock {
	tb.Helper()
	srv, err := mockserver.New(opts...)
	if err != nil {
		tb.Fatalf("start mock: %v", err)
	}
	hs := httptest.NewServer(srv.Handler())
	tb.Cleanup(hs.Close)
	c := mockclient.New(hs.URL)
	c.HTTP = hs.Client()
	return &Mock{URL: hs.URL, Server: srv, Control: c}
}
