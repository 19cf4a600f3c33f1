package ui

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/minipush/minipush/mockserver/internal/clock"
	"github.com/minipush/minipush/mockserver/internal/content"
	"github.com/minipush/minipush/mockserver/internal/controlapi"
	"github.com/minipush/minipush/mockserver/internal/faults"
	"github.com/minipush/minipush/mockserver/internal/platform"
	"github.com/minipush/minipush/mockserver/internal/quota"
	"github.com/minipush/minipush/mockserver/internal/ring"
	"github.com/minipush/minipush/mockserver/internal/store"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// newTestUI serves a UI over an empty world with the given limits.
func newTestUI(t *testing.T, opts Options) (*UI, *httptest.Server) {
	t.Helper()
	env := &platform.Env{Store: store.New(), Clock: &clock.Clock{}, Faults: faults.New(), Content: content.New(nil),
		Quota: quota.New(), Inbox: ring.New[mockapi.Message](10), Journal: ring.New[mockapi.Request](10)}
	ctl := controlapi.New(env, map[string]controlapi.Platform{}, func() {}, nil)
	u, err := New(ctl, env, opts)
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	u.Routes(r)
	hs := httptest.NewServer(r)
	t.Cleanup(func() {
		u.Close()
		hs.CloseClientConnections()
		hs.Close()
	})
	return u, hs
}

// open starts a stream and returns its body once the first bytes arrived.
func open(t *testing.T, hs *httptest.Server) (*http.Response, error) {
	t.Helper()
	resp, err := http.Get(hs.URL + "/_ui/events/inbox?since=0.0")
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusOK {
		line, err := bufio.NewReader(resp.Body).ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "retry:") {
			t.Fatalf("first line of the stream %q, %v", line, err)
		}
	}
	return resp, nil
}

// ended reports whether the stream's body ends within d.
func ended(body io.Reader, d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, body)
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// Streams are bounded in number and in life, and end when the UI closes.
func TestStreamsAreBounded(t *testing.T) {
	t.Parallel()
	u, hs := newTestUI(t, Options{MaxStreams: 1, StreamLife: 500 * time.Millisecond})
	first, err := open(t, hs)
	if err != nil || first.StatusCode != http.StatusOK {
		t.Fatalf("first stream: %v %v", first, err)
	}
	defer first.Body.Close()
	second, err := open(t, hs)
	if err != nil {
		t.Fatal(err)
	}
	second.Body.Close()
	if second.StatusCode != http.StatusServiceUnavailable || second.Header.Get("Retry-After") == "" {
		t.Fatalf("a stream over the limit: %d, Retry-After %q", second.StatusCode, second.Header.Get("Retry-After"))
	}
	if !ended(first.Body, 5*time.Second) {
		t.Fatal("the stream outlived its life")
	}
	// Its slot is free again; Close ends the streams at once.
	third, err := open(t, hs)
	if err != nil || third.StatusCode != http.StatusOK {
		t.Fatalf("stream after one ended: %v %v", third, err)
	}
	defer third.Body.Close()
	u.Close()
	if !ended(third.Body, 2*time.Second) {
		t.Fatal("Close did not end the stream")
	}
}

// A client that goes away frees its stream.
func TestStreamEndsWithTheClient(t *testing.T) {
	t.Parallel()
	u, hs := newTestUI(t, Options{MaxStreams: 1})
	c, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(c, http.MethodGet, hs.URL+"/_ui/events/journal?since=0.0", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: %v %v", resp, err)
	}
	cancel()
	resp.Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for len(u.streams) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the stream's slot was not freed when the client left")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
