package tokens_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/tokens"
)

// A platform rejecting good tokens at random must not turn each rejection
// into a fetch: inside the refetch floor the rejected token is kept, and
// only the first rejection after the floor fetches again.
func TestRefetchFloor(t *testing.T) {
	t.Parallel()
	c := newClock()
	f := &fetcher{life: 2 * time.Hour}
	b := newBroker(t, tokens.NewMemoryStore(), f, c, tokens.WithRefetchFloor(30*time.Second))
	tok := mustGet(t, b)
	for i := range 100 { // 100 rejections over 29 s
		if b.Invalidate(context.Background(), tok) {
			t.Fatalf("rejection %d dropped a token fetched %v ago", i, time.Duration(i)*290*time.Millisecond)
		}
		if got := mustGet(t, b); got != tok {
			t.Fatalf("Get after rejection %d = %q, want the kept %q", i, got, tok)
		}
		c.Advance(290 * time.Millisecond)
	}
	if n := f.calls.Load(); n != 1 {
		t.Fatalf("%d fetches for 100 rejections inside the floor, want 1", n)
	}
	c.Advance(time.Second) // past the floor
	if !b.Invalidate(context.Background(), tok) {
		t.Fatal("a rejection past the floor kept the token")
	}
	if got := mustGet(t, b); got == tok || f.calls.Load() != 2 {
		t.Fatalf("after the floor: Get = %q after %d fetches, want a new token after 2", got, f.calls.Load())
	}
}

// At most N fetches per window, whatever drives them: past the limit Get
// serves a still-usable token, or a FetchLimitError naming when fetching
// may resume; the limit reports once per window.
func TestFetchLimit(t *testing.T) {
	t.Parallel()
	c := newClock()
	f := &fetcher{life: 2 * time.Hour}
	var limited atomic.Int64
	var until atomic.Value
	b := newBroker(t, nil, f, c, tokens.WithFetchLimit(3, time.Hour),
		tokens.WithOnLimited(func(u time.Time) { limited.Add(1); until.Store(u) }))
	for i := range 3 {
		tok := mustGet(t, b)
		b.Invalidate(context.Background(), tok)
		c.Advance(time.Minute)
		if i == 2 {
			break
		}
	}
	if n := f.calls.Load(); n != 3 {
		t.Fatalf("%d fetches, want 3", n)
	}
	// The limit is reached and the token was dropped: nothing to serve.
	_, err := b.Get(context.Background())
	var le *tokens.FetchLimitError
	if !errors.As(err, &le) || le.Limit != 3 || le.Window != time.Hour {
		t.Fatalf("Get past the limit: err = %v, want a FetchLimitError", err)
	}
	if want := newClock().Now().Add(time.Hour); !le.Until.Equal(want) {
		t.Errorf("fetching resumes at %v, want %v (the first fetch plus the window)", le.Until, want)
	}
	for range 10 {
		if _, err := b.Get(context.Background()); !errors.As(err, &le) {
			t.Fatalf("Get past the limit: %v", err)
		}
	}
	if n := f.calls.Load(); n != 3 || limited.Load() != 1 {
		t.Fatalf("%d fetches, %d limit reports past the limit; want 3 and 1", n, limited.Load())
	}
	c.Advance(time.Hour - 3*time.Minute + time.Second) // the first fetch leaves the window
	if tok := mustGet(t, b); tok != "tok-4" {
		t.Fatalf("after the window: Get = %q, want tok-4", tok)
	}
}

// Failed fetches in a row back off longer and longer, up to the cap.
func TestFailureBackoffDoubles(t *testing.T) {
	t.Parallel()
	c := newClock()
	f := &fetcher{life: time.Hour}
	f.setErr(errors.New("invalid appsecret"))
	b := newBroker(t, nil, f, c, tokens.WithFailureBackoff(time.Second), tokens.WithMaxFailureBackoff(8*time.Second))
	var gaps []time.Duration
	last := c.Now()
	for step := 0; len(gaps) < 6 && step < 10000; step++ {
		calls := f.calls.Load()
		_, _ = b.Get(context.Background())
		if f.calls.Load() > calls {
			if calls > 0 {
				gaps = append(gaps, c.Now().Sub(last))
			}
			last = c.Now()
		}
		c.Advance(100 * time.Millisecond)
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second, 8 * time.Second}
	for i := range want {
		if gaps[i] != want[i] {
			t.Fatalf("gaps between failed fetches %v, want %v", gaps, want)
		}
	}
}
