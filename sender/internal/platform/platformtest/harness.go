// Package platformtest is the test harness the platform clients' tests
// share: a mock seeded for one platform that remembers every error a test
// saw and, when the test ends, fails it if any error carried a secret or a
// token; a token store that records the tokens it was given; a fake
// platform server that records what a client sent; and the checks every
// client's errors must pass.
package platformtest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/mocktest"
	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/tokens"
)

// Setup is what a Harness starts with.
type Setup struct {
	Platform string // the mock's name of the platform (mockapi.PlatformWeChat, …)
	Seed     mockapi.Seed
	// Secrets is text no error may contain: the app's secret (and a wrong
	// one the test configures), key material. Every token the store records
	// is checked as well.
	Secrets []string
}

// Harness is one mock and what a test saw: every error the client
// returned and every token it met, so the cleanup can assert that no
// error ever carried a secret or a token.
type Harness struct {
	T     *testing.T
	Mock  *mocktest.Mock
	Store *RecordingStore
	// HTTP is the client to give the platform client: its idle
	// connections are closed when the test ends.
	HTTP *http.Client
	// AppID is the seed's first app, the one Quota limits.
	AppID string

	platform string
	secrets  []string
	mu       sync.Mutex
	errs     []error
}

// Start runs a mock with s.Seed for the test's lifetime.
func Start(t *testing.T, s Setup) *Harness {
	t.Helper()
	tr := &http.Transport{}
	h := &Harness{T: t, Mock: mocktest.Start(t, mockserver.WithSeed(s.Seed)),
		Store:    &RecordingStore{MemoryStore: tokens.NewMemoryStore()},
		HTTP:     &http.Client{Timeout: 5 * time.Second, Transport: tr},
		platform: s.Platform, secrets: s.Secrets}
	if len(s.Seed.Apps) > 0 {
		h.AppID = s.Seed.Apps[0].AppID
	}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		h.assertNoSecrets()
	})
	return h
}

// Record keeps err (if any) for the secrets check at the end of the test.
func (h *Harness) Record(err error) {
	if err == nil {
		return
	}
	h.mu.Lock()
	h.errs = append(h.errs, err)
	h.mu.Unlock()
}

// Send sends s through c and records the error.
func (h *Harness) Send(c platform.Client, s platform.Send) (platform.Result, error) {
	res, err := c.Send(context.Background(), s)
	h.Record(err)
	return res, err
}

// Check runs c's content check for to and records the error.
func (h *Harness) Check(c platform.Client, to string, texts ...string) (platform.Verdict, error) {
	v, err := c.CheckContent(context.Background(), to, texts)
	h.Record(err)
	return v, err
}

func (h *Harness) assertNoSecrets() {
	h.T.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	secrets := append(append([]string(nil), h.secrets...), h.Store.Tokens()...)
	for _, err := range h.errs {
		for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			for _, s := range secrets {
				if s != "" && strings.Contains(text, s) {
					h.T.Errorf("error %q contains a secret or token", text)
				}
			}
		}
	}
}

// Calls counts the journal's calls of an endpoint (and with the errcode,
// if given: the journal records 0 for a success and the platform's code
// otherwise).
func (h *Harness) Calls(endpoint string, errcode ...int) int {
	h.T.Helper()
	f := mockclient.RequestFilter{Platform: h.platform, Endpoint: endpoint}
	if len(errcode) > 0 {
		f.ErrCode = &errcode[0]
	}
	r, err := h.Mock.Control.Requests(context.Background(), f)
	if err != nil {
		h.T.Fatalf("read journal: %v", err)
	}
	return r.Total
}

// Fault injects f on the harness's platform.
func (h *Harness) Fault(f mockapi.Fault) {
	h.T.Helper()
	f.Platform = h.platform
	if _, err := h.Mock.Control.AddFault(context.Background(), f); err != nil {
		h.T.Fatalf("add fault: %v", err)
	}
}

// Advance moves the mock's clock.
func (h *Harness) Advance(d time.Duration) {
	h.T.Helper()
	if _, err := h.Mock.Control.Advance(context.Background(), d); err != nil {
		h.T.Fatalf("advance mock clock: %v", err)
	}
}

// Quota limits the app's calls of endpoint to limit per second, minute or
// day.
func (h *Harness) Quota(endpoint string, limit int, per string) {
	h.T.Helper()
	if err := h.Mock.Control.SetQuota(context.Background(), mockapi.Quota{Platform: h.platform,
		AppID: h.AppID, Endpoint: endpoint, Limit: limit, Per: per}); err != nil {
		h.T.Fatalf("set quota: %v", err)
	}
}

// ContentRules replaces the mock's content rules.
func (h *Harness) ContentRules(rules mockapi.ContentRules) {
	h.T.Helper()
	if err := h.Mock.Control.SetContentRules(context.Background(), rules); err != nil {
		h.T.Fatalf("set content rules: %v", err)
	}
}

// RecordingStore is a memory token store that remembers every token it
// was given (and every token a test saw elsewhere), so the harness can look
// for them in errors.
type RecordingStore struct {
	*tokens.MemoryStore
	mu     sync.Mutex
	tokens []string
}

// Saw records a token the store was not given: another instance's.
func (s *RecordingStore) Saw(token string) {
	s.mu.Lock()
	s.tokens = append(s.tokens, token)
	s.mu.Unlock()
}

// Tokens are the tokens recorded so far.
func (s *RecordingStore) Tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.tokens...)
}

// PutToken records token and stores it.
func (s *RecordingStore) PutToken(ctx context.Context, key, token string, expires time.Time) error {
	s.Saw(token)
	return s.MemoryStore.PutToken(ctx, key, token, expires)
}
